#include "daemon/store/ttl_filter.h"

#include "daemon/store/layout.h"

namespace kv::store {
namespace {

class TtlFilter final : public rocksdb::CompactionFilter {
 public:
  explicit TtlFilter(int64_t now_ms) : now_ms_(now_ms) {}

  Decision FilterV2(int /*level*/, const rocksdb::Slice& /*key*/, ValueType value_type,
                    const rocksdb::Slice& existing_value, std::string* /*new_value*/,
                    std::string* /*skip_until*/) const override {
    if (value_type != ValueType::kValue) return Decision::kKeep;
    auto expire_at = RecordExpireAt(std::string_view(existing_value.data(), existing_value.size()));
    // kRemove leaves a tombstone, so an older version cannot resurface.
    if (expire_at && *expire_at > 0 && *expire_at <= now_ms_) return Decision::kRemove;
    return Decision::kKeep;
  }
  const char* Name() const override { return "kv.TtlFilter"; }

 private:
  int64_t now_ms_;  // one instant per job: every record of the job is judged alike
};

}  // namespace

std::unique_ptr<rocksdb::CompactionFilter> TtlFilterFactory::CreateCompactionFilter(
    const rocksdb::CompactionFilter::Context& /*context*/) {
  return std::make_unique<TtlFilter>(clock_->NowMs());
}

bool TtlFilterFactory::ShouldFilterTableFileCreation(
    rocksdb::TableFileCreationReason reason) const {
  return reason == rocksdb::TableFileCreationReason::kFlush ||
         reason == rocksdb::TableFileCreationReason::kCompaction;
}

}  // namespace kv::store
