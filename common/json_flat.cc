#include "common/json_flat.h"

#include <charconv>

#include "common/utf8.h"

namespace kv::json {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// One pass over the text; every method leaves i_ just past what it read, or
// sets error_ and returns false.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : t_(text) {}

  std::string Run(MemberVisitor& visitor) {
    if (t_.starts_with("\xEF\xBB\xBF")) i_ = 3;
    Space();
    if (!Expect('{', "expected a JSON object")) return error_;
    Space();
    if (Peek() == '}') {
      ++i_;
    } else {
      for (;;) {
        Member m;
        if (Peek() != '"' || !String(&name_scratch_, &m.name)) {
          Fail("expected a member name in double quotes");
          return error_;
        }
        Space();
        if (!Expect(':', "expected ':' after a member name")) return error_;
        Space();
        const size_t start = i_;
        if (Peek() == '"') {
          m.kind = Kind::kString;
          if (!String(&value_scratch_, &m.text)) return error_;
        } else if (!Value(&m.kind)) {
          return error_;
        }
        m.raw = t_.substr(start, i_ - start);
        visitor.Visit(m);
        Space();
        if (Peek() == ',') {
          ++i_;
          Space();
          continue;
        }
        if (!Expect('}', "expected ',' or '}' after a member")) return error_;
        break;
      }
    }
    Space();
    if (i_ != t_.size()) Fail("unexpected text after the object");
    return error_;
  }

  // True when the whole text is one JSON value of any kind.
  bool RunValue() {
    if (t_.starts_with("\xEF\xBB\xBF")) i_ = 3;
    Space();
    Kind ignored;
    if (!Value(&ignored)) return false;
    Space();
    return i_ == t_.size();
  }

 private:
  char Peek() const { return i_ < t_.size() ? t_[i_] : '\0'; }
  bool AtEnd() const { return i_ >= t_.size(); }

  bool Fail(const char* what) {
    if (error_.empty()) {
      error_ = AtEnd() ? std::string(what) + " at the end of the text"
                       : std::string(what) + " at byte " + std::to_string(i_ + 1);
    }
    return false;
  }

  bool Expect(char c, const char* what) {
    if (Peek() != c || AtEnd()) return Fail(what);
    ++i_;
    return true;
  }

