// kv del KEY...: delete keys.
#include "cmd/kv/commands/commands.h"

namespace kv::cli {

Status RunDel(const DelOptions& options, Context& ctx) {
  for (const std::string& key : options.keys) {
    if (Status s = CheckKey(key); !s.ok()) return s;
  }
  if (!options.if_match.empty() && options.keys.size() != 1) {
    return Status::InvalidArgument("--if-match takes exactly one key");
  }
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  client::Condition condition;
  if (!options.if_match.empty()) {
    condition.kind = client::Condition::Kind::kIfMatch;
    condition.etag = options.if_match;
    if (condition.etag.size() >= 2 && condition.etag.front() == '"' &&
        condition.etag.back() == '"') {
      condition.etag = condition.etag.substr(1, condition.etag.size() - 2);
    }
  }
  bool missing = false;
  for (const std::string& key : options.keys) {
    Result<uint64_t> deleted = backend->Delete(key, condition);
    if (deleted.ok()) {
      ctx.printer().Deleted(key, true);
      continue;
    }
    if (deleted.status().IsNotFound()) {
      ctx.printer().Deleted(key, false);
      ctx.PrintError("key not found: " + QuoteKey(key));
      missing = true;
      continue;
    }
    if (deleted.status().IsPreconditionFailed()) {
      return Status::PreconditionFailed("ETag of " + QuoteKey(key) + " is not \"" +
                                        condition.etag + "\" (--if-match)");
    }
    return deleted.status();
  }
  return missing ? Status::NotFound("") : Status::Ok();
}

void AddDelCommand(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<DelOptions>();
  CLI::App* cmd = app.add_subcommand("del", "Delete keys");
  cmd->alias("rm");
  cmd->add_option("keys", opts->keys, "The keys")->required();
  cmd->add_option("--if-match", opts->if_match, "Delete only if the key's ETag is ETAG");
  cmd->footer(
      "Deletes every key it can; exit 1 when any was missing (one message per missing key).\n"
      "JSON: one {\"key\",\"deleted\":true|false} per key.");
  OnRun(cmd, ctx, [opts, &ctx] { return RunDel(*opts, ctx); });
}

}  // namespace kv::cli
