#include "daemon/store/layout.h"

#include <cstring>

namespace kv::store {
namespace {

constexpr uint8_t kRecordVersion = 1;
constexpr uint8_t kEventVersion = 1;
// version, expire_at, revision, create_revision, created, updated
constexpr size_t kRecordHeader = 1 + 8 * 5;

void PutString(std::string* dst, std::string_view s) {
  PutFixed64(dst, s.size());
  dst->append(s);
}

// Reads a length-prefixed string from `in`, advancing it; false on short input.
bool GetString(std::string_view* in, std::string_view* out) {
  if (in->size() < 8) return false;
  uint64_t n = DecodeFixed64(in->data());
  in->remove_prefix(8);
  if (n > in->size()) return false;
  *out = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

bool GetFixed64(std::string_view* in, uint64_t* out) {
  if (in->size() < 8) return false;
  *out = DecodeFixed64(in->data());
  in->remove_prefix(8);
  return true;
}

}  // namespace

const char* EventTypeName(EventType type) {
  switch (type) {
    case EventType::kCreate: return "create";
    case EventType::kUpdate: return "update";
    case EventType::kDelete: return "delete";
    case EventType::kExpire: return "expire";
  }
  return "unknown";
}

void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  dst->append(buf, 8);
}

uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

void PutBigEndian64(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xFF);
  dst->append(buf, 8);
}

uint64_t DecodeBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string DataKey(std::string_view ns, std::string_view key) {
  std::string k;
  k.reserve(ns.size() + 1 + key.size());
  k.append(ns);
  k.push_back('\0');
  k.append(key);
  return k;
}

bool SplitDataKey(std::string_view data_key, std::string_view* ns, std::string_view* key) {
  size_t pos = data_key.find('\0');
  if (pos == std::string_view::npos) return false;
  *ns = data_key.substr(0, pos);
  *key = data_key.substr(pos + 1);
  return true;
}

std::string EncodeRecord(const Record& r) {
  std::string out;
  out.reserve(kRecordHeader + 8 + r.content_type.size() + r.value.size());
  out.push_back(static_cast<char>(kRecordVersion));
  PutFixed64(&out, static_cast<uint64_t>(r.expire_at_ms));
  PutFixed64(&out, r.revision);
  PutFixed64(&out, r.create_revision);
  PutFixed64(&out, static_cast<uint64_t>(r.created_ms));
  PutFixed64(&out, static_cast<uint64_t>(r.updated_ms));
  PutString(&out, r.content_type);
  out.append(r.value);
  return out;
}

std::optional<Record> DecodeRecord(std::string_view bytes, bool with_value) {
  if (bytes.size() < kRecordHeader || static_cast<uint8_t>(bytes[0]) != kRecordVersion) {
    return std::nullopt;
  }
  Record r;
  const char* p = bytes.data() + 1;
  r.expire_at_ms = static_cast<int64_t>(DecodeFixed64(p));
  r.revision = DecodeFixed64(p + 8);
  r.create_revision = DecodeFixed64(p + 16);
  r.created_ms = static_cast<int64_t>(DecodeFixed64(p + 24));
  r.updated_ms = static_cast<int64_t>(DecodeFixed64(p + 32));
  std::string_view rest = bytes.substr(kRecordHeader);
  std::string_view ct;
  if (!GetString(&rest, &ct)) return std::nullopt;
  r.content_type.assign(ct);
  if (with_value) r.value.assign(rest);
  return r;
}

namespace {

// The content type's length when `bytes` has a record's shape (version,
// header, a content type that fits), as DecodeRecord checks it; nullopt
// otherwise. The shortcuts below check the same, so that no reader takes a
// damaged record for a record (the compaction filter would drop one whose
// garbage looks like a past expiry, before `kvd check` could report it).
std::optional<uint64_t> RecordContentTypeSize(std::string_view bytes) {
  if (bytes.size() < kRecordHeader + 8 || static_cast<uint8_t>(bytes[0]) != kRecordVersion) {
    return std::nullopt;
  }
  uint64_t ct = DecodeFixed64(bytes.data() + kRecordHeader);
  if (ct > bytes.size() - kRecordHeader - 8) return std::nullopt;
  return ct;
}

}  // namespace

std::optional<int64_t> RecordExpireAt(std::string_view bytes) {
  if (!RecordContentTypeSize(bytes)) return std::nullopt;
  return static_cast<int64_t>(DecodeFixed64(bytes.data() + 1));
}

std::optional<uint64_t> RecordValueSize(std::string_view bytes) {
  std::optional<uint64_t> ct = RecordContentTypeSize(bytes);
  if (!ct) return std::nullopt;
  return bytes.size() - kRecordHeader - 8 - *ct;
}

std::string ExpiryKey(int64_t expire_at_ms, std::string_view data_key) {
  std::string k;
  k.reserve(8 + data_key.size());
  PutBigEndian64(&k, static_cast<uint64_t>(expire_at_ms));
  k.append(data_key);
  return k;
}

std::string EncodeExpiryValue(uint64_t revision, uint64_t usage_bytes) {
  std::string v;
  PutFixed64(&v, revision);
  PutFixed64(&v, usage_bytes);
  return v;
}

std::optional<ExpiryEntry> DecodeExpiry(std::string_view key, std::string_view value) {
  if (key.size() < 9 || value.size() != 16) return std::nullopt;
  return ExpiryEntry{static_cast<int64_t>(DecodeBigEndian64(key.data())), key.substr(8),
                     DecodeFixed64(value.data()), DecodeFixed64(value.data() + 8)};
}

