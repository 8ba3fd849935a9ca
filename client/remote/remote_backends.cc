// libkv_remote.so's entry points: the remote URL schemes of DESIGN.md
// ("Backends and URLs") mapped to their backends.
#include "client/remote/remote_backends.h"

#include <cstdlib>
#include <exception>
#include <memory>
#include <new>

#include "client/daemon_backend.h"
#include "client/remote/curl_http_client.h"
#include "client/remote/etcd_backend.h"
#include "client/remote/invoke_backend.h"

namespace kv::client {
namespace {

constexpr char kKeyValueDevName[] = "keyvalue.dev";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// "http(s)://HOST[:PORT][/PATH]" -> "http(s)://HOST[:PORT]" and "/PATH" (no
// trailing '/'). InvalidArgument when there is no host.
Status SplitUrl(std::string_view url, std::string* origin, std::string* path) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return Status::InvalidArgument("bad URL " + std::string(url));
  size_t slash = url.find('/', scheme_end + 3);
  std::string_view host = url.substr(scheme_end + 3, slash == std::string_view::npos
                                                         ? std::string_view::npos
                                                         : slash - scheme_end - 3);
  if (host.empty()) return Status::InvalidArgument("URL has no host: " + std::string(url));
  if (host.find('@') != std::string_view::npos) {
    return Status::InvalidArgument("give credentials with --token, not in the URL: " +
                                   std::string(url));
  }
  *origin = std::string(url.substr(0, slash));
  path->clear();
  if (slash != std::string_view::npos) path->assign(url.substr(slash));
  while (!path->empty() && path->back() == '/') path->pop_back();
  if (path->find('?') != std::string::npos || path->find('#') != std::string::npos) {
    return Status::InvalidArgument("URL must not have a query: " + std::string(url));
  }
  return Status::Ok();
}

// keyvalue.dev: kvd's native code (DaemonBackend, whose /v1/kv/{key} routes
// are keyvalue.dev's API) with keyvalue.dev's capabilities. It refuses what
// the service would silently ignore: conditional deletes, --if-exists (a kvd
// header), and namespaces (a token's tenant has one bucket).
class KeyValueDevBackend final : public Backend {
 public:
  explicit KeyValueDevBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}

  std::string Name() const override { return inner_->Name(); }
  Capabilities Caps() const override { return inner_->Caps(); }
  void SetScope(const Scope& scope) override { inner_->SetScope(scope); }
  const Scope& scope() const override { return inner_->scope(); }

  Result<Value> Get(std::string_view key) override {
    if (Status s = CheckScope(); !s.ok()) return s;
    return inner_->Get(key);
  }
  Result<KeyMeta> Meta(std::string_view key) override {
    if (Status s = CheckScope(); !s.ok()) return s;
    return inner_->Meta(key);
  }
  Result<KeyMeta> Set(std::string_view key, std::string_view value,
                      const SetOptions& options) override {
    if (Status s = CheckScope(); !s.ok()) return s;
    if (options.condition.kind == Condition::Kind::kIfExists) {
      return NotSupported(kKeyValueDevName, "--if-exists");
    }
    return inner_->Set(key, value, options);
  }
  Result<uint64_t> Delete(std::string_view key, const Condition& condition) override {
    if (Status s = CheckScope(); !s.ok()) return s;
    if (condition.kind == Condition::Kind::kIfMatch ||
        condition.kind == Condition::Kind::kIfAbsent) {
      return NotSupported(kKeyValueDevName, "conditional deletes");
    }
    return inner_->Delete(key, Condition{});  // --if-exists is what DELETE does anyway
  }
  Result<ListPage> List(const ListRequest& request) override { return inner_->List(request); }
  Result<std::string> Incr(std::string_view key, int64_t by) override {
    return inner_->Incr(key, by);
  }
  Result<std::string> Patch(std::string_view key, std::string_view patch) override {
    return inner_->Patch(key, patch);
  }
  Result<KeyMeta> Expire(std::string_view key, int64_t ttl_ms) override {
    return inner_->Expire(key, ttl_ms);
  }
  Result<KeyMeta> Persist(std::string_view key) override { return inner_->Persist(key); }
  Result<uint64_t> Clear(std::string_view prefix) override { return inner_->Clear(prefix); }
  Result<std::vector<NamespaceStats>> Stats(bool all) override { return inner_->Stats(all); }
  Status Watch(const WatchRequest& request,
               const std::function<bool(const Event&)>& on_event) override {
    return inner_->Watch(request, on_event);
  }
  Result<TokenInfo> CreateToken(std::string_view tenant) override {
    return inner_->CreateToken(tenant);
  }
  Result<std::vector<TokenInfo>> ListTokens() override { return inner_->ListTokens(); }
  Status RevokeToken(std::string_view id) override { return inner_->RevokeToken(id); }

 private:
  Status CheckScope() const {
    const Scope& s = inner_->scope();
    if (s.ns != "default" || s.app != "default") {
      return NotSupported(kKeyValueDevName, "namespaces (a token's tenant has one bucket)");
    }
    return Status::Ok();
  }

  std::unique_ptr<Backend> inner_;
};

