// LineEditor: where the REPL gets its lines. Two implementations:
// LibeditEditor (a terminal: editing, history, completion, hints) and
// PlainEditor (anything else: lines read as they come, for scripts).
//
// The editor knows nothing about kv: completion and hints come from the
// callbacks the REPL installs, which see the text before the cursor
// (including earlier lines of an input that is still open) and answer with
// what to insert and what to show.
//
// Ownership: an editor owns its terminal state and history; callbacks are
// copied in. Thread-safety: one thread; ReadLine is not reentrant.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kv::shell {

struct ReadResult {
  enum class Kind {
    kLine,         // `line` holds what was typed (no trailing newline)
    kEof,          // Ctrl-D on an empty line, or the end of the input
    kInterrupted,  // Ctrl-C: the line was abandoned
  };
  Kind kind = Kind::kEof;
  std::string line;
};

// The answer to a Tab.
struct Completion {
  // Text to insert at the cursor (already quoted for where it goes); empty
  // when nothing can be added.
  std::string insert;
  // What the word could become, shown on a second Tab when nothing was
  // inserted (unquoted, one per entry).
  std::vector<std::string> choices;
  // True when `choices` is cut short (e.g. the first 100 keys).
  bool truncated = false;
  // The usage of the command being typed ("get KEY"), shown with the
  // choices; empty when there is none.
  std::string usage;
};

// Called with the text before the cursor.
using CompleteFn = std::function<Completion(std::string_view text)>;
// Called with the text before the cursor; returns a one-line hint of what
// may follow (the rest of a command's usage), or "".
using HintFn = std::function<std::string(std::string_view text)>;

class LineEditor {
 public:
  virtual ~LineEditor() = default;

  // Shows `prompt` (when interactive) and reads one line.
  virtual ReadResult ReadLine(const std::string& prompt) = 0;
  // Records a finished input (possibly several lines) in the history and
  // its file. The REPL decides what is recorded (never secrets).
  virtual void AddHistory(const std::string& entry) = 0;
  // True for a terminal: prompts, history, completion, Ctrl-C.
  virtual bool interactive() const = 0;

  virtual void set_completer(CompleteFn complete) = 0;
  virtual void set_hinter(HintFn hint) = 0;
};

}  // namespace kv::shell
