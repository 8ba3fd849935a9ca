// TTL in its three layers: reads hide, the expiry worker deletes, the
// compaction filter drops from disk; usage stays exact through each.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <rocksdb/db.h>

#include "daemon/store/store.h"
#include "tests/daemon/store/store_fixture.h"

namespace kv::store {
namespace {

using testing::StoreFixture;

TEST_CASE_METHOD(StoreFixture, "an expired key is invisible from the millisecond it expires",
                 "[rocksdb]") {
  Set("k", "v", 1000);
  Set("other", "x");
  clock->Advance(999);
  CHECK(store->Get("ns", "k").ok());
  CHECK(store->List("ns", {})->entries.size() == 2);
  clock->Advance(1);
  CHECK(store->Get("ns", "k").status().IsNotFound());
  CHECK(store->Head("ns", "k").status().IsNotFound());
  auto page = store->List("ns", {});
  REQUIRE(page->entries.size() == 1);
  CHECK(page->entries[0].key == "other");
  // Conditions see it as absent too.
  PutOptions absent;
  absent.condition = Condition::IfAbsent();
  CHECK(store->Put("ns", "k", "new", absent).ok());
}

TEST_CASE_METHOD(StoreFixture, "expire and persist change an existing key's TTL", "[rocksdb]") {
  Set("k", "v");
  auto e = store->Expire("ns", "k", 5000);
  REQUIRE(e.ok());
  CHECK(e->entry.expire_at_ms == clock->NowMs() + 5000);
  CHECK(store->Get("ns", "k")->expire_at_ms == clock->NowMs() + 5000);
  auto p = store->Persist("ns", "k");
  REQUIRE(p.ok());
  CHECK(store->Get("ns", "k")->expire_at_ms == 0);
  clock->Advance(10'000);
  REQUIRE(store->ExpireDue().ok());
  CHECK(store->Get("ns", "k")->value == "v");  // the old index entry did not fire
  CHECK(store->Expire("ns", "missing", 5000).status().IsNotFound());
  CHECK(store->Persist("ns", "missing").status().IsNotFound());
  CHECK(store->Expire("ns", "k", 0).status().IsInvalidArgument());
}

TEST_CASE_METHOD(StoreFixture, "a put without TTL removes the TTL unless keep_ttl", "[rocksdb]") {
  Set("k", "v", 1000);
  PutOptions keep;
  keep.keep_ttl = true;
  REQUIRE(store->Put("ns", "k", "v2", keep).ok());
  CHECK(store->Get("ns", "k")->expire_at_ms == clock->NowMs() + 1000);
  Set("k", "v3");
  CHECK(store->Get("ns", "k")->expire_at_ms == 0);
  clock->Advance(2000);
  REQUIRE(store->ExpireDue().ok());
  CHECK(store->Get("ns", "k")->value == "v3");
  CHECK(StatsOf().keys == 1);
}

TEST_CASE_METHOD(StoreFixture, "the expiry worker deletes due keys with expire events",
                 "[rocksdb]") {
  Set("short", "12345", 1000);
  Set("long", "v", 60'000);
  Set("forever", "v");
  CHECK(StatsOf().keys == 3);
  uint64_t before = store->CommittedRevision();
  clock->Advance(1000);
  auto n = store->ExpireDue();
  REQUIRE(n.ok());
  CHECK(*n == 1);
  CHECK(StatsOf().keys == 2);
  CHECK(StatsOf().bytes == 4 + 1 + 7 + 1);
  auto events = store->ReadEvents(before, 10);
  REQUIRE(events->size() == 1);
  CHECK(events->front().type == EventType::kExpire);
  CHECK(events->front().key == "short");
  CHECK(events->front().value == "12345");
  CHECK(*store->ExpireDue() == 0);
}

TEST_CASE_METHOD(StoreFixture, "a write over an expired key settles its expiry first",
                 "[rocksdb]") {
  Set("k", "old", 1000);
  uint64_t before = store->CommittedRevision();
  clock->Advance(1500);
  auto w = Set("k", "new");
  CHECK(w.created);
  auto events = store->ReadEvents(before, 10);
  REQUIRE(events->size() == 2);
  CHECK((*events)[0].type == EventType::kExpire);
  CHECK((*events)[1].type == EventType::kCreate);
  CHECK(StatsOf().keys == 1);
  CHECK(StatsOf().bytes == 4);
  REQUIRE(store->ExpireDue().ok());  // nothing left to do for the old version
  CHECK(StatsOf().keys == 1);
  CHECK(store->Get("ns", "k")->value == "new");
}

TEST_CASE("the background worker expires keys on its own", "[rocksdb]") {
  kv::testing::TempDir dir;
  StoreOptions o;
  o.data_dir = dir.Sub("data");
  o.expiry_interval_ms = 10;
  auto opened = Store::Open(o);
  REQUIRE(opened.ok());
  auto& store = *opened;
  PutOptions p;
  p.ttl_ms = 50;
  REQUIRE(store->Put("ns", "k", "v", p).ok());
  CHECK(store->Stats("ns")->keys == 1);
  for (int i = 0; i < 500 && store->Stats("ns")->keys != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(store->Stats("ns")->keys == 0);
}

// Reads every file of the data family's SST files, for what is physically on disk.
std::string DataFamilyBytes(const std::string& data_dir) {
  rocksdb::DBOptions dbo;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : {"default", kDataFamily, kExpiryFamily, kMetaFamily, kEventsFamily}) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::OpenForReadOnly(dbo, data_dir, families, &handles, &db).ok());
  rocksdb::ColumnFamilyMetaData meta;
  db->GetColumnFamilyMetaData(handles[1], &meta);
  std::string bytes;
  for (const auto& level : meta.levels) {
    for (const auto& file : level.files) {
      std::ifstream in(file.db_path + "/" + file.name, std::ios::binary);
      bytes.append(std::istreambuf_iterator<char>(in), {});
    }
  }
  // And what a raw iterator over the family sees.
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[1]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    bytes += "|key:" + it->key().ToString();
  }
  it.reset();
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
  return bytes;
}

TEST_CASE_METHOD(StoreFixture, "expired data is physically gone after compaction", "[rocksdb]") {
  auto o = Options();
  o.event_value_max_bytes = 0;  // keep values out of the event log for this check
  Reopen(o);
  const std::string secret = "SECRET-e3b0c44298fc1c149afbf4c8996fb924";
  const std::string kept = "KEPT-27ae41e4649b934ca495991b7852b855";
  Set("expiring", secret, 1000);
  Set("staying", kept);
  REQUIRE(store->CompactAll().ok());
  store.reset();
  std::string before = DataFamilyBytes(dir.Sub("data"));
  CHECK(before.find(secret) != std::string::npos);
  Reopen(o);

  clock->Advance(2000);
  // Compaction alone, before the worker has run: the record leaves the disk.
  REQUIRE(store->CompactAll().ok());
  store.reset();
  std::string after = DataFamilyBytes(dir.Sub("data"));
  CHECK(after.find(secret) == std::string::npos);
  CHECK(after.find("|key:ns" + std::string(1, '\0') + "expiring") == std::string::npos);
  CHECK(after.find(kept) != std::string::npos);
  Reopen(o);

  // Usage still counts it until the worker settles the index entry...
  CHECK(StatsOf().keys == 2);
  uint64_t rev = store->CommittedRevision();
  auto n = store->ExpireDue();
  REQUIRE(n.ok());
  CHECK(*n == 1);
  // ...which makes usage exact again and tells watchers.
  CHECK(StatsOf().keys == 1);
  CHECK(StatsOf().bytes == std::string("staying").size() + kept.size());
  auto events = store->ReadEvents(rev, 10);
  REQUIRE(events->size() == 1);
  CHECK(events->front().type == EventType::kExpire);
  CHECK(events->front().key == "expiring");
}

TEST_CASE_METHOD(StoreFixture, "a key rewritten after compaction dropped its expired version",
                 "[rocksdb]") {
  Set("k", "old-value", 1000);
  clock->Advance(2000);
  REQUIRE(store->CompactAll().ok());  // drops the record, the index entry stays
  auto w = Set("k", "new");
  CHECK(w.created);
  REQUIRE(store->ExpireDue().ok());
  CHECK(store->Get("ns", "k")->value == "new");
  CHECK(StatsOf().keys == 1);
  CHECK(StatsOf().bytes == 4);
}

}  // namespace
}  // namespace kv::store

namespace kv::store {
namespace {

TEST_CASE_METHOD(testing::StoreFixture, "counters report settled expiries and WAL syncs",
                 "[rocksdb]") {
  const uint64_t syncs_at_open = store->GetCounters().wal_syncs_total;
  Set("a", "1", 100);
  Set("b", "1", 100);
  clock->Advance(200);
  Set("a", "2");  // settles a's expiry on the write path
  REQUIRE(store->ExpireDue().ok());  // and b's in the worker
  CHECK(store->GetCounters().expired_total == 2);
  CHECK(store->GetCounters().wal_syncs_total == syncs_at_open);  // no fsync by default

  auto o = Options();
  o.fsync = true;
  Reopen(o);
  const uint64_t before = store->GetCounters().wal_syncs_total;
  Set("c", "1");
  Set("d", "1");
  CHECK(store->GetCounters().wal_syncs_total == before + 2);  // one per acknowledged write
}

}  // namespace
}  // namespace kv::store
