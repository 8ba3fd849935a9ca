// Store: kvd's storage engine over RocksDB. Namespaced keys with values,
// content types, revisions (ETags), per-key TTL, quotas, and an event log.
//
// Every logical change is one RocksDB WriteBatch touching all the families it
// concerns (data, expiry index, usage, event log), so a crash never leaves
// them disagreeing. Changes to one key are serialized by striped locks around
// read-check-write, which makes conditions, incr and patch atomic.
//
// Durability: the write-ahead log is always on and is written before a call
// returns, so every acknowledged write survives a crash of the process (kill
// -9). With StoreOptions::fsync, the log is also fsynced before the call
// returns, so it survives a power cut too. With
// StoreOptions::caller_flushes_wal, the caller takes over the first part:
// a write returns with its log record still in RocksDB's buffer, and the
// caller calls FlushWal() before it acknowledges (kvd, once per batch of
// responses).
//
// Reads, and the read that precedes each write, go through a cache of the
// encoded records of recently used keys (record_cache.h), kept exact under
// the same striped locks; RocksDB is read on a miss.
//
// TTL, in three layers: reads hide a record from the millisecond it expires;
// ExpireDue() (the expiry worker, run in the background unless disabled)
// deletes due keys through the delete path, logging `expire` events and
// settling usage; a compaction filter drops expired records from disk.
// Usage (keys, bytes of keys plus values) counts a key until the worker or a
// write to that key has settled its expiry.
//
// Namespaces are opaque names (1..255 bytes, no NUL): kvd composes them from
// tenant, namespace and app name.
//
// Thread-safety: all methods may be called concurrently from many threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/key.h"
#include "common/status.h"
#include "daemon/store/clock.h"
#include "daemon/store/encryption_key.h"
#include "daemon/store/layout.h"

namespace kv::store {

struct StoreOptions {
  // Where the database lives; created (with parents) when missing.
  std::string data_dir;
  // Default: 1024.
  size_t max_key_bytes = kDefaultMaxKeyBytes;
  // Default: 10 MiB.
  size_t max_value_bytes = kDefaultMaxValueBytes;
  // Per namespace, bytes of keys plus values, unless SetQuota says otherwise.
  // Default: 1 GiB.
  uint64_t default_quota_bytes = uint64_t{1} << 30;
  // fsync the write-ahead log before acknowledging each write. Default: off.
  bool fsync = false;
  // Writes return with their write-ahead-log record buffered in RocksDB
  // (manual_wal_flush); the caller calls FlushWal() before acknowledging
  // them, so that one write(2) carries the records of many writes (group
  // commit). Until then a crash of the process loses them, though readers
  // may already see them: a caller must flush before any answer leaves it,
  // not only before acknowledging its own writes. ReadEvents() flushes what
  // it read, and the store's background writes (expiry, event trims,
  // webhook progress) flush themselves. With fsync, the sync moves to
  // FlushWal() as well: one per batch instead of one per write. Default:
  // off (each write is in the log's file, and with fsync on the disk, when
  // it returns).
  bool caller_flushes_wal = false;
  // Encrypts every file of the database with this key (encryption.h). A
  // database keeps the choice it was created with: Open refuses an
  // encrypted one without its key, or a plain one with a key. Default: none.
  std::optional<EncryptionKey> encryption_key;
  // Events older than this are trimmed by the expiry worker. Default: 24 h.
  int64_t event_retention_ms = 24 * 3600 * 1000;
  // Events carry the value when it is at most this large. Default: 1 MiB.
  size_t event_value_max_bytes = 1u << 20;
  // Events a webhook has not dealt with yet (revision above its cursor) are
  // kept past event_retention_ms, up to this age; older ones are trimmed
  // anyway, and the dispatcher reports them lost. Default: 7 days.
  int64_t webhook_backlog_ms = int64_t{7} * 24 * 3600 * 1000;
  // Default: the system clock.
  std::shared_ptr<const Clock> clock;
  // Run ExpireDue() in a background thread: when the next key is due, but
  // at most once every expiry_interval_ms (keys due close together go in one
  // pass) and at least every 5 s (the event log's trimming). With no key due
  // the thread sleeps: an idle kvd does not wake up to poll.
  // Default: on, at most every 100 ms.
  bool expiry_worker = true;
  int64_t expiry_interval_ms = 100;
  // Memory for the encoded records of recently used keys, which reads and
  // the read before each write take instead of searching RocksDB (see
  // record_cache.h); 0 turns it off. Default: 64 MiB.
  size_t record_cache_bytes = size_t{64} << 20;
  // The size of the data family's memtable (RocksDB's write_buffer_size).
  // Small on purpose: a write searches the memtable's skiplist for its key,
  // and at RocksDB's default of 64 MiB that search misses the CPU caches
  // (a quarter of a kvd PUT's time under random keys); at 4 MiB the list
  // stays in cache. More, smaller flushes are the price. Default: 4 MiB.
  size_t memtable_bytes = size_t{4} << 20;
  // The most the write-ahead log's files may hold on disk before RocksDB
  // flushes the families that keep its oldest file alive (its
  // max_total_wal_size). A log file goes only once every family has flushed
  // what it holds of it, and the families written rarely (usage counters,
  // the expiry index) fill their memtables slowly: without a bound the logs
  // grew past 500 MB after a million writes, each file kept with its write
  // buffer in memory, all of it replayed by a restart after a crash.
  // Default: 128 MiB.
  uint64_t wal_bytes_limit = uint64_t{128} << 20;
  // RocksDB rewrites every SST file at least this often, so the compaction
  // filter reaches all of them. Default: 1 day.
  uint64_t periodic_compaction_seconds = 86400;
};

// A precondition on a write.
struct Condition {
  enum class Kind { kNone, kIfMatch, kIfAbsent, kIfExists };
  Kind kind = Kind::kNone;
  uint64_t etag = 0;  // for kIfMatch

