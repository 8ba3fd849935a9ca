// http_load: a closed-loop HTTP/1.1 load generator for kvd's native API, over
// TCP or a Unix socket (wrk speaks TCP only). Each connection keeps one
// request outstanding, on keep-alive, as wrk does: GET or PUT /v1/kv/key:N
// with N uniformly random in [0, --keys). It prints the line bench/kvd_*.lua
// print for wrk, so bench/kvd_vs_redis.sh reads both alike:
//
//   RESULT ops=... p99_ms=... p50_ms=... non2xx=... errors=...
//
//   http_load --target unix:/run/kv/kvd.sock --op put --connections 64
//             --threads 2 --duration 10s --keys 100000 --value-bytes 100
//
// Latencies are counted per microsecond below 2 ms and in 1024 buckets per
// doubling above (450 KB per thread), so percentiles are exact to the
// microsecond below 2 ms and within 0.1% at any latency above. A connection
// the server closes is reopened and counted in errors.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstddef>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string target;  // unix:PATH or HOST:PORT
  bool put = false;
  int connections = 64;
  int threads = 2;
  double seconds = 10;
  uint64_t keys = 100000;
  size_t value_bytes = 100;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr, "http_load: %s (usage: http_load --target unix:PATH|HOST:PORT "
                       "[--op get|put] [--connections N] [--threads N] [--duration 10s] "
                       "[--keys N] [--value-bytes N])\n", why.c_str());
  std::exit(2);
}

// A whole number from 0 to max, or a usage error.
uint64_t Number(const std::string& flag, const std::string& text, uint64_t max = UINT64_MAX) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || text[0] == '-') {
    Usage(flag + " needs a number, not '" + text + "'");
  }
  if (v > max) Usage(flag + " is at most " + std::to_string(max) + ", not " + text);
  return v;
}

double Seconds(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  std::string unit = end;
  if (unit == "ms") v /= 1000;
  else if (unit == "m") v *= 60;
  else if (!unit.empty() && unit != "s") v = -1;
  if (end == text.c_str() || !(v > 0)) Usage("--duration needs a duration like 10s, not '" + text + "'");
  return v;
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) Usage(flag == "--help" ? "help" : "missing value for " + flag);
    std::string value = argv[++i];
    if (flag == "--target") o.target = value;
    else if (flag == "--op" && (value == "get" || value == "put")) o.put = value == "put";
    else if (flag == "--op") Usage("--op is get or put, not '" + value + "'");
    else if (flag == "--connections") o.connections = static_cast<int>(Number(flag, value, 100000));
    else if (flag == "--threads") o.threads = static_cast<int>(Number(flag, value, 1024));
    else if (flag == "--duration") o.seconds = Seconds(value);
    else if (flag == "--keys") o.keys = Number(flag, value);
    else if (flag == "--value-bytes") o.value_bytes = Number(flag, value, 1 << 30);
    else Usage("unknown flag " + flag);
  }
  if (o.target.empty()) Usage("--target is required");
  if (o.connections < 1 || o.threads < 1 || o.keys < 1) Usage("connections, threads and keys must be at least 1");
  if (o.threads > o.connections) o.threads = o.connections;
  return o;
}

// Where to connect, resolved once.
struct Address {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_UNIX;
};

Address Resolve(const std::string& target) {
  Address a;
  if (target.rfind("unix:", 0) == 0) {
    std::string path = target.substr(5);
    auto* un = reinterpret_cast<sockaddr_un*>(&a.addr);
    if (path.empty() || path.size() >= sizeof un->sun_path) Usage("bad Unix socket path '" + path + "'");
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.data(), path.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    a.family = AF_UNIX;
    return a;
  }
  size_t colon = target.rfind(':');
  if (colon == std::string::npos) Usage("--target is unix:PATH or HOST:PORT, not '" + target + "'");
  auto* in = reinterpret_cast<sockaddr_in*>(&a.addr);
  in->sin_family = AF_INET;
  in->sin_port = htons(static_cast<uint16_t>(Number("--target port", target.substr(colon + 1), 65535)));
  if (::inet_pton(AF_INET, target.substr(0, colon).c_str(), &in->sin_addr) != 1) {
    Usage("--target HOST must be an IPv4 address, not '" + target.substr(0, colon) + "'");
  }
  a.len = sizeof(sockaddr_in);
  a.family = AF_INET;
  return a;
}

