// Encryption at rest through the store: no plaintext in any file (SSTs and
// the write-ahead log), data back with the key, and a clear error, with the
// directory untouched, without it, with another key, or with a key for a
// plain directory.
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "daemon/store/check.h"
#include "daemon/store/store.h"
#include "tests/support/raw_files.h"
#include "tests/support/temp_dir.h"

namespace kv::store {
namespace {

using kv::testing::AnyEndsWith;
using kv::testing::FilesContaining;
using kv::testing::SnapshotFiles;
using kv::testing::TempDir;
namespace fs = std::filesystem;

// Distinctive enough never to appear in a file by chance.
const std::string kFlushedKey = "encrypted-key-in-an-sst-7f3a";
const std::string kFlushedValue = "PLAINTEXT-VALUE-IN-AN-SST-do-not-leak-9c1e";
const std::string kWalKey = "encrypted-key-in-the-wal-2b8d";
const std::string kWalValue = "PLAINTEXT-VALUE-IN-THE-WAL-do-not-leak-4e6f";

EncryptionKey KeyOf(char fill) { return *EncryptionKey::FromBytes(std::string(32, fill)); }

StoreOptions At(const std::string& dir, std::optional<EncryptionKey> key) {
  StoreOptions o;
  o.data_dir = dir;
  o.expiry_worker = false;
  o.encryption_key = std::move(key);
  return o;
}

// One value flushed and compacted into an SST, one only in the write-ahead
// log; then the store is closed.
void WriteBoth(const std::string& dir, const std::optional<EncryptionKey>& key) {
  auto s = Store::Open(At(dir, key));
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  REQUIRE((*s)->Put("ns", kFlushedKey, kFlushedValue, {}).ok());
  REQUIRE((*s)->CompactAll().ok());
  REQUIRE((*s)->Put("ns", kWalKey, kWalValue, {}).ok());
}

void ExpectBoth(const std::string& dir, const std::optional<EncryptionKey>& key) {
  auto s = Store::Open(At(dir, key));
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  auto flushed = (*s)->Get("ns", kFlushedKey);
  REQUIRE(flushed.ok());
  CHECK(flushed->value == kFlushedValue);
  auto wal = (*s)->Get("ns", kWalKey);
  REQUIRE(wal.ok());
  CHECK(wal->value == kWalValue);
}

TEST_CASE("without a key the values are in the raw files (the test can see them)", "[rocksdb]") {
  TempDir dir;
  WriteBoth(dir.Sub("db"), std::nullopt);
  auto flushed = FilesContaining(dir.Sub("db"), kFlushedValue);
  auto wal = FilesContaining(dir.Sub("db"), kWalValue);
  INFO("flushed value in: " << flushed.size() << " files; WAL value in: " << wal.size());
  CHECK(AnyEndsWith(flushed, ".sst"));
  CHECK(AnyEndsWith(wal, ".log"));
  CHECK(AnyEndsWith(FilesContaining(dir.Sub("db"), kFlushedKey), ".sst"));
}

TEST_CASE("with a key no file holds a value or a key in plain text", "[rocksdb]") {
  TempDir dir;
  WriteBoth(dir.Sub("db"), KeyOf('a'));
  auto files = SnapshotFiles(dir.Sub("db"));
  std::vector<std::string> names;
  for (const auto& [name, bytes] : files) names.push_back(name);
  // The flushed value is in an SST and the other in a WAL, encrypted.
  REQUIRE(AnyEndsWith(names, ".sst"));
  REQUIRE(AnyEndsWith(names, ".log"));
  for (const std::string& needle : {kFlushedValue, kWalValue, kFlushedKey, kWalKey}) {
    INFO(needle);
    CHECK(FilesContaining(dir.Sub("db"), needle).empty());
  }
  // Every file RocksDB wrote through its Env starts with the header; its own
  // diagnostic LOG (written beside it, see rocks_logger.h) and the empty LOCK
  // do not.
  for (const auto& [name, bytes] : files) {
    if (name == "LOCK" || name.rfind("LOG", 0) == 0) continue;
    INFO(name);
    CHECK(bytes.rfind("KVAESCTR", 0) == 0);
  }
  ExpectBoth(dir.Sub("db"), KeyOf('a'));
  // And again, after the reopen flushed the recovered log to an SST.
  ExpectBoth(dir.Sub("db"), KeyOf('a'));
  CHECK(FilesContaining(dir.Sub("db"), kWalValue).empty());
}

TEST_CASE("an encrypted store opened without its key, or with another, is refused untouched",
          "[rocksdb]") {
  TempDir dir;
  const std::string db = dir.Sub("db");
  WriteBoth(db, KeyOf('a'));
  const auto before = SnapshotFiles(db);

  auto none = Store::Open(At(db, std::nullopt));
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == Status::Code::kUnauthorized);
  CHECK(none.status().message() ==
        "data directory " + db + " is encrypted: its key is needed (--encryption-key-file)");

