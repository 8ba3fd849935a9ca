// End-to-end tests of webhooks: a real kvd process over TCP, simple-golang-kv's
// /webhooks API with its README's examples, and deliveries to real HTTP
// receivers on 127.0.0.1 (tests/support/http_receiver.h), through faults:
// a receiver that is down, answers 500 or hangs, and kvd killed with SIGKILL.
// Nothing is timed: every wait polls a condition with a bound.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/http_client.h"
#include "tests/e2e/kvd_process.h"
#include "tests/support/http_receiver.h"
#include "tests/support/temp_dir.h"

namespace kv::e2e {
namespace {

using kv::testing::HttpReceiver;
using kv::testing::KvdProcess;
using kv::testing::TempDir;
using namespace std::chrono_literals;

constexpr auto kWait = 60s;  // the bound of every wait for a delivery

// One request to kvd over TCP (no token: kvd runs with --no-auth).
Reply Call(uint16_t port, const std::string& method, const std::string& path,
           const std::string& body = "", const HeaderList& headers = {}) {
  Client client = Client::Tcp("http://127.0.0.1:" + std::to_string(port), "");
  return client.Call(method, path, body, headers);
}

const HeaderList kMyNs = {{"KV-Namespace", "myns"}, {"KV-App-Name", "myapp"}};

// kvd on TCP without tokens, retrying deliveries quickly.
class Daemon {
 public:
  explicit Daemon(const TempDir& dir, std::vector<std::string> flags = {})
      : dir_(dir), flags_(std::move(flags)) {
    Start();
  }
  void Start() {
    std::vector<std::string> args = {"--data-dir", dir_.Sub("data"), "--socket",
                                     dir_.Sub("kvd.sock"), "--listen", "127.0.0.1:0",
                                     "--no-auth", "--webhook-retry-min", "20ms",
                                     "--webhook-retry-max", "200ms", "--log-file",
                                     dir_.Sub("kvd.log")};
    args.insert(args.end(), flags_.begin(), flags_.end());
    REQUIRE(kvd_.Start(args));
  }
  KvdProcess& process() { return kvd_; }
  uint16_t port() const { return kvd_.tcp_port(); }
  std::string Log() const { return kv::testing::ReadWholeFile(dir_.Sub("kvd.log")); }

  // POST /webhooks; returns the id.
  std::string AddWebhook(const Json& body, const HeaderList& ns = kMyNs) {
    Reply r = Call(port(), "POST", "/webhooks", body.dump(), ns);
    INFO(r.body);
    REQUIRE(r.status == 201);
    return r.JsonBody().at("id").get<std::string>();
  }
  void Put(const std::string& key, const std::string& value, const std::string& query = "",
           const HeaderList& ns = kMyNs) {
    HeaderList headers = ns;
    headers.emplace_back("Content-Type", "text/plain");
    Reply r = Call(port(), "PUT", "/v1/kv/" + key + query, value, headers);
    INFO(r.body);
    REQUIRE((r.status == 200 || r.status == 201));
  }
  void Del(const std::string& key) {
    REQUIRE(Call(port(), "DELETE", "/v1/kv/" + key, "", kMyNs).status == 204);
  }
  // The native view of a webhook, with its delivery state.
  Json Native(const std::string& id) {
    Reply r = Call(port(), "GET", "/v1/webhooks/" + id, "", kMyNs);
    REQUIRE(r.status == 200);
    return r.JsonBody();
  }

 private:
  const TempDir& dir_;
  const std::vector<std::string> flags_;
  KvdProcess kvd_;
};

// Polls until `pred` holds (bounded).
template <class Pred>
bool Eventually(Pred pred, std::chrono::milliseconds bound = kWait) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// The "value" of each delivery's nested event, in arrival order.
std::vector<std::string> Values(const std::vector<HttpReceiver::Request>& requests) {
  std::vector<std::string> out;
  for (const auto& r : requests) {
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("event") && j["event"]["value"].is_string()) {
      out.push_back(j["event"]["value"].get<std::string>());
    }
  }
  return out;
}

// The values in order of first arrival (redeliveries are allowed: at least once).
std::vector<std::string> FirstArrivals(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& v : values) {
    if (seen.insert(v).second) out.push_back(v);
  }
  return out;
}

