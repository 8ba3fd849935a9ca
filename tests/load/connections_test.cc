// Many connections against the real kvd: 2,000 idle keep-alive connections
// next to 64 busy ones (the busy ones all succeed; their throughput with and
// without the idle ones is reported, not asserted), the connection cap
// (answered 503 at once, never a hang), and slow clients (a header or a body
// trickled a byte a second, a client that sends nothing, one that does not
// read its answer) cut off by kvd's timeouts while busy clients are served.
//
// KV_LOAD_IDLE_CONNECTIONS (default 2000), KV_LOAD_BUSY_CONNECTIONS (64),
// KV_LOAD_BUSY_REQUESTS (requests per busy connection and run, 200).
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/daemon/http/raw_client.h"
#include "tests/e2e/http_client.h"
#include "tests/e2e/kvd_process.h"
#include "tests/load/load_support.h"
#include "tests/support/temp_dir.h"

namespace kv::load {
namespace {

using e2e::Client;
using e2e::Reply;
using kv::testing::KvdProcess;
using kv::testing::RawConnection;
using kv::testing::RawResponse;
using kv::testing::TempDir;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string Request(const std::string& method, const std::string& path, const std::string& token,
                    const std::string& body = "") {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) r += "Authorization: Bearer " + token + "\r\n";
  return r + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string CreateToken(const std::string& socket) {
  Client admin = Client::Unix(socket);
  Reply r = admin.Call("POST", "/v1/admin/tokens", R"({"tenant":"load"})",
                       {{"Content-Type", "application/json"}});
  REQUIRE(r.status == 201);
  return r.JsonBody()["token"].get<std::string>();
}

std::string Metrics(const std::string& socket) {
  return Client::Unix(socket).Call("GET", "/metrics").body;
}

// `connections` clients over TCP, each putting and reading back its own
// keys `requests` times. Returns requests per second; *failures counts
// every answer that was not the right one.
double BusyRun(uint16_t port, const std::string& token, int connections, int requests,
               const std::string& tag, std::atomic<int>* failures) {
  std::vector<std::thread> threads;
  auto start = Steady::now();
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back([&, i] {
      Client c = Client::Tcp("http://127.0.0.1:" + std::to_string(port), token);
      for (int n = 0; n < requests / 2; ++n) {
        std::string key = "/v1/kv/busy-" + tag + "-" + std::to_string(i) + "-" + std::to_string(n % 16);
        std::string value = tag + ":" + std::to_string(i) + ":" + std::to_string(n);
        Reply put = c.Call("PUT", key, value);
        Reply get = c.Call("GET", key);
        if ((put.status != 200 && put.status != 201) || get.status != 200 || get.body != value) {
          failures->fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Steady::now() - start).count();
  return connections * (requests / 2) * 2 / seconds;
}

// An idle connection: made one request, then waits.
struct Idle {
  RawConnection c;
  bool unix_socket = false;
  Steady::time_point last_answer;
};

TEST_CASE("2,000 idle keep-alive connections beside 64 busy ones", "[load][connections]") {
  const int idle_count = static_cast<int>(EnvInt("KV_LOAD_IDLE_CONNECTIONS", 2000));
  const int busy_count = static_cast<int>(EnvInt("KV_LOAD_BUSY_CONNECTIONS", 64));
  const int requests = static_cast<int>(EnvInt("KV_LOAD_BUSY_REQUESTS", 200));
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  const uint64_t needed = static_cast<uint64_t>(idle_count + busy_count) + 200;
  if (limit.rlim_max < needed) {
    WARN("skipped: the hard open files limit (" << limit.rlim_max << ") is under " << needed);
    return;
  }

  // kvd starts with the soft limit of 1024 that desktops have, and must
  // raise it itself; this process raises its own once kvd runs.
  TempDir dir("kv-conns");
  KvdProcess kvd;
  rlimit desktop = limit;
  desktop.rlim_cur = std::min<rlim_t>(limit.rlim_cur, 1024);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &desktop) == 0);
  bool started = kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock"),
                            "--listen", "127.0.0.1:0"});
  REQUIRE(RaiseOwnFileLimit(needed) >= needed);
  REQUIRE(started);
  const auto kvd_files = OpenFilesLimit(kvd.pid());
  CHECK(kvd_files.first == kvd_files.second);  // soft raised to hard
  CHECK(kvd_files.first == std::min<uint64_t>(limit.rlim_max, uint64_t{1} << 20));

