#include "shell/repl.h"

#include <algorithm>

#include "shell/signals.h"
#include "shell/tokenizer.h"

namespace kv::shell {
namespace {

constexpr const char* kVerbs[] = {"connect", "exit", "help", "quit", "use"};

constexpr const char* kShellHelp =
    "Shell commands (kv shell):\n"
    "  use NAMESPACE [APP]                Work in another namespace (and app) from now on\n"
    "  connect URL|PROFILE [--token T]    Switch backend: a URL, a profile, or `local`\n"
    "  help [COMMAND]                     This help, or a command's\n"
    "  exit, quit                         Leave the shell (Ctrl-D too)\n"
    "Every kv command works as on the command line, with the same flags: get k, "
    "set k '{\"a\":1}' --ttl 10s.\n"
    "Quoting is a shell's ('...', \"...\", \\); a word that starts with { or [ runs to its\n"
    "closing bracket, so set k {\"a\": [1, 2]} works, and an open quote, { or [ continues on\n"
    "the next line. Tab completes commands, flags and keys (twice: lists them and the usage);\n"
    "Ctrl-R searches the history; Ctrl-C abandons the line or stops a running command.\n";

bool IsVerb(std::string_view word) {
  return std::find(std::begin(kVerbs), std::end(kVerbs), word) != std::end(kVerbs);
}

// The words of a command line without a leading `kv` (pasted from a
// terminal).
std::vector<std::string> WithoutKv(std::vector<std::string> words) {
  if (words.size() > 1 && words[0] == "kv") words.erase(words.begin());
  return words;
}

std::string CommonPrefix(const std::vector<std::string>& words) {
  if (words.empty()) return "";
  std::string prefix = words[0];
  for (const std::string& w : words) {
    size_t n = 0;
    while (n < prefix.size() && n < w.size() && prefix[n] == w[n]) ++n;
    prefix.resize(n);
  }
  // Never end inside a UTF-8 sequence.
  while (!prefix.empty() && (static_cast<unsigned char>(prefix.back()) & 0x80) != 0) {
    size_t start = prefix.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(prefix[start]) & 0xC0) == 0x80) --start;
    unsigned char lead = static_cast<unsigned char>(prefix[start]);
    size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (prefix.size() - start == len) break;
    prefix.resize(start);
  }
  return prefix;
}

// A kvd token: "kv_" and at least 32 characters of base64url or hex.
bool LooksLikeToken(std::string_view word) {
  for (size_t at = word.find("kv_"); at != std::string_view::npos; at = word.find("kv_", at + 1)) {
    size_t n = 0;
    for (size_t i = at + 3; i < word.size(); ++i) {
      char c = word[i];
      bool token_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
      if (!token_char) break;
      ++n;
    }
    if (n >= 32) return true;
  }
  return false;
}

// `input` without the blanks at its end (an input that tokenizes completely
// ends outside quotes; a blank after a backslash is part of a word).
std::string TrimEnd(std::string input) {
  while (!input.empty() && (input.back() == ' ' || input.back() == '\t')) {
    if (input.size() >= 2 && input[input.size() - 2] == '\\') break;
    input.pop_back();
  }
  return input;
}

const char* OpenName(Open open) {
  switch (open) {
    case Open::kSingle:
      return "a ' quote is not closed";
    case Open::kDouble:
      return "a \" quote is not closed";
    case Open::kBracket:
      return "a { or [ is not closed";
    case Open::kBackslash:
      return "the input ends with a backslash";
    case Open::kNone:
      break;
  }
  return "";
}

}  // namespace

Repl::Repl(LineEditor& editor, CommandRunner& runner, std::ostream& out, ReplOptions options)
    : editor_(editor), runner_(runner), out_(out), options_(options) {}

std::string Repl::Prompt() {
  std::string prompt = "kv " + runner_.PromptLabel() + "> ";
  prompt_width_ = prompt.size();
  return prompt;
}

std::string Repl::ContinuationPrompt() {
  size_t width = std::max<size_t>(prompt_width_, 4);
  return std::string(width - 4, ' ') + "... ";
}

