// FdHttpClient: HTTP/1.1 over a Unix or TCP socket, with Boost.Beast's
// header-only parser and serializer on a plain file descriptor. Timeouts are
// poll() deadlines on every read and write, which Asio's synchronous calls
// cannot give. This is kv's whole path to a local kvd: no libcurl, nothing
// loaded at start-up.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "client/http_client.h"

namespace kv::client {

struct SocketAddress {
  std::string unix_path;  // set for a Unix socket
  std::string host;       // else a TCP host (IP literal or name) and port
  uint16_t port = 0;
  // A Unix socket only: refuse a server that runs as another user (root
  // aside). The local kvd's socket sits in a directory that, under /tmp,
  // another user could have made first and served from.
  bool same_user = false;
};

// Connects lazily, on the first request. timeout_ms bounds connecting and
// each wait for the server.
std::unique_ptr<HttpClient> NewFdHttpClient(SocketAddress address, int64_t timeout_ms);

// True when something accepts connections at the Unix socket path.
bool UnixSocketAnswers(const std::string& path);

// Ok when the process at the other end of the connected Unix socket fd runs
// as this user or as root; else Unavailable, naming `path` and its uid.
Status CheckSocketPeer(int fd, const std::string& path);

}  // namespace kv::client
