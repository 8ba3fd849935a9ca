// kv: the command line tool. Everything but the process itself (streams,
// terminals, the real backend opener, the last-resort catch) lives in
// kv_cli (cmd/kv/app.h).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>

#include "client/connect.h"
#include "cmd/kv/app.h"
#include "cmd/kv/commands/commands.h"
#include "cmd/kv/context.h"
#include "cmd/kv/exit_codes.h"

int main(int argc, char** argv) {
  try {
    std::ios::sync_with_stdio(false);
    kv::cli::Io io;
    io.in = &std::cin;
    io.out = &std::cout;
    io.err = &std::cerr;
    io.stdin_tty = ::isatty(STDIN_FILENO) == 1;
    io.stdout_tty = ::isatty(STDOUT_FILENO) == 1;
    io.stderr_tty = ::isatty(STDERR_FILENO) == 1;
    struct stat st;
    if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
      io.stdin_size = static_cast<uint64_t>(st.st_size);
    }
    // kv __complete: the shell completion scripts' question (completion.cc).
    const bool complete = argc >= 2 && std::strcmp(argv[1], "__complete") == 0;
    kv::cli::Context ctx(
        io,
        [](const kv::client::ConnectOptions& options) { return kv::client::OpenBackend(options); },
        complete ? kv::cli::CompletionEnv : kv::cli::ProcessEnv);
    if (complete) {
      return kv::cli::RunCompleteRequest(ctx, std::vector<std::string>(argv + 2, argv + argc));
    }
    // `kv` alone on a terminal opens the shell (kv shell).
    const char* shell_argv[] = {argv[0], "shell", nullptr};
    const bool shell = argc == 1 && io.stdin_tty && io.stdout_tty;
    int code = shell ? kv::cli::RunArgv(ctx, 2, shell_argv) : kv::cli::RunArgv(ctx, argc, argv);
    std::cout.flush();
    return code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kv: unexpected error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "kv: unexpected error\n");
  }
  return kv::cli::kExitNotFound;  // STYLE.md item 5: the catch-all exits 1
}