bool Repl::HoldsSecret(std::string_view input, const std::vector<std::string>& all_words) {
  if (!input.empty() && input[0] == ' ') return true;
  std::vector<std::string> words = WithoutKv(all_words);
  if (!words.empty() && words[0] == "token") return true;
  const bool connect = !words.empty() && words[0] == "connect";
  for (const std::string& w : words) {
    if (w == "--token" || w.starts_with("--token=")) return true;
    if (connect && w.find('@') != std::string::npos) return true;  // user:password@host
    if (LooksLikeToken(w)) return true;
  }
  return false;
}

int Repl::Run() {
  editor_.set_completer([this](std::string_view text) { return Complete(text); });
  editor_.set_hinter([this](std::string_view text) { return Hint(text); });
  const bool interactive = editor_.interactive();
  int first_failure = 0;
  pending_.clear();
  done_ = false;
  while (!done_) {
    ReadResult r = editor_.ReadLine(pending_.empty() ? Prompt() : ContinuationPrompt());
    if (r.kind == ReadResult::Kind::kInterrupted) {
      pending_.clear();
      continue;
    }
    if (r.kind == ReadResult::Kind::kEof) {
      if (!pending_.empty()) {
        Open open = Tokenize(pending_).open;
        pending_.clear();
        int code = runner_.UsageError(std::string("unexpected end of input: ") + OpenName(open));
        if (!interactive && first_failure == 0) first_failure = code;
      }
      break;
    }
    std::string input = pending_.empty() ? r.line : pending_ + "\n" + r.line;
    Tokens tokens = Tokenize(input);
    if (!tokens.complete()) {
      pending_ = std::move(input);
      continue;
    }
    pending_.clear();
    std::vector<std::string> words = tokens.Texts();
    if (words.empty()) continue;
    if (interactive && !HoldsSecret(input, words) && words[0] != "exit" && words[0] != "quit") {
      editor_.AddHistory(TrimEnd(input));
    }

    InterruptFlag().store(false);
    SetCommandRunning(interactive);
    int code = Execute(words);
    SetCommandRunning(false);
    if (InterruptFlag().exchange(false) && code != 0) code = runner_.InterruptedCode();

    if (code != 0 && !interactive) {
      if (!options_.keep_going) return code;
      if (first_failure == 0) first_failure = code;
    }
  }
  return interactive ? 0 : first_failure;
}

int Repl::Execute(const std::vector<std::string>& all_words) {
  std::vector<std::string> w = WithoutKv(all_words);
  if (w.empty()) return 0;
  const std::string& verb = w[0];
  if (verb == "exit" || verb == "quit") {
    if (w.size() > 1) return runner_.UsageError(verb + " takes no arguments");
    done_ = true;
    return 0;
  }
  if (verb == "use") {
    if (w.size() < 2 || w.size() > 3) return runner_.UsageError("usage: use NAMESPACE [APP]");
    return runner_.Use(w[1], w.size() == 3 ? w[2] : "");
  }
  if (verb == "connect") {
    std::string target;
    std::string token;
    for (size_t i = 1; i < w.size(); ++i) {
      if (w[i] == "--token" && i + 1 < w.size()) {
        token = w[++i];
      } else if (w[i].starts_with("--token=")) {
        token = w[i].substr(8);
      } else if (target.empty() && !w[i].starts_with("-")) {
        target = w[i];
      } else {
        return runner_.UsageError("usage: connect URL|PROFILE [--token TOKEN]");
      }
    }
    if (target.empty()) return runner_.UsageError("usage: connect URL|PROFILE [--token TOKEN]");
    return runner_.Connect(target, token);
  }
  if (verb == "help") return Help({w.begin() + 1, w.end()});
  return runner_.Run(w);
}

int Repl::Help(const std::vector<std::string>& args) {
  if (args.empty()) {
    int code = runner_.Run({"help"});
    out_ << "\n" << kShellHelp;
    out_.flush();
    return code;
  }
  if (args.size() == 1 && IsVerb(args[0]) && args[0] != "help") {
    const std::string& v = args[0];
    if (v == "use") {
      out_ << "use NAMESPACE [APP]: later lines work in NAMESPACE (and APP; default: default),\n"
              "as if each had -n NAMESPACE --app APP. The prompt shows the namespace.\n";
    } else if (v == "connect") {
      out_ << "connect URL|PROFILE [--token TOKEN]: later lines talk to another backend: a\n"
              "profile from the config file (kv profile ls), a URL (unix:///path/kvd.sock,\n"
              "http://host:port, ...), or `local` for the local kvd. The namespace becomes\n"
              "the profile's (else default). On failure the shell stays where it was.\n"
              "A connect line with a token or credentials is not kept in the history.\n";
    } else {
      out_ << "exit, quit: leave the shell (Ctrl-D on an empty line too).\n";
    }
    out_.flush();
    return 0;
  }
  std::vector<std::string> words = {"help"};
  words.insert(words.end(), args.begin(), args.end());
  return runner_.Run(words);
}