  auto other = Store::Open(At(db, KeyOf('b')));
  REQUIRE_FALSE(other.ok());
  CHECK(other.status().code() == Status::Code::kUnauthorized);
  CHECK(other.status().message().find("the encryption key does not open data directory " + db) !=
        std::string::npos);
  CHECK(other.status().message().find("another key") != std::string::npos);

  CHECK(SnapshotFiles(db) == before);
  ExpectBoth(db, KeyOf('a'));
}

TEST_CASE("a key given for a plain store is refused, untouched", "[rocksdb]") {
  TempDir dir;
  const std::string db = dir.Sub("db");
  WriteBoth(db, std::nullopt);
  const auto before = SnapshotFiles(db);
  auto keyed = Store::Open(At(db, KeyOf('a')));
  REQUIRE_FALSE(keyed.ok());
  CHECK(keyed.status().code() == Status::Code::kInvalidArgument);
  CHECK(keyed.status().message().find("data directory " + db + " is not encrypted") !=
        std::string::npos);
  CHECK(SnapshotFiles(db) == before);
  ExpectBoth(db, std::nullopt);
}

TEST_CASE("an SST of another key in an encrypted store is an error naming it", "[rocksdb]") {
  TempDir dir;
  WriteBoth(dir.Sub("a"), KeyOf('a'));
  WriteBoth(dir.Sub("b"), KeyOf('b'));
  // Swap in b's table files for a's: same names, other key.
  for (const auto& e : fs::directory_iterator(dir.Sub("a"))) {
    if (e.path().extension() == ".sst") fs::remove(e.path());
  }
  std::string copied;
  for (const auto& e : fs::directory_iterator(dir.Sub("b"))) {
    if (e.path().extension() == ".sst") {
      copied = e.path().filename().string();
      fs::copy_file(e.path(), fs::path(dir.Sub("a")) / copied);
    }
  }
  REQUIRE_FALSE(copied.empty());
  auto s = Store::Open(At(dir.Sub("a"), KeyOf('a')));
  if (s.ok()) {  // RocksDB may open table files lazily: the read fails then
    auto e = (*s)->Get("ns", kFlushedKey);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().message().find("encrypted with another key") != std::string::npos);
  } else {
    INFO(s.status().ToString());
    CHECK(s.status().message().find("encrypted with another key") != std::string::npos);
  }
}

TEST_CASE("kvd check reads an encrypted store with its key, and only with it", "[rocksdb]") {
  TempDir dir;
  const std::string db = dir.Sub("db");
  WriteBoth(db, KeyOf('a'));
  Result<CheckReport> r = CheckStore(db, KeyOf('a'));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->ok());
  CHECK(r->records == 2);
  Result<CheckReport> none = CheckStore(db);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == Status::Code::kUnauthorized);
  Result<CheckReport> other = CheckStore(db, KeyOf('b'));
  REQUIRE_FALSE(other.ok());
  CHECK(other.status().code() == Status::Code::kUnauthorized);
  Result<CheckReport> plain_with_key = [&] {
    WriteBoth(dir.Sub("plain"), std::nullopt);
    return CheckStore(dir.Sub("plain"), KeyOf('a'));
  }();
  CHECK(plain_with_key.status().code() == Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace kv::store
