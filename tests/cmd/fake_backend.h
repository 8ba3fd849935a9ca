// FakeBackend: an in-memory client::Backend for kv_cli's unit tests, so the
// command tree's own logic (paging, exit codes, import's fan-out) is tested
// without a kvd. Several FakeBackends may share one FakeStore (import opens a
// backend per worker). The end-to-end tests (tests/e2e/kv_cli_test.cc) run
// the real thing.
//
// Thread-safety: FakeStore is locked; each FakeBackend is used by one thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client/backend.h"

namespace kv::testing {

struct FakeStore {
  std::mutex mu;
  std::map<std::string, client::Value> data;  // key: ns/app/key
  uint64_t revision = 0;
  size_t page_size = 2;  // List pages this small, to exercise paging
  int sets = 0;
};

class FakeBackend : public client::Backend {
 public:
  explicit FakeBackend(std::shared_ptr<FakeStore> store) : store_(std::move(store)) {}

  std::string Name() const override { return "fake"; }
  client::Capabilities Caps() const override {
    client::Capabilities c;
    c.ttl = c.list = c.incr = c.patch = c.clear = c.stats = true;
    return c;
  }
  void SetScope(const client::Scope& scope) override { scope_ = scope; }
  const client::Scope& scope() const override { return scope_; }

  Result<client::Value> Get(std::string_view key) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    auto it = store_->data.find(Full(key));
    if (it == store_->data.end()) return Status::NotFound("Key not found");
    return it->second;
  }
  Result<client::KeyMeta> Meta(std::string_view key) override {
    Result<client::Value> v = Get(key);
    if (!v.ok()) return v.status();
    return v->meta;
  }
  Result<client::KeyMeta> Set(std::string_view key, std::string_view value,
                              const client::SetOptions& options) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    ++store_->sets;
    auto it = store_->data.find(Full(key));
    using Kind = client::Condition::Kind;
    bool exists = it != store_->data.end();
    if ((options.condition.kind == Kind::kIfAbsent && exists) ||
        (options.condition.kind == Kind::kIfExists && !exists) ||
        (options.condition.kind == Kind::kIfMatch &&
         (!exists || it->second.meta.etag != options.condition.etag))) {
      return Status::PreconditionFailed("precondition failed");
    }
    client::Value v;
    v.bytes.assign(value);
    v.meta.key.assign(key);
    v.meta.revision = ++store_->revision;
    v.meta.create_revision = exists ? it->second.meta.create_revision : v.meta.revision;
    v.meta.etag = std::to_string(v.meta.revision);
    v.meta.size = value.size();
    v.meta.content_type = options.content_type;
    v.meta.ttl_ms = options.ttl_ms > 0 ? options.ttl_ms : -1;
    v.meta.expire_at_ms = options.ttl_ms > 0 ? 4'000'000'000'000 : 0;
    store_->data[Full(key)] = v;
    return v.meta;
  }
  Result<uint64_t> Delete(std::string_view key, const client::Condition&) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    if (store_->data.erase(Full(key)) == 0) return Status::NotFound("Key not found");
    return ++store_->revision;
  }
  Result<client::ListPage> List(const client::ListRequest& request) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    client::ListPage page;
    size_t limit =
        request.limit == 0 ? store_->page_size : std::min(request.limit, store_->page_size);
    auto it = request.cursor.empty() ? store_->data.lower_bound(request.prefix)
                                     : store_->data.upper_bound(request.cursor);
    for (; it != store_->data.end() && it->first.starts_with(request.prefix); ++it) {
      if (page.keys.size() == limit) {
        page.next_cursor = page.keys.back().meta.key;
        break;
      }
      client::ListedKey k;
      k.meta = it->second.meta;
      if (request.values) k.value = it->second.bytes;
      page.keys.push_back(std::move(k));
    }
    return page;
  }
  Result<std::string> Incr(std::string_view key, int64_t by) override {
    int64_t n = 0;
    if (Result<client::Value> v = Get(key); v.ok()) n = std::stoll(v->bytes);
    client::SetOptions o;
    o.content_type = "application/json";
    std::string text = std::to_string(n + by);
    if (Result<client::KeyMeta> m = Set(key, text, o); !m.ok()) return m.status();
    return text;
  }
  Result<std::string> Patch(std::string_view, std::string_view patch) override {
    return std::string(patch);
  }
  Result<client::KeyMeta> Expire(std::string_view key, int64_t ttl_ms) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    auto it = store_->data.find(Full(key));
    if (it == store_->data.end()) return Status::NotFound("Key not found");
    it->second.meta.ttl_ms = ttl_ms;
    return it->second.meta;
  }
  Result<client::KeyMeta> Persist(std::string_view key) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    auto it = store_->data.find(Full(key));
    if (it == store_->data.end()) return Status::NotFound("Key not found");
    it->second.meta.ttl_ms = -1;
    it->second.meta.expire_at_ms = 0;
    return it->second.meta;
  }
  Result<uint64_t> Clear(std::string_view prefix) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    uint64_t n = 0;
    for (auto it = store_->data.lower_bound(Full(prefix));
         it != store_->data.end() && it->first.starts_with(Full(prefix));) {
      it = store_->data.erase(it);
      ++n;
    }
    return n;
  }
  Result<std::vector<client::NamespaceStats>> Stats(bool) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    client::NamespaceStats s;
    s.tenant = "local";
    s.ns = scope_.ns;
    s.app = scope_.app;
    s.keys = store_->data.size();
    return std::vector<client::NamespaceStats>{s};
  }
  Status Watch(const client::WatchRequest&,
               const std::function<bool(const client::Event&)>&) override {
    return client::NotSupported("fake", "watch");
  }
  Result<client::TokenInfo> CreateToken(std::string_view) override {
    return client::NotSupported("fake", "tokens");
  }
  Result<std::vector<client::TokenInfo>> ListTokens() override {
    return client::NotSupported("fake", "tokens");
  }
  Status RevokeToken(std::string_view) override { return client::NotSupported("fake", "tokens"); }

 private:
  // Keys are stored bare (one scope is enough for these tests).
  std::string Full(std::string_view key) const { return std::string(key); }

  std::shared_ptr<FakeStore> store_;
  client::Scope scope_;
};

}  // namespace kv::testing
