// The HTTP server over real sockets (a temporary Unix socket and a TCP port
// picked by the kernel), with a small Handler of the tests' own.
#include "daemon/http/server.h"

#include <curl/curl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "client/fd_http_client.h"
#include "daemon/metrics.h"
#include "tests/daemon/http/raw_client.h"
#include "tests/support/temp_dir.h"

namespace kv::daemon {
namespace {

using namespace std::chrono_literals;
using kv::testing::RawConnection;
using kv::testing::RawResponse;
using kv::testing::TempDir;

class TestHandler : public Handler {
 public:
  HttpResponse Handle(const HttpRequest& r) override {
    HttpResponse res;
    res.route = "/" + r.path.substr(1, r.path.find('/', 1) - 1);
    if (r.path.rfind("/echo", 0) == 0) {
      res.headers.Set("Content-Type", "text/plain");
      res.body = r.method + " " + r.path + " " + r.raw_path + " " +
                 (r.transport == Transport::kTcp ? "tcp" : "unix");
      for (const auto& [k, v] : r.query) res.body += " " + k + "=" + v;
      res.body += " body=" + std::to_string(r.body.size());
      return res;
    }
    if (r.path == "/head") {
      res.headers.Set("Content-Type", "text/plain");
      res.body = "hello";
      return res;
    }
    if (r.path == "/slow") {
      std::this_thread::sleep_for(400ms);
      res.body = "slow done";
      return res;
    }
    if (r.path == "/throw") throw std::runtime_error("secret value");
    if (r.path == "/deferred") {  // answers once release() is called, from its own thread
      res.deferred = [this] {
        deferred_started = true;
        release_future.wait();
        HttpResponse done;
        done.status = 201;
        done.route = "/deferred";
        done.body = "deferred done";
        deferred_done = true;
        return done;
      };
      return res;
    }
    if (r.path == "/deferred-throw") {
      res.deferred = []() -> HttpResponse { throw std::runtime_error("secret value"); };
      return res;
    }
    if (r.path == "/flushes") {  // how many Flush() calls had started when this was handled
      res.body = std::to_string(flushes.load());
      return res;
    }
    if (r.path == "/stream") {
      res.headers.Set("Content-Type", "application/x-ndjson");
      res.stream = [this](StreamWriter& w) {
        producers_running++;
        int i = 0;
        while (!w.Closed()) {
          if (!w.Write("{\"tick\":" + std::to_string(i++) + "}\n")) break;
          std::this_thread::sleep_for(20ms);
        }
        producers_running--;
        producers_done++;
      };
      return res;
    }
    if (r.path == "/quiet-stream") {  // writes once, then only waits: Closed() must turn true
      res.stream = [this](StreamWriter& w) {
        producers_running++;
        w.Write("first\n");
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!w.Closed() && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(10ms);
        }
        quiet_saw_closed = w.Closed();
        producers_running--;
        producers_done++;
      };
      return res;
    }
    res.status = 404;
    res.route = "(unmatched)";
    res.body = "no";
    return res;
  }

  std::optional<uint64_t> BodyLimit(const HttpRequest& head) override {
    if (head.path == "/echo/value") return 1000;
    return std::nullopt;
  }

  bool FlushNeeded() override { return true; }  // every response waits for a Flush
  Status Flush() override {
    flushes++;
    if (fail_flush) return Status::IOError("disk on fire");
    return Status::Ok();
  }

  std::atomic<int> flushes{0};
  std::atomic<bool> fail_flush{false};

  std::promise<void> release;
  std::shared_future<void> release_future = release.get_future().share();
  std::atomic<bool> deferred_started{false};
  std::atomic<bool> deferred_done{false};

