#include "common/json_flat.h"

#include <map>
#include <random>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace kv::json {
namespace {

struct Seen {
  std::string name;
  Kind kind;
  std::string raw;
  std::string text;
};

std::vector<Seen> Scan(std::string_view text, std::string* error) {
  std::vector<Seen> out;
  *error = ScanObject(text, [&](const Member& m) {
    out.push_back({std::string(m.name), m.kind, std::string(m.raw), std::string(m.text)});
  });
  return out;
}

// What nlohmann, a full parser, says of the same text.
bool NlohmannAcceptsObject(const std::string& text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  return !doc.is_discarded() && doc.is_object();
}

// Accepts exactly what nlohmann accepts, and every member's value (the last
// one of a repeated name) is the one nlohmann holds.
void CheckAgainstNlohmann(const std::string& text) {
  std::string error;
  std::vector<Seen> seen = Scan(text, &error);
  const bool accepted = NlohmannAcceptsObject(text);
  INFO("text: " << text << "  error: " << error);
  REQUIRE(error.empty() == accepted);
  if (!accepted) return;
  auto doc = nlohmann::json::parse(text);
  std::map<std::string, nlohmann::json> last;
  for (const Seen& s : seen) {
    last[s.name] = s.kind == Kind::kString ? nlohmann::json(s.text) : nlohmann::json::parse(s.raw);
  }
  REQUIRE(last.size() == doc.size());
  for (const auto& [name, value] : last) {
    REQUIRE(doc.contains(name));
    CHECK(doc[name] == value);
  }
}

TEST_CASE("ScanObject gives names, kinds, exact text and decoded strings", "[unit]") {
  std::string error;
  auto seen = Scan(R"( {"key":"a\"b\u00e9\ud83d\ude00","n":-1.5e3,"t":true,"f":false,)"
                   R"("z":null,"o":{"x":[1,{"y":"}"}]},"a":[]} )",
                   &error);
  REQUIRE(error.empty());
  REQUIRE(seen.size() == 7);
  CHECK(seen[0].name == "key");
  CHECK(seen[0].kind == Kind::kString);
  CHECK(seen[0].text == "a\"b\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(seen[0].raw == R"("a\"b\u00e9\ud83d\ude00")");
  CHECK(seen[1].kind == Kind::kNumber);
  CHECK(seen[1].raw == "-1.5e3");
  CHECK(seen[2].kind == Kind::kTrue);
  CHECK(seen[3].kind == Kind::kFalse);
  CHECK(seen[4].kind == Kind::kNull);
  CHECK(seen[5].kind == Kind::kObject);
  CHECK(seen[5].raw == R"({"x":[1,{"y":"}"}]})");
  CHECK(seen[6].kind == Kind::kArray);
  CHECK(seen[6].raw == "[]");
}

TEST_CASE("ScanObject refuses what is not one JSON object, with a reason", "[unit]") {
  const char* bad[] = {
      "", "   ", "[]", "\"s\"", "1", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
      "{\"a\":1}x", "{\"a\":1}{}", "{a:1}", "{'a':1}", "{\"a\":01}", "{\"a\":1.}",
      "{\"a\":.5}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":+1}", "{\"a\":tru}", "{\"a\":nul}",
      "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
      "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"tab\there\"}", "{\"a\":\"\xff\"}",
      "{\"a\":\"\xC0\xAF\"}", "{\"a\":\"\xED\xA0\x80\"}", "{\"a\":[1,]}", "{\"a\":[1 2]}",
      "{\"a\":{\"b\"}}", "{\"a\":{\"b\":1,}}", "{\"a\":[}", "{\"a\":{]}", "{\"a\":\"open}",
      "{\"a\":1,\"b\"}", "{\"a\" 1}", "{\"a\":[[[[[[",
  };
  for (const char* text : bad) {
    std::string error;
    Scan(text, &error);
    INFO("text: " << text);
    CHECK_FALSE(error.empty());
    CHECK(error.find('\n') == std::string::npos);
    CheckAgainstNlohmann(text);
  }
}

// `text` after one to three random edits (replace, insert or erase a byte
// that JSON's grammar cares about, or a stray UTF-8 one).
std::string Mutated(std::string text, std::mt19937& rng) {
  static const std::string alphabet =
      "{}[]\":,\\u0123456789.eE+-tfnrl \t\nabcdx\x80\xC3\xA9\xFF\xED";
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int e = 0; e < edits && !text.empty(); ++e) {
    const size_t at = rng() % text.size();
    const char c = alphabet[rng() % alphabet.size()];
    switch (rng() % 3) {
      case 0: text[at] = c; break;
      case 1: text.insert(text.begin() + static_cast<long>(at), c); break;
      default: text.erase(at, 1);
    }
  }
  return text;
}

TEST_CASE("ScanObject accepts what a full parser accepts", "[unit]") {
  const char* good[] = {
      "{}", " \t\r\n{ } \n", "\xEF\xBB\xBF{\"bom\":1}", "{\"a\":0}", "{\"a\":-0.0E+10}",
      "{\"a\":\"\"}", "{\"\":1}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\/\\b\\f\\n\\r\\t\"}",
      "{\"a\":1,\"a\":2}", "{\"a\":[[[[[[[]]]]]],{}]}", "{\"a\":\"caf\xC3\xA9\"}",
      "{\"k\\u00e9y\":\"v\"}", "{\"a\":123456789012345678901234567890}",
  };
  for (const char* text : good) CheckAgainstNlohmann(text);
}

TEST_CASE("ScanObject walks deep nesting without recursion", "[unit]") {
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  std::string error;
  auto seen = Scan(deep, &error);
  CHECK(error.empty());
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].kind == Kind::kArray);
}