  const std::string token = CreateToken(kvd.unix_socket());
  const uint16_t port = kvd.tcp_port();
  std::atomic<int> failures{0};
  const double alone = BusyRun(port, token, busy_count, requests, "alone", &failures);

  // Idle connections, a quarter over the Unix socket; each makes a request.
  const uint64_t rss_before = RssBytes(kvd.pid());
  std::vector<std::unique_ptr<Idle>> idle;
  int refused = 0;
  for (int i = 0; i < idle_count; ++i) {
    auto conn = std::make_unique<Idle>();
    conn->unix_socket = i % 4 == 0;
    bool ok = conn->unix_socket ? conn->c.ConnectUnix(kvd.unix_socket()) : conn->c.ConnectTcp(port);
    ok = ok && conn->c.Send(Request("GET", "/v1/kv/idle-probe", conn->unix_socket ? "" : token));
    auto r = ok ? conn->c.ReadResponse(false, 10s) : std::nullopt;
    if (!r || r->status != 404) {
      ++refused;
      continue;
    }
    conn->last_answer = Steady::now();
    idle.push_back(std::move(conn));
  }
  REQUIRE(refused == 0);
  std::this_thread::sleep_for(200ms);
  const uint64_t rss_idle = RssBytes(kvd.pid());
  const std::string metrics = Metrics(kvd.unix_socket());
  CHECK(MetricValue(metrics, "kvd_http_connections") >= static_cast<uint64_t>(idle_count));

  const double beside_idle = BusyRun(port, token, busy_count, requests, "beside", &failures);
  CHECK(failures.load() == 0);

  // Every idle connection is still served, or was closed by the idle timeout
  // (60 s by default) if this machine took that long.
  int kept = 0, timed_out = 0, lost = 0;
  for (auto& conn : idle) {
    auto r = conn->c.Send(Request("GET", "/v1/kv/idle-probe", conn->unix_socket ? "" : token))
                 ? conn->c.ReadResponse(false, 10s)
                 : std::nullopt;
    if (r && r->status == 404) {
      ++kept;
    } else if (Steady::now() - conn->last_answer >= 59s) {
      ++timed_out;
    } else {
      ++lost;
    }
  }
  CHECK(lost == 0);
  CHECK(kept + timed_out == idle_count);
  CHECK(MetricValue(Metrics(kvd.unix_socket()), "kvd_http_connections_rejected_total") == 0);

  std::printf("\nconnections: %d busy connections x %d requests (PUT + GET of their own keys)\n",
              busy_count, requests);
  std::printf("  alone:                 %8.0f requests/s\n", alone);
  std::printf("  beside %d idle:      %8.0f requests/s (%.2fx)\n", idle_count, beside_idle,
              beside_idle / alone);
  std::printf("  kvd RSS: %.1f MiB before the idle connections, %.1f MiB with them (%.1f KiB each)\n",
              MiB(rss_before), MiB(rss_idle),
              static_cast<double>(rss_idle - std::min(rss_idle, rss_before)) / 1024 / idle_count);
  std::printf("  idle connections afterwards: %d kept, %d closed by the idle timeout\n", kept,
              timed_out);
  std::printf("  kvd open files limit: %llu (raised from %llu)\n",
              static_cast<unsigned long long>(kvd_files.first),
              static_cast<unsigned long long>(desktop.rlim_cur));
  std::fflush(stdout);

