#include "daemon/store/store.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include "common/base64.h"
#include "common/json_flat.h"
#include "common/units.h"
#include "daemon/store/encryption.h"
#include "daemon/store/key_locks.h"
#include "daemon/store/record_cache.h"
#include "daemon/store/revision_sequencer.h"
#include "daemon/store/rocks_logger.h"
#include "daemon/store/ttl_filter.h"
#include "daemon/store/usage_merge.h"

namespace kv::store {
namespace {

constexpr char kDefaultContentType[] = "application/octet-stream";
constexpr size_t kMaxNamespaceBytes = 255;
constexpr size_t kBatchKeys = 256;  // keys per batch in Clear and ExpireDue
// The expiry worker's longest sleep, and "no key has a TTL".
constexpr int64_t kMaxExpiryIdleMs = 5'000;
constexpr int64_t kNoExpiry = std::numeric_limits<int64_t>::max();

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// The one place where RocksDB's Status becomes ours.
Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsNoSpace()) {
    return Status::NoSpace(std::string(what) +
                           ": no space left on the disk of the data directory (reads still "
                           "work; writes resume once 64 MiB are free)");
  }
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsIOError()) return Status::IOError(msg);
  if (s.IsTimedOut()) return Status::Timeout(msg);
  if (s.IsBusy() || s.IsTryAgain()) return Status::Unavailable(msg);
  return Status::Internal(msg);
}

Status ValidateNamespace(std::string_view ns) {
  if (ns.empty()) return Status::InvalidArgument("namespace is empty");
  if (ns.size() > kMaxNamespaceBytes) return Status::InvalidArgument("namespace is too long");
  if (ns.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("namespace contains a NUL byte");
  }
  return Status::Ok();
}

Entry ToEntry(std::string_view key, Record&& r, uint64_t value_size, bool with_value) {
  Entry e;
  e.key.assign(key);
  if (with_value) e.value = std::move(r.value);
  e.content_type = std::move(r.content_type);
  e.value_size = value_size;
  e.revision = r.revision;
  e.create_revision = r.create_revision;
  e.created_ms = r.created_ms;
  e.updated_ms = r.updated_ms;
  e.expire_at_ms = r.expire_at_ms;
  return e;
}

Entry ToEntry(std::string_view key, const Record& r, uint64_t value_size, bool with_value) {
  Entry e;
  e.key.assign(key);
  if (with_value) e.value = r.value;
  e.content_type = r.content_type;
  e.value_size = value_size;
  e.revision = r.revision;
  e.create_revision = r.create_revision;
  e.created_ms = r.created_ms;
  e.updated_ms = r.updated_ms;
  e.expire_at_ms = r.expire_at_ms;
  return e;
}

bool IsExpired(const Record& r, int64_t now) { return r.expire_at_ms > 0 && r.expire_at_ms <= now; }

std::string Quoted(uint64_t etag) { return "\"" + std::to_string(etag) + "\""; }

Status CheckCondition(const Condition& c, const Record* current) {
  switch (c.kind) {
    case Condition::Kind::kNone:
      return Status::Ok();
    case Condition::Kind::kIfMatch:
      if (current == nullptr) return Status::PreconditionFailed("if-match: the key does not exist");
      if (current->revision != c.etag) {
        return Status::PreconditionFailed("if-match: the key's ETag is " + Quoted(current->revision) +
                                          ", not " + Quoted(c.etag));
      }
      return Status::Ok();
    case Condition::Kind::kIfAbsent:
      if (current != nullptr) return Status::PreconditionFailed("if-absent: the key already exists");
      return Status::Ok();
    case Condition::Kind::kIfExists:
      if (current == nullptr) return Status::PreconditionFailed("if-exists: the key does not exist");
      return Status::Ok();
  }
  return Status::Ok();
}

bool IsJsonContentType(std::string_view ct) {
  return ct.starts_with("application/json") || ct.find("+json") != std::string_view::npos;
}

// What a write wants to leave behind, decided from the key's current state.
struct Mutation {
  bool erase = false;  // delete the key instead of writing `record`
  Record record;       // value, content_type, expire_at_ms; the rest is filled in
};
using Decide = std::function<Result<Mutation>(const Record* current, int64_t now)>;

// A TTL the store takes: 0 (none) up to kMaxDurationMs.
Status CheckTtl(int64_t ttl_ms) {
  if (ttl_ms < 0) return Status::InvalidArgument("ttl must not be negative");
  if (ttl_ms > kMaxDurationMs) return Status::InvalidArgument("ttl is longer than 100 years");
  return Status::Ok();
}

// What a put leaves: the value, its content type and expiry.
Mutation PutMutation(std::string_view value, const PutOptions& options, const Record* current,
                     int64_t now) {
  Mutation m;
  m.record.value.assign(value);
  m.record.content_type = options.content_type;
  if (options.ttl_ms > 0) {
    m.record.expire_at_ms = now + options.ttl_ms;
  } else if (options.keep_ttl && current != nullptr) {
    m.record.expire_at_ms = current->expire_at_ms;
  }
  return m;
}

struct UsageCounters {
  int64_t keys = 0;
  int64_t bytes = 0;
};

// One key's write, decided but not yet assembled into a batch.
struct Planned {
  std::optional<Record> stored;  // what is on disk (or what the batch wrote before)
  bool expired = false;          // `stored` has expired and is settled by this write
  Mutation mutation;
  UsageCounters delta;
};

}  // namespace

class Store::Impl {
 public:
  explicit Impl(StoreOptions options)
      : opt_(std::move(options)), cache_(opt_.record_cache_bytes, KeyLocks::kStripes) {}
  ~Impl() { Close(); }

  Status Open();
  void Close();

  Result<Entry> Read(std::string_view ns, std::string_view key, bool with_value) const;
  Result<WriteResult> Apply(std::string_view ns, std::string_view key, const Condition& cond,
                            const Decide& decide, bool return_value);
  Result<std::vector<Status>> PutMany(std::string_view ns, const std::vector<BatchPut>& items);
  Result<ListPage> List(std::string_view ns, const ListOptions& o) const;
  Result<uint64_t> Clear(std::string_view ns, std::string_view prefix);
  Result<Usage> Stats(std::string_view ns) const;
  std::vector<Usage> ListNamespaces() const;
  Status SetQuota(std::string_view ns, uint64_t quota);
  Result<std::vector<Event>> ReadEvents(uint64_t after, size_t limit) const;
  Result<uint64_t> ExpireDue();
  Status CompactAll();
  Status Backup(const std::string& dir);
  // Writes RocksDB's buffered log records to the file, when the caller
  // flushes (StoreOptions::caller_flushes_wal); otherwise every write did.
  Status FlushWal() const;
  bool WalFlushNeeded() const;

  void SetWebhooksListener(std::function<void()> listener) {
    std::lock_guard<std::mutex> l(webhooks_listener_mu_);
    webhooks_listener_ = std::move(listener);
  }
  void WebhooksChanged() {
    std::lock_guard<std::mutex> l(webhooks_listener_mu_);
    if (webhooks_listener_) webhooks_listener_();
  }
  Status PutWebhook(std::string_view ns, std::string_view id, std::string_view definition,
                    bool create);
  Result<StoredWebhook> GetWebhook(std::string_view ns, std::string_view id) const;
  Result<std::vector<StoredWebhook>> ListWebhooks(std::string_view ns) const;
  Status DeleteWebhook(std::string_view ns, std::string_view id);
  Status SaveWebhookProgress(std::string_view ns, std::string_view id, const WebhookProgress& p);

