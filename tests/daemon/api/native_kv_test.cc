// The keyvalue.dev part of the native API: PUT/GET/HEAD/DELETE /v1/kv/{key},
// ETags, conditions, limits and their errors.
#include <thread>

#include "daemon/api/native_api.h"
#include "tests/daemon/api/api_fixture.h"

namespace kv::daemon {
namespace {

using testing::ApiFixture;
using testing::BodyJson;
using testing::ErrorCode;
using testing::Header;

TEST_CASE_METHOD(ApiFixture, "PUT creates (201) then updates (200) with a quoted ETag",
                 "[rocksdb]") {
  HttpResponse created =
      Call("PUT", "/v1/kv/mykey", R"({"hello": "world"})", {{"Content-Type", "application/json"}});
  CHECK(created.status == 201);
  auto body = BodyJson(created);
  CHECK(body["success"] == true);
  std::string etag = Header(created, "ETag");
  REQUIRE(etag.size() >= 3);
  CHECK(etag.front() == '"');
  CHECK(etag.back() == '"');
  CHECK("\"" + body["etag"].get<std::string>() + "\"" == etag);
  CHECK(body["created"] == true);
  CHECK(body["expire_at_ms"].is_null());

  HttpResponse updated = Call("PUT", "/v1/kv/mykey", "2", {{"Content-Type", "text/plain"}});
  CHECK(updated.status == 200);
  CHECK(BodyJson(updated)["created"] == false);
  CHECK(Header(updated, "ETag") != etag);
  CHECK(std::stoull(BodyJson(updated)["etag"].get<std::string>()) >
        std::stoull(body["etag"].get<std::string>()));
}

TEST_CASE_METHOD(ApiFixture, "GET returns the bytes, the stored Content-Type and the ETag",
                 "[rocksdb]") {
  std::string etag =
      Put("mykey", R"({"hello": "world"})", {{"Content-Type", "application/json"}});
  HttpResponse r = Call("GET", "/v1/kv/mykey");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"hello": "world"})");
  CHECK(Header(r, "Content-Type") == "application/json");
  CHECK(Header(r, "ETag") == etag);
  CHECK(Header(r, "KV-Revision") == etag.substr(1, etag.size() - 2));
  CHECK(Header(r, "Last-Modified").find("GMT") != std::string::npos);
  CHECK(Header(r, "X-Created-At").find('T') != std::string::npos);
  CHECK(Header(r, "KV-Expires-At").empty());

  // Binary values round-trip, and the default type is octet-stream.
  std::string bin("\x00\x01\xff\n\r", 5);
  Put("bin", bin);
  HttpResponse b = Call("GET", "/v1/kv/bin");
  CHECK(b.body == bin);
  CHECK(Header(b, "Content-Type") == "application/octet-stream");
}

TEST_CASE_METHOD(ApiFixture, "GET of a missing key is keyvalue.dev's 404", "[rocksdb]") {
  HttpResponse r = Call("GET", "/v1/kv/nope");
  CHECK(r.status == 404);
  CHECK(ErrorCode(r) == "NOT_FOUND");
  CHECK(BodyJson(r)["error"] == "Key not found");
}

TEST_CASE_METHOD(ApiFixture, "HEAD gives the headers without a body, 404 has no body",
                 "[rocksdb]") {
  std::string etag = Put("k", "hello", {{"Content-Type", "text/plain"}});
  HttpResponse r = Call("HEAD", "/v1/kv/k");
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(Header(r, "ETag") == etag);
  CHECK(Header(r, "Content-Length") == "5");
  CHECK(Header(r, "Content-Type") == "text/plain");
  HttpResponse missing = Call("HEAD", "/v1/kv/missing");
  CHECK(missing.status == 404);
  CHECK(missing.body.empty());
}

TEST_CASE_METHOD(ApiFixture, "DELETE is 204, then 404", "[rocksdb]") {
  Put("k", "v");
  HttpResponse r = Call("DELETE", "/v1/kv/k");
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK(!Header(r, "KV-Revision").empty());
  CHECK(Call("GET", "/v1/kv/k").status == 404);
  HttpResponse again = Call("DELETE", "/v1/kv/k");
  CHECK(again.status == 404);
  CHECK(ErrorCode(again) == "NOT_FOUND");
}

