// KvdProcess: starts the real kvd binary for end-to-end tests, waits until it
// is ready (its "listening on ..." lines on stdout), and stops it if a test
// leaves it running: SIGTERM, as its users stop it, so that its shutdown runs
// and, in a sanitized build, LeakSanitizer checks it at its exit (a report
// fails the test, see tests/support/sanitizer_run.sh); SIGKILL if it has not
// exited within 10 s. Its stderr goes to a file the test can read.
//
//   KvdProcess kvd;
//   REQUIRE(kvd.Start({"--data-dir", dir.Sub("data"), "--socket", dir.Sub("kvd.sock"),
//                      "--listen", "127.0.0.1:0"}));
//   ... kvd.unix_socket(), kvd.tcp_port() ...
//   kvd.Signal(SIGTERM);
//   CHECK(kvd.Wait(10s) == 0);
//
// RunKvd() runs kvd to completion (for --help, --version, bad flags).
//
// The binary is KVD_PATH, a compile definition set by the test's CMake.
// Ownership: a KvdProcess owns its child process. Thread-safety: none.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/sanitizer_env.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace kv::testing {

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class KvdProcess {
 public:
  explicit KvdProcess(std::string binary = KVD_PATH) : binary_(std::move(binary)) {}
  ~KvdProcess() { Stop(); }
  KvdProcess(const KvdProcess&) = delete;
  KvdProcess& operator=(const KvdProcess&) = delete;

  // The next Start() passes these listening sockets to kvd the way systemd
  // does for socket activation: as descriptors 3, 4, ..., with LISTEN_FDS
  // their number and LISTEN_PID kvd's pid (set by a shell that then execs
  // kvd, keeping its pid). The caller keeps its own descriptors.
  void PassListenFds(std::vector<int> fds) { listen_fds_ = std::move(fds); }

  // Spawns kvd with `args` and `env` ("NAME=VALUE", added to this process's
  // environment, replacing a variable of the same name). With `wait_ready`,
  // returns once kvd printed its listening lines (true), or exited or
  // timed out (false; see Stderr()).
  bool Start(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
             bool wait_ready = true,
             std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    Kill();
    stdout_text_.clear();
    err_path_ = logs_.Sub("stderr-" + std::to_string(++starts_) + ".txt");
    int out_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return false;

    std::vector<std::string> argv_s = {binary_};
    if (!listen_fds_.empty()) {
      argv_s = {"/bin/sh", "-c",
                "export LISTEN_PID=$$ LISTEN_FDS=" + std::to_string(listen_fds_.size()) +
                    "; exec \"$0\" \"$@\"",
                binary_};
    }
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);

    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) {
      std::string entry = *e;
      std::string name = entry.substr(0, entry.find('='));
      bool replaced = false;
      for (const auto& add : env) replaced |= add.substr(0, add.find('=')) == name;
      if (!replaced) env_s.push_back(entry);
    }
    env_s.insert(env_s.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    // Moved above the target range first, so that dup2 never overwrites a
    // descriptor still to be passed.
    std::vector<int> passed;
    for (int fd : listen_fds_) passed.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, 100));
    for (size_t i = 0; i < passed.size(); ++i) {
      posix_spawn_file_actions_adddup2(&actions, passed[i], 3 + static_cast<int>(i));
    }
    // The test binary may run with signals blocked or ignored; kvd starts clean.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawn(&pid_, argv_s[0].c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    for (int fd : passed) ::close(fd);
    posix_spawnattr_destroy(&attr);
    ::close(out_pipe[1]);
    out_fd_ = out_pipe[0];
    if (rc != 0) {
      pid_ = -1;
      return false;
    }
    exit_code_.reset();
    if (!wait_ready) return true;
    return WaitReady(timeout);
  }

  // Reads stdout until the "listening on unix" line (and with it any tcp line).
  bool WaitReady(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (stdout_text_.find("listening on unix ") == std::string::npos ||
           stdout_text_.back() != '\n') {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{out_fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 100)));
      if (r > 0) {
        char buf[4096];
        ssize_t n = ::read(out_fd_, buf, sizeof buf);
        if (n <= 0) return false;  // kvd exited
        stdout_text_.append(buf, static_cast<size_t>(n));
      }
    }
    // A tcp line, when there is one, comes in the same write.
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {
      char buf[4096];
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n > 0) stdout_text_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  // Everything kvd wrote to stdout, read up to EOF. REQUIRES: kvd exited.
  std::string DrainStdout() {
    char buf[4096];
    ssize_t n;
    while (out_fd_ >= 0 && (n = ::read(out_fd_, buf, sizeof buf)) > 0) {
      stdout_text_.append(buf, static_cast<size_t>(n));
    }
    return stdout_text_;
  }

  pid_t pid() const { return pid_; }
  const std::string& stdout_text() const { return stdout_text_; }
  std::string Stderr() const { return ReadWholeFile(err_path_); }

  std::string unix_socket() const { return LineValue("listening on unix "); }
  uint16_t tcp_port() const {
    std::string ep = LineValue("listening on tcp ");
    if (ep.empty()) return 0;
    return static_cast<uint16_t>(std::stoi(ep.substr(ep.rfind(':') + 1)));
  }

  bool Signal(int sig) { return pid_ > 0 && ::kill(pid_, sig) == 0; }

  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      Reap(status);
      return false;
    }
    return true;
  }

  // The exit code (128 + signal when killed), or nullopt if still running
  // after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    if (exit_code_) return exit_code_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (Running()) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return exit_code_;
  }

  // SIGTERM, then SIGKILL if kvd has not exited within `grace`.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(10)) {
    if (Signal(SIGTERM)) Wait(grace);
    Kill();
  }

  void Kill() {
    if (pid_ > 0 && Running()) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      Reap(status);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
    pid_ = -1;
  }

 private:
  void Reap(int status) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (SanitizerReportDir() != nullptr) ForwardSanitizerReport(Stderr(), "kvd-" + std::to_string(pid_));
    pid_ = -1;
  }

  std::string LineValue(const std::string& prefix) const {
    size_t p = stdout_text_.find(prefix);
    if (p == std::string::npos) return "";
    size_t start = p + prefix.size();
    size_t end = stdout_text_.find('\n', start);
    return stdout_text_.substr(start, end - start);
  }

  std::string binary_;
  std::vector<int> listen_fds_;
  TempDir logs_{"kvd-proc"};
  std::string err_path_;
  int starts_ = 0;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string stdout_text_;
  std::optional<int> exit_code_;
};

struct KvdRun {
  int exit_code = -1;  // -1: timed out (and killed)
  std::string out;
  std::string err;
};

// Runs kvd to completion with a time limit, capturing all of its output.
inline KvdRun RunKvd(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  KvdProcess p;
  KvdRun run;
  if (!p.Start(args, env, /*wait_ready=*/false)) return run;
  auto code = p.Wait(timeout);
  run.exit_code = code.value_or(-1);
  run.err = p.Stderr();
  run.out = p.DrainStdout();
  return run;
}

}  // namespace kv::testing