  std::atomic<int> producers_running{0};
  std::atomic<int> producers_done{0};
  std::atomic<bool> quiet_saw_closed{false};
};

struct Fixture {
  explicit Fixture(ServerOptions extra = {}, bool start = true) {
    options = std::move(extra);
    if (options.unix_socket.empty()) options.unix_socket = dir.Sub("run/sub/kvd.sock");
    if (options.tcp_listen.empty()) options.tcp_listen = "127.0.0.1:0";
    if (options.idle_timeout_ms == 60'000) options.idle_timeout_ms = 5'000;
    if (options.read_timeout_ms == 30'000) options.read_timeout_ms = 5'000;
    auto bound = Server::Bind(options);
    REQUIRE(bound.ok());
    server = std::move(*bound);
    if (start) server->Start(handler, &metrics);
  }

  // Deferred work still waiting (a test that failed early) would hold up
  // the server's shutdown for ever.
  ~Fixture() {
    try {
      handler.release.set_value();
    } catch (const std::future_error&) {  // released already
    }
  }

  uint16_t port() const { return server->tcp_port(); }
  const std::string& socket() const { return options.unix_socket; }

  TempDir dir{"kv-http"};
  ServerOptions options;
  TestHandler handler;
  Metrics metrics;
  std::unique_ptr<Server> server;
};

// ---- libcurl ----------------------------------------------------------------

struct CurlReply {
  long status = 0;
  std::string body;
  std::string headers;
  long connects = 0;
  CURLcode code = CURLE_OK;
};

size_t Collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

class Curl {
 public:
  Curl() : h_(curl_easy_init()) {}
  ~Curl() { curl_easy_cleanup(h_); }

  CurlReply Do(const std::string& method, const std::string& url, const std::string& unix_socket,
               const std::string* body = nullptr, std::vector<std::string> headers = {}) {
    CurlReply r;
    curl_easy_setopt(h_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h_, CURLOPT_UNIX_SOCKET_PATH,
                     unix_socket.empty() ? nullptr : unix_socket.c_str());
    curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(h_, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, Collect);
    curl_easy_setopt(h_, CURLOPT_HEADERDATA, &r.headers);
    curl_easy_setopt(h_, CURLOPT_NOBODY, method == "HEAD" ? 1L : 0L);
    curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, method == "HEAD" ? nullptr : method.c_str());
    if (body) {
      curl_easy_setopt(h_, CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    } else {
      curl_easy_setopt(h_, CURLOPT_POSTFIELDS, nullptr);
      if (method != "HEAD") curl_easy_setopt(h_, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, method == "HEAD" ? nullptr : method.c_str());
    }
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, list);
    r.code = curl_easy_perform(h_);
    curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(h_, CURLINFO_NUM_CONNECTS, &r.connects);
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(list);
    return r;
  }

 private:
  CURL* h_;
};

std::string Url(uint16_t port, const std::string& target) {
  return "http://127.0.0.1:" + std::to_string(port) + target;
}

std::string Request(const std::string& method, const std::string& target,
                    const std::string& extra = "") {
  return method + " " + target + " HTTP/1.1\r\nHost: kvd\r\n" + extra + "\r\n";
}

}  // namespace

TEST_CASE("healthz and routing over the Unix socket and TCP", "[http]") {
  Fixture f;
  Curl curl;
  CurlReply unix_reply = curl.Do("GET", "http://kvd/healthz", f.socket());
  REQUIRE(unix_reply.code == CURLE_OK);
  CHECK(unix_reply.status == 200);
  CHECK(unix_reply.body == "{\"status\":\"ok\"}");

  CurlReply tcp_reply = curl.Do("GET", Url(f.port(), "/healthz"), "");
  REQUIRE(tcp_reply.code == CURLE_OK);
  CHECK(tcp_reply.status == 200);

  CurlReply echo = curl.Do("GET", Url(f.port(), "/echo/a%2Fb%20c?x=1&y=a+b&z=%2F&flag"), "");
  CHECK(echo.status == 200);
  CHECK(echo.body == "GET /echo/a/b c /echo/a%2Fb%20c tcp x=1 y=a b z=/ flag= body=0");

  CurlReply over_unix = curl.Do("PUT", "http://kvd/echo/k", f.socket(), &unix_reply.body);
  CHECK(over_unix.body == "PUT /echo/k /echo/k unix body=15");

  CurlReply missing = curl.Do("GET", Url(f.port(), "/nothing"), "");
  CHECK(missing.status == 404);
}

TEST_CASE("keep-alive serves several requests on one connection", "[http]") {
  Fixture f;
  Curl curl;
  CurlReply first = curl.Do("GET", Url(f.port(), "/echo/1"), "");
  CHECK(first.connects == 1);
  for (int i = 0; i < 5; ++i) {
    CurlReply again = curl.Do("GET", Url(f.port(), "/echo/2"), "");
    CHECK(again.status == 200);
    CHECK(again.connects == 0);  // reused
  }

  RawConnection c;
  REQUIRE(c.ConnectUnix(f.socket()));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(c.Send(Request("GET", "/echo/raw")));
    auto r = c.ReadResponse();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->Header("Connection").value_or("") != "close");
  }
  // Connection: close is honoured.
  REQUIRE(c.Send(Request("GET", "/echo/raw", "Connection: close\r\n")));
  auto r = c.ReadResponse();
  REQUIRE(r);
  CHECK(r->Header("Connection").value_or("") == "close");
  CHECK(c.WaitForClose(2s));
}

