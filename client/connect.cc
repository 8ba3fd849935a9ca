#include "client/connect.h"

#include <charconv>

#include "client/daemon_backend.h"
#include "client/fd_http_client.h"
#include "client/local_daemon.h"
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

}  // namespace

Result<std::unique_ptr<Backend>> OpenBackend(const ConnectOptions& o) {
  DaemonBackendOptions d;
  d.scope = o.scope;
  d.token = o.token;
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
  for (const char* scheme : {"https://", "keyvalue.dev", "kvdev+", "etcd://", "etcds://", "invoke+"}) {
    if (url.starts_with(scheme)) {
      return Status::Unsupported("this kv was built without remote backends; cannot use " + url);
    }
  }
  return Status::InvalidArgument("unknown backend URL '" + url +
                                 "' (use unix:///path, http://host:port, keyvalue.dev, "
                                 "kvdev+https://host/v1, etcd://host:port, invoke+https://...)");
}

}  // namespace kv::client
