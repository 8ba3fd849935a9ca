// LibeditEditor: the terminal LineEditor, on libedit's native API
// (<histedit.h>; BSD licence). kv does not link libedit: Open() loads it
// with dlopen() (libedit.so.2) the first time, so that the kv processes that
// never open a shell do not pay for loading it and its dependencies.
//
// What the user gets: emacs keys (libedit's defaults, plus Ctrl-R for
// incremental reverse search of the history), history kept in a file across
// sessions, Tab completion (the REPL's CompleteFn: a first Tab inserts what
// all choices share, a second lists them with the command's usage), a hint
// of the command's remaining arguments shown dimmed at the right of the line
// after each space (libedit's right prompt: it has no inline hints), and
// Ctrl-C that abandons the line. ~/.editrc (or $EDITRC) is read, so "bind"
// lines there can change keys for the program name "kv".
//
// Signals: libedit's own handlers (EL_SIGNAL) restore the terminal around
// Ctrl-Z and resizes; a SignalScope must be alive around ReadLine so that
// Ctrl-C sets shell::InterruptFlag() and interrupts the read (the editor's
// character reader turns it into its kv-interrupt key, bound to ^C).
//
// The history file is libedit's format, saved after every entry (through a
// temporary file and a rename, mode 0600) so that a second shell started
// later sees it; with two shells open at once the last one to save wins.
//
// Ownership: owns the EditLine and History; the FILE streams belong to the
// caller. Thread-safety: one thread.
#pragma once

#include <cstdio>
#include <cwchar>
#include <memory>
#include <string>

#include "common/status.h"
#include "shell/line_editor.h"

// libedit's types, so that users of this header do not include histedit.h.
struct editline;
struct history;

namespace kv::shell {

struct LibeditOptions {
  // The name ~/.editrc's "kv:" lines apply to.
  std::string program = "kv";
  // The history file; empty: none.
  std::string history_path;
  // How many entries the history keeps. Default: 1000.
  int history_size = 1000;
  // Dim hints and choices with ANSI escapes. Default: on (the caller turns it
  // off for NO_COLOR or TERM=dumb).
  bool color = true;
  // The terminal. REQUIRES: `in` is a terminal. `out` shows the prompt and
  // the line (stdout, or stderr when stdout is not a terminal).
  FILE* in = stdin;
  FILE* out = stdout;
  FILE* err = stderr;
};

class LibeditEditor final : public LineEditor {
 public:
  // Loads libedit (dlopen, once per process) and sets the terminal up.
  // Unsupported when libedit cannot be loaded (the caller falls back to a
  // PlainEditor).
  static Result<std::unique_ptr<LibeditEditor>> Open(LibeditOptions options);
  ~LibeditEditor() override;
  LibeditEditor(const LibeditEditor&) = delete;
  LibeditEditor& operator=(const LibeditEditor&) = delete;

  ReadResult ReadLine(const std::string& prompt) override;
  void AddHistory(const std::string& entry) override;
  bool interactive() const override { return true; }
  void set_completer(CompleteFn complete) override { complete_ = std::move(complete); }
  void set_hinter(HintFn hint) override { hint_ = std::move(hint); }

 private:
  explicit LibeditEditor(LibeditOptions options);
  static LibeditEditor* Self(editline* el);
  static char* PromptThunk(editline* el);
  static char* RightPromptThunk(editline* el);
  static int GetCharThunk(editline* el, wchar_t* out);
  static unsigned char CompleteThunk(editline* el, int ch);
  static unsigned char InterruptThunk(editline* el, int ch);
  static unsigned char AcceptThunk(editline* el, int ch);
  static unsigned char SpaceThunk(editline* el, int ch);

  int GetChar(wchar_t* out);
  unsigned char Complete();
  void ListChoices(const Completion& c);
  const char* RightPrompt();
  int Columns();
  void SaveHistory();

  LibeditOptions options_;
  editline* el_ = nullptr;
  history* history_ = nullptr;
  CompleteFn complete_;
  HintFn hint_;

  std::string prompt_;
  std::string right_prompt_;  // what RightPromptThunk returned last
  bool interrupted_ = false;  // this line was abandoned with Ctrl-C
  bool accepting_ = false;    // Enter was pressed: no more hints on this line
  std::string last_tab_;      // the line and cursor after a Tab that added nothing
  mbstate_t mb_state_{};
};

}  // namespace kv::shell
