#include "cmd/kv/terminal_text.h"

#include <cstdio>

#include "common/utf8.h"

namespace kv::cli {
namespace {

bool IsC0OrDel(unsigned char c) { return c < 0x20 || c == 0x7F; }

// U+0080..U+009F, encoded as C2 80..C2 9F.
bool IsC1(std::string_view s, size_t i, size_t len) {
  return len == 2 && static_cast<unsigned char>(s[i]) == 0xC2 &&
         static_cast<unsigned char>(s[i + 1]) <= 0x9F;
}

void AppendHex(std::string& out, const char* format, unsigned value) {
  char buf[8];
  std::snprintf(buf, sizeof buf, format, value);
  out += buf;
}

// Appends s with control characters and non-UTF-8 bytes escaped; `quoting`
// also escapes '"' and '\\' and names \n \r \t, else line breaks become
// spaces.
void AppendEscaped(std::string& out, std::string_view s, bool quoting) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = Utf8SequenceAt(s, i);
    const auto c = static_cast<unsigned char>(s[i]);
    if (len == 0) {
      AppendHex(out, "\\x%02x", c);
      ++i;
      continue;
    }
    if (IsC1(s, i, len)) {
      AppendHex(out, "\\u%04x", static_cast<unsigned char>(s[i + 1]));
    } else if (len > 1) {
      out.append(s.substr(i, len));
    } else if (quoting && (c == '"' || c == '\\')) {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n' || c == '\r' || c == '\t') {
      if (quoting) {
        out += c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t";
      } else {
        out.push_back(' ');
      }
    } else if (IsC0OrDel(c)) {
      AppendHex(out, "\\x%02x", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
    i += len;
  }
}

}  // namespace

bool ShowsAsIs(std::string_view s, bool lines) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = Utf8SequenceAt(s, i);
    if (len == 0 || IsC1(s, i, len)) return false;
    const auto c = static_cast<unsigned char>(s[i]);
    if (len == 1 && IsC0OrDel(c)) {
      const bool line_break =
          c == '\n' || c == '\t' || (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n');
      if (!lines || !line_break) return false;
    }
    i += len;
  }
  return true;
}

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  out.reserve(s.size() + 2);
  AppendEscaped(out, s, /*quoting=*/true);
  out.push_back('"');
  return out;
}

std::string ForTerminal(std::string_view s) {
  return ShowsAsIs(s, /*lines=*/false) ? std::string(s) : Quoted(s);
}

std::string EscapeControls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendEscaped(out, s, /*quoting=*/false);
  return out;
}

}  // namespace kv::cli