  const StoreOptions& options() const { return opt_; }
  int64_t NowMs() const { return clock_->NowMs(); }
  Store::Counters GetCounters() const {
    Store::Counters c;
    c.expired_total = expired_total_.load(std::memory_order_relaxed);
    if (statistics_) c.wal_syncs_total = statistics_->getTickerCount(rocksdb::WAL_FILE_SYNCED);
    if (db_ != nullptr) {
      uint64_t v = 0;
      if (db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kSizeAllMemTables, &v)) {
        c.memtable_bytes = v;
      }
      // One cache serves every family: ask one of them.
      if (db_->GetIntProperty(data_, rocksdb::DB::Properties::kBlockCacheUsage, &v)) {
        c.block_cache_bytes = v;
      }
      if (db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimateTableReadersMem, &v)) {
        c.table_reader_bytes = v;
      }
      if (db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kTotalSstFilesSize, &v)) {
        c.table_bytes = v;
      }
      // RocksDB has no property for the log's size: its files, listed.
      rocksdb::VectorLogPtr logs;
      if (db_->GetSortedWalFiles(logs).ok()) {
        for (const auto& log : logs) c.wal_bytes += log->SizeFileBytes();
      }
    }
    return c;
  }
  const RevisionSequencer& revisions() const { return revs_; }
  uint64_t event_floor() const { return event_floor_.load(); }

 private:
  Status OpenDatabase();
  Status LoadState();
  void WorkerLoop();
  // After a write that added an expiry index entry due at `at`: wakes the
  // worker when that is earlier than what it sleeps until.
  void NoteExpiry(int64_t at);
  // The expire_at of the expiry index's first entry, or kNoExpiry.
  Result<int64_t> FirstExpiry() const;
  Status TrimEvents(int64_t now);
  Status SaveCheckpoint();
  // The lowest cursor of all webhooks (UINT64_MAX when there are none).
  Result<uint64_t> LowestWebhookCursor() const;

  // Usage reservations: Reserve checks the quota and applies the delta in
  // memory before the batch is written; Release undoes it if the write fails.
  Status Reserve(std::string_view ns, int64_t dkeys, int64_t dbytes);
  void Release(std::string_view ns, int64_t dkeys, int64_t dbytes);
  uint64_t QuotaOf(std::string_view ns) const;  // REQUIRES: usage_mu_ held

  void AppendEvent(rocksdb::WriteBatch* b, uint64_t rev, EventType type, int64_t now,
                   std::string_view ns, std::string_view key, const Record& r) const;
  // Appends the deletion of a stored key (record, index entry, usage, event).
  void AppendErase(rocksdb::WriteBatch* b, uint64_t rev, EventType type, int64_t now,
                   std::string_view ns, std::string_view key, std::string_view data_key,
                   const Record& stored, UsageCounters* delta) const;
  Status Write(rocksdb::WriteBatch* b);
  // Checks the condition and decides one key's write against p->stored.
  Status Plan(std::string_view ns, std::string_view key, const Condition& cond,
              const Decide& decide, int64_t now, Planned* p) const;
  // Appends a planned write to the batch with revisions from *rev onwards.
  WriteResult AppendPlanned(rocksdb::WriteBatch* b, std::string_view ns, std::string_view key,
                            std::string_view dkey, Planned* p, uint64_t* rev, int64_t now,
                            bool return_value, std::string* encoded = nullptr) const;
  // The key's record, from the record cache or RocksDB.
  // REQUIRES: the key's stripe lock is held.
  Status GetRecord(std::string_view data_key, std::optional<Record>* out) const;

  StoreOptions opt_;
  // The sequence number up to which the write-ahead log was flushed (or its
  // flush failed and was reported): FlushWal() skips when nothing is newer.
  mutable std::atomic<uint64_t> wal_flushed_seq_{0};
  std::shared_ptr<const Clock> clock_;
  std::unique_ptr<rocksdb::Env> env_;  // the encrypting Env; null: RocksDB's default
  rocksdb::DB* db_ = nullptr;
  rocksdb::ColumnFamilyHandle* data_ = nullptr;
  rocksdb::ColumnFamilyHandle* expiry_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* webhooks_ = nullptr;
  // Serializes the read-check-write of webhook definitions and progress.
  mutable std::mutex webhooks_mu_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions write_options_;

  mutable KeyLocks locks_;
  // Guarded shard by shard by locks_' stripes (record_cache.h).
  mutable RecordCache cache_;
  RevisionSequencer revs_;
  std::atomic<uint64_t> event_floor_{0};
  std::atomic<uint64_t> expired_total_{0};
  std::shared_ptr<rocksdb::Statistics> statistics_;  // tickers only, for metrics
  bool loaded_ = false;  // the database was opened and verified as ours
  int64_t last_trim_ms_ = 0;  // guarded by expire_mu_
  std::mutex expire_mu_;      // one ExpireDue at a time
  std::mutex batch_mu_;       // one PutMany at a time (see PutMany)

  mutable std::mutex usage_mu_;
  std::map<std::string, UsageCounters, std::less<>> usage_;
  std::map<std::string, uint64_t, std::less<>> quotas_;

  // Held while the listener runs, so that replacing it waits for a call
  // in progress.
  std::mutex webhooks_listener_mu_;
  std::function<void()> webhooks_listener_;  // guarded by webhooks_listener_mu_

  std::thread worker_;
  std::mutex worker_mu_;
  std::condition_variable worker_cv_;
  bool stopping_ = false;
  // When the earliest key in the expiry index is due (Unix ms; kNoExpiry for
  // none), so that the worker sleeps until then instead of polling. Lowered
  // by writes that add an earlier expiry; set under worker_mu_.
  std::atomic<int64_t> next_expiry_ms_{0};
};

// ---------------------------------------------------------------- open/close

Status Store::Impl::Open() {
  clock_ = opt_.clock ? opt_.clock : std::make_shared<SystemClock>();
  opt_.clock = clock_;
  // With a flushing caller the fsync moves to FlushWal(): one per batch.
  write_options_.sync = opt_.fsync && !opt_.caller_flushes_wal;
  if (Status s = OpenDatabase(); !s.ok()) return s;
  if (Status s = LoadState(); !s.ok()) return s;
  if (opt_.expiry_worker) worker_ = std::thread([this] { WorkerLoop(); });
  return Status::Ok();
}

Status Store::Impl::OpenDatabase() {
  namespace fs = std::filesystem;
  const std::string& dir = opt_.data_dir;
  if (dir.empty()) return Status::InvalidArgument("no data directory given");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create data directory " + dir + ": " + ec.message());
  const bool exists = fs::exists(fs::path(dir) / "CURRENT", ec);
  if (!exists && !fs::is_empty(dir, ec)) {
    return Status::Corruption("data directory " + dir +
                              " is not empty and holds no kv database; refusing to use it");
  }

  Result<std::unique_ptr<rocksdb::Env>> env = EnvForDatabase(dir, opt_.encryption_key);
  if (!env.ok()) return env.status();
  env_ = std::move(*env);

  rocksdb::DBOptions db_options;
  if (env_) db_options.env = env_.get();
  db_options.create_if_missing = !exists;
  // Missing families are created: a store made before a family existed
  // (webhooks) gains it when opened; one that is not a kv store is refused
  // below before anything is created.
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  // Our own LOG writer: RocksDB's aborts on a full disk (rocks_logger.h).
  db_options.info_log = RocksLogger::Open(dir);
  db_options.stats_dump_period_sec = 0;  // /metrics has the figures; the LOG stays small
  db_options.paranoid_checks = true;
  // Writes leave their log record in RocksDB's buffer; FlushWal() writes
  // what has gathered with one write(2) (group commit, StoreOptions).
  db_options.manual_wal_flush = opt_.caller_flushes_wal;
  db_options.max_total_wal_size = opt_.wal_bytes_limit;
  statistics_ = rocksdb::CreateDBStatistics();
  statistics_->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  db_options.statistics = statistics_;

  auto cache = rocksdb::NewLRUCache(64 << 20);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  auto table_factory = std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::ColumnFamilyOptions data_cf;
  data_cf.table_factory = table_factory;
  data_cf.compaction_filter_factory = std::make_shared<TtlFilterFactory>(clock_);
  data_cf.periodic_compaction_seconds = opt_.periodic_compaction_seconds;
  // A bloom filter over the memtable's keys: the read before a write of a
  // new key (every key of an import) skips the skiplist search.
  data_cf.memtable_whole_key_filtering = true;
  data_cf.memtable_prefix_bloom_size_ratio = 0.02;
  data_cf.write_buffer_size = opt_.memtable_bytes;
  // Room for a burst (large values fill a small memtable fast) while the
  // full ones are flushed, before RocksDB stalls writes.
  data_cf.max_write_buffer_number = 4;
  rocksdb::ColumnFamilyOptions meta_cf;
  meta_cf.merge_operator = std::make_shared<UsageAddOperator>();
  // Every write merges a delta into its namespace's usage counter. Without a
  // bound, a memtable holds one operand per write for that one key (a million
  // in a few minutes), and its flush gathers them all at once: a spike of
  // ~200 MB that malloc keeps (the soak test's RSS). Past 64 operands a write
  // stores the sum instead (one memtable read per 64 writes).
  meta_cf.max_successive_merges = 64;
  rocksdb::ColumnFamilyOptions plain_cf;
  plain_cf.table_factory = table_factory;

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, plain_cf},
      {kDataFamily, data_cf},
      {kExpiryFamily, plain_cf},
      {kMetaFamily, meta_cf},
      {kEventsFamily, plain_cf},
      {kWebhooksFamily, plain_cf},
  };
  // Families a kv store has had from the start; later ones may be missing.
  constexpr size_t kOriginalFamilies = 5;
  if (exists) {
    std::vector<std::string> names;
    rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(db_options, dir, &names);
    if (!ls.ok()) return FromRocks(ls, "cannot read data directory " + dir);
    for (size_t i = 0; i < kOriginalFamilies; ++i) {
      const auto& f = families[i];
      if (std::find(names.begin(), names.end(), f.name) == names.end()) {
        return Status::Corruption("data directory " + dir +
                                  " holds a RocksDB database that is not a kv store (no '" +
                                  f.name + "' column family); refusing to use it");
      }
    }
    const bool unknown = std::any_of(names.begin(), names.end(), [&](const std::string& n) {
      return std::none_of(families.begin(), families.end(),
                          [&](const auto& f) { return f.name == n; });
    });
    if (unknown) {
      return Status::Corruption("data directory " + dir +
                                " has column families this kvd does not know; refusing to use it");
    }
  }

  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, families, &handles_, &db_);
  if (!s.ok()) {
    std::string msg = s.ToString();
    if (s.IsIOError() && (msg.find("lock") != std::string::npos || msg.find("LOCK") != std::string::npos)) {
      return Status::Unavailable("data directory " + dir +
                                 " is in use by another process (its LOCK file is held)");
    }
    if (s.IsCorruption()) {
      return Status::Corruption("data directory " + dir + " is damaged (" + msg +
                                "); it was not opened and nothing was changed");
    }
    return FromRocks(s, "cannot open data directory " + dir);
  }
  data_ = handles_[1];
  expiry_ = handles_[2];
  meta_ = handles_[3];
  events_ = handles_[4];
  webhooks_ = handles_[5];

  std::string marker;
  s = db_->Get(rocksdb::ReadOptions(), meta_, kFormatKey, &marker);
  if (s.IsNotFound() && !exists) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db_->Put(wo, meta_, kFormatKey, kFormatMarker);
    if (!s.ok()) return FromRocks(s, "cannot initialise data directory " + dir);
  } else if (!s.ok() || marker != kFormatMarker) {
    Close();
    return Status::Corruption("data directory " + dir +
                              " holds a database that is not a kv store of this version");
  }
  return Status::Ok();
}

