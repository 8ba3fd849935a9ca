// Test support for the remote backends: real servers started by the tests
// and the helpers to look at them directly.
//
//   EtcdCluster etcd(1);            // Debian's etcd on free loopback ports,
//   REQUIRE(etcd.Start());          // a temporary data dir, killed at the end
//   etcd.url()                      // "etcd://127.0.0.1:P1,127.0.0.1:P2,..."
//   etcd.Raw("/v3/kv/range", {...}) // the JSON gateway, without the backend
//   RunCommand({"/bin/sh", "-c", "..."}, env, input)
//   OpenRemote(url, scope, ...)     // client::OpenBackend with libkv_remote.so
//
// The binaries come from compile definitions set by
// tests/client/CMakeLists.txt: ETCD_PATH, KV_PATH, KVD_PATH and
// KV_REMOTE_LIB_PATH. Ownership: a Child / EtcdCluster owns its processes.
// Thread-safety: none.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client/backend.h"
#include "client/connect.h"
#include "client/fd_http_client.h"
#include "common/base64.h"
#include "tests/support/sanitizer_env.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace kv::testing {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// A TCP port nothing listens on right now (the kernel's pick for port 0).
inline uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// This process's environment with `extra` ("NAME=VALUE" replaces NAME;
// "NAME" alone removes it).
inline std::vector<std::string> EnvWith(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    size_t eq = entry.find('=');
    if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const std::string& e : extra) {
    size_t eq = e.find('=');
    if (eq == std::string::npos) {
      vars.erase(e);
    } else {
      vars[e.substr(0, eq)] = e.substr(eq + 1);
    }
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

struct CommandResult {
  int code = -1;  // -1: timed out (killed); 128+N: killed by signal N
  std::string out;
  std::string err;
};

// Runs argv to completion with `input` on stdin; collects stdout and stderr.
inline CommandResult RunCommand(const std::vector<std::string>& argv_s,
                                const std::vector<std::string>& env_extra = {},
                                const std::string& input = "",
                                std::chrono::milliseconds timeout = 120s) {
  CommandResult result;
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return result;
  }
  std::vector<std::string> args = argv_s, env = EnvWith(env_extra);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    result.err = "cannot run " + argv_s[0];
    return result;
  }
  int in_fd = in[1], out_fd = out[0], err_fd = err[0];
  ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  size_t written = 0;
  if (input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (in_fd >= 0 || out_fd >= 0 || err_fd >= 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      break;
    }
    std::vector<pollfd> fds;
    if (in_fd >= 0) fds.push_back({in_fd, POLLOUT, 0});
    if (out_fd >= 0) fds.push_back({out_fd, POLLIN, 0});
    if (err_fd >= 0) fds.push_back({err_fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 200) <= 0) continue;
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in_fd) {
        ssize_t w = ::write(in_fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) written = input.size();
        if (written == input.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[65536];
      ssize_t r = ::read(p.fd, buf, sizeof buf);
      if (r > 0) {
        (p.fd == out_fd ? result.out : result.err).append(buf, static_cast<size_t>(r));
      } else {
        ::close(p.fd);
        (p.fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd >= 0) ::close(fd);
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ForwardSanitizerReport(result.err, std::to_string(pid));
  result.code = timed_out ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// A child process with stdout and stderr in a file; killed on destruction.
class Child {
 public:
  Child() = default;
  ~Child() { Kill(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // fork + exec rather than posix_spawn, to ask for SIGKILL when the test
  // process dies (PR_SET_PDEATHSIG): a crashed or timed-out test leaves no
  // etcd behind. Only async-signal-safe calls between fork and exec.
  bool Start(const std::vector<std::string>& argv_s, const std::string& log_path,
             const std::vector<std::string>& env_extra = {}) {
    Kill();
    std::vector<std::string> args = argv_s, env = EnvWith(env_extra);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string program = argv_s[0];
    if (program.find('/') == std::string::npos) {  // search PATH now, not in the child
      std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "/usr/bin:/bin";
      for (size_t start = 0; start <= path.size();) {
        size_t colon = path.find(':', start);
        std::string candidate = path.substr(start, colon - start) + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) {
          program = candidate;
          break;
        }
        if (colon == std::string::npos) break;
        start = colon + 1;
      }
    }
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      int in = ::open("/dev/null", O_RDONLY);
      int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (in < 0 || out < 0) ::_exit(127);
      ::dup2(in, STDIN_FILENO);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
      ::execve(program.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    pid_ = pid;
    return true;
  }

  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  void Kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// A JSON POST to a server's HTTP API, without libkv_remote.so (kv's own
// Beast client). Returns the reply's JSON, or null when it has none.
inline Json PostJson(const std::string& host, uint16_t port, const std::string& path,
                     const Json& body, const std::string& authorization = "",
                     int* status = nullptr) {
  client::SocketAddress a;
  a.host = host;
  a.port = port;
  auto http = client::NewFdHttpClient(a, 5000);
  client::HttpCall call;
  call.method = "POST";
  call.target = path;
  call.body = body.dump();
  call.headers.emplace_back("Content-Type", "application/json");
  if (!authorization.empty()) call.headers.emplace_back("Authorization", authorization);
  auto reply = http->Send(call);
  if (status != nullptr) *status = reply.ok() ? reply->status : -1;
  if (!reply.ok()) return Json();
  Json j = Json::parse(reply->body, nullptr, false);
  return j.is_discarded() ? Json() : j;
}

// etcd (Debian's etcd-server, etcd 3.4) as a cluster of `members` on
// loopback, each with free client and peer ports and a data dir under a
// temporary directory.
class EtcdCluster {
 public:
  struct Tls {
    std::string cert, key, ca;  // the members' certificate; clients must present one signed by ca
  };

  explicit EtcdCluster(int members = 1) : members_(static_cast<size_t>(members)) {}

  // Starts every member and waits until each answers /health (20 s).
  bool Start(const Tls* tls = nullptr) {
    tls_ = tls != nullptr;
    for (int attempt = 0; attempt < 3; ++attempt) {
      for (Member& m : members_) {
        m.client_port = FreePort();
        m.peer_port = FreePort();
      }
      std::string initial;
      for (size_t i = 0; i < members_.size(); ++i) {
        initial += (i ? "," : "") + Name(i) + "=http://127.0.0.1:" +
                   std::to_string(members_[i].peer_port);
      }
      for (size_t i = 0; i < members_.size(); ++i) {
        Member& m = members_[i];
        std::string client = std::string(tls_ ? "https" : "http") + "://127.0.0.1:" +
                             std::to_string(m.client_port);
        std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
        std::vector<std::string> args = {ETCD_PATH,
                                         "--name", Name(i),
                                         "--data-dir", dir_.Sub(Name(i) + "-" + std::to_string(attempt)),
                                         "--listen-client-urls", client,
                                         "--advertise-client-urls", client,
                                         "--listen-peer-urls", peer,
                                         "--initial-advertise-peer-urls", peer,
                                         "--initial-cluster", initial,
                                         "--initial-cluster-state", "new",
                                         "--initial-cluster-token", "kv-test-" + std::to_string(attempt),
                                         "--logger", "zap", "--log-outputs", "stderr"};
        if (tls != nullptr) {
          args.insert(args.end(), {"--cert-file", tls->cert, "--key-file", tls->key,
                                   "--trusted-ca-file", tls->ca, "--client-cert-auth"});
        }
        m.args = args;
        if (!m.process.Start(args, log(i))) return false;
      }
      if (WaitHealthy(20s)) return true;
      for (Member& m : members_) m.process.Kill();
    }
    return false;
  }

  // "etcd://127.0.0.1:P1,..." (etcds:// with TLS), members in order.
  std::string url() const {
    std::string u = tls_ ? "etcds://" : "etcd://";
    for (size_t i = 0; i < members_.size(); ++i) u += (i ? "," : "") + endpoint(i);
    return u;
  }
  std::string endpoint(size_t i) const {
    return "127.0.0.1:" + std::to_string(members_[i].client_port);
  }
  uint16_t port(size_t i) const { return members_[i].client_port; }
  size_t size() const { return members_.size(); }
  std::string log(size_t i) const { return dir_.Sub(Name(i) + ".log"); }

  void KillMember(size_t i) { members_[i].process.Kill(); }
  // Starts a killed member again on its data directory and ports, and waits
  // until every member answers /health (20 s).
  bool RestartMember(size_t i) {
    if (!members_[i].process.Start(members_[i].args, log(i) + ".restart")) return false;
    return WaitHealthy(20s);
  }

  // A gateway call on member i (plain HTTP only).
  Json Raw(const std::string& path, const Json& body, size_t i = 0,
           const std::string& token = "") const {
    return PostJson("127.0.0.1", members_[i].client_port, path, body, token);
  }

  // The value at the raw etcd key, or nullopt when absent.
  std::optional<std::string> RawGet(const std::string& key, size_t i = 0,
                                    int64_t* lease = nullptr) const {
    Json r = Raw("/v3/kv/range", {{"key", Base64Encode(key)}}, i);
    if (!r.is_object() || !r.contains("kvs") || r["kvs"].empty()) return std::nullopt;
    const Json& kv = r["kvs"][0];
    if (lease != nullptr) {
      *lease = kv.contains("lease") ? std::stoll(kv["lease"].get<std::string>()) : 0;
    }
    return Base64Decode(kv.contains("value") ? kv["value"].get<std::string>() : "").value_or("?");
  }

  void RawPut(const std::string& key, const std::string& value, size_t i = 0) const {
    Raw("/v3/kv/put", {{"key", Base64Encode(key)}, {"value", Base64Encode(value)}}, i);
  }

 private:
  struct Member {
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    std::vector<std::string> args;  // as last started
    Child process;
  };

  static std::string Name(size_t i) { return "m" + std::to_string(i); }

  bool WaitHealthy(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (size_t i = 0; i < members_.size(); ++i) {
      for (;;) {
        if (!members_[i].process.Running()) return false;
        if (Healthy(i)) break;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(100ms);
      }
    }
    return true;
  }

  bool Healthy(size_t i) {
    if (tls_) {  // kv's own client speaks no TLS: wait for the port, then for an election
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(members_[i].client_port);
      bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
      if (up) std::this_thread::sleep_for(500ms);  // let the cluster elect a leader
      return up;
    }
    client::SocketAddress a;
    a.host = "127.0.0.1";
    a.port = members_[i].client_port;
    auto http = client::NewFdHttpClient(a, 1000);
    client::HttpCall call;
    call.target = "/health";
    auto reply = http->Send(call);
    return reply.ok() && reply->status == 200 &&
           reply->body.find("\"true\"") != std::string::npos;
  }

  TempDir dir_{"kv-etcd"};
  std::vector<Member> members_;
  bool tls_ = false;
};

// A CA, a server certificate for 127.0.0.1 and a client certificate, made
// with openssl in `dir`.
inline bool MakeCertificates(const TempDir& dir) {
  std::string script = R"(set -e
cd ")" + dir.str() + R"("
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=kv-test-ca 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' > ext.cnf
for who in server client; do
  openssl req -newkey rsa:2048 -nodes -keyout $who.key -out $who.csr -subj /CN=$who 2>/dev/null
  openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $who.pem -days 2 -extfile ext.cnf 2>/dev/null
done
)";
  CommandResult r = RunCommand({"/bin/sh", "-c", script});
  INFO(r.err);
  return r.code == 0;
}

// client::OpenBackend for a remote URL, with libkv_remote.so from the build.
inline std::unique_ptr<client::Backend> OpenRemote(const std::string& url,
                                                   client::Scope scope = {},
                                                   const std::string& token = "",
                                                   client::ConnectOptions extra = {}) {
  ::setenv("KV_REMOTE_LIB", KV_REMOTE_LIB_PATH, 1);
  client::ConnectOptions o = std::move(extra);
  o.url = url;
  o.scope = std::move(scope);
  o.token = token;
  if (o.timeout_ms == 10'000) o.timeout_ms = 5'000;
  auto backend = client::OpenBackend(o);
  INFO("opening " << url << ": " << backend.status().ToString());
  REQUIRE(backend.ok());
  return std::move(*backend);
}

}  // namespace kv::testing
