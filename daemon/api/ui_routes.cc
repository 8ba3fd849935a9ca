#include "daemon/api/ui_routes.h"

#include <nlohmann/json.hpp>

#include "common/json_flat.h"
#include "daemon/api/errors.h"
#include "daemon/ui/assets.h"

namespace kv::daemon {
namespace {

using json = nlohmann::json;

// Only kvd itself: no inline script, no other origin, no framing.
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.headers.Set("Cache-Control", "no-store");
  r.body = body.dump();
  return r;
}

HttpResponse Routed(HttpResponse r, std::string route) {
  r.route = std::move(route);
  return r;
}

HttpResponse NotAllowed(std::string_view allow, std::string route) {
  HttpResponse r = ErrorResponse(405, "METHOD_NOT_ALLOWED",
                                 "use " + std::string(allow) + " here");
  r.headers.Set("Allow", std::string(allow));
  r.route = std::move(route);
  return r;
}

// "0.0.0.0:7379" -> "http://127.0.0.1:7379": a browser on this machine
// reaches a wildcard listener through loopback.
std::string UrlBase(const std::string& endpoint) {
  if (endpoint.empty()) return "";
  size_t colon = endpoint.rfind(':');
  std::string host = endpoint.substr(0, colon);
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "[::]") host = "[::1]";
  return "http://" + host + endpoint.substr(colon);
}

json GrantJson(const auth::UiGrant& grant) {
  return {{"token", grant.secret}, {"tenant", grant.tenant}, {"expires_ms", grant.expires_ms}};
}

}  // namespace

UiRoutes::UiRoutes(auth::UiSessions& sessions, std::string tcp_endpoint)
    : sessions_(sessions), url_base_(UrlBase(tcp_endpoint)) {}

HttpResponse UiRoutes::Handle(const HttpRequest& request, std::string_view rest,
                              const Caller& caller) {
  if (rest == "/api/session") return Routed(Session(request, caller), "/api/session");
  if (rest == "/api/login-codes") {
    if (request.method != "POST") return NotAllowed("POST", "/api/login-codes");
    return Routed(LoginCode(caller), "/api/login-codes");
  }
  if (rest.substr(0, 5) == "/api/" || rest == "/api") {
    return Routed(ErrorResponse(404, "NOT_FOUND", "no such route: " + std::string(rest)),
                  "/api/(unmatched)");
  }
  if (request.method != "GET" && request.method != "HEAD") return NotAllowed("GET, HEAD", "/{asset}");
  if (rest.empty()) {
    // "/ui" -> "/ui/", so that the page's relative URLs resolve under /ui/.
    HttpResponse r;
    r.status = 308;
    r.headers.Set("Location", "/ui/");
    r.route = "";
    return r;
  }
  std::string_view path = rest.substr(1);
  if (path.empty()) path = "index.html";
  return Routed(Asset(request, path), "/{asset}");
}

HttpResponse UiRoutes::Asset(const HttpRequest& request, std::string_view path) {
  const ui::Asset* asset = ui::FindAsset(path);
  if (asset == nullptr) {
    return ErrorResponse(404, "NOT_FOUND", "no such file in the admin panel: " + std::string(path));
  }
  HttpResponse r;
  r.headers.Set("ETag", std::string(asset->etag));
  // Revalidated every time (cheap: 304), so a new kvd never serves stale files.
  r.headers.Set("Cache-Control", "no-cache");
  r.headers.Set("X-Content-Type-Options", "nosniff");
  r.headers.Set("Referrer-Policy", "no-referrer");
  r.headers.Set("Content-Security-Policy", kContentSecurityPolicy);
  r.headers.Set("Content-Type", std::string(asset->content_type));
  if (auto inm = request.headers.Get("If-None-Match"); inm && *inm == asset->etag) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.body = std::string(asset->body);
  return r;
}

HttpResponse UiRoutes::Session(const HttpRequest& request, const Caller& caller) {
  if (request.method == "DELETE") {
    if (caller.session.empty() || !sessions_.Revoke(caller.session)) {
      return ErrorResponse(401, "UNAUTHORIZED", "not signed in with a session token");
    }
    HttpResponse r;
    r.status = 204;
    return r;
  }
  if (request.method != "POST") return NotAllowed("POST, DELETE", "/api/session");

  Result<auth::UiGrant> grant = Status::NotFound("");
  if (!request.body.empty()) {
    // A JSON body cannot come from another site's form without a CORS
    // preflight, which kvd never grants.
    std::string_view type = request.headers.Get("Content-Type").value_or("");
    if (type.substr(0, type.find(';')) != "application/json") {
      return ErrorResponse(415, "UNSUPPORTED_MEDIA_TYPE", "send {\"code\":...} as application/json");
    }
    json doc = kv::json::ParseTree<json>(request.body);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("code") ||
        !doc["code"].is_string()) {
      return ErrorResponse(400, "BAD_REQUEST", "expected {\"code\":\"kvl_...\"}");
    }
    grant = sessions_.RedeemLoginCode(doc["code"].get<std::string>());
    if (!grant.ok() && grant.status().IsNotFound()) {
      return ErrorResponse(401, "UNAUTHORIZED",
                           "this login link was used already or has expired: run kv ui again");
    }
  } else {
    if (caller.tenant.empty()) {
      return ErrorResponse(401, "UNAUTHORIZED", "send a token (Authorization: Bearer kv_...)");
    }
    grant = sessions_.CreateSession(caller.tenant);
  }
  if (!grant.ok()) return ErrorFromStatus(grant.status());
  return Json(201, GrantJson(*grant));
}

HttpResponse UiRoutes::LoginCode(const Caller& caller) {
  if (caller.tenant.empty()) {
    return ErrorResponse(401, "UNAUTHORIZED", "send a token (Authorization: Bearer kv_...)");
  }
  Result<auth::UiGrant> code = sessions_.CreateLoginCode(caller.tenant);
  if (!code.ok()) return ErrorFromStatus(code.status());
  json body = {{"code", code->secret}, {"tenant", code->tenant}, {"expires_ms", code->expires_ms}};
  body["url"] = url_base_.empty() ? json(nullptr) : json(url_base_ + "/ui/#login=" + code->secret);
  return Json(201, body);
}

}  // namespace kv::daemon