Status Store::Impl::LoadState() {
  rocksdb::ReadOptions ro;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, meta_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view k = ToView(it->key());
      if (k.empty() || (k[0] != 'q' && k[0] != 'u')) continue;  // "format", "rev", "floor"
      std::string_view v = ToView(it->value());
      if (k[0] == 'q' && v.size() == 8) {
        quotas_[std::string(k.substr(1))] = DecodeFixed64(v.data());
      } else if (k[0] == 'u') {
        UsageCounters u;
        if (!DecodeUsage(v, &u.keys, &u.bytes)) {
          return Status::Corruption("usage counter of namespace " + std::string(k.substr(1)) +
                                    " is damaged");
        }
        usage_[std::string(k.substr(1))] = u;
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read usage counters");
  }
  uint64_t last = 0;
  std::string v;
  if (db_->Get(ro, meta_, kRevisionKey, &v).ok() && v.size() == 8) last = DecodeFixed64(v.data());
  if (db_->Get(ro, meta_, kEventFloorKey, &v).ok() && v.size() == 8) {
    event_floor_ = DecodeFixed64(v.data());
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
  it->SeekToLast();
  if (it->Valid() && it->key().size() == 8) {
    last = std::max(last, DecodeBigEndian64(it->key().data()));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot read the event log");
  last = std::max(last, event_floor_.load());
  revs_.Reset(last);
  loaded_ = true;
  return Status::Ok();
}

Status Store::Impl::SaveCheckpoint() {
  std::string rev, floor;
  PutFixed64(&rev, revs_.Last());
  PutFixed64(&floor, event_floor_.load());
  rocksdb::WriteBatch b;
  b.Put(meta_, kRevisionKey, rev);
  b.Put(meta_, kEventFloorKey, floor);
  return FromRocks(db_->Write(write_options_, &b), "cannot save the revision");
}

void Store::Impl::Close() {
  {
    std::lock_guard<std::mutex> l(worker_mu_);
    stopping_ = true;
  }
  worker_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (db_ == nullptr) return;
  if (loaded_) (void)SaveCheckpoint();  // never write into a directory we refused
  (void)FlushWal();
  for (auto* h : handles_) {
    if (h != nullptr) (void)db_->DestroyColumnFamilyHandle(h);
  }
  handles_.clear();
  (void)db_->Close();
  delete db_;
  db_ = nullptr;
}

// The worker sleeps until the next key is due, so that an idle kvd does
// not wake up ten times a second; a write with an earlier TTL wakes it.
void Store::Impl::WorkerLoop() {
  std::unique_lock<std::mutex> l(worker_mu_);
  int64_t last_pass = 0;
  while (!stopping_) {
    const int64_t now = clock_->NowMs();
    const int64_t planned = next_expiry_ms_.load();
    // Keys due close together go in one pass: at most one every
    // expiry_interval_ms. At least one every kMaxExpiryIdleMs trims the
    // event log, and covers a clock that jumped.
    int64_t at = std::min(planned, now + kMaxExpiryIdleMs);
    at = std::max(at, last_pass + opt_.expiry_interval_ms);
    if (at > now) {
      const bool earlier = worker_cv_.wait_for(l, std::chrono::milliseconds(at - now), [&] {
        return stopping_ || next_expiry_ms_.load() < planned;
      });
      if (stopping_) break;
      if (earlier) continue;  // plan again for the earlier key
    }
    l.unlock();
    if (!ExpireDue().ok()) NoteExpiry(0);  // try again after expiry_interval_ms
    (void)FlushWal();                      // no caller follows the worker's writes
    l.lock();
    last_pass = clock_->NowMs();
  }
}

void Store::Impl::NoteExpiry(int64_t at) {
  if (at >= next_expiry_ms_.load()) return;
  {
    std::lock_guard<std::mutex> l(worker_mu_);
    if (at >= next_expiry_ms_.load()) return;
    next_expiry_ms_.store(at);
  }
  worker_cv_.notify_one();
}

Result<int64_t> Store::Impl::FirstExpiry() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), expiry_));
  it->SeekToFirst();
  if (!it->status().ok()) return FromRocks(it->status(), "cannot read the expiry index");
  if (!it->Valid() || it->key().size() < 8) return kNoExpiry;
  return static_cast<int64_t>(DecodeBigEndian64(it->key().data()));
}

// ---------------------------------------------------------------- usage

uint64_t Store::Impl::QuotaOf(std::string_view ns) const {
  auto it = quotas_.find(ns);
  return it == quotas_.end() ? opt_.default_quota_bytes : it->second;
}

Status Store::Impl::Reserve(std::string_view ns, int64_t dkeys, int64_t dbytes) {
  std::lock_guard<std::mutex> l(usage_mu_);
  auto it = usage_.find(ns);
  if (it == usage_.end()) it = usage_.emplace(std::string(ns), UsageCounters{}).first;
  if (dbytes > 0) {
    uint64_t quota = QuotaOf(ns);
    uint64_t after = static_cast<uint64_t>(std::max<int64_t>(0, it->second.bytes + dbytes));
    if (after > quota) {
      return Status::QuotaExceeded("namespace quota of " + std::to_string(quota) +
                                   " bytes would be exceeded (" + std::to_string(it->second.bytes) +
                                   " used, this write adds " + std::to_string(dbytes) + ")");
    }
  }
  it->second.keys += dkeys;
  it->second.bytes += dbytes;
  return Status::Ok();
}

void Store::Impl::Release(std::string_view ns, int64_t dkeys, int64_t dbytes) {
  std::lock_guard<std::mutex> l(usage_mu_);
  auto it = usage_.find(ns);
  if (it == usage_.end()) return;
  it->second.keys -= dkeys;
  it->second.bytes -= dbytes;
}

// ---------------------------------------------------------------- writes

