// kv ls [PREFIX]: list keys in byte order.
#include "cmd/kv/commands/commands.h"

namespace kv::cli {

Status RunLs(const LsOptions& options, Context& ctx) {
  for (const std::string& w : options.where) {
    if (w.find('=') == std::string::npos) {
      return Status::InvalidArgument("bad --where " + w + ": expected PATH=VALUE");
    }
  }
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  client::ListRequest request;
  request.prefix = options.prefix;
  request.cursor = options.cursor;
  request.values = options.values;
  request.where = options.where;
  size_t left = options.limit;
  Printer& printer = ctx.printer();
  for (;;) {
    if (options.limit != 0) request.limit = left;
    Result<client::ListPage> page = backend->List(request);
    if (!page.ok()) return page.status();
    for (const client::ListedKey& key : page->keys) printer.Listed(key);
    if (options.limit != 0) left -= std::min(left, page->keys.size());
    request.cursor = page->next_cursor;
    if (request.cursor.empty()) break;
    if (options.limit != 0 && left == 0) {
      if (!printer.NextCursor(request.cursor)) {
        ctx.out().flush();
        ctx.Note("more keys follow: --cursor " + request.cursor);
      }
      break;
    }
  }
  return Status::Ok();
}

void AddLsCommand(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<LsOptions>();
  CLI::App* cmd = app.add_subcommand("ls", "List keys (in byte order), one per line");
  cmd->alias("list");
  cmd->add_option("prefix", opts->prefix, "Only keys that start with PREFIX");
  cmd->add_option("--limit", opts->limit,
                  "At most N keys, then the cursor to go on with (default: every key)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 40));
  cmd->add_option("--cursor", opts->cursor, "Go on from a cursor a previous --limit gave");
  cmd->add_flag("--values", opts->values, "Show values too");
  cmd->add_option("--where", opts->where,
                  "Only keys whose JSON value has PATH equal to VALUE (PATH: dotted, "
                  "items.0.id; VALUE: JSON, else a string); repeatable, all must hold; "
                  "filtered by the server")
      ->allow_extra_args(false);
  cmd->footer(
      "raw: KEY, or KEY<TAB>VALUE with --values (a value with line breaks or tabs is shown as a\n"
      "JSON string, bytes that are not UTF-8 as base64:...). With --limit, the cursor to go on\n"
      "with is printed on stderr, or as a last JSON line {\"next_cursor\":\"...\"}.\n"
      "JSON: one {\"key\",\"etag\",\"revision\",\"size\",\"content_type\",\"updated_ms\","
      "\"expire_at_ms\",\"ttl_ms\"[,\"value\",\"encoding\"]} per key.");
  OnRun(cmd, ctx, [opts, &ctx] { return RunLs(*opts, ctx); });
}

}  // namespace kv::cli
