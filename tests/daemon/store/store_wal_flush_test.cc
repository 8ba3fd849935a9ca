// What a crash of the process keeps, with and without
// StoreOptions::caller_flushes_wal (kvd's group commit). A child process (this
// test binary again, running a hidden test case) writes, then kills itself
// with SIGKILL in the middle of its work, as a crashing kvd would; the parent
// reopens the directory and finds exactly what reached the log's file.
// And how much of the log stays on disk (StoreOptions::wal_bytes_limit).
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/daemon/store/store_fixture.h"

extern char** environ;

namespace kv::store {
namespace {

constexpr char kChildTest[] = "store crash child writes then dies by SIGKILL";  // no commas: a Catch test spec

// Runs kChildTest in a new process with `mode` and `dir`; returns once the
// child is gone. REQUIREs that it died by SIGKILL (not an error of its own).
void RunChild(const std::string& mode, const std::string& dir) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<std::string> env_strings = {"KV_CRASH_CHILD_MODE=" + mode,
                                          "KV_CRASH_CHILD_DIR=" + dir};
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  for (auto& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);
  std::string name = kChildTest;
  std::vector<char*> argv = {const_cast<char*>(self.c_str()), name.data(), nullptr};
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), env.data()) == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  INFO("child status " << status);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
}

StoreOptions ChildOptions(const std::string& dir, bool caller_flushes) {
  StoreOptions o;
  o.data_dir = dir;
  o.expiry_worker = false;
  o.caller_flushes_wal = caller_flushes;
  return o;
}

bool Has(Store& store, const std::string& key) {
  auto g = store.Get("ns", key);
  if (g.ok()) CHECK(g->value == "value of " + key);
  return g.ok();
}

// Hidden ([.]): only RunChild runs it.
TEST_CASE(kChildTest, "[.crash-child]") {
  const char* mode = std::getenv("KV_CRASH_CHILD_MODE");
  const char* dir = std::getenv("KV_CRASH_CHILD_DIR");
  REQUIRE(mode != nullptr);
  REQUIRE(dir != nullptr);
  const bool caller_flushes = std::string(mode) == "caller-flushes";
  auto store = Store::Open(ChildOptions(dir, caller_flushes));
  REQUIRE(store.ok());
  auto put = [&](const std::string& key) {
    REQUIRE((*store)->Put("ns", key, "value of " + key, {}).ok());
  };
  put("flushed");
  REQUIRE((*store)->FlushWal().ok());
  put("read-as-event");
  REQUIRE((*store)->ReadEvents(0, 100).ok());
  put("last");
  raise(SIGKILL);
}

TEST_CASE("by default every write that returned survives a crash of the process",
          "[rocksdb][crash]") {
  kv::testing::TempDir dir("kv-crash");
  RunChild("default", dir.Sub("data"));
  auto store = Store::Open(ChildOptions(dir.Sub("data"), false));
  REQUIRE(store.ok());
  CHECK(Has(**store, "flushed"));
  CHECK(Has(**store, "read-as-event"));
  CHECK(Has(**store, "last"));
}

TEST_CASE("when the caller flushes, a crash keeps what FlushWal or ReadEvents covered, not more",
          "[rocksdb][crash]") {
  kv::testing::TempDir dir("kv-crash");
  RunChild("caller-flushes", dir.Sub("data"));
  auto store = Store::Open(ChildOptions(dir.Sub("data"), false));
  REQUIRE(store.ok());
  CHECK(Has(**store, "flushed"));
  // A watcher or webhook was handed its event: the write is in the file.
  CHECK(Has(**store, "read-as-event"));
  // Returned but never flushed: only in RocksDB's buffer when the process
  // died. kvd never answers before a flush, so no acknowledged write is
  // like this one; it is what one write(2) per batch saves.
  CHECK_FALSE(Has(**store, "last"));
  // The event log and the revisions agree with the data after the crash.
  auto events = (*store)->ReadEvents(0, 100);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 2);
  CHECK((*events)[0].key == "flushed");
  CHECK((*events)[1].key == "read-as-event");
  auto next = (*store)->Put("ns", "after", "value of after", {});
  REQUIRE(next.ok());
  CHECK(next->entry.revision == (*events)[1].revision + 1);
}

TEST_CASE("WalFlushNeeded says whether a write returned since the last flush", "[rocksdb]") {
  kv::testing::TempDir dir("kv-wal-flush");
  {
    auto store = Store::Open(ChildOptions(dir.Sub("data"), true));
    REQUIRE(store.ok());
    REQUIRE((*store)->FlushWal().ok());
    CHECK_FALSE((*store)->WalFlushNeeded());
    REQUIRE((*store)->Put("ns", "k", "v", {}).ok());
    CHECK((*store)->WalFlushNeeded());
    REQUIRE((*store)->Get("ns", "k").ok());  // a read adds nothing to flush
    REQUIRE((*store)->FlushWal().ok());
    CHECK_FALSE((*store)->WalFlushNeeded());
    REQUIRE((*store)->Delete("ns", "k").ok());
    CHECK((*store)->WalFlushNeeded());
    REQUIRE((*store)->ReadEvents(0, 10).ok());  // hands out events: flushes them
    CHECK_FALSE((*store)->WalFlushNeeded());
  }
  // Without the option every write reaches the file itself.
  auto store = Store::Open(ChildOptions(dir.Sub("data"), false));
  REQUIRE(store.ok());
  REQUIRE((*store)->Put("ns", "k", "v", {}).ok());
  CHECK_FALSE((*store)->WalFlushNeeded());
}