Status Store::Impl::GetRecord(std::string_view data_key, std::optional<Record>* out) const {
  if (std::string_view cached; cache_.Find(KeyLocks::HashOf(data_key), data_key, &cached)) {
    *out = DecodeRecord(cached);
    if (!*out) return Status::Corruption("stored record is damaged");
    return Status::Ok();
  }
  rocksdb::PinnableSlice raw;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), data_, ToSlice(data_key), &raw);
  if (s.IsNotFound()) {
    out->reset();
    return Status::Ok();
  }
  if (!s.ok()) return FromRocks(s, "read failed");
  *out = DecodeRecord(ToView(raw));
  if (!*out) return Status::Corruption("stored record is damaged");
  return Status::Ok();
}

void Store::Impl::AppendEvent(rocksdb::WriteBatch* b, uint64_t rev, EventType type, int64_t now,
                              std::string_view ns, std::string_view key, const Record& r) const {
  // Encoded in place, the value appended from the record: no Event copy.
  EventHead head;
  head.type = type;
  head.has_value = r.value.size() <= opt_.event_value_max_bytes;
  head.time_ms = now;
  head.expire_at_ms =
      (type == EventType::kDelete || type == EventType::kExpire) ? 0 : r.expire_at_ms;
  head.value_size = r.value.size();
  const std::string event_key = EventKey(rev);
  const std::string prefix = EncodeEventPrefix(head, ns, key, r.content_type);
  const rocksdb::Slice key_part(event_key);
  const rocksdb::Slice value_parts[2] = {rocksdb::Slice(prefix),
                                         head.has_value ? ToSlice(r.value) : rocksdb::Slice()};
  b->Put(events_, rocksdb::SliceParts(&key_part, 1), rocksdb::SliceParts(value_parts, 2));
}

void Store::Impl::AppendErase(rocksdb::WriteBatch* b, uint64_t rev, EventType type, int64_t now,
                              std::string_view ns, std::string_view key, std::string_view data_key,
                              const Record& stored, UsageCounters* delta) const {
  b->Delete(data_, ToSlice(data_key));
  if (stored.expire_at_ms > 0) b->Delete(expiry_, ExpiryKey(stored.expire_at_ms, data_key));
  AppendEvent(b, rev, type, now, ns, key, stored);
  delta->keys -= 1;
  delta->bytes -= static_cast<int64_t>(key.size() + stored.value.size());
}

bool Store::Impl::WalFlushNeeded() const {
  return opt_.caller_flushes_wal && db_ != nullptr &&
         db_->GetLatestSequenceNumber() > wal_flushed_seq_.load(std::memory_order_acquire);
}

Status Store::Impl::FlushWal() const {
  if (!opt_.caller_flushes_wal || db_ == nullptr) return Status::Ok();
  // Everything a reader or writer can have seen so far is at or below the
  // latest published sequence number, and its log record is in the buffer.
  const uint64_t seen = db_->GetLatestSequenceNumber();
  uint64_t done = wal_flushed_seq_.load(std::memory_order_acquire);
  if (seen <= done) return Status::Ok();  // nothing new: no system call
  rocksdb::Status s = db_->FlushWAL(/*sync=*/opt_.fsync);
  // On an error too: the callers of this flush get the error for what it
  // covered, and RocksDB refuses writes until it recovers; later flushes
  // must not fail the reads that follow (the buffer's error is sticky).
  while (done < seen && !wal_flushed_seq_.compare_exchange_weak(done, seen)) {
  }
  return FromRocks(s, "cannot write the write-ahead log");
}

Status Store::Impl::Write(rocksdb::WriteBatch* b) {
  // After a full disk RocksDB refuses every write (NoSpace) until its
  // SstFileManager sees room for a memtable flush (write_buffer_size free);
  // it checks every 5 s and resumes writes on its own.
  return FromRocks(db_->Write(write_options_, b), "write failed");
}

Status Store::Impl::Plan(std::string_view ns, std::string_view key, const Condition& cond,
                         const Decide& decide, int64_t now, Planned* p) const {
  const bool expired = p->stored && IsExpired(*p->stored, now);
  p->expired = expired;
  const Record* current = (p->stored && !expired) ? &*p->stored : nullptr;
  if (Status s = CheckCondition(cond, current); !s.ok()) return s;
  Result<Mutation> decided = decide(current, now);
  if (!decided.ok()) return decided.status();
  p->mutation = std::move(*decided);
  if (p->mutation.erase && current == nullptr) return Status::NotFound("key not found");
  if (!p->mutation.erase && p->mutation.record.value.size() > opt_.max_value_bytes) {
    return Status::TooLarge("value is " + std::to_string(p->mutation.record.value.size()) +
                            " bytes, over the limit of " + std::to_string(opt_.max_value_bytes));
  }
  // An expired record still on disk is settled by this write, as the expiry
  // worker would have: its index entry goes and an expire event is logged.
  p->delta = {};
  if (p->stored) {
    p->delta.keys -= 1;
    p->delta.bytes -= static_cast<int64_t>(key.size() + p->stored->value.size());
  }
  if (!p->mutation.erase) {
    p->delta.keys += 1;
    p->delta.bytes += static_cast<int64_t>(key.size() + p->mutation.record.value.size());
  }
  (void)ns;
  return Status::Ok();
}

WriteResult Store::Impl::AppendPlanned(rocksdb::WriteBatch* b, std::string_view ns,
                                       std::string_view key, std::string_view dkey, Planned* p,
                                       uint64_t* rev, int64_t now, bool return_value,
                                       std::string* encoded) const {
  const std::optional<Record>& stored = p->stored;
  const Record* current = (stored && !p->expired) ? &*stored : nullptr;
  if (stored && stored->expire_at_ms > 0) b->Delete(expiry_, ExpiryKey(stored->expire_at_ms, dkey));
  if (p->expired) AppendEvent(b, (*rev)++, EventType::kExpire, now, ns, key, *stored);
  WriteResult result;
  result.created = current == nullptr;
  if (p->mutation.erase) {
    b->Delete(data_, ToSlice(dkey));
    AppendEvent(b, *rev, EventType::kDelete, now, ns, key, *current);
    result.entry = ToEntry(key, *current, current->value.size(), false);
    result.entry.revision = *rev;
  } else {
    Record& r = p->mutation.record;
    r.revision = *rev;
    r.create_revision = current ? current->create_revision : *rev;
    r.created_ms = current ? current->created_ms : now;
    r.updated_ms = now;
    if (r.content_type.empty()) r.content_type = kDefaultContentType;
    std::string record = EncodeRecord(r);
    b->Put(data_, ToSlice(dkey), record);
    if (encoded != nullptr) *encoded = std::move(record);
    if (r.expire_at_ms > 0) {
      b->Put(expiry_, ExpiryKey(r.expire_at_ms, dkey),
             EncodeExpiryValue(*rev, key.size() + r.value.size()));
    }
    AppendEvent(b, *rev, current ? EventType::kUpdate : EventType::kCreate, now, ns, key, r);
    result.entry = ToEntry(key, r, r.value.size(), return_value);
  }
  ++*rev;
  return result;
}

Result<WriteResult> Store::Impl::Apply(std::string_view ns, std::string_view key,
                                       const Condition& cond, const Decide& decide,
                                       bool return_value) {
  if (Status s = ValidateNamespace(ns); !s.ok()) return s;
  if (Status s = ValidateKey(key, opt_.max_key_bytes); !s.ok()) return s;
  const std::string dkey = DataKey(ns, key);
  const size_t hash = KeyLocks::HashOf(dkey);
  auto lock = locks_.LockStripe(KeyLocks::StripeOfHash(hash));
  const int64_t now = clock_->NowMs();

  Planned p;
  if (Status s = GetRecord(dkey, &p.stored); !s.ok()) return s;
  if (Status s = Plan(ns, key, cond, decide, now, &p); !s.ok()) return s;
  if (Status s = Reserve(ns, p.delta.keys, p.delta.bytes); !s.ok()) return s;

  const uint64_t first = revs_.Begin(p.expired ? 2 : 1);
  uint64_t rev = first;
  // Room for the record and its event (each holds the value), grown once.
  rocksdb::WriteBatch b(2 * (dkey.size() + p.mutation.record.value.size()) + 256);
  std::string encoded;
  WriteResult result = AppendPlanned(&b, ns, key, dkey, &p, &rev, now, return_value, &encoded);
  if (p.delta.keys != 0 || p.delta.bytes != 0) {
    b.Merge(meta_, UsageKey(ns), EncodeUsage(p.delta.keys, p.delta.bytes));
  }
  Status s = Write(&b);
  revs_.End(first);
  if (!s.ok()) {
    cache_.Erase(hash, dkey);  // whatever RocksDB holds now, read it from there
    Release(ns, p.delta.keys, p.delta.bytes);
    return s;
  }
  if (p.mutation.erase) {
    cache_.Erase(hash, dkey);
  } else {
    cache_.Put(hash, dkey, encoded);
    if (p.mutation.record.expire_at_ms > 0) NoteExpiry(p.mutation.record.expire_at_ms);
  }
  if (p.expired) expired_total_.fetch_add(1, std::memory_order_relaxed);
  return result;
}

