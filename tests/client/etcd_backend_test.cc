// The etcd backend against real etcd (Debian's etcd-server, started by the
// tests): simple-golang-kv's key layout, leases, fail-over between
// endpoints, a 3-member cluster losing a member mid-test, authentication,
// TLS with client certificates, compaction, and loading libkv_remote.so.
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <thread>

#include "tests/client/remote_support.h"

namespace kv::testing {
namespace {

using client::Condition;
using client::Scope;
using client::SetOptions;

TEST_CASE("etcd: keys are laid out as simple-golang-kv lays them out", "[remote][etcd]") {
  EtcdCluster etcd;
  REQUIRE(etcd.Start());
  auto b = OpenRemote(etcd.url(), Scope{"shop", "cart"});
  REQUIRE(b->Set("user:1", R"({"name":"Ada"})", SetOptions{}).ok());
  // Raw bytes, no envelope, under /kvstore/kv/{namespace}/{app}/{key}.
  CHECK(etcd.RawGet("/kvstore/kv/shop/cart/user:1") == std::optional<std::string>(R"({"name":"Ada"})"));

  // What simple-golang-kv writes, kv reads.
  etcd.RawPut("/kvstore/kv/shop/cart/from-go", "bar");
  CHECK(b->Get("from-go")->bytes == "bar");
  auto meta = b->Meta("from-go");
  REQUIRE(meta.ok());
  CHECK(meta->content_type == "application/octet-stream");
  CHECK(meta->ttl_ms == -1);

  // Another prefix (simple-golang-kv's BASE_KEY_PREFIX).
  auto other = OpenRemote(etcd.url() + "/?prefix=tenant-a", Scope{"shop", "cart"});
  REQUIRE(other->Set("k", "v", SetOptions{}).ok());
  CHECK(etcd.RawGet("/tenant-a/kv/shop/cart/k") == std::optional<std::string>("v"));
  CHECK(b->Get("k").status().IsNotFound());

  // Webhooks and locks of simple-golang-kv are not keys of the namespace.
  etcd.RawPut("/kvstore/webhooks/shop/cart/1234", "{}");
  auto all = b->Stats(true);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 1);
  CHECK((*all)[0].ns == "shop");
  CHECK((*all)[0].app == "cart");
  CHECK((*all)[0].keys == 2);
}

TEST_CASE("etcd: webhooks are kept where and as simple-golang-kv keeps them", "[remote][etcd]") {
  EtcdCluster etcd;
  REQUIRE(etcd.Start());
  auto b = OpenRemote(etcd.url(), Scope{"shop", "cart"});
  CHECK(b->Caps().webhooks);
  client::WebhookSpec spec;
  spec.key = "order:*";
  spec.event = "create";
  spec.endpoint = "http://127.0.0.1:9/hook";
  spec.method = "put";
  spec.headers_json = R"({"X-Token":"t"})";
  spec.payload_json = R"({"source":"kv"})";
  spec.add_event_data = true;
  auto added = b->AddWebhook(spec);
  INFO(added.status().ToString());
  REQUIRE(added.ok());
  REQUIRE(added->id.size() == 36);
  CHECK(added->id[14] == '4');  // a version 4 UUID

  // The Webhook struct's JSON at /kvstore/webhooks/{ns}/{app}/{id}.
  auto raw = etcd.RawGet("/kvstore/webhooks/shop/cart/" + added->id);
  REQUIRE(raw);
  auto hook = nlohmann::json::parse(*raw);
  CHECK(hook["id"] == added->id);
  CHECK(hook["namespace"] == "shop");
  CHECK(hook["appName"] == "cart");
  CHECK(hook["key"] == "order:*");
  CHECK(hook["event"] == "create");
  CHECK(hook["endpoint"] == "http://127.0.0.1:9/hook");
  CHECK(hook["method"] == "put");  // stored as given
  CHECK(hook["headers"] == nlohmann::json({{"X-Token", "t"}}));
  CHECK(hook["payload"] == nlohmann::json({{"source", "kv"}}));
  CHECK(hook["add_event_data"] == true);
  CHECK(hook["created_at"].get<int64_t>() > 1'700'000'000);

  // One that simple-golang-kv registered is listed and read alike.
  etcd.RawPut("/kvstore/webhooks/shop/cart/from-go",
              R"({"id":"from-go","namespace":"shop","appName":"cart","key":"user:1",)"
              R"("event":"delete","endpoint":"http://x/","method":"POST","add_event_data":false,)"
              R"("created_at":1700000000})");
  auto all = b->ListWebhooks("");
  REQUIRE(all.ok());
  CHECK(all->size() == 2);
  auto orders = b->ListWebhooks("order");
  REQUIRE(orders.ok());
  REQUIRE(orders->size() == 1);
  CHECK((*orders)[0].id == added->id);
  CHECK(b->GetWebhook("from-go")->event == "delete");

  // Update changes what it names; bad input changes nothing.
  client::WebhookSpec change;
  change.event = "update";
  REQUIRE(b->UpdateWebhook(added->id, change).ok());
  client::WebhookSpec bad;
  bad.event = "expire";
  auto refused = b->UpdateWebhook(added->id, bad);
  CHECK(refused.status().IsInvalidArgument());
  auto now = nlohmann::json::parse(*etcd.RawGet("/kvstore/webhooks/shop/cart/" + added->id));
  CHECK(now["event"] == "update");
  CHECK(now["endpoint"] == "http://127.0.0.1:9/hook");
  client::WebhookSpec empty;
  CHECK(b->AddWebhook(empty).status().IsInvalidArgument());

  // Delete; another scope sees none of them.
  REQUIRE(b->DeleteWebhook(added->id).ok());
  CHECK_FALSE(etcd.RawGet("/kvstore/webhooks/shop/cart/" + added->id));
  CHECK(b->DeleteWebhook(added->id).IsNotFound());
  CHECK(b->GetWebhook(added->id).status().IsNotFound());
  auto other = OpenRemote(etcd.url(), Scope{"shop", "other"});
  CHECK(other->ListWebhooks("")->empty());
}

TEST_CASE("etcd: a TTL is a lease and ETags are mod revisions", "[remote][etcd]") {
  EtcdCluster etcd;
  REQUIRE(etcd.Start());
  auto b = OpenRemote(etcd.url());
  SetOptions ttl;
  ttl.ttl_ms = 30'500;  // whole seconds, rounded up
  auto set = b->Set("session", "token", ttl);
  REQUIRE(set.ok());
  CHECK(set->ttl_ms == 31'000);
  int64_t lease = 0;
  CHECK(etcd.RawGet("/kvstore/kv/default/default/session", 0, &lease) ==
        std::optional<std::string>("token"));
  REQUIRE(lease != 0);
  Json ttl_reply = etcd.Raw("/v3/lease/timetolive", {{"ID", std::to_string(lease)}});
  CHECK(std::stoll(ttl_reply["grantedTTL"].get<std::string>()) == 31);

  Json range = etcd.Raw("/v3/kv/range", {{"key", Base64Encode("/kvstore/kv/default/default/session")}});
  CHECK(range["kvs"][0]["mod_revision"].get<std::string>() == set->etag);

  REQUIRE(b->Persist("session").ok());
  etcd.RawGet("/kvstore/kv/default/default/session", 0, &lease);
  CHECK(lease == 0);

  // A non-numeric ETag can never match.
  SetOptions bad;
  bad.condition.kind = Condition::Kind::kIfMatch;
  bad.condition.etag = "abc";
  CHECK(b->Set("session", "x", bad).status().IsPreconditionFailed());
}

TEST_CASE("etcd: bulk writes (kv import) go in txns and conditional ones alone", "[remote][etcd]") {
  EtcdCluster etcd;
  REQUIRE(etcd.Start());
  auto b = OpenRemote(etcd.url());
  REQUIRE(b->Set("taken", "old", SetOptions{}).ok());
  std::vector<client::BatchItem> items;
  for (int i = 0; i < 300; ++i) {
    client::BatchItem item;
    item.key = "bulk/" + std::to_string(i);
    item.value = std::string(static_cast<size_t>(i % 7) * 1000, 'x') + std::to_string(i);
    if (i % 3 == 0) item.options.ttl_ms = 60'000 + (i % 2) * 30'000;
    items.push_back(std::move(item));
  }
  client::BatchItem big;  // alone over etcd's request limit
  big.key = "big";
  big.value = std::string(2 << 20, 'b');
  items.push_back(big);
  client::BatchItem absent;
  absent.key = "taken";
  absent.value = "new";
  absent.options.condition.kind = Condition::Kind::kIfAbsent;
  items.push_back(absent);
  auto r = b->SetMany(items);
  REQUIRE(r.ok());
  REQUIRE(r->size() == items.size());
  for (int i = 0; i < 300; ++i) CHECK((*r)[static_cast<size_t>(i)].ok());
  INFO((*r)[300].ToString());
  CHECK((*r)[300].IsTooLarge());
  CHECK((*r)[301].IsPreconditionFailed());
  CHECK(b->Get("taken")->bytes == "old");
  CHECK(b->Get("bulk/299")->bytes == items[299].value);
  CHECK(b->Meta("bulk/3")->ttl_ms > 80'000);
  CHECK(b->Meta("bulk/6")->ttl_ms > 50'000);
  CHECK(b->Meta("bulk/6")->ttl_ms <= 60'000);
  CHECK(b->Meta("bulk/1")->ttl_ms == -1);
  Json leases = etcd.Raw("/v3/lease/leases", Json::object());
  CHECK(leases["leases"].size() == 2);  // one per TTL
  auto stats = b->Stats(false);
  REQUIRE(stats.ok());
  CHECK((*stats)[0].keys == 301);
}

TEST_CASE("etcd: fails over to the next endpoint and unreachable names the hosts", "[remote][etcd]") {
  EtcdCluster etcd;
  REQUIRE(etcd.Start());
  const std::string dead = "127.0.0.1:" + std::to_string(FreePort());
  auto b = OpenRemote("etcd://" + dead + "," + etcd.endpoint(0));
  REQUIRE(b->Set("k", "v", SetOptions{}).ok());  // a write that could not connect moves on
  CHECK(b->Get("k")->bytes == "v");

  auto gone = OpenRemote("etcd://" + dead);
  auto r = gone->Get("k");
  CHECK(r.status().code() == Status::Code::kUnavailable);
  CHECK(r.status().message().find(dead) != std::string::npos);

  const std::string dead2 = "127.0.0.1:" + std::to_string(FreePort());
  auto both = OpenRemote("etcd://" + dead + "," + dead2);
  r = both->Get("k");
  CHECK(r.status().code() == Status::Code::kUnavailable);
  CHECK(r.status().message().find(dead) != std::string::npos);
  CHECK(r.status().message().find(dead2) != std::string::npos);

  client::ConnectOptions bad_url;
  bad_url.url = "etcd://host:notaport";
  auto bad = client::OpenBackend(bad_url);
  CHECK(bad.status().IsInvalidArgument());
}

// A watch of `prefix` on a thread of its own, collecting "key=value" until
// it has `want` of them; subscribed once the constructor returns. No
// assertions on that thread: Catch's are not thread-safe.
struct BackgroundWatch {
  BackgroundWatch(client::Backend& backend, std::string prefix, size_t want) {
    std::atomic<bool> watching{false};
    thread = std::thread([&backend, prefix, want, &watching, this] {
      client::WatchRequest q;
      q.prefix = prefix;
      watching = true;
      status = backend.Watch(q, [&](const client::Event& e) {
        seen.push_back(e.key + "=" + e.value.value_or(""));
        return seen.size() < want;
      });
    });
    while (!watching) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(500ms);
  }
  ~BackgroundWatch() { Join(); }
  void Join() {
    if (thread.joinable()) thread.join();
  }

  std::vector<std::string> seen;
  Status status;
  std::thread thread;
};

TEST_CASE("etcd: a 3-member cluster loses a member mid-test and kv keeps working",
          "[remote][etcd]") {
  EtcdCluster etcd(3);
  REQUIRE(etcd.Start());
  // Member 0 may be the leader: writes wait for the election that follows
  // its death, which takes longer than usual on a loaded machine.
  client::ConnectOptions patient;
  patient.timeout_ms = 20'000;
  auto b = OpenRemote(etcd.url(), {}, "", patient);
  auto w = OpenRemote(etcd.url(), {}, "", patient);
  BackgroundWatch watch(*w, "c/", 20);
  // No REQUIRE while the watcher runs: a failed write kills the cluster so
  // that the watcher gives up and the thread can be joined.
  bool written = true;
  for (int i = 0; i < 10 && written; ++i) {
    written = b->Set("c/" + std::to_string(i), std::to_string(i), SetOptions{}).ok();
  }
  CHECK(written);
  // Both the writer and the watcher are on member 0: kill it.
  etcd.KillMember(0);
  for (int i = 10; i < 20 && written; ++i) {
    auto r = b->Set("c/" + std::to_string(i), std::to_string(i), SetOptions{});
    INFO(r.status().ToString());
    CHECK(r.ok());
    written = r.ok();
  }
  if (written) {
    CHECK(b->Get("c/3")->bytes == "3");
    CHECK(b->Get("c/19")->bytes == "19");
    CHECK(b->Incr("counter", 5).ok());
  } else {
    for (size_t m = 0; m < etcd.size(); ++m) etcd.KillMember(m);
  }
  watch.Join();
  REQUIRE(written);
  CHECK(watch.status.ok());
  REQUIRE(watch.seen.size() == 20);  // the watch resumed on another member, nothing lost or repeated
  for (int i = 0; i < 20; ++i) {
    CHECK(watch.seen[i] == "c/" + std::to_string(i) + "=" + std::to_string(i));
  }
}

// A lone etcd restarting: the watch waits for it (up to the timeout) and
// resumes after the last revision it delivered.
TEST_CASE("etcd: a watch outlives a restart of a lone etcd", "[remote][etcd]") {
  EtcdCluster etcd(1);
  REQUIRE(etcd.Start());
  client::ConnectOptions patient;
  patient.timeout_ms = 20'000;
  auto b = OpenRemote(etcd.url(), {}, "", patient);
  auto w = OpenRemote(etcd.url(), {}, "", patient);
  BackgroundWatch watch(*w, "r/", 10);
  bool written = true;
  for (int i = 0; i < 5 && written; ++i) {
    written = b->Set("r/" + std::to_string(i), std::to_string(i), SetOptions{}).ok();
  }
  etcd.KillMember(0);
  std::this_thread::sleep_for(3s);  // down for a while, as a restart of a host is
  const bool back = etcd.RestartMember(0);
  for (int i = 5; i < 10 && written && back; ++i) {
    written = b->Set("r/" + std::to_string(i), std::to_string(i), SetOptions{}).ok();
  }
  if (!written || !back) etcd.KillMember(0);  // the watcher gives up; the thread joins
  watch.Join();
  REQUIRE(back);
  REQUIRE(written);
  INFO(watch.status.ToString());
  CHECK(watch.status.ok());
  REQUIRE(watch.seen.size() == 10);
  for (int i = 0; i < 10; ++i) {
    CHECK(watch.seen[i] == "r/" + std::to_string(i) + "=" + std::to_string(i));
  }
}

TEST_CASE("etcd: user and password through /v3/auth/authenticate", "[remote][etcd]") {
  EtcdCluster etcd;
  REQUIRE(etcd.Start());
  etcd.Raw("/v3/auth/user/add", {{"name", "root"}, {"password", "rootpw"}});
  etcd.Raw("/v3/auth/user/grant", {{"user", "root"}, {"role", "root"}});
  Json enabled = etcd.Raw("/v3/auth/enable", Json::object());
  REQUIRE(enabled.contains("header"));

  client::ConnectOptions creds;
  creds.username = "root";
  creds.password = "rootpw";
  auto b = OpenRemote(etcd.url(), {}, "", creds);
  REQUIRE(b->Set("secret", "v", SetOptions{}).ok());
  CHECK(b->Get("secret")->bytes == "v");
  client::WatchRequest q;
  q.since = 1;
  q.follow = false;
  int events = 0;
  CHECK(b->Watch(q, [&](const client::Event&) { return ++events > 0; }).ok());
  CHECK(events == 1);

  auto anonymous = OpenRemote(etcd.url());
  auto r = anonymous->Get("secret");
  CHECK(r.status().code() == Status::Code::kUnauthorized);
  CHECK(r.status().message().find("--user") != std::string::npos);

  creds.password = "wrong";
  auto wrong = OpenRemote(etcd.url(), {}, "", creds);
  r = wrong->Get("secret");
  CHECK(r.status().code() == Status::Code::kUnauthorized);
  CHECK(r.status().message().find("root") != std::string::npos);
}

TEST_CASE("etcd: etcds:// with a CA and a client certificate from options or ETCD_ variables",
          "[remote][etcd]") {
  TempDir certs{"kv-certs"};
  REQUIRE(MakeCertificates(certs));
  EtcdCluster::Tls tls{certs.Sub("server.pem"), certs.Sub("server.key"), certs.Sub("ca.pem")};
  EtcdCluster etcd;
  REQUIRE(etcd.Start(&tls));
  REQUIRE(etcd.url().starts_with("etcds://"));

  client::ConnectOptions files;
  files.ca_file = certs.Sub("ca.pem");
  files.cert_file = certs.Sub("client.pem");
  files.key_file = certs.Sub("client.key");
  auto b = OpenRemote(etcd.url(), {}, "", files);
  auto set = b->Set("tls", "yes", SetOptions{});
  INFO(set.status().ToString());
  REQUIRE(set.ok());
  CHECK(b->Get("tls")->bytes == "yes");

  // The variables simple-golang-kv reads.
  ::setenv("ETCD_CA_FILE", files.ca_file.c_str(), 1);
  ::setenv("ETCD_CERT_FILE", files.cert_file.c_str(), 1);
  ::setenv("ETCD_KEY_FILE", files.key_file.c_str(), 1);
  auto from_env = OpenRemote(etcd.url());
  CHECK(from_env->Get("tls")->bytes == "yes");
  ::unsetenv("ETCD_CERT_FILE");
  ::unsetenv("ETCD_KEY_FILE");

  // Without a client certificate the server refuses; without the CA kv does.
  auto no_cert = OpenRemote(etcd.url());
  auto r = no_cert->Get("tls");
  CHECK_FALSE(r.ok());
  CHECK(r.status().message().find(etcd.endpoint(0)) != std::string::npos);
  ::unsetenv("ETCD_CA_FILE");
  client::ConnectOptions no_ca = files;
  no_ca.ca_file.clear();
  auto untrusted = OpenRemote(etcd.url(), {}, "", no_ca);
  r = untrusted->Get("tls");
  CHECK(r.status().code() == Status::Code::kUnavailable);
  CHECK(r.status().message().find("certificate") != std::string::npos);

  client::ConnectOptions half;
  half.cert_file = files.cert_file;
  ::setenv("KV_REMOTE_LIB", KV_REMOTE_LIB_PATH, 1);
  half.url = etcd.url();
  CHECK(client::OpenBackend(half).status().IsInvalidArgument());
}

TEST_CASE("etcd: watch --since a compacted revision is OutOfRange", "[remote][etcd]") {
  EtcdCluster etcd;
  REQUIRE(etcd.Start());
  auto b = OpenRemote(etcd.url());
  for (int i = 0; i < 5; ++i) REQUIRE(b->Set("k", std::to_string(i), SetOptions{}).ok());
  auto last = b->Set("k", "last", SetOptions{});
  REQUIRE(last.ok());
  etcd.Raw("/v3/kv/compaction", {{"revision", last->etag}, {"physical", true}});
  client::WatchRequest q;
  q.since = 1;
  q.follow = false;
  Status s = b->Watch(q, [](const client::Event&) { return true; });
  CHECK(s.IsOutOfRange());
  // From the compaction on, the replay works and ends.
  q.since = last->revision;
  REQUIRE(b->Set("k", "after", SetOptions{}).ok());
  std::vector<std::string> values;
  REQUIRE(b->Watch(q, [&](const client::Event& e) {
               values.push_back(e.value.value_or(""));
               return true;
             }).ok());
  CHECK(values == std::vector<std::string>{"after"});
}

TEST_CASE("remote backends: a missing or foreign library is a clear error", "[remote]") {
  TempDir dir{"kv-lib"};
  client::ConnectOptions o;
  o.url = "etcd://127.0.0.1:2379";
  // The library is loaded once per process: these run in their own process
  // (ctest runs each test case alone) only when nothing loaded it before.
  ::setenv("KV_REMOTE_LIB", dir.Sub("nope.so").c_str(), 1);
  auto r = client::OpenBackend(o);
  if (r.ok()) {
    WARN("libkv_remote.so was loaded earlier in this process; run this case alone");
    return;
  }
  CHECK(r.status().code() == Status::Code::kUnsupported);
  CHECK(r.status().message().find("nope.so") != std::string::npos);
  CHECK(r.status().message().find("KV_REMOTE_LIB") != std::string::npos);
  { std::ofstream(dir.Sub("junk.so")) << "not a library"; }
  ::setenv("KV_REMOTE_LIB", dir.Sub("junk.so").c_str(), 1);
  r = client::OpenBackend(o);
  CHECK(r.status().code() == Status::Code::kUnsupported);
  ::setenv("KV_REMOTE_LIB", KV_REMOTE_LIB_PATH, 1);
  CHECK(client::OpenBackend(o).ok());
}

}  // namespace
}  // namespace kv::testing
