// CommandRunner: what the REPL needs from kv's command tree, which the shell
// never sees (no CLI11, no cmd/ header here). cmd/kv/repl_adapter.h
// implements it over the same tree `kv ARGS...` uses, so a line in the shell
// and a command line in a terminal mean the same thing.
//
// The runner owns the session: the global flags `kv shell` was started with,
// as changed by `use` and `connect`, and the backend connection kept across
// lines. Every method prints its own output and errors ("kv: ..." on
// stderr) and returns kv's exit code (0 done, 1 not found, 2 usage, ...).
//
// Thread-safety: one thread (the REPL's).
#pragma once

#include <string>
#include <vector>

namespace kv::shell {

// Candidates for the word being completed.
struct Candidates {
  std::vector<std::string> words;  // whole words (unquoted), sorted
  bool truncated = false;          // more exist than were fetched
  bool files = false;              // the word is a file name: complete paths
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;

  // Runs one command of kv's tree: `words` as `kv` would get them in argv,
  // without the program name ({"set", "k", "{\"a\":1}", "--ttl", "10s"}).
  // Flags given on the line apply to that line only.
  virtual int Run(const std::vector<std::string>& words) = 0;

  // `use NAMESPACE [APP]`: later lines work in that namespace (and app;
  // empty: the default app).
  virtual int Use(const std::string& ns, const std::string& app) = 0;
  // `connect TARGET [--token TOKEN]`: TARGET is a profile name or a URL
  // (`local` for the local kvd). Checks that the backend answers; on
  // failure the session stays where it was.
  virtual int Connect(const std::string& target, const std::string& token) = 0;

  // Prints "kv: MESSAGE" and returns the usage exit code (2).
  virtual int UsageError(const std::string& message) = 0;
  // The exit code of a command that was interrupted by Ctrl-C.
  virtual int InterruptedCode() const { return 130; }

  // What the prompt shows: backend and namespace, "local:default" (with
  // "/APP" when the app is not the default one).
  virtual std::string PromptLabel() = 0;

  // Completion of the word `partial` after `words` (complete words of one
  // command line; empty at the start of a line): command and subcommand
  // names, flags, key names fetched from the backend by prefix (bounded),
  // profile names... Never fails: empty when nothing fits.
  virtual Candidates Complete(const std::vector<std::string>& words,
                              const std::string& partial) = 0;
  // The usage of the command `words` name, without what `words` already
  // gives: for {"set", "k"}, "VALUE [--ttl DURATION] ...". When
  // `remaining_only` is false, the whole usage ("set KEY [VALUE] ...").
  // Empty when `words` name no command.
  virtual std::string Usage(const std::vector<std::string>& words, bool remaining_only) = 0;
};

}  // namespace kv::shell