Result<std::vector<Status>> Store::Impl::PutMany(std::string_view ns,
                                                 const std::vector<BatchPut>& items) {
  if (Status s = ValidateNamespace(ns); !s.ok()) return s;
  if (items.size() > kMaxBatchItems) {
    return Status::InvalidArgument("a batch holds at most " + std::to_string(kMaxBatchItems) +
                                   " items");
  }
  std::vector<Status> outcome(items.size());
  std::vector<std::string> dkeys(items.size());
  std::vector<size_t> stripes;
  for (size_t i = 0; i < items.size(); ++i) {
    outcome[i] = ValidateKey(items[i].key, opt_.max_key_bytes);
    if (outcome[i].ok()) outcome[i] = CheckTtl(items[i].options.ttl_ms);
    if (!outcome[i].ok()) continue;
    dkeys[i] = DataKey(ns, items[i].key);
    stripes.push_back(locks_.StripeOf(dkeys[i]));
  }
  // One batch at a time: two batches span most of the 1024 stripes, and
  // taking them side by side handed the stripes back and forth, a futex
  // wait and wake per stripe (12% of kvd's time in an import).
  std::lock_guard<std::mutex> one_batch(batch_mu_);
  auto held = locks_.LockMany(std::move(stripes));
  const int64_t now = clock_->NowMs();

  // Plan every item against the state the earlier items of the batch leave.
  // The stored records come from the cache, the rest in one MultiGet.
  std::unordered_map<std::string_view, std::optional<Record>> state;  // by data key
  state.reserve(items.size());
  std::vector<rocksdb::Slice> misses;
  // Keys the cache held: only those need dropping from it after the write
  // (with their stripes locked throughout, no reader can cache the others).
  std::vector<char> was_cached(items.size(), 0);
  for (size_t i = 0; i < items.size(); ++i) {
    if (!outcome[i].ok()) continue;
    auto [it, inserted] = state.try_emplace(dkeys[i]);
    if (!inserted) continue;
    if (std::string_view cached; cache_.Find(KeyLocks::HashOf(dkeys[i]), dkeys[i], &cached)) {
      was_cached[i] = 1;
      it->second = DecodeRecord(cached);
      if (!it->second) return Status::Corruption("stored record is damaged");
    } else {
      misses.push_back(ToSlice(dkeys[i]));
    }
  }
  if (!misses.empty()) {
    std::vector<rocksdb::PinnableSlice> values(misses.size());
    std::vector<rocksdb::Status> statuses(misses.size());
    db_->MultiGet(rocksdb::ReadOptions(), data_, misses.size(), misses.data(), values.data(),
                  statuses.data());
    for (size_t k = 0; k < misses.size(); ++k) {
      if (statuses[k].IsNotFound()) continue;
      if (!statuses[k].ok()) return FromRocks(statuses[k], "read failed");
      std::optional<Record>& slot = state[ToView(misses[k])];
      slot = DecodeRecord(ToView(values[k]));
      if (!slot) return Status::Corruption("stored record is damaged");
    }
  }
  std::vector<Planned> plans(items.size());
  UsageCounters total;
  uint64_t revisions = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!outcome[i].ok()) continue;
    auto it = state.find(dkeys[i]);
    Planned& p = plans[i];
    p.stored = it->second;
    const BatchPut& item = items[i];
    outcome[i] = Plan(ns, item.key, item.options.condition,
                      [&](const Record* current, int64_t t) -> Result<Mutation> {
                        return PutMutation(item.value, item.options, current, t);
                      },
                      now, &p);
    if (!outcome[i].ok()) continue;
    // What the next item on this key sees: the record as written (its
    // revision is filled in when the batch is assembled).
    it->second = p.mutation.record;
    total.keys += p.delta.keys;
    total.bytes += p.delta.bytes;
    revisions += p.expired ? 2 : 1;
  }
  if (revisions == 0) return outcome;
  if (Status s = Reserve(ns, total.keys, total.bytes); !s.ok()) return s;

  const uint64_t first = revs_.Begin(revisions);
  uint64_t rev = first;
  size_t batch_bytes = 64;
  for (const BatchPut& item : items) batch_bytes += 2 * (item.key.size() + item.value.size()) + 128;
  rocksdb::WriteBatch b(batch_bytes);  // record and event per item, grown once
  uint64_t expired = 0;
  std::unordered_map<std::string_view, const Record*> written;  // by data key, as assembled
  written.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (!outcome[i].ok()) continue;
    // After an earlier item on the same key, this one updates what it wrote.
    if (auto w = written.find(dkeys[i]); w != written.end()) {
      plans[i].stored = *w->second;
      plans[i].expired = false;
    }
    (void)AppendPlanned(&b, ns, items[i].key, dkeys[i], &plans[i], &rev, now, false);
    written[dkeys[i]] = &plans[i].mutation.record;
    if (plans[i].expired) ++expired;
  }
  if (total.keys != 0 || total.bytes != 0) {
    b.Merge(meta_, UsageKey(ns), EncodeUsage(total.keys, total.bytes));
  }
  Status s = Write(&b);
  revs_.End(first);
  for (size_t i = 0; i < items.size(); ++i) {
    if (was_cached[i]) cache_.Erase(KeyLocks::HashOf(dkeys[i]), dkeys[i]);
  }
  if (!s.ok()) {
    Release(ns, total.keys, total.bytes);
    return s;
  }
  expired_total_.fetch_add(expired, std::memory_order_relaxed);
  for (size_t i = 0; i < items.size(); ++i) {
    const Mutation& m = plans[i].mutation;
    if (outcome[i].ok() && !m.erase && m.record.expire_at_ms > 0) NoteExpiry(m.record.expire_at_ms);
  }
  return outcome;
}

// ---------------------------------------------------------------- reads

Result<Entry> Store::Impl::Read(std::string_view ns, std::string_view key, bool with_value) const {
  if (Status s = ValidateNamespace(ns); !s.ok()) return s;
  if (Status s = ValidateKey(key, opt_.max_key_bytes); !s.ok()) return s;
  const std::string dkey = DataKey(ns, key);
  const size_t hash = KeyLocks::HashOf(dkey);
  std::optional<Record> r;
  std::optional<uint64_t> size;
  {
    auto lock = locks_.LockStripe(KeyLocks::StripeOfHash(hash));
    rocksdb::PinnableSlice pinned;
    std::string_view bytes;
    if (!cache_.Find(hash, dkey, &bytes)) {
      rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), data_, dkey, &pinned);
      if (rs.IsNotFound()) return Status::NotFound("key not found");
      if (!rs.ok()) return FromRocks(rs, "read failed");
      bytes = ToView(pinned);
      if (cache_.enabled()) cache_.Put(hash, dkey, bytes);
    }
    r = DecodeRecord(bytes, with_value);
    size = RecordValueSize(bytes);
  }
  if (!r || !size) return Status::Corruption("stored record is damaged");
  if (IsExpired(*r, clock_->NowMs())) return Status::NotFound("key not found");
  return ToEntry(key, std::move(*r), *size, with_value);
}

