#include "client/remote/etcd_backend.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <random>
#include <chrono>
#include <map>
#include <optional>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "client/remote/curl_http_client.h"
#include "common/base64.h"
#include "common/json_flat.h"
#include "common/key.h"

namespace kv::client {
namespace {

using Json = nlohmann::json;

constexpr int64_t kDefaultPort = 2379;
constexpr size_t kDefaultPage = 500;
constexpr size_t kStatsPage = 10'000;
// How often a read-modify-write (incr, patch, expire, persist) is tried
// before it gives up on concurrent writers.
constexpr int kCasAttempts = 64;
// A bulk write's txn: etcd's default --max-txn-ops is 128 and
// --max-request-bytes 1.5 MiB (the JSON gateway adds base64).
constexpr size_t kTxnOps = 128;
constexpr size_t kTxnBytes = 1u << 20;

int64_t TtlSeconds(int64_t ttl_ms) { return (ttl_ms + 999) / 1000; }

// gRPC status codes, as the gateway reports them in "code".
constexpr int kGrpcDeadlineExceeded = 4;
constexpr int kGrpcNotFound = 5;
constexpr int kGrpcPermissionDenied = 7;
constexpr int kGrpcResourceExhausted = 8;
constexpr int kGrpcOutOfRange = 11;
constexpr int kGrpcUnavailable = 14;
constexpr int kGrpcUnauthenticated = 16;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string B64(std::string_view s) { return Base64Encode(s); }

// The gateway sends int64 fields as JSON strings and omits zero values.
int64_t I64(const Json& j, const char* name) {
  if (!j.is_object()) return 0;
  auto it = j.find(name);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  }
  return 0;
}

bool Flag(const Json& j, const char* name) {
  if (!j.is_object()) return false;
  auto it = j.find(name);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::string Str(const Json& j, const char* name) {
  if (!j.is_object()) return "";
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

const Json& Member(const Json& j, const char* name) {
  static const Json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(name);
  return it == j.end() ? kNull : *it;
}

int64_t HeaderRevision(const Json& reply) { return I64(Member(reply, "header"), "revision"); }

// etcd keeps no content type: JSON when the value parses, else bytes (what
// kv set would have sent).
std::string InferContentType(std::string_view value) {
  return Json::accept(value) ? "application/json" : "application/octet-stream";
}

// One key-value as the gateway returns it.
struct Kv {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

std::optional<Kv> ParseKv(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  Kv kv;
  std::optional<std::string> key = Base64Decode(Str(j, "key"));
  std::optional<std::string> value = Base64Decode(Str(j, "value"));  // absent: empty
  if (!key || !value) return std::nullopt;
  kv.key = std::move(*key);
  kv.value = std::move(*value);
  kv.create_revision = I64(j, "create_revision");
  kv.mod_revision = I64(j, "mod_revision");
  kv.version = I64(j, "version");
  kv.lease = I64(j, "lease");
  return kv;
}

std::vector<Kv> ParseKvs(const Json& j) {
  std::vector<Kv> out;
  const Json& kvs = Member(j, "kvs");
  if (!kvs.is_array()) return out;
  for (const Json& one : kvs) {
    if (std::optional<Kv> kv = ParseKv(one)) out.push_back(std::move(*kv));
  }
  return out;
}

Json Compare(const char* target, const char* result, const char* field, int64_t value,
             const std::string& key) {
  return Json{{"key", B64(key)},
              {"target", target},
              {"result", result},
              {field, std::to_string(value)}};
}

// An error answer of the gateway ({"error","message","code"}) as a Status.
Status EtcdError(const HttpReply& reply, const std::string& host) {
  Json j = Json::parse(reply.body, nullptr, false);
  int code = -1;
  std::string message;
  if (j.is_object()) {
    if (j.contains("code") && j["code"].is_number_integer()) code = j["code"].get<int>();
    message = Str(j, "error");
    if (message.empty()) message = Str(j, "message");
  }
  if (message.empty()) {
    if (reply.status == 404 || reply.status == 405) {
      return Status::Unsupported(host + " does not serve etcd's v3 JSON gateway (HTTP " +
                                 std::to_string(reply.status) + ")");
    }
    message = "HTTP " + std::to_string(reply.status);
  }
  const std::string m = "etcd at " + host + ": " + message;
  auto has = [&](const char* text) { return message.find(text) != std::string::npos; };
  if (has("request is too large") || has("larger than max")) return Status::TooLarge(m);
  if (has("database space exceeded") || has("no space")) return Status::NoSpace(m);
  if (has("user name is empty")) {
    return Status::Unauthorized("etcd at " + host +
                                " requires authentication (give --user NAME:PASSWORD)");
  }
  if (has("authentication failed") || has("permission denied") || has("invalid auth token") ||
      has("user name not found")) {
    return Status::Unauthorized(m);
  }
  if (has("compacted")) return Status::OutOfRange(m);
  if (has("lease not found") || has("key not found")) return Status::NotFound(m);
  if (has("too many requests")) return Status::Unavailable(m);
  switch (code) {
    case kGrpcDeadlineExceeded: return Status::Timeout(m);
    case kGrpcNotFound: return Status::NotFound(m);
    case kGrpcPermissionDenied:
    case kGrpcUnauthenticated: return Status::Unauthorized(m);
    case kGrpcResourceExhausted: return Status::NoSpace(m);
    case kGrpcOutOfRange: return Status::OutOfRange(m);
    case kGrpcUnavailable: return Status::Unavailable(m);
    default: break;
  }
  if (reply.status == 503) return Status::Unavailable(m);
  if (reply.status == 504) return Status::Timeout(m);
  return Status::Internal(m);
}

bool TokenExpired(const HttpReply& reply) {
  return reply.status == 401 || reply.body.find("invalid auth token") != std::string::npos;
}

bool IsTransport(const Status& s) {
  return (s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kTimeout) &&
         s.message() != "interrupted";
}

Status SameCode(const Status& like, std::string message) {
  return like.code() == Status::Code::kTimeout ? Status::Timeout(std::move(message))
                                               : Status::Unavailable(std::move(message));
}

// A decimal 64-bit integer, as incr stores it (surrounding blanks allowed).
std::optional<int64_t> ParseInteger(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\t' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

void Backoff(int attempt) {
  if (attempt < 2) return;
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min(attempt, 20)));
}

class EtcdBackend final : public Backend {
 public:
  explicit EtcdBackend(EtcdOptions options) : opt_(std::move(options)) {
    clients_.resize(opt_.endpoints.size());
  }

  std::string Name() const override { return "etcd"; }
  Capabilities Caps() const override {
    Capabilities c;
    c.ttl = c.list = c.incr = c.patch = c.clear = c.watch = c.stats = c.webhooks = true;
    return c;
  }
  void SetScope(const Scope& scope) override { opt_.scope = scope; }
  const Scope& scope() const override { return opt_.scope; }

  Result<Value> Get(std::string_view key) override {
    auto kv = Read(Full(key));
    if (!kv.ok()) return kv.status();
    if (!*kv) return KeyNotFound(key);
    Value v;
    auto meta = MetaOf(**kv, key, nullptr);
    if (!meta.ok()) return meta.status();
    v.meta = std::move(*meta);
    v.bytes = std::move((*kv)->value);
    return v;
  }

  Result<KeyMeta> Meta(std::string_view key) override {
    auto kv = Read(Full(key));
    if (!kv.ok()) return kv.status();
    if (!*kv) return KeyNotFound(key);
    return MetaOf(**kv, key, nullptr);
  }

  Result<KeyMeta> Set(std::string_view key, std::string_view value,
                      const SetOptions& o) override {
    const std::string full = Full(key);
    Lease lease;
    if (o.ttl_ms > 0) {
      auto granted = Grant(o.ttl_ms);
      if (!granted.ok()) return granted.status();
      lease = *granted;
    }
    Json put = {{"key", B64(full)}, {"value", B64(value)}};
    if (lease.id != 0) put["lease"] = std::to_string(lease.id);
    Json keep_put = put;
    keep_put["ignore_lease"] = true;
    const bool keep = o.keep_ttl && o.ttl_ms <= 0;
    const Condition::Kind kind = o.condition.kind;

    Result<Json> reply = Status::Ok();
    if (kind == Condition::Kind::kNone && !keep) {
      // Safe to send again: the same put twice leaves the same value (a
      // watcher may see two events).
      reply = Call("/v3/kv/put", put, true);
    } else if (kind == Condition::Kind::kNone) {
      // Keep the lease of a key that exists; a new key has none to keep.
      Json txn = {{"compare", Json::array({Compare("CREATE", "GREATER", "create_revision", 0, full)})},
                  {"success", Json::array({Json{{"request_put", keep_put}}})},
                  {"failure", Json::array({Json{{"request_put", put}}})}};
      reply = Call("/v3/kv/txn", txn, false);
    } else {
      auto compare = ConditionCompare(o.condition, full);
      if (!compare.ok()) {
        RevokeQuietly(lease.id);
        return compare.status();
      }
      const bool exists_on_success = kind != Condition::Kind::kIfAbsent;
      Json txn = {{"compare", Json::array({*compare})},
                  {"success", Json::array({Json{{"request_put",
                                                 keep && exists_on_success ? keep_put : put}}})},
                  {"failure", Json::array({Json{{"request_range", {{"key", B64(full)}}}}})}};
      reply = Call("/v3/kv/txn", txn, false);
      if (reply.ok() && !Flag(*reply, "succeeded")) {
        RevokeQuietly(lease.id);
        return ConditionFailed(*reply, o.condition, key);
      }
    }
    if (!reply.ok()) {
      RevokeQuietly(lease.id);
      return reply.status();
    }
    KeyMeta m;
    m.key.assign(key);
    m.revision = static_cast<uint64_t>(HeaderRevision(*reply));
    m.etag = std::to_string(m.revision);
    m.size = value.size();
    m.content_type = InferContentType(value);
    if (lease.id != 0) {
      m.ttl_ms = lease.ttl_s * 1000;
      m.expire_at_ms = NowMs() + m.ttl_ms;
    }
    return m;
  }

  // Unconditional writes go in txns of up to kTxnOps puts (one lease per
  // TTL in seconds, shared by the keys that have it); a write with a
  // condition or --keep-ttl, or one a txn cannot carry (too large), is
  // written alone.
  Result<std::vector<Status>> SetMany(const std::vector<BatchItem>& items) override {
    std::vector<Status> out(items.size());
    std::vector<size_t> batch;
    size_t batch_bytes = 0;
    std::map<int64_t, Lease> leases;  // by TTL in seconds
    auto write_alone = [&](size_t i) {
      out[i] = Set(items[i].key, items[i].value, items[i].options).status();
    };
    auto flush = [&]() -> Status {
      if (batch.empty()) return Status::Ok();
      Json ops = Json::array();
      for (size_t i : batch) {
        Json put = {{"key", B64(Full(items[i].key))}, {"value", B64(items[i].value)}};
        if (items[i].options.ttl_ms > 0) {
          put["lease"] = std::to_string(leases[TtlSeconds(items[i].options.ttl_ms)].id);
        }
        ops.push_back(Json{{"request_put", std::move(put)}});
      }
      // Puts only, no compare: safe to send again, like a plain put.
      auto reply = Call("/v3/kv/txn", Json{{"success", std::move(ops)}}, true);
      if (!reply.ok()) {
        if (reply.status().code() != Status::Code::kTooLarge || batch.size() == 1) {
          if (batch.size() == 1) {
            out[batch[0]] = reply.status();
          } else {
            return reply.status();  // no outcome known for the batch
          }
        } else {
          for (size_t i : batch) write_alone(i);
        }
      }
      batch.clear();
      batch_bytes = 0;
      return Status::Ok();
    };
    for (size_t i = 0; i < items.size(); ++i) {
      const SetOptions& o = items[i].options;
      if (o.condition.kind != Condition::Kind::kNone || o.keep_ttl) {
        if (Status s = flush(); !s.ok()) return s;
        write_alone(i);
        continue;
      }
      if (o.ttl_ms > 0 && leases.count(TtlSeconds(o.ttl_ms)) == 0) {
        auto lease = Grant(o.ttl_ms);
        if (!lease.ok()) return lease.status();
        leases[TtlSeconds(o.ttl_ms)] = *lease;
      }
      const size_t bytes = (Full(items[i].key).size() + items[i].value.size()) * 4 / 3 + 64;
      if (batch.size() == kTxnOps || (!batch.empty() && batch_bytes + bytes > kTxnBytes)) {
        if (Status s = flush(); !s.ok()) return s;
      }
      batch.push_back(i);
      batch_bytes += bytes;
    }
    if (Status s = flush(); !s.ok()) return s;
    return out;
  }

  Result<uint64_t> Delete(std::string_view key, const Condition& condition) override {
    const std::string full = Full(key);
    switch (condition.kind) {
      case Condition::Kind::kNone:
      case Condition::Kind::kIfExists: {
        auto reply = Call("/v3/kv/deleterange", Json{{"key", B64(full)}}, false);
        if (!reply.ok()) return reply.status();
        if (I64(*reply, "deleted") == 0) return KeyNotFound(key);
        return static_cast<uint64_t>(HeaderRevision(*reply));
      }
      case Condition::Kind::kIfAbsent: {
        auto kv = Read(full);
        if (!kv.ok()) return kv.status();
        if (!*kv) return KeyNotFound(key);
        return Status::PreconditionFailed("precondition failed: key " + std::string(key) +
                                          " exists");
      }
      case Condition::Kind::kIfMatch: {
        auto compare = ConditionCompare(condition, full);
        if (!compare.ok()) return compare.status();
        Json txn = {{"compare", Json::array({*compare})},
                    {"success", Json::array({Json{{"request_delete_range", {{"key", B64(full)}}}}})},
                    {"failure", Json::array({Json{{"request_range", {{"key", B64(full)}}}}})}};
        auto reply = Call("/v3/kv/txn", txn, false);
        if (!reply.ok()) return reply.status();
        if (!Flag(*reply, "succeeded")) return ConditionFailed(*reply, condition, key);
        return static_cast<uint64_t>(HeaderRevision(*reply));
      }
    }
    return Status::Internal("unknown condition");
  }

  Result<ListPage> List(const ListRequest& q) override {
    if (!q.where.empty()) return NotSupported(Name(), "ls --where");
    const std::string scope = ScopePrefix();
    std::string start = scope + q.prefix;
    const std::string end = PrefixSuccessor(start);
    if (!q.cursor.empty()) {
      std::string after = scope + q.cursor;
      after.push_back('\0');
      if (after > start) start = std::move(after);
    }
    const size_t limit = q.limit != 0 ? q.limit : kDefaultPage;
    Json body = {{"key", B64(start)}, {"range_end", B64(end)}, {"limit", limit}};
    auto reply = Call("/v3/kv/range", body, true);
    if (!reply.ok()) return reply.status();
    ListPage page;
    std::map<int64_t, int64_t> ttl_cache;
    for (Kv& kv : ParseKvs(*reply)) {
      if (!kv.key.starts_with(scope)) continue;
      ListedKey item;
      auto meta = MetaOf(kv, std::string_view(kv.key).substr(scope.size()), &ttl_cache);
      if (!meta.ok()) return meta.status();
      item.meta = std::move(*meta);
      if (q.values) item.value = std::move(kv.value);
      page.keys.push_back(std::move(item));
    }
    if (Flag(*reply, "more") && !page.keys.empty()) page.next_cursor = page.keys.back().meta.key;
    return page;
  }

  Result<std::string> Incr(std::string_view key, int64_t by) override {
    const std::string full = Full(key);
    for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
      Backoff(attempt);
      auto current = Read(full);
      if (!current.ok()) return current.status();
      int64_t n = 0;
      Json put = {{"key", B64(full)}};
      Json compare;
      if (*current) {
        std::optional<int64_t> parsed = ParseInteger((*current)->value);
        if (!parsed) {
          return Status::Internal("the value of " + std::string(key) +
                                  " is not a 64-bit integer");
        }
        n = *parsed;
        compare = Compare("MOD", "EQUAL", "mod_revision", (*current)->mod_revision, full);
        put["ignore_lease"] = true;  // incr keeps the TTL
      } else {
        compare = Compare("CREATE", "EQUAL", "create_revision", 0, full);
      }
      int64_t next = 0;
      if (__builtin_add_overflow(n, by, &next)) {
        return Status::Internal("incr would overflow a 64-bit integer");
      }
      const std::string text = std::to_string(next);
      put["value"] = B64(text);
      auto done = TryTxn(compare, put);
      if (!done.ok()) return done.status();
      if (*done) return text;
    }
    return Contended("incr", key);
  }

  Result<std::string> Patch(std::string_view key, std::string_view patch) override {
    Json merge = Json::parse(patch, nullptr, false);
    if (merge.is_discarded()) return Status::InvalidArgument("the patch is not valid JSON");
    const std::string full = Full(key);
    for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
      Backoff(attempt);
      auto current = Read(full);
      if (!current.ok()) return current.status();
      Json doc = Json::object();
      Json put = {{"key", B64(full)}};
      Json compare;
      if (*current) {
        doc = kv::json::ParseTree<Json>((*current)->value);
        if (!doc.is_object()) {
          return Status::Internal("the value of " + std::string(key) +
                                  " is not a JSON object: cannot merge a patch into it");
        }
        compare = Compare("MOD", "EQUAL", "mod_revision", (*current)->mod_revision, full);
        put["ignore_lease"] = true;  // patch keeps the TTL
      } else {
        compare = Compare("CREATE", "EQUAL", "create_revision", 0, full);
      }
      doc.merge_patch(merge);
      const std::string text = doc.dump();
      put["value"] = B64(text);
      auto done = TryTxn(compare, put);
      if (!done.ok()) return done.status();
      if (*done) return text;
    }
    return Contended("patch", key);
  }

  Result<KeyMeta> Expire(std::string_view key, int64_t ttl_ms) override {
    if (ttl_ms <= 0) return Status::InvalidArgument("a TTL must be positive");
    const std::string full = Full(key);
    for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
      Backoff(attempt);
      auto current = Read(full);
      if (!current.ok()) return current.status();
      if (!*current) return KeyNotFound(key);
      auto lease = Grant(ttl_ms);
      if (!lease.ok()) return lease.status();
      Json put = {{"key", B64(full)}, {"ignore_value", true}, {"lease", std::to_string(lease->id)}};
      int64_t revision = 0;
      auto done = TryTxn(Compare("MOD", "EQUAL", "mod_revision", (*current)->mod_revision, full),
                         put, &revision);
      if (!done.ok() || !*done) RevokeQuietly(lease->id);
      if (!done.ok()) return done.status();
      if (!*done) continue;
      KeyMeta m = BareMeta(**current, key);
      m.revision = static_cast<uint64_t>(revision);
      m.etag = std::to_string(m.revision);
      m.ttl_ms = lease->ttl_s * 1000;
      m.expire_at_ms = NowMs() + m.ttl_ms;
      return m;
    }
    return Contended("expire", key);
  }