  void Space() {
    while (i_ < t_.size() &&
           (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) {
      ++i_;
    }
  }

  // At '"'. With `scratch` null, only validates. Else *out is the decoded
  // string: a view into the text when it holds no escape, else into *scratch.
  bool String(std::string* scratch, std::string_view* out) {
    ++i_;
    const size_t start = i_;
    bool escaped = false;
    if (scratch != nullptr) scratch->clear();
    size_t run = start;  // first byte not yet copied to *scratch
    for (;;) {
      if (AtEnd()) return Fail("unterminated string");
      const auto c = static_cast<unsigned char>(t_[i_]);
      if (c == '"') break;
      if (c < 0x20) return Fail("control character in a string");
      if (c >= 0x80) {
        const size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (i_ + n > t_.size() || !IsValidUtf8(t_.substr(i_, n))) {
          return Fail("string is not valid UTF-8");
        }
        i_ += n;
        continue;
      }
      if (c != '\\') {
        ++i_;
        continue;
      }
      if (scratch != nullptr) scratch->append(t_.substr(run, i_ - run));
      escaped = true;
      ++i_;
      if (AtEnd()) return Fail("unterminated string");
      const char e = t_[i_++];
      char plain = 0;
      switch (e) {
        case '"': plain = '"'; break;
        case '\\': plain = '\\'; break;
        case '/': plain = '/'; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail("lone low surrogate in a \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low = 0;
            if (t_.substr(i_, 2) != "\\u") return Fail("lone high surrogate in a \\u escape");
            i_ += 2;
            if (!Hex4(&low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) return Fail("lone high surrogate in a \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          if (scratch != nullptr) AppendUtf8(*scratch, cp);
          break;
        }
        default:
          --i_;
          return Fail("invalid escape in a string");
      }
      if (plain != 0 && scratch != nullptr) scratch->push_back(plain);
      run = i_;
    }
    if (out != nullptr) {
      if (!escaped) {
        *out = t_.substr(start, i_ - start);
      } else {
        scratch->append(t_.substr(run, i_ - run));
        *out = *scratch;
      }
    }
    ++i_;  // the closing quote
    return true;
  }

  bool Hex4(uint32_t* cp) {
    if (i_ + 4 > t_.size()) return Fail("short \\u escape");
    *cp = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = HexValue(t_[i_ + k]);
      if (h < 0) return Fail("bad hex digit in a \\u escape");
      *cp = *cp << 4 | static_cast<uint32_t>(h);
    }
    i_ += 4;
    return true;
  }

  bool Number() {
    if (Peek() == '-') ++i_;
    if (Peek() == '0' && !AtEnd()) {
      ++i_;
    } else if (!AtEnd() && Peek() >= '1' && Peek() <= '9') {
      while (!AtEnd() && IsDigit(Peek())) ++i_;
    } else {
      return Fail("bad number");
    }
    if (!AtEnd() && Peek() == '.') {
      ++i_;
      if (AtEnd() || !IsDigit(Peek())) return Fail("bad number");
      while (!AtEnd() && IsDigit(Peek())) ++i_;
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      ++i_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++i_;
      if (AtEnd() || !IsDigit(Peek())) return Fail("bad number");
      while (!AtEnd() && IsDigit(Peek())) ++i_;
    }
    return true;
  }

  bool Literal(std::string_view word) {
    if (t_.substr(i_, word.size()) != word) return Fail("unexpected character");
    i_ += word.size();
    return true;
  }

  // A value that is not a string at the top level: a scalar, or an object
  // or array walked without recursion (no depth limit, no stack to blow).
  bool Value(Kind* kind) {
    switch (Peek()) {
      case '{': *kind = Kind::kObject; return Nested();
      case '[': *kind = Kind::kArray; return Nested();
      default: return Scalar(kind);
    }
  }

  bool Scalar(Kind* kind) {
    if (AtEnd()) return Fail("expected a value");
    switch (Peek()) {
      case '"': *kind = Kind::kString; return String(nullptr, nullptr);
      case 't': *kind = Kind::kTrue; return Literal("true");
      case 'f': *kind = Kind::kFalse; return Literal("false");
      case 'n': *kind = Kind::kNull; return Literal("null");
      default:
        *kind = Kind::kNumber;
        if (Peek() == '-' || IsDigit(Peek())) return Number();
        return Fail("expected a value");
    }
  }

  bool NameAndColon() {
    if (Peek() != '"' || AtEnd()) return Fail("expected a member name in double quotes");
    if (!String(nullptr, nullptr)) return false;
    Space();
    if (!Expect(':', "expected ':' after a member name")) return false;
    return true;
  }

  // At '{' or '['.
  bool Nested() {
    std::string open;  // the containers we are inside, innermost last
    for (;;) {
      // At the start of a value.
      Space();
      bool closed_empty = false;
      if (Peek() == '{' || Peek() == '[') {
        const char c = t_[i_++];
        Space();
        if (Peek() == (c == '{' ? '}' : ']') && !AtEnd()) {
          ++i_;
          closed_empty = true;
        } else {
          open.push_back(c);
          if (c == '{' && !NameAndColon()) return false;
          continue;
        }
      }
      Kind ignored;
      if (!closed_empty && !Scalar(&ignored)) return false;
      // After a value: close what ends here, then the next element.
      for (;;) {
        if (open.empty()) return true;
        Space();
        const char closer = open.back() == '{' ? '}' : ']';
        if (Peek() == ',' && !AtEnd()) {
          ++i_;
          Space();
          if (open.back() == '{' && !NameAndColon()) return false;
          break;
        }
        if (Peek() == closer && !AtEnd()) {
          ++i_;
          open.pop_back();
          continue;
        }
        return Fail(closer == '}' ? "expected ',' or '}' in an object"
                                  : "expected ',' or ']' in an array");
      }
    }
  }

  std::string_view t_;
  size_t i_ = 0;
  std::string error_;
  std::string name_scratch_;
  std::string value_scratch_;
};

}  // namespace

std::string ScanObject(std::string_view text, MemberVisitor& visitor) {
  return Scanner(text).Run(visitor);
}

bool Valid(std::string_view text) { return Scanner(text).RunValue(); }

bool OneLine(std::string_view text, std::string* out) {
  if (!Valid(text)) return false;
  out->clear();
  const bool has_bom = text.starts_with("\xEF\xBB\xBF");
  if (!has_bom && text.find_first_of("\r\n") == std::string_view::npos) {
    const size_t begin = text.find_first_not_of(" \t");
    const size_t end = text.find_last_not_of(" \t");
    out->assign(text.substr(begin, end - begin + 1));
    return true;
  }
  if (has_bom) text.remove_prefix(3);
  out->reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out->push_back(c);
      if (c == '\\') {
        out->push_back(text[++i]);  // valid JSON: an escape has its next byte
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out->push_back(c);
      in_string = c == '"';
    }
  }
  return true;
}

bool NestsDeeperThan(std::string_view text, size_t limit) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

std::string TooDeep(std::string_view what) {
  return std::string(what) + " nests objects and arrays deeper than " +
         std::to_string(kMaxTreeDepth) + " levels";
}

bool ParseInt64(const Member& member, int64_t* out) {
  if (member.kind != Kind::kNumber) return false;
  std::string_view raw = member.raw;
  if (raw.find_first_of(".eE") != std::string_view::npos) return false;
  auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), *out);
  return ec == std::errc() && end == raw.data() + raw.size();
}

void AppendQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(s.substr(run));
  out.push_back('"');
}

}  // namespace kv::json
