#include "client/local_daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include "client/fd_http_client.h"
#include "common/paths.h"

namespace kv::client {
namespace {

namespace fs = std::filesystem;

std::string Dirname(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

// `kvd` beside the running program (a build tree, or /usr/bin), else PATH.
std::string FindKvd(const std::string& configured) {
  if (!configured.empty()) return configured;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path candidate : {self.parent_path() / "kvd", self.parent_path() / ".." / "kvd" / "kvd"}) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.lexically_normal().string();
    }
  }
  return "kvd";
}

bool WaitUntil(const std::function<bool()>& done, int64_t wait_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

// Starts kvd in a new session, detached from us: double fork, so it is not
// our child and never becomes a zombie of ours.
Status Spawn(const DaemonLaunch& launch, const std::string& kvd, const std::string& log) {
  std::vector<std::string> args = {kvd, "--socket", launch.socket_path, "--log-file", log};
  args.insert(args.end(), launch.extra_args.begin(), launch.extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    return Status::Unavailable("cannot open the kvd log " + log + ": " + std::strerror(errno));
  }
  pid_t child = ::fork();
  if (child < 0) {
    ::close(log_fd);
    return Status::Unavailable(std::string("fork: ") + std::strerror(errno));
  }
  if (child == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    // Like any daemon: hold no directory busy, create files private to us.
    if (::chdir("/") != 0) ::_exit(127);
    ::umask(077);
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execvp(argv[0], argv.data());
    dprintf(2, "kv: cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(log_fd);
  int status = 0;
  ::waitpid(child, &status, 0);
  return Status::Ok();
}

}  // namespace

std::string DefaultDaemonLogPath() { return paths::StateDir() + "/kvd.log"; }

Status EnsureLocalDaemon(const DaemonLaunch& launch) {
  if (UnixSocketAnswers(launch.socket_path)) return Status::Ok();
  const std::string dir = Dirname(launch.socket_path);
  std::error_code ec;
  fs::create_directories(dir, ec);
  ::chmod(dir.c_str(), 0700);
  const std::string log = launch.log_path.empty() ? DefaultDaemonLogPath() : launch.log_path;
  fs::create_directories(Dirname(log), ec);

  // One starter at a time; the others wait here and then find it running.
  const std::string lock_path = launch.socket_path + ".lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) {
    return Status::Unavailable("cannot create " + lock_path + ": " + std::strerror(errno));
  }
  while (::flock(lock_fd, LOCK_EX) != 0 && errno == EINTR) {
  }
  Status result = Status::Ok();
  if (!UnixSocketAnswers(launch.socket_path)) {
    const std::string kvd = FindKvd(launch.kvd_path);
    result = Spawn(launch, kvd, log);
    if (result.ok() &&
        !WaitUntil([&] { return UnixSocketAnswers(launch.socket_path); }, launch.wait_ms)) {
      result = Status::Unavailable("started " + kvd + " but it did not answer on " +
                                   launch.socket_path + "; see " + log);
    }
  }
  ::flock(lock_fd, LOCK_UN);
  ::close(lock_fd);
  return result;
}

Result<pid_t> LocalDaemonPid(const std::string& socket_path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof sa.sun_path) return Status::InvalidArgument("socket path too long");
  std::memcpy(sa.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Unavailable(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return Status::NotFound("no kvd is running on " + socket_path);
  }
  // Never signal a process of another user that serves our socket path.
  if (Status s = CheckSocketPeer(fd, socket_path); !s.ok()) {
    ::close(fd);
    return s;
  }
  ucred cred{};
  socklen_t len = sizeof cred;
  int rc = ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
  ::close(fd);
  if (rc != 0 || cred.pid <= 0) return Status::Internal("cannot tell which process serves " + socket_path);
  return cred.pid;
}

Status StopLocalDaemon(const std::string& socket_path, int64_t wait_ms) {
  auto pid = LocalDaemonPid(socket_path);
  if (!pid.ok()) return pid.status();
  if (::kill(*pid, SIGTERM) != 0) {
    return Status::Unavailable("cannot signal kvd (pid " + std::to_string(*pid) + "): " +
                               std::strerror(errno));
  }
  bool gone = WaitUntil([&] { return ::kill(*pid, 0) != 0 && errno == ESRCH; }, wait_ms);
  if (!gone) {
    return Status::Timeout("kvd (pid " + std::to_string(*pid) + ") did not stop within " +
                           std::to_string(wait_ms / 1000) + " s");
  }
  return Status::Ok();
}

}  // namespace kv::client
