// UiRoutes: the admin panel, mounted at /ui. The page itself (plain ES
// modules and CSS from daemon/ui/assets/, compiled into kvd) works on the
// native API (/v1) with a Bearer token, like any client; this table serves
// the files and the sign-in:
//
//   GET /ui, /ui/            index.html
//   GET /ui/{path}           an asset; ETag + If-None-Match (304);
//                            Cache-Control: no-cache; 404 when unknown.
//                            Every page answer carries a Content-Security-Policy
//                            that allows only kvd itself (no inline script, no
//                            other origin, no framing).
//   POST /ui/api/session     sign in; 201 {"token":"kvs_...","tenant":"acme",
//                            "expires_ms":N}. Either body {"code":"kvl_..."}
//                            (a login code from POST /ui/api/login-codes), or
//                            an empty body with `Authorization: Bearer kv_...`
//                            (a tenant token). Content-Type must be
//                            application/json when there is a body (415).
//                            401 UNAUTHORIZED: unknown, used or expired code,
//                            or no valid token.
//   DELETE /ui/api/session   sign out: the Bearer kvs_ token stops working. 204.
//   POST /ui/api/login-codes a one-time login code for the caller's tenant
//                            (Unix socket: tenant "local"; TCP: the token's).
//                            201 {"code":"kvl_...","expires_ms":N,
//                            "url":"http://127.0.0.1:7379/ui/#login=kvl_..."|null}
//                            url is null when kvd has no TCP listener (the
//                            panel is served on TCP only, for browsers).
//                            401 without a valid token over TCP.
//
// The page and its files are served without a token: they hold no data. The
// Router still passes the caller it could establish (or an empty tenant).
//
// Ownership: keeps a reference to the UiSessions, which must outlive it.
// Thread-safety: Handle() may be called concurrently.
#pragma once

#include <string>
#include <string_view>

#include "daemon/api/router.h"
#include "daemon/auth/ui_sessions.h"

namespace kv::daemon {

class UiRoutes : public RouteTable {
 public:
  // `tcp_endpoint` is kvd's TCP listener ("127.0.0.1:7379"), empty when none.
  UiRoutes(auth::UiSessions& sessions, std::string tcp_endpoint);

  // `caller.tenant` is empty when the request carried no valid token.
  HttpResponse Handle(const HttpRequest& request, std::string_view rest,
                      const Caller& caller) override;

 private:
  HttpResponse Asset(const HttpRequest& request, std::string_view path);
  HttpResponse Session(const HttpRequest& request, const Caller& caller);
  HttpResponse LoginCode(const Caller& caller);

  auth::UiSessions& sessions_;
  const std::string url_base_;  // "http://127.0.0.1:7379", empty without TCP
};

}  // namespace kv::daemon
