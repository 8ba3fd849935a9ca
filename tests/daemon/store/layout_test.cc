#include "daemon/store/layout.h"

#include <catch2/catch.hpp>

namespace kv::store {

TEST_CASE("records round-trip and expose their expiry cheaply", "[unit]") {
  Record r;
  r.expire_at_ms = 1'700'000'123'456;
  r.revision = 42;
  r.create_revision = 7;
  r.created_ms = 1;
  r.updated_ms = 2;
  r.content_type = "application/json";
  r.value = std::string("{\"a\":1}\0binary", 14);
  std::string enc = EncodeRecord(r);
  auto back = DecodeRecord(enc);
  REQUIRE(back);
  CHECK(back->expire_at_ms == r.expire_at_ms);
  CHECK(back->revision == 42);
  CHECK(back->create_revision == 7);
  CHECK(back->content_type == r.content_type);
  CHECK(back->value == r.value);
  CHECK(*RecordExpireAt(enc) == r.expire_at_ms);
  CHECK(*RecordValueSize(enc) == r.value.size());
  CHECK(DecodeRecord(enc, false)->value.empty());
  CHECK_FALSE(DecodeRecord("garbage"));
  CHECK_FALSE(RecordExpireAt(""));
}

TEST_CASE("a damaged record is no record to any reader, the compaction filter's included",
          "[unit]") {
  Record r;
  r.expire_at_ms = 1;  // long past: the TTL filter drops what it takes for this record
  r.content_type = "text/plain";
  r.value = "v";
  std::string enc = EncodeRecord(r);
  std::string damaged = enc.substr(0, enc.size() - 3);  // the content type no longer fits
  CHECK_FALSE(DecodeRecord(damaged));
  CHECK_FALSE(RecordExpireAt(damaged));
  CHECK_FALSE(RecordValueSize(damaged));
  damaged = enc;
  damaged[0] = 2;  // another format version
  CHECK_FALSE(RecordValueSize(damaged));
}

TEST_CASE("data keys keep a namespace's keys together and in order", "[unit]") {
  CHECK(DataKey("ns", "a") < DataKey("ns", "b"));
  CHECK(DataKey("ns", "zzz") < DataKey("ns2", "a"));  // '\0' sorts before any name byte
  std::string_view ns, key;
  const std::string dk = DataKey("t/ns/app", "a/b");
  REQUIRE(SplitDataKey(dk, &ns, &key));
  CHECK(ns == "t/ns/app");
  CHECK(key == "a/b");
}

TEST_CASE("expiry keys sort by time", "[unit]") {
  CHECK(ExpiryKey(999, "z") < ExpiryKey(1000, "a"));
  std::string k = ExpiryKey(1234, DataKey("n", "k"));
  std::string v = EncodeExpiryValue(9, 100);
  auto e = DecodeExpiry(k, v);
  REQUIRE(e);
  CHECK(e->expire_at_ms == 1234);
  CHECK(e->data_key == DataKey("n", "k"));
  CHECK(e->revision == 9);
  CHECK(e->usage_bytes == 100);
}

TEST_CASE("events round-trip", "[unit]") {
  Event e;
  e.type = EventType::kExpire;
  e.time_ms = 5;
  e.expire_at_ms = 6;
  e.value_size = 3;
  e.has_value = true;
  e.ns = "n";
  e.key = "k";
  e.content_type = "text/plain";
  e.value = "abc";
  auto back = DecodeEvent(EventKey(77), EncodeEvent(e));
  REQUIRE(back);
  CHECK(back->revision == 77);
  CHECK(back->type == EventType::kExpire);
  CHECK(back->key == "k");
  CHECK(back->value == "abc");
  CHECK(std::string(EventTypeName(back->type)) == "expire");
  CHECK(EventKey(255) < EventKey(256));
}

}  // namespace kv::store
