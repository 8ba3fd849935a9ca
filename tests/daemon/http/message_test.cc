#include "daemon/http/message.h"

#include <catch2/catch.hpp>

namespace kv::daemon {

TEST_CASE("Headers compare names case-insensitively", "[http][unit]") {
  Headers h;
  h.Add("Content-Type", "text/plain");
  h.Add("X-A", "1");
  h.Add("x-a", "2");
  CHECK(h.Get("content-type") == "text/plain");
  CHECK(h.Get("X-A") == "1");
  CHECK_FALSE(h.Get("missing"));
  h.Set("X-a", "3");
  CHECK(h.Get("x-A") == "3");
  CHECK(h.fields().size() == 2);
}

TEST_CASE("PercentDecode", "[http][unit]") {
  std::string out;
  CHECK(PercentDecode("a%2Fb%20c+d", false, &out));
  CHECK(out == "a/b c+d");
  CHECK(PercentDecode("a+b%2B", true, &out));
  CHECK(out == "a b+");
  CHECK(PercentDecode("%00%ff", false, &out));
  CHECK(out == std::string("\0\xff", 2));
  CHECK_FALSE(PercentDecode("%", false, &out));
  CHECK_FALSE(PercentDecode("%2", false, &out));
  CHECK_FALSE(PercentDecode("%zz", false, &out));
}

TEST_CASE("ParseTarget splits path and query", "[http][unit]") {
  HttpRequest r;
  REQUIRE(ParseTarget("/v1/kv/a%2Fb?ttl=5s&x&y=a+b&&z=%3D", &r));
  CHECK(r.path == "/v1/kv/a/b");
  CHECK(r.raw_path == "/v1/kv/a%2Fb");
  REQUIRE(r.query.size() == 4);
  CHECK(r.Query("ttl") == "5s");
  CHECK(r.Query("x") == "");
  CHECK(r.Query("y") == "a b");
  CHECK(r.Query("z") == "=");
  CHECK_FALSE(r.Query("w"));

  HttpRequest plain;
  REQUIRE(ParseTarget("/", &plain));
  CHECK(plain.path == "/");
  CHECK(plain.query.empty());

  HttpRequest bad;
  CHECK_FALSE(ParseTarget("http://host/x", &bad));
  CHECK_FALSE(ParseTarget("", &bad));
  CHECK_FALSE(ParseTarget("/a%zz", &bad));
  CHECK_FALSE(ParseTarget("/a?b=%", &bad));
}

}  // namespace kv::daemon
