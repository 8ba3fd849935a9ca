#include "shell/signals.h"

#include <unistd.h>

#include <cerrno>

namespace kv::shell {
namespace {

std::atomic<bool> g_interrupt{false};
std::atomic<bool> g_resize{false};
std::atomic<bool> g_continue{false};
std::atomic<bool> g_running{false};

static_assert(std::atomic<bool>::is_always_lock_free, "flags are set in signal handlers");

void OnSignal(int signo) {
  if (signo == SIGINT) {
    g_interrupt.store(true);
    if (g_running.load()) {
      int saved = errno;
      ssize_t ignored = ::write(STDERR_FILENO, "\n", 1);
      (void)ignored;
      errno = saved;
    }
  }
  if (signo == SIGWINCH) g_resize.store(true);
  if (signo == SIGCONT) g_continue.store(true);
}

void Install(int signo, struct sigaction* old) {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR
  sigaction(signo, &sa, old);
}

}  // namespace

std::atomic<bool>& InterruptFlag() { return g_interrupt; }
std::atomic<bool>& ResizeFlag() { return g_resize; }
std::atomic<bool>& ContinueFlag() { return g_continue; }
void SetCommandRunning(bool running) { g_running.store(running); }

SignalScope::SignalScope() {
  g_interrupt.store(false);
  Install(SIGINT, &old_int_);
  Install(SIGWINCH, &old_winch_);
  Install(SIGCONT, &old_cont_);
}

SignalScope::~SignalScope() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGWINCH, &old_winch_, nullptr);
  sigaction(SIGCONT, &old_cont_, nullptr);
}

}  // namespace kv::shell
