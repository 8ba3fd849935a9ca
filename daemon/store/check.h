// CheckStore: verifies a stopped kvd's database against the invariants that
// the store keeps by writing each logical change as one WriteBatch (`kvd
// check`, and the crash tests after every SIGKILL). It reads; it never writes.
//
// What it checks (layout.h has the formats):
// - every record, expiry-index entry, event and usage counter decodes;
// - a record with a TTL has its expiry-index entry, with the same revision
//   and usage; an index entry whose record is gone or newer is pending (the
//   compaction filter dropped the record before the expiry worker settled it)
//   and still counts in its namespace's usage, as the store counts it;
// - each namespace's usage counter equals its records plus its pending index
//   entries, in keys and in bytes;
// - the event log has no event at or below its trim floor, and every record
//   written after the floor has its create/update event, for the same key,
//   at its revision;
// - no record's revision is above the highest revision the store would
//   recover on open (so revisions never repeat after a restart).
//
// Thread-safety: a free function; the database must not be open elsewhere
// (Unavailable when a kvd holds it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/store/encryption_key.h"

namespace kv::store {

struct CheckReport {
  uint64_t namespaces = 0;
  uint64_t records = 0;
  uint64_t expiry_entries = 0;
  uint64_t pending_expiries = 0;  // index entries whose record compaction dropped
  uint64_t events = 0;
  uint64_t highest_revision = 0;  // what the store would resume after
  uint64_t problem_count = 0;
  std::vector<std::string> problems;  // one line each, the first kMaxListedProblems

  static constexpr size_t kMaxListedProblems = 50;
  bool ok() const { return problem_count == 0; }
};

// `db_dir` is the RocksDB directory (kvd keeps it in DATA_DIR/db).
// NotFound: no database there. Unavailable: a process has it open.
// Corruption/IOError: RocksDB cannot read it. An encrypted database needs
// its key: Unauthorized without it or with another (see encryption.h).
Result<CheckReport> CheckStore(const std::string& db_dir,
                               const std::optional<EncryptionKey>& key = std::nullopt);

}  // namespace kv::store
