// fuzz_record: the decoders of what the store reads back from disk
// (daemon/store/layout.h): records, expiry entries, events, usage counters,
// webhook progress and the webhook definitions beside it, plus the two
// RocksDB callbacks that see raw stored bytes (the TTL compaction filter and
// the usage merge operator). A damaged or foreign value must be refused,
// never misread past its end.
//
// The input is one stored key and value: its first byte is the key's length
// L, the next L bytes (fewer when the input ends first) the key, the rest
// the value. Every decoder reads the pair as if it came from its family.
//
// Oracles: the sanitizers; whatever decodes re-encodes to bytes that decode
// to the same thing; the shortcuts the compaction filter and usage code take
// (RecordExpireAt, RecordValueSize) agree with the full decoder.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <rocksdb/compaction_filter.h>

#include "daemon/store/clock.h"
#include "daemon/store/layout.h"
#include "daemon/store/ttl_filter.h"
#include "daemon/store/usage_merge.h"
#include "daemon/webhooks/webhook.h"
#include "tests/fuzz/fuzz_fail.h"

namespace {

using kv::fuzz::Fail;
namespace store = kv::store;

bool Same(const store::Record& a, const store::Record& b) {
  return a.expire_at_ms == b.expire_at_ms && a.revision == b.revision &&
         a.create_revision == b.create_revision && a.created_ms == b.created_ms &&
         a.updated_ms == b.updated_ms && a.content_type == b.content_type && a.value == b.value;
}

bool Same(const store::Event& a, const store::Event& b) {
  return a.revision == b.revision && a.type == b.type && a.time_ms == b.time_ms &&
         a.expire_at_ms == b.expire_at_ms && a.value_size == b.value_size &&
         a.has_value == b.has_value && a.ns == b.ns && a.key == b.key &&
         a.content_type == b.content_type && a.value == b.value;
}

void Records(std::string_view bytes) {
  std::optional<store::Record> r = store::DecodeRecord(bytes);
  std::optional<store::Record> head = store::DecodeRecord(bytes, /*with_value=*/false);
  std::optional<int64_t> expire_at = store::RecordExpireAt(bytes);
  std::optional<uint64_t> value_size = store::RecordValueSize(bytes);
  if (r.has_value() != head.has_value() || r.has_value() != expire_at.has_value() ||
      r.has_value() != value_size.has_value()) {
    Fail("DecodeRecord, RecordExpireAt and RecordValueSize disagree on what is a record");
  }
  if (!r) return;
  if (!expire_at || *expire_at != r->expire_at_ms) Fail("RecordExpireAt disagrees");
  if (!value_size || *value_size != r->value.size()) Fail("RecordValueSize disagrees");
  std::optional<store::Record> again = store::DecodeRecord(store::EncodeRecord(*r));
  if (!again || !Same(*again, *r)) Fail("a record does not survive re-encoding");
}

void Events(std::string_view key, std::string_view value) {
  std::optional<store::Event> e = store::DecodeEvent(key, value);
  if (!e) return;
  (void)store::EventTypeName(e->type);
  std::optional<store::Event> again = store::DecodeEvent(store::EventKey(e->revision),
                                                         store::EncodeEvent(*e));
  if (!again || !Same(*again, *e)) Fail("an event does not survive re-encoding");
}

void Webhooks(std::string_view key, std::string_view bytes) {
  if (auto p = store::DecodeWebhookProgress(bytes)) {
    auto again = store::DecodeWebhookProgress(store::EncodeWebhookProgress(*p));
    if (!again || again->cursor != p->cursor || again->last_error != p->last_error ||
        again->last_status != p->last_status) {
      Fail("webhook progress does not survive re-encoding");
    }
  }
  char kind;
  std::string_view ns, id;
  if (store::SplitWebhookKey(key, &kind, &ns, &id) &&
      store::WebhookKey(kind, ns, id) != key) {
    Fail("SplitWebhookKey and WebhookKey disagree");
  }
  kv::Result<kv::daemon::webhooks::Webhook> w = kv::daemon::webhooks::FromJson(bytes);
  if (!w.ok()) return;
  std::string shown = kv::daemon::webhooks::ToJson(*w).dump(
      -1, ' ', false, kv::daemon::webhooks::Json::error_handler_t::replace);
  if (!kv::daemon::webhooks::FromJson(shown).ok()) Fail("a webhook does not survive ToJson");
  // What the dispatcher does with a stored definition and a stored event.
  store::Event event;
  event.ns = w->ns;
  event.key = w->key;
  event.value = std::string(bytes.substr(0, 16));
  event.has_value = true;
  (void)kv::daemon::webhooks::Matches(*w, event);
  (void)kv::daemon::webhooks::DeliveryBody(*w, event);
}

void Meta(std::string_view key, std::string_view bytes) {
  int64_t keys, total;
  if (store::DecodeUsage(bytes, &keys, &total) && store::EncodeUsage(keys, total) != bytes) {
    Fail("usage does not survive re-encoding");
  }
  if (auto x = store::DecodeExpiry(key, bytes)) {
    if (store::ExpiryKey(x->expire_at_ms, x->data_key) != key ||
        store::EncodeExpiryValue(x->revision, x->usage_bytes) != bytes) {
      Fail("an expiry entry does not survive re-encoding");
    }
  }
  std::string_view ns, k;
  if (store::SplitDataKey(key, &ns, &k) && store::DataKey(ns, k) != key) {
    Fail("SplitDataKey and DataKey disagree");
  }
}

// The RocksDB callbacks, on the bytes as they would find them on disk.
void Callbacks(std::string_view key, std::string_view bytes) {
  static auto clock = std::make_shared<store::ManualClock>();
  static store::TtlFilterFactory factory(clock);
  static store::UsageAddOperator merge;
  rocksdb::CompactionFilter::Context context{};
  std::unique_ptr<rocksdb::CompactionFilter> filter = factory.CreateCompactionFilter(context);
  rocksdb::Slice k(key.data(), key.size());
  rocksdb::Slice value(bytes.data(), bytes.size());
  std::string new_value, skip_until;
  auto decision = filter->FilterV2(0, k, rocksdb::CompactionFilter::ValueType::kValue, value,
                                   &new_value, &skip_until);
  auto r = store::DecodeRecord(bytes, false);
  bool expired = r && r->expire_at_ms > 0 && r->expire_at_ms <= clock->NowMs();
  if ((decision == rocksdb::CompactionFilter::Decision::kRemove) != expired) {
    Fail("the TTL filter and the record disagree on expiry");
  }
  // Merge the first half as the stored counter and the second as the delta.
  rocksdb::Slice existing(bytes.data(), bytes.size() / 2);
  rocksdb::Slice delta(bytes.data() + bytes.size() / 2, bytes.size() - bytes.size() / 2);
  std::string merged;
  if (!merge.Merge(k, &existing, delta, &merged, nullptr) || merged.size() != 16) {
    Fail("the usage merge did not produce a counter");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return -1;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view key = rest.substr(0, data[0]);
  std::string_view value = rest.substr(key.size());
  Records(value);
  Events(key, value);
  Webhooks(key, value);
  Meta(key, value);
  Callbacks(key, value);
  return 0;
}
