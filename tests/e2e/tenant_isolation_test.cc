// Tenant isolation as a matrix: a real kvd over TCP, two tenants' tokens made
// over its Unix socket. Tenant alpha (A) keeps data on every API kvd serves;
// tenant alph (B) sends every route that touches data, naming A's keys,
// namespaces, projects and webhook ids, once with its token and once with an
// admin panel session made from it. Every answer must be B's own view:
// 404 or empty, never A's values, counts or tenant name, never 403 for a
// thing that exists; B's writes land in B's namespaces (A checks afterwards);
// B's watches and webhooks never see A's changes, nor A's B's. Then /metrics,
// kvd's log and stderr are searched for every token, session and login code
// used and every bad token tried.
//
// A new route is one line in ReadProbes() or WriteProbes().
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <functional>
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

// In every value A stores, so a leak of any of them is one substring.
constexpr char kSecret[] = "alpha-secret";
constexpr char kTenantA[] = "alpha";
// A prefix of A's name: a namespace lookup that forgot the '/' after the
// tenant would hand B A's namespaces.
constexpr char kTenantB[] = "alph";

const HeaderList kShopWeb = {{"KV-Namespace", "shop"}, {"KV-App-Name", "web"}};
const HeaderList kMyNs = {{"KV-Namespace", "myns"}, {"KV-App-Name", "myapp"}};
const HeaderList kJson = {{"Content-Type", "application/json"}};

