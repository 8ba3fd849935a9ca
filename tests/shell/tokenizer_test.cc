// The REPL's word splitting (POSIX quoting, JSON words, comments) and its
// detection of inputs that go on over the next line.
#include "shell/tokenizer.h"

#include <catch2/catch.hpp>

namespace kv::shell {
namespace {

using Words = std::vector<std::string>;

Words Split(std::string_view input) {
  Tokens t = Tokenize(input);
  INFO(input);
  CHECK(t.complete());
  return t.Texts();
}

TEST_CASE("words split on blanks", "[unit]") {
  CHECK(Split("") == Words{});
  CHECK(Split("   \t ") == Words{});
  CHECK(Split("get k") == Words{"get", "k"});
  CHECK(Split("  get\tk  ") == Words{"get", "k"});
  CHECK(Split("ls user: --limit 5") == Words{"ls", "user:", "--limit", "5"});
  CHECK(Split("a\nb") == Words{"a", "b"});
}

TEST_CASE("single quotes keep everything literally", "[unit]") {
  CHECK(Split(R"(set k '{"a": 1}')") == Words{"set", "k", R"({"a": 1})"});
  CHECK(Split(R"('a\b' '$x' '"')") == Words{R"(a\b)", "$x", "\""});
  CHECK(Split("set k ''") == Words{"set", "k", ""});
  CHECK(Split("'a'b'c'") == Words{"abc"});
  CHECK(Split("'two\nlines'") == Words{"two\nlines"});
  // The POSIX way to put a ' inside single quotes.
  CHECK(Split(R"('it'\''s')") == Words{"it's"});
}

TEST_CASE("double quotes escape only a few characters", "[unit]") {
  CHECK(Split(R"("a b")") == Words{"a b"});
  CHECK(Split(R"("say \"hi\"")") == Words{R"(say "hi")"});
  CHECK(Split(R"("a\\b")") == Words{R"(a\b)"});
  CHECK(Split(R"("a\nb")") == Words{R"(a\nb)"});  // \n stays two characters
  CHECK(Split(R"("\$x \`")") == Words{"$x `"});
  CHECK(Split("\"a\\\nb\"") == Words{"ab"});
  CHECK(Split(R"("")") == Words{""});
  CHECK(Split(R"(x"y z"w)") == Words{"xy zw"});
}

TEST_CASE("backslash outside quotes", "[unit]") {
  CHECK(Split(R"(a\ b)") == Words{"a b"});
  CHECK(Split(R"(\'x\')") == Words{"'x'"});
  CHECK(Split(R"(\\)") == Words{"\\"});
  CHECK(Split("get \\\nk") == Words{"get", "k"});  // line continuation
  CHECK(Split("ab\\\ncd") == Words{"abcd"});
}

TEST_CASE("a word that starts with a brace or bracket is JSON up to the closing one", "[unit]") {
  CHECK(Split(R"(set k {"a": [1, 2]})") == Words{"set", "k", R"({"a": [1, 2]})"});
  CHECK(Split(R"(set k [1, "two", {"x": null}] --ttl 5s)") ==
        Words{"set", "k", R"([1, "two", {"x": null}])", "--ttl", "5s"});
  // Brackets and quotes inside JSON strings do not count.
  CHECK(Split(R"({"s": "}]\" {"})") == Words{R"({"s": "}]\" {"})"});
  CHECK(Split("{\n  \"a\": 1\n}") == Words{"{\n  \"a\": 1\n}"});
  CHECK(Split("{}") == Words{"{}"});
  // Only at the start of a word.
  CHECK(Split("a{b c}") == Words{"a{b", "c}"});
  CHECK(Split("'['") == Words{"["});
  CHECK(Split(R"(\{)") == Words{"{"});
  Tokens t = Tokenize("set k {\"a\":1}");
  REQUIRE(t.words.size() == 3);
  CHECK(t.words[2].json);
  CHECK_FALSE(t.words[1].json);
}

TEST_CASE("comments start with # at the start of a word", "[unit]") {
  CHECK(Split("# a comment") == Words{});
  CHECK(Split("get k # why") == Words{"get", "k"});
  CHECK(Split("get a#b") == Words{"get", "a#b"});
  CHECK(Split("get '#k'") == Words{"get", "#k"});
  CHECK(Split("get k # c\nget j") == Words{"get", "k", "get", "j"});
}

TEST_CASE("what is left open at the end", "[unit]") {
  CHECK(Tokenize("set k 'abc").open == Open::kSingle);
  CHECK(Tokenize("set k \"abc").open == Open::kDouble);
  CHECK(Tokenize("set k {\"a\": 1").open == Open::kBracket);
  CHECK(Tokenize("set k [1, [2]").open == Open::kBracket);
  CHECK(Tokenize("set k {\"a\": \"}\"").open == Open::kBracket);
  CHECK(Tokenize("get \\").open == Open::kBackslash);
  CHECK(Tokenize("get '\\").open == Open::kSingle);
  CHECK(Tokenize("set k '{\"a\"").open == Open::kSingle);
  // The next line completes it, with the newline kept inside.
  Tokens t = Tokenize("set k '{\n  \"a\": 1\n}'");
  CHECK(t.complete());
  CHECK(t.Texts() == Words{"set", "k", "{\n  \"a\": 1\n}"});
  t = Tokenize("set k {\n\"a\": [1,\n2]}");
  CHECK(t.complete());
  CHECK(t.Texts() == Words{"set", "k", "{\n\"a\": [1,\n2]}"});
  // Balanced brackets inside quotes never continue; quotes inside a JSON
  // word are JSON's.
  CHECK(Tokenize("set k '{'").complete());
  CHECK(Tokenize("set k \"[\"").complete());
  CHECK(Tokenize("# '").complete());
}

TEST_CASE("the word being typed for completion", "[unit]") {
  Tokens t = Tokenize("get us");
  CHECK(t.in_word);
  CHECK(t.Texts() == Words{"get", "us"});
  CHECK(t.words[1].begin == 4);
  t = Tokenize("get ");
  CHECK_FALSE(t.in_word);
  CHECK(t.Texts() == Words{"get"});
  t = Tokenize("");
  CHECK_FALSE(t.in_word);
  t = Tokenize("get 'user sp");
  CHECK(t.in_word);
  CHECK(t.open == Open::kSingle);
  CHECK(t.words.back().text == "user sp");
  t = Tokenize("get \"a\\\"b");
  CHECK(t.open == Open::kDouble);
  CHECK(t.words.back().text == "a\"b");
}

TEST_CASE("Escape writes text that reads back as itself", "[unit]") {
  CHECK(*Escape("user:1", Open::kNone, true) == "user:1");
  CHECK(*Escape("a b'c\"d\\e", Open::kNone, false) == R"(a\ b\'c\"d\\e)");
  CHECK(*Escape("#x", Open::kNone, true) == R"(\#x)");
  CHECK(*Escape("#x", Open::kNone, false) == "#x");
  CHECK(*Escape("{x", Open::kNone, true) == R"(\{x)");
  CHECK(*Escape("it's", Open::kSingle, false) == R"(it'\''s)");
  CHECK(*Escape(R"(a"$`\)", Open::kDouble, false) == R"(a\"\$\`\\)");
  CHECK_FALSE(Escape("a\nb", Open::kNone, false));
  CHECK(*Escape("a\nb", Open::kSingle, false) == "a\nb");
  CHECK_FALSE(Escape("x", Open::kBracket, false));

  // Round trips: the escaped text, typed after an opening, gives the text.
  for (std::string text : {"plain", "with space", "it's", "q\"uote", "back\\slash", "$HOME",
                           "#hash", "{brace", "[x]", "tab\there", "ü → ∞"}) {
    INFO(text);
    CHECK(Split("get " + *Escape(text, Open::kNone, true)) == Words{"get", text});
    CHECK(Split("get '" + *Escape(text, Open::kSingle, false) + "'") == Words{"get", text});
    CHECK(Split("get \"" + *Escape(text, Open::kDouble, false) + "\"") == Words{"get", text});
    CHECK(Split("get " + QuoteForDisplay(text)) == Words{"get", text});
  }
  CHECK(QuoteForDisplay("user:1") == "user:1");
  CHECK(QuoteForDisplay("a b") == "'a b'");
  CHECK(QuoteForDisplay("") == "''");
}

}  // namespace
}  // namespace kv::shell
