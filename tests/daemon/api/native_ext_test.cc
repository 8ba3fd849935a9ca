// The native extensions: patch, incr/decr, expire/persist, meta, list with
// cursor and where, clear, stats, namespaces, watch.
#include <thread>

#include "common/base64.h"
#include "daemon/api/native_api.h"
#include "tests/daemon/api/api_fixture.h"

namespace kv::daemon {
namespace {

using testing::ApiFixture;
using testing::BodyJson;
using testing::CollectingWriter;
using testing::ErrorCode;
using testing::Header;
using testing::Json;

constexpr char kMergePatch[] = "application/merge-patch+json";

TEST_CASE_METHOD(ApiFixture, "PATCH merges a JSON document atomically", "[rocksdb]") {
  Put("user", R"({"name":"Ada","tags":["a"],"old":1})", {{"Content-Type", "application/json"}});
  HttpResponse r = Call("PATCH", "/v1/kv/user", R"({"age":36,"old":null,"tags":["b"]})",
                        {{"Content-Type", kMergePatch}});
  CHECK(r.status == 200);
  CHECK(Header(r, "Content-Type") == "application/json");
  CHECK(!Header(r, "ETag").empty());
  CHECK(BodyJson(r) == Json::parse(R"({"name":"Ada","age":36,"tags":["b"]})"));
  CHECK(Json::parse(Call("GET", "/v1/kv/user").body) == BodyJson(r));

  HttpResponse created =
      Call("PATCH", "/v1/kv/fresh", R"({"a":{"b":1}})", {{"Content-Type", "application/json"}});
  CHECK(created.status == 201);
  CHECK(BodyJson(created) == Json::parse(R"({"a":{"b":1}})"));
}

TEST_CASE_METHOD(ApiFixture, "PATCH errors", "[rocksdb]") {
  Put("doc", R"({"a":1})", {{"Content-Type", "application/json"}});
  HttpResponse type = Call("PATCH", "/v1/kv/doc", R"({"a":2})", {{"Content-Type", "text/plain"}});
  CHECK(type.status == 415);
  CHECK(ErrorCode(type) == "UNSUPPORTED_MEDIA_TYPE");
  HttpResponse bad = Call("PATCH", "/v1/kv/doc", "{nope", {{"Content-Type", kMergePatch}});
  CHECK(bad.status == 400);
  CHECK(ErrorCode(bad) == "BAD_REQUEST");
  Put("text", "plain words");
  HttpResponse mismatch =
      Call("PATCH", "/v1/kv/text", R"({"a":2})", {{"Content-Type", kMergePatch}});
  CHECK(mismatch.status == 409);
  CHECK(ErrorCode(mismatch) == "TYPE_MISMATCH");
  CHECK(Call("GET", "/v1/kv/text").body == "plain words");
  std::string etag = Header(Call("HEAD", "/v1/kv/doc"), "ETag");
  Put("doc", R"({"a":3})", {{"Content-Type", "application/json"}});
  CHECK(Call("PATCH", "/v1/kv/doc", R"({"a":4})",
             {{"Content-Type", kMergePatch}, {"If-Match", etag}})
            .status == 412);
  CHECK(Json::parse(Call("GET", "/v1/kv/doc").body)["a"] == 3);
}

TEST_CASE_METHOD(ApiFixture, "incr and decr return the new value", "[rocksdb]") {
  HttpResponse first = Call("POST", "/v1/kv/n/incr");
  CHECK(first.status == 201);
  CHECK(first.body == "1");
  CHECK(Call("POST", "/v1/kv/n/incr?by=10").body == "11");
  CHECK(Call("POST", "/v1/kv/n/incr", "5").body == "16");
  CHECK(Call("POST", "/v1/kv/n/incr", R"({"by":-6})").body == "10");
  HttpResponse dec = Call("POST", "/v1/kv/n/decr?by=3");
  CHECK(dec.status == 200);
  CHECK(dec.body == "7");
  CHECK(!Header(dec, "ETag").empty());
  CHECK(Call("GET", "/v1/kv/n").body == "7");
  CHECK(Call("POST", "/v1/kv/a%2Fb/incr").body == "1");
  CHECK(Call("GET", "/v1/kv/a%2Fb").body == "1");
}

TEST_CASE_METHOD(ApiFixture, "incr errors", "[rocksdb]") {
  for (const char* bad : {"/v1/kv/n/incr?by=x", "/v1/kv/n/incr?by=1.5",
                          "/v1/kv/n/incr?by=99999999999999999999"}) {
    INFO(bad);
    HttpResponse r = Call("POST", bad);
    CHECK(r.status == 400);
    CHECK(ErrorCode(r) == "BAD_REQUEST");
  }
  CHECK(Call("POST", "/v1/kv/n/incr?by=1", "2").status == 400);
  CHECK(Call("POST", "/v1/kv/n/incr", R"({"by":"2"})").status == 400);
  CHECK(Call("GET", "/v1/kv/n").status == 404);
  Put("word", "hello");
  HttpResponse r = Call("POST", "/v1/kv/word/incr");
  CHECK(r.status == 409);
  CHECK(ErrorCode(r) == "TYPE_MISMATCH");
  Put("big", "9223372036854775807");
  CHECK(Call("POST", "/v1/kv/big/incr").status == 409);
  CHECK(Call("GET", "/v1/kv/big").body == "9223372036854775807");
}

TEST_CASE_METHOD(ApiFixture, "concurrent incr loses no update", "[rocksdb]") {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) router->Handle(Request("POST", "/v1/kv/c/incr"));
    });
  }
  for (auto& t : threads) t.join();
  CHECK(Call("GET", "/v1/kv/c").body == "200");
}

