// CheckStore (kvd check): a store the store wrote passes, through TTLs,
// expiry, deletes, batches, trims and compaction; each invariant broken by
// hand on the raw column families is reported.
#include <memory>

#include <rocksdb/db.h>

#include "daemon/store/check.h"
#include "daemon/store/layout.h"
#include "daemon/store/usage_merge.h"
#include "tests/daemon/store/store_fixture.h"

namespace kv::store {
namespace {

using testing::StoreFixture;

// The store's RocksDB opened directly, to break what the store keeps.
class RawDb {
 public:
  // Every family the database has (RocksDB opens none unless all are named).
  explicit RawDb(const std::string& dir) {
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) {
      rocksdb::ColumnFamilyOptions cf;
      if (name == kMetaFamily) cf.merge_operator = std::make_shared<UsageAddOperator>();
      families.emplace_back(name, cf);
    }
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), dir, families, &handles_, &db);
    INFO(s.ToString());
    REQUIRE(s.ok());
    db_.reset(db);
  }
  ~RawDb() {
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
  }
  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* data() { return Family(kDataFamily); }
  rocksdb::ColumnFamilyHandle* expiry() { return Family(kExpiryFamily); }
  rocksdb::ColumnFamilyHandle* meta() { return Family(kMetaFamily); }
  rocksdb::ColumnFamilyHandle* events() { return Family(kEventsFamily); }

 private:
  rocksdb::ColumnFamilyHandle* Family(const std::string& name) {
    for (auto* h : handles_) {
      if (h->GetName() == name) return h;
    }
    FAIL("no column family " << name);
    return nullptr;
  }
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

CheckReport Check(StoreFixture& f) {
  f.store.reset();
  Result<CheckReport> r = CheckStore(f.Options().data_dir);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

std::string Problems(const CheckReport& r) {
  std::string all;
  for (const auto& p : r.problems) all += p + "\n";
  return all;
}

// Keys, TTLs, an overwrite, a delete, a batch, an expiry settled by the
// worker and one dropped by compaction before the worker saw it.
void WriteAMix(StoreFixture& f) {
  f.Set("plain", "1");
  f.Set("ttl", "22", 60'000);
  f.Set("short", "333", 1'000);
  f.Set("dropped", "4444", 1'000, "other");
  f.Set("plain", "overwritten");
  REQUIRE(f.store->Delete("ns", "ttl").ok());
  std::vector<BatchPut> batch(3);
  for (int i = 0; i < 3; ++i) {
    batch[i].key = "b" + std::to_string(i);
    batch[i].value = std::string(i + 1, 'x');
    batch[i].options.ttl_ms = i == 0 ? 0 : 90'000;
  }
  REQUIRE(f.store->PutMany("ns", batch).ok());
  f.clock->Advance(2'000);
  REQUIRE(f.store->CompactAll().ok());  // drops "short" and "dropped": pending in the index
}

TEST_CASE("check passes on what the store wrote, before and after the worker", "[rocksdb]") {
  StoreFixture f;
  WriteAMix(f);
  CheckReport before = Check(f);
  INFO(Problems(before));
  CHECK(before.ok());
  CHECK(before.pending_expiries == 2);
  CHECK(before.records == 4);  // plain, b0, b1, b2: compaction dropped the two expired ones
  CHECK(before.namespaces == 2);

  f.Reopen();
  REQUIRE(f.store->ExpireDue().ok());
  CheckReport after = Check(f);
  INFO(Problems(after));
  CHECK(after.ok());
  CHECK(after.pending_expiries == 0);
  CHECK(after.highest_revision >= before.highest_revision + 1);
}

TEST_CASE("check reports a broken invariant", "[rocksdb]") {
  StoreFixture f;
  WriteAMix(f);
  f.store.reset();
  const std::string dir = f.Options().data_dir;
  std::string expect;
  {
    RawDb raw(dir);
    rocksdb::WriteOptions wo;
    SECTION("a record without its expiry index entry") {
      std::string v;
      REQUIRE(raw.db()->Get({}, raw.data(), DataKey("ns", "b1"), &v).ok());
      auto r = DecodeRecord(v);
      REQUIRE(r);
      REQUIRE(raw.db()->Delete(wo, raw.expiry(), ExpiryKey(r->expire_at_ms, DataKey("ns", "b1"))).ok());
      expect = "but the expiry index has no entry for it";
    }
    SECTION("usage that does not add up") {
      REQUIRE(raw.db()->Merge(wo, raw.meta(), UsageKey("ns"), EncodeUsage(0, 7)).ok());
      expect = "usage of namespace ns says";
    }
    SECTION("a write without its event") {
      std::string v;
      REQUIRE(raw.db()->Get({}, raw.data(), DataKey("ns", "plain"), &v).ok());
      REQUIRE(raw.db()->Delete(wo, raw.events(), EventKey(DecodeRecord(v)->revision)).ok());
      expect = "has no event in the log";
    }
    SECTION("a record that does not decode") {
      REQUIRE(raw.db()->Put(wo, raw.data(), DataKey("ns", "junk"), "not a record").ok());
      expect = "record ns junk does not decode";
    }
    SECTION("a revision above what a restart resumes after") {
      Record r;
      r.revision = 1'000'000;
      r.create_revision = 1'000'000;
      r.value = "v";
      REQUIRE(raw.db()->Put(wo, raw.data(), DataKey("other", "far"), EncodeRecord(r)).ok());
      REQUIRE(raw.db()->Merge(wo, raw.meta(), UsageKey("other"), EncodeUsage(1, 4)).ok());
      expect = "above the";
    }
  }
  Result<CheckReport> r = CheckStore(dir);
  REQUIRE(r.ok());
  CHECK_FALSE(r->ok());
  INFO(Problems(*r));
  CHECK(Problems(*r).find(expect) != std::string::npos);
}

TEST_CASE("check refuses a directory that holds no database", "[rocksdb]") {
  kv::testing::TempDir dir;
  Result<CheckReport> r = CheckStore(dir.Sub("nothing"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kNotFound);
}

}  // namespace
}  // namespace kv::store
