// RocksDB's diagnostic log (DIR/LOG), written so that a full disk cannot
// take the daemon down: RocksDB's own file logger asserts (and Debian builds
// RocksDB with assertions on) when it is written to after a failed write,
// which happens as soon as the disk fills. This one writes through stdio and
// drops what it cannot write. It appends to LOG; at open, a LOG over 1 MiB
// becomes LOG.old, so the two stay small.
//
// Thread-safety: Logv may be called from any RocksDB thread.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include <rocksdb/env.h>

namespace kv::store {

class RocksLogger final : public rocksdb::Logger {
 public:
  // nullptr when DIR/LOG cannot be opened (RocksDB then logs nothing).
  static std::shared_ptr<rocksdb::Logger> Open(const std::string& dir);
  ~RocksLogger() override;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;

 private:
  explicit RocksLogger(std::FILE* file) : file_(file) {}
  std::mutex mu_;
  std::FILE* file_;
};

}  // namespace kv::store