  static Condition None() { return {}; }
  static Condition IfMatch(uint64_t etag) { return {Kind::kIfMatch, etag}; }
  static Condition IfAbsent() { return {Kind::kIfAbsent, 0}; }
  static Condition IfExists() { return {Kind::kIfExists, 0}; }
};

// A key as reads return it. `value` is empty for Head() and List() without
// values; value_size is always set.
struct Entry {
  std::string key;
  std::string value;
  std::string content_type;
  uint64_t value_size = 0;
  uint64_t revision = 0;  // the ETag
  uint64_t create_revision = 0;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  int64_t expire_at_ms = 0;  // 0: no TTL
};

struct WriteResult {
  Entry entry;           // the key after the write (value only for Incr/Patch)
  bool created = false;  // the key did not exist (or had expired) before
};

struct PutOptions {
  // Default: application/octet-stream.
  std::string content_type;
  // Time to live; 0 means none (and removes an existing TTL unless keep_ttl).
  int64_t ttl_ms = 0;
  bool keep_ttl = false;
  Condition condition;
};

// One put of a batch (Store::PutMany).
struct BatchPut {
  std::string key;
  std::string value;
  PutOptions options;
};

inline constexpr size_t kMaxBatchItems = 10000;

struct ListOptions {
  std::string prefix;
  // From a previous page's next_cursor; empty for the first page.
  std::string cursor;
  // 1..kMaxListLimit; 0 means kDefaultListLimit.
  size_t limit = 0;
  bool values = false;
  // When set, only entries for which it returns true are returned (their
  // value is filled in for it even when `values` is false). Scanning stops
  // after kMaxListScan records, returning a cursor to go on from.
  std::function<bool(const Entry&)> filter;
};

inline constexpr size_t kDefaultListLimit = 1000;
inline constexpr size_t kMaxListLimit = 10000;
inline constexpr size_t kMaxListScan = 100000;
// A page with values ends once it holds this many bytes of them (it may go
// over by its last value), so that listing a namespace of large values
// holds one page of them in memory, not `limit` of them.
inline constexpr size_t kListPageValueBytes = 4 << 20;

struct ListPage {
  std::vector<Entry> entries;
  std::string next_cursor;  // empty: no more
};

// A webhook as the store keeps it: its definition (JSON, written and read by
// daemon/webhooks; opaque here) and how far its delivery got.
struct StoredWebhook {
  std::string ns;
  std::string id;
  std::string definition;
  WebhookProgress progress;
};

struct Usage {
  std::string ns;
  uint64_t keys = 0;
  uint64_t bytes = 0;
  uint64_t quota_bytes = 0;
};

class Store {
 public:
  // Opens (or creates) the store in options.data_dir.
  // Unavailable: another process holds the directory.
  // Corruption: the database is damaged, or the directory holds something
  // that is not a kv store (never reset or overwritten).
  // Unauthorized: the database is encrypted, and the key is missing or
  // another one. InvalidArgument: a key was given for a plain database.
  static Result<std::unique_ptr<Store>> Open(StoreOptions options);