// The bytes of the files under dir whose names match `pattern`.
uint64_t FileBytes(const std::string& dir, const char* pattern) {
  const std::regex name(pattern);
  uint64_t total = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (f.is_regular_file() && std::regex_match(f.path().filename().string(), name)) {
      total += f.file_size();
    }
  }
  return total;
}

// The bytes of the write-ahead log's files (NNNNNN.log) under dir.
uint64_t WalBytes(const std::string& dir) { return FileBytes(dir, "[0-9]+\\.log"); }

TEST_CASE("the write-ahead log's files stay within wal_bytes_limit while families sit idle",
          "[rocksdb]") {
  kv::testing::TempDir dir("kv-wal-bound");
  StoreOptions o = ChildOptions(dir.Sub("data"), false);
  o.memtable_bytes = 256 << 10;
  o.wal_bytes_limit = 2 << 20;
  auto store = Store::Open(o);
  REQUIRE(store.ok());
  // One key with a TTL (the expiry index) and new keys (the usage counter):
  // families that then see no write for the rest of the test, and whose
  // memtables alone would keep every log file since alive.
  PutOptions ttl;
  ttl.ttl_ms = 3'600'000;
  REQUIRE((*store)->Put("ns", "with-ttl", "v", ttl).ok());
  const std::string value(1024, 'v');
  for (int i = 0; i < 500; ++i) REQUIRE((*store)->Put("ns", "k" + std::to_string(i), value, {}).ok());
  // About 16 MiB of log: overwrites of the same size touch only the data and
  // the event log.
  for (int round = 0; round < 16; ++round) {
    for (int i = 0; i < 500; ++i) {
      REQUIRE((*store)->Put("ns", "k" + std::to_string(i), value, {}).ok());
    }
  }
  // Flushes run in the background, and a log file goes when they are done.
  uint64_t wal = WalBytes(dir.Sub("data"));
  for (int i = 0; i < 200 && wal > 2 * o.wal_bytes_limit; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    wal = WalBytes(dir.Sub("data"));
  }
  INFO("log files hold " << wal << " bytes");
  CHECK(wal <= 2 * o.wal_bytes_limit);

  // What the early flushes wrote is all there after a reopen.
  store->reset();
  store = Store::Open(o);
  REQUIRE(store.ok());
  auto stats = (*store)->Stats("ns");
  REQUIRE(stats.ok());
  CHECK(stats->keys == 501);
  uint64_t bytes = std::string("with-ttl").size() + 1;
  for (int i = 0; i < 500; ++i) bytes += ("k" + std::to_string(i)).size() + value.size();
  CHECK(stats->bytes == bytes);
  auto with_ttl = (*store)->Get("ns", "with-ttl");
  REQUIRE(with_ttl.ok());
  CHECK(with_ttl->expire_at_ms > 0);
  for (int i = 0; i < 500; i += 97) CHECK((*store)->Get("ns", "k" + std::to_string(i)).ok());
}

TEST_CASE("the store's disk counters are the sizes of its log and table files", "[rocksdb]") {
  kv::testing::TempDir dir("kv-disk-bytes");
  auto store = Store::Open(ChildOptions(dir.Sub("data"), false));
  REQUIRE(store.ok());
  const std::string value(1000, 'v');
  for (int i = 0; i < 200; ++i) {
    REQUIRE((*store)->Put("ns", "k" + std::to_string(i), value, {}).ok());
  }
  Store::Counters before = (*store)->GetCounters();
  CHECK(before.wal_bytes >= 200 * value.size());
  CHECK(before.wal_bytes == WalBytes(dir.Sub("data")));

  // A compaction writes tables; the log they replace goes, in the background.
  REQUIRE((*store)->CompactAll().ok());
  Store::Counters after;
  uint64_t tables = 0;
  uint64_t wal = 0;
  for (int i = 0; i < 100; ++i) {
    after = (*store)->GetCounters();
    tables = FileBytes(dir.Sub("data"), "[0-9]+\\.sst");
    wal = WalBytes(dir.Sub("data"));
    if (after.table_bytes == tables && after.wal_bytes == wal) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(after.table_bytes > 0);
  CHECK(after.table_bytes == tables);
  CHECK(after.wal_bytes == wal);
  CHECK(after.wal_bytes < before.wal_bytes);
}

}  // namespace
}  // namespace kv::store
