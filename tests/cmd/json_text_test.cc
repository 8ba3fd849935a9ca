#include "cmd/kv/json_text.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kv::cli {
namespace {

TEST_CASE("IsValidUtf8 accepts UTF-8 and refuses the rest", "[unit]") {
  CHECK(IsValidUtf8(""));
  CHECK(IsValidUtf8("plain"));
  CHECK(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  CHECK(IsValidUtf8(std::string("nul\0inside", 10)));
  CHECK_FALSE(IsValidUtf8("\xFF"));
  CHECK_FALSE(IsValidUtf8("\xC3"));              // truncated
  CHECK_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
}

TEST_CASE("IsJsonContentType", "[unit]") {
  CHECK(IsJsonContentType("application/json"));
  CHECK(IsJsonContentType("Application/JSON; charset=utf-8"));
  CHECK(IsJsonContentType("application/merge-patch+json"));
  CHECK_FALSE(IsJsonContentType("application/octet-stream"));
  CHECK_FALSE(IsJsonContentType("text/plain"));
  CHECK_FALSE(IsJsonContentType(""));
}

TEST_CASE("AppendJsonString escapes what JSON requires", "[unit]") {
  std::string out;
  AppendJsonString(out, std::string("a\"b\\c\nd\te\x01", 10));
  CHECK(out == R"("a\"b\\c\nd\te\u0001")");
  auto parsed = nlohmann::json::parse(out);
  CHECK(parsed.get<std::string>() == std::string("a\"b\\c\nd\te\x01", 10));
  out.clear();
  AppendJsonString(out, "bad\xFFyte");
  CHECK(nlohmann::json::parse(out).get<std::string>() == "bad\xEF\xBF\xBDyte");
}

TEST_CASE("JsonObject builds one line of valid JSON", "[unit]") {
  JsonObject o;
  o.Str("s", "x").Int("i", -3).Uint("u", 7).Bool("b", true).Null("n").MsOrNull("t", -1, false)
      .MsOrNull("z", 0, true).MsOrNull("m", 5, true).Raw("r", R"({"a":[1,2]})");
  std::string text = o.Done();
  CHECK(text == R"({"s":"x","i":-3,"u":7,"b":true,"n":null,"t":null,"z":null,"m":5,"r":{"a":[1,2]}})");
  CHECK_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded());
}

TEST_CASE("EncodeValue: JSON verbatim / text / base64", "[unit]") {
  std::string json;
  CHECK(EncodeValue(R"({"b": 1, "a": [ 2 ]})", "application/json", &json) == ValueEncoding::kJson);
  CHECK(json == R"({"b": 1, "a": [ 2 ]})");  // bytes kept, member order kept
  CHECK(EncodeValue("{\"b\":1,\n\"a\":2}\n", "application/json", &json) == ValueEncoding::kJson);
  CHECK(json == R"({"b":1,"a":2})");  // line breaks: compacted, order kept
  CHECK(EncodeValue("  42 ", "application/json", &json) == ValueEncoding::kJson);
  CHECK(json == "42");
  CHECK(EncodeValue("{not json", "application/json", &json) == ValueEncoding::kText);
  CHECK(json == R"("{not json")");
  CHECK(EncodeValue("{\"a\":1}", "application/octet-stream", &json) == ValueEncoding::kText);
  CHECK(EncodeValue(std::string("\0\xFF", 2), "application/octet-stream", &json) ==
        ValueEncoding::kBase64);
  CHECK(json == R"("AP8=")");
  CHECK(EncodeValue("\xEF\xBB\xBF{}", "application/json", &json) == ValueEncoding::kJson);
  CHECK(json == "{}");  // a BOM cannot sit inside a line of JSON
}

TEST_CASE("PutKey and PutValue", "[unit]") {
  JsonObject a;
  PutKey(a, "k\xFF");
  PutValue(a, "x", "application/json", true);
  auto j = nlohmann::json::parse(a.Done());
  CHECK(j["key"] == "a/8=");
  CHECK(j["key_encoding"] == "base64");
  CHECK(j["value"] == "x");
  CHECK(j["encoding"] == "text");

  JsonObject b;
  PutKey(b, "k");
  PutValue(b, "[1]", "application/json", /*omit_json_encoding=*/true);
  CHECK(b.Done() == R"({"key":"k","value":[1]})");
}

TEST_CASE("ForEachMember gives each member's raw text", "[unit]") {
  std::vector<std::pair<std::string, std::string>> members;
  std::string text =
      R"( {"key":"a\"b", "v\u0061lue" : {"x": [1, "}"]} , "n":-1.5e3,"t":true,"s":"q\"}"} )";
  REQUIRE(ForEachMember(text, [&](const std::string& name, std::string_view raw) {
    members.emplace_back(name, std::string(raw));
  }));
  REQUIRE(members.size() == 5);
  CHECK(members[0] == std::pair<std::string, std::string>{"key", R"("a\"b")"});
  CHECK(members[1] == std::pair<std::string, std::string>{"value", R"({"x": [1, "}"]})"});
  CHECK(members[2].second == "-1.5e3");
  CHECK(members[3].second == "true");
  CHECK(members[4].second == R"("q\"}")");
  CHECK(ForEachMember("{}", [](const std::string&, std::string_view) {}));
  CHECK_FALSE(ForEachMember("[1,2]", [](const std::string&, std::string_view) {}));
  CHECK_FALSE(ForEachMember(R"({"a":1)", [](const std::string&, std::string_view) {}));
}

}  // namespace
}  // namespace kv::cli
