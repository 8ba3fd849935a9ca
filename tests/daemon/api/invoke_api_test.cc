// Invoke's KV APIs through the router over a real store: the test function's
// routes at /invoke/{project} (daemon/api/invoke_api.h) and the admin export
// and import at /api/projects (daemon/api/invoke_admin_api.h).
#include "daemon/api/invoke_api.h"

#include "daemon/api/invoke_admin_api.h"
#include "tests/daemon/api/api_fixture.h"

namespace kv::daemon {
namespace {

using testing::ApiFixture;
using testing::BodyJson;
using testing::Json;

const testing::HeaderList kJson = {{"Content-Type", "application/json"}};

TEST_CASE_METHOD(ApiFixture, "invoke: set, get, has, delete and clear as the function answers",
                 "[rocksdb]") {
  HttpResponse set =
      Call("POST", "/invoke/proj/set", R"({"key": "mykey", "value": "myvalue"})", kJson);
  CHECK(set.status == 200);
  CHECK(set.body == R"({"success":true,"key":"mykey","value":"myvalue"})");
  CHECK(set.route == "/invoke/{project}/set");

  HttpResponse get = Call("GET", "/invoke/proj/get/mykey");
  CHECK(get.status == 200);
  CHECK(get.body == R"({"key":"mykey","value":"myvalue"})");
  CHECK(get.route == "/invoke/{project}/get/{key}");
  // The project is the namespace: the native API sees the string as sent.
  CHECK(Call("GET", "/v1/kv/mykey?ns=proj").body == "myvalue");
  CHECK(Call("GET", "/invoke/other/get/mykey").status == 404);

  CHECK(Call("GET", "/invoke/proj/has/mykey").body == R"({"key":"mykey","exists":true})");
  CHECK(Call("GET", "/invoke/proj/has/nope").body == R"({"key":"nope","exists":false})");

  HttpResponse missing = Call("GET", "/invoke/proj/get/nope");
  CHECK(missing.status == 404);
  CHECK(missing.body == R"({"error":"Key not found","key":"nope"})");

  CHECK(Call("DELETE", "/invoke/proj/delete/mykey").body ==
        R"({"success":true,"deleted":true,"key":"mykey"})");
  HttpResponse again = Call("DELETE", "/invoke/proj/delete/mykey");
  CHECK(again.status == 200);
  CHECK(again.body == R"({"success":true,"deleted":false,"key":"mykey"})");

  CHECK(Call("POST", "/invoke/proj/set", R"({"key":"a","value":1})", kJson).status == 200);
  CHECK(Call("POST", "/invoke/proj/set", R"({"key":"b","value":2})", kJson).status == 200);
  CHECK(Call("POST", "/invoke/other/set", R"({"key":"a","value":3})", kJson).status == 200);
  HttpResponse clear = Call("POST", "/invoke/proj/clear");
  CHECK(clear.status == 200);
  CHECK(clear.body == R"({"success":true,"message":"All keys cleared"})");
  CHECK(Call("GET", "/invoke/proj/has/a").body == R"({"key":"a","exists":false})");
  CHECK(BodyJson(Call("GET", "/invoke/other/get/a"))["value"] == 3);  // another project
}

TEST_CASE_METHOD(ApiFixture, "invoke: every JSON type round-trips", "[rocksdb]") {
  const Json values =
      Json::array({"text", "", "{\"not\":\"parsed\"}", "123", 42, -1.5, 0, true, false, nullptr,
                   Json{{"name", "John"}, {"age", 30}, {"tags", {"a", "b"}}}, Json::array(),
                   Json::object(), Json::array({1, "two", nullptr, Json{{"x", false}}})});
  for (size_t i = 0; i < values.size(); ++i) {
    const Json& value = values[i];
    INFO(value.dump());
    std::string key = "k" + std::to_string(i);
    HttpResponse set = Call("POST", "/invoke/p/set", Json{{"key", key}, {"value", value}}.dump());
    CHECK(set.status == 200);
    CHECK(BodyJson(set)["value"] == value);
    Json got = BodyJson(Call("GET", "/invoke/p/get/" + key));
    CHECK(got["value"] == value);
    CHECK(got["value"].dump() == value.dump());  // 1 stays 1, not 1.0 or "1"
  }
  // Strings are kept as they are, other values as JSON text.
  CHECK(Call("GET", "/v1/kv/k0?ns=p").body == "text");
  CHECK(Call("GET", "/v1/kv/k3?ns=p").body == "123");
  CHECK(Call("GET", "/v1/kv/k4?ns=p").body == "42");
  // (nlohmann::json sent the object's keys sorted.)
  CHECK(Call("GET", "/v1/kv/k10?ns=p").body == R"({"age":30,"name":"John","tags":["a","b"]})");
}

TEST_CASE_METHOD(ApiFixture, "invoke: TTL in milliseconds, has is false once expired",
                 "[rocksdb]") {
  CHECK(Call("POST", "/invoke/p/set", R"({"key": "session", "value": "token123", "ttl": 3600000})",
             kJson)
            .status == 200);
  CHECK(BodyJson(Call("GET", "/v1/kv/session/meta?ns=p"))["ttl_ms"] == 3600000);
  clock->Advance(3599999);
  CHECK(BodyJson(Call("GET", "/invoke/p/has/session"))["exists"] == true);
  clock->Advance(1);
  CHECK(BodyJson(Call("GET", "/invoke/p/has/session"))["exists"] == false);
  CHECK(Call("GET", "/invoke/p/get/session").status == 404);
  // ttl 0 means none.
  CHECK(Call("POST", "/invoke/p/set", R"({"key":"k","value":1,"ttl":0})", kJson).status == 200);
  CHECK(BodyJson(Call("GET", "/v1/kv/k/meta?ns=p"))["ttl_ms"].is_null());
}

TEST_CASE_METHOD(ApiFixture, "invoke: bad input is a clear 400 and changes nothing", "[rocksdb]") {
  struct Case {
    std::string body;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "Key is required"},
      {R"({"value":"v"})", "Key is required"},
      {R"({"key":"","value":"v"})", "Key is required"},
      {R"({"key":"k"})", "Value is required"},
      {R"({"key":5,"value":"v"})", "Key must be a string"},
      {R"({"key":"k","value":"v","ttl":-1})", "ttl must be a number of milliseconds, 0 or more"},
      {R"({"key":"k","value":"v","ttl":"60"})", "ttl must be a number of milliseconds, 0 or more"},
      {R"({"key":"k",)", "Invalid JSON body"},
      {"[1]", R"j(The body must be a JSON object: {"key": ..., "value": ..., "ttl": ...})j"},
      {Json{{"key", std::string(1025, 'k')}, {"value", 1}}.dump(),
       "key is 1025 bytes, over the limit of 1024"},
  };
  for (const Case& c : cases) {
    INFO(c.body.substr(0, 60));
    HttpResponse r = Call("POST", "/invoke/p/set", c.body, kJson);
    CHECK(r.status == 400);
    CHECK(BodyJson(r) == Json{{"error", c.error}});
  }
  CHECK(Call("GET", "/invoke/p/has/k").body == R"({"key":"k","exists":false})");
  CHECK(BodyJson(Call("GET", "/v1/stats?ns=p"))["keys"] == 0);

