// RunCommand: runs a /bin/sh command line, waits for it, and returns its exit
// status and what it wrote to stdout (the command line's own redirections,
// such as 2>&1, decide what else is in there). Blocks; bound slow commands
// with timeout(1) in the command line.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace kv::testing {

struct CommandResult {
  int code = -1;    // exit status; 128 + N when signal N killed it; -1 when it did not run
  std::string out;  // stdout
};

inline CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  if (status == -1) return r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
  return r;
}

}  // namespace kv::testing
