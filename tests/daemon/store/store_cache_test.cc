// The record cache (daemon/store/record_cache.h) must never make a read or a
// write see anything but what RocksDB holds: checked here with a cache small
// enough to evict all the time, with none, and with racing readers/writers.
#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "daemon/store/key_locks.h"
#include "daemon/store/record_cache.h"
#include "tests/daemon/store/store_fixture.h"

namespace kv::store {
namespace {

using testing::StoreFixture;

template <class K>
bool Has(RecordCache& cache, size_t hash, const K& key) {
  std::string_view record;
  return cache.Find(hash, key, &record);
}

TEST_CASE("RecordCache keeps each shard within its budget, evicting by second chance",
          "[unit]") {
  // 2 shards of 8000 bytes: entries of a 10-byte key and the largest record
  // whose entry takes at most 1000 bytes (an eighth of a shard, the most one
  // entry may take) and more than 8000 / 9, so that 8 fit. Hashes pick the
  // shard by their low bits: even hashes are shard 0.
  RecordCache cache(16000, 2);
  size_t record_size = 0;
  while (RecordCache::EntryCharge(10, record_size + 1) <= 1000) ++record_size;
  REQUIRE(RecordCache::EntryCharge(10, record_size) * 9 > 8000);
  const std::string record(record_size, 'r');
  auto key = [](int i) { return "key-" + std::to_string(100000 + i); };
  auto hash = [](int i) { return static_cast<size_t>(i) << 21; };  // even, spread over buckets
  for (int i = 0; i < 8; ++i) cache.Put(hash(i), key(i), record);
  for (int i = 0; i < 8; ++i) REQUIRE(Has(cache, hash(i), key(i)));
  // Every entry was used since the hand last passed: the oldest goes.
  cache.Put(hash(8), key(8), record);
  CHECK(!Has(cache, hash(0), key(0)));
  // Now 1..7 have had their chance; 2 is used again, so 1 and then 3 go.
  REQUIRE(Has(cache, hash(2), key(2)));
  cache.Put(hash(9), key(9), record);
  CHECK(!Has(cache, hash(1), key(1)));
  CHECK(Has(cache, hash(2), key(2)));
  cache.Put(hash(10), key(10), record);
  CHECK(!Has(cache, hash(3), key(3)));
  for (int i : {2, 4, 5, 6, 7, 8, 9, 10}) CHECK(Has(cache, hash(i), key(i)));
  CHECK(!Has(cache, hash(4) + 1, key(4)));  // another hash, another shard
  cache.Put(hash(4), key(4), "other");
  std::string_view found;
  REQUIRE(cache.Find(hash(4), key(4), &found));
  CHECK(found == "other");
  // A record that outgrows its entry moves to a new one, in the same places.
  cache.Put(hash(5), key(5), "s");
  cache.Put(hash(5), key(5), record);
  REQUIRE(cache.Find(hash(5), key(5), &found));
  CHECK(found == record);
  for (int i = 12; i < 40; ++i) cache.Put(hash(i), key(i), record);  // the hand goes round
  for (int i = 32; i < 40; ++i) CHECK(Has(cache, hash(i), key(i)));
  cache.Erase(hash(4), key(4));
  CHECK(!Has(cache, hash(4), key(4)));
  cache.Put(hash(11), key(11), std::string(record_size + 1, 'x'));  // over an eighth of a shard: not kept
  CHECK(!Has(cache, hash(11), key(11)));
  // Many small entries: the buckets grow and everything is still found.
  RecordCache many(size_t{1} << 20, 1);
  for (int i = 0; i < 2000; ++i) many.Put(static_cast<size_t>(i) * 0x9E3779B97F4A7C15ull, key(i), "v");
  for (int i = 0; i < 2000; ++i) {
    CHECK(Has(many, static_cast<size_t>(i) * 0x9E3779B97F4A7C15ull, key(i)));
  }
  cache.Clear(0);
  CHECK(!Has(cache, hash(2), key(2)));
  RecordCache off(0, 4);
  off.Put(1, "k", "v");
  CHECK_FALSE(off.enabled());
  CHECK(!Has(off, 1, "k"));
}

TEST_CASE("RecordCache charges what an entry holds, and a value that shrinks gives memory back",
          "[unit]") {
  RecordCache cache(size_t{1} << 20, 1);
  const std::string big(4000, 'b');
  cache.Put(7, "key", big);
  CHECK(cache.shard_bytes(0) == RecordCache::EntryCharge(3, big.size()));
  // A little larger or smaller: rewritten in place, charged the same.
  cache.Put(7, "key", std::string(4100, 'c'));
  CHECK(cache.shard_bytes(0) == RecordCache::EntryCharge(3, big.size()));
  cache.Put(7, "key", std::string(2500, 'd'));
  CHECK(cache.shard_bytes(0) == RecordCache::EntryCharge(3, big.size()));
  // Far smaller: a new entry of its own size, the old one freed. (Kept in
  // place, a million keys whose values shrank would hold 4 KB each while
  // charged for a few bytes, far past the cache's budget.)
  cache.Put(7, "key", "s");
  CHECK(cache.shard_bytes(0) == RecordCache::EntryCharge(3, 1));
  std::string_view found;
  REQUIRE(cache.Find(7, "key", &found));
  CHECK(found == "s");
  cache.Erase(7, "key");
  CHECK(cache.shard_bytes(0) == 0);
}

TEST_CASE_METHOD(StoreFixture, "reads and writes stay exact whatever the record cache holds",
                 "[rocksdb]") {
  auto o = Options();
  // 12000 keys, about 12 a stripe, of about 260 bytes each in the cache:
  // about 3 KB a shard, so a shard of 2640 bytes (entries of up to 330
  // bytes) evicts all the time.
  SECTION("a cache that evicts all the time") { o.record_cache_bytes = 2640 * KeyLocks::kStripes; }
  SECTION("no cache") { o.record_cache_bytes = 0; }
  SECTION("the default cache") {}
  Reopen(o);
  std::mt19937 rng(7);
  std::map<std::string, std::string> model;
  for (int step = 0; step < 30000; ++step) {
    std::string key = "k" + std::to_string(rng() % 12000);
    int op = static_cast<int>(rng() % 7);
    if (op == 6) {  // a batch, one key maybe twice: its records come from cache and disk
      std::vector<BatchPut> items;
      for (int i = 0; i < 3; ++i) {
        std::string k = i == 2 && rng() % 2 ? items[0].key : "k" + std::to_string(rng() % 12000);
        items.push_back({k, std::string(rng() % 120, static_cast<char>('a' + rng() % 26)), {}});
      }
      auto r = store->PutMany("ns", items);
      REQUIRE(r.ok());
      for (size_t i = 0; i < items.size(); ++i) {
        REQUIRE((*r)[i].ok());
        model[items[i].key] = items[i].value;
      }
    } else if (op <= 2) {
      std::string value(rng() % 120, static_cast<char>('a' + rng() % 26));
      auto r = store->Put("ns", key, value, {});
      REQUIRE(r.ok());
      CHECK(r->created == (model.count(key) == 0));
      model[key] = value;
    } else if (op == 3) {
      auto r = store->Delete("ns", key);
      CHECK(r.ok() == (model.count(key) == 1));
      model.erase(key);
    } else if (op == 4) {
      auto r = store->Incr("ns", key, 1);
      auto it = model.find(key);
      bool numeric = it == model.end() || (!it->second.empty() &&
                                           it->second.find_first_not_of("0123456789") ==
                                               std::string::npos &&
                                           it->second.size() < 18);
      if (numeric) {
        REQUIRE(r.ok());
        model[key] = std::to_string((it == model.end() ? 0 : std::stoll(it->second)) + 1);
      } else {
        CHECK_FALSE(r.ok());
      }
    } else {
      auto r = store->Get("ns", key);
      auto it = model.find(key);
      REQUIRE(r.ok() == (it != model.end()));
      if (r.ok()) CHECK(r->value == it->second);
    }
    if (step % 10000 == 9999) REQUIRE(store->CompactAll().ok());
  }
  uint64_t bytes = 0;
  for (const auto& [k, v] : model) {
    bytes += k.size() + v.size();
    auto r = store->Get("ns", k);
    REQUIRE(r.ok());
    CHECK(r->value == v);
  }
  CHECK(StatsOf().keys == model.size());
  CHECK(StatsOf().bytes == bytes);
}

TEST_CASE_METHOD(StoreFixture, "racing readers never see a key go back to an older revision",
                 "[rocksdb]") {
  std::atomic<bool> stop{false};
  std::atomic<int> regressions{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        (void)store->Put("ns", "k" + std::to_string((i + t) % 4), std::to_string(i), {});
      }
    });
  }
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      uint64_t seen[4] = {0, 0, 0, 0};
      while (!stop.load()) {
        for (int k = 0; k < 4; ++k) {
          auto r = store->Get("ns", "k" + std::to_string(k));
          if (!r.ok()) continue;
          if (r->revision < seen[k]) regressions.fetch_add(1);
          seen[k] = std::max(seen[k], r->revision);
        }
      }
    });
  }
  threads[0].join();
  threads[1].join();
  stop = true;
  threads[2].join();
  threads[3].join();
  CHECK(regressions.load() == 0);
  // And what the cache answers is what the disk holds, after a reopen too.
  std::vector<uint64_t> before;
  for (int k = 0; k < 4; ++k) before.push_back(store->Get("ns", "k" + std::to_string(k))->revision);
  Reopen();
  for (int k = 0; k < 4; ++k) {
    CHECK(store->Get("ns", "k" + std::to_string(k))->revision == before[static_cast<size_t>(k)]);
  }
}

}  // namespace
}  // namespace kv::store
