// A Router over a real Store (temporary directory, manual clock, no expiry
// worker) and a real TokenStore, called directly: requests are built the way
// the server builds them (ParseTarget), without sockets.
#pragma once

#include <atomic>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "daemon/api/router.h"
#include "daemon/auth/token_store.h"
#include "daemon/http/message.h"
#include "daemon/store/store.h"
#include "tests/support/temp_dir.h"

namespace kv::daemon::testing {

using Json = nlohmann::json;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ApiFixture {
  kv::testing::TempDir dir{"kv-api"};
  std::shared_ptr<store::ManualClock> clock = std::make_shared<store::ManualClock>();
  std::unique_ptr<store::Store> store;
  std::unique_ptr<auth::TokenStore> tokens;
  std::unique_ptr<Router> router;
  ApiOptions api_options;

  explicit ApiFixture(ApiOptions options = {}) : api_options(options) { Open(); }

  void Open() {
    router.reset();
    store.reset();
    store::StoreOptions o;
    o.data_dir = dir.Sub("data");
    o.clock = clock;
    o.expiry_worker = false;
    o.max_key_bytes = api_options.max_key_bytes;
    o.max_value_bytes = api_options.max_value_bytes;
    auto s = store::Store::Open(o);
    INFO(s.status().ToString());
    REQUIRE(s.ok());
    store = std::move(*s);
    auto t = auth::TokenStore::Open(dir.Sub("data") + "/tokens.json");
    INFO(t.status().ToString());
    REQUIRE(t.ok());
    tokens = std::move(*t);
    router = std::make_unique<Router>(*store, *tokens, api_options);
  }

  static HttpRequest Request(std::string method, const std::string& target,
                             std::string body = "", const HeaderList& headers = {},
                             Transport transport = Transport::kUnixSocket) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = target;
    REQUIRE(ParseTarget(target, &r));
    for (const auto& [name, value] : headers) r.headers.Add(name, value);
    r.body = std::move(body);
    r.transport = transport;
    r.remote = transport == Transport::kUnixSocket ? "unix" : "127.0.0.1:40000";
    return r;
  }

  // Over the Unix socket (tenant "local", admin).
  HttpResponse Call(std::string method, const std::string& target, std::string body = "",
                    const HeaderList& headers = {}) {
    return router->Handle(Request(std::move(method), target, std::move(body), headers));
  }
  // Over TCP, with a Bearer token when `token` is not empty.
  HttpResponse Tcp(std::string method, const std::string& target, const std::string& token,
                   std::string body = "", HeaderList headers = {}) {
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return router->Handle(
        Request(std::move(method), target, std::move(body), headers, Transport::kTcp));
  }

  std::string NewToken(const std::string& tenant) {
    auto t = tokens->Create(tenant);
    REQUIRE(t.ok());
    return t->token;
  }

  // PUT that must succeed; returns the ETag header.
  std::string Put(const std::string& key, const std::string& value,
                  const HeaderList& headers = {}) {
    HttpResponse r = Call("PUT", "/v1/kv/" + key, value, headers);
    INFO(r.body);
    REQUIRE((r.status == 200 || r.status == 201));
    return std::string(r.headers.Get("ETag").value_or(""));
  }
};

inline Json BodyJson(const HttpResponse& r) {
  Json j = Json::parse(r.body, nullptr, false);
  INFO(r.body);
  REQUIRE(!j.is_discarded());
  return j;
}

inline std::string Header(const HttpResponse& r, std::string_view name) {
  return std::string(r.headers.Get(name).value_or(""));
}

// Checks the keyvalue.dev error shape and returns the code.
inline std::string ErrorCode(const HttpResponse& r) {
  Json j = BodyJson(r);
  INFO(r.body);
  REQUIRE(j.is_object());
  REQUIRE(j.contains("error"));
  REQUIRE(j["error"].is_string());
  CHECK(!j["error"].get<std::string>().empty());
  REQUIRE(j.contains("status"));
  CHECK(j["status"] == r.status);
  CHECK(Header(r, "Content-Type") == "application/json");
  return j.value("code", "");
}

// Collects what a streaming response writes; closes after `max_lines` lines.
class CollectingWriter : public StreamWriter {
 public:
  explicit CollectingWriter(size_t max_lines) : max_lines_(max_lines) {}
  bool Write(std::string_view chunk) override {
    data_ += chunk;
    return !Closed();
  }
  bool Closed() const override { return Lines().size() >= max_lines_ || closed_; }
  void SetOnClosed(std::function<void()> on_closed) override {
    std::lock_guard<std::mutex> l(mu_);
    on_closed_ = std::move(on_closed);
  }
  // As the server does when the client leaves.
  void Close() {
    closed_ = true;
    std::lock_guard<std::mutex> l(mu_);
    if (on_closed_) on_closed_();
  }
  std::vector<Json> Lines() const {
    std::vector<Json> out;
    size_t start = 0;
    while (start < data_.size()) {
      size_t nl = data_.find('\n', start);
      if (nl == std::string::npos) break;
      out.push_back(Json::parse(data_.substr(start, nl - start), nullptr, false));
      start = nl + 1;
    }
    return out;
  }
  const std::string& data() const { return data_; }

 private:
  size_t max_lines_;
  std::string data_;
  std::atomic<bool> closed_{false};
  std::mutex mu_;
  std::function<void()> on_closed_;  // guarded by mu_
};

}  // namespace kv::daemon::testing
