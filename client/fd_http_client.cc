// The only translation unit of kv that includes Boost.Beast.
#include "client/fd_http_client.h"

#include "common/units.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <strings.h>

#include <optional>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>

namespace kv::client {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;

std::optional<std::string_view> HttpReply::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return std::nullopt;
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~' || c == ':';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

namespace {

std::atomic<const std::atomic<bool>*> g_interrupt_flag{nullptr};

}  // namespace

void SetInterruptFlag(const std::atomic<bool>* flag) { g_interrupt_flag.store(flag); }

bool Interrupted() {
  const std::atomic<bool>* flag = g_interrupt_flag.load();
  return flag != nullptr && flag->load();
}

namespace {

// A blocking-looking stream over a non-blocking socket: every read and write
// waits with poll() up to the deadline. Satisfies Beast's SyncReadStream and
// SyncWriteStream.
class FdStream {
 public:
  FdStream(int fd, int64_t timeout_ms) : fd_(fd), timeout_ms_(timeout_ms) {}
  void set_timeout(int64_t ms) { timeout_ms_ = ms; }

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, beast::error_code& ec) {
    net::mutable_buffer b = beast::buffers_front(buffers);
    if (b.size() == 0) return 0;
    for (;;) {
      if (Interrupted()) {
        ec = net::error::operation_aborted;
        return 0;
      }
      ssize_t n = ::recv(fd_, b.data(), b.size(), 0);
      if (n > 0) return static_cast<size_t>(n);
      if (n == 0) {
        ec = net::error::eof;
        return 0;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ec.assign(errno, beast::system_category());
        return 0;
      }
      if (!Wait(POLLIN, ec)) return 0;
    }
  }
  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    beast::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

  template <class ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers, beast::error_code& ec) {
    net::const_buffer b = beast::buffers_front(buffers);
    if (b.size() == 0) return 0;
    for (;;) {
      ssize_t n = ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ec.assign(errno, beast::system_category());
        return 0;
      }
      if (!Wait(POLLOUT, ec)) return 0;
    }
  }
  template <class ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers) {
    beast::error_code ec;
    size_t n = write_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

 private:
  bool Wait(short events, beast::error_code& ec) {
    pollfd p{fd_, events, 0};
    for (;;) {
      if (Interrupted()) {  // Ctrl-C in the shell (SIGINT without SA_RESTART)
        ec = net::error::operation_aborted;
        return false;
      }
      int r = ::poll(&p, 1, timeout_ms_ < 0 ? -1 : static_cast<int>(timeout_ms_));
      if (r > 0) return true;
      if (r == 0) {
        ec = beast::error::timeout;
        return false;
      }
      if (errno != EINTR) {
        ec.assign(errno, beast::system_category());
        return false;
      }
    }
  }

  int fd_;
  int64_t timeout_ms_;
};

// Bodies this large are sent with "Expect: 100-continue" (as curl does from
// 1 MiB), waiting at most kExpectContinueWaitMs for the server to answer.
constexpr size_t kExpectContinueBytes = 1 << 20;
constexpr int kExpectContinueWaitMs = 1000;

bool Idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE";
}

class FdHttpClient final : public HttpClient {
 public:
  FdHttpClient(SocketAddress address, int64_t timeout_ms)
      : address_(std::move(address)), timeout_ms_(timeout_ms) {}
  ~FdHttpClient() override { Close(); }

  Result<HttpReply> Send(const HttpCall& call) override {
    return Exchange(call, nullptr);
  }
  Result<HttpReply> Stream(const HttpCall& call,
                           const std::function<bool(std::string_view)>& on_data) override {
    return Exchange(call, &on_data);
  }
  std::string Describe() const override {
    if (!address_.unix_path.empty()) return "unix:" + address_.unix_path;
    return address_.host + ":" + std::to_string(address_.port);
  }

 private:
  bool ReadableWithin(int ms) {
    if (buffer_.size() > 0) return true;
    pollfd p{fd_, POLLIN, 0};
    int r;
    do {
      r = ::poll(&p, 1, ms);
    } while (r < 0 && errno == EINTR);
    return r > 0;
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    used_ = false;
    buffer_.clear();
  }

  Status Connect() {
    if (!address_.unix_path.empty()) return ConnectUnix();
    return ConnectTcp();
  }

  Status ConnectUnix() {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (address_.unix_path.size() >= sizeof sa.sun_path) {
      return Status::InvalidArgument("socket path is too long: " + address_.unix_path);
    }
    std::memcpy(sa.sun_path, address_.unix_path.c_str(), address_.unix_path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return Status::Unavailable(std::string("socket: ") + std::strerror(errno));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS) {
      int err = errno;
      ::close(fd);
      return Status::Unavailable("cannot connect to kvd at " + Describe() + ": " +
                                 std::strerror(err));
    }
    if (address_.same_user) {
      if (Status s = CheckSocketPeer(fd, address_.unix_path); !s.ok()) {
        ::close(fd);
        return s;
      }
    }
    fd_ = fd;
    return Status::Ok();
  }