TEST_CASE_METHOD(ApiFixture, "keys are percent-decoded from the path and may hold '/'",
                 "[rocksdb]") {
  Put("a%2Fb", "encoded");
  CHECK(Call("GET", "/v1/kv/a/b").body == "encoded");
  Put("dir/sub/file", "plain");
  CHECK(Call("GET", "/v1/kv/dir%2Fsub%2Ffile").body == "plain");
  Put("sp%20ace%3F%25", "x");
  auto keys = BodyJson(Call("GET", "/v1/keys"))["keys"];
  std::vector<std::string> names;
  for (const auto& k : keys) names.push_back(k["key"]);
  CHECK(names == std::vector<std::string>{"a/b", "dir/sub/file", "sp ace?%"});
  // '+' is a plus in a path, not a space.
  Put("a+b", "plus");
  CHECK(Call("GET", "/v1/kv/a%2Bb").body == "plus");
  // The action suffixes are recognised only unencoded.
  Put("x%2Fmeta", "a key named x/meta");
  CHECK(Call("GET", "/v1/kv/x%2Fmeta").body == "a key named x/meta");
  CHECK(Call("GET", "/v1/kv/x/meta").status == 404);  // meta of key "x"
}

TEST_CASE_METHOD(ApiFixture, "bad keys are 400", "[rocksdb]") {
  HttpResponse empty = Call("PUT", "/v1/kv/", "v");
  CHECK(empty.status == 400);
  CHECK(ErrorCode(empty) == "BAD_REQUEST");
  CHECK(Call("GET", "/v1/kv").status == 400);
  HttpResponse nul = Call("PUT", "/v1/kv/a%00b", "v");
  CHECK(nul.status == 400);
  CHECK(ErrorCode(nul) == "BAD_REQUEST");

  std::string long_key(1025, 'k');
  HttpResponse too_long = Call("PUT", "/v1/kv/" + long_key, "v");
  CHECK(too_long.status == 400);
  CHECK(ErrorCode(too_long) == "KEY_TOO_LONG");
  CHECK(ErrorCode(Call("GET", "/v1/kv/" + long_key)) == "KEY_TOO_LONG");
  CHECK(Call("PUT", "/v1/kv/" + std::string(1024, 'k'), "v").status == 201);
  CHECK(BodyJson(Call("GET", "/v1/keys"))["keys"].size() == 1);
}

TEST_CASE_METHOD(ApiFixture, "a value over 10 MiB is 413 OBJECT_TOO_LARGE, 10 MiB is fine",
                 "[rocksdb]") {
  std::string big(kDefaultMaxValueBytes + 1, 'x');
  HttpResponse r = Call("PUT", "/v1/kv/big", big);
  CHECK(r.status == 413);
  CHECK(ErrorCode(r) == "OBJECT_TOO_LARGE");
  CHECK(Call("GET", "/v1/kv/big").status == 404);
  big.pop_back();
  CHECK(Call("PUT", "/v1/kv/big", big).status == 201);
  CHECK(Call("GET", "/v1/kv/big").body.size() == kDefaultMaxValueBytes);
}

TEST_CASE("the limits follow ApiOptions", "[rocksdb]") {
  ApiOptions options;
  options.max_key_bytes = 8;
  options.max_value_bytes = 4;
  ApiFixture f(options);
  CHECK(f.Call("PUT", "/v1/kv/12345678", "1234").status == 201);
  CHECK(ErrorCode(f.Call("PUT", "/v1/kv/123456789", "1")) == "KEY_TOO_LONG");
  CHECK(ErrorCode(f.Call("PUT", "/v1/kv/k", "12345")) == "OBJECT_TOO_LARGE");
}

TEST_CASE_METHOD(ApiFixture, "If-Match updates only the current ETag", "[rocksdb]") {
  std::string etag = Put("k", "1");
  HttpResponse ok = Call("PUT", "/v1/kv/k", "2", {{"If-Match", etag}});
  CHECK(ok.status == 200);
  std::string etag2 = Header(ok, "ETag");

  HttpResponse stale = Call("PUT", "/v1/kv/k", "3", {{"If-Match", etag}});
  CHECK(stale.status == 412);
  CHECK(ErrorCode(stale) == "PRECONDITION_FAILED");
  CHECK(Call("GET", "/v1/kv/k").body == "2");

  // Unquoted and weak forms name the same revision; garbage never matches.
  std::string bare = etag2.substr(1, etag2.size() - 2);
  CHECK(Call("PUT", "/v1/kv/k", "4", {{"If-Match", bare}}).status == 200);
  CHECK(Call("PUT", "/v1/kv/k", "5", {{"If-Match", "\"not-a-revision\""}}).status == 412);
  CHECK(Call("PUT", "/v1/kv/k", "5", {{"If-Match", "\"1\", \"2\""}}).status == 400);
  // On a missing key, If-Match fails.
  CHECK(Call("PUT", "/v1/kv/missing", "x", {{"If-Match", etag}}).status == 412);
  CHECK(Call("GET", "/v1/kv/missing").status == 404);
}

