// JSON text for kv's output and kvd's listings and events: a small writer
// that builds one JSON object per line (fast, and able to embed a stored JSON
// value as its own text), and the one set of rules, shared by kv and kvd,
// that turns stored bytes into a JSON member (json / text / base64).
// Reading lines: common/json_flat.h.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/utf8.h"

namespace kv {

// True for application/json and any */*+json type, parameters ignored
// ("application/json; charset=utf-8"), case-insensitive.
bool IsJsonContentType(std::string_view content_type);

// Appends `s` as a quoted JSON string; bytes that are not UTF-8 become
// U+FFFD (callers that must keep every byte use PutKey / PutValue).
void AppendJsonString(std::string& out, std::string_view s);

// Builds one JSON object as text, members in the order they are added.
//   JsonObject o; o.Str("key", k).Int("revision", 7); std::string line = o.Done();
class JsonObject {
 public:
  JsonObject() : text_("{") {}
  // Keys and values that may not be valid UTF-8 go through PutKey / PutValue
  // (Str replaces bad bytes with U+FFFD).
  JsonObject& Str(std::string_view name, std::string_view value);
  JsonObject& Int(std::string_view name, int64_t value);
  JsonObject& Uint(std::string_view name, uint64_t value);
  JsonObject& Bool(std::string_view name, bool value);
  JsonObject& Null(std::string_view name);
  // A Unix-ms time or remaining ms: the number, or null when `value` < 0
  // (and when `zero_is_null` and it is 0).
  JsonObject& MsOrNull(std::string_view name, int64_t value, bool zero_is_null);
  // `json` must be one valid JSON value without line breaks.
  JsonObject& Raw(std::string_view name, std::string_view json);
  // Closes the object and returns its text (no trailing newline).
  std::string Done();

 private:
  void Name(std::string_view name);
  std::string text_;
  bool first_ = true;
};

// How a value is represented in JSON output.
enum class ValueEncoding { kJson, kText, kBase64 };
const char* ValueEncodingName(ValueEncoding encoding);  // "json", "text", "base64"

// The JSON text for stored bytes, and how they were encoded: embedded JSON
// when the content type is JSON and the bytes are one JSON value (on one
// line as json::OneLine puts it: its own text, never re-serialized, so
// member order and numbers stay as stored), else a string when valid UTF-8,
// else base64. With `exact`, embedded JSON only when that text is the bytes
// themselves (else a string): what a round trip through kv import needs.
ValueEncoding EncodeValue(std::string_view bytes, std::string_view content_type,
                          std::string* json_out, bool exact = false);

// Adds "key" (a string; base64 plus "key_encoding":"base64" when the key is
// not valid UTF-8).
void PutKey(JsonObject& object, std::string_view key);

// Adds "value" and "encoding" (EncodeValue's). The export format
// (`for_export`) keeps every value exact and gives embedded JSON no
// "encoding" member.
void PutValue(JsonObject& object, std::string_view bytes, std::string_view content_type,
              bool for_export);

}  // namespace kv
