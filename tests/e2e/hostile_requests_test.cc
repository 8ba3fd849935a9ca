// Nasty requests, byte for byte, to a real kvd over TCP: bad keys, TTLs that
// are negative or absurd, malformed JSON, duplicate and conflicting headers,
// a Content-Length that lies, broken chunked bodies, request smuggling
// shapes, unknown methods. Each gets its documented status and one JSON error,
// and none of them changes the store.
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/daemon/http/raw_client.h"
#include "tests/e2e/kvd_process.h"
#include "tests/support/temp_dir.h"

namespace kv::e2e {
namespace {

using kv::testing::KvdProcess;
using kv::testing::RawConnection;
using kv::testing::RawResponse;
using kv::testing::TempDir;
using namespace std::chrono_literals;

struct Nasty {
  const char* what;
  std::string request;  // the whole request, as sent
  int status;
};

std::string Req(const std::string& method, const std::string& target,
                const std::string& headers = "", const std::string& body = "") {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers;
  if (headers.find("Content-Length") == std::string::npos &&
      headers.find("Transfer-Encoding") == std::string::npos) {
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return r + "\r\n" + body;
}

std::optional<RawResponse> Send(uint16_t port, const std::string& raw) {
  RawConnection c;
  if (!c.ConnectTcp(port)) return std::nullopt;
  if (!c.Send(raw)) return std::nullopt;
  return c.ReadResponse(false, 5s);
}

TEST_CASE("nasty requests get their status and change nothing", "[e2e]") {
  TempDir dir("kv-hostile");
  KvdProcess kvd;
  REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock"), "--listen",
                     "127.0.0.1:0", "--no-auth"}));
  const uint16_t port = kvd.tcp_port();
  auto before = Send(port, Req("PUT", "/v1/kv/keep", "", "original"));
  REQUIRE(before);
  REQUIRE(before->status == 201);

  const std::string long_key(1025, 'k');
  const std::vector<Nasty> table = {
      {"a NUL in the key", Req("PUT", "/v1/kv/a%00b", "", "x"), 400},
      {"a 1025-byte key", Req("PUT", "/v1/kv/" + long_key, "", "x"), 400},
      {"an empty key", Req("PUT", "/v1/kv/", "", "x"), 400},
      {"no key at all", Req("DELETE", "/v1/kv"), 400},
      {"dot segments read no file", Req("GET", "/v1/kv/..%2F..%2Fetc%2Fpasswd"), 404},
      {"a bad percent escape", Req("GET", "/v1/kv/%ZZ"), 400},
      {"a negative TTL", Req("PUT", "/v1/kv/t?ttl=-5s", "", "x"), 400},
      {"a TTL of 274 million years", Req("PUT", "/v1/kv/t?ttl=99999999999d", "", "x"), 400},
      {"a TTL past int64", Req("PUT", "/v1/kv/t?ttl=106751991167d", "", "x"), 400},
      {"a TTL with no unit it knows", Req("PUT", "/v1/kv/t?ttl=5y", "", "x"), 400},
      {"two KV-TTL headers", Req("PUT", "/v1/kv/t", "KV-TTL: 10s\r\nKV-TTL: 20s\r\n", "x"), 400},
      {"?ttl= and KV-TTL disagree", Req("PUT", "/v1/kv/t?ttl=1s", "KV-TTL: 2s\r\n", "x"), 400},
      {"a merge patch that is not JSON",
       Req("PATCH", "/v1/kv/keep", "Content-Type: application/merge-patch+json\r\n", "{\"a\":"),
       400},
      {"a batch that is not JSON", Req("POST", "/v1/batch", "", "{nope"), 400},
      {"incr by a word", Req("POST", "/v1/kv/keep/incr?by=abc"), 400},
      {"incr of a value that is not a number", Req("POST", "/v1/kv/keep/incr"), 409},
      {"an If-Match that matches nothing", Req("PUT", "/v1/kv/keep", "If-Match: \"999\"\r\n", "x"),
       412},
      {"two different Content-Lengths",
       Req("PUT", "/v1/kv/d", "Content-Length: 1\r\nContent-Length: 2\r\n", "xy"), 400},
      {"a negative Content-Length", Req("PUT", "/v1/kv/n", "Content-Length: -1\r\n"), 400},
      {"a broken chunk size",
       Req("PUT", "/v1/kv/c", "Transfer-Encoding: chunked\r\n", "zz\r\nabc\r\n0\r\n\r\n"), 400},
      {"Content-Length with chunked (smuggling)",
       Req("PUT", "/v1/kv/s", "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
           "3\r\nabc\r\n0\r\n\r\n"),
       400},
      {"a NUL in a header", Req("PUT", "/v1/kv/h", std::string("X-Bad: a\0b\r\n", 12), "x"), 400},
      {"a method nobody knows", Req("BREW", "/v1/kv/keep"), 405},
      {"a path no API has", Req("GET", "/v2/kv/keep"), 404},
  };
  for (const Nasty& n : table) {
    INFO(n.what);
    auto r = Send(port, n.request);
    REQUIRE(r);
    INFO(r->body);
    CHECK(r->status == n.status);
    auto error = nlohmann::json::parse(r->body, nullptr, false);
    CHECK(error.is_object());
    CHECK(error.value("status", 0) == n.status);
  }

