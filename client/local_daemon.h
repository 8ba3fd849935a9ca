// The local kvd as a process: find it, start it detached, stop it. Used by
// OpenBackend's auto-start and by `kv daemon start|stop|status|restart`.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace kv::client {

struct DaemonLaunch {
  std::string socket_path;  // required
  // The kvd executable; empty: `kvd` beside the running program, else PATH.
  std::string kvd_path;
  // Where its log goes; empty: $XDG_STATE_HOME/kv/kvd.log.
  std::string log_path;
  // How long to wait for it to answer. Default: 10 s.
  int64_t wait_ms = 10'000;
  std::vector<std::string> extra_args;  // more kvd flags
};

// Makes sure a kvd answers on launch.socket_path, starting one (detached, in
// its own session, output to the log) when none does. Racing callers
// serialize on a lock file beside the socket, so they end with one daemon.
// Unavailable: it could not be started or did not answer in time (the
// message points at the log).
Status EnsureLocalDaemon(const DaemonLaunch& launch);

// The pid of the process serving the Unix socket (SO_PEERCRED), or NotFound.
Result<pid_t> LocalDaemonPid(const std::string& socket_path);

// Sends SIGTERM to the kvd on the socket and waits up to wait_ms for it to
// exit. NotFound when none runs.
Status StopLocalDaemon(const std::string& socket_path, int64_t wait_ms = 10'000);

// The default log path: $XDG_STATE_HOME/kv/kvd.log.
std::string DefaultDaemonLogPath();

}  // namespace kv::client