  // Stops the expiry worker, saves the revision and closes the database.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // NotFound when the key is missing or expired.
  Result<Entry> Get(std::string_view ns, std::string_view key) const;
  // Get without the value.
  Result<Entry> Head(std::string_view ns, std::string_view key) const;

  // InvalidArgument/TooLarge: bad namespace, key or value; PreconditionFailed:
  // the condition did not hold; QuotaExceeded: over the namespace's quota.
  // A failed call changes nothing.
  Result<WriteResult> Put(std::string_view ns, std::string_view key, std::string_view value,
                          const PutOptions& options);
  // Several puts in one WriteBatch: one write-ahead-log write, consecutive
  // revisions, in item order (a later item on the same key sees the earlier
  // one's value). Each item's key and condition are checked on their own:
  // the returned vector holds each item's outcome, and the items that pass
  // commit together, atomically. QuotaExceeded (nothing written): the
  // passing items together would exceed the quota. InvalidArgument: more
  // than kMaxBatchItems items.
  Result<std::vector<Status>> PutMany(std::string_view ns, const std::vector<BatchPut>& items);
  // Returns the revision of the delete. NotFound when missing.
  Result<uint64_t> Delete(std::string_view ns, std::string_view key,
                          const Condition& condition = {});
  // Adds `by` to an integer value (a missing key counts as 0) and stores the
  // result as decimal text; keeps the TTL. InvalidArgument: the value is not
  // an integer, or the result would overflow 64 bits.
  Result<WriteResult> Incr(std::string_view ns, std::string_view key, int64_t by,
                           const Condition& condition = {});
  // Applies a JSON merge patch (RFC 7396) to a JSON object value (a missing
  // key counts as {}); keeps the TTL. InvalidArgument: the patch is not JSON,
  // or the stored value is not a JSON object.
  Result<WriteResult> Patch(std::string_view ns, std::string_view key, std::string_view patch,
                            const Condition& condition = {});
  // Sets the key's TTL (ttl_ms > 0), or removes it (Persist). NotFound when missing.
  Result<WriteResult> Expire(std::string_view ns, std::string_view key, int64_t ttl_ms,
                             const Condition& condition = {});
  Result<WriteResult> Persist(std::string_view ns, std::string_view key,
                              const Condition& condition = {});

  // Keys with the prefix, in byte order, a page at a time. InvalidArgument:
  // a cursor this store did not hand out, or a limit out of range.
  Result<ListPage> List(std::string_view ns, const ListOptions& options) const;
  // Deletes every key of the namespace that starts with `prefix` (all of
  // them when it is empty), each with a delete event, a batch of keys at a
  // time; returns how many. Keys written while it runs may survive it.
  Result<uint64_t> Clear(std::string_view ns, std::string_view prefix = {});

  Result<Usage> Stats(std::string_view ns) const;
  // Every namespace that holds or held keys, in name order.
  std::vector<Usage> ListNamespaces() const;
  // Sets the namespace's quota in bytes (0: back to the default).
  Status SetQuota(std::string_view ns, uint64_t quota_bytes);