// A blocking connect (a load run starts them all before timing), then
// non-blocking. -1 when it fails.
int Connect(const Address& a) {
  int fd = ::socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0) {
    ::close(fd);
    return -1;
  }
  if (a.family == AF_INET) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Counts of latencies in microseconds: one bucket per microsecond below
// 2 * kSub, then kSub buckets per doubling, each narrower than 1/kSub of the
// values it holds.
class Histogram {
 public:
  void Add(uint64_t us) { ++counts_[Index(us)]; }

  void Merge(const Histogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  }

  // The p-th quantile (0 < p <= 1) of `total` latencies, in milliseconds.
  double PercentileMs(uint64_t total, double p) const {
    uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(p * static_cast<double>(total) + 0.5));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return static_cast<double>(Lowest(i)) / 1000.0;
    }
    return 0;
  }

 private:
  static constexpr uint64_t kSub = 1024;
  static constexpr int kSubBits = 10;

  static size_t Index(uint64_t us) {
    if (us < 2 * kSub) return us;
    int shift = static_cast<int>(std::bit_width(us)) - 1 - kSubBits;  // us >> shift is in [kSub, 2 * kSub)
    return 2 * kSub + static_cast<size_t>(shift - 1) * kSub + ((us >> shift) - kSub);
  }
  // The smallest latency bucket i holds.
  static uint64_t Lowest(size_t i) {
    if (i < 2 * kSub) return i;
    uint64_t shift = (i - 2 * kSub) / kSub + 1;
    return ((i - 2 * kSub) % kSub + kSub) << shift;
  }

  std::vector<uint64_t> counts_ = std::vector<uint64_t>(Index(UINT64_MAX) + 1, 0);
};

struct Stats {
  Histogram latency;
  uint64_t done = 0;
  uint64_t non2xx = 0;
  uint64_t errors = 0;
};

struct Connection {
  int fd = -1;
  std::string request;
  size_t sent = 0;
  std::string in;  // the response read so far
  Clock::time_point started;
};

class Worker {
 public:
  Worker(const Options& o, const Address& a, int connections, uint32_t seed)
      : o_(o), addr_(a), rng_(seed), conns_(static_cast<size_t>(connections)),
        // kvd answers a TCP request only for its own address (DNS rebinding).
        host_(o.target.rfind("unix:", 0) == 0 ? "kvd" : o.target) {}

  // Connects every connection; false (with a message) when one cannot.
  bool Open() {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    for (size_t i = 0; i < conns_.size(); ++i) {
      if (!Reopen(i)) {
        std::fprintf(stderr, "http_load: cannot connect to %s: %s\n", o_.target.c_str(), std::strerror(errno));
        return false;
      }
    }
    return true;
  }

  void Run(Clock::time_point until) {
    for (size_t i = 0; i < conns_.size(); ++i) Begin(i);
    epoll_event events[256];
    while (Clock::now() < until) {
      int n = ::epoll_wait(ep_, events, 256, 50);
      for (int k = 0; k < n; ++k) {
        size_t i = events[k].data.u64;
        if (events[k].events & EPOLLOUT) Send(i);
        if (events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) Receive(i);
      }
    }
    for (Connection& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
    }
    ::close(ep_);
  }

  const Stats& stats() const { return stats_; }

 private:
  bool Reopen(size_t i) {
    Connection& c = conns_[i];
    if (c.fd >= 0) ::close(c.fd);
    c.fd = Connect(addr_);
    if (c.fd < 0) return false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
    return true;
  }

