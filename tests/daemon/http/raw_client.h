// RawConnection: a blocking HTTP/1.1 client over a plain socket, for tests
// that must control every byte (slow clients, partial bodies, keep-alive,
// HEAD, chunked streams). Header-only; POSIX sockets, no Boost.
//
// Ownership: a RawConnection owns its socket. Thread-safety: none; one thread
// per connection.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kv::testing {

struct RawResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // de-chunked

  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size() &&
          std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        return v;
      }
    }
    return std::nullopt;
  }
};

class RawConnection {
 public:
  RawConnection() = default;
  ~RawConnection() { Close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ConnectUnix(const std::string& path) {
    Close();
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return false;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }

  bool ConnectTcp(uint16_t port, const char* ip = "127.0.0.1") {
    Close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, ip, &addr.sin_addr);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }

  int fd() const { return fd_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads what is available within `timeout` into the internal buffer.
  // Returns bytes read, 0 on EOF, -1 on error, -2 on timeout.
  ssize_t Fill(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r == 0) return -2;
    if (r < 0) return -1;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) buffer_.append(buf, static_cast<size_t>(n));
    return n;
  }

  // True when the peer closed the connection (EOF or reset) within `timeout`;
  // data arriving meanwhile is kept.
  bool WaitForClose(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      ssize_t n = Fill(left);
      if (n == 0 || n == -1) return true;
      if (n == -2) return false;
    }
  }

  // Reads one response. `head`: the request was HEAD (no body follows).
  // nullopt on timeout, EOF before a whole response, or garbage.
  std::optional<RawResponse> ReadResponse(bool head = false,
                                          std::chrono::milliseconds timeout =
                                              std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto fill = [&]() {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      return Fill(left) > 0;
    };
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    RawResponse r;
    std::string head_text = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    size_t line_end = head_text.find("\r\n");
    std::string status_line = head_text.substr(0, line_end);
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return std::nullopt;
    r.status = std::atoi(status_line.c_str() + 9);
    size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
    while (pos < head_text.size()) {
      size_t next = head_text.find("\r\n", pos);
      if (next == std::string::npos) next = head_text.size();
      std::string line = head_text.substr(pos, next - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        r.headers.emplace_back(line.substr(0, colon), value);
      }
      pos = next + 2;
    }
    if (r.status == 100) return ReadResponse(head, timeout);  // skip 100 Continue
    if (head || r.status == 204 || r.status == 304) return r;
    auto te = r.Header("Transfer-Encoding");
    if (te && te->find("chunked") != std::string::npos) {
      for (;;) {
        size_t crlf;
        while ((crlf = buffer_.find("\r\n")) == std::string::npos) {
          if (!fill()) return std::nullopt;
        }
        size_t size = std::stoul(buffer_.substr(0, crlf), nullptr, 16);
        while (buffer_.size() < crlf + 2 + size + 2) {
          if (!fill()) return std::nullopt;
        }
        r.body.append(buffer_, crlf + 2, size);
        buffer_.erase(0, crlf + 2 + size + 2);
        if (size == 0) return r;
      }
    }
    if (auto cl = r.Header("Content-Length")) {
      size_t n = std::stoul(*cl);
      while (buffer_.size() < n) {
        if (!fill()) return std::nullopt;
      }
      r.body = buffer_.substr(0, n);
      buffer_.erase(0, n);
      return r;
    }
    while (fill()) {
    }
    r.body = std::move(buffer_);
    buffer_.clear();
    return r;
  }

  // Reads a status line and headers only (e.g. the start of a stream); the
  // rest stays in buffer().
  std::optional<RawResponse> ReadHead(std::chrono::milliseconds timeout =
                                          std::chrono::milliseconds(5000)) {
    return ReadResponse(true, timeout);
  }

  std::string& buffer() { return buffer_; }

 private:
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace kv::testing
