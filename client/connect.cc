#include "client/connect.h"

#include <dlfcn.h>
#include <unistd.h>

#include <charconv>
#include <climits>
#include <cstdlib>
#include <mutex>

#include "client/daemon_backend.h"
#include "client/fd_http_client.h"
#include "client/local_daemon.h"
#include "client/remote/remote_backends.h"
#include "common/paths.h"

namespace kv::client {
namespace {

// host:port[/base] after "http://". IPv6 literals in brackets.
Result<SocketAddress> ParseHostPort(std::string_view rest, uint16_t default_port,
                                    std::string* base_path) {
  size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    base_path->assign(rest.substr(slash));
    while (!base_path->empty() && base_path->back() == '/') base_path->pop_back();
  }
  SocketAddress a;
  a.port = default_port;
  std::string_view host = hostport;
  std::string_view port;
  if (host.starts_with('[')) {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("bad host in URL");
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port.empty() && port.front() == ':') port.remove_prefix(1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty()) return Status::InvalidArgument("URL has no host");
  a.host.assign(host);
  if (!port.empty()) {
    unsigned p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535) {
      return Status::InvalidArgument("bad port '" + std::string(port) + "' in URL");
    }
    a.port = static_cast<uint16_t>(p);
  }
  return a;
}

// libkv_remote.so (client/remote/remote_backends.h), loaded on first use and
// never unloaded: the backends it makes run its code.
struct RemoteLibrary {
  RemoteOpenFn open = nullptr;
  std::string path;
};

Result<RemoteLibrary> LoadRemoteLibrary() {
  static std::mutex mu;
  static RemoteLibrary loaded;
  std::lock_guard<std::mutex> lock(mu);
  if (loaded.open != nullptr) return loaded;

  std::string path;
  if (const char* env = std::getenv("KV_REMOTE_LIB"); env != nullptr && *env != '\0') {
    path = env;
  } else {
    char exe[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    std::string dir = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string();
    dir = dir.substr(0, dir.rfind('/') == std::string::npos ? 0 : dir.rfind('/'));
    path = (dir.empty() ? std::string(".") : dir) + "/../lib/kv/" KV_REMOTE_LIBRARY_NAME;
  }
  const std::string hint = " (set KV_REMOTE_LIB to the path of " KV_REMOTE_LIBRARY_NAME ")";
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return Status::Unsupported("remote backends are not available: cannot load " +
                               std::string(why != nullptr ? why : path.c_str()) + hint);
  }
  auto tag = reinterpret_cast<RemoteAbiTagFn>(::dlsym(handle, "kv_remote_abi_tag"));
  auto open = reinterpret_cast<RemoteOpenFn>(::dlsym(handle, "kv_remote_open_backend"));
  if (tag == nullptr || open == nullptr) {
    ::dlclose(handle);
    return Status::Unsupported("remote backends are not available: " + path +
                               " is not kv's remote backend library" + hint);
  }
  if (RemoteAbiTag() != tag()) {
    ::dlclose(handle);
    return Status::Unsupported("remote backends are not available: " + path +
                               " was built for another kv (" + tag() + "; this kv: " +
                               RemoteAbiTag() + ")" + hint);
  }
  loaded.open = open;
  loaded.path = path;
  return loaded;
}

Result<std::unique_ptr<Backend>> OpenRemoteBackend(const ConnectOptions& o) {
  Result<RemoteLibrary> library = LoadRemoteLibrary();
  if (!library.ok()) return library.status();
  RemoteHost host;
  host.interrupted = &Interrupted;  // Ctrl-C in kv shell reaches the library's waits
  Status error;
  Backend* backend = library->open(&o, &host, &error);
  if (backend == nullptr) {
    if (error.ok()) return Status::Internal(library->path + " opened no backend for " + o.url);
    return error;
  }
  return std::unique_ptr<Backend>(backend);
}

}  // namespace

Result<std::unique_ptr<Backend>> OpenBackend(const ConnectOptions& o) {
  DaemonBackendOptions d;
  d.scope = o.scope;
  d.token = o.token;
  d.watch_reconnect_ms = o.timeout_ms;
  const std::string& url = o.url;

  if (url.empty()) {  // the local kvd, started when needed
    SocketAddress a;
    a.unix_path = o.socket_path.empty() ? paths::DefaultSocketPath() : o.socket_path;
    if (!UnixSocketAnswers(a.unix_path)) {
      if (!o.autostart) {
        return Status::Unavailable("no kvd is running on " + a.unix_path +
                                   " (auto-start is off: KV_NO_AUTOSTART)");
      }
      DaemonLaunch launch;
      launch.socket_path = a.unix_path;
      launch.kvd_path = o.kvd_path;
      if (Status s = EnsureLocalDaemon(launch); !s.ok()) return s;
    }
    d.name = "local";
    a.same_user = true;
    return NewDaemonBackend(NewFdHttpClient(std::move(a), o.timeout_ms), std::move(d));
  }
  if (url.starts_with("unix://")) {
    SocketAddress a;
    a.unix_path = url.substr(7);
    if (a.unix_path.empty()) return Status::InvalidArgument("unix:// URL has no socket path");
    d.name = "kvd";
    return NewDaemonBackend(NewFdHttpClient(std::move(a), o.timeout_ms), std::move(d));
  }
  if (url.starts_with("http://")) {
    auto a = ParseHostPort(std::string_view(url).substr(7), 80, &d.base_path);
    if (!a.ok()) return Status::InvalidArgument(a.status().message() + ": " + url);
    d.name = "kvd";
    return NewDaemonBackend(NewFdHttpClient(std::move(*a), o.timeout_ms), std::move(d));
  }
  // The remote backends live in libkv_remote.so, loaded only now (DESIGN.md:
  // kv's start-up and its path to a kvd load no libcurl).
  for (const char* scheme : {"https://", "kvdev+https://", "kvdev+http://", "etcd://", "etcds://",
                             "invoke+https://", "invoke+http://"}) {
    if (url.starts_with(scheme)) return OpenRemoteBackend(o);
  }
  if (url == "keyvalue.dev" || url == "keyvalue.dev/") return OpenRemoteBackend(o);
  return Status::InvalidArgument("unknown backend URL '" + url +
                                 "' (use unix:///path, http://host:port, keyvalue.dev, "
                                 "kvdev+https://host/v1, etcd://host:port, invoke+https://...)");
}

}  // namespace kv::client