  void Begin(size_t i) {
    Connection& c = conns_[i];
    std::string key = "key:" + std::to_string(rng_() % o_.keys);
    if (o_.put) {
      c.request = "PUT /v1/kv/" + key + " HTTP/1.1\r\nHost: " + host_ + "\r\nContent-Type: application/octet-stream\r\n"
                  "Content-Length: " + std::to_string(o_.value_bytes) + "\r\n\r\n";
      c.request.append(o_.value_bytes, 'v');
    } else {
      c.request = "GET /v1/kv/" + key + " HTTP/1.1\r\nHost: " + host_ + "\r\n\r\n";
    }
    c.sent = 0;
    c.in.clear();
    c.started = Clock::now();
    Send(i);
  }

  void Send(size_t i) {
    Connection& c = conns_[i];
    while (c.sent < c.request.size()) {
      ssize_t n = ::send(c.fd, c.request.data() + c.sent, c.request.size() - c.sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        Watch(i, EPOLLIN | EPOLLOUT);
        return;
      } else {
        return Fail(i);
      }
    }
    Watch(i, EPOLLIN);
  }

  void Watch(size_t i, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = i;
    ::epoll_ctl(ep_, EPOLL_CTL_MOD, conns_[i].fd, &ev);
  }

  void Receive(size_t i) {
    Connection& c = conns_[i];
    char buf[16384];
    for (;;) {
      ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        if (static_cast<size_t>(n) < sizeof buf) break;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else {
        return Fail(i);  // closed, or reset
      }
    }
    size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return;
    std::string_view head(c.in.data(), end + 2);
    size_t body = 0;
    bool close = false;
    for (size_t at = head.find("\r\n") + 2; at < head.size();) {
      size_t eol = head.find("\r\n", at);
      std::string_view line = head.substr(at, eol - at);
      at = eol + 2;
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(line.substr(0, colon));
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (name == "content-length") body = std::strtoull(std::string(value).c_str(), nullptr, 10);
      if (name == "connection" && value.find("close") != std::string_view::npos) close = true;
    }
    if (c.in.size() < end + 4 + body) return;  // the rest of the body is still to come
    // "HTTP/1.1 200 OK": the status is the three digits after the first space.
    int status = std::atoi(c.in.c_str() + c.in.find(' ') + 1);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - c.started).count();
    stats_.latency.Add(static_cast<uint64_t>(us));
    ++stats_.done;
    if (status < 200 || status > 299) ++stats_.non2xx;
    if (close && !Reopen(i)) return;
    Begin(i);
  }

  // The connection broke: counted, reopened, and the next request sent.
  void Fail(size_t i) {
    ++stats_.errors;
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, conns_[i].fd, nullptr);
    if (Reopen(i)) Begin(i);  // else the connection stays closed for the rest of the run
  }

  const Options& o_;
  const Address& addr_;
  std::mt19937_64 rng_;
  std::vector<Connection> conns_;
  const std::string host_;
  int ep_ = -1;
  Stats stats_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o = Parse(argc, argv);
  Address addr = Resolve(o.target);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t) {
    int n = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(o, addr, n, static_cast<uint32_t>(std::random_device{}())));
    if (!workers.back()->Open()) return 1;
  }
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w, until] { w->Run(until); });
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  Histogram latency;
  uint64_t done = 0, non2xx = 0, errors = 0;
  for (auto& w : workers) {
    const Stats& s = w->stats();
    latency.Merge(s.latency);
    done += s.done;
    non2xx += s.non2xx;
    errors += s.errors;
  }
  std::printf("RESULT ops=%.0f p99_ms=%.3f p50_ms=%.3f non2xx=%llu errors=%llu\n",
              static_cast<double>(done) / elapsed, latency.PercentileMs(done, 0.99),
              latency.PercentileMs(done, 0.50), static_cast<unsigned long long>(non2xx),
              static_cast<unsigned long long>(errors));
  return 0;
}
