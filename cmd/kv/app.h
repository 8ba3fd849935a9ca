// The kv command tree: BuildApp declares every command (the one wiring list)
// and the global flags; RunArgv and RunLine parse a command line with it and
// run the chosen command, returning kv's exit code (exit_codes.h).
//
// The REPL calls RunLine (or BuildApp itself) for each line with one Context:
// each call builds a fresh CLI11 tree bound to fresh option structs, so no
// flag value leaks from one line to the next, and nothing here calls exit().
// CLI11's exceptions are caught here and nowhere else: usage errors become
// "kv: ..." on stderr and exit 2; --help and --version print to stdout.
//
// Thread-safety: one thread at a time per Context.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cmd/kv/context.h"

namespace kv::cli {

// Resets ctx's flags and returns the tree, bound to ctx. The tree must not
// outlive ctx.
std::unique_ptr<CLI::App> BuildApp(Context& ctx);

// argv[0] is the program's name.
int RunArgv(Context& ctx, int argc, const char* const* argv);

// One line of words as a shell would split them (quotes, backslashes), with
// no program name: "get user:1 -o json".
int RunLine(Context& ctx, const std::string& line);

// The REPL's entry (cmd/kv/repl_adapter.h): the words of one line, already
// split by the shell's tokenizer, with no program name. The global flags
// start from `defaults` (the shell's session) instead of empty; the line's
// own flags override them for this line only.
int RunWords(Context& ctx, std::vector<std::string> words, const GlobalFlags& defaults);

}  // namespace kv::cli