Result<ListPage> Store::Impl::List(std::string_view ns, const ListOptions& o) const {
  if (Status s = ValidateNamespace(ns); !s.ok()) return s;
  size_t limit = o.limit == 0 ? kDefaultListLimit : o.limit;
  if (limit > kMaxListLimit) {
    return Status::InvalidArgument("limit must be between 1 and " + std::to_string(kMaxListLimit));
  }
  const std::string start = DataKey(ns, o.prefix);
  std::string upper = PrefixSuccessor(start);  // never empty: ns is not empty
  std::string seek = start;
  std::string after;  // the cursor's key, to skip
  if (!o.cursor.empty()) {
    auto decoded = Base64Decode(o.cursor);
    if (!decoded || !decoded->starts_with(o.prefix)) {
      return Status::InvalidArgument("cursor is not one this store handed out for this prefix");
    }
    after = DataKey(ns, *decoded);
    seek = after;
  }
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, data_));
  const int64_t now = clock_->NowMs();
  const size_t ns_len = ns.size() + 1;
  ListPage page;
  size_t scanned = 0;
  size_t value_bytes = 0;
  const bool need_value = o.values || o.filter;
  for (it->Seek(seek); it->Valid(); it->Next()) {
    std::string_view dk = ToView(it->key());
    if (!after.empty() && dk == after) continue;
    if (page.entries.size() == limit || scanned == kMaxListScan ||
        value_bytes >= kListPageValueBytes) {
      // More may follow: hand out the last returned (or scanned) key.
      break;
    }
    ++scanned;
    std::string_view raw = ToView(it->value());
    std::optional<Record> r = DecodeRecord(raw, need_value);
    auto size = RecordValueSize(raw);
    if (!r || !size) return Status::Corruption("stored record is damaged");
    after.assign(dk);  // the last key looked at
    if (IsExpired(*r, now)) continue;
    Entry e = ToEntry(dk.substr(ns_len), *r, *size, need_value);
    if (o.filter && !o.filter(e)) continue;
    if (!o.values) e.value.clear();
    value_bytes += e.value.size();
    page.entries.push_back(std::move(e));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "list failed");
  if (it->Valid() && !after.empty()) page.next_cursor = Base64UrlEncode(std::string_view(after).substr(ns_len));
  return page;
}

Result<Usage> Store::Impl::Stats(std::string_view ns) const {
  if (Status s = ValidateNamespace(ns); !s.ok()) return s;
  std::lock_guard<std::mutex> l(usage_mu_);
  Usage u;
  u.ns.assign(ns);
  auto it = usage_.find(ns);
  if (it != usage_.end()) {
    u.keys = static_cast<uint64_t>(std::max<int64_t>(0, it->second.keys));
    u.bytes = static_cast<uint64_t>(std::max<int64_t>(0, it->second.bytes));
  }
  u.quota_bytes = QuotaOf(ns);
  return u;
}

std::vector<Usage> Store::Impl::ListNamespaces() const {
  std::lock_guard<std::mutex> l(usage_mu_);
  std::vector<Usage> out;
  for (const auto& [ns, c] : usage_) {
    out.push_back(Usage{ns, static_cast<uint64_t>(std::max<int64_t>(0, c.keys)),
                        static_cast<uint64_t>(std::max<int64_t>(0, c.bytes)), QuotaOf(ns)});
  }
  return out;
}

Status Store::Impl::SetQuota(std::string_view ns, uint64_t quota) {
  if (Status s = ValidateNamespace(ns); !s.ok()) return s;
  std::lock_guard<std::mutex> l(usage_mu_);
  rocksdb::Status s;
  if (quota == 0) {
    s = db_->Delete(write_options_, meta_, QuotaKey(ns));
  } else {
    std::string v;
    PutFixed64(&v, quota);
    s = db_->Put(write_options_, meta_, QuotaKey(ns), v);
  }
  if (!s.ok()) return FromRocks(s, "cannot save the quota");
  if (quota == 0) {
    quotas_.erase(std::string(ns));
  } else {
    quotas_[std::string(ns)] = quota;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- clear

Result<uint64_t> Store::Impl::Clear(std::string_view ns, std::string_view prefix) {
  if (Status s = ValidateNamespace(ns); !s.ok()) return s;
  const std::string start = DataKey(ns, prefix);
  const std::string upper = PrefixSuccessor(start);
  std::string from = start;
  uint64_t cleared = 0;
  for (;;) {
    std::vector<std::string> keys;
    {
      rocksdb::ReadOptions ro;
      rocksdb::Slice upper_slice(upper);
      ro.iterate_upper_bound = &upper_slice;
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, data_));
      for (it->Seek(from); it->Valid() && keys.size() < kBatchKeys; it->Next()) {
        keys.emplace_back(it->key().data(), it->key().size());
      }
      if (!it->status().ok()) return FromRocks(it->status(), "clear failed");
    }
    if (keys.empty()) break;
    from = keys.back() + std::string(1, '\0');  // the next key after the last one

    std::vector<size_t> stripes;
    for (const auto& k : keys) stripes.push_back(locks_.StripeOf(k));
    auto held = locks_.LockMany(std::move(stripes));
    const int64_t now = clock_->NowMs();
    std::vector<std::pair<const std::string*, Record>> present;
    for (const auto& k : keys) {
      std::optional<Record> r;
      if (Status s = GetRecord(k, &r); !s.ok()) return s;
      if (r) present.emplace_back(&k, std::move(*r));
    }
    if (present.empty()) continue;
    const uint64_t first = revs_.Begin(present.size());
    rocksdb::WriteBatch b;
    UsageCounters delta;
    uint64_t rev = first;
    for (const auto& [k, r] : present) {
      std::string_view dk = *k;
      std::string_view key = dk.substr(ns.size() + 1);
      AppendErase(&b, rev++, IsExpired(r, now) ? EventType::kExpire : EventType::kDelete, now, ns,
                  key, dk, r, &delta);
    }
    b.Merge(meta_, UsageKey(ns), EncodeUsage(delta.keys, delta.bytes));
    // Releasing usage never fails the quota, so apply it before the write
    // and undo it if the write fails.
    (void)Reserve(ns, delta.keys, delta.bytes);
    Status s = Write(&b);
    revs_.End(first);
    for (const auto& [k, r] : present) cache_.Erase(KeyLocks::HashOf(*k), *k);
    if (!s.ok()) {
      Release(ns, delta.keys, delta.bytes);
      return s;
    }
    cleared += present.size();
  }
  return cleared;
}

// ---------------------------------------------------------------- expiry

Result<uint64_t> Store::Impl::ExpireDue() {
  std::lock_guard<std::mutex> one_at_a_time(expire_mu_);
  {
    // From here on, writes that add an expiry lower this again; what the
    // pass leaves in the index is added at its end.
    std::lock_guard<std::mutex> l(worker_mu_);
    next_expiry_ms_.store(kNoExpiry);
  }
  uint64_t expired = 0;
  const int64_t now = clock_->NowMs();
  std::string upper;
  PutBigEndian64(&upper, static_cast<uint64_t>(now) + 1);
  for (;;) {
    std::vector<std::pair<std::string, std::string>> due;  // index key, index value
    {
      rocksdb::ReadOptions ro;
      rocksdb::Slice upper_slice(upper);
      ro.iterate_upper_bound = &upper_slice;
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, expiry_));
      for (it->SeekToFirst(); it->Valid() && due.size() < kBatchKeys; it->Next()) {
        due.emplace_back(it->key().ToString(), it->value().ToString());
      }
      if (!it->status().ok()) return FromRocks(it->status(), "cannot read the expiry index");
    }
    if (due.empty()) break;
    for (const auto& [ikey, ivalue] : due) {
      auto entry = DecodeExpiry(ikey, ivalue);
      std::string_view ns, key;
      rocksdb::WriteBatch b;
      if (!entry || !SplitDataKey(entry->data_key, &ns, &key)) {
        // Not ours to interpret; drop it so the worker does not stall on it.
        b.Delete(expiry_, ikey);
        (void)Write(&b);
        continue;
      }
      auto lock = locks_.Lock(entry->data_key);
      // A write may have settled this entry since it was read.
      std::string still;
      rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), expiry_, ikey, &still);
      if (gs.IsNotFound()) continue;
      if (!gs.ok()) return FromRocks(gs, "cannot read the expiry index");
      std::optional<Record> r;
      if (Status s = GetRecord(entry->data_key, &r); !s.ok()) return s;
      UsageCounters delta;
      uint64_t first = 0;
      if (r && r->revision == entry->revision) {
        first = revs_.Begin(1);
        AppendErase(&b, first, EventType::kExpire, now, ns, key, entry->data_key, *r, &delta);
      } else {
        // The compaction filter dropped the record before the worker got
        // here; the index entry still knows what it counted.
        b.Delete(expiry_, ikey);
        delta.keys = -1;
        delta.bytes = -static_cast<int64_t>(entry->usage_bytes);
        if (!r) {  // nothing replaced it: tell watchers it expired
          first = revs_.Begin(1);
          Event e;
          e.type = EventType::kExpire;
          e.time_ms = now;
          e.value_size = entry->usage_bytes - key.size();
          e.ns.assign(ns);
          e.key.assign(key);
          b.Put(events_, EventKey(first), EncodeEvent(e));
        }
      }
      b.Merge(meta_, UsageKey(ns), EncodeUsage(delta.keys, delta.bytes));
      (void)Reserve(ns, delta.keys, delta.bytes);
      Status s = Write(&b);
      if (first != 0) revs_.End(first);
      cache_.Erase(KeyLocks::HashOf(entry->data_key), entry->data_key);
      if (!s.ok()) {
        Release(ns, delta.keys, delta.bytes);
        return s;
      }
      ++expired;
      expired_total_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (Status s = TrimEvents(now); !s.ok()) return s;
  Result<int64_t> first = FirstExpiry();
  // On an error, a pass again soon (expiry_interval_ms) rather than never.
  NoteExpiry(first.ok() ? *first : 0);
  return expired;
}