  {  // A Content-Length that lies: the client goes away, nothing is written.
    RawConnection c;
    REQUIRE(c.ConnectTcp(port));
    REQUIRE(c.Send("PUT /v1/kv/liar HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nabcde"));
    c.Close();
    // Only the key written first is there, as it was.
    auto keys = Send(port, Req("GET", "/v1/keys"));
    REQUIRE(keys);
    auto listed = nlohmann::json::parse(keys->body);
    REQUIRE(listed["keys"].size() == 1);
    CHECK(listed["keys"][0]["key"] == "keep");
    CHECK(listed["keys"][0]["revision"] == 1);
    auto value = Send(port, Req("GET", "/v1/kv/keep"));
    REQUIRE(value);
    CHECK(value->body == "original");
  }
}

// nlohmann's tree recurses to copy, dump and merge-patch, so one body of
// a hundred thousand '[' once took kvd down; bodies and stored values that
// nest deeper than 512 levels are now refused before a tree is built, and
// such a stored value, written as bytes, reads as a string.
TEST_CASE("JSON nested a hundred thousand deep is refused, and kvd stays up", "[e2e]") {
  TempDir dir("kv-deep");
  KvdProcess kvd;
  REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock"), "--listen",
                     "127.0.0.1:0", "--no-auth", "--max-value-bytes", "4MiB"}));
  const uint16_t port = kvd.tcp_port();
  const int n = 100000;
  const std::string deep_array = std::string(n, '[') + std::string(n, ']');
  std::string deep_object;
  for (int i = 0; i < n; ++i) deep_object += "{\"a\":";
  deep_object += "1" + std::string(n, '}');
  const std::string json_type = "Content-Type: application/json\r\n";
  const std::string patch_type = "Content-Type: application/merge-patch+json\r\n";

  auto status_of = [&](const std::string& request) {
    auto r = Send(port, request);
    REQUIRE(r);
    INFO(r->body.substr(0, 300));
    return std::pair{r->status, r->body.substr(0, 300)};
  };
  // Stored as bytes, as any value is: fine.
  CHECK(status_of(Req("PUT", "/v1/kv/deep", json_type, deep_array)).first == 201);
  CHECK(status_of(Req("PUT", "/v1/kv/deepo", json_type, deep_object)).first == 201);

  auto [patch_status, patch_body] =
      status_of(Req("PATCH", "/v1/kv/fresh", patch_type, deep_object));
  CHECK(patch_status == 400);
  CHECK(patch_body.find("the merge patch nests objects and arrays deeper than 512 levels") !=
        std::string::npos);
  auto [onto_status, onto_body] = status_of(Req("PATCH", "/v1/kv/deepo", patch_type, "{\"b\":1}"));
  CHECK(onto_status == 409);
  CHECK(onto_body.find("the stored value nests objects and arrays deeper than 512") !=
        std::string::npos);
  auto [set_status, set_body] = status_of(
      Req("POST", "/invoke/p/set", json_type, "{\"key\":\"k\",\"value\":" + deep_array + "}"));
  CHECK(set_status == 400);
  CHECK(set_body.find("deeper than 512 levels") != std::string::npos);
  CHECK(status_of(Req("POST", "/api/projects/p/kv-import", json_type,
                      "{\"data\":{\"k\":" + deep_array + "}}"))
            .first == 400);
  // A deep stored value reads back, as the string it is to a tree reader.
  CHECK(status_of(Req("GET", "/invoke/default/get/deep")).first == 200);
  CHECK(status_of(Req("GET", "/api/projects/default/kv-export")).first == 200);
  CHECK(status_of(Req("GET", "/v1/keys?values=1&where=a=1")).first == 200);

  CHECK(kvd.Running());
  // Nothing was written by the refused requests, and the values are intact.
  auto fresh = Send(port, Req("GET", "/v1/kv/fresh"));
  REQUIRE(fresh);
  CHECK(fresh->status == 404);
  auto kept = Send(port, Req("GET", "/v1/kv/deepo"));
  REQUIRE(kept);
  CHECK(kept->body == deep_object);
}

}  // namespace
}  // namespace kv::e2e
