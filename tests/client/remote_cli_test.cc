// The kv binary with remote URLs, as a shell runs it: kv --url etcd://...
// against a real etcd, export from a real kvd piped into an import to etcd,
// keyvalue.dev over a kvd's TCP port, exit codes 4 and 5 and their
// messages, fail-over, and kv's path to a local kvd loading no libcurl.
#include <catch2/catch.hpp>

#include <thread>

#include "tests/client/remote_support.h"
#include "tests/e2e/kvd_process.h"

namespace kv::testing {
namespace {

// kv with an isolated environment (no config, no auto-start).
class Kv {
 public:
  Kv() {
    for (const char* sub : {"config", "state", "data", "run"}) {
      std::filesystem::create_directories(dir_.Sub(sub));
    }
  }
  std::vector<std::string> Env(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> env = {
        "HOME=" + dir_.str(),           "XDG_CONFIG_HOME=" + dir_.Sub("config"),
        "XDG_STATE_HOME=" + dir_.Sub("state"), "XDG_DATA_HOME=" + dir_.Sub("data"),
        "XDG_RUNTIME_DIR=" + dir_.Sub("run"),  "KV_NO_AUTOSTART=1",
        "KV_URL",  "KV_TOKEN", "KV_NAMESPACE", "KV_APP", "KV_PROFILE", "KV_REMOTE_LIB",
        "ETCD_CA_FILE", "ETCD_CERT_FILE", "ETCD_KEY_FILE"};
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
  }
  CommandResult Run(std::vector<std::string> args, const std::string& input = "",
                    const std::vector<std::string>& env = {}) const {
    args.insert(args.begin(), KV_PATH);
    return RunCommand(args, Env(env), input);
  }
  std::string Ok(const std::vector<std::string>& args, const std::string& input = "") const {
    CommandResult r = Run(args, input);
    INFO("kv " << args.back() << ": " << r.err);
    REQUIRE(r.code == 0);
    return r.out;
  }
  CommandResult Shell(const std::string& script) const {
    return RunCommand({"/bin/sh", "-c", script}, Env({std::string("KV=") + KV_PATH}));
  }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_{"kv-remote-cli"};
};

bool OneErrorLine(const std::string& err) {
  return err.rfind("kv: ", 0) == 0 && err.find('\n') == err.size() - 1;
}

std::vector<Json> JsonLines(const std::string& text) {
  std::vector<Json> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(Json::parse(text.substr(start, nl - start), nullptr, false));
  }
  return out;
}

TEST_CASE("kv --url etcd:// set get ls del watch in simple-golang-kv's layout",
          "[remote][e2e]") {
  EtcdCluster etcd;
  REQUIRE(etcd.Start());
  Kv kv;
  const std::string url = etcd.url();
  CHECK(kv.Ok({"--url", url, "set", "user:1", R"({"name":"Ada"})"}).empty());
  CHECK(kv.Ok({"--url", url, "get", "user:1"}) == R"({"name":"Ada"})");
  CHECK(etcd.RawGet("/kvstore/kv/default/default/user:1") ==
        std::optional<std::string>(R"({"name":"Ada"})"));
  kv.Ok({"--url", url, "-n", "shop", "--app", "web", "set", "cart", "3"});
  CHECK(etcd.RawGet("/kvstore/kv/shop/web/cart") == std::optional<std::string>("3"));
  // What etcdctl shows is simple-golang-kv's layout, raw values.
  CommandResult ctl = RunCommand({"etcdctl", "--endpoints", etcd.endpoint(0), "get", "--prefix",
                                  "/kvstore/kv/"});
  CHECK(ctl.code == 0);
  CHECK(ctl.out == "/kvstore/kv/default/default/user:1\n{\"name\":\"Ada\"}\n"
                   "/kvstore/kv/shop/web/cart\n3\n");

  CommandResult r = kv.Run({"--url", url, "get", "nope"});
  CHECK(r.code == 1);
  CHECK(r.err == "kv: key not found: nope\n");
  CHECK(kv.Run({"--url", url, "has", "user:1"}).code == 0);
  CHECK(kv.Run({"--url", url, "has", "nope"}).code == 1);

  kv.Ok({"--url", url, "set", "user:2", "two"});
  kv.Ok({"--url", url, "set", "team", "x"});
  CHECK(kv.Ok({"--url", url, "ls", "user:"}) == "user:1\nuser:2\n");
  std::vector<Json> listed = JsonLines(kv.Ok({"--url", url, "ls", "-o", "json", "--values"}));
  REQUIRE(listed.size() == 3);
  CHECK(listed[0]["key"] == "team");
  CHECK(listed[1]["value"]["name"] == "Ada");

  Json meta = Json::parse(kv.Ok({"--url", url, "meta", "user:1", "-o", "json"}));
  const std::string etag = meta["etag"];
  r = kv.Run({"--url", url, "set", "user:1", "new", "--if-match", "1"});
  CHECK(r.code == 3);
  CHECK(OneErrorLine(r.err));
  kv.Ok({"--url", url, "set", "user:1", "new", "--if-match", etag});
  CHECK(kv.Run({"--url", url, "set", "user:1", "x", "--if-absent"}).code == 3);

  kv.Ok({"--url", url, "set", "s", "v", "--ttl", "1m"});
  std::string ttl = kv.Ok({"--url", url, "ttl", "s"});
  CHECK((ttl == "59s\n" || ttl == "1m\n"));
  CHECK(kv.Ok({"--url", url, "incr", "n", "5"}) == "5\n");

  // watch: the replay (--since --no-follow) and a live watcher.
  {
    r = kv.Run({"--url", url, "watch", "user:", "--since", "1", "--no-follow"});
    REQUIRE(r.code == 0);
    std::vector<Json> events = JsonLines(r.out);
    REQUIRE(events.size() == 3);
    CHECK(events[0]["type"] == "create");
    CHECK(events[0]["key"] == "user:1");
    CHECK(events[2]["type"] == "update");
    CHECK(events[2]["value"] == "new");
  }
  {
    Child watcher;
    std::string log = kv.dir().Sub("watch.out");
    std::vector<std::string> env;
    for (const std::string& e : kv.Env()) env.push_back(e);
    REQUIRE(watcher.Start({KV_PATH, "--url", url, "watch", "live"}, log, env));
    std::this_thread::sleep_for(700ms);
    kv.Ok({"--url", url, "set", "live/1", "a"});
    kv.Ok({"--url", url, "del", "live/1"});
    std::string out;
    for (int i = 0; i < 50 && JsonLines(out).size() < 2; ++i) {
      std::this_thread::sleep_for(100ms);
      out = ReadWholeFile(log);
    }
    std::vector<Json> events = JsonLines(out);
    REQUIRE(events.size() == 2);
    CHECK(events[0]["type"] == "create");
    CHECK(events[1]["type"] == "delete");
    CHECK(events[1]["key"] == "live/1");
  }

  CHECK(kv.Ok({"--url", url, "del", "user:1"}).empty());
  CHECK_FALSE(etcd.RawGet("/kvstore/kv/default/default/user:1"));
  r = kv.Run({"--url", url, "del", "user:1"});
  CHECK(r.code == 1);
}

TEST_CASE("kv export from kvd piped to kv --url etcd:// import moves keys and values and TTLs",
          "[remote][e2e]") {
  EtcdCluster etcd;
  REQUIRE(etcd.Start());
  TempDir dir{"kv-move"};
  KvdProcess kvd{KVD_PATH};
  REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock")}));
  Kv kv;
  const std::string local = "unix://" + dir.Sub("kvd.sock");
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  kv.Ok({"--url", local, "set", "doc", R"({"a":[1,2,{"b":null}]})"});
  kv.Ok({"--url", local, "set", "text", "hello world"});
  kv.Ok({"--url", local, "set", "bin", "-"}, binary);
  kv.Ok({"--url", local, "set", "session", "tok", "--ttl", "1h"});
  kv.Ok({"--url", local, "-n", "other", "set", "elsewhere", "x"});

  CommandResult r = kv.Shell("$KV --url " + local + " export | $KV --url " + etcd.url() + " import");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const std::string e = etcd.url();
  CHECK(kv.Ok({"--url", e, "get", "doc"}) == R"({"a":[1,2,{"b":null}]})");
  CHECK(kv.Ok({"--url", e, "get", "text"}) == "hello world");
  CHECK(kv.Ok({"--url", e, "get", "bin"}) == binary);
  Json meta = Json::parse(kv.Ok({"--url", e, "meta", "session", "-o", "json"}));
  REQUIRE(meta["ttl_ms"].is_number());
  CHECK(meta["ttl_ms"].get<int64_t>() > 3500'000);
  CHECK(kv.Run({"--url", e, "get", "elsewhere"}).code == 1);  // one namespace at a time
  int64_t lease = 0;
  etcd.RawGet("/kvstore/kv/default/default/session", 0, &lease);
  CHECK(lease != 0);

  // And back: etcd -> kvd, into another namespace.
  r = kv.Shell("$KV --url " + e + " export | $KV --url " + local + " -n back import");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(kv.Ok({"--url", local, "-n", "back", "get", "bin"}) == binary);
  Json back = Json::parse(kv.Ok({"--url", local, "-n", "back", "meta", "session", "-o", "json"}));
  CHECK(back["ttl_ms"].get<int64_t>() > 3500'000);

  // A bigger import: batches of txns, TTLs sharing leases.
  std::string lines;
  for (int i = 0; i < 2000; ++i) {
    Json line = {{"key", "many/" + std::to_string(i)}, {"value", i}};
    if (i % 2 == 0) line["ttl_ms"] = 600'000;
    lines += line.dump() + "\n";
  }
  kv.Ok({"--url", e, "import"}, lines);
  CHECK(kv.Ok({"--url", e, "get", "many/1999"}) == "1999");
  CHECK(JsonLines(kv.Ok({"--url", e, "ls", "many/", "-o", "json"})).size() == 2000);
  Json many = Json::parse(kv.Ok({"--url", e, "meta", "many/10", "-o", "json"}));
  CHECK(many["ttl_ms"].get<int64_t>() > 590'000);
}

TEST_CASE("kv with remote URLs: unsupported exits 5 and unreachable exits 4 naming the host",
          "[remote][e2e]") {
  EtcdCluster etcd;
  REQUIRE(etcd.Start());
  Kv kv;
  CommandResult r = kv.Run({"--url", etcd.url(), "ls", "--where", "a=1"});
  CHECK(r.code == 5);
  CHECK(r.err == "kv: etcd does not support ls --where\n");
  r = kv.Run({"--url", etcd.url(), "token", "ls"});
  CHECK(r.code == 5);
  CHECK(r.err == "kv: etcd does not support token administration\n");

  const std::string dead = "127.0.0.1:" + std::to_string(FreePort());
  r = kv.Run({"--url", "etcd://" + dead, "get", "k"});
  CHECK(r.code == 4);
  CHECK(OneErrorLine(r.err));
  CHECK(r.err.find(dead) != std::string::npos);

  // Fail-over: the first endpoint is down.
  kv.Ok({"--url", etcd.url(), "set", "k", "v"});
  CHECK(kv.Ok({"--url", "etcd://" + dead + "," + etcd.endpoint(0), "get", "k"}) == "v");
  CHECK(kv.Ok({"--url", "etcd://" + dead + "," + etcd.endpoint(0), "set", "k", "w"}).empty());
  CHECK(kv.Ok({"--url", etcd.url(), "get", "k"}) == "w");

  // keyvalue.dev over a kvd's TCP port with a token.
  TempDir dir{"kv-kvdev-cli"};
  KvdProcess kvd{KVD_PATH};
  REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock"), "--listen",
                     "127.0.0.1:0"}));
  std::string token = kv.Ok({"--url", "unix://" + dir.Sub("kvd.sock"), "token", "create", "acme"});
  token.pop_back();
  const std::string kvdev = "kvdev+http://127.0.0.1:" + std::to_string(kvd.tcp_port()) + "/v1";
  kv.Ok({"--url", kvdev, "--token", token, "set", "k", R"({"hello":"world"})"});
  CHECK(kv.Ok({"--url", kvdev, "--token", token, "get", "k"}) == R"({"hello":"world"})");
  CHECK(kv.Run({"--url", kvdev, "--token", token, "has", "k"}).code == 0);
  Json meta = Json::parse(kv.Ok({"--url", kvdev, "--token", token, "meta", "k", "-o", "json"}));
  CHECK(meta["content_type"] == "application/json");
  CHECK(kv.Run({"--url", kvdev, "--token", token, "set", "k", "x", "--if-absent"}).code == 3);
  for (const auto& [args, op] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"ls"}, "ls"},
           {{"set", "t", "v", "--ttl", "1m"}, "TTL"},
           {{"incr", "n"}, "incr"},
           {{"watch"}, "watch"},
           {{"clear", "--yes"}, "clear"},
           {{"-n", "other", "get", "k"}, "namespaces (a token's tenant has one bucket)"}}) {
    std::vector<std::string> full = {"--url", kvdev, "--token", token};
    full.insert(full.end(), args.begin(), args.end());
    r = kv.Run(full);
    CHECK(r.code == 5);
    CHECK(r.err == "kv: keyvalue.dev does not support " + op + "\n");
  }
  r = kv.Run({"--url", kvdev, "--token", "kv_wrong", "get", "k"});
  CHECK(r.code == 5);
  CHECK(kv.Ok({"--url", kvdev, "--token", token, "del", "k"}).empty());

  // A missing library: exit 5 with the reason.
  r = kv.Run({"--url", etcd.url(), "get", "k"}, "", {"KV_REMOTE_LIB=" + dir.Sub("missing.so")});
  CHECK(r.code == 5);
  CHECK(OneErrorLine(r.err));
  CHECK(r.err.find("missing.so") != std::string::npos);
}

