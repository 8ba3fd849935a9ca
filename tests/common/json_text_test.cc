#include "common/json_text.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kv {
namespace {

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

TEST_CASE("EncodeValue never rewrites numbers or member order", "[unit]") {
  // What a DOM would change: 2.50 -> 2.5, 1e3 -> 1000.0, a 23-digit integer
  // -> 1.2345678901234568e+22, and (std::map) the order of members.
  const std::string pretty = "{ \"z\": 2.50,\n  \"a\": [1e3, 12345678901234567890123] }";
  std::string json;
  REQUIRE(EncodeValue(pretty, "application/json", &json) == ValueEncoding::kJson);
  CHECK(json == R"({"z":2.50,"a":[1e3,12345678901234567890123]})");
  // Exact: a value whose one-line text is not its bytes becomes a string.
  REQUIRE(EncodeValue(pretty, "application/json", &json, /*exact=*/true) == ValueEncoding::kText);
  CHECK(nlohmann::json::parse(json).get<std::string>() == pretty);
  REQUIRE(EncodeValue(" 1", "application/json", &json, true) == ValueEncoding::kText);
  REQUIRE(EncodeValue(R"({"z": 2.50})", "application/json", &json, true) == ValueEncoding::kJson);
  CHECK(json == R"({"z": 2.50})");
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
  PutValue(b, "[1]", "application/json", /*for_export=*/true);
  CHECK(b.Done() == R"({"key":"k","value":[1]})");

  JsonObject c;  // export keeps the line breaks of a JSON value: as a string
  PutValue(c, "[1,\n2]", "application/json", /*for_export=*/true);
  CHECK(c.Done() == R"({"value":"[1,\n2]","encoding":"text"})");
}

}  // namespace
}  // namespace kv
