// Backend: what every kv command talks to. One implementation per protocol
// (the local or a remote kvd over its native API, keyvalue.dev, etcd,
// Invoke); only backend_factory.cc maps a URL to one. No HTTP, curl or RocksDB
// type appears here.
//
// A backend is bound to a scope (namespace + app name) that SetScope changes
// (the REPL's `use`). Every method returns a Status whose code says what
// happened, which cmd/ maps to DESIGN.md's exit codes:
//   NotFound -> 1, InvalidArgument -> 2, PreconditionFailed -> 3,
//   Unavailable/Timeout -> 4, everything else (TooLarge, QuotaExceeded,
//   Unauthorized, Unsupported, NoSpace, ...) -> 5.
// An operation a backend cannot do returns Unsupported with the message
// "<backend> does not support <operation>", never a silent substitute.
//
// Thread-safety: a Backend is used from one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kv::client {

struct Scope {
  std::string ns = "default";
  std::string app = "default";
};

// A precondition on a write. ETags are opaque strings (a kvd revision, an
// etcd mod_revision) without quotes.
struct Condition {
  enum class Kind { kNone, kIfMatch, kIfAbsent, kIfExists };
  Kind kind = Kind::kNone;
  std::string etag;
};

struct KeyMeta {
  std::string key;
  std::string etag;
  uint64_t revision = 0;
  uint64_t create_revision = 0;
  uint64_t size = 0;
  std::string content_type;
  int64_t created_ms = 0;  // Unix ms; 0 when the backend does not know
  int64_t updated_ms = 0;
  int64_t expire_at_ms = 0;  // 0: no TTL
  int64_t ttl_ms = -1;       // remaining; -1: no TTL
};

struct Value {
  std::string bytes;
  KeyMeta meta;
};

struct SetOptions {
  std::string content_type;  // empty: the backend's default
  int64_t ttl_ms = 0;        // 0: none (removes an existing TTL unless keep_ttl)
  bool keep_ttl = false;
  Condition condition;
};

// One write of a batch (Backend::SetMany).
struct BatchItem {
  std::string key;
  std::string value;
  SetOptions options;
};

struct ListRequest {
  std::string prefix;
  std::string cursor;
  size_t limit = 0;  // 0: the backend's page size
  bool values = false;
  std::vector<std::string> where;  // "PATH=VALUE", filtered by the backend
};

struct ListedKey {
  KeyMeta meta;
  std::optional<std::string> value;  // raw bytes, when asked for
};

struct ListPage {
  std::vector<ListedKey> keys;
  std::string next_cursor;  // empty: no more
};

struct Event {
  uint64_t revision = 0;
  std::string type;  // create, update, delete, expire
  std::string key;
  std::string ns;
  std::string app;
  int64_t time_ms = 0;
  uint64_t size = 0;
  std::string content_type;
  int64_t expire_at_ms = 0;
  std::optional<std::string> value;  // raw bytes, when the event carries them
};

struct WatchRequest {
  std::string prefix;
  std::optional<uint64_t> since;  // replay changes after this revision first
  bool follow = true;             // false: end after the replay
};

struct NamespaceStats {
  std::string tenant;
  std::string ns;
  std::string app;
  uint64_t keys = 0;
  uint64_t bytes = 0;
  uint64_t quota_bytes = 0;  // 0: unknown / none
};

struct TokenInfo {
  std::string id;
  std::string tenant;
  int64_t created_ms = 0;
  std::string token;  // only when just created
};

// A one-time sign-in to kvd's admin panel (kv ui).
struct UiLogin {
  std::string code;    // "kvl_...": works once
  std::string tenant;
  int64_t expires_ms = 0;
  std::string url;     // kvd's own http://HOST:PORT/ui/#login=...; empty: no TCP listener
};

// A webhook's fields as `kv webhook add|update` sets them (simple-golang-kv's
// webhook API); nullopt leaves a field as it is (update) or at its default.
struct WebhookSpec {
  std::optional<std::string> key;  // "foo" exact, "foo*" prefix
  std::optional<std::string> event;  // create, update, delete
  std::optional<std::string> endpoint;
  std::optional<std::string> method;
  std::optional<std::string> headers_json;  // a JSON object of strings
  std::optional<std::string> payload_json;  // a JSON object
  std::optional<bool> add_event_data;
};

// A webhook and its delivery state, as a kvd reports it.
struct WebhookInfo {
  std::string id;
  std::string key;
  std::string event;
  std::string endpoint;
  std::string method;
  std::string headers_json = "{}";
  std::string payload_json = "{}";
  bool add_event_data = false;
  int64_t created_at = 0;  // Unix seconds
  // Delivery: every change up to `cursor` has been dealt with; `lag` is how
  // many revisions it is behind; attempts at the pending event.
  uint64_t cursor = 0;
  uint64_t lag = 0;
  uint64_t delivered = 0;
  uint64_t failed = 0;
  uint64_t attempts = 0;
  int64_t last_status = 0;  // 0: none, or no answer
  std::string last_error;
  int64_t last_attempt_ms = 0;
  int64_t last_success_ms = 0;
};

