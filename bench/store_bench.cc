// Store vs raw RocksDB: put, get and list of 100-byte values, in one run;
// and put and get through a store encrypted at rest (StoreOptions::
// encryption_key), beside the plain ones, plus what AES-256-CTR costs per
// write-ahead-log append and per 4 KiB block read from disk.
//
// Both sides use the same machine, the same RocksDB build, the same
// durability (write-ahead log on, no fsync) and the same memtable size
// (StoreOptions::memtable_bytes); the raw side is the floor the
// store's bookkeeping (expiry index, event log, usage, revisions) costs
// against. BM_RawPutStoreBatch writes, raw, the batch a store put writes
// (the encoded record and its event, in two column families) without
// reading anything first: what the event log alone costs, so that the rest
// of the gap is the store's read of the previous version and bookkeeping.
// Run: build-release/bench/store_bench --benchmark_repetitions=5
//        --benchmark_enable_random_interleaving=true
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include "daemon/store/aes_ctr_provider.h"
#include "daemon/store/layout.h"
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

kv::store::EncryptionKey BenchKey() {
  return *kv::store::EncryptionKey::FromBytes(std::string(32, '\x5a'));
}

std::unique_ptr<kv::store::Store> OpenStore(const std::string& dir,
                                            std::optional<kv::store::EncryptionKey> key) {
  kv::store::StoreOptions o;
  o.data_dir = dir;
  o.encryption_key = std::move(key);
  auto s = kv::store::Store::Open(o);
  if (!s.ok()) {
    fprintf(stderr, "store: %s\n", s.status().ToString().c_str());
    abort();
  }
  return std::move(*s);
}

// One store, one encrypted store and one raw DB for the whole process, each
// loaded with kKeySpace keys.
struct Fixture {
  std::string store_dir = TempDir("store");
  std::string encrypted_dir = TempDir("encrypted");
  std::string raw_dir = TempDir("raw");
  std::string batch_dir = TempDir("raw-batch");
  std::unique_ptr<kv::store::Store> store;
  std::unique_ptr<kv::store::Store> encrypted;
  rocksdb::DB* raw = nullptr;
  // Raw RocksDB with a data and an events family, for BM_RawPutStoreBatch.
  rocksdb::DB* batch_db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> batch_families;  // default, data, events
  uint64_t batch_revision = 0;

  Fixture() {
    store = OpenStore(store_dir, std::nullopt);
    encrypted = OpenStore(encrypted_dir, BenchKey());
    rocksdb::Options ro;
    ro.create_if_missing = true;
    ro.max_background_jobs = 2;
    // The store's memtable tuning, so that the ratio shows the store's own
    // cost, not a RocksDB setting.
    ro.write_buffer_size = kv::store::StoreOptions().memtable_bytes;
    ro.max_write_buffer_number = 4;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(64 << 20);
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    ro.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    if (!rocksdb::DB::Open(ro, raw_dir, &raw).ok()) abort();
    rocksdb::DBOptions bo(ro);
    bo.create_missing_column_families = true;
    rocksdb::ColumnFamilyOptions cf(ro);
    if (!rocksdb::DB::Open(bo, batch_dir, {{rocksdb::kDefaultColumnFamilyName, cf},
                                          {kv::store::kDataFamily, cf},
                                          {kv::store::kEventsFamily, cf}},
                           &batch_families, &batch_db)
             .ok()) {
      abort();
    }
    for (int i = 0; i < kKeySpace; ++i) {
      (void)store->Put("bench", KeyOf(i), kValue, {});
      (void)encrypted->Put("bench", KeyOf(i), kValue, {});
      (void)raw->Put(rocksdb::WriteOptions(), KeyOf(i), kValue);
      if (!PutStoreBatch(KeyOf(i)).ok()) abort();
    }
  }
  ~Fixture() {
    store.reset();
    encrypted.reset();
    delete raw;
    for (auto* h : batch_families) (void)batch_db->DestroyColumnFamilyHandle(h);
    delete batch_db;
    std::filesystem::remove_all(store_dir);
    std::filesystem::remove_all(encrypted_dir);
    std::filesystem::remove_all(raw_dir);
    std::filesystem::remove_all(batch_dir);
  }