  Result<KeyMeta> Persist(std::string_view key) override {
    const std::string full = Full(key);
    for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
      Backoff(attempt);
      auto current = Read(full);
      if (!current.ok()) return current.status();
      if (!*current) return KeyNotFound(key);
      if ((*current)->lease == 0) return BareMeta(**current, key);  // nothing to remove
      Json put = {{"key", B64(full)}, {"ignore_value", true}};  // no lease: detached
      int64_t revision = 0;
      auto done = TryTxn(Compare("MOD", "EQUAL", "mod_revision", (*current)->mod_revision, full),
                         put, &revision);
      if (!done.ok()) return done.status();
      if (!*done) continue;
      KeyMeta m = BareMeta(**current, key);
      m.revision = static_cast<uint64_t>(revision);
      m.etag = std::to_string(m.revision);
      return m;
    }
    return Contended("persist", key);
  }

  Result<uint64_t> Clear(std::string_view prefix) override {
    const std::string from = ScopePrefix() + std::string(prefix);
    auto reply = Call("/v3/kv/deleterange",
                      Json{{"key", B64(from)}, {"range_end", B64(PrefixSuccessor(from))}}, false);
    if (!reply.ok()) return reply.status();
    return static_cast<uint64_t>(I64(*reply, "deleted"));
  }

  // Webhooks, where and as simple-golang-kv keeps them:
  // /{prefix}/webhooks/{ns}/{app}/{uuid} holding its Webhook struct as JSON,
  // so a simple-golang-kv deployment on the same etcd fires them. etcd keeps
  // no delivery state: only the registrations.
  Result<WebhookInfo> AddWebhook(const WebhookSpec& spec) override {
    if (!spec.key || spec.key->empty()) return Status::InvalidArgument("Key must not be empty");
    if (!spec.event || spec.event->empty()) {
      return Status::InvalidArgument("Event must not be empty");
    }
    if (!spec.endpoint || spec.endpoint->empty()) {
      return Status::InvalidArgument("Endpoint must not be empty");
    }
    Json hook = {{"id", NewUuid()},
                 {"namespace", opt_.scope.ns},
                 {"appName", opt_.scope.app},
                 {"method", "POST"},
                 {"add_event_data", false},
                 {"created_at", NowMs() / 1000}};
    if (Status s = ApplyWebhookSpec(spec, &hook); !s.ok()) return s;
    auto reply = Call("/v3/kv/put",
                      Json{{"key", B64(WebhookKey(Str(hook, "id")))}, {"value", B64(hook.dump())}}, true);
    if (!reply.ok()) return reply.status();
    return WebhookOf(hook);
  }

  Result<std::vector<WebhookInfo>> ListWebhooks(std::string_view prefix) override {
    const std::string base = WebhookKey("");
    auto reply = Call("/v3/kv/range",
                      Json{{"key", B64(base)}, {"range_end", B64(PrefixSuccessor(base))}}, true);
    if (!reply.ok()) return reply.status();
    std::vector<WebhookInfo> out;
    for (const Kv& kv : ParseKvs(*reply)) {
      Json hook = Json::parse(kv.value, nullptr, false);
      if (!hook.is_object()) continue;  // not a webhook simple-golang-kv could read either
      WebhookInfo info = WebhookOf(hook);
      if (info.key.starts_with(prefix)) out.push_back(std::move(info));
    }
    return out;
  }

  Result<WebhookInfo> GetWebhook(std::string_view id) override {
    auto hook = ReadWebhook(id);
    if (!hook.ok()) return hook.status();
    return WebhookOf(hook->first);
  }

  Result<WebhookInfo> UpdateWebhook(std::string_view id, const WebhookSpec& spec) override {
    auto read = ReadWebhook(id);
    if (!read.ok()) return read.status();
    auto& [hook, mod_revision] = *read;
    if (Status s = ApplyWebhookSpec(spec, &hook); !s.ok()) return s;
    // Only over the version read: a concurrent update is not overwritten.
    const std::string key = WebhookKey(id);
    Json txn = {{"compare", Json::array({Compare("MOD", "EQUAL", "mod_revision", mod_revision, key)})},
                {"success", Json::array({Json{{"request_put",
                                               {{"key", B64(key)}, {"value", B64(hook.dump())}}}}})}};
    auto reply = Call("/v3/kv/txn", txn, false);
    if (!reply.ok()) return reply.status();
    if (!Flag(*reply, "succeeded")) {
      return Status::PreconditionFailed("webhook " + std::string(id) + " changed meanwhile");
    }
    return WebhookOf(hook);
  }

  Status DeleteWebhook(std::string_view id) override {
    auto reply = Call("/v3/kv/deleterange", Json{{"key", B64(WebhookKey(id))}}, false);
    if (!reply.ok()) return reply.status();
    if (I64(*reply, "deleted") == 0) return Status::NotFound("webhook not found: " + std::string(id));
    return Status::Ok();
  }

  Result<std::vector<NamespaceStats>> Stats(bool all) override {
    std::vector<NamespaceStats> out;
    if (!all) {
      const std::string scope = ScopePrefix();
      auto reply = Call("/v3/kv/range",
                        Json{{"key", B64(scope)},
                             {"range_end", B64(PrefixSuccessor(scope))},
                             {"count_only", true}},
                        true);
      if (!reply.ok()) return reply.status();
      NamespaceStats s;
      s.ns = opt_.scope.ns;
      s.app = opt_.scope.app;
      s.keys = static_cast<uint64_t>(I64(*reply, "count"));
      out.push_back(std::move(s));
      return out;
    }
    // Every namespace and app under /{prefix}/kv/, counted from the keys.
    const std::string base = "/" + opt_.prefix + "/kv/";
    const std::string end = PrefixSuccessor(base);
    std::map<std::pair<std::string, std::string>, uint64_t> counts;
    std::string start = base;
    for (;;) {
      auto reply = Call("/v3/kv/range",
                        Json{{"key", B64(start)},
                             {"range_end", B64(end)},
                             {"keys_only", true},
                             {"limit", kStatsPage}},
                        true);
      if (!reply.ok()) return reply.status();
      std::vector<Kv> kvs = ParseKvs(*reply);
      for (const Kv& kv : kvs) {
        std::string_view rest = std::string_view(kv.key).substr(base.size());
        size_t slash1 = rest.find('/');
        size_t slash2 = slash1 == std::string_view::npos ? slash1 : rest.find('/', slash1 + 1);
        if (slash2 == std::string_view::npos) continue;  // not in the layout
        counts[{std::string(rest.substr(0, slash1)),
                std::string(rest.substr(slash1 + 1, slash2 - slash1 - 1))}]++;
      }
      if (!Flag(*reply, "more") || kvs.empty()) break;
      start = kvs.back().key;
      start.push_back('\0');
    }
    for (const auto& [scope, keys] : counts) {
      NamespaceStats s;
      s.ns = scope.first;
      s.app = scope.second;
      s.keys = keys;
      out.push_back(std::move(s));
    }
    return out;
  }

  Status Watch(const WatchRequest& q, const std::function<bool(const Event&)>& on_event) override {
    const std::string scope = ScopePrefix();
    const std::string start = scope + q.prefix;
    const std::string end = PrefixSuccessor(start);
    // --no-follow watches every key, so that the event at the revision
    // current when the watch began (some key's) shows where the replay ends.
    const bool whole = !q.follow;
    if (!q.follow && !q.since) return Status::Ok();  // nothing to replay
    std::optional<int64_t> next;  // the revision the stream (re)starts at
    if (q.since) next = static_cast<int64_t>(*q.since) + 1;
    int64_t stop_at = -1;  // --no-follow: the last revision to replay
    std::vector<std::string> failures;

    for (;;) {
      const size_t i = current_;
      auto client = Client(i);
      if (!client.ok()) return client.status();
      if (Status s = EnsureToken(**client); !s.ok()) {
        if (!IsTransport(s) || !(*client)->last_failure_before_send()) return s;
        if (Status f = WatchFailure(s, &failures); !f.ok()) return f;
        continue;
      }
      Json create = {{"key", B64(whole ? std::string(1, '\0') : start)},
                     {"range_end", B64(whole ? std::string(1, '\0') : end)}};
      if (next) create["start_revision"] = std::to_string(*next);
      HttpCall call = NewCall("/v3/watch", Json{{"create_request", create}});

      std::string pending;
      Status outcome;
      bool done = false;
      bool progressed = false;
      auto handle = [&](const Json& line) -> bool {  // false: stop the stream
        if (line.contains("error")) {
          const Json& e = line["error"];
          HttpReply fake;
          fake.status = static_cast<int>(I64(e, "http_code"));
          fake.body = Json{{"error", Str(e, "message")}, {"code", I64(e, "grpc_code")}}.dump();
          outcome = EtcdError(fake, (*client)->Describe());
          return false;
        }
        const Json& result = Member(line, "result");
        if (Flag(result, "canceled")) {
          int64_t compacted = I64(result, "compact_revision");
          if (compacted != 0) {
            outcome = Status::OutOfRange("etcd compacted its history: the oldest revision it keeps is " +
                                         std::to_string(compacted));
          } else {
            outcome = Status::Internal("etcd canceled the watch: " + Str(result, "cancel_reason"));
          }
          return false;
        }
        if (Flag(result, "created")) {
          progressed = true;
          const int64_t current_revision = HeaderRevision(result);
          if (!next) next = current_revision + 1;
          if (whole && stop_at < 0) {
            stop_at = current_revision;
            if (stop_at < *next) return false;  // nothing happened since
          }
          return true;
        }
        const Json& events = Member(result, "events");
        if (!events.is_array() || events.empty()) return true;
        int64_t last = 0;
        for (const Json& ev : events) {
          std::optional<Kv> kv = ParseKv(Member(ev, "kv"));
          if (!kv) continue;
          last = std::max(last, kv->mod_revision);
          if (!kv->key.starts_with(start)) continue;  // --no-follow sees every key
          Event e;
          e.revision = static_cast<uint64_t>(kv->mod_revision);
          const bool deleted = Str(ev, "type") == "DELETE";
          e.type = deleted ? "delete" : kv->version == 1 ? "create" : "update";
          e.key = kv->key.substr(scope.size());
          e.ns = opt_.scope.ns;
          e.app = opt_.scope.app;
          if (!deleted) {
            e.size = kv->value.size();
            e.content_type = InferContentType(kv->value);
            e.value = std::move(kv->value);
          }
          if (!on_event(e)) return false;
        }
        progressed = true;
        if (last != 0) next = last + 1;
        return !(whole && last >= stop_at);
      };
      auto reply = (*client)->Stream(call, [&](std::string_view data) {
        pending.append(data);
        size_t from = 0;
        for (size_t nl; (nl = pending.find('\n', from)) != std::string::npos; from = nl + 1) {
          Json line = Json::parse(std::string_view(pending).substr(from, nl - from), nullptr, false);
          if (!line.is_object()) continue;
          if (!handle(line)) {
            done = true;
            return false;
          }
        }
        pending.erase(0, from);
        return true;
      });
      if (done) return outcome;
      if (!reply.ok()) {
        if (!IsTransport(reply.status())) return reply.status();
        if (progressed) failures.clear();
        if (Status f = WatchFailure(reply.status(), &failures); !f.ok()) return f;
        continue;
      }
      if (reply->status != 200) {
        if (TokenExpired(*reply) && !opt_.username.empty() && token_renewals_++ < 3) {
          token_.clear();
          continue;
        }
        return EtcdError(*reply, (*client)->Describe());
      }
      // The member ended the stream (it is stopping): resume on the next one.
      if (progressed) failures.clear();
      if (Status f = WatchFailure(Status::Unavailable((*client)->Describe() + " ended the watch"),
                                  &failures);
          !f.ok()) {
        return f;
      }
    }
  }

  Result<TokenInfo> CreateToken(std::string_view) override {
    return NotSupported(Name(), "token administration");
  }
  Result<std::vector<TokenInfo>> ListTokens() override {
    return NotSupported(Name(), "token administration");
  }
  Status RevokeToken(std::string_view) override {
    return NotSupported(Name(), "token administration");
  }

 private:
  struct Lease {
    int64_t id = 0;
    int64_t ttl_s = 0;
  };

  std::string ScopePrefix() const {
    return "/" + opt_.prefix + "/kv/" + opt_.scope.ns + "/" + opt_.scope.app + "/";
  }
  std::string Full(std::string_view key) const { return ScopePrefix() + std::string(key); }

  std::string WebhookKey(std::string_view id) const {
    return "/" + opt_.prefix + "/webhooks/" + opt_.scope.ns + "/" + opt_.scope.app + "/" +
           std::string(id);
  }

  // The webhook's JSON and its mod_revision; NotFound when there is none.
  Result<std::pair<Json, int64_t>> ReadWebhook(std::string_view id) {
    auto kv = Read(WebhookKey(id));
    if (!kv.ok()) return kv.status();
    if (!*kv) return Status::NotFound("webhook not found: " + std::string(id));
    Json hook = Json::parse((*kv)->value, nullptr, false);
    if (!hook.is_object()) return Status::Corruption("webhook " + std::string(id) + " is not JSON");
    return std::make_pair(std::move(hook), (*kv)->mod_revision);
  }

  // The fields `spec` sets, checked as simple-golang-kv checks them.
  static Status ApplyWebhookSpec(const WebhookSpec& spec, Json* hook) {
    if (spec.event) {
      if (*spec.event != "create" && *spec.event != "update" && *spec.event != "delete") {
        return Status::InvalidArgument("Event must be one of: create, update, delete");
      }
      (*hook)["event"] = *spec.event;
    }
    if (spec.method) {
      std::string upper;
      for (char c : *spec.method) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
      static const char* kMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"};
      if (std::find(std::begin(kMethods), std::end(kMethods), upper) == std::end(kMethods)) {
        return Status::InvalidArgument("Invalid method");
      }
      (*hook)["method"] = *spec.method;  // stored as given, as simple-golang-kv does
    }
    if (spec.key) (*hook)["key"] = *spec.key;
    if (spec.endpoint) (*hook)["endpoint"] = *spec.endpoint;
    for (auto [field, text] : {std::pair{"headers", &spec.headers_json},
                               std::pair{"payload", &spec.payload_json}}) {
      if (!*text) continue;
      Json value = Json::parse(**text, nullptr, false);
      if (!value.is_object()) return Status::InvalidArgument(std::string(field) + " must be a JSON object");
      (*hook)[field] = std::move(value);
    }
    if (spec.add_event_data) (*hook)["add_event_data"] = *spec.add_event_data;
    return Status::Ok();
  }

  static WebhookInfo WebhookOf(const Json& hook) {
    WebhookInfo w;
    w.id = Str(hook, "id");
    w.key = Str(hook, "key");
    w.event = Str(hook, "event");
    w.endpoint = Str(hook, "endpoint");
    w.method = Str(hook, "method");
    if (const Json& h = Member(hook, "headers"); h.is_object()) w.headers_json = h.dump();
    if (const Json& p = Member(hook, "payload"); p.is_object()) w.payload_json = p.dump();
    w.add_event_data = Flag(hook, "add_event_data");
    w.created_at = I64(hook, "created_at");
    return w;
  }

  // A random (version 4) UUID, as simple-golang-kv names its webhooks.
  static std::string NewUuid() {
    std::random_device rd;
    unsigned char b[16];
    for (auto& x : b) x = static_cast<unsigned char>(rd());
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    char out[37];
    std::snprintf(out, sizeof out,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                  b[15]);
    return out;
  }

  static Status KeyNotFound(std::string_view key) {
    return Status::NotFound("key not found: " + std::string(key));
  }

  static Status Contended(const char* what, std::string_view key) {
    return Status::Unavailable(std::string(what) + " " + std::string(key) +
                               ": other writers kept changing the key; gave up after " +
                               std::to_string(kCasAttempts) + " attempts");
  }

  Result<CurlHttpClient*> Client(size_t i) {
    if (!clients_[i]) {
      CurlOptions c;
      c.base_url = (opt_.tls ? "https://" : "http://") + opt_.endpoints[i];
      c.timeout_ms = opt_.timeout_ms;
      c.ca_file = opt_.ca_file;
      c.cert_file = opt_.cert_file;
      c.key_file = opt_.key_file;
      // With several endpoints, failing over beats asking a dead one again.
      c.retries = opt_.endpoints.size() > 1 ? 0 : 2;
      c.interrupted = opt_.interrupted;
      auto made = CurlHttpClient::Create(std::move(c));
      if (!made.ok()) return made.status();
      clients_[i] = std::move(*made);
    }
    return clients_[i].get();
  }

  HttpCall NewCall(std::string_view path, const Json& body) const {
    HttpCall call;
    call.method = "POST";
    call.target.assign(path);
    call.headers.emplace_back("Content-Type", "application/json");
    if (!token_.empty()) call.headers.emplace_back("Authorization", token_);
    call.body = body.dump();
    return call;
  }

  // Gets a token when a user is configured and there is none yet.
  Status EnsureToken(CurlHttpClient& client) {
    if (opt_.username.empty() || !token_.empty()) return Status::Ok();
    HttpCall call;
    call.method = "POST";
    call.target = "/v3/auth/authenticate";
    call.headers.emplace_back("Content-Type", "application/json");
    call.body = Json{{"name", opt_.username}, {"password", opt_.password}}.dump();
    auto reply = client.Send(call, true);
    if (!reply.ok()) return reply.status();
    if (reply->status != 200) {
      Status s = EtcdError(*reply, client.Describe());
      if (s.code() == Status::Code::kUnauthorized || s.code() == Status::Code::kInternal) {
        return Status::Unauthorized("etcd at " + client.Describe() + " refused user " +
                                    opt_.username + ": " + s.message());
      }
      return s;
    }
    Json j = Json::parse(reply->body, nullptr, false);
    token_ = Str(j, "token");
    if (token_.empty()) {
      return Status::Unauthorized("etcd at " + client.Describe() +
                                  " gave no token (is authentication enabled?)");
    }
    return Status::Ok();
  }

  // POSTs `body` to `path` and returns the reply's JSON, failing over
  // between endpoints as the file comment says.
  Result<Json> Call(std::string_view path, const Json& body, bool idempotent) {
    const size_t n = opt_.endpoints.size();
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(opt_.timeout_ms);
    std::vector<std::string> failures;
    Status last;
    int renewals = 0;
    bool electing = false;  // a member said it has no leader: worth another round
    size_t tried = 0;
    for (;;) {
      if (tried == n) {  // every endpoint failed once
        if (!electing || std::chrono::steady_clock::now() >= deadline) break;
        if (opt_.interrupted && opt_.interrupted()) return Status::Unavailable("interrupted");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        tried = 0;
        electing = false;
        failures.clear();
      }
      const size_t i = (current_ + tried) % n;
      auto client = Client(i);
      if (!client.ok()) return client.status();
      CurlHttpClient& http = **client;
      if (Status s = EnsureToken(http); !s.ok()) {
        if (!IsTransport(s) || !http.last_failure_before_send()) return s;
        failures.push_back(s.message());
        last = s;
        ++tried;
        continue;
      }
      auto reply = http.Send(NewCall(path, body), idempotent);
      if (!reply.ok()) {
        if (!IsTransport(reply.status()) || !(idempotent || http.last_failure_before_send())) {
          return reply.status();
        }
        failures.push_back(reply.status().message());
        last = reply.status();
        ++tried;
        continue;
      }
      if (reply->status == 200) {
        current_ = i;  // stay with the endpoint that answers
        Json j = Json::parse(reply->body, nullptr, false);
        if (!j.is_object()) {
          return Status::Internal("etcd at " + http.Describe() + " sent a reply kv cannot read");
        }
        return j;
      }
      if (TokenExpired(*reply) && !opt_.username.empty() && renewals++ < 1) {
        token_.clear();
        continue;  // the same endpoint, with a new token
      }
      Status s = EtcdError(*reply, http.Describe());
      // "no leader" is refused before anything is proposed, so any request
      // may go again; other unavailability only for reads.
      const bool no_leader = reply->body.find("no leader") != std::string::npos;
      if (s.code() == Status::Code::kUnavailable && (idempotent || no_leader)) {
        electing = true;
        failures.push_back(s.message());
        last = s;
        ++tried;
        continue;
      }
      return s;
    }
    if (failures.size() <= 1) return last;
    std::string message = "no etcd endpoint answered: ";
    for (size_t k = 0; k < failures.size(); ++k) message += (k ? "; " : "") + failures[k];
    return SameCode(last, std::move(message));
  }

  // A watch stream that failed: move to the next endpoint, and give up once
  // every endpoint failed twice in a row without delivering anything and the
  // first of those failures is a timeout (--timeout) ago, so that a watch
  // outlives a restart of a lone etcd, as kv's watch of kvd does.
  Status WatchFailure(const Status& status, std::vector<std::string>* failures) {
    const auto now = std::chrono::steady_clock::now();
    if (failures->empty()) watch_outage_start_ = now;
    failures->push_back(status.message());
    const size_t n = opt_.endpoints.size();
    if (failures->size() >= 2 * n &&
        now - watch_outage_start_ >= std::chrono::milliseconds(opt_.timeout_ms)) {
      std::string message = n == 1 ? status.message() : "no etcd endpoint answered: ";
      if (n > 1) {
        for (size_t k = failures->size() - n; k < failures->size(); ++k) {
          message += (k + n == failures->size() ? "" : "; ") + (*failures)[k];
        }
      }
      return SameCode(status, std::move(message));
    }
    current_ = (current_ + 1) % n;
    if (failures->size() % n == 0) {
      const auto rounds = static_cast<int64_t>(failures->size() / n);
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(200 * rounds, 1000)));
    }
    if (opt_.interrupted && opt_.interrupted()) return Status::Unavailable("interrupted");
    return Status::Ok();
  }

  Result<std::optional<Kv>> Read(const std::string& full) {
    auto reply = Call("/v3/kv/range", Json{{"key", B64(full)}}, true);
    if (!reply.ok()) return reply.status();
    std::vector<Kv> kvs = ParseKvs(*reply);
    if (kvs.empty() || kvs[0].key != full) return std::optional<Kv>();
    return std::optional<Kv>(std::move(kvs[0]));
  }

  Result<Lease> Grant(int64_t ttl_ms) {
    const int64_t seconds = TtlSeconds(ttl_ms);
    auto reply = Call("/v3/lease/grant", Json{{"TTL", std::to_string(seconds)}}, true);
    if (!reply.ok()) return reply.status();
    Lease lease{I64(*reply, "ID"), I64(*reply, "TTL")};
    if (lease.id == 0) return Status::Internal("etcd granted no lease: " + Str(*reply, "error"));
    return lease;
  }

  void RevokeQuietly(int64_t lease) {
    if (lease == 0) return;
    auto ignored = Call("/v3/lease/revoke", Json{{"ID", std::to_string(lease)}}, true);
    (void)ignored;  // an orphan lease expires on its own
  }

  // The remaining TTL of a lease in ms (whole seconds); 0 when it is gone.
  Result<int64_t> LeaseTtlMs(int64_t lease, std::map<int64_t, int64_t>* cache) {
    if (cache != nullptr) {
      if (auto it = cache->find(lease); it != cache->end()) return it->second;
    }
    auto reply = Call("/v3/lease/timetolive", Json{{"ID", std::to_string(lease)}}, true);
    if (!reply.ok()) return reply.status();
    int64_t ms = std::max<int64_t>(I64(*reply, "TTL"), 0) * 1000;
    if (cache != nullptr) (*cache)[lease] = ms;
    return ms;
  }

  static KeyMeta BareMeta(const Kv& kv, std::string_view key) {
    KeyMeta m;
    m.key.assign(key);
    m.revision = static_cast<uint64_t>(kv.mod_revision);
    m.etag = std::to_string(m.revision);
    m.create_revision = static_cast<uint64_t>(kv.create_revision);
    m.size = kv.value.size();
    m.content_type = InferContentType(kv.value);
    return m;
  }

  Result<KeyMeta> MetaOf(const Kv& kv, std::string_view key, std::map<int64_t, int64_t>* cache) {
    KeyMeta m = BareMeta(kv, key);
    if (kv.lease != 0) {
      auto ttl = LeaseTtlMs(kv.lease, cache);
      if (!ttl.ok()) return ttl.status();
      m.ttl_ms = *ttl;
      m.expire_at_ms = NowMs() + *ttl;
    }
    return m;
  }

  // The txn compare for a write's condition. PreconditionFailed for an ETag
  // that cannot be an etcd revision.
  static Result<Json> ConditionCompare(const Condition& c, const std::string& full) {
    switch (c.kind) {
      case Condition::Kind::kIfMatch: {
        if (c.etag == "*") return Compare("CREATE", "GREATER", "create_revision", 0, full);
        int64_t revision = 0;
        auto [end, ec] = std::from_chars(c.etag.data(), c.etag.data() + c.etag.size(), revision);
        if (ec != std::errc() || end != c.etag.data() + c.etag.size() || revision <= 0) {
          return Status::PreconditionFailed("precondition failed: ETag " + c.etag +
                                            " is not an etcd revision");
        }
        return Compare("MOD", "EQUAL", "mod_revision", revision, full);
      }
      case Condition::Kind::kIfAbsent:
        return Compare("CREATE", "EQUAL", "create_revision", 0, full);
      case Condition::Kind::kIfExists:
        return Compare("CREATE", "GREATER", "create_revision", 0, full);
      case Condition::Kind::kNone: break;
    }
    return Status::Internal("no condition");
  }

  // Why a conditional txn failed, from its failure branch's range.
  static Status ConditionFailed(const Json& reply, const Condition& c, std::string_view key) {
    std::optional<Kv> current;
    const Json& responses = Member(reply, "responses");
    if (responses.is_array() && !responses.empty()) {
      std::vector<Kv> kvs = ParseKvs(Member(responses[0], "response_range"));
      if (!kvs.empty()) current = std::move(kvs[0]);
    }
    const std::string k(key);
    if (!current) {
      return Status::PreconditionFailed("precondition failed: key " + k + " does not exist");
    }
    if (c.kind == Condition::Kind::kIfMatch) {
      return Status::PreconditionFailed("precondition failed: key " + k + " has ETag " +
                                        std::to_string(current->mod_revision) + ", not " + c.etag);
    }
    return Status::PreconditionFailed("precondition failed: key " + k + " exists");
  }

  // One txn: `compare` holds => `put`. Returns whether it held; the txn's
  // revision goes to *revision.
  Result<bool> TryTxn(const Json& compare, const Json& put, int64_t* revision = nullptr) {
    Json txn = {{"compare", Json::array({compare})},
                {"success", Json::array({Json{{"request_put", put}}})}};
    auto reply = Call("/v3/kv/txn", txn, false);
    if (!reply.ok()) return reply.status();
    if (revision != nullptr) *revision = HeaderRevision(*reply);
    return Flag(*reply, "succeeded");
  }

  EtcdOptions opt_;
  std::vector<std::unique_ptr<CurlHttpClient>> clients_;
  size_t current_ = 0;
  std::string token_;
  int token_renewals_ = 0;
  // When the watch's failures in a row (WatchFailure) began.
  std::chrono::steady_clock::time_point watch_outage_start_;
};

}  // namespace

