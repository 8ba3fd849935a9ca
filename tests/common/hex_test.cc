#include <catch2/catch.hpp>

#include "common/hex.h"

namespace kv {
namespace {

TEST_CASE("hex round-trips every byte, and reads either case", "[unit]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  std::string hex = HexEncode(all);
  CHECK(hex.substr(0, 6) == "000102");
  CHECK(hex.substr(hex.size() - 4) == "feff");
  CHECK(HexDecode(hex) == all);
  CHECK(HexDecode("DEADbeef") == std::string("\xde\xad\xbe\xef"));
  CHECK(HexDecode("") == std::string());
}

TEST_CASE("hex refuses an odd length and other characters", "[unit]") {
  CHECK_FALSE(HexDecode("abc"));
  CHECK_FALSE(HexDecode("0g"));
  CHECK_FALSE(HexDecode("00 1"));
  CHECK_FALSE(HexDecode("0a\n"));
}

}  // namespace
}  // namespace kv