  // The batch a store put of kValue writes: the record and its event.
  rocksdb::Status PutStoreBatch(const std::string& key) {
    const int64_t now = 1'700'000'000'000;
    kv::store::Record r;
    r.revision = ++batch_revision;
    r.create_revision = r.revision;
    r.created_ms = r.updated_ms = now;
    r.content_type = "application/octet-stream";
    r.value = kValue;
    kv::store::Event e;
    e.type = kv::store::EventType::kUpdate;
    e.time_ms = now;
    e.value_size = kValue.size();
    e.has_value = true;
    e.ns = "bench";
    e.key = key;
    e.content_type = r.content_type;
    e.value = kValue;
    rocksdb::WriteBatch b;
    b.Put(batch_families[1], kv::store::DataKey("bench", key), kv::store::EncodeRecord(r));
    b.Put(batch_families[2], kv::store::EventKey(r.revision), kv::store::EncodeEvent(e));
    return batch_db->Write(rocksdb::WriteOptions(), &b);
  }
};

// Made on first use, destroyed by main() before exit: closing the
// encrypted store writes through the cipher, whose per-thread context is
// gone once exit() destroys main's thread_locals (before statics).
Fixture* fixture = nullptr;
Fixture& F() {
  if (fixture == nullptr) fixture = new Fixture;
  return *fixture;
}

void Put(benchmark::State& state, kv::store::Store& store) {
  std::mt19937 rng(1);
  for (auto _ : state) {
    auto r = store.Put("bench", KeyOf(static_cast<int>(rng() % kKeySpace)), kValue, {});
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}

void Get(benchmark::State& state, const kv::store::Store& store) {
  std::mt19937 rng(2);
  for (auto _ : state) {
    auto r = store.Get("bench", KeyOf(static_cast<int>(rng() % kKeySpace)));
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_StorePut(benchmark::State& state) { Put(state, *F().store); }
void BM_StorePutEncrypted(benchmark::State& state) { Put(state, *F().encrypted); }

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

void BM_RawPutStoreBatch(benchmark::State& state) {
  auto& f = F();
  std::mt19937 rng(1);
  for (auto _ : state) {
    auto s = f.PutStoreBatch(KeyOf(static_cast<int>(rng() % kKeySpace)));
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_StoreGet(benchmark::State& state) { Get(state, *F().store); }
void BM_StoreGetEncrypted(benchmark::State& state) { Get(state, *F().encrypted); }

// AES-256-CTR over a range of state.range(0) bytes: 128, about what one put
// appends to the write-ahead log; 4096, a block that a block cache miss of
// the encrypted store decrypts.
void BM_AesCtr(benchmark::State& state) {
  auto provider = kv::store::NewAesCtrProvider(BenchKey());
  std::string header(provider->GetPrefixLength(), '\0');
  if (!provider->CreateNewPrefix("bench", header.data(), header.size()).ok()) abort();
  rocksdb::Slice prefix(header);
  std::unique_ptr<rocksdb::BlockAccessCipherStream> stream;
  if (!provider->CreateCipherStream("bench", rocksdb::EnvOptions(), prefix, &stream).ok()) abort();
  std::string block(static_cast<size_t>(state.range(0)), 'x');
  uint64_t offset = header.size();
  for (auto _ : state) {
    (void)stream->Decrypt(offset, block.data(), block.size());
    offset += block.size();
    benchmark::DoNotOptimize(block);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * block.size()));
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
BENCHMARK(BM_StorePutEncrypted);
BENCHMARK(BM_RawPut);
BENCHMARK(BM_RawPutStoreBatch);
BENCHMARK(BM_StoreGet);
BENCHMARK(BM_StoreGetEncrypted);
BENCHMARK(BM_RawGet);
BENCHMARK(BM_AesCtr)->Arg(128)->Arg(4096);
BENCHMARK(BM_StoreList100);
BENCHMARK(BM_RawList100);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  delete fixture;
  return 0;
}