Status ParseEtcdUrl(std::string_view url, EtcdOptions* options) {
  std::string_view rest;
  if (url.starts_with("etcd://")) {
    options->tls = false;
    rest = url.substr(7);
  } else if (url.starts_with("etcds://")) {
    options->tls = true;
    rest = url.substr(8);
  } else {
    return Status::InvalidArgument("not an etcd URL: " + std::string(url));
  }
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) {
    return Status::InvalidArgument("an etcd URL has no path (use ?prefix=P for the key prefix): " +
                                   std::string(url));
  }
  options->endpoints.clear();
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view one = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (one.empty()) continue;
    if (one.find('@') != std::string_view::npos) {
      return Status::InvalidArgument(
          "give etcd credentials with --user NAME:PASSWORD (KV_USER), not in the URL");
    }
    std::string endpoint(one);
    bool has_port = one.starts_with('[') ? one.find("]:") != std::string_view::npos
                                         : one.find(':') != std::string_view::npos;
    if (!has_port) endpoint += ":" + std::to_string(kDefaultPort);
    size_t colon = endpoint.rfind(':');
    unsigned port = 0;
    auto [end, ec] = std::from_chars(endpoint.data() + colon + 1,
                                     endpoint.data() + endpoint.size(), port);
    if (colon == 0 || ec != std::errc() || end != endpoint.data() + endpoint.size() || port == 0 ||
        port > 65535) {
      return Status::InvalidArgument("bad etcd endpoint '" + std::string(one) + "' in " +
                                     std::string(url));
    }
    options->endpoints.push_back(std::move(endpoint));
  }
  if (options->endpoints.empty()) {
    return Status::InvalidArgument("an etcd URL needs at least one host: etcd://HOST:2379");
  }
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.starts_with("prefix=")) {
      std::string prefix(param.substr(7));
      while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
      while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
      if (prefix.empty()) return Status::InvalidArgument("empty ?prefix= in " + std::string(url));
      options->prefix = std::move(prefix);
    } else if (!param.empty()) {
      return Status::InvalidArgument("unknown parameter '" + std::string(param) + "' in " +
                                     std::string(url) + " (known: prefix)");
    }
  }
  return Status::Ok();
}

std::unique_ptr<Backend> NewEtcdBackend(EtcdOptions options) {
  return std::make_unique<EtcdBackend>(std::move(options));
}

}  // namespace kv::client
