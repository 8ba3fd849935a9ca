// Durations and sizes as people type them: "500ms", "30s", "5m", "1h", "7d";
// "512", "64KiB", "10MiB", "1GB". Shared by kv's flags and kvd's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kv {

// Parses a positive duration into milliseconds. A bare number is seconds
// (as in `redis-cli EXPIRE` and simple-golang-kv's ttl). Units: ms, s, m, h, d;
// they may be combined ("1h30m"). Returns InvalidArgument for anything else,
// zero, or an overflow.
Result<int64_t> ParseDurationMs(std::string_view text);
// The longest duration (and TTL) kv takes: 100 years, so that now + TTL never
// comes near int64's end.
inline constexpr int64_t kMaxDurationMs = 100LL * 365 * 86'400'000;

// "1h2m3s", "250ms", "0s": the shortest exact rendering of a millisecond count.
std::string FormatDurationMs(int64_t ms);

// Parses a byte size: a number with an optional unit B, K/KB/KiB, M/MB/MiB,
// G/GB/GiB, T/TB/TiB (all binary: a daemon's limits are counted in bytes).
// Returns InvalidArgument for anything else or an overflow.
Result<uint64_t> ParseSize(std::string_view text);

}  // namespace kv
