// Store::Backup: a consistent copy of the database, taken while writes go
// on, that Store::Open takes as a data directory of its own.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "daemon/store/encryption_key.h"
#include "tests/daemon/store/store_fixture.h"

namespace kv::store {
namespace {

using testing::StoreFixture;

TEST_CASE_METHOD(StoreFixture, "a backup holds the store as it was, and opens on its own",
                 "[rocksdb]") {
  Set("keep", "1");
  Set("goes-later", "2");
  Set("ttl", "3", 60'000);
  Set("other-ns", "4", 0, "ns2");
  REQUIRE(store->PutWebhook("ns", "hook1", R"({"endpoint":"http://127.0.0.1:1/"})", true).ok());
  for (int i = 0; i < 1000; ++i) Set("bulk:" + std::to_string(i), std::string(100, 'b'));
  const Usage usage = StatsOf();
  const uint64_t revision = store->CommittedRevision();

  const std::string backup = dir.Sub("backup");
  REQUIRE(store->Backup(backup).ok());

  // Changes after the backup are not in it.
  REQUIRE(store->Delete("ns", "goes-later", {}).ok());
  Set("after", "5");

  StoreOptions o = Options();
  o.data_dir = backup;
  auto copy = Store::Open(o);
  INFO(copy.status().ToString());
  REQUIRE(copy.ok());
  Store& b = **copy;
  CHECK(b.Get("ns", "keep")->value == "1");
  CHECK(b.Get("ns", "goes-later")->value == "2");
  CHECK(b.Get("ns", "ttl")->expire_at_ms == clock->NowMs() + 60'000);
  CHECK(b.Get("ns2", "other-ns")->value == "4");
  CHECK(b.Get("ns", "after").status().IsNotFound());
  auto u = b.Stats("ns");
  REQUIRE(u.ok());
  CHECK(u->keys == usage.keys);
  CHECK(u->bytes == usage.bytes);
  CHECK(b.GetWebhook("ns", "hook1").ok());
  CHECK(b.CommittedRevision() == revision);
  auto events = b.ReadEvents(0, 10'000);
  REQUIRE(events.ok());
  REQUIRE(!events->empty());
  CHECK(events->back().revision == revision);

  // The copy is a store of its own: it goes on from its revision.
  auto w = b.Put("ns", "in-copy", "6", {});
  REQUIRE(w.ok());
  CHECK(w->entry.revision == revision + 1);
  CHECK(store->Get("ns", "in-copy").status().IsNotFound());
}

TEST_CASE_METHOD(StoreFixture, "a backup never writes into a directory that exists",
                 "[rocksdb]") {
  Set("k", "v");
  const std::string existing = dir.Sub("existing");
  std::filesystem::create_directories(existing);
  auto s = store->Backup(existing);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == existing + " exists: back up into a new directory");
  CHECK(std::filesystem::is_empty(existing));
  CHECK(store->Backup(dir.Sub("no/such/parent/backup")).code() == Status::Code::kIOError);
  CHECK_FALSE(std::filesystem::exists(dir.Sub("no")));
}

TEST_CASE_METHOD(StoreFixture, "an encrypted store's backup needs its key", "[rocksdb]") {
  StoreOptions o = Options();
  o.data_dir = dir.Sub("encrypted");
  o.encryption_key = *EncryptionKey::FromBytes(std::string(32, 'k'));
  Reopen(o);
  Set("secret", "value");
  const std::string backup = dir.Sub("backup");
  REQUIRE(store->Backup(backup).ok());

  StoreOptions keyed = o;
  keyed.data_dir = backup;
  auto copy = Store::Open(keyed);
  REQUIRE(copy.ok());
  CHECK((*copy)->Get("ns", "secret")->value == "value");
  copy->reset();
  StoreOptions keyless = keyed;
  keyless.encryption_key.reset();
  CHECK(Store::Open(keyless).status().code() == Status::Code::kUnauthorized);
}

}  // namespace
}  // namespace kv::store
