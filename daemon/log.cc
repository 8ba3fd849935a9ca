#include "daemon/log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

namespace kv::daemon {
namespace {

struct LogState {
  std::mutex mu;
  std::string path;  // empty: stderr
  int fd = STDERR_FILENO;
};

LogState& State() {
  static LogState* state = new LogState();  // never destroyed: usable until exit
  return *state;
}

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

int OpenLogFile(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

void AppendEscaped(std::string* line, std::string_view message) {
  static const char kHex[] = "0123456789abcdef";
  for (char c : message) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      line->append("\\n");
    } else if (c == '\r') {
      line->append("\\r");
    } else if (c == '\t') {
      line->append("\\t");
    } else if (u < 0x20 || u == 0x7f) {
      line->append("\\x");
      line->push_back(kHex[u >> 4]);
      line->push_back(kHex[u & 15]);
    } else {
      line->push_back(c);
    }
  }
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn" || text == "warning") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  if (text == "off") return LogLevel::kOff;
  return Status::InvalidArgument("unknown log level \"" + std::string(text) +
                                 "\" (expected debug, info, warn, error or off)");
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "info";
}

namespace logging {

Status Open(const std::string& path) {
  LogState& s = State();
  int fd = STDERR_FILENO;
  if (!path.empty()) {
    fd = OpenLogFile(path);
    if (fd < 0) {
      return Status::IOError("cannot open log file " + path + ": " + std::strerror(errno));
    }
  }
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.fd != STDERR_FILENO) ::close(s.fd);
  s.fd = fd;
  s.path = path;
  return Status::Ok();
}

Status Reopen() {
  LogState& s = State();
  std::string path;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    path = s.path;
  }
  if (path.empty()) return Status::Ok();
  int fd = OpenLogFile(path);
  int err = errno;
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.fd != STDERR_FILENO) ::close(s.fd);
  if (fd < 0) {
    s.fd = STDERR_FILENO;
    s.path.clear();
    return Status::IOError("cannot reopen log file " + path + ": " + std::strerror(err));
  }
  s.fd = fd;
  return Status::Ok();
}

void SetLevel(LogLevel level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

bool Enabled(LogLevel level) {
  return level != LogLevel::kOff &&
         static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void Write(LogLevel level, std::string_view message) {
  if (!Enabled(level)) return;
  struct timeval tv;
  ::gettimeofday(&tv, nullptr);
  struct tm tm;
  ::gmtime_r(&tv.tv_sec, &tm);
  char stamp[48];
  size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ ", static_cast<int>(tv.tv_usec / 1000));

  std::string line;
  line.reserve(message.size() + 40);
  line.append(stamp);
  line.append(LogLevelName(level));
  line.push_back(' ');
  AppendEscaped(&line, message);
  line.push_back('\n');

  LogState& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t w = ::write(s.fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report it
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
}

}  // namespace logging
}  // namespace kv::daemon
