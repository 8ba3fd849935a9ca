// HttpReceiver: a small real HTTP/1.1 server on 127.0.0.1 for webhook tests.
// It records every request it reads and answers each with the status the
// test chooses (one connection per request, Connection: close).
//
//   HttpReceiver rx;
//   REQUIRE(rx.Start());                       // port 0: a free port
//   ... point a webhook at rx.url() ...
//   REQUIRE(rx.WaitForCount(3, 30s));
//   rx.Requests()[0].body ...
//   rx.Stop();                                 // now connections are refused
//   REQUIRE(rx.Start(port));                   // back, on the same port
//
// Faults, for the requests read from then on (SetFault(Fault::kNone) ends one):
//   SetStatus(500)           answers 500 (SetStatusFn: a status per request);
//   SetFault(Fault::kHang)   reads requests but holds the answers until the
//                            fault ends or Stop() (a receiver that hangs);
//                            HeldOpen() counts the held requests whose client
//                            still waits on its connection;
//   SetFault(Fault::kReset)  reads a request, then resets the connection
//                            (SO_LINGER 0 and close: a TCP RST);
//   SetFault(Fault::kSlow)   answers one byte at a time, SetSlowDelay() apart.
// Each Request records when it was read.
//
// Thread-safety: every method may be called from the test's threads; the
// server runs a thread per connection. Every loop is bounded by Stop().
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace kv::testing {

class HttpReceiver {
 public:
  struct Request {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::steady_clock::time_point at;  // when it was read
    // The first header of that name (case-insensitive).
    std::optional<std::string> Header(std::string_view name) const {
      for (const auto& [n, v] : headers) {
        if (n.size() == name.size() &&
            std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
              return std::tolower(static_cast<unsigned char>(a)) ==
                     std::tolower(static_cast<unsigned char>(b));
            })) {
          return v;
        }
      }
      return std::nullopt;
    }
  };

  enum class Fault { kNone, kHang, kReset, kSlow };

  HttpReceiver() = default;
  ~HttpReceiver() { Stop(); }
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  // Listens on 127.0.0.1:port (0: a free one). False when it cannot bind.
  bool Start(uint16_t port = 0) {
    Stop();
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
      ::close(fd);
      return false;
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen_fd_ = fd;
    stopping_ = false;
    acceptor_ = std::thread([this] { AcceptLoop(); });
    return true;
  }

  // Closes the listener and every connection; held requests get no answer.
  void Stop() {
    if (listen_fd_ < 0) return;
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    acceptor_.join();
    ::close(listen_fd_);
    listen_fd_ = -1;
    std::list<std::thread> connections;
    {
      std::lock_guard<std::mutex> l(mu_);
      connections.swap(connections_);
    }
    for (auto& t : connections) t.join();
  }

  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  void SetStatus(int status) {
    std::lock_guard<std::mutex> l(mu_);
    status_ = status;
  }
  // The status for the n-th request (0-based, counting every request read).
  void SetStatusFn(std::function<int(size_t)> fn) {
    std::lock_guard<std::mutex> l(mu_);
    status_fn_ = std::move(fn);
  }
  void SetFault(Fault fault) {
    {
      std::lock_guard<std::mutex> l(mu_);
      fault_ = fault;
    }
    cv_.notify_all();
  }
  void SetHold(bool hold) { SetFault(hold ? Fault::kHang : Fault::kNone); }
  // Between two bytes of a kSlow answer. Default: 5 ms.
  void SetSlowDelay(std::chrono::milliseconds delay) {
    std::lock_guard<std::mutex> l(mu_);
    slow_delay_ = delay;
  }
  // Held requests (kHang) whose client has not closed its connection.
  size_t HeldOpen() const {
    std::lock_guard<std::mutex> l(mu_);
    return held_open_;
  }

  std::vector<Request> Requests() const {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  size_t Count() const {
    std::lock_guard<std::mutex> l(mu_);
    return requests_.size();
  }
  // Waits until `pred` holds for the requests so far, or the timeout.
  bool WaitUntil(const std::function<bool(const std::vector<Request>&)>& pred,
                 std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, [&] { return pred(requests_); });
  }
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout) const {
    return WaitUntil([n](const std::vector<Request>& r) { return r.size() >= n; }, timeout);
  }

 private:
  void AcceptLoop() {
    for (;;) {
      {
        std::lock_guard<std::mutex> l(mu_);
        if (stopping_) return;
      }
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::lock_guard<std::mutex> l(mu_);
      connections_.emplace_back([this, c] { Serve(c); });
    }
  }

  bool Stopping() {
    std::lock_guard<std::mutex> l(mu_);
    return stopping_;
  }

  // Reads until `done` says the buffer is complete; false on EOF or Stop().
  bool ReadUntil(int fd, std::string* buf, const std::function<bool()>& done) {
    while (!done()) {
      if (Stopping()) return false;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char chunk[4096];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buf->append(chunk, static_cast<size_t>(n));
    }
    return true;
  }

  void Serve(int fd) {
    std::string buf;
    size_t head_end = std::string::npos;
    bool ok = ReadUntil(fd, &buf, [&] {
      head_end = buf.find("\r\n\r\n");
      return head_end != std::string::npos;
    });
    Request req;
    size_t length = 0;
    if (ok) {
      std::string head = buf.substr(0, head_end);
      size_t line_end = head.find("\r\n");
      std::string first = head.substr(0, line_end);
      size_t sp1 = first.find(' ');
      size_t sp2 = first.find(' ', sp1 + 1);
      req.method = first.substr(0, sp1);
      req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t end = head.find("\r\n", pos);
        if (end == std::string::npos) end = head.size();
        std::string line = head.substr(pos, end - pos);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          req.headers.emplace_back(line.substr(0, colon), value);
        }
        pos = end + 2;
      }
      if (auto cl = req.Header("Content-Length")) length = std::stoul(*cl);
      ok = ReadUntil(fd, &buf, [&] { return buf.size() >= head_end + 4 + length; });
    }
    if (ok) {
      req.body = buf.substr(head_end + 4, length);
      req.at = std::chrono::steady_clock::now();
      int status;
      Fault fault;
      std::chrono::milliseconds slow_delay;
      {
        std::unique_lock<std::mutex> l(mu_);
        const size_t index = requests_.size();
        requests_.push_back(std::move(req));
        status = status_fn_ ? status_fn_(index) : status_;
        cv_.notify_all();
        if (fault_ == Fault::kHang) Hold(fd, l);
        ok = !stopping_;
        fault = fault_;
        slow_delay = slow_delay_;
      }
      if (ok && fault == Fault::kReset) {
        linger hard{1, 0};  // close() sends RST instead of FIN
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
      } else if (ok) {
        std::string answer = "HTTP/1.1 " + std::to_string(status) +
                             " Test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        if (fault == Fault::kSlow) {
          for (size_t i = 0; i < answer.size() && !Stopping(); ++i) {
            std::this_thread::sleep_for(slow_delay);
            (void)::send(fd, answer.data() + i, 1, MSG_NOSIGNAL);
          }
        } else {
          (void)::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
        }
      }
    }
    ::close(fd);
  }

  // REQUIRES: l holds mu_. Waits while the fault is kHang and the receiver
  // runs, counting the request in held_open_ while its client keeps the
  // connection open.
  void Hold(int fd, std::unique_lock<std::mutex>& l) {
    bool open = true;
    ++held_open_;
    while (fault_ == Fault::kHang && !stopping_) {
      cv_.wait_for(l, std::chrono::milliseconds(20));
      if (!open) continue;
      pollfd p{fd, POLLRDHUP, 0};
      if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
        open = false;
        --held_open_;
      }
    }
    if (open) --held_open_;
  }

  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::thread acceptor_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopping_ = false;
  Fault fault_ = Fault::kNone;
  std::chrono::milliseconds slow_delay_{5};
  size_t held_open_ = 0;
  int status_ = 200;
  std::function<int(size_t)> status_fn_;
  std::vector<Request> requests_;
  std::list<std::thread> connections_;
};

}  // namespace kv::testing