TEST_CASE("many clients at once, on both listeners", "[http]") {
  Fixture f;
  constexpr int kClients = 16;
  constexpr int kRequests = 100;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      RawConnection c;
      bool connected = i % 2 ? c.ConnectUnix(f.socket()) : c.ConnectTcp(f.port());
      if (!connected) return;
      for (int n = 0; n < kRequests; ++n) {
        std::string body = std::to_string(i * 1000 + n);
        if (!c.Send(Request("PUT", "/echo/c" + std::to_string(i),
                            "Content-Length: " + std::to_string(body.size()) + "\r\n") +
                    body)) {
          return;
        }
        auto r = c.ReadResponse();
        if (r && r->status == 200 &&
            r->body == "PUT /echo/c" + std::to_string(i) + " /echo/c" + std::to_string(i) +
                           (i % 2 ? " unix" : " tcp") + " body=" + std::to_string(body.size())) {
          ok++;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(ok == kClients * kRequests);
}

TEST_CASE("HEAD sends the headers of the body but not the body", "[http]") {
  Fixture f;
  RawConnection c;
  REQUIRE(c.ConnectTcp(f.port()));
  REQUIRE(c.Send(Request("HEAD", "/head")));
  auto r = c.ReadResponse(/*head=*/true);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->Header("Content-Length") == "5");
  CHECK(r->Header("Content-Type") == "text/plain");
  // Nothing else came: the next response starts right away.
  REQUIRE(c.Send(Request("GET", "/head")));
  auto g = c.ReadResponse();
  REQUIRE(g);
  CHECK(g->status == 200);
  CHECK(g->body == "hello");

  Curl curl;
  CurlReply h = curl.Do("HEAD", Url(f.port(), "/healthz"), "");
  CHECK(h.code == CURLE_OK);
  CHECK(h.status == 200);
  CHECK(h.body.empty());
}

TEST_CASE("a streaming response ends when the client goes away", "[http]") {
  Fixture f;
  RawConnection c;
  REQUIRE(c.ConnectUnix(f.socket()));
  REQUIRE(c.Send(Request("GET", "/stream")));
  auto head = c.ReadHead();
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->Header("Transfer-Encoding") == "chunked");
  CHECK(head->Header("Content-Type") == "application/x-ndjson");
  while (c.buffer().find("\"tick\":2") == std::string::npos) REQUIRE(c.Fill(2s) > 0);
  CHECK(c.buffer().find("{\"tick\":0}\n") != std::string::npos);
  c.Close();
  for (int i = 0; i < 200 && f.handler.producers_done < 1; ++i) std::this_thread::sleep_for(10ms);
  CHECK(f.handler.producers_done == 1);

  // A producer that only waits sees Closed() when the client leaves.
  RawConnection q;
  REQUIRE(q.ConnectTcp(f.port()));
  REQUIRE(q.Send(Request("GET", "/quiet-stream")));
  REQUIRE(q.ReadHead());
  while (q.buffer().find("first") == std::string::npos) REQUIRE(q.Fill(2s) > 0);
  q.Close();
  for (int i = 0; i < 200 && f.handler.producers_done < 2; ++i) std::this_thread::sleep_for(10ms);
  CHECK(f.handler.producers_done == 2);
  CHECK(f.handler.quiet_saw_closed);
}