TEST_CASE_METHOD(ApiFixture, "meta describes a key", "[rocksdb]") {
  int64_t t0 = clock->NowMs();
  Put("k", "12345", {{"Content-Type", "text/plain"}, {"KV-Namespace", "prod"}});
  clock->Advance(10);
  std::string etag = Put("k", "123", {{"Content-Type", "text/plain"}, {"KV-Namespace", "prod"}});
  HttpResponse r = Call("GET", "/v1/kv/k/meta", "", {{"KV-Namespace", "prod"}});
  CHECK(r.status == 200);
  auto m = BodyJson(r);
  CHECK(m["key"] == "k");
  CHECK(m["namespace"] == "prod");
  CHECK(m["app"] == "default");
  CHECK("\"" + m["etag"].get<std::string>() + "\"" == etag);
  CHECK(m["revision"].is_number_unsigned());
  CHECK(m["create_revision"].get<uint64_t>() < m["revision"].get<uint64_t>());
  CHECK(m["size"] == 3);
  CHECK(m["content_type"] == "text/plain");
  CHECK(m["created_ms"] == t0);
  CHECK(m["updated_ms"] == t0 + 10);
  CHECK(m["expire_at_ms"].is_null());
  CHECK(m["ttl_ms"].is_null());
  CHECK(Call("GET", "/v1/kv/k/meta").status == 404);
  CHECK(ErrorCode(Call("GET", "/v1/kv/k/meta")) == "NOT_FOUND");
}

