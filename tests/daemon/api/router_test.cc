// The router: dispatch by prefix, the /api/v1 alias, auth over TCP, tenants,
// token administration, route templates for metrics.
#include "daemon/api/router.h"

#include "daemon/api/errors.h"
#include "daemon/api/namespace.h"
#include "tests/daemon/api/api_fixture.h"

namespace kv::daemon {
namespace {

using testing::ApiFixture;
using testing::BodyJson;
using testing::ErrorCode;
using testing::Header;

TEST_CASE_METHOD(ApiFixture, "unknown paths are a JSON 404", "[rocksdb]") {
  for (const char* target : {"/", "/v2/kv/a", "/v1x/kv/a", "/api", "/v1", "/v1/nope"}) {
    INFO(target);
    HttpResponse r = Call("GET", target);
    CHECK(r.status == 404);
    CHECK(ErrorCode(r) == "NOT_FOUND");
  }
  CHECK(Call("GET", "/nope").route == "(unmatched)");
}

TEST_CASE_METHOD(ApiFixture, "/api/v1 is the same API as /v1", "[rocksdb]") {
  HttpResponse put = Call("PUT", "/api/v1/kv/k", "v");
  CHECK(put.status == 201);
  CHECK(put.route == "/api/v1/kv/{key}");
  HttpResponse get = Call("GET", "/v1/kv/k");
  CHECK(get.status == 200);
  CHECK(get.body == "v");
  CHECK(get.route == "/v1/kv/{key}");
  CHECK(Call("GET", "/api/v1/kv/k").body == "v");
}

TEST_CASE_METHOD(ApiFixture, "route templates are bounded for metrics", "[rocksdb]") {
  Put("k", "1");
  CHECK(Call("GET", "/v1/kv/k/meta").route == "/v1/kv/{key}/meta");
  CHECK(Call("POST", "/v1/kv/k/incr").route == "/v1/kv/{key}/incr");
  CHECK(Call("GET", "/v1/keys").route == "/v1/keys");
  CHECK(Call("GET", "/v1/stats").route == "/v1/stats");
  CHECK(Call("GET", "/v1/admin/tokens").route == "/v1/admin/tokens");
  CHECK(Call("DELETE", "/v1/admin/tokens/abc").route == "/v1/admin/tokens/{id}");
  CHECK(Tcp("GET", "/v1/kv/k", "").route == "(unauthorized)");
}

TEST_CASE_METHOD(ApiFixture, "TCP without a token is 401 with WWW-Authenticate: Bearer",
                 "[rocksdb]") {
  Put("k", "v");
  HttpResponse r = Tcp("GET", "/v1/kv/k", "");
  CHECK(r.status == 401);
  CHECK(ErrorCode(r) == "UNAUTHORIZED");
  CHECK(BodyJson(r)["error"] == "Missing or invalid Authorization header");
  CHECK(Header(r, "WWW-Authenticate").rfind("Bearer", 0) == 0);

  for (const char* bad : {"Basic abc", "Bearer", "Bearer  x", "kv_abc"}) {
    INFO(bad);
    HttpResponse b = router->Handle(
        Request("GET", "/v1/kv/k", "", {{"Authorization", bad}}, Transport::kTcp));
    CHECK(b.status == 401);
    CHECK(Header(b, "WWW-Authenticate").rfind("Bearer", 0) == 0);
  }

  HttpResponse wrong = Tcp("GET", "/v1/kv/k", "kv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  CHECK(wrong.status == 401);
  CHECK(BodyJson(wrong)["error"] == "Invalid API token");
  CHECK(Header(wrong, "WWW-Authenticate").find("invalid_token") != std::string::npos);

  // Every route is behind the token, writes included, and nothing changes.
  CHECK(Tcp("PUT", "/v1/kv/k", "", "changed").status == 401);
  CHECK(Tcp("DELETE", "/v1/keys?confirm=1", "").status == 401);
  CHECK(Tcp("HEAD", "/v1/kv/k", "").body.empty());
  CHECK(Call("GET", "/v1/kv/k").body == "v");
}

TEST_CASE_METHOD(ApiFixture, "the scheme is case-insensitive, as keyvalue.dev parses it",
                 "[rocksdb]") {
  std::string token = NewToken("acme");
  HttpResponse r = router->Handle(Request("PUT", "/v1/kv/k", "v",
                                          {{"Authorization", "bearer " + token}},
                                          Transport::kTcp));
  CHECK(r.status == 201);
}

TEST_CASE_METHOD(ApiFixture, "tenants are isolated: another tenant's key is simply not there",
                 "[rocksdb]") {
  std::string acme = NewToken("acme");
  std::string beta = NewToken("beta");
  CHECK(Tcp("PUT", "/v1/kv/secret", acme, "acme-data").status == 201);

  HttpResponse other = Tcp("GET", "/v1/kv/secret", beta);
  CHECK(other.status == 404);
  CHECK(ErrorCode(other) == "NOT_FOUND");
  CHECK(Tcp("HEAD", "/v1/kv/secret", beta).status == 404);
  CHECK(Tcp("DELETE", "/v1/kv/secret", beta).status == 404);
  CHECK(Tcp("GET", "/v1/kv/secret/meta", beta).status == 404);
  CHECK(BodyJson(Tcp("GET", "/v1/keys", beta))["keys"].empty());
  // The same key name for beta is a different key.
  CHECK(Tcp("PUT", "/v1/kv/secret", beta, "beta-data").status == 201);
  CHECK(Tcp("GET", "/v1/kv/secret", acme).body == "acme-data");
  CHECK(Tcp("GET", "/v1/kv/secret", beta).body == "beta-data");
  // Clearing beta's namespace leaves acme's alone.
  CHECK(BodyJson(Tcp("DELETE", "/v1/keys?confirm=1", beta))["deleted"] == 1);
  CHECK(Tcp("GET", "/v1/kv/secret", acme).status == 200);
  // Namespaces list only the caller's.
  auto ns = BodyJson(Tcp("GET", "/v1/namespaces", acme))["namespaces"];
  for (const auto& n : ns) CHECK(n["tenant"] == "acme");
  CHECK(Tcp("GET", "/v1/namespaces?all=1", acme).status == 403);
  // The Unix socket is tenant "local": it does not see acme's keys either...
  CHECK(Call("GET", "/v1/kv/secret").status == 404);
  // ...unless the admin asks as acme.
  CHECK(Call("GET", "/v1/kv/secret", "", {{"KV-Tenant", "acme"}}).body == "acme-data");
  CHECK(Call("GET", "/v1/kv/secret", "", {{"KV-Tenant", "a/b"}}).status == 400);
}

TEST_CASE_METHOD(ApiFixture, "a tenant is tenant 'local' when its token says so", "[rocksdb]") {
  Put("k", "from-socket");
  std::string local = NewToken("local");
  CHECK(Tcp("GET", "/v1/kv/k", local).body == "from-socket");
}

TEST_CASE("no_auth (--no-auth): TCP without a token is the local tenant", "[rocksdb]") {
  ApiOptions options;
  options.no_auth = true;
  ApiFixture f(options);
  f.Put("k", "v");
  CHECK(f.Tcp("GET", "/v1/kv/k", "").body == "v");
  // A valid token still selects its tenant.
  std::string acme = f.NewToken("acme");
  CHECK(f.Tcp("GET", "/v1/kv/k", acme).status == 404);
  // Admin routes stay on the socket.
  CHECK(f.Tcp("GET", "/v1/admin/tokens", "").status == 403);
}

TEST_CASE("no_auth serves local programs, not web pages", "[rocksdb]") {
  ApiOptions options;
  options.no_auth = true;
  ApiFixture f(options);
  auto put = [&](testing::HeaderList headers) {
    return f.Tcp("PUT", "/v1/kv/k", "", "from-tcp", std::move(headers)).status;
  };
  // curl and other programs: no Origin, a loopback Host (or none).
  CHECK(put({{"Host", "127.0.0.1:7379"}}) == 201);
  CHECK(put({{"Host", "localhost:7379"}}) == 200);
  CHECK(put({{"Host", "[::1]:7379"}}) == 200);
  CHECK(put({}) == 200);
  // A page served by this kvd (its own origin).
  CHECK(put({{"Host", "127.0.0.1:7379"}, {"Origin", "http://127.0.0.1:7379"}}) == 200);
  // Another site's page, a sandboxed one, and a DNS name rebound to 127.0.0.1.
  HttpResponse cross = f.Tcp("PUT", "/v1/kv/k", "", "evil",
                             {{"Host", "127.0.0.1:7379"}, {"Origin", "https://evil.example"}});
  CHECK(cross.status == 403);
  CHECK(cross.body.find("another origin") != std::string::npos);
  CHECK(put({{"Host", "127.0.0.1:7379"}, {"Origin", "null"}}) == 403);
  CHECK(put({{"Host", "evil.example:7379"}}) == 403);
  CHECK(put({{"Host", "127.0.0.1.evil.example:7379"}}) == 403);
  CHECK(put({{"Host", "127.evil.example"}}) == 403);
  // Nothing they sent was written.
  CHECK(f.Call("GET", "/v1/kv/k").body == "from-tcp");
  // A token still works from anywhere.
  std::string local = f.NewToken("local");
  CHECK(f.Tcp("PUT", "/v1/kv/k", local, "with-token", {{"Origin", "https://evil.example"}}).status ==
        200);
}

TEST_CASE_METHOD(ApiFixture, "token administration over the Unix socket", "[rocksdb]") {
  HttpResponse created = Call("POST", "/v1/admin/tokens", R"({"tenant":"acme"})");
  REQUIRE(created.status == 201);
  auto body = BodyJson(created);
  std::string token = body["token"];
  std::string id = body["id"];
  CHECK(token.rfind("kv_", 0) == 0);
  CHECK(body["tenant"] == "acme");
  CHECK(body["created_ms"].is_number_integer());

  CHECK(Tcp("PUT", "/v1/kv/x", token, "1").status == 201);

  auto list = BodyJson(Call("GET", "/v1/admin/tokens"))["tokens"];
  REQUIRE(list.size() == 1);
  CHECK(list[0]["id"] == id);
  CHECK(list[0]["tenant"] == "acme");
  CHECK(!list[0].contains("token"));
  CHECK(Call("GET", "/v1/admin/tokens").body.find(token) == std::string::npos);

  CHECK(Call("DELETE", "/v1/admin/tokens/" + id).status == 204);
  CHECK(Tcp("GET", "/v1/kv/x", token).status == 401);
  HttpResponse again = Call("DELETE", "/v1/admin/tokens/" + id);
  CHECK(again.status == 404);
  CHECK(ErrorCode(again) == "NOT_FOUND");
}

TEST_CASE_METHOD(ApiFixture, "token administration errors", "[rocksdb]") {
  for (const char* bad : {"", "{", "[]", R"({"tenant":5})", R"({"name":"x"})"}) {
    INFO(bad);
    HttpResponse r = Call("POST", "/v1/admin/tokens", bad);
    CHECK(r.status == 400);
    CHECK(ErrorCode(r) == "BAD_REQUEST");
  }
  HttpResponse bad_name = Call("POST", "/v1/admin/tokens", R"({"tenant":"a b"})");
  CHECK(bad_name.status == 400);
  CHECK(BodyJson(Call("GET", "/v1/admin/tokens"))["tokens"].empty());

  HttpResponse method = Call("PUT", "/v1/admin/tokens");
  CHECK(method.status == 405);
  CHECK(ErrorCode(method) == "METHOD_NOT_ALLOWED");
  CHECK(Header(method, "Allow") == "GET, POST");
  CHECK(Call("GET", "/v1/admin/tokens/abc").status == 405);

  // Over TCP, even with a valid token: 403.
  std::string token = NewToken("acme");
  for (auto [method_name, target] : {std::pair{"GET", "/v1/admin/tokens"},
                                     std::pair{"POST", "/v1/admin/tokens"},
                                     std::pair{"DELETE", "/v1/admin/tokens/x"}}) {
    HttpResponse r = Tcp(method_name, target, token, R"({"tenant":"evil"})");
    CHECK(r.status == 403);
    CHECK(ErrorCode(r) == "FORBIDDEN");
  }
  CHECK(tokens->List().size() == 1);
}

TEST_CASE_METHOD(ApiFixture, "body limits: values up to the value limit, small otherwise",
                 "[rocksdb]") {
  CHECK(router->BodyLimit(Request("PUT", "/v1/kv/a")) == kDefaultMaxValueBytes);
  CHECK(router->BodyLimit(Request("PATCH", "/api/v1/kv/a")) == kDefaultMaxValueBytes);
  CHECK(router->BodyLimit(Request("POST", "/v1/kv/a/incr")) == Router::kMaxSmallBodyBytes);
  CHECK(!router->BodyLimit(Request("POST", "/elsewhere")));
}

TEST_CASE("errors map each Status code to a status and a stable word", "[unit]") {
  CHECK(HttpStatusFor(Status::Code::kNotFound) == 404);
  CHECK(HttpStatusFor(Status::Code::kInvalidArgument) == 400);
  CHECK(HttpStatusFor(Status::Code::kPreconditionFailed) == 412);
  CHECK(HttpStatusFor(Status::Code::kTooLarge) == 413);
  CHECK(std::string(ErrorCodeFor(Status::Code::kTooLarge)) == "OBJECT_TOO_LARGE");
  CHECK(HttpStatusFor(Status::Code::kQuotaExceeded) == 413);
  CHECK(std::string(ErrorCodeFor(Status::Code::kQuotaExceeded)) == "QUOTA_EXCEEDED");
  CHECK(HttpStatusFor(Status::Code::kNoSpace) == 507);
  CHECK(std::string(ErrorCodeFor(Status::Code::kNoSpace)) == "INSUFFICIENT_STORAGE");
  CHECK(HttpStatusFor(Status::Code::kCorruption) == 500);
  CHECK(std::string(ErrorCodeFor(Status::Code::kIOError)) == "INTERNAL_ERROR");
  HttpResponse r = ErrorFromStatus(Status::Unavailable("the store is closing"));
  CHECK(r.status == 503);
  CHECK(ErrorCode(r) == "UNAVAILABLE");
  CHECK(BodyJson(r)["error"] == "the store is closing");
  // A message quoting bad bytes still gives valid JSON.
  HttpResponse bytes = ErrorResponse(400, "BAD_REQUEST", std::string("key \xff\xfe"));
  CHECK(ErrorCode(bytes) == "BAD_REQUEST");
}

TEST_CASE("store namespaces are tenant/ns/app and split back", "[unit]") {
  auto ref = MakeNamespace("acme", "prod", "web");
  REQUIRE(ref.ok());
  CHECK(ref->StoreName() == "acme/prod/web");
  auto back = ParseStoreNamespace("acme/prod/web");
  REQUIRE(back);
  CHECK(back->tenant == "acme");
  CHECK(back->ns == "prod");
  CHECK(back->app == "web");
  CHECK(!ParseStoreNamespace("acme/prod"));
  CHECK(!ParseStoreNamespace("acme/prod/web/x"));
  CHECK(!ParseStoreNamespace("invoke:project"));
  CHECK(MakeNamespace("acme", "a/b", "web").status().IsInvalidArgument());
  CHECK(MakeNamespace("acme", "", "web").status().IsInvalidArgument());

  HttpRequest r = ApiFixture::Request("GET", "/v1/keys?app=mobile", "",
                                      {{"KV-Namespace", "prod"}, {"KV-App-Name", "web"}});
  auto from = NamespaceFromRequest(r, "acme");
  REQUIRE(from.ok());
  CHECK(from->StoreName() == "acme/prod/mobile");
  HttpRequest empty = ApiFixture::Request("GET", "/v1/keys", "", {{"KV-Namespace", ""}});
  CHECK(NamespaceFromRequest(empty, "local")->StoreName() == "local/default/default");
}

}  // namespace
}  // namespace kv::daemon
