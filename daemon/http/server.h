// Server: kvd's HTTP/1.1 server. Boost.Beast over Asio, kept out of this
// header so that only server.cc compiles Beast.
//
// Listeners: a Unix socket (always, in kvd) and optionally TCP. One session
// template serves both. A small pool of I/O threads, one io_context each,
// serves the connections; each connection stays on one thread (round robin),
// which serializes its handlers without strands and spares the threads from
// waking each other per request. A connection reads one request at a time
// (keep-alive, no pipelining), calls the Handler on its I/O thread (handlers
// may block briefly, e.g. on RocksDB: the other connections of that thread
// wait meanwhile), and writes the response. The server answers
// /healthz and /metrics itself, and records every request's route, status and
// latency into Metrics.
//
// Limits are enforced while reading: header size, body size (a Content-Length
// over the limit gets 413 before any of the body is read; a chunked body is
// cut off at the limit), an idle timeout between requests, a read timeout for
// a whole request once its first byte arrived (so a client trickling bytes
// cannot hold a connection), a write timeout, and a connection cap (the
// connections over it get 503 and are closed).
//
// Streaming responses (HttpResponse::stream): the status and headers go out
// with chunked transfer-encoding, then the producer runs on a thread of its
// own; each StreamWriter::Write blocks until the chunk is on the socket.
// Closed() turns true when the client goes away (the server keeps reading the
// socket to notice), when a write fails, and when the server shuts down.
//
// Deferred responses (HttpResponse::deferred): the work runs on a thread of
// its own and its response goes out when it returns; the I/O thread serves
// its other connections meanwhile.
//
// Shutdown(): stop accepting, close idle connections, let requests in flight
// finish (their responses carry Connection: close), end streams, and after
// ServerOptions::drain_timeout_ms close whatever is left; then stop the
// threads, wait for deferred work to return (however long it takes) and
// remove the Unix socket file.
//
// Ownership: the caller owns the Server; the Handler and Metrics passed to
// Start() must outlive Shutdown() (or the destructor).
// Thread-safety: Bind, Start, Shutdown and the destructor are called from one
// thread (main's); the accessors may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/key.h"
#include "common/status.h"
#include "daemon/http/message.h"
#include "daemon/metrics.h"

namespace kv::daemon {

struct ServerOptions {
  // The Unix socket's path (at most 107 bytes). Its parent directory is
  // created with mode 0700 when missing; the socket file gets mode 0600. A
  // socket nobody listens on (left by a dead kvd) is replaced. An existing
  // parent that another user (not root) owns, or that others may write to
  // without the sticky bit, is refused: whoever can write there could swap
  // the socket for their own. Empty: no Unix socket (kvd always sets one;
  // tests may not).
  std::string unix_socket;
  // "HOST:PORT" to listen on TCP as well; port 0 picks a free port (see
  // tcp_port()). Default: empty, no TCP.
  std::string tcp_listen;
  // Listening sockets inherited from a service manager (socket activation,
  // daemon/http/socket_activation.h), served instead of binding: the Unix
  // one at unix_socket (its path, for messages; the server neither creates
  // nor removes that file), the TCP one with tcp_listen ignored. The server
  // takes them over. Default: -1, none.
  int unix_socket_fd = -1;
  int tcp_fd = -1;
  // Default: 2.
  int io_threads = 2;
  // Request line plus headers. Default: 16 KiB; more gets 431.
  size_t max_header_bytes = 16 << 10;
  // The body limit when the handler does not give one (Handler::BodyLimit).
  // Default: 10 MiB + 64 KiB (the value limit plus room for an envelope).
  uint64_t max_body_bytes = kDefaultMaxValueBytes + (64 << 10);
  // Between requests on a keep-alive connection. Default: 60 s.
  int64_t idle_timeout_ms = 60'000;
  // For a whole request, from its first byte to its last. Default: 30 s.
  int64_t read_timeout_ms = 30'000;
  // For a response, or one chunk of a stream. Default: 30 s.
  int64_t write_timeout_ms = 30'000;
  // Open connections, both listeners together; the ones over it get 503.
  // Default: 10000 (as Redis's maxclients): idle keep-alive connections cost
  // little, and a local daemon should not refuse a client's pool.
  size_t max_connections = 10000;
  // How long Shutdown() lets requests in flight finish. Default: 5 s.
  int64_t drain_timeout_ms = 5'000;
};

// A parsed --listen value.
struct TcpAddress {
  std::string ip;  // numeric, resolved: "127.0.0.1", "::1"
  uint16_t port = 0;
  bool loopback = false;
};

// Parses "HOST:PORT" ("127.0.0.1:7379", "[::1]:0", "localhost:7379"),
// resolving a host name to its first address. InvalidArgument when it is not
// of that form or the host does not resolve.
Result<TcpAddress> ParseTcpAddress(std::string_view text);

class Server {
 public:
  // Binds the listeners, without accepting yet.
  // Unavailable: another kvd listens on the Unix socket ("another kvd is
  // already listening on PATH"). InvalidArgument: a bad option (path too
  // long, bad address). IOError: a directory, bind or listen failed.
  static Result<std::unique_ptr<Server>> Bind(ServerOptions options);

  // Starts the I/O threads and serves with `handler`. `metrics` may be null.
  // REQUIRES: called once, after Bind.
  void Start(Handler& handler, Metrics* metrics);

  // Drains and stops (see the file comment); idempotent. Returns Timeout when
  // a stream producer did not return after Closed() turned true; its thread
  // may still use the handler, so the caller should not destroy it then.
  Status Shutdown();

  // Calls Shutdown().
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The actual TCP port (useful after port 0); 0 without TCP.
  uint16_t tcp_port() const;
  // "127.0.0.1:7379" or "[::1]:7379"; empty without TCP.
  std::string tcp_endpoint() const;
  const std::string& unix_socket() const;

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kv::daemon
