// The Backend contract, run over every remote backend against a real server
// started by the test: etcd (Debian's etcd-server) and keyvalue.dev (a real
// kvd's /v1 API over TCP with a token, through libkv_remote.so). What a
// backend cannot do must fail with Unsupported and the message
// "<backend> does not support <operation>", never a substitute.
//
// Invoke is not here (it stores JSON and text only, and has no meta): kv's
// Invoke backend is tested against kvd's /invoke API in
// tests/e2e/compat_api_test.cc.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "tests/client/remote_support.h"
#include "tests/e2e/kvd_process.h"

namespace kv::testing {
namespace {

using client::Backend;
using client::Condition;
using client::Scope;
using client::SetOptions;

struct EtcdWorld {
  EtcdWorld() { REQUIRE(etcd.Start()); }
  std::unique_ptr<Backend> Open(Scope scope = {}) { return OpenRemote(etcd.url(), scope); }
  EtcdCluster etcd{1};
};

// keyvalue.dev = a kvd's /v1 API over TCP, with a token made over its socket.
struct KeyValueDevWorld {
  KeyValueDevWorld() {
    REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock"),
                       "--listen", "127.0.0.1:0"}));
    client::ConnectOptions admin;
    admin.url = "unix://" + dir.Sub("kvd.sock");
    auto local = client::OpenBackend(admin);
    REQUIRE(local.ok());
    auto made = (*local)->CreateToken("acme");
    REQUIRE(made.ok());
    token = made->token;
  }
  std::unique_ptr<Backend> Open(Scope scope = {}) {
    return OpenRemote("kvdev+http://127.0.0.1:" + std::to_string(kvd.tcp_port()) + "/v1", scope,
                      token);
  }
  TempDir dir{"kv-kvdev"};
  KvdProcess kvd{KVD_PATH};
  std::string token;
};

std::string AllBytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

void CheckUnsupported(const Status& s, const std::string& backend, const std::string& op) {
  INFO(s.ToString());
  CHECK(s.code() == Status::Code::kUnsupported);
  CHECK(s.message() == backend + " does not support " + op);
}

SetOptions If(Condition::Kind kind, std::string etag = "") {
  SetOptions o;
  o.condition.kind = kind;
  o.condition.etag = std::move(etag);
  return o;
}

TEMPLATE_TEST_CASE("backend contract: get / set / meta / del keep exact bytes", "[remote]",
                   EtcdWorld, KeyValueDevWorld) {
  TestType world;
  auto b = world.Open();
  CHECK(b->Get("missing").status().IsNotFound());
  CHECK(b->Meta("missing").status().IsNotFound());

  const std::string bytes = AllBytes();
  auto set = b->Set("bin", bytes, SetOptions{});
  REQUIRE(set.ok());
  CHECK_FALSE(set->etag.empty());
  auto got = b->Get("bin");
  REQUIRE(got.ok());
  CHECK(got->bytes == bytes);
  CHECK(got->meta.etag == set->etag);
  auto meta = b->Meta("bin");
  REQUIRE(meta.ok());
  CHECK(meta->size == 256);
  CHECK(meta->etag == set->etag);

  // Keys with '/', spaces and UTF-8; an empty value; JSON.
  for (const std::string key : {"a/b c/\xc3\xbc", "x?y#z%", "meta/meta"}) {
    REQUIRE(b->Set(key, "v:" + key, SetOptions{}).ok());
    auto v = b->Get(key);
    INFO(key << ": " << v.status().ToString());
    REQUIRE(v.ok());
    CHECK(v->bytes == "v:" + key);
  }
  REQUIRE(b->Set("empty", "", SetOptions{}).ok());
  REQUIRE(b->Get("empty").ok());
  CHECK(b->Get("empty")->bytes.empty());
  SetOptions json;
  json.content_type = "application/json";
  REQUIRE(b->Set("doc", R"({"name":"Ada"})", json).ok());
  CHECK(b->Get("doc")->bytes == R"({"name":"Ada"})");
  CHECK(b->Meta("doc")->content_type == "application/json");

  // Overwriting changes the ETag.
  auto again = b->Set("bin", "other", SetOptions{});
  REQUIRE(again.ok());
  CHECK(again->etag != set->etag);

  REQUIRE(b->Delete("bin", Condition{}).ok());
  CHECK(b->Get("bin").status().IsNotFound());
  CHECK(b->Delete("bin", Condition{}).status().IsNotFound());
}