Completion Repl::Complete(std::string_view text) {
  Completion c;
  std::string full = pending_.empty() ? std::string(text) : pending_ + "\n" + std::string(text);
  Tokens t = Tokenize(full);
  if (t.open == Open::kBracket || t.open == Open::kBackslash) return c;
  std::string partial;
  std::vector<std::string> before = t.Texts();
  if (t.in_word) {
    if (t.words.back().json) return c;
    partial = before.back();
    before.pop_back();
  }
  if (!before.empty() && before[0] == "kv") before.erase(before.begin());

  Candidates found;
  if (before.empty()) {
    found = runner_.Complete({}, partial);
    for (const char* verb : kVerbs) {
      if (std::string_view(verb).starts_with(partial)) found.words.emplace_back(verb);
    }
  } else if (before[0] == "use" || before[0] == "exit" || before[0] == "quit") {
    // Nothing to offer.
  } else if (before[0] == "connect") {
    if (before.size() == 1 && !partial.starts_with("-")) {
      found = runner_.Complete({"profile", "use"}, partial);
      if (std::string_view("local").starts_with(partial)) found.words.emplace_back("local");
    } else if (partial.starts_with("-") && std::string_view("--token").starts_with(partial)) {
      found.words.emplace_back("--token");
    }
  } else if (before[0] == "help") {
    found = runner_.Complete(before, partial);
    if (before.size() == 1) {
      for (const char* verb : kVerbs) {
        if (std::string_view(verb).starts_with(partial)) found.words.emplace_back(verb);
      }
    }
  } else {
    found = runner_.Complete(before, partial);
    c.usage = runner_.Usage(before, false);
  }
  std::sort(found.words.begin(), found.words.end());
  found.words.erase(std::unique(found.words.begin(), found.words.end()), found.words.end());
  c.choices = std::move(found.words);
  c.truncated = found.truncated;
  if (c.choices.empty()) return c;

  // With a cut-short list the shared prefix of what was fetched may be
  // longer than that of every match: add nothing then.
  std::string add;
  if (!c.truncated) {
    std::string prefix = CommonPrefix(c.choices);
    if (prefix.size() > partial.size() && prefix.starts_with(partial)) {
      add = prefix.substr(partial.size());
    }
  }
  const bool unique = c.choices.size() == 1 && !c.truncated && c.choices[0].starts_with(partial);
  const Open context = t.in_word ? t.open : Open::kNone;
  const bool at_word_start = !t.in_word;
  std::optional<std::string> escaped = Escape(add, context, at_word_start);
  if (!escaped) return c;
  c.insert = *escaped;
  if (unique) {
    if (context == Open::kSingle) c.insert += '\'';
    if (context == Open::kDouble) c.insert += '"';
    c.insert += ' ';
  }
  return c;
}

std::string Repl::Hint(std::string_view text) {
  if (!pending_.empty()) return "";
  Tokens t = Tokenize(text);
  if (!t.complete() || t.in_word || t.words.empty()) return "";
  std::vector<std::string> words = WithoutKv(t.Texts());
  if (words.empty() || words[0] == "kv") return "";
  const std::string& verb = words[0];
  if (verb == "use") {
    if (words.size() == 1) return "NAMESPACE [APP]";
    return words.size() == 2 ? "[APP]" : "";
  }
  if (verb == "connect") return words.size() == 1 ? "URL|PROFILE [--token TOKEN]" : "";
  if (verb == "help") return words.size() == 1 ? "[COMMAND]" : "";
  if (verb == "exit" || verb == "quit") return "";
  return runner_.Usage(words, /*remaining_only=*/true);
}

}  // namespace kv::shell