TEST_CASE("kv --user --cacert --cert --key and their variables", "[remote][e2e]") {
  Kv kv;
  {
    EtcdCluster etcd;
    REQUIRE(etcd.Start());
    etcd.Raw("/v3/auth/user/add", {{"name", "root"}, {"password", "pw"}});
    etcd.Raw("/v3/auth/user/grant", {{"user", "root"}, {"role", "root"}});
    etcd.Raw("/v3/auth/enable", Json::object());
    const std::string url = etcd.url();
    kv.Ok({"--url", url, "--user", "root:pw", "set", "k", "v"});
    CHECK(kv.Run({"--url", url, "get", "k"}, "", {"KV_USER=root:pw"}).out == "v");
    CHECK(kv.Run({"--url", url, "get", "k"}, "", {"KV_USER=root", "KV_PASSWORD=pw"}).out == "v");
    CommandResult r = kv.Run({"--url", url, "get", "k"});
    CHECK(r.code == 5);
    CHECK(r.err.find("--user") != std::string::npos);
    r = kv.Run({"--url", url, "--user", "root:nope", "get", "k"});
    CHECK(r.code == 5);
    CHECK(OneErrorLine(r.err));
  }
  TempDir certs{"kv-cli-certs"};
  REQUIRE(MakeCertificates(certs));
  EtcdCluster::Tls tls{certs.Sub("server.pem"), certs.Sub("server.key"), certs.Sub("ca.pem")};
  EtcdCluster etcd;
  REQUIRE(etcd.Start(&tls));
  const std::string url = etcd.url();
  kv.Ok({"--url", url, "--cacert", certs.Sub("ca.pem"), "--cert", certs.Sub("client.pem"),
         "--key", certs.Sub("client.key"), "set", "secure", "yes"});
  CommandResult r = kv.Run({"--url", url, "get", "secure"}, "",
                           {"KV_CACERT=" + certs.Sub("ca.pem"), "KV_CERT=" + certs.Sub("client.pem"),
                            "KV_KEY=" + certs.Sub("client.key")});
  CHECK(r.out == "yes");
  r = kv.Run({"--url", url, "get", "secure"}, "",
             {"ETCD_CA_FILE=" + certs.Sub("ca.pem"), "ETCD_CERT_FILE=" + certs.Sub("client.pem"),
              "ETCD_KEY_FILE=" + certs.Sub("client.key")});
  CHECK(r.out == "yes");
  r = kv.Run({"--url", url, "--cacert", certs.Sub("ca.pem"), "get", "secure"});
  CHECK(r.code == 4);  // no client certificate: the handshake fails
  CHECK(r.err.find(etcd.endpoint(0)) != std::string::npos);
  r = kv.Run({"--url", url, "--cacert", certs.Sub("missing.pem"), "get", "secure"});
  CHECK(r.code != 0);
  CHECK(OneErrorLine(r.err));
}

