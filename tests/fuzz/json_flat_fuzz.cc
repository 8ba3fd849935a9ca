// fuzz_jsonflat: common/json_flat.h, the one-pass scanner that reads POST
// /v1/batch items in kvd and import lines in kv, differentially against
// nlohmann's full parser, which reads every other JSON body.
//
// Oracles: the sanitizers; ScanObject accepts exactly the texts nlohmann
// parses as one object (except numbers too large for a double, which
// nlohmann refuses and RFC 8259 allows); for an accepted text every member
// (the last of a repeated name) is the value nlohmann holds (texts with a
// NUL byte aside, which nlohmann takes for their end); ParseInt64
// takes exactly the integers nlohmann holds as fitting int64; AppendQuoted of
// a string member parses back to it; OneLine accepts exactly the texts
// nlohmann parses as one value, and its line has no line break and parses to
// the same value (and is the text itself, trimmed, when that had none).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/json_flat.h"
#include "tests/fuzz/fuzz_fail.h"

namespace {

using kv::fuzz::Fail;
using nlohmann::json;

// nlohmann's verdict, or nullopt when it refused a number RFC 8259 allows.
std::optional<json> Nlohmann(const std::string& text, bool* refused) {
  *refused = false;
  try {
    return json::parse(text);
  } catch (const json::out_of_range& e) {
    if (e.id == 406) return std::nullopt;  // "number overflow": not a syntax error
    *refused = true;
  } catch (const json::exception&) {
    *refused = true;
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::map<std::string, json> members;  // the last value of each name
  std::string failure;
  const std::string error = kv::json::ScanObject(text, [&](const kv::json::Member& m) {
    json value;
    if (m.kind == kv::json::Kind::kString) {
      value = std::string(m.text);
      std::string quoted;
      kv::json::AppendQuoted(quoted, m.text);
      json back = json::parse(quoted, nullptr, false);
      if (!back.is_string() || back.get<std::string>() != m.text) failure = "AppendQuoted";
    } else {
      value = json::parse(m.raw, nullptr, false);
      if (value.is_discarded()) return;  // a number nlohmann cannot hold (checked below)
    }
    int64_t n = 0;
    const bool fits = value.is_number_integer() &&
                      (value.is_number_unsigned()
                           ? value.get<uint64_t>() <= uint64_t{INT64_MAX}
                           : true);
    if (kv::json::ParseInt64(m, &n) != fits || (fits && n != value.get<int64_t>())) {
      failure = "ParseInt64 on " + std::string(m.raw);
    }
    members[std::string(m.name)] = std::move(value);
  });
  if (!failure.empty()) Fail(failure + " in " + text);

  bool refused = false;
  std::optional<json> doc = Nlohmann(text, &refused);
  if (!doc && !refused) return 0;  // a number too large for nlohmann: no verdict to compare
  // nlohmann takes a NUL byte for the end of its input ("{}\0junk" is {});
  // ScanObject refuses the junk, as RFC 8259 does.
  if (doc && text.find('\0') != std::string::npos) return 0;

  std::string line;
  if (kv::json::OneLine(text, &line) != doc.has_value()) {
    Fail(std::string("OneLine ") + (doc ? "refuses" : "accepts") + " what nlohmann " +
         (doc ? "accepts" : "refuses") + ": " + text);
  }
  if (doc) {
    if (line.find_first_of("\r\n") != std::string::npos) Fail("OneLine left a line break: " + text);
    json back = json::parse(line, nullptr, false);
    if (back.is_discarded() || back != *doc) Fail("OneLine changed the value: " + text);
    const bool plain = text.find_first_of("\r\n") == std::string::npos &&
                       !text.starts_with("\xEF\xBB\xBF");
    if (plain && text.find(line) == std::string::npos) {
      Fail("OneLine rewrote a one-line text: " + text);
    }
  }

  const bool object = doc && doc->is_object();
  if (error.empty() != object) {
    Fail("ScanObject says '" + error + "' but nlohmann " + (object ? "accepts" : "refuses") +
         " the text: " + text);
  }
  if (!object) return 0;
  if (members.size() != doc->size()) Fail("member count differs: " + text);
  for (const auto& [name, value] : members) {
    if (!doc->contains(name) || (*doc)[name] != value) Fail("member " + name + " differs: " + text);
  }
  return 0;
}
