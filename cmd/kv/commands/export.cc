// kv export [PREFIX]: every key as NDJSON on stdout, for kv import.
//
// One line per key: {"key","value"[,"encoding"],"content_type"[,"ttl_ms"]}.
// A JSON value (JSON content type, and it parses) whose text is its exact
// bytes (on one line) is embedded as JSON with no "encoding"; other UTF-8
// text, pretty-printed JSON too, is a string with "encoding":"text", so
// that kv import writes back every value byte for byte; any other
// bytes are base64 with "encoding":"base64". ttl_ms is the remaining time to
// live, present only for keys that have one. A key that is not UTF-8 is
// base64 with "key_encoding":"base64".
#include <chrono>

#include "cmd/kv/commands/commands.h"
#include "common/json_text.h"

namespace kv::cli {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status RunExport(const ExportOptions& options, Context& ctx) {
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  client::ListRequest request;
  request.prefix = options.prefix;
  request.values = true;
  std::ostream& out = ctx.out();
  std::string line;
  for (;;) {
    Result<client::ListPage> page = backend->List(request);
    if (!page.ok()) return page.status();
    int64_t now = NowMs();
    for (client::ListedKey& item : page->keys) {
      const client::KeyMeta& meta = item.meta;
      if (!item.value) {
        // A backend that lists without values: read the key itself.
        Result<client::Value> v = backend->Get(meta.key);
        if (!v.ok() && v.status().IsNotFound()) continue;  // gone meanwhile
        if (!v.ok()) return v.status();
        item.value = std::move(v->bytes);
      }
      int64_t ttl = RemainingTtlMs(meta, now);
      if (ttl == 0) continue;  // expiring this very millisecond
      JsonObject o;
      PutKey(o, meta.key);
      PutValue(o, *item.value, meta.content_type, /*for_export=*/true);
      o.Str("content_type", meta.content_type);
      if (ttl > 0) o.Int("ttl_ms", ttl);
      line = o.Done();
      line.push_back('\n');
      out.write(line.data(), static_cast<std::streamsize>(line.size()));
    }
    if (!out) return Status::IOError("cannot write to stdout");
    request.cursor = page->next_cursor;
    if (request.cursor.empty()) break;
  }
  out.flush();
  return Status::Ok();
}

void AddExportCommand(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand("export", "Write every key (or those under PREFIX) as NDJSON");
  cmd->add_option("prefix", opts->prefix, "Only keys that start with PREFIX");
  cmd->footer(
      "One line per key, whatever -o says:\n"
      "  {\"key\",\"value\"[,\"encoding\":\"text|base64\"],\"content_type\"[,\"ttl_ms\"]}\n"
      "JSON values on one line are embedded as they are (no \"encoding\"), other UTF-8 text\n"
      "(pretty-printed JSON too) as a string, other bytes in base64: kv import writes every\n"
      "value back byte for byte. ttl_ms is the remaining TTL. kv import reads it back:\n"
      "  kv export | kv --url http://host:7379 import");
  OnRun(cmd, ctx, [opts, &ctx] { return RunExport(*opts, ctx); });
}

}  // namespace kv::cli
