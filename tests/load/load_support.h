// What the load tests (soak_test.cc, connections_test.cc) share: latency
// samples and their percentiles, kvd's resident memory and the memory
// RocksDB reports in /metrics, the open files limit, and settings read from
// the environment (so bench/ runs the same tests longer).
//
// Thread-safety: none; each thread keeps its own Latencies and merges them
// at the end.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/e2e/kvd_process.h"

namespace kv::load {

// An integer from the environment, or `fallback` when unset or not a
// positive number.
inline long EnvInt(const char* name, long fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr) return fallback;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return end != v && *end == '\0' && n > 0 ? n : fallback;
}

// Unix milliseconds, by the clock kvd measures TTLs with.
inline int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Request latencies in microseconds.
class Latencies {
 public:
  void Add(std::chrono::steady_clock::duration d) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    samples_.push_back(static_cast<uint32_t>(std::clamp<int64_t>(us, 0, UINT32_MAX)));
  }
  void Merge(const Latencies& other) {
    samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  }
  size_t count() const { return samples_.size(); }
  // The q-quantile (0..1) in milliseconds; 0 without samples. Sorts.
  double QuantileMs(double q) {
    if (samples_.empty()) return 0;
    size_t i = std::min(samples_.size() - 1, static_cast<size_t>(q * static_cast<double>(samples_.size())));
    std::nth_element(samples_.begin(), samples_.begin() + static_cast<long>(i), samples_.end());
    return samples_[i] / 1000.0;
  }
  double MaxMs() const {
    return samples_.empty() ? 0 : *std::max_element(samples_.begin(), samples_.end()) / 1000.0;
  }

 private:
  std::vector<uint32_t> samples_;
};

// One line of a latency table: "name count ops/s p50 p99 max".
inline void PrintLatencyRow(const std::string& name, Latencies& l, double seconds) {
  std::printf("  %-14s %9zu %9.0f %8.2f %8.2f %8.1f\n", name.c_str(), l.count(),
              seconds > 0 ? static_cast<double>(l.count()) / seconds : 0.0, l.QuantileMs(0.5),
              l.QuantileMs(0.99), l.MaxMs());
}

inline void PrintLatencyHeader() {
  std::printf("  %-14s %9s %9s %8s %8s %8s\n", "op", "count", "ops/s", "p50 ms", "p99 ms",
              "max ms");
}

// A field of /proc/PID/status in bytes ("VmRSS", "VmHWM"); 0 when missing.
inline uint64_t ProcStatusBytes(pid_t pid, std::string_view field) {
  std::string status = kv::testing::ReadWholeFile("/proc/" + std::to_string(pid) + "/status");
  size_t p = status.find(std::string(field) + ":");
  if (p == std::string::npos) return 0;
  return std::strtoull(status.c_str() + p + field.size() + 1, nullptr, 10) * 1024;
}

inline uint64_t RssBytes(pid_t pid) { return ProcStatusBytes(pid, "VmRSS"); }

// "Max open files" of a process: {soft, hard}; {0, 0} when unreadable.
inline std::pair<uint64_t, uint64_t> OpenFilesLimit(pid_t pid) {
  std::string limits = kv::testing::ReadWholeFile("/proc/" + std::to_string(pid) + "/limits");
  size_t p = limits.find("Max open files");
  if (p == std::string::npos) return {0, 0};
  const char* s = limits.c_str() + p + std::strlen("Max open files");
  char* end = nullptr;
  uint64_t soft = std::strtoull(s, &end, 10);
  uint64_t hard = std::strtoull(end, nullptr, 10);
  return {soft, hard};
}

// Raises this process's soft open files limit to at least `want` (up to the
// hard limit); returns the limit now in force.
inline uint64_t RaiseOwnFileLimit(uint64_t want) {
  rlimit l{};
  if (::getrlimit(RLIMIT_NOFILE, &l) != 0) return 0;
  if (l.rlim_cur < want) {
    rlimit raised = l;
    raised.rlim_cur = std::min<rlim_t>(want, l.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) l = raised;
  }
  return l.rlim_cur;
}

// The value of a sample in a Prometheus text exposition ("name{labels} v"),
// or 0 when absent.
inline uint64_t MetricValue(const std::string& text, const std::string& series) {
  size_t p = text.find("\n" + series + " ");
  if (p == std::string::npos) return 0;
  return std::strtoull(text.c_str() + p + series.size() + 2, nullptr, 10);
}

inline double MiB(uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

}  // namespace kv::load
