// kvd under socket activation: it serves the listening sockets a service
// manager passes it (LISTEN_FDS=N, descriptors 3..., LISTEN_PID its pid), as
// systemd does with kvd.socket, instead of binding its own.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>

#include "tests/daemon/http/raw_client.h"
#include "tests/e2e/kvd_process.h"
#include "tests/support/temp_dir.h"

namespace kv::testing {
namespace {

using namespace std::chrono_literals;

// A listening socket as kvd.socket's ListenStream=PATH makes one.
int ListenUnix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 16) == 0);
  return fd;
}

// ListenStream=127.0.0.1:0; *port gets the port picked.
int ListenTcp(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 16) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  *port = ntohs(addr.sin_port);
  return fd;
}

std::string Request(const std::string& method, const std::string& target,
                    const std::string& body = "") {
  return method + " " + target + " HTTP/1.1\r\nHost: kvd\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST_CASE("kvd serves the Unix socket it is passed, even to a client that came first, and "
          "leaves its file",
          "[e2e]") {
  TempDir dir("kvd-activation");
  const std::string path = dir.Sub("kvd.sock");
  int listener = ListenUnix(path);

  // Connected and asking before kvd runs: the socket's backlog keeps it.
  RawConnection early;
  REQUIRE(early.ConnectUnix(path));
  REQUIRE(early.Send(Request("PUT", "/v1/kv/greeting", "hello")));

  KvdProcess kvd;
  kvd.PassListenFds({listener});
  REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("unused/kvd.sock")}));
  CHECK(kvd.unix_socket() == path);
  std::optional<RawResponse> put = early.ReadResponse();
  REQUIRE(put);
  CHECK(put->status == 201);

  RawConnection later;
  REQUIRE(later.ConnectUnix(path));
  REQUIRE(later.Send(Request("GET", "/v1/kv/greeting")));
  std::optional<RawResponse> get = later.ReadResponse();
  REQUIRE(get);
  CHECK(get->body == "hello");
  CHECK_FALSE(std::filesystem::exists(dir.Sub("unused/kvd.sock")));

  kvd.Signal(SIGTERM);
  CHECK(kvd.Wait(20s) == 0);
  // The socket belongs to the service manager: it stays, still listening,
  // for the next activation.
  CHECK(std::filesystem::is_socket(path));
  RawConnection next;
  CHECK(next.ConnectUnix(path));
  ::close(listener);
}

TEST_CASE("a TCP socket passed with the Unix one is served, and asks for a token", "[e2e]") {
  TempDir dir("kvd-activation");
  int unix_listener = ListenUnix(dir.Sub("kvd.sock"));
  uint16_t port = 0;
  int tcp_listener = ListenTcp(&port);

  KvdProcess kvd;
  kvd.PassListenFds({unix_listener, tcp_listener});
  REQUIRE(kvd.Start({"--data-dir", dir.Sub("data")}));
  CHECK(kvd.tcp_port() == port);

  RawConnection c;
  REQUIRE(c.ConnectTcp(port));
  REQUIRE(c.Send(Request("GET", "/v1/kv/anything")));
  std::optional<RawResponse> r = c.ReadResponse();
  REQUIRE(r);
  CHECK(r->status == 401);
  ::close(unix_listener);
  ::close(tcp_listener);
}

TEST_CASE("sockets meant for another process are ignored, and a descriptor that is not a listening "
          "socket is refused",
          "[e2e]") {
  TempDir dir("kvd-activation");
  SECTION("LISTEN_PID of another process: kvd binds --socket as usual") {
    KvdProcess kvd;
    REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("own.sock")},
                      {"LISTEN_PID=1", "LISTEN_FDS=1"}));
    CHECK(kvd.unix_socket() == dir.Sub("own.sock"));
    CHECK(std::filesystem::is_socket(dir.Sub("own.sock")));
  }
  SECTION("a socket that does not listen") {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    KvdProcess kvd;
    kvd.PassListenFds({fd});
    REQUIRE(kvd.Start({"--data-dir", dir.Sub("data")}, {}, /*wait_ready=*/false));
    CHECK(kvd.Wait(20s) == 2);
    CHECK(kvd.Stderr() ==
          "kvd: socket activation: descriptor 3 is not a listening stream socket "
          "(kvd.socket needs ListenStream=)\n");
    ::close(fd);
  }
}

}  // namespace
}  // namespace kv::testing
