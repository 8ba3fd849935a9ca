// SanitizerEnv(): ASAN_OPTIONS, UBSAN_OPTIONS and LSAN_OPTIONS of this test
// process, as "NAME=VALUE" entries, for the tests that give a child kv or kvd
// an environment of their own. Under ./dev test's asan pass they say where a
// sanitized child writes its reports (tests/support/sanitizer_run.sh) and
// which third-party leaks to ignore; a child without them would report to a
// stderr the test may not read. Empty outside a sanitized run.
//
// kAddressSanitizer: this test is built with AddressSanitizer, and so are the
// kv and kvd it runs (one build, KV_SANITIZE). Such a process's RSS is mostly
// the sanitizer's (freed memory held back to catch a use after free, shadow
// memory, redzones), so the memory bounds of the tests hold in the plain build
// only; in the sanitized one LeakSanitizer checks each kv and kvd that exits.
//
// ForwardSanitizerReport(stderr_text, source): a child's stderr (or a log
// file it went to) that holds a sanitizer report is written where
// sanitizer_run.sh looks, as report.stderr-SOURCE, failing the test.
// For UBSan: GCC's runtime ignores log_path when ASan is loaded too (both
// libraries export __sanitizer_set_report_path, and ASan's is the one
// called), so UBSan's reports go to stderr whatever the options say. The
// tests' process runners call it with what they collected of a child's stderr.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace kv::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

inline std::vector<std::string> SanitizerEnv() {
  std::vector<std::string> out;
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) out.push_back(std::string(name) + "=" + value);
  }
  return out;
}

// The directory sanitizer_run.sh gave this test for its reports, or nullptr
// when the test runs without it (a plain build, or by hand).
inline const char* SanitizerReportDir() { return std::getenv("KV_SANITIZER_REPORT_DIR"); }

inline void ForwardSanitizerReport(const std::string& stderr_text, const std::string& source) {
  const char* dir = SanitizerReportDir();
  if (dir == nullptr) return;
  for (const char* marker :
       {": runtime error: ", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer"}) {
    if (stderr_text.find(marker) != std::string::npos) {
      std::ofstream(std::string(dir) + "/report.stderr-" + source) << stderr_text;
      return;
    }
  }
}

}  // namespace kv::testing
