#include "common/base64.h"

#include <catch2/catch.hpp>

namespace kv {

TEST_CASE("base64 matches RFC 4648 vectors", "[unit]") {
  CHECK(Base64Encode("") == "");
  CHECK(Base64Encode("f") == "Zg==");
  CHECK(Base64Encode("fo") == "Zm8=");
  CHECK(Base64Encode("foo") == "Zm9v");
  CHECK(Base64Encode("foobar") == "Zm9vYmFy");
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK(*Base64Decode("Zm9vYmE=") == "fooba");
  CHECK(*Base64Decode("-_8") == "\xfb\xff");
  CHECK_FALSE(Base64Decode("Zm9v!").has_value());
  CHECK_FALSE(Base64Decode("Z").has_value());
}

TEST_CASE("base64 round-trips every byte", "[unit]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  CHECK(*Base64Decode(Base64Encode(all)) == all);
  CHECK(*Base64Decode(Base64UrlEncode(all)) == all);
}

}  // namespace kv