  for (const char* target : {"/invoke/p/get/", "/invoke/p/has/"}) {
    HttpResponse r = Call("GET", target);
    CHECK(r.status == 400);
    CHECK(r.body == R"({"error":"Key is required"})");
  }
  HttpResponse bad_project = Call("GET", "/invoke/a%20b/get/k");
  CHECK(bad_project.status == 400);
  CHECK(BodyJson(bad_project)["error"].get<std::string>().find("project") != std::string::npos);
}

TEST_CASE_METHOD(ApiFixture, "invoke: unknown routes are the function's 404", "[rocksdb]") {
  for (auto [method, target] :
       {std::pair{"GET", "/invoke/p/set"}, std::pair{"POST", "/invoke/p/get/k"},
        std::pair{"GET", "/invoke/p/nope"}, std::pair{"PUT", "/invoke/p/set"}}) {
    INFO(method << " " << target);
    HttpResponse r = Call(method, target);
    CHECK(r.status == 404);
    CHECK(r.body == R"({"error":"Route not found","availableRoutes":["GET /","GET /get/:key",)"
                    R"("POST /set","DELETE /delete/:key","GET /has/:key","POST /clear"]})");
  }
  HttpResponse page = Call("GET", "/invoke/p/");
  CHECK(page.status == 200);
  CHECK(testing::Header(page, "Content-Type") == "text/html");
  CHECK(Call("GET", "/invoke/p").status == 200);
}

TEST_CASE("invoke: the project's quota is enforced on every set: 413, nothing written",
          "[rocksdb]") {
  ApiFixture f;
  REQUIRE(f.store->SetQuota("local/p/default", 100).ok());
  // key (2 bytes) + "x" * 90: 92 bytes, within the quota.
  Json first = {{"key", "k1"}, {"value", std::string(90, 'x')}};
  CHECK(f.Call("POST", "/invoke/p/set", first.dump(), kJson).status == 200);
  Json second = {{"key", "k2"}, {"value", std::string(10, 'y')}};
  HttpResponse over = f.Call("POST", "/invoke/p/set", second.dump(), kJson);
  CHECK(over.status == 413);
  std::string error = BodyJson(over)["error"];
  CHECK(error.find("quota exceeded") != std::string::npos);
  CHECK(f.Call("GET", "/invoke/p/has/k2").body == R"({"key":"k2","exists":false})");
  // Overwriting with a smaller value fits again: usage counts the new size.
  CHECK(f.Call("POST", "/invoke/p/set", R"({"key":"k1","value":"small"})", kJson).status == 200);
  CHECK(f.Call("POST", "/invoke/p/set", second.dump(), kJson).status == 200);
  // Usage is keys plus values: k1 + "small", k2 + 10 bytes.
  CHECK(BodyJson(f.Call("GET", "/v1/stats?ns=p"))["bytes"] == 2 + 5 + 2 + 10);
}

TEST_CASE_METHOD(ApiFixture, "invoke admin: export is Invoke's JSON object file", "[rocksdb]") {
  CHECK(Call("POST", "/invoke/p/set", R"({"key":"user","value":{"name":"John","age":30}})", kJson)
            .status == 200);
  CHECK(Call("POST", "/invoke/p/set", R"({"key":"count","value":"123"})", kJson).status == 200);
  HttpResponse r = Call("GET", "/api/projects/p/kv-export");
  CHECK(r.status == 200);
  CHECK(r.route == "/api/projects/{project}/kv-export");
  CHECK(testing::Header(r, "Content-Type") == "application/json");
  CHECK(testing::Header(r, "Content-Disposition") ==
        "attachment; filename=\"kv-export-p-" + std::to_string(clock->NowMs()) + ".json\"");
  CHECK(
      r.body ==
      "{\n  \"count\": \"123\",\n  \"user\": {\n    \"name\": \"John\",\n    \"age\": 30\n  }\n}");
  CHECK(Call("GET", "/api/projects/empty/kv-export").body == "{}");
  HttpResponse wrong = Call("POST", "/api/projects/p/kv-export");
  CHECK(wrong.status == 405);
  CHECK(BodyJson(wrong)["message"] == "Method not allowed");
  CHECK(Call("GET", "/api/projects/system/kv-export").status == 403);
}

TEST_CASE_METHOD(ApiFixture, "invoke admin: import merges or replaces, and refuses cleanly",
                 "[rocksdb]") {
  CHECK(Call("POST", "/invoke/p/set", R"({"key":"keep","value":"old"})", kJson).status == 200);
  CHECK(Call("POST", "/invoke/p/set", R"({"key":"a","value":"old"})", kJson).status == 200);

  HttpResponse merge =
      Call("POST", "/api/projects/p/kv-import", R"({"data":{"a":1,"b":[true],"c":"123"}})", kJson);
  CHECK(merge.status == 200);
  Json m = BodyJson(merge);
  CHECK(m["success"] == true);
  CHECK(m["data"] == Json{{"imported", 2}, {"updated", 1}, {"total", 3}, {"strategy", "merge"}});
  CHECK(m["message"] == "Import completed successfully");
  CHECK(m["statusCode"] == 200);
  CHECK(m["timestamp"].get<std::string>().size() == 24);
  CHECK(BodyJson(Call("GET", "/invoke/p/get/keep"))["value"] == "old");
  CHECK(BodyJson(Call("GET", "/invoke/p/get/a"))["value"] == 1);
  CHECK(BodyJson(Call("GET", "/invoke/p/get/b"))["value"] == Json::array({true}));
  CHECK(BodyJson(Call("GET", "/invoke/p/get/c"))["value"] == "123");  // stays a string

  HttpResponse replace = Call("POST", "/api/projects/p/kv-import",
                              R"({"data":{"x":{"y":null}},"strategy":"replace"})", kJson);
  CHECK(replace.status == 200);
  CHECK(BodyJson(replace)["data"] ==
        Json{{"imported", 1}, {"updated", 0}, {"total", 1}, {"strategy", "replace"}});
  CHECK(Call("GET", "/api/projects/p/kv-export").body == "{\n  \"x\": {\n    \"y\": null\n  }\n}");

  // Refusals change nothing.
  struct Case {
    std::string body;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"({"data":[1,2]})", 400, "Data must be a JSON object with key-value pairs"},
      {R"({"strategy":"merge"})", 400, "Data must be a JSON object with key-value pairs"},
      {R"({"data":{"k":1},"strategy":"upsert"})", 400,
       R"(Strategy must be either "merge" or "replace")"},
      {R"({"data":{"ok":1,"":2},"strategy":"replace"})", 400, "Key '': key is empty"},
      {"{", 400, "Invalid JSON body"},
  };
  for (const Case& c : cases) {
    INFO(c.body);
    HttpResponse r = Call("POST", "/api/projects/p/kv-import", c.body, kJson);
    CHECK(r.status == c.status);
    Json j = BodyJson(r);
    CHECK(j["success"] == false);
    CHECK(j["data"].is_null());
    CHECK(j["message"] == c.message);
    CHECK(j["statusCode"] == c.status);
  }
  REQUIRE(store->SetQuota("local/p/default", 50).ok());
  HttpResponse quota =
      Call("POST", "/api/projects/p/kv-import",
           Json{{"data", {{"big", std::string(60, 'z')}}}, {"strategy", "replace"}}.dump(), kJson);
  CHECK(quota.status == 413);
  CHECK(BodyJson(quota)["message"] ==
        "Import would exceed storage quota. Projected usage: 0.00MB, Limit: 0.00MB");
  CHECK(Call("GET", "/api/projects/p/kv-export").body == "{\n  \"x\": {\n    \"y\": null\n  }\n}");
}

}  // namespace
}  // namespace kv::daemon
