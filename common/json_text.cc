#include "common/json_text.h"

#include <cctype>
#include <cstdio>

#include "common/base64.h"
#include "common/json_flat.h"

namespace kv {

bool IsJsonContentType(std::string_view content_type) {
  std::string t;
  for (char ch : content_type) {
    if (ch == ';') break;
    if (ch == ' ' || ch == '\t') continue;
    t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  }
  if (t == "application/json") return true;
  return t.size() > 5 && t.find('/') != std::string::npos && t.ends_with("+json");
}

namespace {

// `s` with every byte that is not part of a well-formed UTF-8 sequence
// replaced by U+FFFD.
std::string ReplaceInvalidUtf8(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (const size_t len = Utf8SequenceAt(s, i); len > 0) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  std::string fixed;
  if (!IsValidUtf8(s)) {
    fixed = ReplaceInvalidUtf8(s);
    s = fixed;
  }
  json::AppendQuoted(out, s);
}

void JsonObject::Name(std::string_view name) {
  if (!first_) text_.push_back(',');
  first_ = false;
  AppendJsonString(text_, name);
  text_.push_back(':');
}

JsonObject& JsonObject::Str(std::string_view name, std::string_view value) {
  Name(name);
  AppendJsonString(text_, value);
  return *this;
}

JsonObject& JsonObject::Int(std::string_view name, int64_t value) {
  Name(name);
  text_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::Uint(std::string_view name, uint64_t value) {
  Name(name);
  text_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::Bool(std::string_view name, bool value) {
  Name(name);
  text_ += value ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::Null(std::string_view name) {
  Name(name);
  text_ += "null";
  return *this;
}

JsonObject& JsonObject::MsOrNull(std::string_view name, int64_t value, bool zero_is_null) {
  if (value < 0 || (zero_is_null && value == 0)) return Null(name);
  return Int(name, value);
}

JsonObject& JsonObject::Raw(std::string_view name, std::string_view json) {
  Name(name);
  text_ += json;
  return *this;
}

std::string JsonObject::Done() {
  text_.push_back('}');
  return std::move(text_);
}

const char* ValueEncodingName(ValueEncoding encoding) {
  switch (encoding) {
    case ValueEncoding::kJson: return "json";
    case ValueEncoding::kText: return "text";
    case ValueEncoding::kBase64: return "base64";
  }
  return "base64";
}

ValueEncoding EncodeValue(std::string_view bytes, std::string_view content_type,
                          std::string* json_out, bool exact) {
  json_out->clear();
  if (IsJsonContentType(content_type) && json::OneLine(bytes, json_out) &&
      (!exact || *json_out == bytes)) {
    return ValueEncoding::kJson;
  }
  json_out->clear();
  if (IsValidUtf8(bytes)) {
    AppendJsonString(*json_out, bytes);
    return ValueEncoding::kText;
  }
  AppendJsonString(*json_out, Base64Encode(bytes));
  return ValueEncoding::kBase64;
}

void PutKey(JsonObject& object, std::string_view key) {
  if (IsValidUtf8(key)) {
    object.Str("key", key);
  } else {
    object.Str("key", Base64Encode(key)).Str("key_encoding", "base64");
  }
}

void PutValue(JsonObject& object, std::string_view bytes, std::string_view content_type,
              bool for_export) {
  std::string json;
  ValueEncoding encoding = EncodeValue(bytes, content_type, &json, for_export);
  object.Raw("value", json);
  if (encoding == ValueEncoding::kJson && for_export) return;
  object.Str("encoding", ValueEncodingName(encoding));
}

}  // namespace kv
