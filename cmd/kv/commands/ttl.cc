// kv ttl KEY, kv expire KEY DURATION, kv persist KEY: time to live.
#include "cmd/kv/commands/commands.h"
#include "common/units.h"

namespace kv::cli {
namespace {

Status KeyError(const Status& status, const std::string& key) {
  if (status.IsNotFound()) return Status::NotFound("key not found: " + QuoteKey(key));
  return status;
}

}  // namespace

Status RunTtl(const TtlOptions& options, Context& ctx) {
  if (Status s = CheckKey(options.key); !s.ok()) return s;
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<client::KeyMeta> meta = backend->Meta(options.key);
  if (!meta.ok()) return KeyError(meta.status(), options.key);
  if (meta->key.empty()) meta->key = options.key;
  ctx.printer().Ttl(*meta);
  return Status::Ok();
}

Status RunExpire(const TtlOptions& options, Context& ctx) {
  if (Status s = CheckKey(options.key); !s.ok()) return s;
  Result<int64_t> ttl = ParseDurationMs(options.duration);
  if (!ttl.ok()) return ttl.status();
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<client::KeyMeta> meta = backend->Expire(options.key, *ttl);
  if (!meta.ok()) return KeyError(meta.status(), options.key);
  if (meta->key.empty()) meta->key = options.key;
  ctx.printer().Written(*meta);
  return Status::Ok();
}

Status RunPersist(const TtlOptions& options, Context& ctx) {
  if (Status s = CheckKey(options.key); !s.ok()) return s;
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<client::KeyMeta> meta = backend->Persist(options.key);
  if (!meta.ok()) return KeyError(meta.status(), options.key);
  if (meta->key.empty()) meta->key = options.key;
  ctx.printer().Written(*meta);
  return Status::Ok();
}

void AddTtlCommands(CLI::App& app, Context& ctx) {
  {
    auto opts = std::make_shared<TtlOptions>();
    CLI::App* cmd = app.add_subcommand("ttl", "Show a key's remaining time to live");
    cmd->add_option("key", opts->key, "The key")->required();
    cmd->footer(
        "Prints the remaining time (59m58s), or none when the key has no TTL (exit 0).\n"
        "Exit 1 when the key does not exist.\n"
        "JSON: {\"key\",\"ttl_ms\":N|null,\"expire_at_ms\":N|null}");
    OnRun(cmd, ctx, [opts, &ctx] { return RunTtl(*opts, ctx); });
  }
  {
    auto opts = std::make_shared<TtlOptions>();
    CLI::App* cmd = app.add_subcommand("expire", "Set a key's time to live");
    cmd->add_option("key", opts->key, "The key")->required();
    cmd->add_option("duration", opts->duration, "500ms, 30s, 5m, 1h, 7d, 1h30m (bare: seconds)")
        ->required();
    cmd->footer("Exit 1 when the key does not exist. JSON: the key's metadata, as kv meta.");
    OnRun(cmd, ctx, [opts, &ctx] { return RunExpire(*opts, ctx); });
  }
  {
    auto opts = std::make_shared<TtlOptions>();
    CLI::App* cmd = app.add_subcommand("persist", "Remove a key's time to live");
    cmd->add_option("key", opts->key, "The key")->required();
    cmd->footer("Exit 1 when the key does not exist. JSON: the key's metadata, as kv meta.");
    OnRun(cmd, ctx, [opts, &ctx] { return RunPersist(*opts, ctx); });
  }
}

}  // namespace kv::cli
