// json_flat: reading and writing one JSON object's members without building
// a tree, for the paths that handle many small objects: `kv import` reading
// NDJSON lines, the client writing POST /v1/batch items, and kvd reading
// them. A DOM parser (nlohmann) spends most of its time allocating nodes and
// strings; these lines need only their members' names and values.
//
// ScanObject is strict: it accepts exactly the texts RFC 8259 calls one JSON
// object (optionally after a UTF-8 byte order mark, with whitespace around),
// nested values included, and gives a one-line reason otherwise. A string
// must be well-formed UTF-8, escapes included (a \u escape of a lone
// surrogate is refused).
//
// The same one-pass reading also checks any JSON value (Valid), writes a
// stored value on one line without re-serializing it (OneLine), and bounds
// how deep a text nests before kv or kvd build a tree of it (ParseTree).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kv::json {

enum class Kind { kString, kNumber, kTrue, kFalse, kNull, kObject, kArray };

struct Member {
  std::string_view name;  // decoded
  Kind kind = Kind::kNull;
  std::string_view raw;   // the value's exact text in the input
  std::string_view text;  // kString: the decoded string; else empty
};

// Calls visit(const Member&) for each member of the object in `text`, in
// order (a repeated name is visited each time). The views in a Member are
// valid during the call only. Returns an empty string when `text` is a valid
// JSON object, else why not ("expected ':' at byte 7"); members before the
// error may have been visited.
class MemberVisitor {
 public:
  virtual ~MemberVisitor() = default;
  virtual void Visit(const Member& member) = 0;
};
std::string ScanObject(std::string_view text, MemberVisitor& visitor);

template <class F>
std::string ScanObject(std::string_view text, F&& visit) {
  struct Adapter final : MemberVisitor {
    explicit Adapter(F& fn) : f(fn) {}
    void Visit(const Member& m) override { f(m); }
    F& f;
  };
  Adapter adapter(visit);
  return ScanObject(text, static_cast<MemberVisitor&>(adapter));
}

// True when `text` is exactly one JSON value of any kind (RFC 8259, an
// optional UTF-8 byte order mark and whitespace around): what a parser
// accepts, checked in one pass without building anything.
bool Valid(std::string_view text);

// When `text` is exactly one JSON value of any kind (as RFC 8259 has it,
// with an optional UTF-8 byte order mark and whitespace around), sets *out
// to that value on one line and returns true: the text as it is when it
// holds no line break and no byte order mark (the whitespace around it
// dropped), else with every whitespace between tokens removed. Either way
// member order, numbers and strings are kept byte for byte: "2.50" stays
// 2.50 and a 30-digit integer keeps its digits, which a DOM would round.
// False when `text` is not one valid JSON value (*out is then unspecified).
bool OneLine(std::string_view text, std::string* out);

// How deep kv and kvd let JSON nest before they build a tree of it.
// nlohmann's tree copies, dumps, compares and merge-patches by recursion, so
// a request of a million '[' would otherwise exhaust a thread's stack and
// take kvd down; no real document nests this deep.
constexpr size_t kMaxTreeDepth = 512;

// True when `text` opens more than `limit` objects or arrays one inside
// another (brackets inside strings do not count). Any text, JSON or not.
bool NestsDeeperThan(std::string_view text, size_t limit);

// The one-line error for a text NestsDeeperThan(kMaxTreeDepth) refuses:
// "WHAT nests objects and arrays deeper than 512 levels".
std::string TooDeep(std::string_view what);

// Json::parse(text) without exceptions, for a tree type like nlohmann's: a
// text nested deeper than kMaxTreeDepth is refused as a discarded value, as
// one that does not parse is. Callers that must say why check
// NestsDeeperThan first.
template <class Json>
Json ParseTree(std::string_view text) {
  if (NestsDeeperThan(text, kMaxTreeDepth)) return Json(Json::value_t::discarded);
  return Json::parse(text, nullptr, false);
}

// A JSON integer member (no fraction or exponent) that fits int64_t.
bool ParseInt64(const Member& member, int64_t* out);

// Appends `s` as a quoted JSON string. REQUIRES: IsValidUtf8(s) (callers
// carry other bytes as base64).
void AppendQuoted(std::string& out, std::string_view s);

}  // namespace kv::json
