// Every operation of the store and every error it can give.
#include "daemon/store/store.h"

#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/daemon/store/store_fixture.h"

namespace kv::store {
namespace {

using testing::StoreFixture;

TEST_CASE_METHOD(StoreFixture, "put then get returns the exact bytes and content type",
                 "[rocksdb]") {
  std::string bin("\x00\x01\xff binary", 10);
  PutOptions o;
  o.content_type = "image/x-test";
  auto w = store->Put("ns", "k", bin, o);
  REQUIRE(w.ok());
  CHECK(w->created);
  CHECK(w->entry.revision > 0);
  auto g = store->Get("ns", "k");
  REQUIRE(g.ok());
  CHECK(g->value == bin);
  CHECK(g->content_type == "image/x-test");
  CHECK(g->value_size == bin.size());
  CHECK(g->revision == w->entry.revision);
  CHECK(g->created_ms == clock->NowMs());
}

TEST_CASE_METHOD(StoreFixture, "content type defaults to octet-stream", "[rocksdb]") {
  Set("k", "v");
  CHECK(store->Get("ns", "k")->content_type == "application/octet-stream");
}

TEST_CASE_METHOD(StoreFixture, "every write gets the next revision, overwrite keeps creation",
                 "[rocksdb]") {
  auto a = Set("a", "1");
  auto b = Set("b", "1");
  clock->Advance(5);
  auto a2 = Set("a", "2");
  CHECK(b.entry.revision == a.entry.revision + 1);
  CHECK(a2.entry.revision == b.entry.revision + 1);
  CHECK_FALSE(a2.created);
  auto g = store->Get("ns", "a");
  CHECK(g->create_revision == a.entry.revision);
  CHECK(g->revision == a2.entry.revision);
  CHECK(g->updated_ms == g->created_ms + 5);
}

TEST_CASE_METHOD(StoreFixture, "head returns metadata without the value", "[rocksdb]") {
  Set("k", "hello");
  auto h = store->Head("ns", "k");
  REQUIRE(h.ok());
  CHECK(h->value.empty());
  CHECK(h->value_size == 5);
  CHECK(store->Head("ns", "missing").status().IsNotFound());
}

TEST_CASE_METHOD(StoreFixture, "namespaces are isolated", "[rocksdb]") {
  Set("k", "one", 0, "a");
  Set("k", "two", 0, "b");
  CHECK(store->Get("a", "k")->value == "one");
  CHECK(store->Get("b", "k")->value == "two");
  REQUIRE(store->Delete("a", "k").ok());
  CHECK(store->Get("a", "k").status().IsNotFound());
  CHECK(store->Get("b", "k")->value == "two");
  CHECK(StatsOf("a").keys == 0);
  CHECK(StatsOf("b").keys == 1);
}

TEST_CASE_METHOD(StoreFixture, "bad keys, namespaces and values are refused and change nothing",
                 "[rocksdb]") {
  CHECK(store->Put("ns", "", "v", {}).status().IsInvalidArgument());
  CHECK(store->Put("ns", std::string("a\0b", 3), "v", {}).status().IsInvalidArgument());
  CHECK(store->Put("ns", std::string(1025, 'k'), "v", {}).status().IsTooLarge());
  CHECK(store->Put("", "k", "v", {}).status().IsInvalidArgument());
  CHECK(store->Put("ns", "k", std::string((10u << 20) + 1, 'v'), {}).status().IsTooLarge());
  PutOptions neg;
  neg.ttl_ms = -1;
  CHECK(store->Put("ns", "k", "v", neg).status().IsInvalidArgument());
  CHECK(store->Get("ns", std::string(1025, 'k')).status().IsTooLarge());
  CHECK(StatsOf().keys == 0);
  CHECK(store->CommittedRevision() == 0);
  // Exactly at the limits is fine.
  CHECK(store->Put("ns", std::string(1024, 'k'), std::string(10u << 20, 'v'), {}).ok());
}

TEST_CASE_METHOD(StoreFixture, "limits are configurable", "[rocksdb]") {
  auto o = Options();
  o.max_key_bytes = 4;
  o.max_value_bytes = 8;
  Reopen(o);
  CHECK(store->Put("ns", "abcd", "12345678", {}).ok());
  CHECK(store->Put("ns", "abcde", "1", {}).status().IsTooLarge());
  CHECK(store->Put("ns", "a", "123456789", {}).status().IsTooLarge());
}

TEST_CASE_METHOD(StoreFixture, "delete removes a key and reports a missing one", "[rocksdb]") {
  Set("k", "v");
  auto d = store->Delete("ns", "k");
  REQUIRE(d.ok());
  CHECK(*d == store->CommittedRevision());
  CHECK(store->Get("ns", "k").status().IsNotFound());
  CHECK(store->Delete("ns", "k").status().IsNotFound());
}

TEST_CASE_METHOD(StoreFixture, "if-match compares the ETag atomically", "[rocksdb]") {
  auto w = Set("k", "v1");
  PutOptions o;
  o.condition = Condition::IfMatch(w.entry.revision + 100);
  auto bad = store->Put("ns", "k", "v2", o);
  CHECK(bad.status().IsPreconditionFailed());
  CHECK(bad.status().message().find("if-match") != std::string::npos);
  CHECK(store->Get("ns", "k")->value == "v1");
  o.condition = Condition::IfMatch(w.entry.revision);
  REQUIRE(store->Put("ns", "k", "v2", o).ok());
  CHECK(store->Get("ns", "k")->value == "v2");
  // The old ETag no longer matches.
  CHECK(store->Put("ns", "k", "v3", o).status().IsPreconditionFailed());
  CHECK(store->Delete("ns", "k", Condition::IfMatch(w.entry.revision)).status().IsPreconditionFailed());
  CHECK(store->Get("ns", "k")->value == "v2");
  // On a missing key.
  o.condition = Condition::IfMatch(1);
  CHECK(store->Put("ns", "nope", "x", o).status().IsPreconditionFailed());
  CHECK(store->Get("ns", "nope").status().IsNotFound());
}

TEST_CASE_METHOD(StoreFixture, "if-absent creates only, if-exists updates only", "[rocksdb]") {
  PutOptions absent;
  absent.condition = Condition::IfAbsent();
  REQUIRE(store->Put("ns", "k", "first", absent).ok());
  auto again = store->Put("ns", "k", "second", absent);
  CHECK(again.status().IsPreconditionFailed());
  CHECK(again.status().message() == "if-absent: the key already exists");
  CHECK(store->Get("ns", "k")->value == "first");

  PutOptions exists;
  exists.condition = Condition::IfExists();
  CHECK(store->Put("ns", "other", "x", exists).status().IsPreconditionFailed());
  CHECK(store->Get("ns", "other").status().IsNotFound());
  REQUIRE(store->Put("ns", "k", "third", exists).ok());
  CHECK(store->Get("ns", "k")->value == "third");
}

TEST_CASE_METHOD(StoreFixture, "incr creates at zero, adds, and refuses non-integers",
                 "[rocksdb]") {
  auto a = store->Incr("ns", "n", 1);
  REQUIRE(a.ok());
  CHECK(a->entry.value == "1");
  CHECK(a->created);
  CHECK(store->Incr("ns", "n", 41)->entry.value == "42");
  CHECK(store->Incr("ns", "n", -50)->entry.value == "-8");
  CHECK(store->Get("ns", "n")->value == "-8");
  CHECK(store->Get("ns", "n")->content_type == "application/json");

  Set("text", "hello");
  auto bad = store->Incr("ns", "text", 1);
  CHECK(bad.status().IsInvalidArgument());
  CHECK(bad.status().message() == "value is not an integer");
  CHECK(store->Get("ns", "text")->value == "hello");
  Set("float", "1.5");
  CHECK(store->Incr("ns", "float", 1).status().IsInvalidArgument());

  Set("big", std::to_string(INT64_MAX));
  CHECK(store->Incr("ns", "big", 1).status().IsInvalidArgument());
  CHECK(store->Get("ns", "big")->value == std::to_string(INT64_MAX));
  CHECK(store->Incr("ns", "n", 1, Condition::IfAbsent()).status().IsPreconditionFailed());
}

TEST_CASE_METHOD(StoreFixture, "incr keeps the key's TTL", "[rocksdb]") {
  Set("n", "5", 10'000);
  auto r = store->Incr("ns", "n", 1);
  REQUIRE(r.ok());
  CHECK(r->entry.expire_at_ms == clock->NowMs() + 10'000);
}

TEST_CASE_METHOD(StoreFixture, "patch merges JSON per RFC 7396", "[rocksdb]") {
  Set("doc", R"({"a":"b","c":{"d":"e","f":"g"},"keep":1})");
  auto r = store->Patch("ns", "doc", R"({"a":"z","c":{"f":null},"new":[1,2]})");
  REQUIRE(r.ok());
  auto doc = nlohmann::json::parse(r->entry.value);
  CHECK(doc == nlohmann::json::parse(R"({"a":"z","c":{"d":"e"},"keep":1,"new":[1,2]})"));
  CHECK(store->Get("ns", "doc")->value == r->entry.value);
  CHECK(store->Get("ns", "doc")->content_type == "application/json");
  // Key order of the stored document is kept.
  CHECK(r->entry.value.find("\"a\"") < r->entry.value.find("\"keep\""));

  auto fresh = store->Patch("ns", "fresh", R"({"x":1})");
  REQUIRE(fresh.ok());
  CHECK(fresh->created);
  CHECK(fresh->entry.value == R"({"x":1})");
}

TEST_CASE_METHOD(StoreFixture, "patch refuses bad JSON and non-object values", "[rocksdb]") {
  Set("doc", R"({"a":1})");
  CHECK(store->Patch("ns", "doc", "{not json").status().IsInvalidArgument());
  Set("list", "[1,2]");
  auto r = store->Patch("ns", "list", R"({"a":1})");
  CHECK(r.status().IsInvalidArgument());
  CHECK(r.status().message() == "stored value is not a JSON object");
  CHECK(store->Get("ns", "list")->value == "[1,2]");
  Set("text", "plain");
  CHECK(store->Patch("ns", "text", R"({"a":1})").status().IsInvalidArgument());

  // Deeper than a tree may go (json::kMaxTreeDepth): refused, nothing written.
  std::string deep;
  for (int i = 0; i < 600; ++i) deep += R"({"a":)";
  deep += "1" + std::string(600, '}');
  auto deep_patch = store->Patch("ns", "doc", deep);
  CHECK(deep_patch.status().message() ==
        "the patch nests objects and arrays deeper than 512 levels");
  Set("deep", deep);
  auto onto_deep = store->Patch("ns", "deep", R"({"b":1})");
  CHECK(onto_deep.status().message() ==
        "the stored value nests objects and arrays deeper than 512 levels");
  CHECK(store->Get("ns", "deep")->value == deep);
  CHECK(store->Get("ns", "doc")->value == R"({"a":1})");
}

TEST_CASE_METHOD(StoreFixture, "list pages through a prefix in key order", "[rocksdb]") {
  for (int i = 0; i < 25; ++i) {
    char key[16];
    snprintf(key, sizeof key, "user:%03d", i);
    Set(key, "v" + std::to_string(i));
  }
  Set("other", "x");
  ListOptions o;
  o.prefix = "user:";
  o.limit = 10;
  std::vector<std::string> seen;
  int pages = 0;
  do {
    auto page = store->List("ns", o);
    REQUIRE(page.ok());
    for (const auto& e : page->entries) {
      seen.push_back(e.key);
      CHECK(e.value.empty());
      CHECK(e.value_size > 0);
    }
    o.cursor = page->next_cursor;
    ++pages;
  } while (!o.cursor.empty() && pages < 10);
  CHECK(pages == 3);
  REQUIRE(seen.size() == 25);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(seen.front() == "user:000");
  CHECK(seen.back() == "user:024");
}

TEST_CASE_METHOD(StoreFixture, "list with values, default limit and bad arguments",
                 "[rocksdb]") {
  Set("a", "1");
  Set("b", "2");
  ListOptions o;
  o.values = true;
  auto page = store->List("ns", o);
  REQUIRE(page.ok());
  REQUIRE(page->entries.size() == 2);
  CHECK(page->entries[1].value == "2");
  CHECK(page->next_cursor.empty());

  o.limit = kMaxListLimit + 1;
  CHECK(store->List("ns", o).status().IsInvalidArgument());
  o.limit = 1;
  o.cursor = "!!not-a-cursor!!";
  CHECK(store->List("ns", o).status().IsInvalidArgument());
  o.cursor.clear();
  o.prefix = "zzz";
  CHECK(store->List("ns", o)->entries.empty());
}

TEST_CASE_METHOD(StoreFixture, "a page of values holds a bounded number of bytes",
                 "[rocksdb]") {
  // 12 values of 1 MiB: a page with values stops once it holds
  // kListPageValueBytes (4 MiB) of them, whatever the limit; without values
  // the limit alone counts.
  const std::string mib(1 << 20, 'v');
  for (int i = 0; i < 12; ++i) Set("big:" + std::to_string(100 + i), mib + std::to_string(i));
  ListOptions o;
  o.prefix = "big:";
  o.values = true;
  std::vector<std::string> seen;
  int pages = 0;
  do {
    auto page = store->List("ns", o);
    REQUIRE(page.ok());
    size_t bytes = 0;
    for (const auto& e : page->entries) {
      CHECK(e.value == mib + std::to_string(std::stoi(e.key.substr(4)) - 100));
      bytes += e.value.size();
      seen.push_back(e.key);
    }
    CHECK(bytes < kListPageValueBytes + mib.size() + 8);
    o.cursor = page->next_cursor;
    ++pages;
  } while (!o.cursor.empty() && pages < 20);
  CHECK(pages == 3);
  REQUIRE(seen.size() == 12);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());

  o.values = false;
  o.cursor.clear();
  auto keys_only = store->List("ns", o);
  REQUIRE(keys_only.ok());
  CHECK(keys_only->entries.size() == 12);
  CHECK(keys_only->next_cursor.empty());
}

TEST_CASE_METHOD(StoreFixture, "list filters in the store", "[rocksdb]") {
  Set("u1", R"({"role":"admin"})");
  Set("u2", R"({"role":"user"})");
  Set("u3", R"({"role":"admin"})");
  ListOptions o;
  o.filter = [](const Entry& e) { return e.value.find("admin") != std::string::npos; };
  auto page = store->List("ns", o);
  REQUIRE(page.ok());
  REQUIRE(page->entries.size() == 2);
  CHECK(page->entries[0].key == "u1");
  CHECK(page->entries[1].key == "u3");
  CHECK(page->entries[0].value.empty());  // filtered on, but not asked for
}

TEST_CASE_METHOD(StoreFixture, "clear empties one namespace with delete events", "[rocksdb]") {
  for (int i = 0; i < 600; ++i) Set("k" + std::to_string(i), "v", 0, "gone");
  Set("k", "stays", 0, "kept");
  uint64_t before = store->CommittedRevision();
  auto n = store->Clear("gone");
  REQUIRE(n.ok());
  CHECK(*n == 600);
  CHECK(StatsOf("gone").keys == 0);
  CHECK(StatsOf("gone").bytes == 0);
  CHECK(store->List("gone", {})->entries.empty());
  CHECK(store->Get("kept", "k")->value == "stays");
  auto events = store->ReadEvents(before, 1000);
  REQUIRE(events.ok());
  CHECK(events->size() == 600);
  CHECK(events->front().type == EventType::kDelete);
  CHECK(*store->Clear("gone") == 0);
}

TEST_CASE_METHOD(StoreFixture, "clear with a prefix deletes only the keys under it", "[rocksdb]") {
  for (int i = 0; i < 300; ++i) Set("user:" + std::to_string(i), "v");
  Set("user", "no colon");
  Set("users:1", "other");
  Set("order:1", "kept");
  Set("user:ttl", "short", 1000);
  clock->Advance(2000);  // expired, not yet settled: it goes with an expire event
  uint64_t before = store->CommittedRevision();
  auto n = store->Clear("ns", "user:");
  REQUIRE(n.ok());
  CHECK(*n == 301);
  CHECK(StatsOf().keys == 3);
  CHECK(StatsOf().bytes == 4 + 8 + 7 + 5 + 7 + 4);
  ListOptions all;
  auto left = store->List("ns", all);
  REQUIRE(left.ok());
  REQUIRE(left->entries.size() == 3);
  CHECK(left->entries[0].key == "order:1");
  CHECK(left->entries[1].key == "user");
  CHECK(left->entries[2].key == "users:1");
  auto events = store->ReadEvents(before, 1000);
  REQUIRE(events.ok());
  CHECK(events->size() == 301);
  CHECK(std::count_if(events->begin(), events->end(),
                      [](const Event& e) { return e.type == EventType::kExpire; }) == 1);
  CHECK(*store->Clear("ns", "user:") == 0);
  CHECK(*store->Clear("ns", std::string("us\0", 3)) == 0);  // no key holds a NUL
  CHECK(StatsOf().keys == 3);
}

TEST_CASE_METHOD(StoreFixture, "stats count keys and bytes of keys plus values", "[rocksdb]") {
  Set("ab", "1234");
  Set("c", "12");
  CHECK(StatsOf().keys == 2);
  CHECK(StatsOf().bytes == 2 + 4 + 1 + 2);
  Set("ab", "1");  // overwrite shrinks
  CHECK(StatsOf().bytes == 2 + 1 + 1 + 2);
  REQUIRE(store->Delete("ns", "c").ok());
  CHECK(StatsOf().keys == 1);
  CHECK(StatsOf().bytes == 3);
  CHECK(StatsOf().quota_bytes == (uint64_t{1} << 30));
  auto all = store->ListNamespaces();
  REQUIRE(all.size() == 1);
  CHECK(all[0].ns == "ns");
}

TEST_CASE_METHOD(StoreFixture, "quota refuses a write that would exceed it", "[rocksdb]") {
  REQUIRE(store->SetQuota("ns", 20).ok());
  Set("k1", std::string(8, 'x'));  // 10 bytes
  Set("k2", std::string(8, 'x'));  // 20 bytes
  auto over = store->Put("ns", "k3", "x", {});
  CHECK(over.status().IsQuotaExceeded());
  CHECK(store->Get("ns", "k3").status().IsNotFound());
  CHECK(StatsOf().bytes == 20);
  // Growing an existing key is refused too; shrinking is allowed.
  CHECK(store->Put("ns", "k1", std::string(9, 'x'), {}).status().IsQuotaExceeded());
  CHECK(store->Put("ns", "k1", "x", {}).ok());
  CHECK(store->Put("ns", "k3", "x", {}).ok());
  // The quota survives a reopen; 0 restores the default.
  Reopen();
  CHECK(StatsOf().quota_bytes == 20);
  CHECK(StatsOf().bytes == 3 + 10 + 3);
  REQUIRE(store->SetQuota("ns", 0).ok());
  CHECK(StatsOf().quota_bytes == (uint64_t{1} << 30));
}

TEST_CASE_METHOD(StoreFixture, "default quota is configurable", "[rocksdb]") {
  auto o = Options();
  o.default_quota_bytes = 5;
  Reopen(o);
  CHECK(store->Put("ns", "k", "1234", {}).ok());
  CHECK(store->Put("ns", "k2", "1", {}).status().IsQuotaExceeded());
}

TEST_CASE_METHOD(StoreFixture, "every change is an event, readable from a revision",
                 "[rocksdb]") {
  Set("k", "v1");
  Set("k", "v2", 1000);
  REQUIRE(store->Delete("ns", "k").ok());
  auto events = store->ReadEvents(0, 100);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 3);
  CHECK((*events)[0].type == EventType::kCreate);
  CHECK((*events)[0].value == "v1");
  CHECK((*events)[1].type == EventType::kUpdate);
  CHECK((*events)[1].expire_at_ms == clock->NowMs() + 1000);
  CHECK((*events)[2].type == EventType::kDelete);
  CHECK((*events)[2].value == "v2");  // the last value, for webhooks
  CHECK((*events)[2].ns == "ns");
  CHECK((*events)[2].key == "k");
  for (size_t i = 1; i < events->size(); ++i) {
    CHECK((*events)[i].revision == (*events)[i - 1].revision + 1);
  }
  auto tail = store->ReadEvents((*events)[1].revision, 100);
  REQUIRE(tail->size() == 1);
  CHECK(tail->front().type == EventType::kDelete);
  CHECK(store->ReadEvents(store->CommittedRevision(), 10)->empty());
}

TEST_CASE_METHOD(StoreFixture, "events carry values only up to the configured size",
                 "[rocksdb]") {
  auto o = Options();
  o.event_value_max_bytes = 4;
  Reopen(o);
  Set("small", "1234");
  Set("big", "12345");
  auto events = store->ReadEvents(0, 10);
  REQUIRE(events->size() == 2);
  CHECK((*events)[0].has_value);
  CHECK_FALSE((*events)[1].has_value);
  CHECK((*events)[1].value.empty());
  CHECK((*events)[1].value_size == 5);
}

TEST_CASE_METHOD(StoreFixture, "old events are trimmed after the retention window",
                 "[rocksdb]") {
  auto o = Options();
  o.event_retention_ms = 60'000;
  Reopen(o);
  Set("a", "1");
  Set("b", "2");
  clock->Advance(61'000);
  Set("c", "3");
  REQUIRE(store->ExpireDue().ok());
  CHECK(store->EventFloor() == 2);
  auto old = store->ReadEvents(0, 10);
  CHECK(old.status().IsOutOfRange());
  auto kept = store->ReadEvents(2, 10);
  REQUIRE(kept.ok());
  REQUIRE(kept->size() == 1);
  CHECK(kept->front().key == "c");
  // Revisions keep counting across a reopen even with the log trimmed.
  clock->Advance(61'000);
  REQUIRE(store->ExpireDue().ok());
  Reopen(o);
  CHECK(Set("d", "4").entry.revision == 4);
}

TEST_CASE_METHOD(StoreFixture, "WaitForRevision wakes on a commit", "[rocksdb]") {
  uint64_t now = store->CommittedRevision();
  CHECK(store->WaitForRevision(now, 10) == now);  // times out
  std::thread writer([&] { Set("k", "v"); });
  CHECK(store->WaitForRevision(now, 5000) == now + 1);
  writer.join();
}

TEST_CASE_METHOD(StoreFixture, "data, usage and revisions survive a reopen", "[rocksdb]") {
  Set("k", "v", 0, "a");
  Set("k2", "v2", 0, "b");
  uint64_t rev = store->CommittedRevision();
  Reopen();
  CHECK(store->Get("a", "k")->value == "v");
  CHECK(StatsOf("a").keys == 1);
  CHECK(StatsOf("b").bytes == 4);
  CHECK(store->CommittedRevision() == rev);
  CHECK(Set("k3", "v").entry.revision == rev + 1);
}

}  // namespace
}  // namespace kv::store

namespace kv::store {
namespace {

std::vector<BatchPut> Batch(std::initializer_list<std::pair<const char*, const char*>> kvs) {
  std::vector<BatchPut> items;
  for (const auto& [k, v] : kvs) items.push_back(BatchPut{k, v, {}});
  return items;
}

TEST_CASE_METHOD(testing::StoreFixture, "a batch writes its puts together, in order",
                 "[rocksdb]") {
  uint64_t before = store->CommittedRevision();
  auto r = store->PutMany("ns", Batch({{"a", "1"}, {"b", "22"}, {"c", "333"}}));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  for (const Status& s : *r) CHECK(s.ok());
  CHECK(store->Get("ns", "b")->value == "22");
  CHECK(store->CommittedRevision() == before + 3);
  CHECK(StatsOf().keys == 3);
  CHECK(StatsOf().bytes == 1 + 1 + 1 + 2 + 1 + 3);
  auto events = store->ReadEvents(before, 10);
  REQUIRE(events->size() == 3);
  CHECK((*events)[0].key == "a");
  CHECK((*events)[2].key == "c");
  CHECK(store->Get("ns", "c")->revision == before + 3);
}

TEST_CASE_METHOD(testing::StoreFixture, "a batch checks each item's key and condition",
                 "[rocksdb]") {
  Set("exists", "old");
  std::vector<BatchPut> items = Batch({{"new", "1"}, {"exists", "2"}, {"", "3"}});
  items[1].options.condition = Condition::IfAbsent();
  items.push_back(BatchPut{std::string(2000, 'k'), "4", {}});
  auto r = store->PutMany("ns", items);
  REQUIRE(r.ok());
  CHECK((*r)[0].ok());
  CHECK((*r)[1].IsPreconditionFailed());
  CHECK((*r)[2].IsInvalidArgument());
  CHECK((*r)[3].IsTooLarge());
  CHECK(store->Get("ns", "new")->value == "1");
  CHECK(store->Get("ns", "exists")->value == "old");
  CHECK(StatsOf().keys == 2);
}

TEST_CASE_METHOD(testing::StoreFixture, "a later item on the same key sees the earlier one",
                 "[rocksdb]") {
  std::vector<BatchPut> items = Batch({{"k", "first"}, {"k", "second"}, {"k", "third"}});
  items[1].options.condition = Condition::IfAbsent();  // fails: "first" exists by then
  items[2].options.ttl_ms = 5000;
  auto r = store->PutMany("ns", items);
  REQUIRE(r.ok());
  CHECK((*r)[0].ok());
  CHECK((*r)[1].IsPreconditionFailed());
  CHECK((*r)[2].ok());
  auto g = store->Get("ns", "k");
  CHECK(g->value == "third");
  CHECK(g->create_revision + 1 == g->revision);
  CHECK(g->expire_at_ms == clock->NowMs() + 5000);
  CHECK(StatsOf().keys == 1);
  CHECK(StatsOf().bytes == 1 + 5);
  auto events = store->ReadEvents(0, 10);
  REQUIRE(events->size() == 2);
  CHECK((*events)[0].type == EventType::kCreate);
  CHECK((*events)[1].type == EventType::kUpdate);
  clock->Advance(6000);
  REQUIRE(store->ExpireDue().ok());
  CHECK(StatsOf().keys == 0);
}

TEST_CASE_METHOD(testing::StoreFixture, "a batch over the quota writes nothing", "[rocksdb]") {
  REQUIRE(store->SetQuota("ns", 9).ok());  // each item alone fits, both do not
  auto r = store->PutMany("ns", Batch({{"a", "1234"}, {"b", "1234"}}));
  CHECK(r.status().IsQuotaExceeded());
  CHECK(store->Get("ns", "a").status().IsNotFound());
  CHECK(StatsOf().bytes == 0);
  CHECK(store->CommittedRevision() == 0);
}

TEST_CASE_METHOD(testing::StoreFixture, "a batch is bounded", "[rocksdb]") {
  std::vector<BatchPut> items(kMaxBatchItems + 1, BatchPut{"k", "v", {}});
  CHECK(store->PutMany("ns", items).status().IsInvalidArgument());
}

}  // namespace
}  // namespace kv::store
