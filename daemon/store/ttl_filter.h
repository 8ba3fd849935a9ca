// TtlFilterFactory: the third layer of TTL (DESIGN.md): during flushes and
// compactions of the data family, records whose expiry has passed are dropped,
// so disk space comes back even for keys the expiry worker has not reached.
// Their expiry-index entries stay; the worker settles usage and events for
// them later (see Store::ExpireDue).
//
// Thread-safety: RocksDB calls the filters from its background threads; they
// only read the clock. Never throws (RocksDB is not exception-safe).
#pragma once

#include <memory>

#include <rocksdb/compaction_filter.h>

#include "daemon/store/clock.h"

namespace kv::store {

class TtlFilterFactory final : public rocksdb::CompactionFilterFactory {
 public:
  explicit TtlFilterFactory(std::shared_ptr<const Clock> clock) : clock_(std::move(clock)) {}
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& context) override;
  // Filter on flush too, so an expired record may never reach an SST file.
  bool ShouldFilterTableFileCreation(rocksdb::TableFileCreationReason reason) const override;
  const char* Name() const override { return "kv.TtlFilterFactory"; }

 private:
  std::shared_ptr<const Clock> clock_;
};

}  // namespace kv::store
