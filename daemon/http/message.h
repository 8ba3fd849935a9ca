// HttpRequest / HttpResponse: the HTTP messages as route handlers see them.
// Only the server (daemon/http/server.cc) knows Boost.Beast; handlers are
// plain functions from request to response, testable without sockets, and
// cheap to compile.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kv::daemon {

// Header names compare case-insensitively.
class Headers {
 public:
  void Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  void Clear() { fields_.clear(); }
  // Replaces every field of that name.
  void Set(std::string_view name, std::string value);
  // The first field of that name.
  std::optional<std::string_view> Get(std::string_view name) const;
  // How many fields have that name.
  size_t Count(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Where a request came from: the Unix socket is trusted (its file mode is the
// access control), TCP needs a token unless kvd runs with --no-auth.
enum class Transport { kUnixSocket, kTcp };

struct HttpRequest {
  std::string method;  // upper case, as sent: "GET", "PUT", ...
  std::string target;  // as sent, with the query: "/v1/kv/a%2Fb?ttl=5s"
  std::string path;    // percent-decoded path: "/v1/kv/a/b"
  std::string raw_path;  // the path as sent, still encoded: "/v1/kv/a%2Fb"
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  Headers headers;
  std::string body;
  Transport transport = Transport::kUnixSocket;
  std::string remote;  // "127.0.0.1:53210", or "unix"

  // The first query parameter of that name.
  std::optional<std::string_view> Query(std::string_view name) const;
};

// Percent-decodes `in` into *out ("%2F" -> "/"; with plus_is_space, "+" -> " "
// as in query strings). False on a malformed escape ("%", "%zz").
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

// Fills request->path, raw_path and query from an origin-form target
// ("/path?a=1&b"). False when the target does not start with '/' or holds a
// malformed escape; *request is then partly filled.
bool ParseTarget(std::string_view target, HttpRequest* request);

// Writes chunks of a streaming response (e.g. an NDJSON watch stream).
// Write() returns false once the client has gone away or the server is
// shutting down; the producer then returns.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  virtual bool Write(std::string_view chunk) = 0;
  // True once the client has closed its side or the server is draining.
  virtual bool Closed() const = 0;
  // Calls `on_closed` (from another thread) when Closed() turns true while
  // the producer is not writing, e.g. to wake it from a wait for events.
  // Default: never called (a writer whose Closed() changes only in Write).
  virtual void SetOnClosed(std::function<void()> on_closed) { (void)on_closed; }
};

struct HttpResponse {
  int status = 200;
  // The route template that answered, for metrics and logs: "/v1/kv/{key}".
  std::string route;
  Headers headers;
  std::string body;
  // When set, the server sends the status and headers, then calls `stream` on
  // a thread of its own (it may block, e.g. waiting for events), sending what
  // it writes as chunks until it returns; `body` is ignored.
  std::function<void(StreamWriter&)> stream;
  // When set, the server calls `deferred` on a thread of its own and sends
  // the response it returns (whose own `deferred` is ignored); the rest of
  // this response is not sent. For a request that takes long (a backup),
  // so that the other connections of its I/O thread are not held up.
  // Shutdown waits for it to return, however long it takes.
  std::function<HttpResponse()> deferred;
};

// A route table, or anything else that answers requests. Handle() is called
// concurrently from the server's threads.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual HttpResponse Handle(const HttpRequest& request) = 0;

  // The largest body the server may read for this request, asked once its
  // headers have arrived (`head` has everything but the body). A larger
  // Content-Length gets 413 before any of the body is read, a chunked body
  // is cut off at the limit. Default: nullopt, the server's own limit
  // (ServerOptions::max_body_bytes).
  virtual std::optional<uint64_t> BodyLimit(const HttpRequest& head) {
    (void)head;
    return std::nullopt;
  }

  // Whether something the handler wrote is not durable yet: then a
  // response waits for Flush(), which the I/O thread calls once for all the
  // responses it prepared together (group commit) before sending them; it
  // makes durable whatever they acknowledge or show. On an error each of
  // them is answered with that error instead. Both are called concurrently
  // from the server's threads. Default: nothing to flush.
  virtual bool FlushNeeded() { return false; }
  virtual Status Flush() { return Status::Ok(); }
};

}  // namespace kv::daemon