HeaderList With(HeaderList a, const HeaderList& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// kvd on a Unix socket and a loopback port, tokens required, everything logged.
class Tenants {
 public:
  Tenants() {
    REQUIRE(kvd_.Start({"--data-dir", dir_.Sub("data"), "--socket", dir_.Sub("kvd.sock"),
                        "--listen", "127.0.0.1:0", "--log-level", "debug", "--log-file",
                        dir_.Sub("kvd.log"), "--webhook-retry-min", "20ms",
                        "--webhook-retry-max", "200ms"}));
    token_a_ = MakeToken(kTenantA);
    token_b_ = MakeToken(kTenantB);
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(kvd_.tcp_port()); }
  Client A() const { return Client::Tcp(base(), token_a_); }
  Client B() const { return Client::Tcp(base(), token_b_); }
  Client As(const std::string& token) const { return Client::Tcp(base(), token); }
  const std::string& token_a() const { return token_a_; }
  const std::string& token_b() const { return token_b_; }
  KvdProcess& process() { return kvd_; }
  std::string Log() const { return kv::testing::ReadWholeFile(dir_.Sub("kvd.log")); }

 private:
  std::string MakeToken(const std::string& tenant) {
    Reply r = Client::Unix(kvd_.unix_socket())
                  .Call("POST", "/v1/admin/tokens", Json{{"tenant", tenant}}.dump(), kJson);
    INFO(r.body);
    REQUIRE(r.status == 201);
    return r.JsonBody().at("token").get<std::string>();
  }

  TempDir dir_{"kv-iso"};
  KvdProcess kvd_;
  std::string token_a_, token_b_;
};

// ---- what B may get back ---------------------------------------------------

// An empty string when the reply is acceptable, else what is wrong with it.
using Expect = std::function<std::string(const Reply&)>;

Json Parsed(const Reply& r) { return Json::parse(r.body, nullptr, false); }

Expect Status(long status) {
  return [status](const Reply& r) {
    return r.status == status ? "" : "status " + std::to_string(r.status) + ", expected " +
                                         std::to_string(status);
  };
}

// 200 with a JSON body that `ok` accepts.
Expect JsonOk(std::string what, std::function<bool(const Json&)> ok, long status = 200) {
  return [what = std::move(what), ok = std::move(ok), status](const Reply& r) -> std::string {
    if (r.status != status) return "status " + std::to_string(r.status);
    Json j = Parsed(r);
    if (j.is_discarded() || !ok(j)) return "expected " + what;
    return "";
  };
}

Expect NoKeys() {
  return JsonOk("no keys", [](const Json& j) { return j.at("keys").empty(); });
}
Expect ZeroStats() {
  return JsonOk("zero keys and bytes", [](const Json& j) {
    return j.at("keys") == 0 && j.at("bytes") == 0;
  });
}
Expect OwnNamespacesOnly() {
  return JsonOk("only B's namespaces", [](const Json& j) {
    for (const Json& n : j.at("namespaces")) {
      if (n.at("tenant") != kTenantB) return false;
    }
    return true;
  });
}
Expect NoWebhooks() {
  return JsonOk("no webhooks", [](const Json& j) { return j.at("webhooks").empty(); });
}
Expect EmptyArray() {
  return JsonOk("[]", [](const Json& j) { return j == Json::array(); });
}
Expect EmptyObject() {
  return JsonOk("{}", [](const Json& j) { return j == Json::object(); });
}
Expect Field(std::string name, Json value, long status = 200) {
  std::string what = name + " = " + value.dump();
  return JsonOk(
      what, [name, value](const Json& j) { return j.value(name, Json()) == value; }, status);
}
// A watch replay that ends at once with nothing in it.
Expect EmptyStream() {
  return [](const Reply& r) -> std::string {
    if (r.status != 200) return "status " + std::to_string(r.status);
    return r.body.empty() ? "" : "events: " + r.body;
  };
}

// ---- the matrix ------------------------------------------------------------

struct Probe {
  std::string method;
  std::string path;
  std::string body;
  HeaderList headers;
  Expect expect;
};

// What A stored, for the probes to name.
struct AlphaData {
  std::string native_webhook;  // id under /v1/webhooks (default namespace)
  std::string sgkv_webhook;    // id under /webhooks (myns/myapp)
};

// Requests that change nothing: B's view of A's names must be empty.
std::vector<Probe> ReadProbes(const AlphaData& a) {
  std::vector<Probe> p;
  for (const std::string v : {"/v1", "/api/v1"}) {
    p.insert(p.end(), {
      {"GET", v + "/kv/akey", "", {}, Status(404)},
      {"HEAD", v + "/kv/akey", "", {}, Status(404)},
      {"GET", v + "/kv/akey", "", {{"If-None-Match", "*"}}, Status(404)},
      {"GET", v + "/kv/akey?ns=shop&app=web", "", {}, Status(404)},
      {"GET", v + "/kv/akey", "", kShopWeb, Status(404)},
      {"GET", v + "/kv/akey", "", {{"KV-Tenant", kTenantA}}, Status(404)},
      {"GET", v + "/kv/adoc", "", {}, Status(404)},
      {"GET", v + "/kv/akey/meta", "", {}, Status(404)},
      {"GET", v + "/kv/attl/meta", "", {}, Status(404)},
      {"GET", v + "/keys", "", {}, NoKeys()},
      {"GET", v + "/keys?prefix=a&values=1", "", {}, NoKeys()},
      {"GET", v + "/keys?contains=secret&values=1", "", {}, NoKeys()},
      {"GET", v + "/keys?where=kind=plan", "", {}, NoKeys()},
      {"GET", v + "/keys?values=1&ns=shop&app=web", "", {}, NoKeys()},
      {"GET", v + "/keys?values=1", "", {{"KV-Tenant", kTenantA}}, NoKeys()},
      {"GET", v + "/stats", "", {}, ZeroStats()},
      {"GET", v + "/stats", "", kShopWeb, ZeroStats()},
      {"GET", v + "/stats", "", kMyNs, ZeroStats()},
      {"GET", v + "/stats?ns=proj", "", {}, ZeroStats()},
      {"GET", v + "/namespaces", "", {}, OwnNamespacesOnly()},
      {"GET", v + "/watch?since=0&follow=0", "", {}, EmptyStream()},
      {"GET", v + "/watch?since=0&follow=0&ns=shop&app=web", "", {}, EmptyStream()},
      {"GET", v + "/watch?since=0&follow=0", "", kMyNs, EmptyStream()},
      {"GET", v + "/webhooks", "", {}, NoWebhooks()},
      {"GET", v + "/webhooks", "", kMyNs, NoWebhooks()},
      {"GET", v + "/webhooks/" + a.native_webhook, "", {}, Status(404)},
      {"GET", v + "/webhooks/" + a.sgkv_webhook, "", kMyNs, Status(404)},
      // Refused whatever exists (administration is the Unix socket's): no oracle.
      {"GET", v + "/namespaces?all=1", "", {}, Status(403)},
      {"GET", v + "/admin/tokens", "", {}, Status(403)},
      {"POST", v + "/admin/backup", R"({"dir":"/tmp/kv-isolation-backup"})", {}, Status(403)},
    });
  }
  p.insert(p.end(), {
    // simple-golang-kv
    {"GET", "/kv/akey", "", {}, Status(404)},
    {"GET", "/kv/akey", "", kMyNs, Status(404)},
    {"GET", "/kv/a*", "", kMyNs, Status(404)},
    {"GET", "/kv/*", "", kMyNs, Status(404)},
    {"GET", "/kv/*", "", {}, Status(404)},
    {"GET", "/webhooks/*", "", kMyNs, EmptyArray()},
    {"GET", "/webhooks/*", "", {}, EmptyArray()},
    {"GET", "/webhooks/" + a.sgkv_webhook, "", kMyNs, Status(404)},
    {"GET", "/webhooks/" + a.native_webhook, "", {}, Status(404)},
    // Invoke and its admin export
    {"GET", "/invoke/proj/get/akey", "", {}, Status(404)},
    {"GET", "/invoke/proj/has/akey", "", {}, Field("exists", false)},
    {"GET", "/api/projects/proj/kv-export", "", {}, EmptyObject()},
    // the admin panel: whatever B signs in with is B's
    {"POST", "/ui/api/session", "", {}, Field("tenant", kTenantB, 201)},
    {"POST", "/ui/api/login-codes", "", {}, Field("tenant", kTenantB, 201)},
  });
  return p;
}

// Requests that write: each must fail as if A's keys were absent, or land in
// B's own namespace (A checks its data afterwards).
std::vector<Probe> WriteProbes(const AlphaData& a) {
  const HeaderList patch = {{"Content-Type", "application/merge-patch+json"}};
  std::vector<Probe> p;
  for (const std::string v : {"/v1", "/api/v1"}) {
    p.insert(p.end(), {
      {"DELETE", v + "/kv/akey", "", {}, Status(404)},
      {"DELETE", v + "/kv/akey", "", kShopWeb, Status(404)},
      {"PUT", v + "/kv/akey", "x", {{"If-Match", "*"}}, Status(412)},
      {"PUT", v + "/kv/akey", "x", {{"KV-If-Exists", "1"}}, Status(412)},
      {"PUT", v + "/kv/akey", "x", {{"If-Match", "\"1\""}}, Status(412)},
      {"PATCH", v + "/kv/adoc", "{}", With(patch, {{"If-Match", "*"}}), Status(412)},
      {"POST", v + "/kv/akey/expire?ttl=1s", "", {}, Status(404)},
      {"POST", v + "/kv/attl/persist", "", {}, Status(404)},
      {"POST", v + "/batch", R"({"key":"akey","value":"x","if_exists":true})", {},
       Field("written", 0)},
      // These create B's own keys of the same names (and clear them again).
      {"POST", v + "/kv/acounter/incr?by=1000", "", {}, [](const Reply& r) -> std::string {
         return r.status == 201 && r.body == "1000" ? "" : "not a new counter: " + r.body;
       }},
      {"PATCH", v + "/kv/adoc", R"({"by":"B"})", patch,
       JsonOk("B's document alone", [](const Json& j) { return !j.contains("kind"); }, 201)},
      {"DELETE", v + "/kv/adoc", "", {}, Status(204)},
      {"PUT", v + "/kv/akey", "B's", {}, Status(201)},
      {"PUT", v + "/kv/akey", "B's", kShopWeb, Status(201)},
      {"POST", v + "/batch", R"({"key":"attl","value":"B's"})", {}, Field("written", 1)},
      {"DELETE", v + "/keys?confirm=1", "", {}, Field("deleted", 3)},
      {"DELETE", v + "/kv/akey", "", kShopWeb, Status(204)},
      {"PUT", v + "/webhooks/" + a.native_webhook, R"({"event":"delete"})", {}, Status(404)},
      {"DELETE", v + "/webhooks/" + a.native_webhook, "", {}, Status(404)},
      {"DELETE", v + "/webhooks/" + a.sgkv_webhook, "", kMyNs, Status(404)},
    });
  }
  p.insert(p.end(), {
    // simple-golang-kv: DELETE is 204 whether or not the key exists.
    {"DELETE", "/kv/akey", "", kMyNs, Status(204)},
    {"PUT", "/kv/akey", R"({"value":"B's"})", With(kMyNs, kJson), Status(200)},
    {"POST", "/kv", R"({"key":"akey2","value":"B's"})", With(kMyNs, kJson), Status(201)},
    {"PUT", "/webhooks/" + a.sgkv_webhook, R"({"event":"delete"})", With(kMyNs, kJson),
     Status(404)},
    {"DELETE", "/webhooks/" + a.sgkv_webhook, "", kMyNs, Status(204)},
    // Invoke and its admin import
    {"DELETE", "/invoke/proj/delete/akey", "", {}, Field("deleted", false)},
    {"POST", "/api/projects/proj/kv-import", R"({"data":{"akey":"B's"},"strategy":"replace"})",
     kJson, JsonOk("nothing overwritten", [](const Json& j) {
       return j.at("data").at("updated") == 0;
     })},
    {"POST", "/invoke/proj/set", R"({"key":"akey","value":"B's"})", kJson, Status(200)},
    {"POST", "/invoke/proj/clear", "", {}, Status(200)},
  });
  return p;
}

// Runs every probe as `client`; each failure is reported with its request.
void RunProbes(Client& client, const std::vector<Probe>& probes, const std::string& as) {
  for (const Probe& probe : probes) {
    Reply r = client.Call(probe.method, probe.path, probe.body, probe.headers);
    std::string headers;
    for (const auto& [name, value] : r.headers) headers += name + ": " + value + "\n";
    INFO(as << ": " << probe.method << " " << probe.path << " -> " << r.status << " " << r.error
            << "\n" << headers << r.body);
    CHECK(probe.expect(r) == "");
    // Never A's values or tenant name, in a body or a header.
    CHECK(r.body.find(kSecret) == std::string::npos);
    CHECK(r.body.find(kTenantA) == std::string::npos);
    CHECK(headers.find(kSecret) == std::string::npos);
    CHECK(headers.find(kTenantA) == std::string::npos);
  }
}

// A's data on every API; returns what the probes need to name.
AlphaData StoreAlphaData(Tenants& t, const HttpReceiver& rx) {
  Client a = t.A();
  auto ok = [](const Reply& r) {
    INFO(r.status << " " << r.body);
    REQUIRE(r.status >= 200);
    REQUIRE(r.status < 300);
    return r;
  };
  ok(a.Call("PUT", "/v1/kv/akey", std::string(kSecret) + "-1", {{"Content-Type", "text/plain"}}));
  ok(a.Call("PUT", "/v1/kv/akey", std::string(kSecret) + "-2", kShopWeb));
  const Json doc = {{"owner", std::string(kSecret) + "-3"}, {"kind", "plan"}};
  ok(a.Call("PUT", "/v1/kv/adoc", doc.dump(), kJson));
  ok(a.Call("PUT", "/v1/kv/acounter", "41"));
  ok(a.Call("PUT", "/v1/kv/attl?ttl=1h", std::string(kSecret) + "-4"));
  ok(a.Call("POST", "/kv", Json{{"key", "akey"}, {"value", std::string(kSecret) + "-5"}}.dump(),
            With(kMyNs, kJson)));
  ok(a.Call("POST", "/invoke/proj/set",
            Json{{"key", "akey"}, {"value", {{"s", std::string(kSecret) + "-6"}}}}.dump(), kJson));
  AlphaData data;
  data.native_webhook =
      ok(a.Call("POST", "/v1/webhooks",
                Json{{"key", "*"}, {"event", "create"}, {"endpoint", rx.url("/native")}}.dump(),
                kJson))
          .JsonBody()
          .at("id");
  data.sgkv_webhook = ok(a.Call("POST", "/webhooks",
                                Json{{"key", "a*"},
                                     {"event", "update"},
                                     {"endpoint", rx.url("/sgkv")},
                                     {"payload", {{"s", std::string(kSecret) + "-7"}}}}
                                    .dump(),
                                With(kMyNs, kJson)))
                          .JsonBody()
                          .at("id");
  return data;
}

// Everything A can see of its own data, to compare before and after B's turn.
Json AlphaView(Tenants& t, const AlphaData& data) {
  Client a = t.A();
  Json view = Json::object();
  auto keep = [&](const std::string& name, const Reply& r) {
    view[name] = {{"status", r.status}, {"body", r.body}, {"etag", r.Header("etag")}};
  };
  keep("akey", a.Call("GET", "/v1/kv/akey"));
  keep("shop/web akey", a.Call("GET", "/v1/kv/akey", "", kShopWeb));
  keep("adoc", a.Call("GET", "/v1/kv/adoc"));
  keep("acounter", a.Call("GET", "/v1/kv/acounter"));
  keep("attl", a.Call("GET", "/v1/kv/attl"));
  Json ttl = Parsed(a.Call("GET", "/v1/kv/attl/meta"));
  view["attl expires"] = ttl.value("expire_at_ms", Json());
  keep("sgkv akey", a.Call("GET", "/kv/akey", "", kMyNs));
  keep("invoke akey", a.Call("GET", "/invoke/proj/get/akey"));
  keep("keys", a.Call("GET", "/v1/keys?values=1"));
  keep("namespaces", a.Call("GET", "/v1/namespaces"));
  keep("native webhook", a.Call("GET", "/webhooks/" + data.native_webhook));
  keep("sgkv webhook", a.Call("GET", "/webhooks/" + data.sgkv_webhook, "", kMyNs));
  for (const char* stats : {"/v1/stats", "/v1/stats?ns=shop&app=web", "/v1/stats?ns=myns&app=myapp",
                            "/v1/stats?ns=proj"}) {
    Json s = Parsed(a.Call("GET", stats));
    view[stats] = {{"keys", s.value("keys", Json())}, {"bytes", s.value("bytes", Json())}};
  }
  return view;
}

TEST_CASE("tenant isolation: every data route of every API, token and panel session", "[e2e]") {
  Tenants t;
  HttpReceiver rx;
  REQUIRE(rx.Start());
  const AlphaData data = StoreAlphaData(t, rx);
  const Json before = AlphaView(t, data);
  REQUIRE(before["akey"]["status"] == 200);
  REQUIRE(before["sgkv webhook"]["status"] == 200);

  // B signs in to the admin panel with its token; the session is B's.
  Client b = t.B();
  Reply session = b.Call("POST", "/ui/api/session");
  REQUIRE(session.status == 201);
  const std::string session_token = session.JsonBody().at("token");
  CHECK(session.JsonBody().at("tenant") == kTenantB);
  Reply code = b.Call("POST", "/ui/api/login-codes");
  REQUIRE(code.status == 201);
  Reply redeemed = Client::Tcp(t.base(), "")
                       .Call("POST", "/ui/api/session",
                             Json{{"code", code.JsonBody().at("code")}}.dump(), kJson);
  REQUIRE(redeemed.status == 201);
  CHECK(redeemed.JsonBody().at("tenant") == kTenantB);
  Client b_session = t.As(session_token);

  RunProbes(b, ReadProbes(data), "B's token");
  RunProbes(b_session, ReadProbes(data), "B's panel session");
  RunProbes(b, WriteProbes(data), "B's token");
  CHECK(AlphaView(t, data) == before);

  // A bad token and a malformed header are refused (and looked for in the log below).
  const std::string bad_token = "kv_badbadbadbadbadbadbadbadbadbadbadbadbadbad";
  CHECK(t.As(bad_token).Call("GET", "/v1/kv/akey").status == 401);
  CHECK(Client::Tcp(t.base(), "")
            .Call("GET", "/v1/kv/akey", "", {{"Authorization", "Bearer " + bad_token + " x"}})
            .status == 401);

  // /metrics (open to any local client) names no key, tenant, value or secret.
  const std::vector<std::string> secrets = {t.token_a(), t.token_b(), session_token,
                                            code.JsonBody().at("code"),
                                            redeemed.JsonBody().at("token"), bad_token};
  Reply metrics = Client::Tcp(t.base(), "").Call("GET", "/metrics");
  REQUIRE(metrics.status == 200);
  for (const std::string& word :
       {std::string("akey"), std::string("adoc"), std::string("shop"),
        std::string(kTenantA), std::string(kTenantB), std::string(kSecret)}) {
    INFO(word);
    CHECK(metrics.body.find(word) == std::string::npos);
  }
  for (const std::string& s : secrets) {
    CHECK(metrics.body.find(s) == std::string::npos);
    CHECK(metrics.body.find(s.substr(4)) == std::string::npos);  // without its prefix
  }

  // Nor does kvd's log (at debug level) or its stderr.
  REQUIRE(t.process().Signal(SIGTERM));
  REQUIRE(t.process().Wait(20s) == 0);
  const std::string log = t.Log() + t.process().Stderr();
  REQUIRE(log.find("/v1/kv/akey") != std::string::npos);  // it did log requests
  CHECK(log.find(kSecret) == std::string::npos);
  for (const std::string& s : secrets) {
    CHECK(log.find(s.substr(4)) == std::string::npos);
  }
}

// The "key" of each delivery's event, in arrival order, per path.
std::vector<std::string> DeliveredKeys(const std::vector<HttpReceiver::Request>& requests,
                                       const std::string& path) {
  std::vector<std::string> keys;
  for (const auto& r : requests) {
    Json j = Json::parse(r.body, nullptr, false);
    if (r.target == path && j.is_object() && j.contains("event")) {
      keys.push_back(j["event"].value("key", ""));
    }
  }
  return keys;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST_CASE("tenant isolation: watches and webhooks see only their own tenant's changes", "[e2e]") {
  Tenants t;
  HttpReceiver rx_a, rx_b;
  REQUIRE(rx_a.Start());
  REQUIRE(rx_b.Start());
  // Both tenants watch and hook the same namespace names, on both webhook APIs.
  struct Side {
    Client client;
    HttpReceiver& rx;
    std::string prefix;  // of every key this tenant writes
  };
  Side sides[] = {{t.A(), rx_a, "a"}, {t.B(), rx_b, "b"}};
  struct Api {
    const char* path;      // where to register
    const char* receiver;  // where deliveries arrive
    HeaderList headers;
  };
  const Api apis[] = {{"/v1/webhooks", "/native", kJson},
                      {"/webhooks", "/sgkv", With(kMyNs, kJson)}};
  for (Side& s : sides) {
    for (const Api& api : apis) {
      const Json hook = {{"key", "*"},
                         {"event", "create"},
                         {"endpoint", s.rx.url(api.receiver)},
                         {"add_event_data", true}};
      REQUIRE(s.client.Call("POST", api.path, hook.dump(), api.headers).status == 201);
    }
  }
  // Watches from the revision before any change, each until its own tenant's "done".
  const uint64_t since = t.A().Call("GET", "/v1/stats").JsonBody().at("revision");
  std::vector<std::string> watched[2];
  std::vector<std::thread> watchers;
  for (int i = 0; i < 2; ++i) {
    watchers.emplace_back([&, i] {
      Client c = t.As(i == 0 ? t.token_a() : t.token_b());
      c.Stream("/v1/watch?since=" + std::to_string(since), [&](const Json& line) {
        const std::string key = line.is_object() ? line.value("key", "") : "";
        watched[i].push_back(key);
        return !key.ends_with("-done");
      });
    });
  }
  // Interleaved writes by both tenants to the same namespace names.
  for (int n = 0; n < 5; ++n) {
    for (Side& s : sides) {
      const std::string key = s.prefix + std::to_string(n);
      REQUIRE(s.client.Call("PUT", "/v1/kv/" + key, "v").status == 201);
      REQUIRE(s.client.Call("PUT", "/v1/kv/" + key, "v", kMyNs).status == 201);
    }
  }
  for (Side& s : sides) {
    REQUIRE(s.client.Call("PUT", "/v1/kv/" + s.prefix + "-done", "v").status == 201);
    REQUIRE(s.client.Call("PUT", "/v1/kv/" + s.prefix + "-done", "v", kMyNs).status == 201);
  }
  for (auto& w : watchers) w.join();

  // A webhook delivers in revision order: once its own tenant's "done" is in,
  // any change of the other tenant (all made before) would be in too.
  for (Side& s : sides) {
    for (const Api& api : apis) {
      const std::string path = api.receiver;
      INFO(s.prefix << " " << path);
      REQUIRE(s.rx.WaitUntil(
          [&](const auto& all) { return Contains(DeliveredKeys(all, path), s.prefix + "-done"); },
          60s));
      const std::vector<std::string> keys = DeliveredKeys(s.rx.Requests(), path);
      CHECK(keys.size() >= 6);
      for (const std::string& k : keys) CHECK(k.rfind(s.prefix, 0) == 0);
    }
  }
  for (int i = 0; i < 2; ++i) {
    INFO("watch of " << sides[i].prefix << ": " << Json(watched[i]).dump());
    CHECK(Contains(watched[i], sides[i].prefix + "4"));
    for (const std::string& k : watched[i]) CHECK(k.rfind(sides[i].prefix, 0) == 0);
  }
}

}  // namespace
}  // namespace kv::e2e
