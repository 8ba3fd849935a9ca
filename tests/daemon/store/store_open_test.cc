// Opening a data directory: created when missing, refused when in use,
// foreign or damaged, never reset.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "daemon/store/store.h"
#include "tests/daemon/store/store_fixture.h"

namespace kv::store {
namespace {

using kv::testing::TempDir;

StoreOptions At(const std::string& dir) {
  StoreOptions o;
  o.data_dir = dir;
  o.expiry_worker = false;
  return o;
}

TEST_CASE("a missing data directory is created with its parents", "[rocksdb]") {
  TempDir dir;
  auto s = Store::Open(At(dir.Sub("a/b/c")));
  REQUIRE(s.ok());
  CHECK(std::filesystem::exists(dir.Sub("a/b/c/CURRENT")));
}

TEST_CASE("a directory held by another store is a clear error", "[rocksdb]") {
  TempDir dir;
  auto first = Store::Open(At(dir.Sub("data")));
  REQUIRE(first.ok());
  auto second = Store::Open(At(dir.Sub("data")));
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == Status::Code::kUnavailable);
  CHECK(second.status().message().find("in use by another process") != std::string::npos);
  // The first one is unharmed.
  CHECK((*first)->Put("ns", "k", "v", {}).ok());
}

TEST_CASE("a non-empty directory without a database is refused, untouched", "[rocksdb]") {
  TempDir dir;
  std::filesystem::create_directories(dir.Sub("data"));
  std::ofstream(dir.Sub("data/notes.txt")) << "my files";
  auto s = Store::Open(At(dir.Sub("data")));
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == Status::Code::kCorruption);
  CHECK(s.status().message().find("holds no kv database") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.Sub("data/CURRENT")));
  CHECK(std::filesystem::exists(dir.Sub("data/notes.txt")));
}

TEST_CASE("a foreign RocksDB database is refused, untouched", "[rocksdb]") {
  TempDir dir;
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(o, dir.Sub("data"), &db).ok());
    REQUIRE(db->Put(rocksdb::WriteOptions(), "theirs", "data").ok());
    delete db;
  }
  auto s = Store::Open(At(dir.Sub("data")));
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == Status::Code::kCorruption);
  CHECK(s.status().message().find("not a kv store") != std::string::npos);
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir.Sub("data"), &db).ok());
  std::string v;
  CHECK(db->Get(rocksdb::ReadOptions(), "theirs", &v).ok());
  CHECK(v == "data");
  delete db;
}

TEST_CASE("a store made before the webhooks family gains it and keeps its data", "[rocksdb]") {
  TempDir dir;
  {
    auto s = Store::Open(At(dir.Sub("data")));
    REQUIRE(s.ok());
    REQUIRE((*s)->Put("ns", "k", "v", {}).ok());
  }
  {  // Take the family away, as a store of an earlier kvd had none.
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.Sub("data"), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.Sub("data"), families, &handles, &db).ok());
    for (auto* h : handles) {
      if (h->GetName() == kWebhooksFamily) REQUIRE(db->DropColumnFamily(h).ok());
    }
    for (auto* h : handles) REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  auto s = Store::Open(At(dir.Sub("data")));
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  auto e = (*s)->Get("ns", "k");
  REQUIRE(e.ok());
  CHECK(e->value == "v");
  CHECK((*s)->PutWebhook("ns", "id", "{}", true).ok());
}

TEST_CASE("a damaged database is refused, not reset", "[rocksdb]") {
  TempDir dir;
  {
    auto s = Store::Open(At(dir.Sub("data")));
    REQUIRE(s.ok());
    REQUIRE((*s)->Put("ns", "k", "v", {}).ok());
  }
  // Point CURRENT at a manifest that does not exist.
  std::ofstream(dir.Sub("data/CURRENT"), std::ios::trunc) << "MANIFEST-999999\n";
  auto s = Store::Open(At(dir.Sub("data")));
  REQUIRE_FALSE(s.ok());
  INFO(s.status().ToString());
  CHECK((s.status().code() == Status::Code::kCorruption ||
         s.status().code() == Status::Code::kIOError));
  CHECK(s.status().message().find(dir.Sub("data")) != std::string::npos);
}

}  // namespace
}  // namespace kv::store
