// The on-disk layout of the store: column family names, and how keys and
// values of each family are encoded. Only this file and layout.cc know the
// byte formats; the store, the compaction filter and the raw-layout tests go
// through these functions.
//
//   family   key                                     value
//   data     ns '\0' key                             Record (EncodeRecord)
//   expiry   be64(expire_at_ms) ns '\0' key          fixed64 revision, fixed64 usage bytes
//   meta     "format"                                kFormatMarker
//            "rev"                                   fixed64 highest revision at last check point
//            "floor"                                 fixed64 events below this were trimmed
//            'u' ns                                  Usage (merge operator adds deltas)
//            'q' ns                                  fixed64 quota in bytes
//   events   be64(revision)                          Event (EncodeEvent)
//   webhooks 'd' ns '\0' id                          webhook definition (JSON, opaque to the store)
//            'p' ns '\0' id                          WebhookProgress (EncodeWebhookProgress)
//
// Namespaces never contain NUL, so ns '\0' keeps each namespace's keys together
// and in key order. Big-endian numbers sort by value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kv::store {

inline constexpr char kDataFamily[] = "data";
inline constexpr char kExpiryFamily[] = "expiry";
inline constexpr char kMetaFamily[] = "meta";
inline constexpr char kEventsFamily[] = "events";
inline constexpr char kWebhooksFamily[] = "webhooks";

inline constexpr char kFormatKey[] = "format";
inline constexpr char kFormatMarker[] = "kv-store 1";
inline constexpr char kRevisionKey[] = "rev";
inline constexpr char kEventFloorKey[] = "floor";

// One stored version of a key.
struct Record {
  int64_t expire_at_ms = 0;  // 0: no TTL
  uint64_t revision = 0;     // of the last write: the ETag
  uint64_t create_revision = 0;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::string content_type;
  std::string value;
};

enum class EventType : uint8_t { kCreate = 1, kUpdate = 2, kDelete = 3, kExpire = 4 };
const char* EventTypeName(EventType type);

// One change, as the event log keeps it.
struct Event {
  uint64_t revision = 0;
  EventType type = EventType::kCreate;
  int64_t time_ms = 0;
  int64_t expire_at_ms = 0;  // of the key after the change (0: none)
  uint64_t value_size = 0;
  bool has_value = false;  // false when the value was over the event size limit
  std::string ns;
  std::string key;
  std::string content_type;
  std::string value;  // the new value; for delete and expire, the last value
};

// How far the webhook dispatcher got with one webhook (kept beside its
// definition, so deleting a webhook deletes both in one batch).
struct WebhookProgress {
  uint64_t cursor = 0;     // every event up to this revision has been dealt with
  uint64_t delivered = 0;  // events a receiver answered with a 2xx
  uint64_t failed = 0;     // events given up on: answered with a status that is not retried
  uint64_t attempts = 0;   // attempts so far at the pending event (0: nothing pending)
  int64_t last_status = 0;      // HTTP status of the last attempt; 0: none, or no answer
  int64_t last_attempt_ms = 0;  // 0: never
  int64_t last_success_ms = 0;  // 0: never
  std::string last_error;       // why the last attempt failed; empty when it did not
};
std::string EncodeWebhookProgress(const WebhookProgress& p);
std::optional<WebhookProgress> DecodeWebhookProgress(std::string_view bytes);

void PutFixed64(std::string* dst, uint64_t v);
uint64_t DecodeFixed64(const char* p);
void PutBigEndian64(std::string* dst, uint64_t v);
uint64_t DecodeBigEndian64(const char* p);

std::string DataKey(std::string_view ns, std::string_view key);
// Splits a data key into namespace and key; false if it is not one.
bool SplitDataKey(std::string_view data_key, std::string_view* ns, std::string_view* key);

std::string EncodeRecord(const Record& r);
// Decodes a whole record, or only its header when `with_value` is false.
// nullopt when the bytes are not a record of this format.
std::optional<Record> DecodeRecord(std::string_view bytes, bool with_value = true);
// The expiry of an encoded record without decoding the rest (compaction
// filter's hot path); nullopt when the bytes are not a record.
std::optional<int64_t> RecordExpireAt(std::string_view bytes);
// Size of the value inside an encoded record.
std::optional<uint64_t> RecordValueSize(std::string_view bytes);

std::string ExpiryKey(int64_t expire_at_ms, std::string_view data_key);
struct ExpiryEntry {
  int64_t expire_at_ms;
  std::string_view data_key;
  uint64_t revision;
  uint64_t usage_bytes;
};
std::optional<ExpiryEntry> DecodeExpiry(std::string_view key, std::string_view value);
std::string EncodeExpiryValue(uint64_t revision, uint64_t usage_bytes);

std::string EventKey(uint64_t revision);
std::string EncodeEvent(const Event& e);
// An event's fixed fields, for writers that encode one without an Event.
struct EventHead {
  EventType type;
  bool has_value;
  int64_t time_ms;
  int64_t expire_at_ms;
  uint64_t value_size;
};
// Everything of an encoded event but its value, which follows it (when
// has_value): a writer can append the value from where it already is.
std::string EncodeEventPrefix(const EventHead& e, std::string_view ns, std::string_view key,
                              std::string_view content_type);
std::optional<Event> DecodeEvent(std::string_view key, std::string_view value);

// Keys of the webhooks family: a definition (kind 'd') or its progress
// (kind 'p'). With an empty id: the prefix of the namespace's webhooks.
std::string WebhookKey(char kind, std::string_view ns, std::string_view id);
// Splits a webhooks-family key; false if it is not one.
bool SplitWebhookKey(std::string_view k, char* kind, std::string_view* ns, std::string_view* id);

std::string UsageKey(std::string_view ns);
std::string QuotaKey(std::string_view ns);
// Usage values: fixed64 keys, fixed64 bytes, as two's complement deltas that
// the "kv.usage_add" merge operator adds up.
std::string EncodeUsage(int64_t keys, int64_t bytes);
bool DecodeUsage(std::string_view v, int64_t* keys, int64_t* bytes);

}  // namespace kv::store