CurlOptions HttpOptions(const ConnectOptions& o, const RemoteHost* host) {
  CurlOptions c;
  c.timeout_ms = o.timeout_ms;
  c.ca_file = o.ca_file;
  c.cert_file = o.cert_file;
  c.key_file = o.key_file;
  if (host != nullptr && host->interrupted != nullptr) {
    bool (*interrupted)() = host->interrupted;
    c.interrupted = [interrupted] { return interrupted(); };
  }
  return c;
}

Result<std::unique_ptr<Backend>> OpenDaemonOverCurl(const ConnectOptions& o,
                                                   const RemoteHost* host, std::string_view url,
                                                   bool keyvalue_dev) {
  CurlOptions c = HttpOptions(o, host);
  DaemonBackendOptions d;
  d.scope = o.scope;
  d.token = o.token;
  std::string path;
  if (Status s = SplitUrl(url, &c.base_url, &path); !s.ok()) return s;
  if (keyvalue_dev) {
    // kvdev+https://HOST/v1: the API's root is the path before /v1.
    if (!path.empty() && !path.ends_with("/v1")) {
      return Status::InvalidArgument("a keyvalue.dev URL ends in /v1: kvdev+" + std::string(url));
    }
    if (!path.empty()) path.resize(path.size() - 3);
    d.name = kKeyValueDevName;
    d.caps = Capabilities{};  // get/set (If-Match, If-None-Match)/del/has/meta (HEAD) only
  } else {
    if (path.ends_with("/v1")) path.resize(path.size() - 3);
    d.name = "kvd";
  }
  d.base_path = std::move(path);
  auto http = CurlHttpClient::Create(std::move(c));
  if (!http.ok()) return http.status();
  std::unique_ptr<Backend> backend = NewDaemonBackend(std::move(*http), std::move(d));
  if (keyvalue_dev) backend = std::make_unique<KeyValueDevBackend>(std::move(backend));
  return backend;
}

Result<std::unique_ptr<Backend>> OpenEtcd(const ConnectOptions& o, const RemoteHost* host) {
  EtcdOptions e;
  if (Status s = ParseEtcdUrl(o.url, &e); !s.ok()) return s;
  e.scope = o.scope;
  e.timeout_ms = o.timeout_ms;
  e.ca_file = !o.ca_file.empty() ? o.ca_file : Env("ETCD_CA_FILE");
  e.cert_file = !o.cert_file.empty() ? o.cert_file : Env("ETCD_CERT_FILE");
  e.key_file = !o.key_file.empty() ? o.key_file : Env("ETCD_KEY_FILE");
  if (e.cert_file.empty() != e.key_file.empty()) {
    return Status::InvalidArgument(
        "a client certificate needs both a certificate and a key (--cert and --key, or "
        "ETCD_CERT_FILE and ETCD_KEY_FILE)");
  }
  e.username = o.username;
  e.password = o.password;
  if (host != nullptr && host->interrupted != nullptr) {
    bool (*interrupted)() = host->interrupted;
    e.interrupted = [interrupted] { return interrupted(); };
  }
  return NewEtcdBackend(std::move(e));
}

Result<std::unique_ptr<Backend>> OpenInvoke(const ConnectOptions& o, const RemoteHost* host,
                                            std::string_view url) {
  CurlOptions c = HttpOptions(o, host);
  InvokeOptions i;
  if (Status s = SplitUrl(url, &c.base_url, &i.base_path); !s.ok()) return s;
  if (i.base_path.empty()) {
    return Status::InvalidArgument("an Invoke URL names its function: invoke+https://HOST/invoke/"
                                   "FUNCTION_ID");
  }
  i.token = o.token;
  i.scope = o.scope;
  auto http = CurlHttpClient::Create(std::move(c));
  if (!http.ok()) return http.status();
  return NewInvokeBackend(std::move(*http), std::move(i));
}

Result<std::unique_ptr<Backend>> Open(const ConnectOptions& o, const RemoteHost* host) {
  std::string_view url = o.url;
  if (url == "keyvalue.dev" || url == "keyvalue.dev/") {
    return OpenDaemonOverCurl(o, host, "https://api.keyvalue.dev/v1", true);
  }
  if (url.starts_with("kvdev+https://") || url.starts_with("kvdev+http://")) {
    return OpenDaemonOverCurl(o, host, url.substr(6), true);
  }
  if (url.starts_with("https://")) return OpenDaemonOverCurl(o, host, url, false);
  if (url.starts_with("etcd://") || url.starts_with("etcds://")) return OpenEtcd(o, host);
  if (url.starts_with("invoke+https://") || url.starts_with("invoke+http://")) {
    return OpenInvoke(o, host, url.substr(7));
  }
  return Status::InvalidArgument("not a remote backend URL: " + std::string(url));
}

}  // namespace
}  // namespace kv::client

extern "C" const char* kv_remote_abi_tag() {
  static const std::string tag = kv::client::RemoteAbiTag();
  return tag.c_str();
}

extern "C" kv::client::Backend* kv_remote_open_backend(const kv::client::ConnectOptions* options,
                                                       const kv::client::RemoteHost* host,
                                                       kv::Status* error) {
  try {
    auto backend = kv::client::Open(*options, host);
    if (!backend.ok()) {
      *error = backend.status();
      return nullptr;
    }
    return backend->release();
  } catch (const std::exception& e) {
    *error = kv::Status::Internal(std::string("remote backend: ") + e.what());
  } catch (...) {
    *error = kv::Status::Internal("remote backend: unknown error");
  }
  return nullptr;
}