TEST_CASE("shutdown closes streams cleanly and lets requests in flight finish", "[http]") {
  Fixture f;
  RawConnection stream;
  REQUIRE(stream.ConnectUnix(f.socket()));
  REQUIRE(stream.Send(Request("GET", "/stream")));
  REQUIRE(stream.ReadHead());

  RawConnection idle;
  REQUIRE(idle.ConnectTcp(f.port()));
  REQUIRE(idle.Send(Request("GET", "/echo/x")));
  REQUIRE(idle.ReadResponse());

  RawConnection slow;
  REQUIRE(slow.ConnectTcp(f.port()));
  REQUIRE(slow.Send(Request("GET", "/slow")));
  std::this_thread::sleep_for(100ms);  // the handler is running

  auto t0 = std::chrono::steady_clock::now();
  Status s = f.server->Shutdown();
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(s.ok());
  CHECK(took < 3s);

  auto r = slow.ReadResponse();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "slow done");
  CHECK(r->Header("Connection") == "close");

  // The stream got its last chunk, then EOF.
  CHECK(stream.WaitForClose(2s));
  CHECK(stream.buffer().size() >= 5);
  CHECK(stream.buffer().substr(stream.buffer().size() - 5) == "0\r\n\r\n");
  CHECK(f.handler.producers_running == 0);
  CHECK(idle.WaitForClose(2s));
  CHECK_FALSE(std::filesystem::exists(f.socket()));
}

TEST_CASE("a deferred response does not hold up the other connections of its thread", "[http]") {
  ServerOptions one_thread;
  one_thread.io_threads = 1;  // every connection on the thread that starts the work
  Fixture f(one_thread);
  RawConnection slow;
  REQUIRE(slow.ConnectUnix(f.socket()));
  REQUIRE(slow.Send(Request("POST", "/deferred", "Content-Length: 0\r\n")));
  for (int i = 0; i < 200 && !f.handler.deferred_started; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(f.handler.deferred_started);

  // While the work waits, other connections are answered, on both listeners.
  Curl curl;
  CHECK(curl.Do("GET", "http://kvd/echo/a", f.socket()).status == 200);
  CHECK(curl.Do("GET", Url(f.port(), "/echo/b"), "").status == 200);
  CHECK_FALSE(f.handler.deferred_done);
  CHECK(slow.Fill(100ms) == -2);  // nothing sent for it yet (a timeout)

  f.handler.release.set_value();
  auto r = slow.ReadResponse();
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(r->body == "deferred done");
  // The connection stays open for the next request.
  REQUIRE(slow.Send(Request("GET", "/echo/after")));
  auto next = slow.ReadResponse();
  REQUIRE(next);
  CHECK(next->status == 200);
  CHECK(f.metrics.Render().find("route=\"/deferred\",status=\"201\"") != std::string::npos);

  // Work that throws gets a 500 without its message.
  RawConnection thrower;
  REQUIRE(thrower.ConnectTcp(f.port()));
  REQUIRE(thrower.Send(Request("GET", "/deferred-throw")));
  auto failed = thrower.ReadResponse();
  REQUIRE(failed);
  CHECK(failed->status == 500);
  CHECK(failed->body.find("secret") == std::string::npos);
}

TEST_CASE("kv's client waits past its timeout for a deferred answer when the call says so",
          "[http]") {
  ServerOptions short_timeouts;
  short_timeouts.read_timeout_ms = 300;  // the work outlasts it: it bounds reading only
  Fixture f(short_timeouts);
  client::SocketAddress address;
  address.unix_path = f.socket();
  auto http = client::NewFdHttpClient(address, 200);
  client::HttpCall call;
  call.method = "POST";
  call.target = "/deferred";

  // By default the client gives up after its timeout (kv exits 4)...
  Result<client::HttpReply> gave_up = http->Send(call);
  REQUIRE_FALSE(gave_up.ok());
  CHECK(gave_up.status().code() == Status::Code::kTimeout);

  // ...and with no_timeout it waits as long as the work takes (a backup).
  auto releaser = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(800ms);
    f.handler.release.set_value();
  });
  call.no_timeout = true;
  Result<client::HttpReply> waited = http->Send(call);
  releaser.get();
  REQUIRE(waited.ok());
  CHECK(waited->status == 201);
  CHECK(waited->body == "deferred done");
}

