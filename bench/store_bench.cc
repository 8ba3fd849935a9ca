// Store vs raw RocksDB: put, get and list of 100-byte values, in one run.
//
// Both sides use the same machine, the same RocksDB build and the same
// durability (write-ahead log on, no fsync); the raw side is the floor the
// store's bookkeeping (expiry index, event log, usage, revisions) costs
// against. Run: build-release/bench/store_bench --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include "daemon/store/store.h"

namespace {

constexpr int kKeySpace = 100000;
const std::string kValue(100, 'x');

std::string KeyOf(int i) {
  char buf[32];
  snprintf(buf, sizeof buf, "key:%012d", i);
  return buf;
}

std::string TempDir(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             (std::string("kv-bench-") + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

// One store / one raw DB for the whole process, loaded with kKeySpace keys.
struct Fixture {
  std::string store_dir = TempDir("store");
  std::string raw_dir = TempDir("raw");
  std::unique_ptr<kv::store::Store> store;
  rocksdb::DB* raw = nullptr;

  Fixture() {
    kv::store::StoreOptions o;
    o.data_dir = store_dir;
    auto s = kv::store::Store::Open(o);
    if (!s.ok()) {
      fprintf(stderr, "store: %s\n", s.status().ToString().c_str());
      abort();
    }
    store = std::move(*s);
    rocksdb::Options ro;
    ro.create_if_missing = true;
    ro.max_background_jobs = 2;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(64 << 20);
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    ro.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    if (!rocksdb::DB::Open(ro, raw_dir, &raw).ok()) abort();
    for (int i = 0; i < kKeySpace; ++i) {
      (void)store->Put("bench", KeyOf(i), kValue, {});
      (void)raw->Put(rocksdb::WriteOptions(), KeyOf(i), kValue);
    }
  }
  ~Fixture() {
    store.reset();
    delete raw;
    std::filesystem::remove_all(store_dir);
    std::filesystem::remove_all(raw_dir);
  }
};

Fixture& F() {
  static Fixture f;
  return f;
}

void BM_StorePut(benchmark::State& state) {
  auto& f = F();
  std::mt19937 rng(1);
  for (auto _ : state) {
    auto r = f.store->Put("bench", KeyOf(static_cast<int>(rng() % kKeySpace)), kValue, {});
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RawPut(benchmark::State& state) {
  auto& f = F();
  std::mt19937 rng(1);
  rocksdb::WriteOptions wo;
  for (auto _ : state) {
    auto s = f.raw->Put(wo, KeyOf(static_cast<int>(rng() % kKeySpace)), kValue);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_StoreGet(benchmark::State& state) {
  auto& f = F();
  std::mt19937 rng(2);
  for (auto _ : state) {
    auto r = f.store->Get("bench", KeyOf(static_cast<int>(rng() % kKeySpace)));
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RawGet(benchmark::State& state) {
  auto& f = F();
  std::mt19937 rng(2);
  std::string v;
  for (auto _ : state) {
    auto s = f.raw->Get(rocksdb::ReadOptions(), KeyOf(static_cast<int>(rng() % kKeySpace)), &v);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}

// A page of 100 keys with values, from a random starting prefix.
void BM_StoreList100(benchmark::State& state) {
  auto& f = F();
  std::mt19937 rng(3);
  kv::store::ListOptions o;
  o.limit = 100;
  o.values = true;
  for (auto _ : state) {
    o.prefix = "key:0000000" + std::to_string(rng() % 10);
    auto r = f.store->List("bench", o);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * 100);
}

void BM_RawList100(benchmark::State& state) {
  auto& f = F();
  std::mt19937 rng(3);
  for (auto _ : state) {
    std::string prefix = "key:0000000" + std::to_string(rng() % 10);
    std::string upper = prefix;
    upper.back()++;
    rocksdb::Slice ub(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &ub;
    std::unique_ptr<rocksdb::Iterator> it(f.raw->NewIterator(ro));
    std::vector<std::pair<std::string, std::string>> page;
    for (it->Seek(prefix); it->Valid() && page.size() < 100; it->Next()) {
      page.emplace_back(it->key().ToString(), it->value().ToString());
    }
    benchmark::DoNotOptimize(page);
  }
  state.SetItemsProcessed(state.iterations() * 100);
}

BENCHMARK(BM_StorePut);
BENCHMARK(BM_RawPut);
BENCHMARK(BM_StoreGet);
BENCHMARK(BM_RawGet);
BENCHMARK(BM_StoreList100);
BENCHMARK(BM_RawList100);

}  // namespace

BENCHMARK_MAIN();
