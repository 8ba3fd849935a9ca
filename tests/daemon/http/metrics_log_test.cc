// Metrics rendering and the log (file, levels, one line per event, reopen).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/log.h"
#include "daemon/metrics.h"
#include "tests/support/temp_dir.h"

namespace kv::daemon {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("Metrics renders the Prometheus text format", "[unit]") {
  Metrics m;
  m.RecordRequest("/v1/kv/{key}", 200, std::chrono::microseconds(300));
  m.RecordRequest("/v1/kv/{key}", 200, std::chrono::milliseconds(3));
  m.RecordRequest("/v1/kv/{key}", 404, std::chrono::seconds(20));
  m.RecordRequest("", 404, std::chrono::microseconds(10));
  m.RecordRequest("we\"ird\\", 200, std::chrono::microseconds(10));
  m.ConnectionOpened();
  m.SetStoreSource([] {
    StoreGauges g;
    g.keys = 7;
    g.bytes = 700;
    g.namespaces = 2;
    g.expired_total = 3;
    g.memtable_bytes = 4096;
    g.wal_bytes = 1 << 20;
    return g;
  });
  std::string text = m.Render();
  CHECK(text.find("# TYPE kvd_http_requests_total counter\n") != std::string::npos);
  CHECK(text.find("kvd_http_requests_total{route=\"/v1/kv/{key}\",status=\"200\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("kvd_http_requests_total{route=\"/v1/kv/{key}\",status=\"404\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("kvd_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("route=\"we\\\"ird\\\\\"") != std::string::npos);
  // Buckets are cumulative; 20 s only shows in +Inf.
  CHECK(text.find("kvd_http_request_duration_seconds_bucket{route=\"/v1/kv/{key}\",le=\"0.0005\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("kvd_http_request_duration_seconds_bucket{route=\"/v1/kv/{key}\",le=\"0.005\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("kvd_http_request_duration_seconds_bucket{route=\"/v1/kv/{key}\",le=\"10\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("kvd_http_request_duration_seconds_bucket{route=\"/v1/kv/{key}\",le=\"+Inf\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("kvd_http_request_duration_seconds_count{route=\"/v1/kv/{key}\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("kvd_http_connections 1\n") != std::string::npos);
  CHECK(text.find("kvd_keys 7\n") != std::string::npos);
  CHECK(text.find("kvd_bytes 700\n") != std::string::npos);
  CHECK(text.find("kvd_expired_keys_total 3\n") != std::string::npos);
  CHECK(text.find("kvd_wal_syncs_total") == std::string::npos);
  CHECK(text.find("# TYPE kvd_rocksdb_memory_bytes gauge\n") != std::string::npos);
  CHECK(text.find("kvd_rocksdb_memory_bytes{part=\"memtables\"} 4096\n") != std::string::npos);
  CHECK(text.find("part=\"block_cache\"") == std::string::npos);
  CHECK(text.find("# TYPE kvd_disk_bytes gauge\n") != std::string::npos);
  CHECK(text.find("kvd_disk_bytes{part=\"wal\"} 1048576\n") != std::string::npos);
  CHECK(text.find("part=\"tables\"") == std::string::npos);
  CHECK(text.back() == '\n');
}

TEST_CASE("Metrics bounds the number of routes", "[unit]") {
  Metrics m;
  for (size_t i = 0; i < Metrics::kMaxRoutes + 10; ++i) {
    m.RecordRequest("/r" + std::to_string(i), 200, std::chrono::microseconds(1));
  }
  std::string text = m.Render();
  CHECK(text.find("route=\"other\",status=\"200\"} 10\n") != std::string::npos);
}

TEST_CASE("the log writes one line per event and reopens its file", "[unit]") {
  kv::testing::TempDir dir("kv-log");
  std::string path = dir.Sub("kvd.log");
  REQUIRE(logging::Open(path).ok());
  logging::SetLevel(LogLevel::kInfo);
  logging::Debug("not shown");
  logging::Info("first\nline\x01");
  logging::Warn("second");
  std::string text = ReadFile(path);
  CHECK(text.find("not shown") == std::string::npos);
  CHECK(text.find(" info first\\nline\\x01\n") != std::string::npos);
  CHECK(text.find(" warn second\n") != std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));

  std::filesystem::rename(path, path + ".1");
  logging::Info("after rotate, old file");
  REQUIRE(logging::Reopen().ok());
  logging::Error("after reopen");
  CHECK(ReadFile(path + ".1").find("after rotate, old file") != std::string::npos);
  CHECK(ReadFile(path).find(" error after reopen\n") != std::string::npos);

  REQUIRE(logging::Open("").ok());  // back to stderr
  CHECK(ParseLogLevel("warning").ok());
  CHECK_FALSE(ParseLogLevel("loud").ok());
}

}  // namespace kv::daemon
