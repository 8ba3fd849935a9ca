// Socket activation: the listening sockets a service manager (systemd, with
// kvd.socket) opened for kvd and passed to it, through the LISTEN_FDS
// protocol of sd_listen_fds(3), implemented here directly (no libsystemd):
// LISTEN_PID is kvd's pid and LISTEN_FDS the number of sockets, which are
// file descriptors 3, 4, ... When LISTEN_PID names another process (the
// variables were meant for a parent) there are none.
//
// TakeActivatedSockets() unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES,
// so that no child inherits them, and marks the descriptors close-on-exec.
// Each one must be a listening stream socket, on a Unix path or on TCP.
//
// Thread-safety: call it once, from main, before starting threads (it
// changes the environment).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace kv::daemon {

struct ActivatedSocket {
  enum class Kind { kUnix, kTcp };
  int fd = -1;
  Kind kind = Kind::kUnix;
  // The socket file's path (kUnix), or "127.0.0.1:7379" / "[::1]:7379" (kTcp).
  std::string address;
  bool loopback = false;  // kTcp: bound to a loopback address
};

// The sockets passed to this process, in descriptor order; empty when none.
// InvalidArgument: malformed variables, or a descriptor that is not a
// listening Unix or TCP stream socket.
Result<std::vector<ActivatedSocket>> TakeActivatedSockets();

}  // namespace kv::daemon