TEST_CASE_METHOD(ApiFixture, "If-Match: * needs the key, If-None-Match: * needs its absence",
                 "[rocksdb]") {
  CHECK(Call("PUT", "/v1/kv/k", "x", {{"If-Match", "*"}}).status == 412);
  HttpResponse created = Call("PUT", "/v1/kv/k", "1", {{"If-None-Match", "*"}});
  CHECK(created.status == 201);
  HttpResponse exists = Call("PUT", "/v1/kv/k", "2", {{"If-None-Match", "*"}});
  CHECK(exists.status == 412);
  CHECK(ErrorCode(exists) == "PRECONDITION_FAILED");
  CHECK(BodyJson(exists)["error"] == "Object already exists");
  CHECK(Call("PUT", "/v1/kv/k", "3", {{"If-Match", "*"}}).status == 200);
  CHECK(Call("PUT", "/v1/kv/k", "4", {{"KV-If-Exists", "1"}}).status == 200);
  CHECK(Call("PUT", "/v1/kv/new", "4", {{"KV-If-Exists", "1"}}).status == 412);
  CHECK(Call("PUT", "/v1/kv/new", "4", {{"KV-If-Exists", "maybe"}}).status == 400);
  // An If-None-Match other than * is ignored on PUT (keyvalue.dev).
  CHECK(Call("PUT", "/v1/kv/k", "5", {{"If-None-Match", "\"3\""}}).status == 200);
  // Two conditions at once are refused, and nothing is written.
  HttpResponse both =
      Call("PUT", "/v1/kv/k", "6", {{"If-None-Match", "*"}, {"KV-If-Exists", "1"}});
  CHECK(both.status == 400);
  CHECK(Call("GET", "/v1/kv/k").body == "5");
}

TEST_CASE_METHOD(ApiFixture, "DELETE honours If-Match", "[rocksdb]") {
  std::string etag = Put("k", "1");
  Put("k", "2");
  CHECK(Call("DELETE", "/v1/kv/k", "", {{"If-Match", etag}}).status == 412);
  CHECK(Call("GET", "/v1/kv/k").status == 200);
  std::string now = Header(Call("HEAD", "/v1/kv/k"), "ETag");
  CHECK(Call("DELETE", "/v1/kv/k", "", {{"If-Match", now}}).status == 204);
}

TEST_CASE_METHOD(ApiFixture, "GET with If-None-Match of the current ETag is 304", "[rocksdb]") {
  std::string etag = Put("k", "v");
  HttpResponse r = Call("GET", "/v1/kv/k", "", {{"If-None-Match", etag}});
  CHECK(r.status == 304);
  CHECK(r.body.empty());
  CHECK(Header(r, "ETag") == etag);
  CHECK(Call("GET", "/v1/kv/k", "", {{"If-None-Match", "\"999999\""}}).status == 200);
}

