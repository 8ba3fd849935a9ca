// HttpClient: one HTTP/1.1 connection to a server, reused across requests
// (the REPL sends many). Implementations: FdHttpClient (Beast's parser over a
// plain socket; kv's path to kvd, no libcurl), and later a libcurl one for
// remote services, loaded only when used.
//
// Thread-safety: one thread at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kv::client {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpCall {
  std::string method = "GET";
  std::string target;  // "/v1/kv/a%2Fb?ttl=5s", already encoded
  HeaderList headers;
  std::string body;
  // Wait for the answer however long it takes, instead of the client's
  // timeout: for a request the server answers only when its work is done
  // (a backup), which is not a sign that the server is stuck.
  bool no_timeout = false;
};

struct HttpReply {
  int status = 0;
  HeaderList headers;
  std::string body;
  // The first header of that name (case-insensitive).
  std::optional<std::string_view> Header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends the call and reads the whole reply. Unavailable: cannot connect,
  // or the connection broke; Timeout: no answer within the timeout.
  virtual Result<HttpReply> Send(const HttpCall& call) = 0;
  // Sends the call; on a 2xx reply passes the body to on_data as it arrives
  // (no timeout while waiting for data) until the body ends or on_data
  // returns false, and returns the reply without its body; also when the
  // connection ends or breaks once the body has begun (the server ended the
  // stream). On another status the reply's body is read whole and returned,
  // and on_data is not called.
  virtual Result<HttpReply> Stream(const HttpCall& call,
                                   const std::function<bool(std::string_view)>& on_data) = 0;
  // "unix:/path" or "127.0.0.1:7379", for messages.
  virtual std::string Describe() const = 0;
};

// Ctrl-C in kv's shell (shell/signals.h): while *flag is true, an
// HttpClient's waits for its server give up at once; the request fails with
// Unavailable("interrupted") and its connection is closed. Commands that
// loop on their own (kv daemon logs --follow) check Interrupted(). nullptr
// (the default): nothing interrupts. The flag must outlive its installation.
void SetInterruptFlag(const std::atomic<bool>* flag);
// True when an installed interrupt flag is set.
bool Interrupted();

// Percent-encodes everything but RFC 3986's unreserved characters, so any
// key (with '/', '?', spaces, bytes >= 0x80) is one path segment.
std::string PercentEncode(std::string_view s);

}  // namespace kv::client