TEMPLATE_TEST_CASE("backend contract: If-Match and If-None-Match", "[remote]", EtcdWorld,
                   KeyValueDevWorld) {
  TestType world;
  auto b = world.Open();
  auto created = b->Set("k", "v1", If(Condition::Kind::kIfAbsent));
  REQUIRE(created.ok());
  CHECK(b->Set("k", "v2", If(Condition::Kind::kIfAbsent)).status().IsPreconditionFailed());
  CHECK(b->Get("k")->bytes == "v1");

  auto updated = b->Set("k", "v2", If(Condition::Kind::kIfMatch, created->etag));
  REQUIRE(updated.ok());
  CHECK(b->Set("k", "v3", If(Condition::Kind::kIfMatch, created->etag))
            .status()
            .IsPreconditionFailed());
  CHECK(b->Get("k")->bytes == "v2");
  CHECK(b->Set("nope", "v", If(Condition::Kind::kIfMatch, updated->etag))
            .status()
            .IsPreconditionFailed());
  CHECK(b->Get("nope").status().IsNotFound());

  // Of several writers with the same ETag, exactly one wins.
  // (Catch's assertions are not thread-safe: the threads only count.)
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  const std::string etag = b->Meta("k")->etag;
  std::vector<std::unique_ptr<Backend>> writers;
  for (int i = 0; i < 4; ++i) writers.push_back(world.Open());
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      if (writers[i]->Set("k", "w" + std::to_string(i), If(Condition::Kind::kIfMatch, etag)).ok()) {
        ++wins;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wins == 1);

  if (b->Name() == "keyvalue.dev") {
    CheckUnsupported(b->Set("k", "v", If(Condition::Kind::kIfExists)).status(), "keyvalue.dev",
                     "--if-exists");
    Condition c;
    c.kind = Condition::Kind::kIfMatch;
    c.etag = b->Meta("k")->etag;
    CheckUnsupported(b->Delete("k", c).status(), "keyvalue.dev", "conditional deletes");
  } else {
    CHECK(b->Set("absent", "v", If(Condition::Kind::kIfExists)).status().IsPreconditionFailed());
    REQUIRE(b->Set("k", "v4", If(Condition::Kind::kIfExists)).ok());
    Condition stale;
    stale.kind = Condition::Kind::kIfMatch;
    stale.etag = etag;
    CHECK(b->Delete("k", stale).status().IsPreconditionFailed());
    Condition current = stale;
    current.etag = b->Meta("k")->etag;
    CHECK(b->Delete("k", current).ok());
    CHECK(b->Delete("k", current).status().IsPreconditionFailed());  // as kvd: 412 when missing
  }
}