TEST_CASE("kv loads no libcurl: not linked and not loaded on the way to a local kvd",
          "[remote][e2e]") {
  CommandResult ldd = RunCommand({"ldd", KV_PATH});
  REQUIRE(ldd.code == 0);
  CHECK(ldd.out.find("libcurl") == std::string::npos);
  CHECK(ldd.out.find("libkv_remote") == std::string::npos);

  TempDir dir{"kv-nocurl"};
  KvdProcess kvd{KVD_PATH};
  REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock"), "--listen",
                     "127.0.0.1:0"}));
  Kv kv;
  for (const std::string& url :
       {"unix://" + dir.Sub("kvd.sock"), "http://127.0.0.1:" + std::to_string(kvd.tcp_port())}) {
    CommandResult r = kv.Run({"--url", url, "set", "k", "v"}, "", {"LD_DEBUG=files"});
    if (url.starts_with("http")) CHECK(r.code == 5);  // no token over TCP: refused, not loaded
    if (!url.starts_with("http")) CHECK(r.code == 0);
    CHECK(r.err.find("libcurl") == std::string::npos);
    CHECK(r.err.find("libkv_remote") == std::string::npos);
  }
  // A remote URL is what loads it.
  CommandResult r = kv.Run({"--url", "etcd://127.0.0.1:" + std::to_string(FreePort()), "get", "k"},
                           "", {"LD_DEBUG=files"});
  CHECK(r.code == 4);
  CHECK(r.err.find("libkv_remote.so") != std::string::npos);
  CHECK(r.err.find("libcurl") != std::string::npos);
}

}  // namespace
}  // namespace kv::testing
