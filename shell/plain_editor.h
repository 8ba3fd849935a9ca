// PlainEditor: a LineEditor over any input stream: no editing, history or
// completion; a trailing '\r' is dropped from each line (scripts written on
// Windows). `kv shell < script.kv` runs through it.
//
// Without `prompt_out` it is a script reader (no prompt, not interactive).
// With it, it is the terminal fallback when libedit cannot be loaded: it
// shows prompts there and reports itself interactive, so errors do not end
// the shell.
//
// Ownership: the streams belong to the caller and must outlive the editor.
// Thread-safety: one thread.
#pragma once

#include <istream>
#include <ostream>

#include "shell/line_editor.h"

namespace kv::shell {

class PlainEditor final : public LineEditor {
 public:
  explicit PlainEditor(std::istream& in, std::ostream* prompt_out = nullptr)
      : in_(in), prompt_out_(prompt_out) {}

  ReadResult ReadLine(const std::string& prompt) override;
  void AddHistory(const std::string&) override {}
  bool interactive() const override { return prompt_out_ != nullptr; }
  void set_completer(CompleteFn) override {}
  void set_hinter(HintFn) override {}

 private:
  std::istream& in_;
  std::ostream* prompt_out_;
};

}  // namespace kv::shell
