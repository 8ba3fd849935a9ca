#include "shell/tokenizer.h"

namespace kv::shell {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Reads a JSON literal starting at input[i] ('{' or '['), appending it to
// *text. Returns the index after its closing bracket, or npos when the input
// ends first.
size_t ReadJson(std::string_view input, size_t i, std::string* text) {
  int depth = 0;
  bool in_string = false;
  for (; i < input.size(); ++i) {
    char c = input[i];
    text->push_back(c);
    if (in_string) {
      if (c == '\\' && i + 1 < input.size()) {
        text->push_back(input[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::vector<std::string> Tokens::Texts() const {
  std::vector<std::string> out;
  out.reserve(words.size());
  for (const Word& w : words) out.push_back(w.text);
  return out;
}

Tokens Tokenize(std::string_view input) {
  Tokens t;
  const size_t n = input.size();
  size_t i = 0;
  bool in_word = false;
  Word word;

  auto finish_word = [&] {
    if (in_word) t.words.push_back(std::move(word));
    word = Word{};
    in_word = false;
  };

  while (i < n) {
    char c = input[i];
    if (!in_word) {
      if (IsBlank(c)) {
        ++i;
        continue;
      }
      if (c == '#') {  // a comment, to the end of the line
        while (i < n && input[i] != '\n') ++i;
        continue;
      }
      in_word = true;
      word.begin = i;
      if (c == '{' || c == '[') {
        word.json = true;
        size_t next = ReadJson(input, i, &word.text);
        if (next == std::string_view::npos) {
          t.open = Open::kBracket;
          t.words.push_back(std::move(word));
          t.in_word = true;
          return t;
        }
        i = next;
        continue;
      }
    }
    // Inside a word.
    if (IsBlank(c)) {
      finish_word();
      ++i;
      continue;
    }
    if (c == '\'') {
      size_t close = input.find('\'', i + 1);
      if (close == std::string_view::npos) {
        word.text.append(input.substr(i + 1));
        t.open = Open::kSingle;
        t.words.push_back(std::move(word));
        t.in_word = true;
        return t;
      }
      word.text.append(input.substr(i + 1, close - i - 1));
      i = close + 1;
      continue;
    }
    if (c == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        char d = input[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < n) {
          char e = input[i + 1];
          if (e == '\n') {
            i += 2;
            continue;
          }
          if (e == '"' || e == '\\' || e == '$' || e == '`') {
            word.text.push_back(e);
            i += 2;
            continue;
          }
        }
        word.text.push_back(d);
        ++i;
      }
      if (!closed) {
        t.open = Open::kDouble;
        t.words.push_back(std::move(word));
        t.in_word = true;
        return t;
      }
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= n) {
        t.open = Open::kBackslash;
        t.words.push_back(std::move(word));
        t.in_word = true;
        return t;
      }
      if (input[i + 1] != '\n') word.text.push_back(input[i + 1]);
      i += 2;
      continue;
    }
    word.text.push_back(c);
    ++i;
  }
  t.in_word = in_word;
  finish_word();
  return t;
}

std::optional<std::string> Escape(std::string_view text, Open context, bool at_word_start) {
  std::string out;
  out.reserve(text.size() + 4);
  switch (context) {
    case Open::kNone:
      for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\n') return std::nullopt;
        bool special = c == ' ' || c == '\t' || c == '\r' || c == '\'' || c == '"' || c == '\\';
        if (i == 0 && at_word_start && (c == '#' || c == '{' || c == '[')) special = true;
        if (special) out.push_back('\\');
        out.push_back(c);
      }
      return out;
    case Open::kSingle:
      for (char c : text) {
        if (c == '\'') {
          out += "'\\''";
        } else {
          out.push_back(c);
        }
      }
      return out;
    case Open::kDouble:
      for (char c : text) {
        if (c == '"' || c == '\\' || c == '$' || c == '`') out.push_back('\\');
        out.push_back(c);
      }
      return out;
    case Open::kBracket:
    case Open::kBackslash:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string QuoteForDisplay(std::string_view word) {
  bool plain = !word.empty();
  for (size_t i = 0; i < word.size() && plain; ++i) {
    char c = word[i];
    if (IsBlank(c) || c == '\'' || c == '"' || c == '\\') plain = false;
    if (i == 0 && (c == '#' || c == '{' || c == '[')) plain = false;
  }
  if (plain) return std::string(word);
  std::string out = "'";
  out += *Escape(word, Open::kSingle, false);
  out += "'";
  return out;
}

}  // namespace kv::shell
