// Connecting kv to a backend: the URL (or profile) names the protocol and
// place; OpenBackend builds the Backend for it, starting the local kvd when
// the URL is empty and none answers (unless autostart is off).
//
// URLs (DESIGN.md, "Backends and URLs"):
//   (empty)                         the local kvd on the default socket
//   unix:///path/kvd.sock           a kvd on that socket
//   http://127.0.0.1:7379           a kvd over TCP (token: Bearer)
//   keyvalue.dev, kvdev+https://HOST/v1, kvdev+http://HOST/v1
//   etcd://h1:2379,h2:2379, etcds://...
//   invoke+https://HOST/invoke/<function-id>
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "client/backend.h"
#include "common/status.h"

namespace kv::client {

struct ConnectOptions {
  std::string url;    // empty: the local kvd
  std::string token;  // Bearer token for TCP kvd and remote services
  Scope scope;
  // Per request. Default: 10 s.
  int64_t timeout_ms = 10'000;
  // Start the local kvd when the URL is empty and nothing answers on the
  // default socket. Default: on (KV_NO_AUTOSTART=1 turns it off in cmd/).
  bool autostart = true;
  // The local kvd's socket; empty: paths::DefaultSocketPath().
  std::string socket_path;
  // The kvd executable to start; empty: `kvd` next to the running kv, else
  // on PATH.
  std::string kvd_path;
  // TLS for the remote backends (https://, kvdev+https://, etcds://,
  // invoke+https://): PEM files. ca_file verifies the server; cert_file and
  // key_file are a client certificate. Empty: for etcds://, the
  // ETCD_CA_FILE, ETCD_CERT_FILE and ETCD_KEY_FILE variables (as
  // simple-golang-kv reads them); otherwise the system's CAs and no client
  // certificate.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // etcd authentication (a token from /v3/auth/authenticate). Empty
  // username: none.
  std::string username;
  std::string password;
};

// InvalidArgument: a URL this kv does not understand. Unavailable: the local
// kvd could not be reached or started. Unsupported: a remote URL when
// libkv_remote.so (client/remote/remote_backends.h) cannot be loaded.
Result<std::unique_ptr<Backend>> OpenBackend(const ConnectOptions& options);

}  // namespace kv::client
