#include "cmd/kv/terminal_text.h"

#include <catch2/catch.hpp>

#include <string>

namespace kv::cli {
namespace {

TEST_CASE("ShowsAsIs: UTF-8 text without control characters", "[unit]") {
  CHECK(ShowsAsIs("plain text, ünïcödé, 日本語, emoji 🙂", false));
  CHECK(ShowsAsIs("", false));
  CHECK_FALSE(ShowsAsIs("two\nlines", false));
  CHECK(ShowsAsIs("two\nlines\tand a tab\r\n", true));
  CHECK_FALSE(ShowsAsIs("a bare \r overwrites the line", true));
  CHECK_FALSE(ShowsAsIs("\x1b[31mred", true));
  CHECK_FALSE(ShowsAsIs("bell\x07", true));
  CHECK_FALSE(ShowsAsIs("del\x7f", true));
  CHECK_FALSE(ShowsAsIs(std::string("nul\0", 4), true));
  CHECK_FALSE(ShowsAsIs("c1 \xC2\x9B", true));   // U+009B
  CHECK(ShowsAsIs("nbsp \xC2\xA0", false));        // U+00A0 is printable
  CHECK_FALSE(ShowsAsIs("not utf-8 \xFF", true));
  CHECK_FALSE(ShowsAsIs("cut \xE6\x97", true));     // a sequence cut short
}

TEST_CASE("Quoted: redis-cli's quoted form, every byte accounted for", "[unit]") {
  CHECK(Quoted("plain") == "\"plain\"");
  CHECK(Quoted("say \"hi\" \\o/") == "\"say \\\"hi\\\" \\\\o/\"");
  CHECK(Quoted("a\nb\rc\td") == "\"a\\nb\\rc\\td\"");
  CHECK(Quoted("\x1b[2J\x07\x7f") == "\"\\x1b[2J\\x07\\x7f\"");
  CHECK(Quoted(std::string("a\0b", 3)) == "\"a\\x00b\"");
  CHECK(Quoted("\xC2\x9B" "1m \xC2\x80") == "\"\\u009b1m \\u0080\"");
  CHECK(Quoted("日本 \xFF\xFE") == "\"日本 \\xff\\xfe\"");
  CHECK(Quoted("\xED\xA0\x80") == "\"\\xed\\xa0\\x80\"");  // a surrogate is not UTF-8
}

TEST_CASE("ForTerminal and EscapeControls", "[unit]") {
  CHECK(ForTerminal("user:1") == "user:1");
  CHECK(ForTerminal("with space and \"quotes\"") == "with space and \"quotes\"");
  CHECK(ForTerminal("esc\x1bkey") == "\"esc\\x1bkey\"");
  CHECK(ForTerminal("two\nlines") == "\"two\\nlines\"");
  CHECK(EscapeControls("key not found: a\x1b]0;pwned\x07") ==
        "key not found: a\\x1b]0;pwned\\x07");
  CHECK(EscapeControls("one\ntwo\rthree\tfour") == "one two three four");
  CHECK(EscapeControls("ok \"quotes\" \\ stay") == "ok \"quotes\" \\ stay");
  CHECK(EscapeControls("bad \xFF byte, c1 \xC2\x9B") == "bad \\xff byte, c1 \\u009b");
}

}  // namespace
}  // namespace kv::cli
