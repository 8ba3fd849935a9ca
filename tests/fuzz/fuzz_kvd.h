// FuzzKvd: the daemon the API fuzz targets talk to, built once per fuzzer
// process: a real Store (RocksDB in a temporary directory, no expiry worker),
// a real TokenStore holding one known token, and the Router, the way kvd's
// main wires them. Optionally the real HTTP server on a Unix socket and on
// loopback TCP port 0.
//
// The known token (kFuzzToken, tenant "fuzz") is written into tokens.json
// before the TokenStore opens, so seed inputs can carry it in their
// Authorization header.
//
// A fuzzer process never destroys its FuzzKvd (libFuzzer ends with exit(),
// and server threads may still run then); the directory is removed at exit.
// Thread-safety: as the Router's and the Server's.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <exception>
#include <string>
#include <string_view>

#include "daemon/api/router.h"
#include "daemon/auth/token_store.h"
#include "daemon/http/server.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/store/store.h"
#include "tests/fuzz/fuzz_fail.h"

namespace kv::fuzz {

// "kv_" + 43 base64url characters, as TokenStore::Lookup wants.
inline constexpr char kFuzzToken[] = "kv_FUZZFUZZFUZZFUZZFUZZFUZZFUZZFUZZFUZZFUZZFUZ";
inline constexpr char kFuzzTenant[] = "fuzz";

// The oracle every API target applies to each request: the router answers
// without throwing, never with a 5xx other than 507 (the store is healthy
// here, so a 500 is a bug), and a refused request (4xx) changes nothing: no
// event is logged after the revision it started at. A streaming answer's
// producer must not throw either.
// REQUIRES: no other request is in flight (events are read per request).
inline daemon::HttpResponse CheckedHandle(daemon::Router& router, store::Store& store,
                                          const daemon::HttpRequest& request) {
  const uint64_t before = store.CommittedRevision();
  daemon::HttpResponse response;
  try {
    response = router.Handle(request);
  } catch (const std::exception& e) {
    Fail(request.method + " " + request.raw_path + " threw: " + e.what());
  } catch (...) {
    Fail(request.method + " " + request.raw_path + " threw");
  }
  const std::string what =
      request.method + " " + request.raw_path + " -> " + std::to_string(response.status);
  if (response.status >= 500 && response.status != 507) Fail(what + ": " + response.body);
  if (response.status < 100 || response.status > 599) Fail(what + ": not an HTTP status");
  if (response.status >= 400) {
    auto events = store.ReadEvents(before, 1);
    if (events.ok() && !events->empty()) {
      Fail(what + " but logged a change of revision " + std::to_string(events->front().revision));
    }
  }
  if (response.stream) {
    response.stream = [inner = std::move(response.stream), what](daemon::StreamWriter& w) {
      try {
        inner(w);
      } catch (...) {
        Fail(what + ": the stream threw");
      }
    };
  }
  return response;
}

// A Handler for the server that applies CheckedHandle.
class CheckingHandler : public daemon::Handler {
 public:
  CheckingHandler(daemon::Router& router, store::Store& store) : router_(router), store_(store) {}
  daemon::HttpResponse Handle(const daemon::HttpRequest& request) override {
    return CheckedHandle(router_, store_, request);
  }
  std::optional<uint64_t> BodyLimit(const daemon::HttpRequest& head) override {
    return router_.BodyLimit(head);
  }

 private:
  daemon::Router& router_;
  store::Store& store_;
};

struct FuzzKvd {
  std::filesystem::path dir;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<daemon::auth::TokenStore> tokens;
  std::unique_ptr<daemon::Router> router;
  daemon::Metrics metrics;
  std::unique_ptr<CheckingHandler> handler;
  std::unique_ptr<daemon::Server> server;

  // Opens everything in a fresh directory under $TMPDIR; with_server also
  // binds and starts the HTTP server (one I/O thread).
  explicit FuzzKvd(bool with_server) {
    daemon::logging::SetLevel(daemon::LogLevel::kError);  // 4xx are the norm here
    std::string tmpl = (std::filesystem::temp_directory_path() / "kv-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) Fail("mkdtemp " + tmpl);
    dir = tmpl;
    static std::string to_remove;  // removed at exit, whatever is still running
    to_remove = dir.string();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(to_remove, ec);
    });

    store::StoreOptions o;
    o.data_dir = (dir / "data").string();
    o.expiry_worker = false;
    auto s = store::Store::Open(o);
    if (!s.ok()) Fail("Store::Open: " + s.status().ToString());
    store = std::move(*s);

    WriteTokenFile((dir / "data" / "tokens.json").string());
    auto t = daemon::auth::TokenStore::Open((dir / "data" / "tokens.json").string());
    if (!t.ok()) Fail("TokenStore::Open: " + t.status().ToString());
    tokens = std::move(*t);
    if (tokens->Lookup(kFuzzToken) != kFuzzTenant) Fail("the fuzz token is not accepted");

    daemon::ServerOptions so;
    if (with_server) {
      so.unix_socket = (dir / "kvd.sock").string();
      so.tcp_listen = "127.0.0.1:0";
      so.io_threads = 1;
      auto b = daemon::Server::Bind(so);
      if (!b.ok()) Fail("Server::Bind: " + b.status().ToString());
      server = std::move(*b);
    }
    daemon::ApiOptions api;
    if (server) api.tcp_endpoint = server->tcp_endpoint();  // /ui's login URLs
    router = std::make_unique<daemon::Router>(*store, *tokens, api);
    if (server) {
      handler = std::make_unique<CheckingHandler>(*router, *store);
      server->Start(*handler, &metrics);
    }
  }

 private:
  static void WriteTokenFile(const std::string& path) {
    static const char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : daemon::auth::Sha256(kFuzzToken)) {
      hex.push_back(kHex[c >> 4]);
      hex.push_back(kHex[c & 15]);
    }
    std::ofstream out(path, std::ios::trunc);
    out << R"({"version":1,"tokens":[{"id":"00000000000f0220","tenant":")" << kFuzzTenant
        << R"(","created_ms":0,"sha256":")" << hex << "\"}]}\n";
    if (!out) Fail("cannot write " + path);
  }
};

}  // namespace kv::fuzz