  // Up to `limit` events with revisions > after, in revision order, never
  // past CommittedRevision(). OutOfRange: events after `after` have been
  // trimmed already.
  Result<std::vector<Event>> ReadEvents(uint64_t after, size_t limit) const;
  // Every revision up to this one is either written or abandoned: events up
  // to it can be read without missing any.
  uint64_t CommittedRevision() const;
  // Waits up to timeout_ms for CommittedRevision() > after, or for `cancel`
  // (when given) to turn true, checked at each WakeRevisionWaiters();
  // returns CommittedRevision().
  uint64_t WaitForRevision(uint64_t after, int64_t timeout_ms,
                           const std::function<bool()>& cancel = nullptr) const;
  // Wakes every WaitForRevision() to check its cancel condition.
  void WakeRevisionWaiters() const;
  // Events at or below this revision have been trimmed (0: none).
  uint64_t EventFloor() const;

  // Webhooks, in their own column family. A new webhook's cursor is
  // CommittedRevision(): it sees the changes that come after it, and the
  // event log keeps what it has not dealt with (see webhook_backlog_ms).
  // `create`: PreconditionFailed when the id exists; otherwise NotFound when
  // it does not (an update keeps the progress).
  Status PutWebhook(std::string_view ns, std::string_view id, std::string_view definition,
                    bool create);
  // NotFound when missing.
  Result<StoredWebhook> GetWebhook(std::string_view ns, std::string_view id) const;
  // The namespace's webhooks in id order; with an empty ns, every
  // namespace's, in (ns, id) order.
  Result<std::vector<StoredWebhook>> ListWebhooks(std::string_view ns) const;
  // Deletes the definition and its progress in one batch. NotFound when missing.
  Status DeleteWebhook(std::string_view ns, std::string_view id);
  // NotFound (nothing written) when the webhook was deleted meanwhile.
  Status SaveWebhookProgress(std::string_view ns, std::string_view id,
                             const WebhookProgress& progress);
  // Calls `listener` after each PutWebhook and DeleteWebhook that wrote
  // something, on the writer's thread (keep it short), so that the webhook
  // dispatcher learns of changes without polling. nullptr removes it; once
  // this returns, the old listener is not running and will not be called.
  void SetWebhooksListener(std::function<void()> listener);

  // Writes the write-ahead-log records of the writes that returned so far
  // to the file, and with StoreOptions::fsync syncs it (see
  // StoreOptions::caller_flushes_wal; a no-op without it).
  // IOError: the write failed; RocksDB then refuses further writes.
  Status FlushWal();
  // Whether FlushWal() has anything to write: a write returned since the
  // last one. Cheap (two atomic loads).
  bool WalFlushNeeded() const;

  // One pass of the expiry worker: settles every key due by now, then trims
  // the event log. Returns the number of keys expired.
  Result<uint64_t> ExpireDue();

  // Flushes memtables and compacts every family fully (drops expired data).
  Status CompactAll();

  // Writes a consistent copy of the whole database (every namespace, the
  // event log, webhooks, revisions) into `dir`, which must not exist yet;
  // its parent must. The copy is a database Open() takes as it is, with the
  // same encryption key: RocksDB's checkpoint, whose table files are hard
  // links when `dir` is on the same filesystem (taking no room until the
  // originals are compacted away) and copies otherwise. Writes go on
  // meanwhile. InvalidArgument: `dir` exists. IOError: it could not be
  // written (what was written of it is removed).
  Status Backup(const std::string& dir);

  struct Counters {
    uint64_t expired_total = 0;    // keys whose expiry was settled since Open
    uint64_t wal_syncs_total = 0;  // fsyncs of the write-ahead log since Open
    // Memory RocksDB holds, in bytes: memtables (the active ones and those
    // waiting to be flushed), the block cache (64 MiB at most), and table
    // readers (the index and filter blocks of open SST files, outside the
    // cache; they grow with the data on disk).
    uint64_t memtable_bytes = 0;
    uint64_t block_cache_bytes = 0;
    uint64_t table_reader_bytes = 0;
    // Bytes on disk: the write-ahead log's files (bounded by
    // StoreOptions::wal_bytes_limit, give or take a memtable flush) and the
    // table files (those a compaction replaced included, until deleted).
    uint64_t wal_bytes = 0;
    uint64_t table_bytes = 0;
  };
  Counters GetCounters() const;

  const StoreOptions& options() const;
  // Now, by the store's clock (StoreOptions::clock, else the system's): what
  // TTLs and timestamps are measured against.
  int64_t NowMs() const;

  class Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kv::store
