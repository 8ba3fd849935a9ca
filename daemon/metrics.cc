#include "daemon/metrics.h"

#include <cstdio>
#include <initializer_list>
#include <optional>
#include <utility>

namespace kv::daemon {
namespace {

// A label value with \, " and newline escaped, as the text format requires.
void AppendLabel(std::string* out, std::string_view value) {
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

std::string FormatDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void AppendHeader(std::string* out, const char* name, const char* type, const char* help) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void AppendSample(std::string* out, const char* name, uint64_t value) {
  out->append(name).append(" ").append(std::to_string(value)).append("\n");
}

// A gauge with a sample per part (name{part="..."}); the parts the store
// does not have are left out, and the whole gauge when it has none.
using Part = std::pair<const char*, const std::optional<uint64_t>*>;
void AppendParts(std::string* out, const char* name, const char* help,
                 std::initializer_list<Part> parts) {
  bool header = false;
  for (const auto& [part, value] : parts) {
    if (!*value) continue;
    if (!header) {
      AppendHeader(out, name, "gauge", help);
      header = true;
    }
    out->append(name).append("{part=\"").append(part).append("\"} ");
    out->append(std::to_string(**value)).append("\n");
  }
}

}  // namespace

void Metrics::RecordRequest(std::string_view route, int status,
                            std::chrono::nanoseconds latency) {
  if (route.empty()) route = "unmatched";
  double seconds = std::chrono::duration<double>(latency).count();
  size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;

  std::lock_guard<std::mutex> lock(mu_);
  auto it = routes_.find(route);
  if (it == routes_.end()) {
    if (routes_.size() >= kMaxRoutes) route = "other";
    it = routes_.try_emplace(std::string(route)).first;
  }
  RouteStats& stats = it->second;
  ++stats.by_status[status];
  if (bucket < kBuckets.size()) ++stats.buckets[bucket];
  stats.sum_seconds += seconds;
  ++stats.count;
}

std::string Metrics::Render() const {
  std::string out;
  out.reserve(4096);
  {
    std::lock_guard<std::mutex> lock(mu_);
    AppendHeader(&out, "kvd_http_requests_total", "counter",
                 "HTTP requests answered, by route template and status.");
    for (const auto& [route, stats] : routes_) {
      for (const auto& [status, count] : stats.by_status) {
        out.append("kvd_http_requests_total{route=\"");
        AppendLabel(&out, route);
        out.append("\",status=\"").append(std::to_string(status)).append("\"} ");
        out.append(std::to_string(count)).append("\n");
      }
    }
    AppendHeader(&out, "kvd_http_request_duration_seconds", "histogram",
                 "Time from a request's headers to its response, by route template.");
    for (const auto& [route, stats] : routes_) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= kBuckets.size(); ++i) {
        if (i < kBuckets.size()) cumulative += stats.buckets[i];
        out.append("kvd_http_request_duration_seconds_bucket{route=\"");
        AppendLabel(&out, route);
        out.append("\",le=\"");
        out.append(i < kBuckets.size() ? FormatDouble(kBuckets[i]) : std::string("+Inf"));
        out.append("\"} ");
        out.append(std::to_string(i < kBuckets.size() ? cumulative : stats.count)).append("\n");
      }
      out.append("kvd_http_request_duration_seconds_sum{route=\"");
      AppendLabel(&out, route);
      out.append("\"} ").append(FormatDouble(stats.sum_seconds)).append("\n");
      out.append("kvd_http_request_duration_seconds_count{route=\"");
      AppendLabel(&out, route);
      out.append("\"} ").append(std::to_string(stats.count)).append("\n");
    }
  }

  AppendHeader(&out, "kvd_http_connections", "gauge", "Open client connections.");
  int64_t open = connections_.load(std::memory_order_relaxed);
  AppendSample(&out, "kvd_http_connections", open < 0 ? 0 : static_cast<uint64_t>(open));
  AppendHeader(&out, "kvd_http_connections_rejected_total", "counter",
               "Connections refused because kvd was at its connection cap.");
  AppendSample(&out, "kvd_http_connections_rejected_total",
               rejected_.load(std::memory_order_relaxed));

  if (store_source_) {
    StoreGauges g = store_source_();
    AppendHeader(&out, "kvd_keys", "gauge", "Keys stored, over every namespace.");
    AppendSample(&out, "kvd_keys", g.keys);
    AppendHeader(&out, "kvd_bytes", "gauge",
                 "Bytes of keys plus values stored, over every namespace.");
    AppendSample(&out, "kvd_bytes", g.bytes);
    AppendHeader(&out, "kvd_namespaces", "gauge", "Namespaces that hold or held keys.");
    AppendSample(&out, "kvd_namespaces", g.namespaces);
    if (g.expired_total) {
      AppendHeader(&out, "kvd_expired_keys_total", "counter",
                   "Keys removed because their TTL ran out.");
      AppendSample(&out, "kvd_expired_keys_total", *g.expired_total);
    }
    if (g.wal_syncs_total) {
      AppendHeader(&out, "kvd_wal_syncs_total", "counter", "Write-ahead log syncs.");
      AppendSample(&out, "kvd_wal_syncs_total", *g.wal_syncs_total);
    }
    AppendParts(&out, "kvd_rocksdb_memory_bytes",
                "Memory RocksDB holds: memtables, block cache, table readers.",
                {{"memtables", &g.memtable_bytes},
                 {"block_cache", &g.block_cache_bytes},
                 {"table_readers", &g.table_reader_bytes}});
    AppendParts(&out, "kvd_disk_bytes",
                "Bytes the data directory holds: write-ahead log files, table files.",
                {{"wal", &g.wal_bytes}, {"tables", &g.table_bytes}});
  }
  return out;
}

}  // namespace kv::daemon