TEST_CASE("shutdown waits for deferred work, past the drain deadline", "[http]") {
  ServerOptions quick;
  quick.drain_timeout_ms = 100;
  Fixture f(quick);
  RawConnection slow;
  REQUIRE(slow.ConnectUnix(f.socket()));
  REQUIRE(slow.Send(Request("GET", "/deferred")));
  for (int i = 0; i < 200 && !f.handler.deferred_started; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(f.handler.deferred_started);

  auto releaser = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(1500ms);  // well past the drain deadline and the stream wait
    f.handler.release.set_value();
  });
  Status s = f.server->Shutdown();
  CHECK(s.ok());
  // Shutdown returned only once the work had: the handler may go now.
  CHECK(f.handler.deferred_done);
  releaser.get();
  // And its client got the answer, not a connection closed under it.
  auto r = slow.ReadResponse();
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(r->body == "deferred done");
  CHECK(r->Header("Connection") == "close");
}

TEST_CASE("a body over the limit gets 413 before it is read", "[http]") {
  Fixture f;
  SECTION("Content-Length over the handler's limit") {
    RawConnection c;
    REQUIRE(c.ConnectTcp(f.port()));
    // Only the headers: the answer must come without the body.
    REQUIRE(c.Send(Request("PUT", "/echo/value", "Content-Length: 1001\r\n")));
    auto r = c.ReadResponse(false, 2s);
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(r->Header("Content-Type") == "application/json");
    CHECK(r->body ==
          "{\"error\":\"value is larger than the limit of 1000 bytes\",\"code\":"
          "\"OBJECT_TOO_LARGE\",\"status\":413}");
    CHECK(c.WaitForClose(3s));
  }
  SECTION("exactly the limit is fine") {
    RawConnection c;
    REQUIRE(c.ConnectTcp(f.port()));
    REQUIRE(c.Send(Request("PUT", "/echo/value", "Content-Length: 1000\r\n") +
                   std::string(1000, 'v')));
    auto r = c.ReadResponse();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.find("body=1000") != std::string::npos);
  }
  SECTION("a chunked body is cut off at the limit") {
    RawConnection c;
    REQUIRE(c.ConnectTcp(f.port()));
    REQUIRE(c.Send(Request("PUT", "/echo/value", "Transfer-Encoding: chunked\r\n")));
    REQUIRE(c.Send("258\r\n" + std::string(600, 'a') + "\r\n"));
    REQUIRE(c.Send("258\r\n" + std::string(600, 'b') + "\r\n"));
    auto r = c.ReadResponse(false, 2s);
    REQUIRE(r);
    CHECK(r->status == 413);
  }
  SECTION("the server's own limit when the handler has none") {
    Curl curl;
    std::string body(f.options.max_body_bytes + 1, 'x');
    CurlReply r = curl.Do("PUT", Url(f.port(), "/echo/other"), "", &body);
    CHECK(r.status == 413);
    CHECK(r.body.find("\"code\":\"OBJECT_TOO_LARGE\"") != std::string::npos);
  }
  SECTION("Expect: 100-continue") {
    Curl curl;
    std::string big(2000, 'x');
    auto t0 = std::chrono::steady_clock::now();
    CurlReply refused = curl.Do("PUT", Url(f.port(), "/echo/value"), "", &big,
                                {"Expect: 100-continue"});
    CHECK(refused.status == 413);
    std::string small(10, 'x');
    CurlReply ok = curl.Do("PUT", Url(f.port(), "/echo/value"), "", &small,
                           {"Expect: 100-continue"});
    CHECK(ok.status == 200);
    CHECK(ok.body.find("body=10") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < 900ms);  // curl never waited for a 100
  }
}

