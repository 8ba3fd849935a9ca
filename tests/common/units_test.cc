#include "common/units.h"

#include <catch2/catch.hpp>

namespace kv {

TEST_CASE("durations parse as people type them", "[unit]") {
  CHECK(*ParseDurationMs("500ms") == 500);
  CHECK(*ParseDurationMs("30s") == 30'000);
  CHECK(*ParseDurationMs("5m") == 300'000);
  CHECK(*ParseDurationMs("1h") == 3'600'000);
  CHECK(*ParseDurationMs("7d") == 7 * 86'400'000LL);
  CHECK(*ParseDurationMs("1h30m") == 5'400'000);
  CHECK(*ParseDurationMs("90") == 90'000);  // bare number: seconds
}

TEST_CASE("bad durations are refused with a message naming them", "[unit]") {
  for (const char* bad : {"", "0s", "-5s", "5x", "s", "1.5h", "1m30", "5 s", "99999999999999999999d"}) {
    INFO(bad);
    auto r = ParseDurationMs(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsInvalidArgument());
  }
  CHECK(ParseDurationMs("5x").status().message() ==
        "bad duration '5x' (use e.g. 500ms, 30s, 5m, 1h, 7d)");
}

TEST_CASE("durations format back compactly", "[unit]") {
  CHECK(FormatDurationMs(5'400'000) == "1h30m");
  CHECK(FormatDurationMs(1500) == "1s500ms");
  CHECK(FormatDurationMs(0) == "0s");
}

TEST_CASE("sizes take binary suffixes", "[unit]") {
  CHECK(*ParseSize("512") == 512);
  CHECK(*ParseSize("64KiB") == 64 * 1024);
  CHECK(*ParseSize("10MiB") == 10u << 20);
  CHECK(*ParseSize("1gb") == 1u << 30);
  CHECK(*ParseSize("2T") == (uint64_t{2} << 40));
  CHECK_FALSE(ParseSize("").ok());
  CHECK_FALSE(ParseSize("10 MiB").ok());
  CHECK_FALSE(ParseSize("1.5G").ok());
  CHECK_FALSE(ParseSize("99999999999999999999T").ok());
}

}  // namespace kv
