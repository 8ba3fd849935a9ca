#include "daemon/store/check.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include <rocksdb/db.h>

#include "daemon/store/encryption.h"
#include "daemon/store/layout.h"
#include "daemon/store/usage_merge.h"

namespace kv::store {
namespace {

std::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }
rocksdb::Slice SliceOf(std::string_view s) { return {s.data(), s.size()}; }

// Keys are any bytes; problems are one line of text.
std::string Printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// RocksDB locks DIR/LOCK with fcntl while a database is open; a read-only
// open does not, so ask whether another process holds it.
bool LockedByAnotherProcess(const std::string& db_dir) {
  int fd = ::open((db_dir + "/LOCK").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  bool held = ::fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

struct Counted {
  int64_t keys = 0;
  int64_t bytes = 0;
};

class Checker {
 public:
  Checker(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* data, rocksdb::ColumnFamilyHandle* expiry,
          rocksdb::ColumnFamilyHandle* meta, rocksdb::ColumnFamilyHandle* events)
      : db_(db), data_(data), expiry_(expiry), meta_(meta), events_(events) {}

  Result<CheckReport> Run() {
    if (Status s = ReadMeta(); !s.ok()) return s;
    if (Status s = CheckEvents(); !s.ok()) return s;
    if (Status s = CheckRecords(); !s.ok()) return s;
    if (Status s = CheckExpiryIndex(); !s.ok()) return s;
    CompareUsage();
    report_.namespaces = usage_.size();
    report_.highest_revision = highest_;
    return std::move(report_);
  }

 private:
  void Problem(std::string line) {
    ++report_.problem_count;
    if (report_.problems.size() < CheckReport::kMaxListedProblems) {
      report_.problems.push_back(std::move(line));
    }
  }

  Status IteratorStatus(const rocksdb::Iterator& it, const char* what) {
    if (it.status().ok()) return Status::Ok();
    return Status::IOError(std::string("cannot read ") + what + ": " + it.status().ToString());
  }

  Status ReadMeta() {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view k = View(it->key()), v = View(it->value());
      if (k == kRevisionKey || k == kEventFloorKey) {
        if (v.size() != 8) {
          Problem("meta: " + std::string(k) + " is not 8 bytes");
          continue;
        }
        (k == kRevisionKey ? saved_revision_ : floor_) = DecodeFixed64(v.data());
      } else if (!k.empty() && k[0] == 'u') {
        Counted c;
        if (!DecodeUsage(v, &c.keys, &c.bytes)) {
          Problem("usage of namespace " + Printable(k.substr(1)) + " does not decode");
          continue;
        }
        stored_usage_[std::string(k.substr(1))] = c;
      }
    }
    return IteratorStatus(*it, "the meta family");
  }

  Status CheckEvents() {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
    uint64_t last = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++report_.events;
      auto e = DecodeEvent(View(it->key()), View(it->value()));
      if (!e) {
        Problem("event " + Printable(View(it->key())) + " does not decode");
        continue;
      }
      if (e->revision <= floor_) {
        Problem("event " + std::to_string(e->revision) + " is at or below the trim floor " +
                std::to_string(floor_));
      }
      last = e->revision;
    }
    highest_ = std::max({saved_revision_, floor_, last});
    return IteratorStatus(*it, "the event log");
  }

  Status CheckRecords() {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), data_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++report_.records;
      std::string_view dkey = View(it->key()), ns, key;
      if (!SplitDataKey(dkey, &ns, &key)) {
        Problem("record " + Printable(dkey) + " has no namespace");
        continue;
      }
      auto r = DecodeRecord(View(it->value()));
      std::string where = Printable(ns) + " " + Printable(key);
      if (!r) {
        Problem("record " + where + " does not decode");
        continue;
      }
      const uint64_t bytes = key.size() + r->value.size();
      Counted& u = usage_[std::string(ns)];
      u.keys += 1;
      u.bytes += static_cast<int64_t>(bytes);
      if (r->revision > highest_) {
        Problem("record " + where + " has revision " + std::to_string(r->revision) +
                ", above the " + std::to_string(highest_) + " a restart resumes after");
      }
      if (r->expire_at_ms > 0) CheckIndexOf(dkey, where, *r, bytes);
      if (r->revision > floor_) CheckEventOf(ns, key, where, *r);
    }
    return IteratorStatus(*it, "the data family");
  }

  void CheckIndexOf(std::string_view dkey, const std::string& where, const Record& r,
                    uint64_t bytes) {
    std::string ikey = ExpiryKey(r.expire_at_ms, dkey), v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), expiry_, ikey, &v);
    if (!s.ok()) {
      Problem("record " + where + " expires at " + std::to_string(r.expire_at_ms) +
              " but the expiry index has no entry for it");
      return;
    }
    auto entry = DecodeExpiry(ikey, v);
    if (!entry || entry->revision != r.revision || entry->usage_bytes != bytes) {
      Problem("record " + where + ": its expiry index entry is for another revision or size");
    }
  }

  void CheckEventOf(std::string_view ns, std::string_view key, const std::string& where,
                    const Record& r) {
    std::string ekey = EventKey(r.revision), v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), events_, ekey, &v);
    auto e = s.ok() ? DecodeEvent(ekey, v) : std::nullopt;
    if (!e) {
      Problem("record " + where + " (revision " + std::to_string(r.revision) +
              ") has no event in the log");
    } else if ((e->type != EventType::kCreate && e->type != EventType::kUpdate) || e->ns != ns ||
               e->key != key) {
      Problem("event " + std::to_string(r.revision) + " is not the write of record " + where);
    }
  }

  Status CheckExpiryIndex() {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), expiry_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++report_.expiry_entries;
      auto entry = DecodeExpiry(View(it->key()), View(it->value()));
      std::string_view ns, key;
      if (!entry || !SplitDataKey(entry->data_key, &ns, &key)) {
        Problem("expiry index entry " + Printable(View(it->key())) + " does not decode");
        continue;
      }
      std::string raw;
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), data_, SliceOf(entry->data_key), &raw);
      std::optional<Record> r;
      if (s.ok()) r = DecodeRecord(raw, /*with_value=*/false);
      if (r && r->revision == entry->revision) {
        if (r->expire_at_ms != entry->expire_at_ms) {
          Problem("expiry index entry of " + Printable(ns) + " " + Printable(key) +
                  " has another expiry time than its record");
        }
        continue;  // counted with its record
      }
      // Pending: the record was dropped by compaction (or replaced since);
      // the store counts the entry until its worker settles it.
      ++report_.pending_expiries;
      Counted& u = usage_[std::string(ns)];
      u.keys += 1;
      u.bytes += static_cast<int64_t>(entry->usage_bytes);
    }
    return IteratorStatus(*it, "the expiry index");
  }

  void CompareUsage() {
    for (const auto& [ns, stored] : stored_usage_) usage_.try_emplace(ns);
    for (const auto& [ns, counted] : usage_) {
      Counted stored;
      if (auto it = stored_usage_.find(ns); it != stored_usage_.end()) stored = it->second;
      if (stored.keys != counted.keys || stored.bytes != counted.bytes) {
        Problem("usage of namespace " + Printable(ns) + " says " + std::to_string(stored.keys) +
                " keys, " + std::to_string(stored.bytes) + " bytes; the data holds " +
                std::to_string(counted.keys) + " keys, " + std::to_string(counted.bytes) +
                " bytes");
      }
    }
  }

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle *data_, *expiry_, *meta_, *events_;
  CheckReport report_;
  uint64_t saved_revision_ = 0, floor_ = 0, highest_ = 0;
  std::map<std::string, Counted> stored_usage_, usage_;
};

}  // namespace

