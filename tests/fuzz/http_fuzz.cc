// fuzz_http: raw bytes -> kvd's HTTP server -> the router -> every API ->
// the response bytes. The input is what a client sends on one connection
// (several requests when it pipelines them); its first byte picks the
// listener: 'T' the loopback TCP one (where the Authorization header
// matters; the token kFuzzToken is known), anything else the Unix socket
// (trusted, admin). The server, the router and the store are the real ones
// (fuzz_kvd.h), shared by all inputs, so state builds up as in a long-running
// kvd.
//
// Oracles: the sanitizers; CheckedHandle (no exception, no 500, a 4xx changes
// nothing); the server answers with an HTTP/1.x status line, or with nothing
// (a request cut short), and closes the connection within 10 s of the
// client's end of input (no hang; watch streams end when the client does).
// With KV_FUZZ_SHOW=1 it prints the status line of each answer, which shows
// what a seed reaches: KV_FUZZ_SHOW=1 fuzz_http tests/fuzz/corpus/http/*
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/fuzz/fuzz_kvd.h"

namespace {

using kv::fuzz::Fail;

constexpr auto kAnswerDeadline = std::chrono::seconds(10);
constexpr size_t kMaxInput = 1 << 20;

int Connect(const kv::fuzz::FuzzKvd& kvd, bool tcp) {
  int fd;
  int rc;
  if (tcp) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(kvd.server->tcp_port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, kvd.server->unix_socket().c_str(), sizeof a.sun_path - 1);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (fd < 0 || rc != 0) Fail(std::string("connect: ") + std::strerror(errno));
  return fd;
}

// Sends everything (the server may close early, after an error answer: then
// the rest is dropped), ends the sending side, and reads until the server
// closes.
std::string Exchange(int fd, const uint8_t* data, size_t size) {
  size_t sent = 0;
  while (sent < size) {
    ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EPIPE, ECONNRESET: the server answered and closed
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  const auto deadline = std::chrono::steady_clock::now() + kAnswerDeadline;
  char buf[16 << 10];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) Fail("kvd did not close the connection within 10 s");
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // closed (or reset after the answer)
    answer.append(buf, static_cast<size_t>(n));
  }
  return answer;
}

void CheckAnswer(const std::string& answer) {
  if (answer.empty()) return;
  if (answer.size() < 13 || !(answer.starts_with("HTTP/1.1 ") || answer.starts_with("HTTP/1.0 ")) ||
      answer.find_first_not_of("0123456789", 9) != 12 || answer[12] != ' ') {
    Fail("the answer does not start with a status line: " + answer.substr(0, 64));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static kv::fuzz::FuzzKvd* kvd = new kv::fuzz::FuzzKvd(/*with_server=*/true);
  if (size == 0 || size > kMaxInput) return -1;  // -1: not added to the corpus
  const bool tcp = data[0] == 'T';
  int fd = Connect(*kvd, tcp);
  std::string answer = Exchange(fd, data + 1, size - 1);
  ::close(fd);
  CheckAnswer(answer);
  // KV_FUZZ_SHOW=1: print the answers' status lines (to check what seeds reach).
  static const bool show = std::getenv("KV_FUZZ_SHOW") != nullptr;
  if (show) {
    for (size_t at = answer.find("HTTP/1."); at != std::string::npos;
         at = answer.find("HTTP/1.", at + 1)) {
      std::fprintf(stderr, "%c %s\n", tcp ? 'T' : 'U',
                   answer.substr(at, answer.find('\r', at) - at).c_str());
    }
  }
  return 0;
}
