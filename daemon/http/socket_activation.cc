#include "daemon/http/socket_activation.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace kv::daemon {
namespace {

// The first descriptor passed (SD_LISTEN_FDS_START).
constexpr int kFirstFd = 3;
// More than kvd could use (one Unix socket, one TCP): a typo, not a config.
constexpr long kMaxFds = 16;

bool ParseNumber(const char* text, long* out) {
  if (text == nullptr || *text == '\0') return false;
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || n < 0) return false;
  *out = n;
  return true;
}

Result<ActivatedSocket> Describe(int fd) {
  auto bad = [fd](const std::string& why) {
    return Status::InvalidArgument("socket activation: descriptor " + std::to_string(fd) + " " +
                                   why);
  };
  int type = 0, listening = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
    return bad(std::string("is not a socket: ") + std::strerror(errno));
  }
  len = sizeof listening;
  if (type != SOCK_STREAM || ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
      listening == 0) {
    return bad("is not a listening stream socket (kvd.socket needs ListenStream=)");
  }
  sockaddr_storage addr{};
  len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return bad(std::string("has no address: ") + std::strerror(errno));
  }
  ActivatedSocket s;
  s.fd = fd;
  char ip[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&addr);
    s.kind = ActivatedSocket::Kind::kUnix;
    s.address = un->sun_path;  // empty for an abstract or unnamed socket
    if (s.address.empty()) return bad("is a Unix socket without a path");
  } else if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
    s.kind = ActivatedSocket::Kind::kTcp;
    s.address = std::string(ip) + ":" + std::to_string(ntohs(in->sin_port));
    s.loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
    s.kind = ActivatedSocket::Kind::kTcp;
    s.address = "[" + std::string(ip) + "]:" + std::to_string(ntohs(in6->sin6_port));
    s.loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
  } else {
    return bad("is neither a Unix nor a TCP socket");
  }
  return s;
}

}  // namespace

Result<std::vector<ActivatedSocket>> TakeActivatedSockets() {
  std::string pid_text = std::getenv("LISTEN_PID") ? std::getenv("LISTEN_PID") : "";
  std::string fds_text = std::getenv("LISTEN_FDS") ? std::getenv("LISTEN_FDS") : "";
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  std::vector<ActivatedSocket> sockets;
  if (pid_text.empty() && fds_text.empty()) return sockets;
  long pid = 0, count = 0;
  if (!ParseNumber(pid_text.c_str(), &pid) || !ParseNumber(fds_text.c_str(), &count)) {
    return Status::InvalidArgument("socket activation: bad LISTEN_PID=" + pid_text +
                                   " or LISTEN_FDS=" + fds_text);
  }
  if (pid != ::getpid()) return sockets;  // meant for another process
  if (count > kMaxFds) {
    return Status::InvalidArgument("socket activation: LISTEN_FDS=" + fds_text +
                                   " is more sockets than kvd uses");
  }
  for (int fd = kFirstFd; fd < kFirstFd + count; ++fd) {
    Result<ActivatedSocket> s = Describe(fd);
    if (!s.ok()) return s.status();
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    sockets.push_back(*s);
  }
  return sockets;
}

}  // namespace kv::daemon
