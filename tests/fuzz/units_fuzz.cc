// fuzz_units: the duration and size parsers (common/units.h) that every
// TTL, --timeout and size flag goes through, on kv's and kvd's side.
//
// Oracles: the sanitizers; an accepted duration is in 1..kMaxDurationMs and
// FormatDurationMs renders it as text that parses back to the same value; an
// accepted size, written as plain digits, parses back to itself; formatting
// any 64-bit count (negative included) is safe.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/units.h"
#include "tests/fuzz/fuzz_fail.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kv::fuzz::Fail;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  kv::Result<int64_t> ms = kv::ParseDurationMs(text);
  if (ms.ok()) {
    if (*ms <= 0 || *ms > kv::kMaxDurationMs) {
      Fail("duration '" + std::string(text) + "' parsed to " + std::to_string(*ms));
    }
    std::string shown = kv::FormatDurationMs(*ms);
    kv::Result<int64_t> again = kv::ParseDurationMs(shown);
    if (!again.ok() || *again != *ms) {
      Fail("FormatDurationMs(" + std::to_string(*ms) + ") = '" + shown + "' does not parse back");
    }
  }

  kv::Result<uint64_t> bytes = kv::ParseSize(text);
  if (bytes.ok()) {
    kv::Result<uint64_t> again = kv::ParseSize(std::to_string(*bytes));
    if (!again.ok() || *again != *bytes) Fail("size " + std::to_string(*bytes) + " does not parse back");
  }

  if (size >= 8) {
    int64_t n;
    std::memcpy(&n, data, sizeof n);
    (void)kv::FormatDurationMs(n);
  }
  return 0;
}
