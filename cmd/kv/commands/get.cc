// kv get KEY..., kv has KEY, kv meta KEY: reading keys.
#include "cmd/kv/commands/commands.h"

namespace kv::cli {
namespace {

Status KeyNotFound(const std::string& key) {
  return Status::NotFound("key not found: " + QuoteKey(key));
}

}  // namespace

Status RunGet(const GetOptions& options, Context& ctx) {
  for (const std::string& key : options.keys) {
    if (Status s = CheckKey(key); !s.ok()) return s;
  }
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  if (options.keys.size() == 1) {
    const std::string& key = options.keys.front();
    Result<client::Value> value = backend->Get(key);
    if (!value.ok()) return value.status().IsNotFound() ? KeyNotFound(key) : value.status();
    if (value->meta.key.empty()) value->meta.key = key;
    ctx.printer().Value(key, *value);
    return Status::Ok();
  }
  // Several keys: every one is read and printed in the order given, a
  // missing one reported on its own line of stderr; exit 1 at the end.
  bool missing = false;
  for (const std::string& key : options.keys) {
    Result<client::Value> value = backend->Get(key);
    if (!value.ok() && !value.status().IsNotFound()) return value.status();
    if (!value.ok()) {
      ctx.printer().ValueOfMany(key, nullptr);
      ctx.PrintError(KeyNotFound(key).message());
      missing = true;
      continue;
    }
    if (value->meta.key.empty()) value->meta.key = key;
    ctx.printer().ValueOfMany(key, &*value);
  }
  return missing ? Status::NotFound("") : Status::Ok();
}

Status RunHas(const KeyOptions& options, Context& ctx) {
  if (Status s = CheckKey(options.key); !s.ok()) return s;
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<client::KeyMeta> meta = backend->Meta(options.key);
  if (!meta.ok() && !meta.status().IsNotFound()) return meta.status();
  ctx.printer().Exists(options.key, meta.ok());
  // The answer is the exit code: 1 without a message when missing.
  return meta.ok() ? Status::Ok() : Status::NotFound("");
}

Status RunMeta(const KeyOptions& options, Context& ctx) {
  if (Status s = CheckKey(options.key); !s.ok()) return s;
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<client::KeyMeta> meta = backend->Meta(options.key);
  if (!meta.ok()) return meta.status().IsNotFound() ? KeyNotFound(options.key) : meta.status();
  if (meta->key.empty()) meta->key = options.key;
  ctx.printer().Meta(*meta);
  return Status::Ok();
}

void AddGetCommands(CLI::App& app, Context& ctx) {
  {
    auto opts = std::make_shared<GetOptions>();
    CLI::App* cmd =
        app.add_subcommand("get", "Print the value of a key (its exact bytes), or of several");
    cmd->add_option("keys", opts->keys, "The key, or several")->required();
    cmd->footer(
        "Prints the value's bytes unchanged (no newline added unless stdout is a terminal;\n"
        "there, a value with control characters or binary data shows quoted: \"\\x1b[31m\").\n"
        "With several keys, one line per key in the order given: the value as `kv ls --values`\n"
        "writes it (a JSON string when it holds a newline or tab, base64:... when not UTF-8),\n"
        "an empty line for a missing key. On a terminal, KEY  VALUE lines.\n"
        "Exit 1 when a key does not exist (one message per missing key).\n"
        "JSON: {\"key\",\"value\",\"encoding\":\"json|text|base64\",\"content_type\",\"etag\","
        "\"revision\",\"size\",\"expire_at_ms\",\"ttl_ms\"}");
    OnRun(cmd, ctx, [opts, &ctx] { return RunGet(*opts, ctx); });
  }
  {
    auto opts = std::make_shared<KeyOptions>();
    CLI::App* cmd = app.add_subcommand("has", "Exit 0 when a key exists, 1 when it does not");
    cmd->add_option("key", opts->key, "The key")->required();
    cmd->footer("Prints nothing (with -o json: {\"key\",\"exists\"}).");
    OnRun(cmd, ctx, [opts, &ctx] { return RunHas(*opts, ctx); });
  }
  {
    auto opts = std::make_shared<KeyOptions>();
    CLI::App* cmd = app.add_subcommand(
        "meta", "Show a key's metadata: ETag, revision, size, content type, times, TTL");
    cmd->add_option("key", opts->key, "The key")->required();
    cmd->footer(
        "Exit 1 when the key does not exist.\n"
        "JSON: {\"key\",\"etag\",\"revision\",\"create_revision\",\"size\",\"content_type\","
        "\"created_ms\",\"updated_ms\",\"expire_at_ms\":N|null,\"ttl_ms\":N|null}");
    OnRun(cmd, ctx, [opts, &ctx] { return RunMeta(*opts, ctx); });
  }
}

}  // namespace kv::cli
