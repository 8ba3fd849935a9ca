// kvd's log: one line per event, to stderr or to a file (--log-file), with a
// level filter (--log-level). A line reads
//
//   2025-01-31T12:00:00.123Z info listening on tcp 127.0.0.1:7379
//
// Control characters in a message are escaped, so an event is always exactly
// one line. Callers never pass tokens or values: keys, paths, statuses,
// counts and error messages only.
//
// The log is process-wide. Ownership: it owns the file it writes to; Reopen()
// (on SIGHUP) closes it and opens the same path again, for logrotate.
// Thread-safety: every function may be called from any thread at any time.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kv::daemon {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// "debug", "info", "warn" (or "warning"), "error", "off". InvalidArgument otherwise.
Result<LogLevel> ParseLogLevel(std::string_view text);
const char* LogLevelName(LogLevel level);

namespace logging {

// Sends lines to `path` (appended; created 0600) or, when empty, to stderr.
// IOError: the file cannot be opened (the log keeps its previous target).
Status Open(const std::string& path);
// Opens the log file again (after a rotation). No-op when logging to stderr.
// IOError: it cannot be opened; the log falls back to stderr.
Status Reopen();
// Default: kInfo.
void SetLevel(LogLevel level);
// Whether a line of that level would be written; check it before building an
// expensive message.
bool Enabled(LogLevel level);
void Write(LogLevel level, std::string_view message);

inline void Debug(std::string_view message) {
  if (Enabled(LogLevel::kDebug)) Write(LogLevel::kDebug, message);
}
inline void Info(std::string_view message) { Write(LogLevel::kInfo, message); }
inline void Warn(std::string_view message) { Write(LogLevel::kWarn, message); }
inline void Error(std::string_view message) { Write(LogLevel::kError, message); }

}  // namespace logging
}  // namespace kv::daemon