Status Store::Impl::TrimEvents(int64_t now) {
  if (opt_.event_retention_ms <= 0 || now - last_trim_ms_ < 1000) return Status::Ok();
  last_trim_ms_ = now;
  const int64_t cutoff = now - opt_.event_retention_ms;
  const int64_t backlog_cutoff = now - std::max(opt_.event_retention_ms, opt_.webhook_backlog_ms);
  const uint64_t committed = revs_.Committed();
  Result<uint64_t> lowest_cursor = LowestWebhookCursor();
  if (!lowest_cursor.ok()) return lowest_cursor.status();
  uint64_t keep_from = 0;  // first revision to keep
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
    uint64_t last_seen = 0;
    for (it->Seek(EventKey(event_floor_.load() + 1)); it->Valid(); it->Next()) {
      auto e = DecodeEvent(ToView(it->key()), ToView(it->value()));
      uint64_t rev = DecodeBigEndian64(it->key().data());
      const bool webhook_pending = rev > *lowest_cursor && (!e || e->time_ms >= backlog_cutoff);
      if (rev > committed || (e && e->time_ms >= cutoff) || webhook_pending) {
        keep_from = rev;
        break;
      }
      last_seen = rev;
    }
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read the event log");
    // The newest event always stays: it is how the revision survives a restart.
    if (keep_from == 0) keep_from = last_seen;
  }
  if (keep_from <= event_floor_.load() + 1) return Status::Ok();
  // The floor goes in the same batch as the trim: after a crash between the
  // two, a reader resuming below the floor would otherwise miss events
  // silently instead of being told they were trimmed.
  std::string floor;
  PutFixed64(&floor, keep_from - 1);
  rocksdb::WriteBatch b;
  b.DeleteRange(events_, EventKey(0), EventKey(keep_from));
  b.Put(meta_, kEventFloorKey, floor);
  if (Status s = Write(&b); !s.ok()) return s;
  event_floor_ = keep_from - 1;
  return Status::Ok();
}

Result<std::vector<Event>> Store::Impl::ReadEvents(uint64_t after, size_t limit) const {
  const uint64_t floor = event_floor_.load();
  if (after < floor) {
    return Status::OutOfRange("events up to revision " + std::to_string(floor) +
                              " are no longer kept; resume from " + std::to_string(floor) +
                              " or later");
  }
  const uint64_t committed = revs_.Committed();
  std::vector<Event> out;
  if (after >= committed) return out;
  std::string upper = EventKey(committed + 1);
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
  for (it->Seek(EventKey(after + 1)); it->Valid() && out.size() < limit; it->Next()) {
    auto e = DecodeEvent(ToView(it->key()), ToView(it->value()));
    if (!e) return Status::Corruption("event log entry is damaged");
    out.push_back(std::move(*e));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot read the event log");
  // Watchers and webhooks see only what a crash of the process would keep:
  // every event just read is in the log's file before it is handed out.
  if (Status s = FlushWal(); !s.ok()) return s;
  return out;
}

// ---------------------------------------------------------------- webhooks

Result<uint64_t> Store::Impl::LowestWebhookCursor() const {
  uint64_t lowest = std::numeric_limits<uint64_t>::max();
  const std::string prefix(1, 'p');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), webhooks_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto p = DecodeWebhookProgress(ToView(it->value()));
    if (p) lowest = std::min(lowest, p->cursor);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "cannot read the webhooks");
  return lowest;
}

Status Store::Impl::PutWebhook(std::string_view ns, std::string_view id,
                               std::string_view definition, bool create) {
  if (Status s = ValidateNamespace(ns); !s.ok()) return s;
  if (id.empty() || id.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("bad webhook id");
  }
  std::lock_guard<std::mutex> l(webhooks_mu_);
  const std::string dkey = WebhookKey('d', ns, id);
  std::string existing;
  rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), webhooks_, dkey, &existing);
  if (!gs.ok() && !gs.IsNotFound()) return FromRocks(gs, "cannot read the webhook");
  if (create && gs.ok()) return Status::PreconditionFailed("webhook " + std::string(id) + " exists");
  if (!create && gs.IsNotFound()) return Status::NotFound("Webhook not found");
  rocksdb::WriteBatch b;
  b.Put(webhooks_, dkey, ToSlice(definition));
  if (create) {
    WebhookProgress p;
    p.cursor = revs_.Committed();
    b.Put(webhooks_, WebhookKey('p', ns, id), EncodeWebhookProgress(p));
  }
  return Write(&b);
}

Result<StoredWebhook> Store::Impl::GetWebhook(std::string_view ns, std::string_view id) const {
  StoredWebhook w;
  rocksdb::ReadOptions ro;
  rocksdb::Status s = db_->Get(ro, webhooks_, WebhookKey('d', ns, id), &w.definition);
  if (s.IsNotFound()) return Status::NotFound("Webhook not found");
  if (!s.ok()) return FromRocks(s, "cannot read the webhook");
  std::string progress;
  s = db_->Get(ro, webhooks_, WebhookKey('p', ns, id), &progress);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "cannot read the webhook");
  if (s.ok()) {
    auto p = DecodeWebhookProgress(progress);
    if (!p) return Status::Corruption("webhook progress is damaged");
    w.progress = std::move(*p);
  }
  w.ns.assign(ns);
  w.id.assign(id);
  return w;
}

Result<std::vector<StoredWebhook>> Store::Impl::ListWebhooks(std::string_view ns) const {
  const std::string prefix = ns.empty() ? std::string(1, 'd') : WebhookKey('d', ns, "");
  std::vector<std::pair<std::string, std::string>> found;  // (ns, id)
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), webhooks_));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      char kind;
      std::string_view wns, id;
      if (SplitWebhookKey(ToView(it->key()), &kind, &wns, &id)) found.emplace_back(wns, id);
    }
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read the webhooks");
  }
  std::vector<StoredWebhook> out;
  for (const auto& [wns, id] : found) {
    Result<StoredWebhook> w = GetWebhook(wns, id);
    if (w.status().IsNotFound()) continue;  // deleted since the scan
    if (!w.ok()) return w.status();
    out.push_back(std::move(*w));
  }
  return out;
}

Status Store::Impl::DeleteWebhook(std::string_view ns, std::string_view id) {
  std::lock_guard<std::mutex> l(webhooks_mu_);
  const std::string dkey = WebhookKey('d', ns, id);
  std::string existing;
  rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), webhooks_, dkey, &existing);
  if (gs.IsNotFound()) return Status::NotFound("Webhook not found");
  if (!gs.ok()) return FromRocks(gs, "cannot read the webhook");
  rocksdb::WriteBatch b;
  b.Delete(webhooks_, dkey);
  b.Delete(webhooks_, WebhookKey('p', ns, id));
  return Write(&b);
}

Status Store::Impl::SaveWebhookProgress(std::string_view ns, std::string_view id,
                                        const WebhookProgress& p) {
  std::lock_guard<std::mutex> l(webhooks_mu_);
  std::string existing;
  rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), webhooks_, WebhookKey('d', ns, id), &existing);
  if (gs.IsNotFound()) return Status::NotFound("Webhook not found");
  if (!gs.ok()) return FromRocks(gs, "cannot read the webhook");
  rocksdb::WriteBatch b;
  b.Put(webhooks_, WebhookKey('p', ns, id), EncodeWebhookProgress(p));
  if (Status s = Write(&b); !s.ok()) return s;
  return FlushWal();  // the dispatcher's own write: no response follows it
}

Status Store::Impl::Backup(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    return Status::InvalidArgument(dir + " exists: back up into a new directory");
  }
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_, &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // Flushes the memtables first. It writes into DIR.tmp and renames that
  // to DIR at the end, removing DIR.tmp on failure: nothing here may remove
  // DIR, which another process could have made since the check above.
  if (s.ok()) s = checkpoint->CreateCheckpoint(dir);
  if (!s.ok()) return Status::IOError("cannot back up into " + dir + ": " + s.ToString());
  return Status::Ok();
}

