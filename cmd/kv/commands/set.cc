// kv set KEY [VALUE|-]: write one key.
#include "cmd/kv/commands/commands.h"
#include "common/json_flat.h"
#include "common/units.h"

namespace kv::cli {

std::string DefaultContentType(std::string_view value) {
  if (json::Valid(value)) return "application/json";
  return "application/octet-stream";
}

namespace {

// An ETag as people paste it: 7, "7" or W/"7" -> 7.
std::string BareEtag(std::string etag) {
  if (etag.starts_with("W/")) etag.erase(0, 2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

}  // namespace

Status RunSet(const SetOptions& options, Context& ctx) {
  if (Status s = CheckKey(options.key); !s.ok()) return s;
  client::SetOptions set;
  if (!options.ttl.empty()) {
    Result<int64_t> ttl = ParseDurationMs(options.ttl);
    if (!ttl.ok()) return Status::InvalidArgument("--ttl: " + ttl.status().message());
    set.ttl_ms = *ttl;
  }
  set.keep_ttl = options.keep_ttl;
  if (!options.if_match.empty()) {
    set.condition.kind = client::Condition::Kind::kIfMatch;
    set.condition.etag = BareEtag(options.if_match);
  } else if (options.if_absent) {
    set.condition.kind = client::Condition::Kind::kIfAbsent;
  } else if (options.if_exists) {
    set.condition.kind = client::Condition::Kind::kIfExists;
  }

  std::string value;
  if (options.value_given && options.value != "-") {
    value = options.value;
  } else {
    if (ctx.io().stdin_tty) ctx.Note("reading the value from stdin (end it with Ctrl-D)");
    Result<std::string> in = ReadAll(ctx.in());
    if (!in.ok()) return in.status();
    value = std::move(*in);
  }
  set.content_type =
      options.content_type.empty() ? DefaultContentType(value) : options.content_type;

  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<client::KeyMeta> meta = backend->Set(options.key, value, set);
  if (!meta.ok()) {
    if (meta.status().IsPreconditionFailed()) {
      std::string key = QuoteKey(options.key);
      switch (set.condition.kind) {
        case client::Condition::Kind::kIfAbsent:
          return Status::PreconditionFailed("key exists: " + key + " (--if-absent)");
        case client::Condition::Kind::kIfExists:
          return Status::PreconditionFailed("key not found: " + key + " (--if-exists)");
        case client::Condition::Kind::kIfMatch:
          return Status::PreconditionFailed("ETag of " + key + " is not \"" + set.condition.etag +
                                            "\" (--if-match)");
        case client::Condition::Kind::kNone:
          break;
      }
    }
    return meta.status();
  }
  if (meta->key.empty()) meta->key = options.key;
  if (meta->size == 0) meta->size = value.size();
  if (meta->content_type.empty()) meta->content_type = set.content_type;
  ctx.printer().Written(*meta);
  return Status::Ok();
}

void AddSetCommand(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<SetOptions>();
  CLI::App* cmd = app.add_subcommand("set", "Set a key to a value (from stdin when omitted or -)");
  cmd->add_option("key", opts->key, "The key")->required();
  cmd->add_option("value", opts->value, "The value; omitted or - reads stdin to its end")
      ->each([opts](const std::string&) { opts->value_given = true; });
  cmd->add_option("--ttl", opts->ttl, "Expire after DURATION (500ms, 30s, 5m, 1h, 7d, 1h30m)");
  auto* keep = cmd->add_flag("--keep-ttl", opts->keep_ttl, "Keep the key's current TTL");
  auto* match = cmd->add_option("--if-match", opts->if_match,
                                "Write only if the key's ETag is ETAG (compare-and-set)");
  auto* absent = cmd->add_flag("--if-absent", opts->if_absent, "Write only if the key is missing");
  auto* exists = cmd->add_flag("--if-exists", opts->if_exists, "Write only if the key exists");
  cmd->add_option("--content-type", opts->content_type,
                  "Content type (default: application/json when the value parses as JSON, "
                  "else application/octet-stream)");
  keep->excludes("--ttl");
  match->excludes(absent)->excludes(exists);
  absent->excludes(exists);
  cmd->footer(
      "Prints nothing on success (with -o json: the key's metadata, as kv meta).\n"
      "Exit 3 when --if-match, --if-absent or --if-exists does not hold (nothing written).\n"
      "A set without --ttl or --keep-ttl removes an existing TTL.");
  OnRun(cmd, ctx, [opts, &ctx] { return RunSet(*opts, ctx); });
}

}  // namespace kv::cli
