// DaemonBackend: a kvd, local or remote, through its native HTTP API
// (daemon/api/native_api.h documents every route it uses). The same code
// serves keyvalue.dev, whose API is the subset under /v1/kv/{key}: it is built
// with a narrower Capabilities set, so what that service lacks is refused
// with "keyvalue.dev does not support ...".
#pragma once

#include <memory>
#include <string>

#include "client/backend.h"
#include "client/http_client.h"

namespace kv::client {

// Everything kvd's native API offers.
Capabilities KvdCapabilities();

struct DaemonBackendOptions {
  std::string name = "local";  // for messages and the prompt
  std::string base_path;       // prefix before /v1, e.g. "" or "/kvd"
  std::string token;           // sent as Bearer when not empty
  Capabilities caps = KvdCapabilities();
  Scope scope;
  // A following watch whose stream ends (kvd stopping or restarting, the
  // connection broken) reconnects and resumes after the last revision it
  // saw, for up to this long without a stream before it gives up.
  int64_t watch_reconnect_ms = 10'000;
};

std::unique_ptr<Backend> NewDaemonBackend(std::unique_ptr<HttpClient> http,
                                          DaemonBackendOptions options);

}  // namespace kv::client
