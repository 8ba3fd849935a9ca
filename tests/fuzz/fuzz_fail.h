// Fail: what a fuzz target calls when one of its oracles finds a bug. It
// aborts, so libFuzzer saves the input as a crash-* artifact.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace kv::fuzz {

[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz oracle failed: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace kv::fuzz
