#include "common/units.h"

#include <cctype>
#include <limits>

namespace kv {
namespace {

bool ParseDigits(std::string_view s, size_t* pos, uint64_t* out) {
  size_t start = *pos;
  uint64_t v = 0;
  while (*pos < s.size() && std::isdigit(static_cast<unsigned char>(s[*pos]))) {
    uint64_t d = static_cast<uint64_t>(s[*pos] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
    ++*pos;
  }
  *out = v;
  return *pos > start;
}

bool MulAdd(uint64_t a, uint64_t b, uint64_t* acc) {
  if (b != 0 && a > std::numeric_limits<uint64_t>::max() / b) return false;
  uint64_t p = a * b;
  if (*acc > std::numeric_limits<uint64_t>::max() - p) return false;
  *acc += p;
  return true;
}

}  // namespace

Result<int64_t> ParseDurationMs(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("bad duration '" + std::string(text) +
                                   "' (use e.g. 500ms, 30s, 5m, 1h, 7d)");
  };
  if (text.empty()) return bad();
  uint64_t total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t component_start = pos;
    uint64_t n;
    if (!ParseDigits(text, &pos, &n)) return bad();
    size_t unit_start = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    std::string_view unit = text.substr(unit_start, pos - unit_start);
    uint64_t scale;
    if (unit.empty()) {
      // A bare number means seconds, but only as the whole text ("90", not "1m30").
      if (component_start != 0 || unit_start != text.size()) return bad();
      scale = 1000;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else if (unit == "d") {
      scale = 86'400'000;
    } else {
      return bad();
    }
    if (!MulAdd(n, scale, &total)) return bad();
  }
  if (total == 0) return bad();
  if (total > static_cast<uint64_t>(kMaxDurationMs)) {
    return Status::InvalidArgument("duration '" + std::string(text) +
                                   "' is longer than 100 years");
  }
  return static_cast<int64_t>(total);
}

std::string FormatDurationMs(int64_t ms) {
  if (ms <= 0) return "0s";
  std::string out;
  struct Unit {
    int64_t size;
    const char* name;
  };
  static constexpr Unit kUnits[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const Unit& u : kUnits) {
    if (ms >= u.size) {
      out += std::to_string(ms / u.size) + u.name;
      ms %= u.size;
    }
  }
  return out;
}

Result<uint64_t> ParseSize(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("bad size '" + std::string(text) +
                                   "' (use e.g. 1024, 64KiB, 10MiB, 1GiB)");
  };
  size_t pos = 0;
  uint64_t n;
  if (!ParseDigits(text, &pos, &n)) return bad();
  std::string unit;
  for (char c : text.substr(pos)) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint64_t scale;
  if (unit.empty() || unit == "b") {
    scale = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    scale = uint64_t{1} << 10;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    scale = uint64_t{1} << 20;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    scale = uint64_t{1} << 30;
  } else if (unit == "t" || unit == "tb" || unit == "tib") {
    scale = uint64_t{1} << 40;
  } else {
    return bad();
  }
  uint64_t total = 0;
  if (!MulAdd(n, scale, &total)) return bad();
  return total;
}

}  // namespace kv