  idle.clear();
  kvd.Signal(SIGTERM);
  CHECK(kvd.Wait(30s) == 0);
}

TEST_CASE("connections over --max-connections get 503 at once, never a hang",
          "[load][connections]") {
  constexpr int kCap = 100;
  RaiseOwnFileLimit(1024);
  TempDir dir("kv-cap");
  KvdProcess kvd;
  REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock"), "--listen",
                     "127.0.0.1:0", "--max-connections", std::to_string(kCap)}));
  const uint16_t port = kvd.tcp_port();
  const std::string token = CreateToken(kvd.unix_socket());

  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < kCap; ++i) {
    auto c = std::make_unique<RawConnection>();
    bool unix_socket = i % 2 == 0;  // both listeners count
    REQUIRE((unix_socket ? c->ConnectUnix(kvd.unix_socket()) : c->ConnectTcp(port)));
    REQUIRE(c->Send(Request("GET", "/healthz", "")));
    auto r = c->ReadResponse(false, 10s);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    held.push_back(std::move(c));
  }

  // One more, on either listener: 503 with a JSON error, then closed.
  for (bool unix_socket : {false, true}) {
    RawConnection extra;
    REQUIRE((unix_socket ? extra.ConnectUnix(kvd.unix_socket()) : extra.ConnectTcp(port)));
    extra.Send(Request("GET", "/v1/kv/x", unix_socket ? "" : token));
    auto r = extra.ReadResponse(false, 5s);
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(r->Header("Connection") == "close");
    CHECK(r->body.find("\"code\":\"UNAVAILABLE\"") != std::string::npos);
    CHECK(r->body.find("too many open connections") != std::string::npos);
    CHECK(extra.WaitForClose(5s));
  }

  // A burst of 300 over the cap: each gets its 503 or is closed; none waits.
  std::vector<std::unique_ptr<RawConnection>> burst;
  for (int i = 0; i < 300; ++i) {
    auto c = std::make_unique<RawConnection>();
    if (!c->ConnectTcp(port)) continue;  // a full listen queue refuses: also an answer
    c->Send(Request("GET", "/v1/kv/x", token));
    burst.push_back(std::move(c));
  }
  int answered = 0, closed = 0, hung = 0;
  for (auto& c : burst) {
    auto r = c->ReadResponse(false, 10s);
    if (r && r->status == 503) {
      ++answered;
    } else if (c->WaitForClose(1s)) {
      ++closed;
    } else {
      ++hung;
    }
  }
  CHECK(hung == 0);
  CHECK(answered > 0);
  std::printf("\nconnection cap %d: a burst of %zu more: %d answered 503, %d closed, %d hung\n",
              kCap, burst.size(), answered, closed, hung);

  // Room again once some leave.
  held.resize(kCap - 10);
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    RawConnection c;
    served = c.ConnectTcp(port) && c.Send(Request("GET", "/v1/kv/x", token)) && [&] {
      auto r = c.ReadResponse(false, 5s);
      return r && r->status == 404;
    }();
    if (!served) std::this_thread::sleep_for(50ms);
  }
  CHECK(served);
  held.clear();
  burst.clear();
  kvd.Signal(SIGTERM);
  CHECK(kvd.Wait(30s) == 0);
}

TEST_CASE("under a low open files limit the default cap shrinks to fit: 503, not a stall",
          "[load][connections]") {
  RaiseOwnFileLimit(2048);
  TempDir dir("kv-fdcap");
  // prlimit sets kvd's limit, hard and soft, then runs it.
  KvdProcess kvd("/usr/bin/prlimit");
  REQUIRE(kvd.Start({"--nofile=600:600", KVD_PATH, "--data-dir", dir.Sub("data"), "--socket",
                     dir.Sub("kvd.sock"), "--listen", "127.0.0.1:0"}));
  CHECK(kvd.Stderr().find("open files limited to 600: at most 344 connections") !=
        std::string::npos);
  const uint16_t port = kvd.tcp_port();
  std::vector<std::unique_ptr<RawConnection>> conns;
  int served = 0, refused = 0, other = 0;
  for (int i = 0; i < 400; ++i) {
    auto c = std::make_unique<RawConnection>();
    if (!c->ConnectTcp(port) || !c->Send(Request("GET", "/healthz", ""))) {
      ++other;
      continue;
    }
    auto r = c->ReadResponse(false, 10s);
    if (r && r->status == 200) {
      ++served;
      conns.push_back(std::move(c));
    } else if (r && r->status == 503) {
      ++refused;
    } else {
      ++other;
    }
  }
  CHECK(served == 344);
  CHECK(refused == 400 - 344);
  CHECK(other == 0);
  CHECK(kvd.Stderr().find("Too many open files") == std::string::npos);
  conns.clear();
  kvd.Signal(SIGTERM);
  CHECK(kvd.Wait(30s) == 0);
}

