#include "daemon/store/usage_merge.h"

#include "daemon/store/layout.h"

namespace kv::store {

bool UsageAddOperator::Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing_value,
                             const rocksdb::Slice& value, std::string* new_value,
                             rocksdb::Logger* /*logger*/) const {
  int64_t keys = 0, bytes = 0;
  if (existing_value != nullptr) {
    DecodeUsage(std::string_view(existing_value->data(), existing_value->size()), &keys, &bytes);
  }
  int64_t dk = 0, db = 0;
  if (DecodeUsage(std::string_view(value.data(), value.size()), &dk, &db)) {
    // Two's complement addition, wrapping as the encoding does: a damaged
    // counter or delta gives a wrong sum (kvd check reports it), never
    // undefined behaviour in a RocksDB thread.
    keys = static_cast<int64_t>(static_cast<uint64_t>(keys) + static_cast<uint64_t>(dk));
    bytes = static_cast<int64_t>(static_cast<uint64_t>(bytes) + static_cast<uint64_t>(db));
  }
  *new_value = EncodeUsage(keys, bytes);
  return true;
}

}  // namespace kv::store
