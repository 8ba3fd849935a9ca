// ReplAdapter: kv's command tree as the REPL's shell::CommandRunner. Each
// line is parsed by a fresh tree from BuildApp (app.h) bound to the one
// Context, so a line in `kv shell` means what the same words mean after
// `kv` in a terminal, and the backend connection is kept across lines.
//
// The session: the global flags `kv shell` was started with (kv -n shop
// --url ... shell), changed by `use` (namespace, app) and `connect` (URL or
// profile, token). Every line starts from them; flags on a line apply to
// that line only.
//
// Completion walks the same tree (get_subcommands, get_options, get_lnames,
// get_snames): command and subcommand names, flags (the command's and the
// global ones), -o's values, profile names, namespace names (-n), file
// names left to the caller (options whose value is a PATH or FILE), and key
// names for arguments named key/keys/prefix, fetched from the backend with
// List(prefix, limit kMaxKeyChoices) under the session's timeout. Global
// flags on the line being completed (--url, -n, --socket...) pick the
// backend keys and namespaces come from. `kv __complete` (the bash, zsh and
// fish scripts of completions/) answers with this same code.
//
// On a terminal (table output) the adapter's printers pretty-print JSON
// values and merge-patch results, coloured unless NO_COLOR (Context::color).
//
// Ownership: holds a reference to the Context, which must outlive it.
// Thread-safety: one thread, the REPL's.
#pragma once

#include <string>
#include <vector>

#include "cmd/kv/context.h"
#include "shell/command_runner.h"

namespace kv::cli {

// How many keys a Tab fetches at most.
inline constexpr size_t kMaxKeyChoices = 100;

class ReplAdapter final : public shell::CommandRunner {
 public:
  // Takes the session from ctx.flags() as they are now (the flags of the
  // `kv ... shell` command line), and makes ctx's printers pretty.
  explicit ReplAdapter(Context& ctx);
  ~ReplAdapter() override;
  ReplAdapter(const ReplAdapter&) = delete;
  ReplAdapter& operator=(const ReplAdapter&) = delete;

  int Run(const std::vector<std::string>& words) override;
  int Use(const std::string& ns, const std::string& app) override;
  int Connect(const std::string& target, const std::string& token) override;
  int UsageError(const std::string& message) override;
  std::string PromptLabel() override;
  shell::Candidates Complete(const std::vector<std::string>& words,
                             const std::string& partial) override;
  std::string Usage(const std::vector<std::string>& words, bool remaining_only) override;

  // Opens the backend now (the shell's start), printing why it cannot be.
  // Returns the exit code (0: connected).
  int Open();

  const GlobalFlags& session() const { return session_; }

 private:
  // Resets ctx to the session's flags (what PromptLabel, Use, Connect and
  // completion work with).
  void ToSession();
  // The session with the global flags a line being completed gives on top
  // (kv --url X get <Tab> lists X's keys).
  void ToLine(const std::vector<std::string>& global_words);
  std::vector<std::string> Keys(const std::string& prefix,
                                const std::vector<std::string>& global_words, bool* truncated);
  std::vector<std::string> Namespaces(const std::vector<std::string>& global_words);
  std::vector<std::string> ProfileNames();

  Context& ctx_;
  GlobalFlags session_;
  std::string backend_name_;  // the last backend opened for the session
};

// A printer for the REPL on a terminal: `inner` for everything, except that
// JSON objects and arrays (values of get, results of patch) are indented,
// and coloured when `color`.
std::unique_ptr<Printer> MakeReplPrinter(std::unique_ptr<Printer> inner, std::ostream& out,
                                         bool color);

// `json` (an object or array) indented by two spaces, with ANSI colours
// when `color` (keys blue, strings green, numbers cyan, true/false/null
// magenta). nullopt when `json` is not an object or array.
std::optional<std::string> PrettyJson(std::string_view json, bool color);

}  // namespace kv::cli