// What a backend can do beyond get/set/del/has/meta.
struct Capabilities {
  bool ttl = false;
  bool list = false;
  bool where = false;  // server-side filtering of list
  bool incr = false;
  bool patch = false;
  bool clear = false;
  bool watch = false;
  bool stats = false;
  bool tokens = false;  // token administration (a local kvd only)
  bool ui = false;      // the admin panel (a kvd)
  bool webhooks = false;  // webhook registrations (a kvd)
  bool batch_set = false;  // SetMany writes a whole batch in one request (a kvd)
};

// The Unsupported status every backend returns for what it cannot do.
inline Status NotSupported(std::string_view backend, std::string_view operation) {
  return Status::Unsupported(std::string(backend) + " does not support " +
                             std::string(operation));
}

class Backend {
 public:
  virtual ~Backend() = default;

  // "local", "kvd", "keyvalue.dev", "etcd", "invoke": used in messages and the
  // REPL prompt.
  virtual std::string Name() const = 0;
  virtual Capabilities Caps() const = 0;
  virtual void SetScope(const Scope& scope) = 0;
  virtual const Scope& scope() const = 0;

  virtual Result<Value> Get(std::string_view key) = 0;
  virtual Result<KeyMeta> Meta(std::string_view key) = 0;
  virtual Result<KeyMeta> Set(std::string_view key, std::string_view value,
                              const SetOptions& options) = 0;
  // Several sets at once (bulk import): one outcome per item, in order. A
  // backend that can writes them in one request; the default sends them one
  // by one. A Status that is not ok() means no outcome is known (the request
  // failed as a whole).
  virtual Result<std::vector<Status>> SetMany(const std::vector<BatchItem>& items) {
    std::vector<Status> out;
    out.reserve(items.size());
    for (const BatchItem& item : items) out.push_back(Set(item.key, item.value, item.options).status());
    return out;
  }
  // Returns the revision of the delete when the backend tells it (else 0).
  virtual Result<uint64_t> Delete(std::string_view key, const Condition& condition) = 0;

  virtual Result<ListPage> List(const ListRequest& request) = 0;
  // Returns the new value as decimal text.
  virtual Result<std::string> Incr(std::string_view key, int64_t by) = 0;
  // Returns the merged document.
  virtual Result<std::string> Patch(std::string_view key, std::string_view patch) = 0;
  virtual Result<KeyMeta> Expire(std::string_view key, int64_t ttl_ms) = 0;
  virtual Result<KeyMeta> Persist(std::string_view key) = 0;
  // Deletes every key of the scope that starts with `prefix` (every key of
  // the scope when it is empty); returns how many (0 when the backend does
  // not say).
  virtual Result<uint64_t> Clear(std::string_view prefix) = 0;
  // The scope's namespace first when `all` is false; every namespace the
  // caller can see when true.
  virtual Result<std::vector<NamespaceStats>> Stats(bool all) = 0;
  // Calls on_event for each event until it returns false, the stream ends
  // (follow=false) or fails. OutOfRange: `since` is older than the backend
  // keeps.
  virtual Status Watch(const WatchRequest& request,
                       const std::function<bool(const Event&)>& on_event) = 0;

  virtual Result<TokenInfo> CreateToken(std::string_view tenant) = 0;
  virtual Result<std::vector<TokenInfo>> ListTokens() = 0;
  virtual Status RevokeToken(std::string_view id) = 0;

  // Has kvd write a consistent copy of everything it holds (every tenant's
  // namespaces, the event log, webhooks, tokens) into `dir`, an absolute path
  // on kvd's machine that must not exist yet: a data directory another kvd
  // can be started on. Only a kvd, over its Unix socket.
  virtual Status Backup(std::string_view dir) {
    (void)dir;
    return NotSupported(Name(), "backups");
  }

  // A login code for kvd's admin panel (/ui), for the caller's tenant. Only a
  // kvd has the panel; the others return Unsupported.
  virtual Result<UiLogin> CreateUiLogin() { return NotSupported(Name(), "the admin panel (kv ui)"); }

  // Webhooks of the scope. Backends without them answer Unsupported.
  // InvalidArgument: a field kvd refuses (its message says which).
  virtual Result<WebhookInfo> AddWebhook(const WebhookSpec& spec) {
    (void)spec;
    return NotSupported(Name(), "webhooks");
  }
  // Those whose key pattern starts with `prefix`.
  virtual Result<std::vector<WebhookInfo>> ListWebhooks(std::string_view prefix) {
    (void)prefix;
    return NotSupported(Name(), "webhooks");
  }
  // NotFound when there is no such webhook (also for the three below).
  virtual Result<WebhookInfo> GetWebhook(std::string_view id) {
    (void)id;
    return NotSupported(Name(), "webhooks");
  }
  virtual Result<WebhookInfo> UpdateWebhook(std::string_view id, const WebhookSpec& spec) {
    (void)id;
    (void)spec;
    return NotSupported(Name(), "webhooks");
  }
  virtual Status DeleteWebhook(std::string_view id) {
    (void)id;
    return NotSupported(Name(), "webhooks");
  }
};

}  // namespace kv::client