Result<CheckReport> CheckStore(const std::string& db_dir, const std::optional<EncryptionKey>& key) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(db_dir) / "CURRENT", ec)) {
    return Status::NotFound("no kv database in " + db_dir);
  }
  if (LockedByAnotherProcess(db_dir)) {
    return Status::Unavailable(db_dir + " is in use (a kvd is running on it); stop it first");
  }
  Result<std::unique_ptr<rocksdb::Env>> env = EnvForDatabase(db_dir, key);
  if (!env.ok()) return env.status();
  rocksdb::DBOptions db_options;
  if (*env) db_options.env = env->get();
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, db_dir, &names);
  if (!s.ok()) return Status::Corruption("cannot read " + db_dir + ": " + s.ToString());

  // Every family the database has must be named to open it; the meta
  // family's usage counters need their merge operator to be read.
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) {
    rocksdb::ColumnFamilyOptions cf;
    if (name == kMetaFamily) cf.merge_operator = std::make_shared<UsageAddOperator>();
    families.emplace_back(name, cf);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(db_options, db_dir, families, &handles, &raw);
  if (!s.ok()) return Status::Corruption("cannot open " + db_dir + ": " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);

  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
  for (auto* h : handles) by_name[h->GetName()] = h;
  Result<CheckReport> result = Status::Corruption(db_dir + " is not a kv database");
  bool ours = true;
  for (const char* name : {kDataFamily, kExpiryFamily, kMetaFamily, kEventsFamily}) {
    if (!by_name.count(name)) {
      result = Status::Corruption(db_dir + " has no '" + name + "' column family");
      ours = false;
    }
  }
  if (ours) {
    Checker checker(db.get(), by_name[kDataFamily], by_name[kExpiryFamily], by_name[kMetaFamily],
                    by_name[kEventsFamily]);
    result = checker.Run();
  }
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  return result;
}

}  // namespace kv::store
