// The admin panel's routes (/ui): its files, served without a token, and its
// sign-in: one-time login codes and session tokens that act as their tenant's
// token on the native API.
#include "daemon/api/ui_routes.h"

#include "tests/daemon/api/api_fixture.h"

namespace kv::daemon::testing {
namespace {

ApiOptions WithTcp() {
  ApiOptions o;
  o.tcp_endpoint = "127.0.0.1:7379";
  return o;
}

// POST /ui/api/session with a login code, over TCP without a token.
HttpResponse Redeem(ApiFixture& f, const std::string& code) {
  return f.Tcp("POST", "/ui/api/session", "", Json{{"code", code}}.dump(),
               {{"Content-Type", "application/json"}});
}

TEST_CASE_METHOD(ApiFixture, "/ui serves the embedded page without a token", "[unit]") {
  HttpResponse bare = Tcp("GET", "/ui", "");
  CHECK(bare.status == 308);
  CHECK(Header(bare, "Location") == "/ui/");

  HttpResponse page = Tcp("GET", "/ui/", "");
  REQUIRE(page.status == 200);
  CHECK(Header(page, "Content-Type") == "text/html; charset=utf-8");
  CHECK(page.body.find("<script type=\"module\" src=\"js/app.js\"></script>") != std::string::npos);
  // Nothing but kvd itself may run or frame the page.
  CHECK(Header(page, "Content-Security-Policy").find("default-src 'self'") != std::string::npos);
  CHECK(Header(page, "Content-Security-Policy").find("frame-ancestors 'none'") !=
        std::string::npos);
  std::string etag = Header(page, "ETag");
  REQUIRE(etag.size() > 2);
  CHECK(etag.front() == '"');

  HttpResponse again = Tcp("GET", "/ui/", "", "", {{"If-None-Match", etag}});
  CHECK(again.status == 304);
  CHECK(again.body.empty());

  HttpResponse js = Tcp("GET", "/ui/js/app.js", "");
  REQUIRE(js.status == 200);
  CHECK(Header(js, "Content-Type") == "text/javascript; charset=utf-8");
  CHECK(Header(js, "ETag") != etag);

  HttpResponse css = Call("GET", "/ui/style.css");
  CHECK(css.status == 200);
  CHECK(Header(css, "Content-Type") == "text/css; charset=utf-8");

  CHECK(ErrorCode(Tcp("GET", "/ui/nothing.js", "")) == "NOT_FOUND");
  CHECK(Tcp("GET", "/ui/nothing.js", "").status == 404);
  CHECK(Tcp("POST", "/ui/", "").status == 405);
  CHECK(Tcp("GET", "/ui/api/session", "").status == 405);
  // The data itself still needs a token.
  CHECK(Tcp("GET", "/v1/keys", "").status == 401);
}

TEST_CASE("a login code works once and signs in as its tenant", "[unit]") {
  ApiFixture f(WithTcp());
  f.Put("mine", "local value");

  HttpResponse made = f.Call("POST", "/ui/api/login-codes");
  REQUIRE(made.status == 201);
  Json code = BodyJson(made);
  std::string secret = code["code"];
  CHECK(secret.rfind("kvl_", 0) == 0);
  CHECK(code["tenant"] == "local");
  CHECK(code["url"] == "http://127.0.0.1:7379/ui/#login=" + secret);

  HttpResponse signed_in = Redeem(f, secret);
  REQUIRE(signed_in.status == 201);
  Json session = BodyJson(signed_in);
  std::string token = session["token"];
  CHECK(token.rfind("kvs_", 0) == 0);
  CHECK(session["tenant"] == "local");

  // The session token is the tenant's token on the native API.
  HttpResponse read = f.Tcp("GET", "/v1/kv/mine", token);
  CHECK(read.status == 200);
  CHECK(read.body == "local value");

  // Used once: never again.
  HttpResponse replay = Redeem(f, secret);
  CHECK(replay.status == 401);
  CHECK(ErrorCode(replay) == "UNAUTHORIZED");
  CHECK(Redeem(f, "kvl_made_up").status == 401);

  // Sign out: the token stops working at once.
  CHECK(f.Tcp("DELETE", "/ui/api/session", token).status == 204);
  CHECK(f.Tcp("GET", "/v1/kv/mine", token).status == 401);
  CHECK(f.Tcp("DELETE", "/ui/api/session", token).status == 401);
}

TEST_CASE("login codes and sessions expire", "[unit]") {
  ApiFixture f(WithTcp());
  std::string late = BodyJson(f.Call("POST", "/ui/api/login-codes"))["code"];
  std::string soon = BodyJson(f.Call("POST", "/ui/api/login-codes"))["code"];
  REQUIRE(Redeem(f, soon).status == 201);
  std::string token = BodyJson(Redeem(f, BodyJson(f.Call("POST", "/ui/api/login-codes"))["code"]))["token"];
  f.clock->Advance(auth::kLoginCodeTtlMs + 1);
  CHECK(Redeem(f, late).status == 401);
  CHECK(f.Tcp("GET", "/v1/stats", token).status == 200);
  f.clock->Advance(auth::kSessionTtlMs);
  CHECK(f.Tcp("GET", "/v1/stats", token).status == 401);
}

TEST_CASE("a tenant token signs in as that tenant only", "[unit]") {
  ApiFixture f(WithTcp());
  f.Put("local-only", "x");
  std::string acme = f.NewToken("acme");
  REQUIRE(f.Tcp("PUT", "/v1/kv/acme-key", acme, "a").status == 201);

  HttpResponse signed_in = f.Tcp("POST", "/ui/api/session", acme);
  REQUIRE(signed_in.status == 201);
  Json session = BodyJson(signed_in);
  CHECK(session["tenant"] == "acme");
  std::string token = session["token"];
  CHECK(token != acme);
  CHECK(f.Tcp("GET", "/v1/kv/acme-key", token).status == 200);
  CHECK(f.Tcp("GET", "/v1/kv/local-only", token).status == 404);

  // Without a valid token: no session, no login code.
  CHECK(f.Tcp("POST", "/ui/api/session", "").status == 401);
  CHECK(f.Tcp("POST", "/ui/api/session", "kv_wrong").status == 401);
  CHECK(f.Tcp("POST", "/ui/api/login-codes", "").status == 401);
  // A token holder may make a login code for its own tenant.
  HttpResponse code = f.Tcp("POST", "/ui/api/login-codes", acme);
  REQUIRE(code.status == 201);
  CHECK(BodyJson(code)["tenant"] == "acme");
}

TEST_CASE_METHOD(ApiFixture, "sign-in refuses what a cross-site form could send", "[unit]") {
  std::string code = BodyJson(Call("POST", "/ui/api/login-codes"))["code"];
  // A form posts text/plain or urlencoded: refused, and the code is not spent.
  HttpResponse form = Tcp("POST", "/ui/api/session", "", Json{{"code", code}}.dump(),
                          {{"Content-Type", "text/plain"}});
  CHECK(form.status == 415);
  CHECK(Tcp("POST", "/ui/api/session", "", "{\"code\":1}", {{"Content-Type", "application/json"}})
            .status == 400);
  CHECK(Redeem(*this, code).status == 201);
  // Without a TCP listener there is no URL to give.
  CHECK(BodyJson(Call("POST", "/ui/api/login-codes"))["url"].is_null());
}

}  // namespace
}  // namespace kv::daemon::testing
