// End-to-end tests of kvd's native API: a real kvd process (the built binary)
// on a temporary Unix socket and a loopback port, driven with libcurl and, for
// keyvalue.dev's README examples, with the curl command line itself.
#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/http_client.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

#ifndef KVD_BINARY
#error "KVD_BINARY must name the kvd executable"
#endif

namespace kv::e2e {
namespace {


// ------------------------------------------------------------ kvd process

// Runs kvd on <dir>/kvd.sock and 127.0.0.1:<free port>, with data in <dir>/data.
class Kvd {
 public:
  explicit Kvd(std::string dir, std::vector<std::string> extra = {})
      : dir_(std::move(dir)), extra_(std::move(extra)) {
    Start();
  }
  ~Kvd() { Stop(); }
  Kvd(const Kvd&) = delete;
  Kvd& operator=(const Kvd&) = delete;

  void Start() {
    REQUIRE(pid_ <= 0);
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    std::vector<std::string> args = {KVD_BINARY,       "--data-dir", dir_ + "/data",
                                     "--socket",       socket(),     "--listen",
                                     "127.0.0.1:0",    "--log-file", dir_ + "/kvd.log"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
    ::close(out[1]);
    stdout_fd_ = out[0];
    // Wait for "listening on tcp 127.0.0.1:PORT".
    std::string seen;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    port_ = 0;
    while (port_ == 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) FAIL("kvd did not report its listeners; stdout: " << seen << Log());
      pollfd p{stdout_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[512];
      ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
      if (n <= 0) FAIL("kvd exited before listening; stdout: " << seen << Log());
      seen.append(buf, static_cast<size_t>(n));
      size_t at = seen.find("listening on tcp ");
      size_t nl = at == std::string::npos ? at : seen.find('\n', at);
      if (nl != std::string::npos) {
        std::string endpoint = seen.substr(at + 17, nl - at - 17);
        port_ = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
      }
    }
  }

  // SIGTERM, and the exit status (0 after a clean shutdown).
  int Stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    ::close(stdout_fd_);
    stdout_fd_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string socket() const { return dir_ + "/kvd.sock"; }
  int port() const { return port_; }
  std::string tcp_base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string Log() const {
    std::ifstream in(dir_ + "/kvd.log");
    std::stringstream s;
    s << in.rdbuf();
    return "\nkvd log:\n" + s.str();
  }

 private:
  std::string dir_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
};

std::string CreateToken(const Kvd& kvd, const std::string& tenant) {
  Client admin = Client::Unix(kvd.socket());
  Reply r = admin.Call("POST", "/v1/admin/tokens", Json{{"tenant", tenant}}.dump(),
                       {{"Content-Type", "application/json"}});
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.JsonBody()["token"];
}

// Runs a shell command, returns its stdout.
std::string Shell(const std::string& command) {
  testing::CommandResult r = testing::RunCommand(command);
  INFO(command << "\n" << r.out);
  REQUIRE(r.code == 0);
  return r.out;
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// ----------------------------------------------------------------- tests

TEST_CASE("keyvalue.dev's README examples work verbatim against kvd", "[e2e]") {
  kv::testing::TempDir dir("kv-e2e");
  Kvd kvd(dir.str());
  std::string token = CreateToken(kvd, "acme");
  // The README's commands, character for character; only the base URL and the
  // token are substituted.
  const std::string kPut =
      "curl -X PUT https://api.keyvalue.dev/v1/kv/mykey \\\n"
      "  -H \"Authorization: Bearer YOUR_TOKEN\" \\\n"
      "  -H \"Content-Type: application/json\" \\\n"
      "  -d '{\"hello\": \"world\"}'";
  const std::string kGet =
      "curl https://api.keyvalue.dev/v1/kv/mykey \\\n"
      "  -H \"Authorization: Bearer YOUR_TOKEN\"";
  const std::string kDelete =
      "curl -X DELETE https://api.keyvalue.dev/v1/kv/mykey \\\n"
      "  -H \"Authorization: Bearer YOUR_TOKEN\"";
  const std::string kHead =
      "curl -I https://api.keyvalue.dev/v1/kv/mykey \\\n"
      "  -H \"Authorization: Bearer YOUR_TOKEN\"";

  for (const std::string base : {"/v1", "/api/v1"}) {
    INFO(base);
    auto run = [&](const std::string& example) {
      std::string cmd = ReplaceAll(example, "https://api.keyvalue.dev/v1", kvd.tcp_base() + base);
      cmd = ReplaceAll(cmd, "YOUR_TOKEN", token);
      // -s keeps progress off; -w appends the status on a line of its own.
      return Shell(cmd + " -s -w '\\n%{http_code}'");
    };
    auto split = [](const std::string& out) {
      size_t nl = out.rfind('\n');
      return std::pair{out.substr(0, nl), std::stoi(out.substr(nl + 1))};
    };

    auto [put_body, put_status] = split(run(kPut));
    CHECK(put_status == 201);
    Json put = Json::parse(put_body, nullptr, false);
    REQUIRE(!put.is_discarded());
    CHECK(put["success"] == true);
    CHECK(put["etag"].is_string());

    auto [get_body, get_status] = split(run(kGet));
    CHECK(get_status == 200);
    CHECK(get_body == R"({"hello": "world"})");

    auto [head_out, head_status] = split(run(kHead));
    CHECK(head_status == 200);
    CHECK(head_out.find("ETag: \"" + put["etag"].get<std::string>() + "\"") != std::string::npos);
    CHECK(head_out.find("Content-Length: 18") != std::string::npos);
    CHECK(head_out.find("Content-Type: application/json") != std::string::npos);

    // Again: an update is 200.
    CHECK(split(run(kPut)).second == 200);

    auto [del_body, del_status] = split(run(kDelete));
    CHECK(del_status == 204);
    CHECK(del_body.empty());
    auto [gone_body, gone_status] = split(run(kGet));
    CHECK(gone_status == 404);
    CHECK(Json::parse(gone_body)["code"] == "NOT_FOUND");
    CHECK(split(run(kDelete)).second == 404);
  }
}

TEST_CASE("TCP needs a valid Bearer token: 401 with WWW-Authenticate", "[e2e]") {
  kv::testing::TempDir dir("kv-e2e");
  Kvd kvd(dir.str());
  Client::Unix(kvd.socket()).Call("PUT", "/v1/kv/k", "v");

  for (const std::string token : {"", "kv_wrongwrongwrongwrongwrongwrongwrongwrongwro"}) {
    Client c = Client::Tcp(kvd.tcp_base(), token);
    for (const char* method : {"GET", "PUT", "DELETE"}) {
      Reply r = c.Call(method, "/v1/kv/k", method == std::string("PUT") ? "x" : "");
      CHECK(r.status == 401);
      CHECK(r.Header("www-authenticate").rfind("Bearer", 0) == 0);
      CHECK(r.ErrorCode() == "UNAUTHORIZED");
    }
    Reply head = c.Call("HEAD", "/v1/kv/k");
    CHECK(head.status == 401);
    CHECK(head.body.empty());
  }
  CHECK(Client::Unix(kvd.socket()).Call("GET", "/v1/kv/k").body == "v");

  // A revoked token stops working at once.
  Client admin = Client::Unix(kvd.socket());
  Reply made = admin.Call("POST", "/v1/admin/tokens", R"({"tenant":"acme"})");
  REQUIRE(made.status == 201);
  Client c = Client::Tcp(kvd.tcp_base(), made.JsonBody()["token"]);
  CHECK(c.Call("PUT", "/v1/kv/a", "1").status == 201);
  std::string id = made.JsonBody()["id"];
  CHECK(admin.Call("GET", "/v1/admin/tokens").JsonBody()["tokens"][0]["id"] == id);
  CHECK(admin.Call("DELETE", "/v1/admin/tokens/" + id).status == 204);
  CHECK(c.Call("GET", "/v1/kv/a").status == 401);
  // Admin routes are not reachable over TCP.
  std::string other = CreateToken(kvd, "beta");
  Reply forbidden = Client::Tcp(kvd.tcp_base(), other).Call("POST", "/v1/admin/tokens", R"({"tenant":"x"})");
  CHECK(forbidden.status == 403);
  CHECK(forbidden.ErrorCode() == "FORBIDDEN");
  const std::string backup = dir.Sub("tcp-backup");
  Reply no_backup = Client::Tcp(kvd.tcp_base(), other)
                        .Call("POST", "/v1/admin/backup", Json{{"dir", backup}}.dump());
  CHECK(no_backup.status == 403);
  CHECK_FALSE(std::filesystem::exists(backup));
}

TEST_CASE("tenants are isolated: another tenant's key is simply not there", "[e2e]") {
  kv::testing::TempDir dir("kv-e2e");
  Kvd kvd(dir.str());
  Client acme = Client::Tcp(kvd.tcp_base(), CreateToken(kvd, "acme"));
  Client beta = Client::Tcp(kvd.tcp_base(), CreateToken(kvd, "beta"));
  CHECK(acme.Call("PUT", "/v1/kv/plan", "acme's plan").status == 201);
  Reply r = beta.Call("GET", "/v1/kv/plan");
  CHECK(r.status == 404);
  CHECK(r.ErrorCode() == "NOT_FOUND");
  CHECK(beta.Call("HEAD", "/v1/kv/plan").status == 404);
  CHECK(beta.Call("DELETE", "/v1/kv/plan").status == 404);
  CHECK(beta.Call("PUT", "/v1/kv/plan", "x", {{"If-Match", "*"}}).status == 412);
  CHECK(beta.Call("GET", "/v1/keys").JsonBody()["keys"].empty());
  CHECK(beta.Call("DELETE", "/v1/keys?confirm=1").JsonBody()["deleted"] == 0);
  CHECK(acme.Call("GET", "/v1/kv/plan").body == "acme's plan");
  CHECK(Client::Unix(kvd.socket()).Call("GET", "/v1/kv/plan").status == 404);
}

TEST_CASE("every native route over the Unix socket", "[e2e]") {
  kv::testing::TempDir dir("kv-e2e");
  Kvd kvd(dir.str());
  Client c = Client::Unix(kvd.socket());

  // PUT / GET / HEAD / conditions.
  Reply put = c.Call("PUT", "/v1/kv/user%2F1?ttl=1h", R"({"name":"Ada","n":1})",
                     {{"Content-Type", "application/json"}});
  REQUIRE(put.status == 201);
  std::string etag = put.Header("etag");
  CHECK(etag == "\"" + put.JsonBody()["etag"].get<std::string>() + "\"");
  Reply get = c.Call("GET", "/v1/kv/user%2F1");
  CHECK(get.status == 200);
  CHECK(get.Header("content-type") == "application/json");
  CHECK(get.Header("etag") == etag);
  CHECK(!get.Header("kv-expires-at").empty());
  CHECK(!get.Header("last-modified").empty());
  CHECK(c.Call("GET", "/v1/kv/user%2F1", "", {{"If-None-Match", etag}}).status == 304);
  Reply head = c.Call("HEAD", "/v1/kv/user%2F1");
  CHECK(head.status == 200);
  CHECK(head.Header("content-length") == std::to_string(get.body.size()));
  CHECK(head.body.empty());
  Reply missing_head = c.Call("HEAD", "/v1/kv/nope");
  CHECK(missing_head.status == 404);
  CHECK(missing_head.body.empty());
  CHECK(c.Call("PUT", "/v1/kv/user%2F1", "{}", {{"If-None-Match", "*"}}).ErrorCode() ==
        "PRECONDITION_FAILED");
  CHECK(c.Call("PUT", "/v1/kv/user%2F1", "{}", {{"If-Match", "\"999999\""}}).status == 412);

  // PATCH.
  Reply patched = c.Call("PATCH", "/v1/kv/user%2F1", R"({"n":null,"age":36})",
                         {{"Content-Type", "application/merge-patch+json"}, {"If-Match", etag}});
  CHECK(patched.status == 200);
  CHECK(patched.JsonBody() == Json::parse(R"({"name":"Ada","age":36})"));
  CHECK(c.Call("PATCH", "/v1/kv/user%2F1", "{}", {{"Content-Type", "text/plain"}}).status == 415);
  CHECK(c.Call("PATCH", "/v1/kv/user%2F1", "{bad",
               {{"Content-Type", "application/merge-patch+json"}})
            .status == 400);

  // meta, expire, persist.
  Json meta = c.Call("GET", "/v1/kv/user%2F1/meta").JsonBody();
  CHECK(meta["key"] == "user/1");
  CHECK(meta["ttl_ms"].get<int64_t>() > 3'500'000);
  CHECK(c.Call("POST", "/v1/kv/user%2F1/expire?ttl=10s").JsonBody()["ttl_ms"].get<int64_t>() <=
        10'000);
  CHECK(c.Call("POST", "/v1/kv/user%2F1/persist").JsonBody()["ttl_ms"].is_null());
  CHECK(c.Call("POST", "/v1/kv/user%2F1/expire?ttl=nope").status == 400);

  // incr / decr.
  CHECK(c.Call("POST", "/v1/kv/hits/incr").body == "1");
  CHECK(c.Call("POST", "/v1/kv/hits/incr?by=41").body == "42");
  CHECK(c.Call("POST", "/v1/kv/hits/decr", "2").body == "40");
  CHECK(c.Call("POST", "/v1/kv/user%2F1/incr").ErrorCode() == "TYPE_MISMATCH");

  // TTL with ms precision expires for every read.
  CHECK(c.Call("PUT", "/v1/kv/brief", "x", {{"KV-TTL", "300ms"}}).status == 201);
  CHECK(c.Call("GET", "/v1/kv/brief").status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(c.Call("GET", "/v1/kv/brief").status == 404);

  // List, where, paging.
  for (int i = 0; i < 5; ++i) {
    c.Call("PUT", "/v1/kv/item:" + std::to_string(i), Json{{"i", i}, {"even", i % 2 == 0}}.dump(),
           {{"Content-Type", "application/json"}});
  }
  Json page = c.Call("GET", "/v1/keys?prefix=item:&limit=2&values=1").JsonBody();
  REQUIRE(page["keys"].size() == 2);
  CHECK(page["keys"][0]["value"]["i"] == 0);
  CHECK(page["next_cursor"].is_string());
  Json next = c.Call("GET", "/v1/keys?prefix=item:&limit=2&cursor=" +
                               page["next_cursor"].get<std::string>())
                  .JsonBody();
  CHECK(next["keys"][0]["key"] == "item:2");
  Json even = c.Call("GET", "/v1/keys?prefix=item:&where=even=true").JsonBody();
  CHECK(even["keys"].size() == 3);
  CHECK(c.Call("GET", "/v1/keys?limit=0").ErrorCode() == "BAD_REQUEST");

  // Namespaces, stats.
  c.Call("PUT", "/v1/kv/k", "v", {{"KV-Namespace", "prod"}, {"KV-App-Name", "web"}});
  CHECK(c.Call("GET", "/v1/kv/k", "", {{"KV-Namespace", "prod"}, {"KV-App-Name", "web"}}).body ==
        "v");
  CHECK(c.Call("GET", "/v1/kv/k").status == 404);
  Json stats = c.Call("GET", "/v1/stats?ns=prod&app=web").JsonBody();
  CHECK(stats["keys"] == 1);
  CHECK(stats["bytes"] == 2);
  Json namespaces = c.Call("GET", "/v1/namespaces").JsonBody()["namespaces"];
  CHECK(namespaces.size() == 2);

  // Clear.
  CHECK(c.Call("DELETE", "/v1/keys").ErrorCode() == "CONFIRMATION_REQUIRED");
  Reply cleared = c.Call("DELETE", "/v1/keys?confirm=1");
  CHECK(cleared.status == 200);
  CHECK(cleared.JsonBody()["deleted"] == 7);  // user/1, hits, item:0..4
  CHECK(c.Call("GET", "/v1/keys").JsonBody()["keys"].empty());

  // Unknown route and method.
  CHECK(c.Call("GET", "/v1/nothing").ErrorCode() == "NOT_FOUND");
  Reply method = c.Call("POST", "/v1/kv/k", "x");
  CHECK(method.status == 405);
  CHECK(!method.Header("allow").empty());
}

TEST_CASE("limits over a real connection: long key 400, big value 413", "[e2e]") {
  kv::testing::TempDir dir("kv-e2e");
  Kvd kvd(dir.str());
  Client c = Client::Tcp(kvd.tcp_base(), CreateToken(kvd, "acme"));
  Reply long_key = c.Call("PUT", "/v1/kv/" + std::string(1025, 'k'), "v");
  CHECK(long_key.status == 400);
  CHECK(long_key.ErrorCode() == "KEY_TOO_LONG");
  std::string big(10u << 20, 'x');
  CHECK(c.Call("PUT", "/v1/kv/big", big).status == 201);
  big.push_back('x');
  Client c2 = Client::Tcp(kvd.tcp_base(), CreateToken(kvd, "acme"));
  Reply too_big = c2.Call("PUT", "/v1/kv/big", big);
  CHECK(too_big.status == 413);
  CHECK(too_big.ErrorCode() == "OBJECT_TOO_LARGE");
  Client c3 = Client::Tcp(kvd.tcp_base(), CreateToken(kvd, "acme"));
  CHECK(c3.Call("HEAD", "/v1/kv/big").Header("content-length") == std::to_string(10u << 20));
}

TEST_CASE("concurrent CAS with If-Match from several connections loses no update", "[e2e]") {
  kv::testing::TempDir dir("kv-e2e");
  Kvd kvd(dir.str());
  std::string token = CreateToken(kvd, "acme");
  REQUIRE(Client::Tcp(kvd.tcp_base(), token).Call("PUT", "/v1/kv/counter", "0").status == 201);
  constexpr int kClients = 6;
  constexpr int kEach = 15;
  std::atomic<int> conflicts{0};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&] {
      Client c = Client::Tcp(kvd.tcp_base(), token);
      for (int done = 0; done < kEach;) {
        Reply got = c.Call("GET", "/v1/kv/counter");
        if (got.status != 200 || got.body.empty() ||
            got.body.find_first_not_of("0123456789") != std::string::npos) {
          ++unexpected;
          return;
        }
        int n = std::stoi(got.body);
        Reply put = c.Call("PUT", "/v1/kv/counter", std::to_string(n + 1),
                           {{"If-Match", got.Header("etag")}});
        if (put.status == 200) {
          ++done;
        } else if (put.status == 412) {
          ++conflicts;
        } else {
          ++unexpected;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(unexpected == 0);
  CHECK(Client::Tcp(kvd.tcp_base(), token).Call("GET", "/v1/kv/counter").body ==
        std::to_string(kClients * kEach));
  // Concurrent incr as well.
  threads.clear();
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&] {
      Client c = Client::Tcp(kvd.tcp_base(), token);
      for (int i = 0; i < kEach; ++i) c.Call("POST", "/v1/kv/hits/incr");
    });
  }
  for (auto& t : threads) t.join();
  CHECK(Client::Tcp(kvd.tcp_base(), token).Call("GET", "/v1/kv/hits").body ==
        std::to_string(kClients * kEach));
}

TEST_CASE("watch streams NDJSON, replays from a revision, and ends when the client leaves",
          "[e2e]") {
  kv::testing::TempDir dir("kv-e2e");
  Kvd kvd(dir.str());
  Client c = Client::Unix(kvd.socket());
  uint64_t start = c.Call("GET", "/v1/stats").JsonBody()["revision"];
  c.Call("PUT", "/v1/kv/w:1", "one");
  c.Call("PUT", "/v1/kv/other", "x");
  c.Call("DELETE", "/v1/kv/w:1");

  // Replay, then the stream ends by itself (follow=0).
  std::vector<Json> replay;
  Reply r = Client::Unix(kvd.socket()).Stream(
      "/v1/watch?prefix=w:&follow=0&since=" + std::to_string(start),
      [&](const Json& line) {
        replay.push_back(line);
        return true;
      });
  CHECK(r.status == 200);
  CHECK(r.Header("content-type") == "application/x-ndjson");
  REQUIRE(replay.size() == 2);
  CHECK(replay[0]["type"] == "create");
  CHECK(replay[0]["value"] == "one");
  CHECK(replay[1]["type"] == "delete");

  // Live: a watcher on another connection sees writes as they happen; it
  // hangs up after two events and kvd carries on.
  // Watching from the current revision: no write below can slip past it.
  uint64_t now = c.Call("GET", "/v1/stats").JsonBody()["revision"];
  std::vector<Json> live;
  std::thread watcher([&] {
    Client w = Client::Unix(kvd.socket());
    w.Stream("/v1/watch?prefix=live:&since=" + std::to_string(now), [&](const Json& line) {
      live.push_back(line);
      return live.size() < 2;
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  c.Call("PUT", "/v1/kv/ignored", "x");
  c.Call("PUT", "/v1/kv/live:a", "1");
  c.Call("PUT", "/v1/kv/live:b", "2");
  watcher.join();
  REQUIRE(live.size() == 2);
  CHECK(live[0]["key"] == "live:a");
  CHECK(live[1]["key"] == "live:b");
  CHECK(c.Call("GET", "/v1/kv/live:a").status == 200);

  Reply bad = c.Call("GET", "/v1/watch?since=abc");
  CHECK(bad.ErrorCode() == "BAD_REQUEST");
}

TEST_CASE("a restart keeps data, ETags and tokens", "[e2e]") {
  kv::testing::TempDir dir("kv-e2e");
  std::string token, etag;
  {
    Kvd kvd(dir.str());
    token = CreateToken(kvd, "acme");
    Client c = Client::Tcp(kvd.tcp_base(), token);
    Reply put = c.Call("PUT", "/v1/kv/durable", "kept", {{"Content-Type", "text/plain"}});
    REQUIRE(put.status == 201);
    etag = put.Header("etag");
    c.Call("PUT", "/v1/kv/ttl?ttl=1h", "also kept");
    CHECK(kvd.Stop() == 0);
  }
  struct stat st;
  REQUIRE(::stat((dir.str() + "/data/tokens.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  Kvd kvd(dir.str());
  Client c = Client::Tcp(kvd.tcp_base(), token);
  Reply get = c.Call("GET", "/v1/kv/durable");
  CHECK(get.status == 200);
  CHECK(get.body == "kept");
  CHECK(get.Header("etag") == etag);
  CHECK(get.Header("content-type") == "text/plain");
  CHECK(c.Call("GET", "/v1/kv/ttl").Header("kv-ttl-ms").size() > 0);
  // Revisions go on growing after a restart.
  Reply put = c.Call("PUT", "/v1/kv/durable", "new", {{"If-Match", etag}});
  CHECK(put.status == 200);
  CHECK(std::stoull(put.JsonBody()["etag"].get<std::string>()) >
        std::stoull(etag.substr(1, etag.size() - 2)));
}

}  // namespace
}  // namespace kv::e2e
