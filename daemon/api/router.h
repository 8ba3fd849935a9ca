// Router: kvd's front door. It finds the route table a request belongs to by
// path prefix, establishes who is calling (the Caller), and hands the request
// over. Route tables never see an unauthenticated TCP request.
//
//   prefix          table                                              issue
//   /v1             NativeApi: keyvalue.dev API + kv's extensions      3 (native_api.h)
//   /api/v1         the same table (keyvalue.dev's real path)          3
//   /kv             SgkvApi: simple-golang-kv's keys                   7 (sgkv_api.h)
//   /webhooks       WebhookApi: simple-golang-kv's webhooks            7 (webhook_api.h)
//   /v1/webhooks    WebhookApi, kvd's dialect with delivery state      7 (webhook_api.h)
//   /invoke         InvokeApi: Invoke's KV, /invoke/{project}/get/...  7 (invoke_api.h)
//   /api/projects   InvokeAdminApi: Invoke's kv-export, kv-import      7 (invoke_admin_api.h)
//   /ui             the admin panel (ui_routes.h)                      8
//
// /ui is open: its files are served without a token, and its table gets the
// caller when one could be established, else a Caller with an empty tenant.
//
// A prefix matches whole path segments: "/v1" matches "/v1" and "/v1/kv/a",
// never "/v1x". A path no table claims gets 404 NOT_FOUND (JSON). /healthz and
// /metrics are answered by the server before the router.
//
// Who is calling:
// - Unix socket: trusted (its file mode is the access control). Tenant
//   "local", and admin (token routes, every tenant's namespaces). An admin
//   may act as another tenant with the header `KV-Tenant: NAME`.
//   Authorization headers are ignored there.
// - TCP: `Authorization: Bearer kv_...` is required; its token's tenant is the
//   caller. An admin panel session token (`Bearer kvs_...`, auth/ui_sessions.h)
//   counts as its tenant's token until it expires or signs out. Missing, malformed or unknown: 401 UNAUTHORIZED with
//   `WWW-Authenticate: Bearer realm="kvd"`. With ApiOptions::no_auth, a valid
//   token still selects its tenant and anything else is tenant "local".
//   Never admin.
//
// Every response carries HttpResponse::route, the template that answered
// ("/v1/kv/{key}", "/api/v1/keys", "(unmatched)", "(unauthorized)"), with
// bounded cardinality for metrics. Responses to HEAD never have a body.
//
// Ownership: the Router keeps references to the Store and the TokenStore,
// which must outlive it and every stream it returned (a watch stream reads the
// store until its client goes away).
// Thread-safety: Handle() may be called concurrently from many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/key.h"
#include "daemon/api/sgkv_shared.h"
#include "daemon/auth/token_store.h"
#include "daemon/auth/ui_sessions.h"
#include "daemon/http/message.h"
#include "daemon/store/store.h"

namespace kv::daemon {

struct ApiOptions {
  // Accept TCP requests without a token (tenant "local"). Default: off.
  bool no_auth = false;
  // Default: 1024 bytes; longer keys get 400 KEY_TOO_LONG.
  size_t max_key_bytes = kDefaultMaxKeyBytes;
  // Default: 10 MiB; larger values get 413 OBJECT_TOO_LARGE.
  size_t max_value_bytes = kDefaultMaxValueBytes;
  // The simple-golang-kv APIs (/kv, /webhooks): its environment's settings.
  SgkvOptions sgkv;
  // kvd's TCP listener, "127.0.0.1:7379" (what /ui's login URLs point at);
  // empty when kvd listens on its Unix socket only. Default: empty.
  std::string tcp_endpoint;
};

// Who is calling, as the Router established it.
struct Caller {
  std::string tenant;  // owns the namespaces the request may address
  bool admin = false;  // the Unix socket: token administration, every tenant
  std::string session;  // the admin panel session token presented, if any
};

// One API's routes. Implementations answer every request under their prefix,
// including 404/405 for paths and methods they do not know, with JSON errors.
class RouteTable {
 public:
  virtual ~RouteTable() = default;
  // `rest` is the raw (still percent-encoded) path after the mount prefix:
  // "" or "/...". Sets HttpResponse::route relative to the prefix ("/kv/{key}").
  virtual HttpResponse Handle(const HttpRequest& request, std::string_view rest,
                              const Caller& caller) = 0;
};

class NativeApi;
class SgkvApi;
class InvokeApi;
class InvokeAdminApi;
class UiRoutes;
class WebhookApi;

class Router : public Handler {
 public:
  Router(store::Store& store, auth::TokenStore& tokens, ApiOptions options);
  ~Router() override;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  HttpResponse Handle(const HttpRequest& request) override;
  // PUT and PATCH under the native API: ApiOptions::max_value_bytes, so a
  // larger value is refused (413) before it is read; other native requests:
  // kMaxSmallBodyBytes. Other paths: the server's default.
  std::optional<uint64_t> BodyLimit(const HttpRequest& head) override;
  // The store's write-ahead log, written once for the responses an I/O
  // thread sends together (StoreOptions::caller_flushes_wal).
  bool FlushNeeded() override;
  Status Flush() override;

  // The body limit of native requests that do not carry a value.
  static constexpr uint64_t kMaxSmallBodyBytes = 1 << 20;

 private:
  struct Mount {
    std::string prefix;  // "/v1": no trailing slash
    RouteTable* table;
    bool open = false;   // served without a token (the table checks what it must)
  };

  // The mount whose prefix the request's path starts with, or null.
  const Mount* FindMount(const HttpRequest& request, std::string_view* path) const;

  // The caller of `request`, or the 401 response to send instead.
  bool Authenticate(const HttpRequest& request, Caller* caller, HttpResponse* refusal) const;

  store::Store& store_;
  auth::TokenStore& tokens_;
  const ApiOptions options_;
  std::unique_ptr<auth::UiSessions> sessions_;
  std::unique_ptr<NativeApi> native_;
  std::unique_ptr<SgkvApi> sgkv_;
  std::unique_ptr<InvokeApi> invoke_;
  std::unique_ptr<InvokeAdminApi> invoke_admin_;
  std::unique_ptr<UiRoutes> ui_;
  std::unique_ptr<WebhookApi> webhooks_native_;
  std::unique_ptr<WebhookApi> webhooks_sgkv_;
  std::vector<Mount> mounts_;  // longest prefixes first
};

}  // namespace kv::daemon
