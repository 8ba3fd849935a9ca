// Signals in the interactive shell. Ctrl-C must abandon the line being typed
// or stop the command that runs (a `watch`), never end the shell.
//
// While a SignalScope lives, SIGINT sets InterruptFlag() instead of ending
// the process, and SIGWINCH / SIGCONT set flags the line editor reads. The
// handlers are installed without SA_RESTART, so a blocking read() or poll()
// returns EINTR and its caller can look at the flags: the line editor's
// character reader, and kv's client (client::SetInterruptFlag), whose waits
// for a server give up when InterruptFlag() is set.
//
// Ownership: the flags are process-wide (a signal handler can reach nothing
// else). One SignalScope at a time; it restores the previous handlers when it
// ends. Thread-safety: the flags are lock-free atomics, safe in handlers.
#pragma once

#include <atomic>
#include <csignal>

namespace kv::shell {

// Set by SIGINT while a SignalScope lives; cleared by whoever handles it.
std::atomic<bool>& InterruptFlag();
// Set by SIGWINCH (the terminal was resized) while a SignalScope lives.
std::atomic<bool>& ResizeFlag();
// Set by SIGCONT (resumed after Ctrl-Z) while a SignalScope lives.
std::atomic<bool>& ContinueFlag();

// The REPL says when a command runs: a SIGINT then also writes a newline to
// stderr, so what the command prints next ("kv: interrupted") does not
// follow the terminal's "^C" on the same line.
void SetCommandRunning(bool running);

class SignalScope {
 public:
  SignalScope();
  ~SignalScope();
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_winch_ {};
  struct sigaction old_cont_ {};
};

}  // namespace kv::shell