TEST_CASE_METHOD(ApiFixture, "concurrent If-Match writers: exactly one wins each round",
                 "[rocksdb]") {
  Put("counter", "0");
  constexpr int kThreads = 6;
  constexpr int kIncrements = 20;
  std::vector<std::thread> threads;
  std::atomic<int> conflicts{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int done = 0; done < kIncrements;) {
        HttpResponse got = router->Handle(Request("GET", "/v1/kv/counter"));
        int n = std::stoi(got.body);
        HttpResponse put = router->Handle(Request("PUT", "/v1/kv/counter", std::to_string(n + 1),
                                                  {{"If-Match", Header(got, "ETag")}}));
        if (put.status == 200) {
          ++done;
        } else if (put.status == 412) {
          ++conflicts;
        } else {
          FAIL("unexpected status " << put.status);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(Call("GET", "/v1/kv/counter").body == std::to_string(kThreads * kIncrements));
}

TEST_CASE_METHOD(ApiFixture, "TTL on PUT, by query or header, with ms precision", "[rocksdb]") {
  int64_t start = clock->NowMs();
  HttpResponse r = Call("PUT", "/v1/kv/k?ttl=1500ms", "v");
  CHECK(r.status == 201);
  CHECK(BodyJson(r)["expire_at_ms"] == start + 1500);
  CHECK(Header(r, "KV-Expires-At") == std::to_string(start + 1500));

  clock->Advance(500);
  HttpResponse g = Call("GET", "/v1/kv/k");
  CHECK(Header(g, "KV-Expires-At") == std::to_string(start + 1500));
  CHECK(Header(g, "KV-TTL-Ms") == "1000");
  clock->Advance(999);
  CHECK(Call("GET", "/v1/kv/k").status == 200);
  clock->Advance(1);
  CHECK(Call("GET", "/v1/kv/k").status == 404);
  CHECK(Call("HEAD", "/v1/kv/k").status == 404);
  // Re-creating an expired key is a creation.
  CHECK(Call("PUT", "/v1/kv/k", "v", {{"KV-TTL", "30s"}}).status == 201);
  CHECK(Header(Call("GET", "/v1/kv/k"), "KV-TTL-Ms") == "30000");
  // A plain PUT removes the TTL; keep_ttl keeps it.
  Call("PUT", "/v1/kv/k?ttl=1m", "v");
  CHECK(Call("PUT", "/v1/kv/k?keep_ttl=1", "w").status == 200);
  CHECK(Header(Call("GET", "/v1/kv/k"), "KV-TTL-Ms") == "60000");
  CHECK(Call("PUT", "/v1/kv/k", "x").status == 200);
  CHECK(Header(Call("GET", "/v1/kv/k"), "KV-TTL-Ms").empty());
}

TEST_CASE_METHOD(ApiFixture, "a bad TTL is 400 and writes nothing", "[rocksdb]") {
  for (const char* target : {"/v1/kv/k?ttl=abc", "/v1/kv/k?ttl=0", "/v1/kv/k?ttl=-5s",
                             "/v1/kv/k?ttl=", "/v1/kv/k?ttl=1s&keep_ttl=1",
                             "/v1/kv/k?keep_ttl=maybe"}) {
    INFO(target);
    HttpResponse r = Call("PUT", target, "v");
    CHECK(r.status == 400);
    CHECK(ErrorCode(r) == "BAD_REQUEST");
  }
  CHECK(Call("PUT", "/v1/kv/k?ttl=1s", "v", {{"KV-TTL", "2s"}}).status == 400);
  CHECK(Call("GET", "/v1/kv/k").status == 404);
}

TEST_CASE_METHOD(ApiFixture, "namespaces by header or query keep keys apart", "[rocksdb]") {
  Put("k", "default");
  Put("k", "prod", {{"KV-Namespace", "prod"}});
  Put("k", "prod-web", {{"KV-Namespace", "prod"}, {"KV-App-Name", "web"}});
  CHECK(Call("GET", "/v1/kv/k").body == "default");
  CHECK(Call("GET", "/v1/kv/k", "", {{"KV-Namespace", "prod"}}).body == "prod");
  CHECK(Call("GET", "/v1/kv/k?ns=prod&app=web").body == "prod-web");
  CHECK(Call("GET", "/v1/kv/k?ns=prod", "", {{"KV-Namespace", "other"}}).body == "prod");
  CHECK(Call("GET", "/v1/kv/k", "", {{"KV-Namespace", "default"}, {"KV-App-Name", "default"}})
            .body == "default");
  HttpResponse bad = Call("PUT", "/v1/kv/k", "x", {{"KV-Namespace", "no/slash"}});
  CHECK(bad.status == 400);
  CHECK(ErrorCode(bad) == "BAD_REQUEST");
  CHECK(Call("GET", "/v1/kv/k?app=" + std::string(65, 'a')).status == 400);
}

TEST_CASE_METHOD(ApiFixture, "methods a key does not take are 405 with Allow", "[rocksdb]") {
  HttpResponse post = Call("POST", "/v1/kv/k", "v");
  CHECK(post.status == 405);
  CHECK(ErrorCode(post) == "METHOD_NOT_ALLOWED");
  CHECK(Header(post, "Allow").find("PUT") != std::string::npos);
  CHECK(Call("OPTIONS", "/v1/kv/k").status == 405);
  CHECK(Call("POST", "/v1/keys").status == 405);
  CHECK(Call("PUT", "/v1/stats").status == 405);
}

}  // namespace
}  // namespace kv::daemon