std::vector<std::string> Numbered(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

TEST_CASE("webhooks: register, get, list by pattern, update and delete as simple-golang-kv documents",
          "[e2e]") {
  TempDir dir("kv-wh");
  Daemon kvd(dir);
  // The README's registration example, verbatim.
  const Json example = Json::parse(R"({
    "key": "foo*",
    "event": "create",
    "endpoint": "https://example.com/webhook",
    "method": "POST",
    "headers": {"Authorization": "Bearer token123"},
    "payload": {"source": "kv-store"},
    "add_event_data": true
  })");
  const std::string id = kvd.AddWebhook(example);
  CHECK(id.size() == 36);
  CHECK(id[14] == '4');  // UUID v4

  Reply got = Call(kvd.port(), "GET", "/webhooks/" + id, "", kMyNs);
  REQUIRE(got.status == 200);
  Json w = got.JsonBody();
  CHECK(w["id"] == id);
  CHECK(w["namespace"] == "myns");
  CHECK(w["appName"] == "myapp");
  CHECK(w["key"] == "foo*");
  CHECK(w["event"] == "create");
  CHECK(w["endpoint"] == "https://example.com/webhook");
  CHECK(w["method"] == "POST");
  CHECK(w["headers"] == Json{{"Authorization", "Bearer token123"}});
  CHECK(w["payload"] == Json{{"source", "kv-store"}});
  CHECK(w["add_event_data"] == true);
  CHECK(w["created_at"].is_number_integer());

  // Another namespace does not see it.
  CHECK(Call(kvd.port(), "GET", "/webhooks/" + id).status == 404);

  const std::string other = kvd.AddWebhook(
      {{"key", "bar"}, {"event", "delete"}, {"endpoint", "http://127.0.0.1:9/x"}});
  Reply foo = Call(kvd.port(), "GET", "/webhooks/foo*", "", kMyNs);
  REQUIRE(foo.status == 200);
  REQUIRE(foo.JsonBody().size() == 1);
  CHECK(foo.JsonBody()[0]["id"] == id);
  CHECK(Call(kvd.port(), "GET", "/webhooks/*", "", kMyNs).JsonBody().size() == 2);
  Reply none = Call(kvd.port(), "GET", "/webhooks/zzz*", "", kMyNs);
  CHECK(none.status == 200);
  CHECK(none.JsonBody() == Json::array());

  // The README's update example.
  const Json update = Json::parse(R"({
    "key": "bar*",
    "event": "update",
    "endpoint": "https://example.com/webhook2",
    "method": "GET",
    "headers": {"X-Custom": "value"},
    "payload": {"updated": true},
    "add_event_data": false
  })");
  Reply put = Call(kvd.port(), "PUT", "/webhooks/" + id, update.dump(), kMyNs);
  REQUIRE(put.status == 200);
  Json after = put.JsonBody();
  CHECK(after["key"] == "bar*");
  CHECK(after["event"] == "update");
  CHECK(after["endpoint"] == "https://example.com/webhook2");
  CHECK(after["method"] == "GET");
  CHECK(after["headers"] == Json{{"X-Custom", "value"}});
  CHECK(after["payload"] == Json{{"updated", true}});
  CHECK(after["add_event_data"] == false);
  CHECK(after["created_at"] == w["created_at"]);
  CHECK(Call(kvd.port(), "GET", "/webhooks/" + id, "", kMyNs).JsonBody() == after);
  // A partial update changes only what it names.
  Reply partial = Call(kvd.port(), "PUT", "/webhooks/" + id, R"({"event":"delete"})", kMyNs);
  CHECK(partial.JsonBody()["event"] == "delete");
  CHECK(partial.JsonBody()["key"] == "bar*");
  CHECK(Call(kvd.port(), "PUT", "/webhooks/nope", R"({"event":"delete"})", kMyNs).status == 404);

  CHECK(Call(kvd.port(), "DELETE", "/webhooks/" + id, "", kMyNs).status == 204);
  Reply gone = Call(kvd.port(), "GET", "/webhooks/" + id, "", kMyNs);
  CHECK(gone.status == 404);
  CHECK(gone.JsonBody() == Json{{"error", "Webhook not found"}});
  CHECK(Call(kvd.port(), "DELETE", "/webhooks/" + id, "", kMyNs).status == 204);  // as recorded
  CHECK(Call(kvd.port(), "GET", "/webhooks/*", "", kMyNs).JsonBody().size() == 1);
  CHECK(Call(kvd.port(), "DELETE", "/webhooks/" + other, "", kMyNs).status == 204);
}

