// kv del KEY..., kv del --prefix PREFIX: delete keys.
#include "cmd/kv/commands/commands.h"

namespace kv::cli {
namespace {

Status DeletePrefix(const DelOptions& options, Context& ctx) {
  if (!options.keys.empty()) return Status::InvalidArgument("give keys or --prefix, not both");
  if (options.prefix.empty()) {
    return Status::InvalidArgument(
        "--prefix must not be empty (kv clear deletes every key of the namespace)");
  }
  if (!options.if_match.empty()) return Status::InvalidArgument("--if-match takes exactly one key");
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<uint64_t> deleted = backend->Clear(options.prefix);
  if (!deleted.ok()) return deleted.status();
  if (!ctx.printer().Cleared(*deleted)) {
    ctx.Note("deleted " + std::to_string(*deleted) + (*deleted == 1 ? " key" : " keys"));
  }
  return Status::Ok();
}

}  // namespace

Status RunDel(const DelOptions& options, Context& ctx) {
  if (options.prefix_given) return DeletePrefix(options, ctx);
  if (options.keys.empty()) {
    return Status::InvalidArgument("give the keys to delete, or --prefix PREFIX");
  }
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
  cmd->add_option("keys", opts->keys, "The keys");
  cmd->add_option("--if-match", opts->if_match, "Delete only if the key's ETag is ETAG");
  cmd->add_option("--prefix", opts->prefix, "Delete every key that starts with PREFIX instead")
      ->each([opts](const std::string&) { opts->prefix_given = true; });
  cmd->footer(
      "Deletes every key it can; exit 1 when any was missing (one message per missing key).\n"
      "JSON: one {\"key\",\"deleted\":true|false} per key.\n"
      "--prefix P: every key of the namespace under P, in batches (keys written meanwhile may\n"
      "stay); says how many on stderr (unless -q), JSON: {\"deleted\":N}. Exit 0 when none.");
  OnRun(cmd, ctx, [opts, &ctx] { return RunDel(*opts, ctx); });
}

}  // namespace kv::cli