std::string EventKey(uint64_t revision) {
  std::string k;
  PutBigEndian64(&k, revision);
  return k;
}

std::string EncodeEventPrefix(const EventHead& e, std::string_view ns, std::string_view key,
                              std::string_view content_type) {
  std::string out;
  out.reserve(3 + 8 * 6 + ns.size() + key.size() + content_type.size());
  out.push_back(static_cast<char>(kEventVersion));
  out.push_back(static_cast<char>(e.type));
  out.push_back(e.has_value ? 1 : 0);
  PutFixed64(&out, static_cast<uint64_t>(e.time_ms));
  PutFixed64(&out, static_cast<uint64_t>(e.expire_at_ms));
  PutFixed64(&out, e.value_size);
  PutString(&out, ns);
  PutString(&out, key);
  PutString(&out, content_type);
  return out;
}

std::string EncodeEvent(const Event& e) {
  EventHead head{e.type, e.has_value, e.time_ms, e.expire_at_ms, e.value_size};
  std::string out = EncodeEventPrefix(head, e.ns, e.key, e.content_type);
  out.append(e.value);
  return out;
}

std::optional<Event> DecodeEvent(std::string_view key, std::string_view value) {
  if (key.size() != 8 || value.size() < 3 || static_cast<uint8_t>(value[0]) != kEventVersion) {
    return std::nullopt;
  }
  Event e;
  e.revision = DecodeBigEndian64(key.data());
  uint8_t type = static_cast<uint8_t>(value[1]);
  if (type < 1 || type > 4) return std::nullopt;
  e.type = static_cast<EventType>(type);
  e.has_value = value[2] != 0;
  std::string_view in = value.substr(3);
  uint64_t t, x;
  std::string_view ns, k, ct;
  if (!GetFixed64(&in, &t) || !GetFixed64(&in, &x) || !GetFixed64(&in, &e.value_size) ||
      !GetString(&in, &ns) || !GetString(&in, &k) || !GetString(&in, &ct)) {
    return std::nullopt;
  }
  e.time_ms = static_cast<int64_t>(t);
  e.expire_at_ms = static_cast<int64_t>(x);
  e.ns.assign(ns);
  e.key.assign(k);
  e.content_type.assign(ct);
  e.value.assign(in);
  return e;
}

namespace {
std::string MetaKey(char kind, std::string_view ns) {
  std::string k(1, kind);
  k.append(ns);
  return k;
}
}  // namespace

std::string UsageKey(std::string_view ns) { return MetaKey('u', ns); }
std::string QuotaKey(std::string_view ns) { return MetaKey('q', ns); }

std::string EncodeUsage(int64_t keys, int64_t bytes) {
  std::string v;
  PutFixed64(&v, static_cast<uint64_t>(keys));
  PutFixed64(&v, static_cast<uint64_t>(bytes));
  return v;
}

bool DecodeUsage(std::string_view v, int64_t* keys, int64_t* bytes) {
  if (v.size() != 16) return false;
  *keys = static_cast<int64_t>(DecodeFixed64(v.data()));
  *bytes = static_cast<int64_t>(DecodeFixed64(v.data() + 8));
  return true;
}

std::string WebhookKey(char kind, std::string_view ns, std::string_view id) {
  std::string out;
  out.reserve(2 + ns.size() + id.size());
  out.push_back(kind);
  out.append(ns).push_back('\0');
  out.append(id);
  return out;
}

bool SplitWebhookKey(std::string_view k, char* kind, std::string_view* ns, std::string_view* id) {
  if (k.size() < 2) return false;
  size_t nul = k.find('\0', 1);
  if (nul == std::string_view::npos) return false;
  *kind = k[0];
  *ns = k.substr(1, nul - 1);
  *id = k.substr(nul + 1);
  return true;
}

namespace {
constexpr uint8_t kWebhookProgressVersion = 1;
}  // namespace

std::string EncodeWebhookProgress(const WebhookProgress& p) {
  std::string out;
  out.push_back(static_cast<char>(kWebhookProgressVersion));
  PutFixed64(&out, p.cursor);
  PutFixed64(&out, p.delivered);
  PutFixed64(&out, p.failed);
  PutFixed64(&out, p.attempts);
  PutFixed64(&out, static_cast<uint64_t>(p.last_status));
  PutFixed64(&out, static_cast<uint64_t>(p.last_attempt_ms));
  PutFixed64(&out, static_cast<uint64_t>(p.last_success_ms));
  PutString(&out, p.last_error);
  return out;
}

std::optional<WebhookProgress> DecodeWebhookProgress(std::string_view bytes) {
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kWebhookProgressVersion) {
    return std::nullopt;
  }
  std::string_view in = bytes.substr(1);
  WebhookProgress p;
  uint64_t status, attempt, success;
  std::string_view error;
  if (!GetFixed64(&in, &p.cursor) || !GetFixed64(&in, &p.delivered) ||
      !GetFixed64(&in, &p.failed) || !GetFixed64(&in, &p.attempts) ||
      !GetFixed64(&in, &status) || !GetFixed64(&in, &attempt) || !GetFixed64(&in, &success) ||
      !GetString(&in, &error)) {
    return std::nullopt;
  }
  p.last_status = static_cast<int64_t>(status);
  p.last_attempt_ms = static_cast<int64_t>(attempt);
  p.last_success_ms = static_cast<int64_t>(success);
  p.last_error.assign(error);
  return p;
}

}  // namespace kv::store