// Sends `data` a byte per second until kvd closes the connection; returns
// whether it did before all of it was sent.
bool TrickleUntilCut(RawConnection& c, const std::string& data) {
  for (char ch : data) {
    if (!c.Send(std::string(1, ch))) return true;
    if (c.WaitForClose(1s)) return true;
  }
  return false;
}

TEST_CASE("slow clients are cut off by the timeouts while busy ones are served",
          "[load][connections]") {
  RaiseOwnFileLimit(1024);
  TempDir dir("kv-slow");
  KvdProcess kvd;
  REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock"), "--listen",
                     "127.0.0.1:0", "--read-timeout", "2s", "--idle-timeout", "3s",
                     "--write-timeout", "2s"}));
  const uint16_t port = kvd.tcp_port();
  const std::string token = CreateToken(kvd.unix_socket());
  const std::string big(9 << 20, 'v');
  REQUIRE(Client::Tcp("http://127.0.0.1:" + std::to_string(port), token)
              .Call("PUT", "/v1/kv/big", big)
              .status == 201);

  constexpr int kEach = 20;
  std::atomic<int> header_cut{0}, body_cut{0}, silent_cut{0}, reader_cut{0};
  std::vector<std::thread> slow;
  const auto start = Steady::now();
  std::string padded = Request("GET", "/v1/kv/x", token);
  padded.insert(padded.find("\r\n") + 2, "X-Pad: " + std::string(200, 'p') + "\r\n");
  for (int i = 0; i < kEach; ++i) {
    // The header, a byte a second.
    slow.emplace_back([&] {
      RawConnection c;
      if (c.ConnectTcp(port) && TrickleUntilCut(c, padded)) header_cut.fetch_add(1);
    });
    // The whole header at once, then the body a byte a second.
    slow.emplace_back([&] {
      RawConnection c;
      std::string head = "PUT /v1/kv/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                         token + "\r\nContent-Length: 200\r\n\r\n";
      if (c.ConnectTcp(port) && c.Send(head) && TrickleUntilCut(c, std::string(200, 'b'))) {
        body_cut.fetch_add(1);
      }
    });
    // Nothing at all.
    slow.emplace_back([&] {
      RawConnection c;
      if (c.ConnectUnix(kvd.unix_socket()) && c.WaitForClose(30s)) silent_cut.fetch_add(1);
    });
  }
  // Clients that ask for 9 MiB and do not read it (a small receive buffer,
  // so the answer cannot all fit in the sockets' buffers).
  constexpr int kReaders = 5;
  for (int i = 0; i < kReaders; ++i) {
    slow.emplace_back([&] {
      RawConnection c;
      c.ConnectTcp(port);  // connects; the buffer size is set before the request
      int small = 16 << 10;
      ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
      if (!c.Send(Request("GET", "/v1/kv/big", token))) return;
      std::this_thread::sleep_for(8s);  // write timeout 2 s: kvd gives up meanwhile
      size_t received = 0;
      ssize_t n;
      while ((n = c.Fill(10s)) > 0) {
        received += static_cast<size_t>(n);
        c.buffer().clear();
      }
      if (n != -2 && received < big.size()) reader_cut.fetch_add(1);
    });
  }

  // Meanwhile, busy clients get every answer right.
  std::atomic<int> failures{0};
  const double busy = BusyRun(port, token, 16, 400, "busy", &failures);
  for (auto& t : slow) t.join();
  const double seconds = std::chrono::duration<double>(Steady::now() - start).count();

  CHECK(failures.load() == 0);
  CHECK(header_cut.load() == kEach);
  CHECK(body_cut.load() == kEach);
  CHECK(silent_cut.load() == kEach);
  CHECK(reader_cut.load() == kReaders);
  std::printf("\nslow clients (read timeout 2 s, idle 3 s, write 2 s): %d/%d trickled headers, "
              "%d/%d trickled bodies, %d/%d silent, %d/%d non-reading cut off in %.0f s; "
              "16 busy connections meanwhile: %.0f requests/s, all right\n",
              header_cut.load(), kEach, body_cut.load(), kEach, silent_cut.load(), kEach,
              reader_cut.load(), kReaders, seconds, busy);
  std::fflush(stdout);
  kvd.Signal(SIGTERM);
  CHECK(kvd.Wait(30s) == 0);
}

}  // namespace
}  // namespace kv::load