TEST_CASE("webhooks: bad registrations get simple-golang-kv's 400s and change nothing", "[e2e]") {
  TempDir dir("kv-wh");
  Daemon kvd(dir);
  struct Case {
    std::string body;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"not json", "Invalid input"},
      {R"({"key":1,"event":"create","endpoint":"http://x/"})", "Invalid input"},
      {R"({"key":"a","event":"create","endpoint":"http://x/","headers":{"A":1}})", "Invalid input"},
      {R"({"event":"create","endpoint":"http://x/"})", "Key must not be empty"},
      {R"({"key":"a","endpoint":"http://x/"})", "Event must not be empty"},
      {R"({"key":"a","event":"create"})", "Endpoint must not be empty"},
      {R"({"key":"a","event":"create","endpoint":"http://x/","method":"FETCH"})", "Invalid method"},
      {R"({"key":"a","event":"expire","endpoint":"http://x/"})",
       "Event must be one of: create, update, delete"},
      {R"({"key":"a","event":"create","endpoint":"ftp://x/"})",
       "Endpoint must be an http or https URL"},
  };
  for (const auto& c : cases) {
    Reply r = Call(kvd.port(), "POST", "/webhooks", c.body, kMyNs);
    INFO(c.body << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(r.JsonBody() == Json{{"error", c.error}});
  }
  CHECK(Call(kvd.port(), "GET", "/webhooks/*", "", kMyNs).JsonBody() == Json::array());

  // A lower-case method is valid and kept as given.
  const std::string id = kvd.AddWebhook(
      {{"key", "a"}, {"event", "create"}, {"endpoint", "http://127.0.0.1:9/"}, {"method", "put"}});
  CHECK(Call(kvd.port(), "GET", "/webhooks/" + id, "", kMyNs).JsonBody()["method"] == "put");
  Reply bad = Call(kvd.port(), "PUT", "/webhooks/" + id, R"({"event":"nope"})", kMyNs);
  CHECK(bad.status == 400);
  CHECK(bad.JsonBody() == Json{{"message", "Event must be one of: create, update, delete"}});
  CHECK(Call(kvd.port(), "GET", "/webhooks/" + id, "", kMyNs).JsonBody()["event"] == "create");
  CHECK(Call(kvd.port(), "GET", "/webhooks", "", kMyNs).status == 405);
}

TEST_CASE("webhooks: create, update and delete events reach a receiver with headers and payloads",
          "[e2e]") {
  TempDir dir("kv-wh");
  Daemon kvd(dir);
  HttpReceiver rx;
  REQUIRE(rx.Start());
  // One receiver path per webhook, so each one's deliveries can be told apart.
  kvd.AddWebhook({{"key", "user:*"},
                  {"event", "create"},
                  {"endpoint", rx.url("/created")},
                  {"headers", {{"Authorization", "Bearer token123"}}},
                  {"payload", {{"source", "kv-store"}}},
                  {"add_event_data", true}});
  kvd.AddWebhook({{"key", "user:1"},
                  {"event", "update"},
                  {"endpoint", rx.url("/updated")},
                  {"method", "PUT"},
                  {"add_event_data", true}});
  kvd.AddWebhook({{"key", "user:*"},
                  {"event", "delete"},
                  {"endpoint", rx.url("/deleted")},
                  {"payload", {{"n", 1}}}});
  kvd.AddWebhook({{"key", "user:2"}, {"event", "create"}, {"endpoint", rx.url("/bare")}});

  kvd.Put("other", "x");       // matches no pattern
  kvd.Put("user:1", "ada");    // create
  kvd.Put("user:1", "grace");  // update
  kvd.Put("user:2", "bob", "?ttl=1h");
  kvd.Del("user:1");

  auto at = [](const std::vector<HttpReceiver::Request>& all, const std::string& path) {
    std::vector<HttpReceiver::Request> out;
    for (const auto& r : all) {
      if (r.target == path) out.push_back(r);
    }
    return out;
  };
  REQUIRE(rx.WaitUntil(
      [&](const auto& all) {
        return at(all, "/created").size() >= 2 && at(all, "/updated").size() >= 1 &&
               at(all, "/deleted").size() >= 1 && at(all, "/bare").size() >= 1;
      },
      kWait));
  const auto all = rx.Requests();

  const auto created = at(all, "/created");
  REQUIRE(created.size() == 2);
  CHECK(created[0].method == "POST");
  CHECK(created[0].Header("Content-Type") == "application/json");
  CHECK(created[0].Header("User-Agent") == "github.com/mrofi/simple-golang-kv");
  CHECK(created[0].Header("Authorization") == "Bearer token123");
  Json c0 = Json::parse(created[0].body);
  CHECK(c0["source"] == "kv-store");
  CHECK(c0["event"]["event"] == "create");
  CHECK(c0["event"]["namespace"] == "myns");
  CHECK(c0["event"]["appName"] == "myapp");
  CHECK(c0["event"]["key"] == "user:1");
  CHECK(c0["event"]["value"] == "ada");
  CHECK(c0["event"]["timestamp"].is_number_integer());
  CHECK(!c0["event"].contains("ttl"));
  Json c1 = Json::parse(created[1].body);
  CHECK(c1["event"]["key"] == "user:2");
  CHECK(c1["event"]["value"] == "bob");
  CHECK(c1["event"]["ttl"].get<int64_t>() > 3500);
  CHECK(c1["event"]["ttl"].get<int64_t>() <= 3600);
  CHECK(c1["event"]["expire_at"].get<int64_t>() >= c1["event"]["timestamp"].get<int64_t>() + 3500);

  const auto updated = at(all, "/updated");
  REQUIRE(updated.size() == 1);
  CHECK(updated[0].method == "PUT");
  Json u0 = Json::parse(updated[0].body);
  CHECK(u0 == Json{{"event", u0["event"]}});  // no custom payload
  CHECK(u0["event"]["event"] == "update");
  CHECK(u0["event"]["value"] == "grace");

  const auto deleted = at(all, "/deleted");
  REQUIRE(deleted.size() == 1);
  CHECK(Json::parse(deleted[0].body) == Json{{"n", 1}});  // payload only

  const auto bare = at(all, "/bare");
  REQUIRE(bare.size() == 1);
  CHECK(bare[0].body.empty());
  CHECK(bare[0].Header("Content-Type") == "application/json");
  CHECK(bare[0].Header("User-Agent") == "github.com/mrofi/simple-golang-kv");

  // Each webhook got exactly its events: "other" and user:2's create reached
  // no webhook of user:1's.
  CHECK(all.size() == 5);
}

TEST_CASE("webhooks: a key that expires fires delete", "[e2e]") {
  TempDir dir("kv-wh");
  Daemon kvd(dir);
  HttpReceiver rx;
  REQUIRE(rx.Start());
  kvd.AddWebhook({{"key", "session:*"},
                  {"event", "delete"},
                  {"endpoint", rx.url()},
                  {"add_event_data", true}});
  kvd.Put("session:1", "token", "?ttl=300ms");
  REQUIRE(rx.WaitForCount(1, kWait));
  Json body = Json::parse(rx.Requests()[0].body);
  CHECK(body["event"]["event"] == "delete");
  CHECK(body["event"]["key"] == "session:1");
  CHECK(Call(kvd.port(), "GET", "/v1/kv/session:1", "", kMyNs).status == 404);
}

TEST_CASE("webhooks: a receiver that is down gets every event, in order, once it is back",
          "[e2e]") {
  TempDir dir("kv-wh");
  Daemon kvd(dir);
  HttpReceiver rx;
  REQUIRE(rx.Start());
  const uint16_t port = rx.port();
  rx.Stop();  // down: connections are refused
  const std::string id = kvd.AddWebhook(
      {{"key", "k*"}, {"event", "create"}, {"endpoint", rx.url()}, {"add_event_data", true}});
  const auto expected = Numbered("v", 10);
  for (int i = 0; i < 10; ++i) kvd.Put("k" + std::to_string(i), expected[i]);

  // The failures are visible while it is down.
  REQUIRE(Eventually([&] { return kvd.Native(id)["delivery"]["attempts"].get<int>() >= 2; }));
  Json delivery = kvd.Native(id)["delivery"];
  CHECK(delivery["delivered"] == 0);
  CHECK(delivery["lag"].get<int>() >= 10);
  CHECK(delivery["last_error"].is_string());
  CHECK(delivery["last_status"].is_null());

  REQUIRE(rx.Start(port));
  REQUIRE(rx.WaitForCount(10, kWait));
  CHECK(Values(rx.Requests()) == expected);
  REQUIRE(Eventually([&] { return kvd.Native(id)["delivery"]["delivered"] == 10; }));
  delivery = kvd.Native(id)["delivery"];
  CHECK(delivery["attempts"] == 0);
  CHECK(delivery["last_status"] == 200);
  CHECK(delivery["last_error"].is_null());
}

TEST_CASE("webhooks: 5xx answers are retried, and later events wait their turn", "[e2e]") {
  TempDir dir("kv-wh");
  Daemon kvd(dir);
  HttpReceiver rx;
  rx.SetStatusFn([](size_t n) { return n < 3 ? 503 : 200; });
  REQUIRE(rx.Start());
  kvd.AddWebhook(
      {{"key", "k*"}, {"event", "create"}, {"endpoint", rx.url()}, {"add_event_data", true}});
  kvd.Put("k1", "a");
  kvd.Put("k2", "b");
  REQUIRE(rx.WaitForCount(5, kWait));
  CHECK(Values(rx.Requests()) == std::vector<std::string>{"a", "a", "a", "a", "b"});
}

TEST_CASE("webhooks: kvd killed with SIGKILL during delivery loses nothing after a restart",
          "[e2e]") {
  TempDir dir("kv-wh");
  Daemon kvd(dir);
  // The first 5 deliveries succeed, then the receiver fails until kvd is killed.
  std::atomic<bool> failing{true};
  HttpReceiver rx;
  rx.SetStatusFn([&](size_t n) { return n < 5 || !failing ? 200 : 500; });
  REQUIRE(rx.Start());
  kvd.AddWebhook(
      {{"key", "k*"}, {"event", "create"}, {"endpoint", rx.url()}, {"add_event_data", true}});
  const auto expected = Numbered("v", 20);
  for (int i = 0; i < 20; ++i) kvd.Put("k" + std::to_string(i), expected[i]);
  REQUIRE(rx.WaitForCount(7, kWait));  // 5 delivered, then retries of the 6th

  REQUIRE(kvd.process().Signal(SIGKILL));
  REQUIRE(kvd.process().Wait(20s).has_value());
  failing = false;
  kvd.Start();
  REQUIRE(rx.WaitUntil([&](const auto& all) { return FirstArrivals(Values(all)).size() >= 20; },
                       kWait));
  CHECK(FirstArrivals(Values(rx.Requests())) == expected);
}

TEST_CASE("webhooks: receivers that hang, reset, answer 500 or answer slowly hold up no write "
          "and no other webhook: fixed, they get every event in order",
          "[e2e]") {
  TempDir dir("kv-wh");
  // A long timeout: the hanging receiver's request stays open all along.
  Daemon kvd(dir, {"--webhook-timeout", "10m"});
  HttpReceiver hang, reset, error, slow, healthy;
  hang.SetFault(HttpReceiver::Fault::kHang);
  reset.SetFault(HttpReceiver::Fault::kReset);
  error.SetStatus(500);
  slow.SetFault(HttpReceiver::Fault::kSlow);
  slow.SetSlowDelay(3ms);
  HttpReceiver* all[] = {&hang, &reset, &error, &slow, &healthy};
  std::vector<std::string> ids;
  for (HttpReceiver* rx : all) {
    REQUIRE(rx->Start());
    ids.push_back(kvd.AddWebhook(
        {{"key", "k*"}, {"event", "create"}, {"endpoint", rx->url()}, {"add_event_data", true}}));
  }
  const auto expected = Numbered("v", 31);
  kvd.Put("k0", expected[0]);
  // Every faulty receiver has the first event in hand: held, reset twice
  // (so retried), answered 500 twice, being answered slowly.
  REQUIRE(Eventually([&] { return hang.HeldOpen() == 1; }));
  REQUIRE(reset.WaitForCount(2, kWait));
  REQUIRE(error.WaitForCount(2, kWait));
  REQUIRE(slow.WaitForCount(1, kWait));

  // Writes go on while the hanging receiver still holds the first request:
  // none of them waited for a delivery.
  for (int i = 1; i <= 30; ++i) kvd.Put("k" + std::to_string(i), expected[i]);
  CHECK(hang.HeldOpen() == 1);
  CHECK(hang.Count() == 1);  // its webhook waits on that answer, in order
  // The healthy webhook got every event, in order, meanwhile.
  REQUIRE(healthy.WaitForCount(31, kWait));
  CHECK(Values(healthy.Requests()) == expected);
  CHECK(hang.HeldOpen() == 1);

  // The failing ones are retried, each wait at least twice the one before
  // (from 20 ms, --webhook-retry-min, up to 200 ms, --webhook-retry-max).
  REQUIRE(error.WaitForCount(7, kWait));
  REQUIRE(reset.WaitForCount(7, kWait));
  for (HttpReceiver* rx : {&error, &reset}) {
    const auto requests = rx->Requests();
    for (size_t n = 1; n < 7; ++n) {
      const auto backoff = std::min(20ms * (1 << (n - 1)), 200ms);
      INFO("wait before attempt " << n + 1);
      CHECK(requests[n].at - requests[n - 1].at >= backoff);
      CHECK(Values({requests[n]}) == std::vector<std::string>{expected[0]});  // still the first
    }
  }
  Json error_state = kvd.Native(ids[2])["delivery"];
  CHECK(error_state["last_status"] == 500);
  CHECK(error_state["delivered"] == 0);
  Json reset_state = kvd.Native(ids[1])["delivery"];
  CHECK(reset_state["last_status"].is_null());
  CHECK(reset_state["last_error"].get<std::string>().find("reset") != std::string::npos);

  // Fixed, each gets every event, in order (a retried one possibly twice).
  hang.SetFault(HttpReceiver::Fault::kNone);
  reset.SetFault(HttpReceiver::Fault::kNone);
  error.SetStatus(200);
  for (HttpReceiver* rx : all) {
    REQUIRE(rx->WaitUntil(
        [&](const auto& got) { return FirstArrivals(Values(got)).size() == expected.size(); },
        kWait));
    CHECK(FirstArrivals(Values(rx->Requests())) == expected);
  }
  for (const std::string& id : ids) {
    REQUIRE(Eventually([&] { return kvd.Native(id)["delivery"]["delivered"] == 31; }));
  }

  // A receiver that hangs does not hold up kvd's shutdown either.
  hang.SetFault(HttpReceiver::Fault::kHang);
  kvd.Put("k31", "last");
  REQUIRE(Eventually([&] { return hang.HeldOpen() == 1; }));
  REQUIRE(kvd.process().Signal(SIGTERM));
  CHECK(kvd.process().Wait(20s) == 0);
}

TEST_CASE("webhooks: an endpoint that is kvd itself is refused, not looped", "[e2e]") {
  TempDir dir("kv-wh");
  Daemon kvd(dir);
  const std::string id = kvd.AddWebhook(
      {{"key", "k*"},
       {"event", "create"},
       {"endpoint", "http://localhost:" + std::to_string(kvd.port()) + "/v1/kv/loop"}});
  kvd.Put("k1", "a");
  REQUIRE(Eventually([&] { return kvd.Native(id)["delivery"]["failed"] == 1; }));
  Json delivery = kvd.Native(id)["delivery"];
  CHECK(delivery["last_error"].get<std::string>().find("kvd's own listener") !=
        std::string::npos);
  CHECK(Call(kvd.port(), "GET", "/v1/kv/loop", "", kMyNs).status == 404);
}

TEST_CASE("webhooks: --webhook-allow lets a webhook call kvd itself", "[e2e]") {
  TempDir dir("kv-wh");
  KvdProcess kvd;
  std::vector<std::string> args = {"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock"),
                                   "--no-auth", "--listen", "127.0.0.1:0"};
  REQUIRE(kvd.Start(args));
  const std::string address = "127.0.0.1:" + std::to_string(kvd.tcp_port());
  kvd.Signal(SIGTERM);
  REQUIRE(kvd.Wait(20s) == 0);
  args.back() = address;  // the same port again, now allowed
  args.insert(args.end(), {"--webhook-allow", address});
  REQUIRE(kvd.Start(args));
  const uint16_t port = kvd.tcp_port();
  Reply added = Call(port, "POST", "/webhooks",
                     Json{{"key", "k*"},
                          {"event", "create"},
                          {"method", "PUT"},
                          {"endpoint", "http://" + address + "/v1/kv/copied"},
                          {"payload", {{"from", "webhook"}}}}
                         .dump());
  REQUIRE(added.status == 201);
  REQUIRE(Call(port, "PUT", "/v1/kv/k1", "v").status == 201);
  REQUIRE(Eventually([&] { return Call(port, "GET", "/v1/kv/copied").status == 200; }));
  CHECK(Json::parse(Call(port, "GET", "/v1/kv/copied").body) == Json{{"from", "webhook"}});
}

struct KvRun {
  int code = -1;
  std::string out, err;
};

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs the kv binary against kvd over TCP (a shell runs it, output to files).
KvRun Kv(const TempDir& dir, uint16_t port, const std::vector<std::string>& args) {
  std::string cmd = "KV_URL=http://127.0.0.1:" + std::to_string(port) +
                    " KV_NO_AUTOSTART=1 XDG_CONFIG_HOME=" + ShellQuote(dir.Sub("config")) + " " +
                    ShellQuote(KV_PATH);
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  cmd += " >" + ShellQuote(dir.Sub("kv.out")) + " 2>" + ShellQuote(dir.Sub("kv.err")) +
         " </dev/null";
  int rc = std::system(cmd.c_str());
  KvRun run;
  run.code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  run.out = kv::testing::ReadWholeFile(dir.Sub("kv.out"));
  run.err = kv::testing::ReadWholeFile(dir.Sub("kv.err"));
  return run;
}

TEST_CASE("kv webhook add, ls, get, update and rm against kvd", "[e2e]") {
  TempDir dir("kv-wh");
  Daemon kvd(dir);
  HttpReceiver rx;
  REQUIRE(rx.Start());
  const uint16_t port = kvd.port();

  KvRun add = Kv(dir, port,
                 {"-n", "myns", "--app", "myapp", "webhook", "add", "k*", rx.url(), "--event",
                  "create", "--event-data", "--header", "X-Source: cli", "--payload",
                  R"({"source":"kv"})"});
  INFO(add.err);
  REQUIRE(add.code == 0);
  REQUIRE(add.out.size() == 37);  // the id and a newline
  const std::string id = add.out.substr(0, 36);

  // What kv added is what simple-golang-kv's API shows.
  Json w = Call(port, "GET", "/webhooks/" + id, "", kMyNs).JsonBody();
  CHECK(w["key"] == "k*");
  CHECK(w["headers"] == Json{{"X-Source", "cli"}});
  CHECK(w["payload"] == Json{{"source", "kv"}});
  CHECK(w["add_event_data"] == true);

  REQUIRE(Kv(dir, port, {"-n", "myns", "--app", "myapp", "set", "k1", "v1"}).code == 0);
  REQUIRE(rx.WaitForCount(1, kWait));
  CHECK(rx.Requests()[0].Header("X-Source") == "cli");
  Json body = Json::parse(rx.Requests()[0].body);
  CHECK(body["source"] == "kv");
  CHECK(body["event"]["value"] == "v1");

  // ls shows the delivery state.
  Json listed;
  REQUIRE(Eventually([&] {
    KvRun ls = Kv(dir, port, {"-n", "myns", "--app", "myapp", "webhook", "ls", "-o", "json"});
    if (ls.code != 0) return false;
    listed = Json::parse(ls.out, nullptr, false);
    return listed.is_object() && listed["delivery"]["delivered"] == 1;
  }));
  CHECK(listed["id"] == id);
  CHECK(listed["delivery"]["last_status"] == 200);
  CHECK(listed["delivery"]["failed"] == 0);
  KvRun raw = Kv(dir, port, {"-n", "myns", "--app", "myapp", "webhook", "ls"});
  CHECK(raw.out.rfind(id + "\tcreate\tk*\tPOST\t" + rx.url() + "\t1\t0\t0\t200\t", 0) == 0);
  CHECK(Kv(dir, port, {"-n", "myns", "--app", "myapp", "webhook", "ls", "x"}).out.empty());
  CHECK(Kv(dir, port, {"webhook", "ls"}).out.empty());  // another namespace

  KvRun get = Kv(dir, port, {"-n", "myns", "--app", "myapp", "webhook", "get", id, "-o", "json"});
  REQUIRE(get.code == 0);
  CHECK(Json::parse(get.out)["endpoint"] == rx.url());
  KvRun missing = Kv(dir, port, {"-n", "myns", "--app", "myapp", "webhook", "get", "nope"});
  CHECK(missing.code == 1);
  CHECK(missing.err == "kv: no webhook with id nope\n");

  KvRun upd = Kv(dir, port,
                 {"-n", "myns", "--app", "myapp", "webhook", "update", id, "--event", "delete",
                  "--no-event-data", "-o", "json"});
  REQUIRE(upd.code == 0);
  Json updated = Json::parse(upd.out);
  CHECK(updated["event"] == "delete");
  CHECK(updated["add_event_data"] == false);
  CHECK(updated["key"] == "k*");

  // Bad input: one line, exit 2, nothing changed.
  KvRun bad = Kv(dir, port,
                 {"-n", "myns", "--app", "myapp", "webhook", "update", id, "--event", "expire"});
  CHECK(bad.code == 2);
  CHECK(bad.err == "kv: Event must be one of: create, update, delete\n");
  bad = Kv(dir, port, {"-n", "myns", "--app", "myapp", "webhook", "add", "k", rx.url(),
                       "--event", "create", "--payload", "[1]"});
  CHECK(bad.code == 2);
  bad = Kv(dir, port, {"-n", "myns", "--app", "myapp", "webhook", "add", "k", rx.url(),
                       "--event", "create", "--header", "no colon"});
  CHECK(bad.code == 2);
  CHECK(Call(port, "GET", "/webhooks/*", "", kMyNs).JsonBody().size() == 1);
  CHECK(Call(port, "GET", "/webhooks/" + id, "", kMyNs).JsonBody()["event"] == "delete");

  CHECK(Kv(dir, port, {"-n", "myns", "--app", "myapp", "webhook", "rm", id}).code == 0);
  CHECK(Call(port, "GET", "/webhooks/" + id, "", kMyNs).status == 404);
  KvRun again = Kv(dir, port, {"-n", "myns", "--app", "myapp", "webhook", "rm", id});
  CHECK(again.code == 1);
  CHECK(again.err == "kv: no webhook with id " + id + "\n");
}

TEST_CASE("webhooks: over TCP a token is required unless --no-auth", "[e2e]") {
  TempDir dir("kv-wh");
  KvdProcess kvd;
  REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock"), "--listen",
                     "127.0.0.1:0"}));
  CHECK(Call(kvd.tcp_port(), "GET", "/webhooks/*").status == 401);
  CHECK(Call(kvd.tcp_port(), "POST", "/webhooks",
             R"({"key":"a","event":"create","endpoint":"http://127.0.0.1:9/"})")
            .status == 401);
}

}  // namespace
}  // namespace kv::e2e