TEMPLATE_TEST_CASE("backend contract: TTL", "[remote]", EtcdWorld, KeyValueDevWorld) {
  TestType world;
  auto b = world.Open();
  SetOptions ttl;
  ttl.ttl_ms = 60'000;
  if (!b->Caps().ttl) {
    CheckUnsupported(b->Set("t", "v", ttl).status(), b->Name(), "TTL");
    CheckUnsupported(b->Expire("t", 1000).status(), b->Name(), "expire");
    CheckUnsupported(b->Persist("t").status(), b->Name(), "persist");
    return;
  }
  REQUIRE(b->Set("t", "v", ttl).ok());
  auto meta = b->Meta("t");
  REQUIRE(meta.ok());
  CHECK(meta->ttl_ms > 50'000);
  CHECK(meta->ttl_ms <= 60'000);
  CHECK(b->Get("t")->meta.ttl_ms > 50'000);

  // --keep-ttl keeps it; a plain set removes it.
  SetOptions keep;
  keep.keep_ttl = true;
  REQUIRE(b->Set("t", "v2", keep).ok());
  CHECK(b->Meta("t")->ttl_ms > 50'000);
  REQUIRE(b->Set("t", "v3", SetOptions{}).ok());
  CHECK(b->Meta("t")->ttl_ms == -1);

  auto expiring = b->Expire("t", 30'000);
  REQUIRE(expiring.ok());
  CHECK(b->Meta("t")->ttl_ms > 20'000);
  CHECK(b->Get("t")->bytes == "v3");
  REQUIRE(b->Persist("t").ok());
  CHECK(b->Meta("t")->ttl_ms == -1);
  CHECK(b->Get("t")->bytes == "v3");
  CHECK(b->Expire("missing", 1000).status().IsNotFound());
  CHECK(b->Persist("missing").status().IsNotFound());

  // A short TTL runs out (etcd: leases are whole seconds, 2 s at least).
  SetOptions brief;
  brief.ttl_ms = 1000;
  REQUIRE(b->Set("brief", "v", brief).ok());
  REQUIRE(b->Get("brief").ok());
  auto deadline = std::chrono::steady_clock::now() + 8s;
  while (b->Get("brief").ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  CHECK(b->Get("brief").status().IsNotFound());
}

TEMPLATE_TEST_CASE("backend contract: ls by prefix a page at a time", "[remote]", EtcdWorld,
                   KeyValueDevWorld) {
  TestType world;
  auto b = world.Open();
  client::ListRequest q;
  if (!b->Caps().list) {
    CheckUnsupported(b->List(q).status(), b->Name(), "ls");
    return;
  }
  std::set<std::string> want;
  for (int i = 0; i < 25; ++i) {
    std::string key = "p/" + std::to_string(100 + i);
    REQUIRE(b->Set(key, "value " + key, SetOptions{}).ok());
    want.insert(key);
  }
  for (const char* other : {"o", "q", "p"}) REQUIRE(b->Set(other, "x", SetOptions{}).ok());
  q.prefix = "p/";
  q.limit = 7;
  q.values = true;
  std::vector<std::string> seen;
  int pages = 0;
  for (;;) {
    auto page = b->List(q);
    REQUIRE(page.ok());
    ++pages;
    for (const auto& k : page->keys) {
      seen.push_back(k.meta.key);
      REQUIRE(k.value);
      CHECK(*k.value == "value " + k.meta.key);
      CHECK(k.meta.size == k.value->size());
    }
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
    REQUIRE(pages < 20);
  }
  CHECK(pages >= 4);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == want);
  CHECK(seen.size() == want.size());

  client::ListRequest where;
  where.where.push_back("a=1");
  if (!b->Caps().where) CheckUnsupported(b->List(where).status(), b->Name(), "ls --where");
}

TEMPLATE_TEST_CASE("backend contract: incr and patch are atomic", "[remote]", EtcdWorld,
                   KeyValueDevWorld) {
  TestType world;
  auto b = world.Open();
  if (!b->Caps().incr) {
    CheckUnsupported(b->Incr("n", 1).status(), b->Name(), "incr");
  } else {
    CHECK(*b->Incr("n", 1) == "1");
    CHECK(*b->Incr("n", 41) == "42");
    CHECK(*b->Incr("n", -50) == "-8");
    CHECK(b->Get("n")->bytes == "-8");
    REQUIRE(b->Set("s", "text", SetOptions{}).ok());
    auto bad = b->Incr("s", 1);
    CHECK_FALSE(bad.ok());
    CHECK(bad.status().code() != Status::Code::kUnavailable);
    SetOptions ttl;
    ttl.ttl_ms = 60'000;
    if (b->Caps().ttl) {
      REQUIRE(b->Set("counted", "5", ttl).ok());
      CHECK(*b->Incr("counted", 1) == "6");
      CHECK(b->Meta("counted")->ttl_ms > 0);  // incr keeps the TTL
    }
    std::vector<std::thread> threads;
    std::vector<std::unique_ptr<Backend>> writers;
    for (int t = 0; t < 4; ++t) writers.push_back(world.Open());
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 25; ++i) {
          if (!writers[t]->Incr("shared", 1).ok()) ++failures;
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    CHECK(b->Get("shared")->bytes == "100");
  }
  if (!b->Caps().patch) {
    CheckUnsupported(b->Patch("doc", "{}").status(), b->Name(), "patch");
  } else {
    CHECK(Json::parse(*b->Patch("doc", R"({"a":1,"b":{"c":2}})")) ==
          Json::parse(R"({"a":1,"b":{"c":2}})"));
    CHECK(Json::parse(*b->Patch("doc", R"({"b":{"c":null,"d":3}})")) ==
          Json::parse(R"({"a":1,"b":{"d":3}})"));
    CHECK(Json::parse(b->Get("doc")->bytes) == Json::parse(R"({"a":1,"b":{"d":3}})"));
    REQUIRE(b->Set("text", "plain", SetOptions{}).ok());
    CHECK_FALSE(b->Patch("text", R"({"a":1})").ok());
  }
}

TEMPLATE_TEST_CASE("backend contract: clear and stats and scopes", "[remote]", EtcdWorld,
                   KeyValueDevWorld) {
  TestType world;
  auto b = world.Open();
  if (!b->Caps().clear) {
    CheckUnsupported(b->Clear("").status(), b->Name(), "clear");
    CheckUnsupported(b->Clear("p").status(), b->Name(), "del --prefix");
  }
  if (!b->Caps().stats) CheckUnsupported(b->Stats(false).status(), b->Name(), "stats");
  Scope other{"other", "app2"};
  auto o = world.Open(other);
  if (b->Name() == "keyvalue.dev") {
    CheckUnsupported(o->Get("k").status(), "keyvalue.dev",
                     "namespaces (a token's tenant has one bucket)");
    return;
  }
  REQUIRE(b->Set("k", "default", SetOptions{}).ok());
  REQUIRE(b->Set("k2", "default", SetOptions{}).ok());
  REQUIRE(o->Set("k", "other", SetOptions{}).ok());
  CHECK(b->Get("k")->bytes == "default");
  CHECK(o->Get("k")->bytes == "other");
  auto stats = b->Stats(false);
  REQUIRE(stats.ok());
  REQUIRE(stats->size() == 1);
  CHECK((*stats)[0].keys == 2);
  REQUIRE(b->Set("p:1", "x", SetOptions{}).ok());
  REQUIRE(b->Set("p:2", "x", SetOptions{}).ok());
  REQUIRE(o->Set("p:3", "x", SetOptions{}).ok());
  auto under = b->Clear("p:");  // only the scope's keys under the prefix
  REQUIRE(under.ok());
  CHECK(*under == 2);
  CHECK(b->Get("p:1").status().IsNotFound());
  CHECK(o->Get("p:3").ok());
  auto cleared = b->Clear("");
  REQUIRE(cleared.ok());
  CHECK(*cleared == 2);
  CHECK(b->Get("k").status().IsNotFound());
  CHECK(o->Get("k")->bytes == "other");
  b->SetScope(other);
  CHECK(b->Get("k")->bytes == "other");
}

TEMPLATE_TEST_CASE("backend contract: watch replays from a revision and follows", "[remote]",
                   EtcdWorld, KeyValueDevWorld) {
  TestType world;
  auto b = world.Open();
  client::WatchRequest q;
  q.prefix = "w";
  if (!b->Caps().watch) {
    CheckUnsupported(b->Watch(q, [](const client::Event&) { return true; }), b->Name(), "watch");
    return;
  }
  auto first = b->Set("w1", "a", SetOptions{});
  REQUIRE(first.ok());
  REQUIRE(b->Set("w1", "b", SetOptions{}).ok());
  REQUIRE(b->Set("other", "x", SetOptions{}).ok());
  REQUIRE(b->Delete("w1", Condition{}).ok());

  q.since = first->revision - 1;
  q.follow = false;
  std::vector<client::Event> events;
  REQUIRE(b->Watch(q, [&](const client::Event& e) {
               events.push_back(e);
               return true;
             }).ok());
  REQUIRE(events.size() == 3);
  CHECK(events[0].type == "create");
  CHECK(events[0].key == "w1");
  CHECK(events[0].value == std::optional<std::string>("a"));
  CHECK(events[0].revision == first->revision);
  CHECK(events[1].type == "update");
  CHECK(events[2].type == "delete");
  CHECK(events[2].revision > events[1].revision);

  // Live: a watcher on its own connection sees what is written after it.
  q.since.reset();
  q.follow = true;
  std::vector<std::string> live;
  std::atomic<bool> started{false};
  Status watched;
  auto mine = world.Open();
  std::thread watcher([&] {
    started = true;
    watched = mine->Watch(q, [&](const client::Event& e) {
      live.push_back(e.type + " " + e.key);
      return live.size() < 2;
    });
  });
  while (!started) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(500ms);
  CHECK(b->Set("nope", "x", SetOptions{}).ok());  // no REQUIRE while the thread runs
  CHECK(b->Set("w2", "x", SetOptions{}).ok());
  CHECK(b->Set("w2", "y", SetOptions{}).ok());
  watcher.join();
  CHECK(watched.ok());
  CHECK(live == std::vector<std::string>{"create w2", "update w2"});
}

TEMPLATE_TEST_CASE("backend contract: token administration is kvd's alone", "[remote]",
                   EtcdWorld, KeyValueDevWorld) {
  TestType world;
  auto b = world.Open();
  CHECK_FALSE(b->Caps().tokens);
  CheckUnsupported(b->CreateToken("acme").status(), b->Name(), "token administration");
  CheckUnsupported(b->ListTokens().status(), b->Name(), "token administration");
  CheckUnsupported(b->RevokeToken("x"), b->Name(), "token administration");
}

}  // namespace
}  // namespace kv::testing
