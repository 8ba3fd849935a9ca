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
    keys += dk;
    bytes += db;
  }
  *new_value = EncodeUsage(keys, bytes);
  return true;
}

}  // namespace kv::store