TEST_CASE("headers over the limit get 431", "[http]") {
  ServerOptions o;
  o.max_header_bytes = 1024;
  Fixture f(o);
  RawConnection c;
  REQUIRE(c.ConnectTcp(f.port()));
  REQUIRE(c.Send(Request("GET", "/echo/x", "X-Big: " + std::string(2000, 'h') + "\r\n")));
  auto r = c.ReadResponse();
  REQUIRE(r);
  CHECK(r->status == 431);
  CHECK(r->body.find("HEADERS_TOO_LARGE") != std::string::npos);
}

TEST_CASE("malformed requests get 400", "[http]") {
  Fixture f;
  RawConnection c;
  REQUIRE(c.ConnectTcp(f.port()));
  REQUIRE(c.Send("GET /echo/%zz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.ReadResponse();
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(r->body.find("\"code\":\"BAD_REQUEST\"") != std::string::npos);

  RawConnection d;
  REQUIRE(d.ConnectTcp(f.port()));
  REQUIRE(d.Send("THIS IS NOT HTTP\r\n\r\n"));
  auto r2 = d.ReadResponse();
  REQUIRE(r2);
  CHECK(r2->status == 400);
}

TEST_CASE("no response leaves before a Flush that started after it was handled", "[http]") {
  Fixture f;
  constexpr int kClients = 8;
  constexpr int kRequests = 50;
  std::atomic<int> answered{0};
  std::atomic<int> early{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      RawConnection c;
      if (!(i % 2 ? c.ConnectUnix(f.socket()) : c.ConnectTcp(f.port()))) return;
      for (int n = 0; n < kRequests; ++n) {
        if (!c.Send(Request("GET", "/flushes"))) return;
        auto r = c.ReadResponse();
        if (!r || r->status != 200) return;
        // The handler saw `at_handle` flushes begun; one more must have
        // begun (and ended) before these bytes left the server.
        const int at_handle = std::stoi(r->body);
        if (f.handler.flushes.load() <= at_handle) early++;
        answered++;
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(answered == kClients * kRequests);
  CHECK(early == 0);
  // Responses that were ready together shared a Flush; never more than one each.
  CHECK(f.handler.flushes.load() <= kClients * kRequests);
}

TEST_CASE("a failed Flush answers its requests with the error instead", "[http]") {
  Fixture f;
  Curl curl;
  f.handler.fail_flush = true;
  CurlReply failed = curl.Do("GET", Url(f.port(), "/echo/unknown"), "");
  CHECK(failed.status == 500);
  CHECK(failed.body.find("\"code\":\"INTERNAL_ERROR\"") != std::string::npos);
  CHECK(failed.body.find("disk on fire; whether this request took effect is unknown") !=
        std::string::npos);
  CHECK(failed.body.find("GET /echo") == std::string::npos);  // not the handler's answer
  f.handler.fail_flush = false;
  CurlReply after = curl.Do("GET", Url(f.port(), "/echo/after"), "");
  CHECK(after.status == 200);
  CHECK(after.connects == 0);  // the connection stayed open
}

TEST_CASE("a handler that throws gets a 500 without its message", "[http]") {
  Fixture f;
  Curl curl;
  CurlReply r = curl.Do("GET", Url(f.port(), "/throw"), "");
  CHECK(r.status == 500);
  CHECK(r.body == "{\"error\":\"internal error\",\"code\":\"INTERNAL_ERROR\",\"status\":500}");
  CHECK(r.body.find("secret") == std::string::npos);
  CHECK(curl.Do("GET", Url(f.port(), "/healthz"), "").status == 200);
}

TEST_CASE("slow and idle clients are cut off", "[http]") {
  ServerOptions o;
  o.read_timeout_ms = 500;
  o.idle_timeout_ms = 300;
  Fixture f(o);

  SECTION("a client sending one byte at a time") {
    RawConnection c;
    REQUIRE(c.ConnectTcp(f.port()));
    std::string request = Request("GET", "/echo/slow", "X-Padding: " + std::string(100, 'p') + "\r\n");
    auto t0 = std::chrono::steady_clock::now();
    size_t sent = 0;
    bool cut = false;
    for (; sent < request.size(); ++sent) {
      if (!c.Send(request.substr(sent, 1))) {
        cut = true;
        break;
      }
      if (c.WaitForClose(100ms)) {
        cut = true;
        break;
      }
    }
    CHECK(cut);
    CHECK(sent < request.size());
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  }
  SECTION("an idle keep-alive connection") {
    RawConnection c;
    REQUIRE(c.ConnectTcp(f.port()));
    REQUIRE(c.Send(Request("GET", "/echo/x")));
    REQUIRE(c.ReadResponse());
    auto t0 = std::chrono::steady_clock::now();
    CHECK(c.WaitForClose(3s));
    CHECK(std::chrono::steady_clock::now() - t0 >= 200ms);
  }
  SECTION("a connection that never sends") {
    RawConnection c;
    REQUIRE(c.ConnectUnix(f.socket()));
    CHECK(c.WaitForClose(3s));
  }
}

TEST_CASE("connections over the cap get 503", "[http]") {
  ServerOptions o;
  o.max_connections = 2;
  Fixture f(o);
  RawConnection a, b, c;
  REQUIRE(a.ConnectTcp(f.port()));
  REQUIRE(a.Send(Request("GET", "/echo/a")));
  REQUIRE(a.ReadResponse());
  REQUIRE(b.ConnectUnix(f.socket()));
  REQUIRE(b.Send(Request("GET", "/echo/b")));
  REQUIRE(b.ReadResponse());

  REQUIRE(c.ConnectTcp(f.port()));
  c.Send(Request("GET", "/echo/c"));
  auto r = c.ReadResponse();
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(r->body.find("\"code\":\"UNAVAILABLE\"") != std::string::npos);
  CHECK(c.WaitForClose(3s));

  // Once one leaves (and the server has noticed), a new connection is served.
  a.Close();
  bool noticed = false;
  for (int i = 0; i < 200 && !noticed; ++i) {
    noticed = f.metrics.Render().find("kvd_http_connections 1\n") != std::string::npos;
    if (!noticed) std::this_thread::sleep_for(10ms);
  }
  REQUIRE(noticed);
  RawConnection d;
  REQUIRE(d.ConnectTcp(f.port()));
  REQUIRE(d.Send(Request("GET", "/echo/d")));
  auto rd = d.ReadResponse();
  REQUIRE(rd);
  CHECK(rd->status == 200);
  CHECK(f.metrics.Render().find("kvd_http_connections_rejected_total 1\n") != std::string::npos);
}

TEST_CASE("the Unix socket is 0600 in a directory created 0700", "[http]") {
  Fixture f;
  struct stat st;
  REQUIRE(::stat(f.socket().c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);
  std::string dir = std::filesystem::path(f.socket()).parent_path();
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  std::string parent = std::filesystem::path(dir).parent_path();
  REQUIRE(::stat(parent.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("a stale socket is replaced, a live one refused", "[http]") {
  TempDir dir("kv-http");
  std::string path = dir.Sub("kvd.sock");
  {
    // A socket file nobody listens on, as a killed kvd leaves it.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::close(fd);
    REQUIRE(std::filesystem::exists(path));
  }
  ServerOptions o;
  o.unix_socket = path;
  auto first = Server::Bind(o);
  REQUIRE(first.ok());
  TestHandler handler;
  (*first)->Start(handler, nullptr);
  Curl curl;
  CHECK(curl.Do("GET", "http://kvd/healthz", path).status == 200);

  auto second = Server::Bind(o);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == Status::Code::kUnavailable);
  CHECK(second.status().message() == "another kvd is already listening on " + path);
  // The first one is unharmed, socket file included.
  CHECK(curl.Do("GET", "http://kvd/healthz", path).status == 200);

  CHECK((*first)->Shutdown().ok());
  CHECK_FALSE(std::filesystem::exists(path));

  // Something that is not a socket is never removed.
  { std::FILE* file = std::fopen(path.c_str(), "w"); std::fclose(file); }
  auto third = Server::Bind(o);
  CHECK_FALSE(third.ok());
  CHECK(std::filesystem::exists(path));
}

TEST_CASE("metrics count requests by route and status", "[http]") {
  Fixture f;
  Curl curl;
  for (int i = 0; i < 3; ++i) curl.Do("GET", Url(f.port(), "/echo/m"), "");
  curl.Do("GET", Url(f.port(), "/nope"), "");
  CurlReply m = curl.Do("GET", Url(f.port(), "/metrics"), "");
  CHECK(m.status == 200);
  CHECK(m.headers.find("text/plain; version=0.0.4") != std::string::npos);
  CHECK(m.body.find("kvd_http_requests_total{route=\"/echo\",status=\"200\"} 3") !=
        std::string::npos);
  CHECK(m.body.find("kvd_http_requests_total{route=\"(unmatched)\",status=\"404\"} 1") !=
        std::string::npos);
  CHECK(m.body.find("kvd_http_request_duration_seconds_count{route=\"/echo\"} 3") !=
        std::string::npos);
  CHECK(m.body.find("kvd_http_connections 1") != std::string::npos);
  CHECK(curl.Do("POST", Url(f.port(), "/metrics"), "").status == 405);
}

TEST_CASE("ParseTcpAddress", "[http]") {
  auto a = ParseTcpAddress("127.0.0.1:7379");
  REQUIRE(a.ok());
  CHECK(a->ip == "127.0.0.1");
  CHECK(a->port == 7379);
  CHECK(a->loopback);
  auto b = ParseTcpAddress("[::1]:0");
  REQUIRE(b.ok());
  CHECK(b->ip == "::1");
  CHECK(b->loopback);
  auto c = ParseTcpAddress("0.0.0.0:80");
  REQUIRE(c.ok());
  CHECK_FALSE(c->loopback);
  auto d = ParseTcpAddress("localhost:1");
  REQUIRE(d.ok());
  CHECK(d->loopback);
  CHECK_FALSE(ParseTcpAddress("127.0.0.1").ok());
  CHECK_FALSE(ParseTcpAddress("127.0.0.1:65536").ok());
  CHECK_FALSE(ParseTcpAddress(":80").ok());
  CHECK_FALSE(ParseTcpAddress("::1:80").ok());
  CHECK_FALSE(ParseTcpAddress("127.0.0.1:x").ok());
}

}  // namespace kv::daemon
