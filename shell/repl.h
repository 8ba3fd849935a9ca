// Repl: kv's read-eval-print loop. It reads inputs from a LineEditor, splits
// them with the Tokenizer (an input with an open quote, { or [ goes on over
// the next lines, with a continuation prompt), handles the shell's own verbs
// and hands every other line to the CommandRunner, kv's command tree.
//
// Shell verbs, checked before the command tree (as redis-cli does):
//   use NAMESPACE [APP]            work in another namespace (and app)
//   connect URL|PROFILE [--token T] switch backend (`connect local`: the local kvd)
//   help [COMMAND...]              kv's help, or a command's, plus these verbs
//   exit, quit (or Ctrl-D)         leave
// A first word `kv` is dropped, so command lines pasted from a terminal work.
//
// Interactive (a terminal): the prompt is "kv BACKEND:NAMESPACE> ", errors
// are printed and the loop goes on, Ctrl-C abandons the input being typed or
// interrupts the command that runs. Inputs go to the history unless they
// may hold a secret: a --token flag, a `token` command, a `connect` to a URL
// with credentials, a word that looks like a kvd token (kv_ and 32+
// characters), or a line that starts with a space.
//
// Script (anything else): lines run in order; the first that fails ends the
// loop with its exit code, unless keep_going, in which case every line runs
// and the exit code is the first failure's (0 when none failed).
//
// Ownership: the editor, runner and streams belong to the caller and must
// outlive the Repl. Thread-safety: one thread.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "shell/command_runner.h"
#include "shell/line_editor.h"

namespace kv::shell {

struct ReplOptions {
  // Script mode only: go on after a failing line.
  bool keep_going = false;
};

class Repl {
 public:
  Repl(LineEditor& editor, CommandRunner& runner, std::ostream& out, ReplOptions options);

  // Runs until exit/quit/end of input (or a failing line of a script).
  // Returns the exit code (see above).
  int Run();

  // One complete input's words: a shell verb or a command. Returns its exit
  // code; sets done() after exit/quit.
  int Execute(const std::vector<std::string>& words);
  bool done() const { return done_; }

  // The answer to Tab for the text before the cursor (completion of the
  // word being typed; see LineEditor).
  Completion Complete(std::string_view text);
  // The hint after the text typed so far: the rest of the command's usage,
  // once its name and a space are typed; "" otherwise.
  std::string Hint(std::string_view text);

  std::string Prompt();
  std::string ContinuationPrompt();

  // True when `input` must not go to the history (see above).
  static bool HoldsSecret(std::string_view input, const std::vector<std::string>& words);

 private:
  int Help(const std::vector<std::string>& args);

  LineEditor& editor_;
  CommandRunner& runner_;
  std::ostream& out_;
  ReplOptions options_;
  bool done_ = false;
  std::string pending_;  // earlier lines of an input that is still open
  size_t prompt_width_ = 0;
};

}  // namespace kv::shell