TEST_CASE_METHOD(ApiFixture, "expire and persist", "[rocksdb]") {
  Put("k", "v");
  int64_t t0 = clock->NowMs();
  HttpResponse e = Call("POST", "/v1/kv/k/expire", R"({"ttl_ms":2500})");
  CHECK(e.status == 200);
  CHECK(BodyJson(e)["expire_at_ms"] == t0 + 2500);
  CHECK(BodyJson(e)["ttl_ms"] == 2500);
  CHECK(BodyJson(Call("POST", "/v1/kv/k/expire?ttl=1m"))["ttl_ms"] == 60000);
  CHECK(BodyJson(Call("POST", "/v1/kv/k/expire", "", {{"KV-TTL", "2s"}}))["ttl_ms"] == 2000);
  CHECK(BodyJson(Call("POST", "/v1/kv/k/expire", R"({"ttl":"3s"})"))["ttl_ms"] == 3000);
  clock->Advance(1000);
  CHECK(BodyJson(Call("GET", "/v1/kv/k/meta"))["ttl_ms"] == 2000);

  HttpResponse p = Call("POST", "/v1/kv/k/persist");
  CHECK(p.status == 200);
  CHECK(BodyJson(p)["expire_at_ms"].is_null());
  clock->Advance(10'000);
  CHECK(Call("GET", "/v1/kv/k").status == 200);

  CHECK(Call("POST", "/v1/kv/missing/expire?ttl=1s").status == 404);
  CHECK(Call("POST", "/v1/kv/missing/persist").status == 404);
  for (const char* body : {"", R"({"ttl_ms":0})", R"({"ttl_ms":-1})", R"({"ttl_ms":"5"})",
                           R"({"ttl":"soon"})", "[1]", "{"}) {
    INFO(body);
    HttpResponse r = Call("POST", "/v1/kv/k/expire", body);
    CHECK(r.status == 400);
    CHECK(ErrorCode(r) == "BAD_REQUEST");
  }
  CHECK(Call("POST", "/v1/kv/k/expire?ttl=1s", R"({"ttl_ms":5})").status == 400);
  CHECK(BodyJson(Call("GET", "/v1/kv/k/meta"))["expire_at_ms"].is_null());
}

TEST_CASE_METHOD(ApiFixture, "list keys by prefix, with values in three encodings",
                 "[rocksdb]") {
  Put("user:1", R"({"name":"Ada"})", {{"Content-Type", "application/json"}});
  Put("user:2", "plain text", {{"Content-Type", "text/plain"}});
  Put("user:3", std::string("\xff\x00\x01", 3));
  Put("other", "x");
  Put("user:4?ttl=1h", "soon");

  auto keys_only = BodyJson(Call("GET", "/v1/keys?prefix=user:"));
  REQUIRE(keys_only["keys"].size() == 4);  // "user:4?ttl=1h" is key user:4 with a TTL
  CHECK(keys_only["next_cursor"].is_null());
  auto list = BodyJson(Call("GET", "/v1/keys?prefix=user%3A&values=1"));
  REQUIRE(list["keys"].size() == 4);
  auto k = list["keys"];
  CHECK(k[0]["key"] == "user:1");
  CHECK(k[0]["value"] == Json::parse(R"({"name":"Ada"})"));
  CHECK(k[0]["encoding"] == "json");
  CHECK(k[0]["content_type"] == "application/json");
  CHECK(k[0]["size"] == 14);
  CHECK(k[0]["etag"].is_string());
  CHECK(k[0]["expire_at_ms"].is_null());
  CHECK(k[1]["value"] == "plain text");
  CHECK(k[1]["encoding"] == "text");
  CHECK(k[2]["encoding"] == "base64");
  CHECK(Base64Decode(k[2]["value"].get<std::string>()) == std::string("\xff\x00\x01", 3));
  CHECK(k[3]["key"] == "user:4");
  CHECK(k[3]["expire_at_ms"] == clock->NowMs() + 3'600'000);
  CHECK(!keys_only["keys"][0].contains("value"));
}

TEST_CASE_METHOD(ApiFixture, "list pages with limit and cursor", "[rocksdb]") {
  for (int i = 0; i < 25; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%02d", i);
    Put(key, "v");
  }
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (;;) {
    std::string target = "/v1/keys?limit=10";
    if (!cursor.empty()) target += "&cursor=" + cursor;
    auto page = BodyJson(Call("GET", target));
    for (const auto& item : page["keys"]) seen.push_back(item["key"]);
    ++pages;
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"];
    REQUIRE(pages < 10);
  }
  REQUIRE(seen.size() == 25);
  CHECK(seen.front() == "k00");
  CHECK(seen.back() == "k24");
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(pages >= 3);
}

TEST_CASE_METHOD(ApiFixture, "list errors are 400", "[rocksdb]") {
  for (const char* target :
       {"/v1/keys?limit=0", "/v1/keys?limit=10001", "/v1/keys?limit=x", "/v1/keys?limit=-1",
        "/v1/keys?values=maybe", "/v1/keys?cursor=garbage!", "/v1/keys?where=nopath"}) {
    INFO(target);
    HttpResponse r = Call("GET", target);
    CHECK(r.status == 400);
    CHECK(ErrorCode(r) == "BAD_REQUEST");
  }
  CHECK(Call("GET", "/v1/keys?ns=bad%2Fname").status == 400);
}

TEST_CASE_METHOD(ApiFixture, "where filters JSON values in kvd", "[rocksdb]") {
  const std::pair<const char*, const char*> docs[] = {
      {"u1", R"({"name":"Ada","age":36,"active":true,"addr":{"city":"London"},"tags":["x","y"]})"},
      {"u2", R"({"name":"Bob","age":30,"active":false,"addr":{"city":"Paris"},"tags":["y"]})"},
      {"u3", R"({"name":"Cy","age":"36","zip":"01234"})"},
      {"u4", "not json"},
  };
  // The filter reads values as JSON whatever their content type.
  for (const auto& [key, value] : docs) {
    Put(key, value, {{"Content-Type", key == std::string("u1") ? "application/json" : ""}});
  }
  auto keys = [&](const std::string& query) {
    std::vector<std::string> out;
    auto page = BodyJson(Call("GET", "/v1/keys?" + query));
    for (const auto& item : page["keys"]) out.push_back(item["key"]);
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(keys("where=name=Ada") == V{"u1"});
  CHECK(keys("where=name=%22Ada%22") == V{"u1"});
  CHECK(keys("where=age=36") == V{"u1"});        // a number, not the string "36"
  CHECK(keys("where=age=%2236%22") == V{"u3"});  // the string
  CHECK(keys("where=active=true") == V{"u1"});
  CHECK(keys("where=addr.city=Paris") == V{"u2"});
  CHECK(keys("where=tags.0=x") == V{"u1"});
  CHECK(keys("where=zip=01234") == V{"u3"});
  CHECK(keys("where=tags.1=y&where=name=Ada") == V{"u1"});
  CHECK(keys("where=tags.1=y&where=name=Bob").empty());
  CHECK(keys("where=missing.path=1").empty());
  // Values come along when asked, and only matches travel.
  auto page = BodyJson(Call("GET", "/v1/keys?values=1&where=addr.city=London"));
  REQUIRE(page["keys"].size() == 1);
  CHECK(page["keys"][0]["value"]["name"] == "Ada");
}

TEST_CASE_METHOD(ApiFixture, "contains finds keys holding a substring, either case, a page at a time",
                 "[rocksdb]") {
  for (const char* key : {"user:ada", "user:bob", "session:ADA", "order:7", "ada"}) Put(key, "1");
  auto keys = [&](const std::string& query, Json* next = nullptr) {
    std::vector<std::string> out;
    auto page = BodyJson(Call("GET", "/v1/keys?" + query));
    for (const auto& item : page["keys"]) out.push_back(item["key"]);
    if (next) *next = page["next_cursor"];
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(keys("contains=ada") == V{"ada", "session:ADA", "user:ada"});
  CHECK(keys("contains=Ada&prefix=user:") == V{"user:ada"});
  CHECK(keys("contains=%3A7") == V{"order:7"});  // ":7"
  CHECK(keys("contains=nobody").empty());
  CHECK(keys("contains=") == V{"ada", "order:7", "session:ADA", "user:ada", "user:bob"});
  // Pages: the cursor goes on after the last match.
  Json next;
  CHECK(keys("contains=ada&limit=2", &next) == V{"ada", "session:ADA"});
  REQUIRE(next.is_string());
  CHECK(keys("contains=ada&limit=2&cursor=" + next.get<std::string>()) == V{"user:ada"});
  // Combined with where: both must hold.
  Put("user:cy", R"({"n":1})", {{"Content-Type", "application/json"}});
  CHECK(keys("contains=user&where=n=1") == V{"user:cy"});
}

TEST_CASE_METHOD(ApiFixture, "clear needs confirmation and deletes only the namespace",
                 "[rocksdb]") {
  Put("a", "1");
  Put("b", "2");
  Put("c", "3", {{"KV-Namespace", "other"}});
  HttpResponse refused = Call("DELETE", "/v1/keys");
  CHECK(refused.status == 400);
  CHECK(ErrorCode(refused) == "CONFIRMATION_REQUIRED");
  CHECK(ErrorCode(Call("DELETE", "/v1/keys?prefix=")) == "CONFIRMATION_REQUIRED");  // all
  CHECK(BodyJson(Call("GET", "/v1/keys"))["keys"].size() == 2);

  HttpResponse r = Call("DELETE", "/v1/keys?confirm=1");
  CHECK(r.status == 200);
  CHECK(BodyJson(r)["deleted"] == 2);
  CHECK(BodyJson(Call("GET", "/v1/keys"))["keys"].empty());
  CHECK(Call("GET", "/v1/kv/c", "", {{"KV-Namespace", "other"}}).status == 200);
  CHECK(BodyJson(Call("DELETE", "/v1/keys", "", {{"KV-Confirm", "1"}, {"KV-Namespace", "other"}}))
            ["deleted"] == 1);
}

TEST_CASE_METHOD(ApiFixture, "DELETE /v1/keys?prefix= deletes the keys under the prefix only",
                 "[rocksdb]") {
  Put("user:1", "a");
  Put("user:2", "b");
  Put("user", "c");
  Put("users", "d");
  Put("user:3", "e", {{"KV-Namespace", "other"}});
  HttpResponse r = Call("DELETE", "/v1/keys?prefix=user%3A");  // no confirmation: it is named
  CHECK(r.status == 200);
  CHECK(BodyJson(r) == Json({{"deleted", 2}}));
  CHECK(Call("GET", "/v1/kv/user:1").status == 404);
  CHECK(Call("GET", "/v1/kv/user").status == 200);
  CHECK(Call("GET", "/v1/kv/users").status == 200);
  CHECK(Call("GET", "/v1/kv/user:3", "", {{"KV-Namespace", "other"}}).status == 200);
  CHECK(BodyJson(Call("GET", "/v1/stats"))["keys"] == 2);
  CHECK(BodyJson(Call("DELETE", "/v1/keys?prefix=user:"))["deleted"] == 0);
}

TEST_CASE_METHOD(ApiFixture, "stats and namespaces count keys and bytes", "[rocksdb]") {
  auto empty = BodyJson(Call("GET", "/v1/stats?ns=never"));
  CHECK(empty["keys"] == 0);
  CHECK(empty["namespace"] == "never");
  Put("ab", "1234");
  Put("cd", "56");
  Put("x", "1", {{"KV-Namespace", "prod"}, {"KV-App-Name", "web"}});
  auto s = BodyJson(Call("GET", "/v1/stats"));
  CHECK(s["namespace"] == "default");
  CHECK(s["app"] == "default");
  CHECK(s["keys"] == 2);
  CHECK(s["bytes"] == 2 + 4 + 2 + 2);
  CHECK(s["quota_bytes"].get<uint64_t>() > 0);
  CHECK(s["revision"].get<uint64_t>() >= 3);

  std::string acme = NewToken("acme");
  Tcp("PUT", "/v1/kv/k", acme, "v");
  auto list = BodyJson(Call("GET", "/v1/namespaces"))["namespaces"];
  REQUIRE(list.size() == 2);
  CHECK(list[0]["tenant"] == "local");
  CHECK(list[0]["namespace"] == "default");
  CHECK(list[0]["keys"] == 2);
  CHECK(list[1]["namespace"] == "prod");
  CHECK(list[1]["app"] == "web");
  auto all = BodyJson(Call("GET", "/v1/namespaces?all=1"))["namespaces"];
  CHECK(all.size() == 3);
}

// ---------------------------------------------------------------- watch

std::vector<Json> RunStream(const HttpResponse& r, size_t max_lines) {
  REQUIRE(r.stream);
  CollectingWriter writer(max_lines);
  r.stream(writer);
  return writer.Lines();
}

TEST_CASE_METHOD(ApiFixture, "watch replays from a revision, filtered to the namespace and prefix",
                 "[rocksdb]") {
  HttpResponse before = Call("GET", "/v1/stats");
  uint64_t start = BodyJson(before)["revision"];
  Put("user:1", R"({"n":1})", {{"Content-Type", "application/json"}});
  Put("other", "x");
  Put("user:1", "two");
  Put("user:2", "elsewhere", {{"KV-Namespace", "prod"}});
  Call("DELETE", "/v1/kv/user:1");
  Call("PUT", "/v1/kv/user:9?ttl=1s", "soon");

  HttpResponse r = Call("GET", "/v1/watch?prefix=user:&follow=0&since=" + std::to_string(start));
  CHECK(r.status == 200);
  CHECK(Header(r, "Content-Type") == "application/x-ndjson");
  CHECK(Header(r, "KV-Revision") == std::to_string(start));
  auto lines = RunStream(r, 100);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0]["type"] == "create");
  CHECK(lines[0]["key"] == "user:1");
  CHECK(lines[0]["namespace"] == "default");
  CHECK(lines[0]["app"] == "default");
  CHECK(lines[0]["value"] == Json::parse(R"({"n":1})"));
  CHECK(lines[0]["encoding"] == "json");
  CHECK(lines[0]["revision"].get<uint64_t>() > start);
  CHECK(lines[0]["time_ms"] == clock->NowMs());
  CHECK(lines[1]["type"] == "update");
  CHECK(lines[1]["value"] == "two");
  CHECK(lines[1]["size"] == 3);
  CHECK(lines[2]["type"] == "delete");
  CHECK(lines[3]["type"] == "create");
  CHECK(lines[3]["expire_at_ms"] == clock->NowMs() + 1000);
  for (size_t i = 1; i < lines.size(); ++i) {
    CHECK(lines[i]["revision"].get<uint64_t>() > lines[i - 1]["revision"].get<uint64_t>());
  }

  // Another namespace sees its own events only.
  auto prod = RunStream(
      Call("GET", "/v1/watch?follow=0&ns=prod&since=" + std::to_string(start)), 100);
  REQUIRE(prod.size() == 1);
  CHECK(prod[0]["key"] == "user:2");
  CHECK(prod[0]["namespace"] == "prod");
}

// A DOM would round the 23-digit integer, write 2.50 as 2.5 and 1e3 as
// 1000.0, and might reorder members: listings and events embed the value's
// own text instead, and ?values=bytes gives the bytes themselves.
TEST_CASE_METHOD(ApiFixture, "listings and events keep a JSON value's own text",
                 "[rocksdb]") {
  const std::string one_line = R"({"z": 2.50, "a": [1e3, 12345678901234567890123]})";
  const std::string pretty = "{\n  \"z\": 2.50,\n  \"a\": [1e3]\n}\n";
  const std::string start =
      std::to_string(BodyJson(Call("GET", "/v1/stats"))["revision"].get<uint64_t>());
  Put("j:1", one_line, {{"Content-Type", "application/json"}});
  Put("j:2", pretty, {{"Content-Type", "application/json"}});

  HttpResponse list = Call("GET", "/v1/keys?prefix=j:&values=1");
  CHECK(list.body.find(
            R"("value":{"z": 2.50, "a": [1e3, 12345678901234567890123]},"encoding":"json")") !=
        std::string::npos);
  CHECK(list.body.find(R"("value":{"z":2.50,"a":[1e3]},"encoding":"json")") != std::string::npos);
  HttpResponse events = Call("GET", "/v1/watch?prefix=j:&follow=0&since=" + start);
  REQUIRE(events.stream);
  CollectingWriter writer(100);
  events.stream(writer);
  CHECK(writer.data().find(R"("value":{"z":2.50,"a":[1e3]},"encoding":"json")") !=
        std::string::npos);

  auto bytes = BodyJson(Call("GET", "/v1/keys?prefix=j:&values=bytes"));
  REQUIRE(bytes["keys"].size() == 2);
  CHECK(bytes["keys"][0]["value"] == one_line);
  CHECK(bytes["keys"][0]["encoding"] == "text");
  CHECK(bytes["keys"][1]["value"] == pretty);
  auto byte_events =
      RunStream(Call("GET", "/v1/watch?prefix=j:&follow=0&values=bytes&since=" + start), 100);
  REQUIRE(byte_events.size() == 2);
  CHECK(byte_events[1]["value"] == pretty);
  CHECK(byte_events[1]["encoding"] == "text");
  auto no_values =
      RunStream(Call("GET", "/v1/watch?prefix=j:&follow=0&values=0&since=" + start), 100);
  REQUIRE(no_values.size() == 2);
  CHECK(!no_values[0].contains("value"));
  CHECK(Call("GET", "/v1/watch?values=all").status == 400);
}

TEST_CASE_METHOD(ApiFixture, "watch follows live changes and ends when the client goes away",
                 "[rocksdb]") {
  HttpResponse r = Call("GET", "/v1/watch?prefix=live");
  REQUIRE(r.stream);
  CollectingWriter writer(2);
  std::thread producer([&] { r.stream(writer); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Put("ignored", "x");
  Put("live:1", "a");
  Put("live:2", "b");
  producer.join();  // returns once the writer reports the client gone
  auto lines = writer.Lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["key"] == "live:1");
  CHECK(lines[1]["key"] == "live:2");

  // A client that goes away while nothing happens is noticed too.
  HttpResponse idle = Call("GET", "/v1/watch");
  CollectingWriter idle_writer(100);
  std::thread idle_producer([&] { idle.stream(idle_writer); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  idle_writer.Close();
  idle_producer.join();
  CHECK(idle_writer.data().empty());
}

TEST_CASE_METHOD(ApiFixture, "watch errors", "[rocksdb]") {
  for (const char* target : {"/v1/watch?since=x", "/v1/watch?since=-1", "/v1/watch?follow=2"}) {
    INFO(target);
    HttpResponse r = Call("GET", target);
    CHECK(r.status == 400);
    CHECK(ErrorCode(r) == "BAD_REQUEST");
    CHECK(!r.stream);
  }
  CHECK(Call("POST", "/v1/watch").status == 405);
}

TEST_CASE("watch from a trimmed revision is 410 REVISION_GONE", "[rocksdb]") {
  ApiFixture f;
  store::StoreOptions o;
  o.data_dir = f.dir.Sub("data2");
  o.clock = f.clock;
  o.expiry_worker = false;
  o.event_retention_ms = 1000;
  auto opened = store::Store::Open(o);
  REQUIRE(opened.ok());
  Router router(**opened, *f.tokens, ApiOptions{});
  for (int i = 0; i < 3; ++i) {
    REQUIRE(router.Handle(ApiFixture::Request("PUT", "/v1/kv/k" + std::to_string(i), "v"))
                .status == 201);
  }
  f.clock->Advance(5000);
  REQUIRE((*opened)->ExpireDue().ok());  // trims the event log
  REQUIRE(router.Handle(ApiFixture::Request("PUT", "/v1/kv/later", "v")).status == 201);
  HttpResponse r = router.Handle(ApiFixture::Request("GET", "/v1/watch?since=0"));
  INFO(r.body);
  CHECK(r.status == 410);
  CHECK(ErrorCode(r) == "REVISION_GONE");
  CHECK(!r.stream);
}

}  // namespace
}  // namespace kv::daemon

namespace kv::daemon {
namespace {

TEST_CASE_METHOD(ApiFixture, "POST /v1/batch writes many keys in one request", "[rocksdb]") {
  Put("taken", "old");
  std::string body =
      R"({"key":"a","value":"{\"n\":1}","content_type":"application/json"})"
      "\n"
      R"({"key":"b","value":"AAH/","encoding":"base64","ttl_ms":60000})"
      "\n\n"
      R"({"key":"taken","value":"new","if_absent":true})"
      "\n";
  HttpResponse r = Call("POST", "/v1/batch", body, {{"KV-Namespace", "bulk"}});
  REQUIRE(r.status == 200);
  Json j = BodyJson(r);
  CHECK(j["written"] == 3);
  CHECK(j["failed"] == 0);
  HttpResponse a = Call("GET", "/v1/kv/a", "", {{"KV-Namespace", "bulk"}});
  CHECK(a.body == R"({"n":1})");
  CHECK(Header(a, "Content-Type") == "application/json");
  HttpResponse b = Call("GET", "/v1/kv/b", "", {{"KV-Namespace", "bulk"}});
  CHECK(b.body == std::string("\x00\x01\xff", 3));
  CHECK(!Header(b, "KV-TTL-Ms").empty());
  // "taken" lives in the default namespace, so in "bulk" it was created.
  CHECK(Call("GET", "/v1/kv/taken", "", {{"KV-Namespace", "bulk"}}).body == "new");

  HttpResponse again = Call("POST", "/v1/batch",
                            R"({"key":"taken","value":"newer","if_absent":true})", {});
  Json k = BodyJson(again);
  CHECK(k["written"] == 0);
  CHECK(k["failed"] == 1);
  CHECK(k["errors"][0]["index"] == 0);
  CHECK(k["errors"][0]["status"] == 412);
  CHECK(k["errors"][0]["key"] == "taken");
  CHECK(Call("GET", "/v1/kv/taken").body == "old");
}

TEST_CASE_METHOD(ApiFixture, "POST /v1/batch refuses a bad line and writes nothing",
                 "[rocksdb]") {
  HttpResponse r = Call("POST", "/v1/batch",
                        "{\"key\":\"a\",\"value\":\"1\"}\n{\"key\":\"b\"}\n", {});
  CHECK(r.status == 400);
  CHECK(BodyJson(r)["error"] == "line 2: missing \"value\" (a string)");
  CHECK(Call("GET", "/v1/kv/a").status == 404);
  CHECK(Call("POST", "/v1/batch", "not json", {}).status == 400);
  CHECK(Call("GET", "/v1/batch").status == 405);
  // Each bad line is named with what is wrong with it, and nothing lands.
  const std::pair<const char*, const char*> bad[] = {
      {R"({"key":"a","value":"1"} trailing)",
       "line 1: not a JSON object (unexpected text after the object at byte 25)"},
      {R"({"key":"a","value":1})", "line 1: \"value\" must be a string"},
      {R"({"key":"a","value":"1","if_absent":"yes"})", "line 1: \"if_absent\" must be true or false"},
      {R"({"key":"a","value":"1","ttl_ms":1.5})", "line 1: \"ttl_ms\" must be a positive integer"},
      {R"({"key":"a","value":"1","ttl_ms":0})", "line 1: \"ttl_ms\" must be a positive integer"},
      {R"({"key":"a","value":"1","if_absent":true,"if_match":"3"})", "line 1: at most one condition per item"},
      {R"({"key":"a","value":"1","if_match":"3x"})", "line 1: \"if_match\" must be an ETag"},
      {R"({"key":"a","value":"1","encoding":"hex"})", "line 1: \"encoding\" must be text or base64"},
      {R"({"key":"a","value":"*","encoding":"base64"})", "line 1: \"value\" is not base64"},
      {"{\"key\":\"a\",\"value\":\"\xff\"}", "line 1: not a JSON object (string is not valid UTF-8 at byte 21)"},
  };
  for (const auto& [line, error] : bad) {
    HttpResponse b = Call("POST", "/v1/batch", line, {});
    INFO(line);
    CHECK(b.status == 400);
    CHECK(BodyJson(b)["error"] == error);
  }
  CHECK(Call("GET", "/v1/kv/a").status == 404);
}

}  // namespace
}  // namespace kv::daemon