Status Store::Impl::CompactAll() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  rocksdb::Status s = db_->Flush(fo, handles_);
  if (!s.ok()) return FromRocks(s, "flush failed");
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* h : handles_) {
    s = db_->CompactRange(co, h, nullptr, nullptr);
    if (!s.ok()) return FromRocks(s, "compaction failed");
  }
  // Expired records the compaction dropped leave the cache too, so that
  // what follows sees the disk as it is now.
  for (size_t i = 0; i < cache_.shards(); ++i) {
    auto lock = locks_.LockStripe(i);
    cache_.Clear(i);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- Store

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(StoreOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (Status s = impl->Open(); !s.ok()) return s;
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Result<Entry> Store::Get(std::string_view ns, std::string_view key) const {
  return impl_->Read(ns, key, true);
}

Result<Entry> Store::Head(std::string_view ns, std::string_view key) const {
  return impl_->Read(ns, key, false);
}

Result<WriteResult> Store::Put(std::string_view ns, std::string_view key, std::string_view value,
                               const PutOptions& options) {
  if (Status s = CheckTtl(options.ttl_ms); !s.ok()) return s;
  if (value.size() > impl_->options().max_value_bytes) {
    return Status::TooLarge("value is " + std::to_string(value.size()) +
                            " bytes, over the limit of " +
                            std::to_string(impl_->options().max_value_bytes));
  }
  return impl_->Apply(
      ns, key, options.condition,
      [&](const Record* current, int64_t now) -> Result<Mutation> {
        return PutMutation(value, options, current, now);
      },
      false);
}

Result<std::vector<Status>> Store::PutMany(std::string_view ns,
                                           const std::vector<BatchPut>& items) {
  return impl_->PutMany(ns, items);
}

Result<uint64_t> Store::Delete(std::string_view ns, std::string_view key,
                               const Condition& condition) {
  auto r = impl_->Apply(
      ns, key, condition,
      [](const Record* current, int64_t) -> Result<Mutation> {
        if (current == nullptr) return Status::NotFound("key not found");
        Mutation m;
        m.erase = true;
        return m;
      },
      false);
  if (!r.ok()) return r.status();
  return r->entry.revision;
}

Result<WriteResult> Store::Incr(std::string_view ns, std::string_view key, int64_t by,
                                const Condition& condition) {
  return impl_->Apply(
      ns, key, condition,
      [&](const Record* current, int64_t) -> Result<Mutation> {
        int64_t v = 0;
        Mutation m;
        m.record.content_type = "application/json";
        if (current != nullptr) {
          const std::string& s = current->value;
          auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
          if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
            return Status::InvalidArgument("value is not an integer");
          }
          m.record.content_type = current->content_type;
          m.record.expire_at_ms = current->expire_at_ms;
        }
        int64_t result;
        if (__builtin_add_overflow(v, by, &result)) {
          return Status::InvalidArgument("incr would overflow a 64-bit integer");
        }
        m.record.value = std::to_string(result);
        return m;
      },
      true);
}

Result<WriteResult> Store::Patch(std::string_view ns, std::string_view key, std::string_view patch,
                                 const Condition& condition) {
  using Json = nlohmann::ordered_json;
  if (json::NestsDeeperThan(patch, json::kMaxTreeDepth)) {
    return Status::InvalidArgument(json::TooDeep("the patch"));
  }
  Json p = Json::parse(patch, nullptr, false);
  if (p.is_discarded()) return Status::InvalidArgument("patch is not valid JSON");
  return impl_->Apply(
      ns, key, condition,
      [&](const Record* current, int64_t) -> Result<Mutation> {
        Json doc = Json::object();
        Mutation m;
        m.record.content_type = "application/json";
        if (current != nullptr) {
          if (json::NestsDeeperThan(current->value, json::kMaxTreeDepth)) {
            return Status::InvalidArgument(json::TooDeep("the stored value"));
          }
          doc = Json::parse(current->value, nullptr, false);
          if (doc.is_discarded() || !doc.is_object()) {
            return Status::InvalidArgument("stored value is not a JSON object");
          }
          if (IsJsonContentType(current->content_type)) m.record.content_type = current->content_type;
          m.record.expire_at_ms = current->expire_at_ms;
        }
        doc.merge_patch(p);
        m.record.value = doc.dump();
        return m;
      },
      true);
}

Result<WriteResult> Store::Expire(std::string_view ns, std::string_view key, int64_t ttl_ms,
                                  const Condition& condition) {
  if (ttl_ms <= 0) return Status::InvalidArgument("ttl must be positive");
  if (Status s = CheckTtl(ttl_ms); !s.ok()) return s;
  return impl_->Apply(
      ns, key, condition,
      [&](const Record* current, int64_t now) -> Result<Mutation> {
        if (current == nullptr) return Status::NotFound("key not found");
        Mutation m;
        m.record = *current;
        m.record.expire_at_ms = now + ttl_ms;
        return m;
      },
      false);
}

Result<WriteResult> Store::Persist(std::string_view ns, std::string_view key,
                                   const Condition& condition) {
  return impl_->Apply(
      ns, key, condition,
      [&](const Record* current, int64_t) -> Result<Mutation> {
        if (current == nullptr) return Status::NotFound("key not found");
        Mutation m;
        m.record = *current;
        m.record.expire_at_ms = 0;
        return m;
      },
      false);
}

Result<ListPage> Store::List(std::string_view ns, const ListOptions& options) const {
  return impl_->List(ns, options);
}
Result<uint64_t> Store::Clear(std::string_view ns, std::string_view prefix) {
  return impl_->Clear(ns, prefix);
}
Result<Usage> Store::Stats(std::string_view ns) const { return impl_->Stats(ns); }
std::vector<Usage> Store::ListNamespaces() const { return impl_->ListNamespaces(); }
Status Store::SetQuota(std::string_view ns, uint64_t quota_bytes) {
  return impl_->SetQuota(ns, quota_bytes);
}
Result<std::vector<Event>> Store::ReadEvents(uint64_t after, size_t limit) const {
  return impl_->ReadEvents(after, limit);
}
uint64_t Store::CommittedRevision() const { return impl_->revisions().Committed(); }
uint64_t Store::WaitForRevision(uint64_t after, int64_t timeout_ms,
                                const std::function<bool()>& cancel) const {
  return impl_->revisions().WaitAbove(after, timeout_ms, cancel);
}
void Store::WakeRevisionWaiters() const { impl_->revisions().WakeWaiters(); }
uint64_t Store::EventFloor() const { return impl_->event_floor(); }
Result<uint64_t> Store::ExpireDue() {
  Result<uint64_t> expired = impl_->ExpireDue();
  if (Status s = impl_->FlushWal(); !s.ok()) return s;
  return expired;
}
Status Store::FlushWal() { return impl_->FlushWal(); }
bool Store::WalFlushNeeded() const { return impl_->WalFlushNeeded(); }
Status Store::PutWebhook(std::string_view ns, std::string_view id, std::string_view definition,
                         bool create) {
  Status s = impl_->PutWebhook(ns, id, definition, create);
  if (s.ok()) impl_->WebhooksChanged();
  return s;
}
Result<StoredWebhook> Store::GetWebhook(std::string_view ns, std::string_view id) const {
  return impl_->GetWebhook(ns, id);
}
Result<std::vector<StoredWebhook>> Store::ListWebhooks(std::string_view ns) const {
  return impl_->ListWebhooks(ns);
}
Status Store::DeleteWebhook(std::string_view ns, std::string_view id) {
  Status s = impl_->DeleteWebhook(ns, id);
  if (s.ok()) impl_->WebhooksChanged();
  return s;
}
void Store::SetWebhooksListener(std::function<void()> listener) {
  impl_->SetWebhooksListener(std::move(listener));
}
Status Store::SaveWebhookProgress(std::string_view ns, std::string_view id,
                                  const WebhookProgress& progress) {
  return impl_->SaveWebhookProgress(ns, id, progress);
}
Status Store::CompactAll() { return impl_->CompactAll(); }
Status Store::Backup(const std::string& dir) { return impl_->Backup(dir); }
Store::Counters Store::GetCounters() const { return impl_->GetCounters(); }
const StoreOptions& Store::options() const { return impl_->options(); }

int64_t Store::NowMs() const { return impl_->NowMs(); }

}  // namespace kv::store