  Status ConnectTcp() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    std::string port = std::to_string(address_.port);
    int gai = ::getaddrinfo(address_.host.c_str(), port.c_str(), &hints, &res);
    if (gai != 0) {
      return Status::Unavailable("cannot resolve " + address_.host + ": " + gai_strerror(gai));
    }
    std::string last = "no address";
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd < 0) continue;
      int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
      if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int r = ::poll(&p, 1, static_cast<int>(timeout_ms_));
        int err = 0;
        socklen_t len = sizeof err;
        if (r == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
          rc = 0;
        } else {
          errno = r == 0 ? ETIMEDOUT : err;
        }
      }
      if (rc == 0) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fd_ = fd;
        ::freeaddrinfo(res);
        return Status::Ok();
      }
      last = std::strerror(errno);
      ::close(fd);
    }
    ::freeaddrinfo(res);
    return Status::Unavailable("cannot connect to " + Describe() + ": " + last);
  }

  Status FromBeast(const beast::error_code& ec, std::string_view during) {
    if (ec == net::error::operation_aborted) return Status::Unavailable("interrupted");
    if (ec == beast::error::timeout) {
      return Status::Timeout(Describe() + " did not answer within " + FormatDurationMs(timeout_ms_));
    }
    return Status::Unavailable("connection to " + Describe() + " failed while " +
                               std::string(during) + ": " + ec.message());
  }

  Result<HttpReply> Exchange(const HttpCall& call,
                             const std::function<bool(std::string_view)>* on_data) {
    for (int attempt = 0;; ++attempt) {
      if (fd_ < 0) {
        if (Status s = Connect(); !s.ok()) return s;
      }
      const bool reused = used_;
      used_ = true;
      FdStream stream(fd_, call.no_timeout ? -1 : timeout_ms_);

      // The body is sent from the call's own bytes, never copied (an
      // import's batches are hundreds of KB).
      http::request<http::span_body<const char>> req;
      req.method_string(call.method);
      req.target(call.target);
      req.version(11);
      req.set(http::field::host, address_.unix_path.empty() ? address_.host : "localhost");
      for (const auto& [k, v] : call.headers) req.insert(k, v);
      req.body() = {call.body.data(), call.body.size()};
      req.keep_alive(true);
      // A large body waits for the server's go-ahead, so a refusal (413)
      // arrives before megabytes are sent into a closed connection.
      const bool expect_continue = call.body.size() >= kExpectContinueBytes;
      if (expect_continue) req.set(http::field::expect, "100-continue");
      req.prepare_payload();
      http::request_serializer<http::span_body<const char>> serializer(req);
      beast::error_code ec;
      std::optional<http::response_parser<http::buffer_body>> parser;
      auto new_parser = [&] {
        parser.emplace();
        parser->body_limit(boost::none);
        parser->header_limit(64 * 1024);
        if (call.method == "HEAD") parser->skip(true);
      };
      new_parser();
      bool body_sent = true;
      if (expect_continue) {
        http::write_header(stream, serializer, ec);
        if (!ec && ReadableWithin(kExpectContinueWaitMs)) {
          http::read_header(stream, buffer_, *parser, ec);
          if (!ec && parser->get().result_int() == 100) {
            new_parser();  // go ahead: the real answer comes after the body
          } else if (!ec) {
            body_sent = false;  // answered without the body (e.g. 413)
          }
        }
      }
      if (!ec && body_sent) http::write(stream, serializer, ec);
      if (ec) {
        Close();
        if (reused && attempt == 0) continue;  // the server closed an idle connection
        return FromBeast(ec, "sending");
      }

      if (body_sent) http::read_header(stream, buffer_, *parser, ec);
      if (ec) {
        Close();
        bool nothing_read = ec == net::error::eof || ec == net::error::connection_reset;
        if (reused && attempt == 0 && nothing_read && Idempotent(call.method)) continue;
        return FromBeast(ec, "waiting for the answer");
      }
      HttpReply reply;
      const auto& head = parser->get();
      reply.status = static_cast<int>(head.result_int());
      for (const auto& f : head) reply.headers.emplace_back(f.name_string(), f.value());
      const bool streaming = on_data != nullptr && reply.status / 100 == 2;
      if (streaming) stream.set_timeout(-1);  // a watch may be quiet for hours

      char chunk[16384];
      while (!parser->is_done()) {
        parser->get().body().data = chunk;
        parser->get().body().size = sizeof chunk;
        // read_some: hand over what has arrived (a watch event) without
        // waiting for the chunk buffer to fill.
        http::read_some(stream, buffer_, *parser, ec);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) {
          Close();
          if (streaming && (ec == net::error::eof || ec == http::error::partial_message ||
                            ec == net::error::connection_reset)) {
            return reply;  // the server ended the stream (or went away)
          }
          return FromBeast(ec, "reading the answer");
        }
        size_t n = sizeof chunk - parser->get().body().size;
        if (n == 0) continue;
        if (streaming) {
          if (!(*on_data)(std::string_view(chunk, n))) {
            Close();  // the rest of the stream is not wanted
            return reply;
          }
        } else {
          reply.body.append(chunk, n);
        }
      }
      if (!body_sent || !parser->keep_alive()) Close();
      return reply;
    }
  }

  SocketAddress address_;
  int64_t timeout_ms_;
  int fd_ = -1;
  bool used_ = false;  // a request went over this connection already
  beast::flat_buffer buffer_;
};

}  // namespace

std::unique_ptr<HttpClient> NewFdHttpClient(SocketAddress address, int64_t timeout_ms) {
  return std::make_unique<FdHttpClient>(std::move(address), timeout_ms);
}

Status CheckSocketPeer(int fd, const std::string& path) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return Status::Unavailable("cannot tell who serves " + path + ": " + std::strerror(errno));
  }
  if (cred.uid == ::geteuid() || cred.uid == 0) return Status::Ok();
  return Status::Unavailable("the socket " + path + " is served by uid " +
                             std::to_string(cred.uid) + ", not by you (uid " +
                             std::to_string(::geteuid()) + "); refusing to use it");
}

bool UnixSocketAnswers(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return false;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

}  // namespace kv::client
