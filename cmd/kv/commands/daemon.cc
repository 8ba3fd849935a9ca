// kv daemon start|stop|status|restart|logs|backup: the local kvd.
//
// kvd writes no pid file; the client finds the daemon through its socket
// instead (client/local_daemon.h): a connect() that succeeds means it runs,
// and SO_PEERCRED on that connection names the process that listens, which
// `stop` sends SIGTERM (kvd then drains its requests and closes the store).
// `start` is the client's auto-start, so a daemon started by `kv daemon
// start` and one started on demand are the same (detached, logging to
// $XDG_STATE_HOME/kv/kvd.log). `logs` reads the running kvd's --log-file
// (from /proc), else the file its stderr goes to, else that default log.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "client/http_client.h"
#include "client/local_daemon.h"
#include "cmd/kv/commands/commands.h"
#include "common/paths.h"

namespace kv::cli {
namespace {

// The socket of the local kvd the settings name. InvalidArgument when they
// name a remote backend.
Status LocalSocket(Context& ctx, std::string* path) {
  Result<Settings> settings = ctx.settings();
  if (!settings.ok()) return settings.status();
  const client::ConnectOptions& c = settings->connect;
  if (c.url.empty()) {
    *path = c.socket_path.empty() ? paths::DefaultSocketPath() : c.socket_path;
    return Status::Ok();
  }
  if (c.url.starts_with("unix://")) {
    *path = c.url.substr(7);
    return Status::Ok();
  }
  return Status::InvalidArgument("kv daemon manages the local kvd, and the URL names " + c.url);
}

// How long start and stop wait: --timeout, at least 10 s.
int64_t WaitMs(Context& ctx) {
  Result<Settings> settings = ctx.settings();
  int64_t ms = settings.ok() ? settings->connect.timeout_ms : 0;
  return std::max<int64_t>(ms, 10'000);
}

std::string ReadSmallFile(const std::string& path) {
  std::string data;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return data;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && data.size() < (1 << 20)) {
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

std::vector<std::string> SplitNul(const std::string& data) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start < data.size()) {
    size_t end = data.find('\0', start);
    if (end == std::string::npos) end = data.size();
    parts.push_back(data.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Where the running kvd `pid` logs; empty when unknown.
std::string LogFileOf(pid_t pid) {
  std::string proc = "/proc/" + std::to_string(pid);
  std::string file;
  std::vector<std::string> args = SplitNul(ReadSmallFile(proc + "/cmdline"));
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--log-file" && i + 1 < args.size()) file = args[i + 1];
    if (args[i].starts_with("--log-file=")) file = args[i].substr(11);
  }
  if (file.empty()) {
    for (const std::string& var : SplitNul(ReadSmallFile(proc + "/environ"))) {
      if (var.starts_with("KVD_LOG_FILE=")) file = var.substr(13);
    }
  }
  if (!file.empty() && file[0] != '/') {
    char cwd[4096];
    ssize_t n = ::readlink((proc + "/cwd").c_str(), cwd, sizeof cwd - 1);
    if (n > 0) file = std::string(cwd, static_cast<size_t>(n)) + "/" + file;
  }
  if (!file.empty()) return file;
  char target[4096];
  ssize_t n = ::readlink((proc + "/fd/2").c_str(), target, sizeof target - 1);
  if (n > 0) {
    std::string stderr_path(target, static_cast<size_t>(n));
    if (stderr_path.starts_with("/") && IsRegularFile(stderr_path)) return stderr_path;
  }
  return "";
}

DaemonInfo Describe(const std::string& socket) {
  DaemonInfo info;
  info.socket = socket;
  Result<pid_t> pid = client::LocalDaemonPid(socket);
  info.running = pid.ok();
  if (pid.ok()) {
    info.pid = *pid;
    info.log_file = LogFileOf(*pid);
  }
  return info;
}

Status Stop(Context& ctx, const std::string& socket, bool note_when_not_running) {
  Result<pid_t> pid = client::LocalDaemonPid(socket);
  if (!pid.ok() && pid.status().IsNotFound()) {
    if (note_when_not_running) ctx.Note("kvd is not running (socket " + socket + ")");
    return Status::Ok();
  }
  if (!pid.ok()) return pid.status();
  Status s = client::StopLocalDaemon(socket, WaitMs(ctx));
  if (s.IsNotFound()) return Status::Ok();  // it went away by itself meanwhile
  if (!s.ok()) return s;
  ctx.Note("kvd stopped (pid " + std::to_string(*pid) + ")");
  return Status::Ok();
}

Status Start(Context& ctx, const std::string& socket) {
  if (client::LocalDaemonPid(socket).ok()) {
    ctx.Note("kvd is already running");
  } else {
    Result<Settings> settings = ctx.settings();
    if (!settings.ok()) return settings.status();
    client::DaemonLaunch launch;
    launch.socket_path = socket;
    launch.kvd_path = settings->connect.kvd_path;
    launch.wait_ms = WaitMs(ctx);
    if (Status s = client::EnsureLocalDaemon(launch); !s.ok()) return s;
  }
  ctx.printer().Daemon(Describe(socket));
  return Status::Ok();
}

// The last `lines` lines of the file open at `fd` (all when 0); sets *offset
// to the file's end.
Status WriteTail(Context& ctx, int fd, size_t lines, off_t* offset) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::IOError(std::strerror(errno));
  off_t end = st.st_size;
  off_t start = 0;
  if (lines > 0) {
    // Walk back block by block until `lines` line breaks precede the end.
    size_t seen = 0;
    off_t pos = end;
    char buf[65536];
    bool found = false;
    while (pos > 0 && !found) {
      off_t block = std::min<off_t>(pos, static_cast<off_t>(sizeof buf));
      pos -= block;
      ssize_t n = ::pread(fd, buf, static_cast<size_t>(block), pos);
      if (n <= 0) break;
      for (ssize_t i = n - 1; i >= 0; --i) {
        if (buf[i] != '\n' || pos + i == end - 1) continue;
        if (++seen == lines) {
          start = pos + i + 1;
          found = true;
          break;
        }
      }
    }
  }
  char buf[65536];
  off_t pos = start;
  while (pos < end) {
    ssize_t n = ::pread(fd, buf, static_cast<size_t>(std::min<off_t>(end - pos, sizeof buf)), pos);
    if (n <= 0) break;
    ctx.out().write(buf, n);
    pos += n;
  }
  ctx.out().flush();
  *offset = pos;
  return Status::Ok();
}

}  // namespace

Status RunDaemonStart(const DaemonOptions&, Context& ctx) {
  std::string socket;
  if (Status s = LocalSocket(ctx, &socket); !s.ok()) return s;
  return Start(ctx, socket);
}

Status RunDaemonStop(const DaemonOptions&, Context& ctx) {
  std::string socket;
  if (Status s = LocalSocket(ctx, &socket); !s.ok()) return s;
  return Stop(ctx, socket, /*note_when_not_running=*/true);
}

Status RunDaemonRestart(const DaemonOptions&, Context& ctx) {
  std::string socket;
  if (Status s = LocalSocket(ctx, &socket); !s.ok()) return s;
  if (Status s = Stop(ctx, socket, /*note_when_not_running=*/false); !s.ok()) return s;
  return Start(ctx, socket);
}

Status RunDaemonStatus(const DaemonOptions&, Context& ctx) {
  std::string socket;
  if (Status s = LocalSocket(ctx, &socket); !s.ok()) return s;
  DaemonInfo info = Describe(socket);
  ctx.printer().Daemon(info);
  // Not running: exit 4 (unreachable), nothing more to say.
  return info.running ? Status::Ok() : Status::Unavailable("");
}

Status RunDaemonLogs(const DaemonOptions& options, Context& ctx) {
  std::string socket;
  if (Status s = LocalSocket(ctx, &socket); !s.ok()) return s;
  std::string path;
  if (Result<pid_t> pid = client::LocalDaemonPid(socket); pid.ok()) path = LogFileOf(*pid);
  if (path.empty()) path = client::DefaultDaemonLogPath();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("no kvd log at " + path);
    return Status::IOError("cannot read " + path + ": " + std::strerror(errno));
  }
  off_t offset = 0;
  Status s = WriteTail(ctx, fd, options.lines, &offset);
  while (s.ok() && options.follow && ctx.out() && !client::Interrupted()) {  // Ctrl-C in kv shell
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;
    struct stat cur;
    if (::fstat(fd, &cur) != 0 || cur.st_ino != st.st_ino || st.st_size < offset) {
      // Rotated or truncated: start over on the new file.
      ::close(fd);
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return Status::IOError("cannot read " + path + ": " + std::strerror(errno));
      offset = 0;
    }
    char buf[65536];
    ssize_t n;
    while ((n = ::pread(fd, buf, sizeof buf, offset)) > 0) {
      ctx.out().write(buf, n);
      offset += n;
    }
    ctx.out().flush();
  }
  ::close(fd);
  return s;
}

Status RunDaemonBackup(const DaemonOptions& options, Context& ctx) {
  std::string socket;
  if (Status s = LocalSocket(ctx, &socket); !s.ok()) return s;
  // kvd writes the directory, from its own working directory: send the path
  // that this one means.
  std::error_code ec;
  const std::string dir = std::filesystem::absolute(options.dir, ec).lexically_normal().string();
  if (ec || options.dir.empty()) {
    return Status::InvalidArgument("bad directory '" + options.dir + "'");
  }
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  if (Status s = backend->Backup(dir); !s.ok()) return s;
  ctx.Note("backed up kvd to " + dir + " (start a kvd on it with: kvd --data-dir " + dir + ")");
  return Status::Ok();
}

void AddDaemonCommand(CLI::App& app, Context& ctx) {
  CLI::App* daemon = app.add_subcommand("daemon", "Start, stop, inspect and back up the local kvd");
  daemon->require_subcommand(1);
  auto opts = std::make_shared<DaemonOptions>();
  struct Verb {
    const char* name;
    const char* help;
    Status (*run)(const DaemonOptions&, Context&);
  };
  const Verb verbs[] = {
      {"start", "Start kvd on the socket (--socket, KV_SOCKET) unless it runs", RunDaemonStart},
      {"stop", "Stop kvd cleanly (SIGTERM; waits up to --timeout for it to exit)", RunDaemonStop},
      {"status", "Say whether kvd runs (exit 0) or not (exit 4)", RunDaemonStatus},
      {"restart", "Stop kvd, then start it", RunDaemonRestart},
      {"logs", "Print kvd's log", RunDaemonLogs},
      {"backup", "Write a consistent copy of everything kvd holds into a new directory",
       RunDaemonBackup},
  };
  for (const Verb& verb : verbs) {
    CLI::App* cmd = daemon->add_subcommand(verb.name, verb.help);
    auto run = verb.run;
    if (std::string(verb.name) == "logs") {
      cmd->add_option("--lines", opts->lines, "The last N lines (default: 50; 0: all)");
      cmd->add_flag("-f,--follow", opts->follow, "Keep printing lines as they are written");
    }
    if (std::string(verb.name) == "backup") {
      cmd->add_option("dir", opts->dir, "The new directory (its parent must exist)")->required();
      cmd->footer(
          "kvd writes a data directory as of one moment: every tenant's keys, TTLs, the event\n"
          "log, webhooks and tokens (encrypted with kvd's key when it has one). On the data\n"
          "directory's filesystem this takes about a memtable flush (table files are hard\n"
          "links); elsewhere every file is copied. Requests wait for it meanwhile.\n"
          "To restore: kvd --data-dir DIR, or copy DIR over a stopped kvd's.");
    }
    if (std::string(verb.name) == "status") {
      cmd->footer("JSON: {\"running\",\"socket\",\"pid\":N|null,\"log_file\":\"...\"|null}");
    }
    OnRun(cmd, ctx, [opts, run, &ctx] { return run(*opts, ctx); });
  }
}

}  // namespace kv::cli
