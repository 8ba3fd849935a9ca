// simple-golang-kv's /kv API (daemon/api/sgkv_api.h) through the router over a
// real store: its README's requests, the bodies its code answers with, its
// limits, and where kvd does better (keys with '/', 400 instead of 500).
#include "daemon/api/sgkv_api.h"

#include "tests/daemon/api/api_fixture.h"

namespace kv::daemon {
namespace {

using testing::ApiFixture;
using testing::BodyJson;
using testing::HeaderList;
using testing::Json;

const HeaderList kMyApp = {{"KV-Namespace", "myns"}, {"KV-App-Name", "myapp"}};
const HeaderList kJsonMyApp = {
    {"KV-Namespace", "myns"}, {"KV-App-Name", "myapp"}, {"Content-Type", "application/json"}};

// `h` plus Content-Type: application/json.
HeaderList WithJsonType(HeaderList h = {}) {
  h.emplace_back("Content-Type", "application/json");
  return h;
}

// The body without Echo's trailing newline, which every answer must carry.
std::string Body(const HttpResponse& r) {
  INFO(r.body);
  REQUIRE(!r.body.empty());
  CHECK(r.body.back() == '\n');
  return r.body.substr(0, r.body.size() - 1);
}

TEST_CASE_METHOD(ApiFixture, "sgkv: the README's set, get, update and delete", "[rocksdb]") {
  HttpResponse set =
      Call("POST", "/kv", R"j({"key": "foo", "value": "bar", "ttl": 60})j", kJsonMyApp);
  CHECK(set.status == 201);
  CHECK(Body(set) == R"j({"key":"foo","value":"bar","ttl":60})j");
  CHECK(set.route == "/kv");

  clock->Advance(3500);
  HttpResponse get = Call("GET", "/kv/foo", "", kMyApp);
  CHECK(get.status == 200);
  CHECK(get.route == "/kv/{key}");
  const int64_t expire_at = (clock->NowMs() - 3500 + 60000 + 999) / 1000;
  CHECK(Body(get) ==
        R"j({"key":"foo","value":"bar","ttl":57,"expire_at":)j" + std::to_string(expire_at) + "}");

  HttpResponse update = Call("PUT", "/kv/foo", R"j({"value": "baz", "ttl": 120})j", kJsonMyApp);
  CHECK(update.status == 200);
  CHECK(Body(update) == R"j({"key":"foo","value":"baz","ttl":120})j");

  // The same key through the native API, in namespace myns / app myapp: the
  // value as sent, as `kv -n myns --app myapp get foo` prints it.
  HttpResponse native = Call("GET", "/v1/kv/foo?ns=myns&app=myapp");
  CHECK(native.status == 200);
  CHECK(native.body == "baz");
  CHECK(Call("GET", "/v1/kv/foo").status == 404);  // not in default/default

  HttpResponse del = Call("DELETE", "/kv/foo", "", kMyApp);
  CHECK(del.status == 204);
  CHECK(del.body.empty());
  HttpResponse gone = Call("GET", "/kv/foo", "", kMyApp);
  CHECK(gone.status == 404);
  CHECK(Body(gone) == R"j({"error":"Key not found"})j");
  // Deleting a missing key is 204 too, as simple-golang-kv answers.
  CHECK(Call("DELETE", "/kv/foo", "", kMyApp).status == 204);
}

TEST_CASE_METHOD(ApiFixture, "sgkv: no TTL reads as null, a TTL runs out", "[rocksdb]") {
  CHECK(Call("POST", "/kv", R"j({"key":"k","value":"v"})j", WithJsonType()).status == 201);
  CHECK(Body(Call("GET", "/kv/k")) == R"j({"key":"k","value":"v","ttl":null,"expire_at":null})j");
  // The default namespace and app: the native API's default too.
  CHECK(Call("GET", "/v1/kv/k").body == "v");

  CHECK(Call("PUT", "/kv/k", R"j({"value":"v2","ttl":2})j", WithJsonType()).status == 200);
  CHECK(BodyJson(Call("GET", "/kv/k"))["ttl"] == 2);
  clock->Advance(2000);
  CHECK(Call("GET", "/kv/k").status == 404);
  // A PUT without a ttl removes the TTL (DEFAULT_TTL_SECONDS is 0).
  CHECK(Call("PUT", "/kv/k", R"j({"value":"v3","ttl":5})j", WithJsonType()).status == 200);
  CHECK(Call("PUT", "/kv/k", R"j({"value":"v4"})j", WithJsonType()).status == 200);
  clock->Advance(10000);
  CHECK(BodyJson(Call("GET", "/kv/k"))["ttl"].is_null());
}

TEST_CASE_METHOD(ApiFixture, "sgkv: field names match case-insensitively, as Go's JSON does",
                 "[rocksdb]") {
  HttpResponse set = Call("POST", "/kv", R"j({"Key":"k","VALUE":"v","Ttl":5})j", WithJsonType());
  CHECK(set.status == 201);
  CHECK(Body(set) == R"j({"key":"k","value":"v","ttl":5})j");
  CHECK(BodyJson(Call("GET", "/kv/k"))["ttl"] == 5);
  CHECK(Body(Call("POST", "/kv", R"j({"KEY":"k","Value":7})j", WithJsonType())) ==
        R"j({"error":"Invalid input"})j");
}

TEST_CASE_METHOD(ApiFixture, "sgkv: GET /kv/{prefix}* lists keys with the prefix", "[rocksdb]") {
  for (const char* key : {"user:2", "user:1", "order:1"}) {
    CHECK(Call("POST", "/kv", Json{{"key", key}, {"value", std::string("v-") + key}}.dump(),
               WithJsonType(kMyApp))
              .status == 201);
  }
  HttpResponse users = Call("GET", "/kv/user:*", "", kMyApp);
  CHECK(users.status == 200);
  CHECK(users.route == "/kv/{prefix}*");
  CHECK(Body(users) == R"j([{"key":"user:1","value":"v-user:1","ttl":null,"expire_at":null},)j"
                       R"j({"key":"user:2","value":"v-user:2","ttl":null,"expire_at":null}])j");
  CHECK(BodyJson(Call("GET", "/kv/*", "", kMyApp)).size() == 3);
  HttpResponse none = Call("GET", "/kv/nothing*", "", kMyApp);
  CHECK(none.status == 404);
  CHECK(Body(none) == R"j({"error":"Key not found"})j");
  // Another namespace sees none of them.
  CHECK(Call("GET", "/kv/*").status == 404);
}

TEST_CASE_METHOD(ApiFixture, "sgkv: keys with '/' and '*' can be read back", "[rocksdb]") {
  CHECK(Call("POST", "/kv", R"j({"key":"a/b","value":"slash"})j", WithJsonType()).status == 201);
  CHECK(BodyJson(Call("GET", "/kv/a/b"))["value"] == "slash");
  CHECK(BodyJson(Call("GET", "/kv/a%2Fb"))["key"] == "a/b");
  CHECK(Call("PUT", "/kv/a/b", R"j({"value":"again"})j", WithJsonType()).status == 200);
  CHECK(Call("GET", "/v1/kv/a%2Fb").body == "again");
  CHECK(Call("DELETE", "/kv/a/b").status == 204);
  CHECK(Call("GET", "/kv/a/b").status == 404);

  CHECK(Call("POST", "/kv", R"j({"key":"star*","value":"one"})j", WithJsonType()).status == 201);
  CHECK(Call("POST", "/kv", R"j({"key":"starry","value":"two"})j", WithJsonType()).status == 201);
  HttpResponse single = Call("GET", "/kv/star%2A");
  CHECK(single.status == 200);
  CHECK(BodyJson(single)["value"] == "one");
  CHECK(BodyJson(Call("GET", "/kv/star*")).size() == 2);
}

TEST_CASE_METHOD(ApiFixture, "sgkv: bad input gets simple-golang-kv's 400 and changes nothing",
                 "[rocksdb]") {
  struct Case {
    std::string body;
    HeaderList headers;
    const char* answer;
  };
  const std::vector<Case> cases = {
      {R"j({"key":"k","value":5})j", WithJsonType(), R"j({"error":"Invalid input"})j"},
      {R"j({"key":"k","value":{"a":1}})j", WithJsonType(), R"j({"error":"Invalid input"})j"},
      {R"j({"key":"k","value":"v","ttl":"60"})j", WithJsonType(), R"j({"error":"Invalid input"})j"},
      {R"j({"key":"k","value":"v","ttl":1.5})j", WithJsonType(), R"j({"error":"Invalid input"})j"},
      {R"j({"key":7,"value":"v"})j", WithJsonType(), R"j({"error":"Invalid input"})j"},
      {R"j({"key":"k",)j", WithJsonType(), R"j({"error":"Invalid input"})j"},
      {R"j(["k","v"])j", WithJsonType(), R"j({"error":"Invalid input"})j"},
      {R"j({"key":"k","value":"v"})j",
       {{"Content-Type", "text/plain"}},
       R"j({"error":"Invalid input"})j"},
      {"", {}, R"j({"error":"Key must not be empty"})j"},
      {R"j({"value":"v"})j", WithJsonType(), R"j({"error":"Key must not be empty"})j"},
      {R"j({"key":"k","value":"v","ttl":-1})j", WithJsonType(),
       R"j({"error":"TTL must be between 0 and 31536000 seconds"})j"},
      {R"j({"key":"k","value":"v","ttl":31536001})j", WithJsonType(),
       R"j({"error":"TTL must be between 0 and 31536000 seconds"})j"},
      {R"j({"key":"k","value":"v"})j", WithJsonType({{"KV-Namespace", std::string(26, 'n')}}),
       R"j({"message":"Namespace too long (max 25 characters)"})j"},
      {R"j({"key":"k","value":"v"})j", WithJsonType({{"KV-App-Name", std::string(26, 'a')}}),
       R"j({"message":"App name too long (max 25 characters)"})j"},
      {R"j({"key":")j" + std::string(101, 'k') + R"j(","value":"v"})j", WithJsonType(),
       R"j({"message":"Key too long (max 100 characters)"})j"},
      {R"j({"key":"k","value":")j" + std::string(1048577, 'v') + R"j("})j", WithJsonType(),
       R"j({"error":"Value too large (max 1048576 bytes)"})j"},
  };
  for (const Case& c : cases) {
    INFO(c.body.substr(0, 80));
    HttpResponse r = Call("POST", "/kv", c.body, c.headers);
    CHECK(r.status == 400);
    CHECK(Body(r) == c.answer);
  }
  // Nothing was written.
  CHECK(Call("GET", "/kv/*").status == 404);

  // PUT checks the same, with the key from the path.
  CHECK(Body(Call("PUT", "/kv/k", R"j({"value":5})j", WithJsonType())) ==
        R"j({"error":"Invalid input"})j");
  CHECK(Body(Call("PUT", "/kv/", R"j({"value":"v"})j", WithJsonType())) ==
        R"j({"error":"Key must not be empty"})j");
  // On GET, a long key is 400 too (simple-golang-kv answered 500).
  HttpResponse long_get = Call("GET", "/kv/" + std::string(101, 'k'));
  CHECK(long_get.status == 400);
  CHECK(Body(long_get) == R"j({"message":"Key too long (max 100 characters)"})j");
  // A name kvd cannot keep is refused clearly.
  HttpResponse bad_ns = Call("GET", "/kv/k", "", {{"KV-Namespace", "a b"}});
  CHECK(bad_ns.status == 400);
  CHECK(BodyJson(bad_ns)["error"].get<std::string>().find("namespace") != std::string::npos);
  CHECK(Call("GET", "/kv/k").status == 404);
}

TEST_CASE_METHOD(ApiFixture, "sgkv: other methods are Echo's 405", "[rocksdb]") {
  for (auto [method, target] : {std::pair{"GET", "/kv"}, std::pair{"DELETE", "/kv"},
                                std::pair{"POST", "/kv/k"}, std::pair{"PATCH", "/kv/k"}}) {
    INFO(method << " " << target);
    HttpResponse r = Call(method, target);
    CHECK(r.status == 405);
    CHECK(Body(r) == R"j({"message":"Method Not Allowed"})j");
    CHECK(!testing::Header(r, "Allow").empty());
  }
}

TEST_CASE("sgkv: DEFAULT_NAMESPACE, DEFAULT_TTL_SECONDS and the limits apply", "[rocksdb]") {
  ApiOptions options;
  options.sgkv.default_namespace = "shared";
  options.sgkv.default_app = "web";
  options.sgkv.default_ttl_seconds = 30;
  options.sgkv.max_key_len = 3;
  options.sgkv.max_value_size = 4;
  options.sgkv.max_ttl_seconds = 100;
  ApiFixture f(options);
  HttpResponse set = f.Call("POST", "/kv", R"j({"key":"k","value":"v"})j", WithJsonType());
  CHECK(set.status == 201);
  CHECK(Body(set) == R"j({"key":"k","value":"v","ttl":30})j");
  CHECK(f.Call("GET", "/v1/kv/k?ns=shared&app=web").body == "v");
  CHECK(BodyJson(f.Call("GET", "/kv/k"))["ttl"] == 30);
  // Empty headers mean the defaults.
  CHECK(f.Call("GET", "/kv/k", "", {{"KV-Namespace", ""}, {"KV-App-Name", ""}}).status == 200);

  CHECK(Body(f.Call("POST", "/kv", R"j({"key":"long","value":"v"})j", WithJsonType())) ==
        R"j({"message":"Key too long (max 3 characters)"})j");
  CHECK(Body(f.Call("POST", "/kv", R"j({"key":"k","value":"12345"})j", WithJsonType())) ==
        R"j({"error":"Value too large (max 4 bytes)"})j");
  CHECK(Body(f.Call("PUT", "/kv/k", R"j({"value":"v","ttl":101})j", WithJsonType())) ==
        R"j({"error":"TTL must be between 0 and 100 seconds"})j");
}

TEST_CASE("sgkv: over TCP the router's auth applies, --no-auth serves tokenless clients",
          "[rocksdb]") {
  ApiFixture with_auth;
  HttpResponse refused =
      with_auth.Tcp("POST", "/kv", "", R"j({"key":"k","value":"v"})j", WithJsonType());
  CHECK(refused.status == 401);
  std::string token = with_auth.NewToken("acme");
  CHECK(
      with_auth.Tcp("POST", "/kv", token, R"j({"key":"k","value":"v"})j", WithJsonType()).status ==
      201);
  // The token's tenant owns the key: the local tenant does not see it.
  CHECK(with_auth.Call("GET", "/kv/k").status == 404);
  CHECK(with_auth.Call("GET", "/kv/k", "", {{"KV-Tenant", "acme"}}).status == 200);

  ApiOptions open;
  open.no_auth = true;
  ApiFixture no_auth(open);
  CHECK(no_auth.Tcp("POST", "/kv", "", R"j({"key":"k","value":"v"})j", WithJsonType()).status ==
        201);
  CHECK(no_auth.Call("GET", "/kv/k").status == 200);
}

}  // namespace
}  // namespace kv::daemon
