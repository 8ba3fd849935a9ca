// Tokenizer: splits one input of the REPL (a line, or several lines joined
// with '\n' while something was left open) into words, with a POSIX shell's
// quoting and no expansions:
//
//   'text'     everything up to the next ' is literal (newlines too);
//   "text"     literal except \" \\ \$ \` (the character) and \<newline>
//              (removed); any other backslash stays;
//   \c         outside quotes, the character c itself; \<newline> is removed
//              (the line goes on);
//   #...       at the start of a word, a comment to the end of the line;
//   spaces, tabs and newlines outside quotes separate words.
//
// One addition for JSON values: a word that starts with an unquoted { or [
// is taken verbatim (quotes, spaces, newlines and backslashes included) up
// to the bracket that closes it, skipping brackets inside JSON strings, so
//   set k {"a": [1, 2]}
// stores {"a": [1, 2]}. Quote the bracket ('[') for the character alone.
//
// Nothing else is special: no $variables, globs, pipes, redirections or ';'.
//
// An input is complete when nothing is left open at its end; otherwise the
// REPL reads another line (a continuation) and tokenizes the whole again.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kv::shell {

// What is still open at the end of an input.
enum class Open {
  kNone,       // nothing: the input is complete
  kSingle,     // a '...' quote
  kDouble,     // a "..." quote
  kBracket,    // a JSON word's { or [
  kBackslash,  // a backslash is the last character (the line goes on)
};

struct Word {
  std::string text;   // the word, quotes removed
  size_t begin = 0;   // where the word starts in the input (a byte offset)
  bool json = false;  // it started with an unquoted { or [
};

struct Tokens {
  std::vector<Word> words;
  Open open = Open::kNone;
  // The input ends inside the last word (no separator after it): that word
  // is the one being typed, for completion. False for an empty input and
  // after trailing whitespace.
  bool in_word = false;

  bool complete() const { return open == Open::kNone; }
  // The words' texts.
  std::vector<std::string> Texts() const;
};

// Splits `input`. Never fails: what cannot be finished is reported in
// Tokens::open, with the words read so far (the last one partial).
Tokens Tokenize(std::string_view input);

// `text` written so that, inserted into a word whose quoting state is
// `context`, it reads back as `text`:
//   kNone    backslashes before blanks, quotes, backslashes, and before a
//            first # { [ when `at_word_start`;
//   kSingle  ' becomes '\'' (close, escaped quote, reopen);
//   kDouble  backslashes before " \ $ `.
// nullopt when it cannot be written there: a newline outside quotes, or a
// context of kBracket or kBackslash.
std::optional<std::string> Escape(std::string_view text, Open context, bool at_word_start);

// A word as the shell would need it typed: itself when it needs no quoting,
// else in single quotes. For messages and tests.
std::string QuoteForDisplay(std::string_view word);

}  // namespace kv::shell
