// Metrics: kvd's counters and gauges, rendered in the Prometheus text
// exposition format (version 0.0.4) for GET /metrics.
//
//   kvd_http_requests_total{route,status}       counter
//   kvd_http_request_duration_seconds{route}    histogram
//   kvd_http_connections                        gauge (open connections)
//   kvd_http_connections_rejected_total         counter (over the cap)
//   kvd_keys, kvd_bytes, kvd_namespaces         gauges, read from the store
//   kvd_expired_keys_total, kvd_wal_syncs_total counters, when the store has them
//   kvd_rocksdb_memory_bytes{part}              gauge: memtables, block_cache,
//                                               table_readers (when the store has them)
//
// Routes are the handlers' route templates ("/v1/kv/{key}"), never raw paths,
// so the number of series stays bounded; after kMaxRoutes distinct routes the
// rest are counted under "other".
//
// Ownership: main owns the Metrics; the server holds a pointer.
// Thread-safety: every method may be called concurrently.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace kv::daemon {

// What the store contributes to /metrics; read when /metrics is scraped.
struct StoreGauges {
  uint64_t keys = 0;
  uint64_t bytes = 0;
  uint64_t namespaces = 0;
  std::optional<uint64_t> expired_total;  // keys removed by expiry so far
  std::optional<uint64_t> wal_syncs_total;
  // kvd_rocksdb_memory_bytes{part=...}, when the store has them.
  std::optional<uint64_t> memtable_bytes;
  std::optional<uint64_t> block_cache_bytes;
  std::optional<uint64_t> table_reader_bytes;
  // kvd_disk_bytes{part=...}: the write-ahead log's files, the table files.
  std::optional<uint64_t> wal_bytes;
  std::optional<uint64_t> table_bytes;
};

class Metrics {
 public:
  static constexpr size_t kMaxRoutes = 128;
  // Upper bounds of the latency histogram's buckets, in seconds.
  static constexpr std::array<double, 16> kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,   10.0};

  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One answered request. An empty route counts as "unmatched".
  void RecordRequest(std::string_view route, int status, std::chrono::nanoseconds latency);

  void ConnectionOpened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  void ConnectionRejected() { rejected_.fetch_add(1, std::memory_order_relaxed); }

  // Called by Render(); it must be safe to call from any thread.
  // REQUIRES: set before the server starts, or never.
  void SetStoreSource(std::function<StoreGauges()> source) { store_source_ = std::move(source); }

  // The whole exposition, ending with a newline.
  std::string Render() const;

 private:
  struct RouteStats {
    std::map<int, uint64_t> by_status;
    std::array<uint64_t, kBuckets.size()> buckets{};  // not cumulative
    double sum_seconds = 0;
    uint64_t count = 0;
  };

  mutable std::mutex mu_;
  std::map<std::string, RouteStats, std::less<>> routes_;  // guarded by mu_
  std::atomic<int64_t> connections_{0};
  std::atomic<uint64_t> rejected_{0};
  std::function<StoreGauges()> store_source_;
};

}  // namespace kv::daemon