// Random edits of valid objects: the scanner and nlohmann agree on every one.
TEST_CASE("ScanObject agrees with nlohmann on mutated objects", "[unit]") {
  const std::string seeds[] = {
      R"({"key":"user:1","value":"{\"name\":\"Ada\"}","content_type":"application/json"})",
      R"({"key":"k","value":{"nested":[1,2.5,-3e2,true,false,null,"s\n"]},"ttl_ms":1000})",
      R"({"key":"\u00e9\ud83d\ude00","value":"x","encoding":"text","if_absent":true})",
  };
  std::mt19937 rng(7);
  for (int round = 0; round < 20000; ++round) {
    CheckAgainstNlohmann(Mutated(seeds[rng() % std::size(seeds)], rng));
  }
}

TEST_CASE("OneLine keeps a JSON value's own text, on one line", "[unit]") {
  std::string out;
  REQUIRE(OneLine(R"( {"b": 2.50, "a": [1e3]} )", &out));
  CHECK(out == R"({"b": 2.50, "a": [1e3]})");  // no line break: as it is, trimmed
  REQUIRE(OneLine("{\n  \"s\": \"a b\\n\\\" c\",\r\n  \"n\": 123456789012345678901234567890\n}\n",
                  &out));
  CHECK(out == R"({"s":"a b\n\" c","n":123456789012345678901234567890})");
  REQUIRE(OneLine("\xEF\xBB\xBF[1, 2]", &out));
  CHECK(out == "[1,2]");
  REQUIRE(OneLine("\"x\"", &out));
  CHECK(out == "\"x\"");
  REQUIRE(OneLine("-0.5e-3", &out));
  CHECK(out == "-0.5e-3");
  for (const char* bad : {"", " ", "{", "[1,]", "1 2", "{\"a\":1}x", "'a'", "01", "\"\xFF\""}) {
    INFO(bad);
    CHECK_FALSE(OneLine(bad, &out));
  }
}

// Random edits of valid values: OneLine accepts what nlohmann accepts, and
// its line reads back as the same value.
TEST_CASE("OneLine agrees with nlohmann on mutated values", "[unit]") {
  const std::string seeds[] = {
      "{\n  \"name\": \"Ada\",\n  \"tags\": [\"a\", \"b\"],\n  \"n\": 2.50\n}\n",
      "[1, 2.5, -3e2, true, false, null, \"s\\n\", {\"k\": {}}]",
      "  \"\\u00e9\\ud83d\\ude00\"\r\n",
  };
  std::mt19937 rng(11);
  for (int round = 0; round < 20000; ++round) {
    const std::string text = Mutated(seeds[rng() % std::size(seeds)], rng);
    auto doc = nlohmann::json::parse(text, nullptr, false);
    std::string out;
    INFO("text: " << text);
    REQUIRE(OneLine(text, &out) == !doc.is_discarded());
    REQUIRE(Valid(text) == !doc.is_discarded());
    if (doc.is_discarded()) continue;
    CHECK(out.find_first_of("\r\n") == std::string::npos);
    CHECK(nlohmann::json::parse(out) == doc);
  }
}

TEST_CASE("NestsDeeperThan counts brackets outside strings", "[unit]") {
  CHECK_FALSE(NestsDeeperThan("", 0));
  CHECK_FALSE(NestsDeeperThan("[[1]]", 2));
  CHECK(NestsDeeperThan("[[1]]", 1));
  CHECK_FALSE(NestsDeeperThan("[[]][[]][[]]", 2));  // depth, not count
  CHECK(NestsDeeperThan(R"({"a":{"b":[]}})", 2));
  CHECK_FALSE(NestsDeeperThan(R"(["[[[[", "\"[[[["])", 1));  // in strings: text
  CHECK_FALSE(NestsDeeperThan("]]]]][", 1));              // not JSON: a bound all the same
  const std::string deep =
      std::string(kMaxTreeDepth + 1, '[') + std::string(kMaxTreeDepth + 1, ']');
  CHECK(NestsDeeperThan(deep, kMaxTreeDepth));
  CHECK(ParseTree<nlohmann::json>(deep).is_discarded());
  CHECK(ParseTree<nlohmann::json>(deep.substr(1, deep.size() - 2)).is_array());
  CHECK(ParseTree<nlohmann::json>("{nope").is_discarded());
  CHECK(TooDeep("the patch") == "the patch nests objects and arrays deeper than 512 levels");
}

TEST_CASE("ParseInt64 takes JSON integers that fit", "[unit]") {
  auto parse = [](const std::string& raw, Kind kind, int64_t* v) {
    Member m;
    m.kind = kind;
    m.raw = raw;
    return ParseInt64(m, v);
  };
  int64_t v = 0;
  CHECK(parse("42", Kind::kNumber, &v));
  CHECK(v == 42);
  CHECK(parse("-9223372036854775808", Kind::kNumber, &v));
  CHECK(v == INT64_MIN);
  for (std::string raw : {"1.0", "1e3", "9223372036854775808", "-9223372036854775809"}) {
    INFO(raw);
    CHECK_FALSE(parse(raw, Kind::kNumber, &v));
  }
  CHECK_FALSE(parse("\"1\"", Kind::kString, &v));
}

TEST_CASE("AppendQuoted writes strings a JSON parser reads back", "[unit]") {
  const std::string samples[] = {"", "plain", "q\"b\\s/", std::string("nul\0x\x01\x1f\x7f", 8),
                                 "tab\tnl\ncr\rbs\bff\f", "caf\xC3\xA9 \xF0\x9F\x98\x80"};
  for (const std::string& s : samples) {
    std::string out;
    AppendQuoted(out, s);
    CHECK(nlohmann::json::parse(out).get<std::string>() == s);
    CHECK(out.find('\n') == std::string::npos);
  }
}

}  // namespace
}  // namespace kv::json
