// UsageAddOperator: the meta family's merge operator. A usage value is two
// signed 64-bit counters (keys, bytes); a merge operand is a delta of the same
// shape and merging adds. Each write adds its delta in its own WriteBatch, so
// concurrent writers to one namespace never read-modify-write the counter.
//
// Never throws (RocksDB is not exception-safe); garbled operands are skipped.
#pragma once

#include <rocksdb/merge_operator.h>

namespace kv::store {

class UsageAddOperator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& key, const rocksdb::Slice* existing_value,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* logger) const override;
  const char* Name() const override { return "kv.usage_add"; }
};

}  // namespace kv::store
