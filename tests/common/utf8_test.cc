#include "common/utf8.h"

#include <string>

#include <catch2/catch.hpp>

namespace kv {

TEST_CASE("IsValidUtf8 accepts UTF-8 and refuses the rest", "[unit]") {
  CHECK(IsValidUtf8("sixteen ascii by"));
  CHECK_FALSE(IsValidUtf8("ascii for a while\xFF"));
  CHECK_FALSE(IsValidUtf8("ascii for a while\xE2\x82"));  // truncated after the fast path
  CHECK(IsValidUtf8("ascii for a while \xE2\x82\xAC and more ascii"));
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

TEST_CASE("Utf8SequenceAt: the length of the sequence at a byte, or 0", "[unit]") {
  const std::string s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  CHECK(Utf8SequenceAt(s, 0) == 1);
  CHECK(Utf8SequenceAt(s, 1) == 2);
  CHECK(Utf8SequenceAt(s, 2) == 0);  // a continuation byte starts nothing
  CHECK(Utf8SequenceAt(s, 3) == 3);
  CHECK(Utf8SequenceAt(s, 6) == 4);
  CHECK(Utf8SequenceAt("\xC3", 0) == 0);          // cut short
  CHECK(Utf8SequenceAt("\xC0\xAF", 0) == 0);      // overlong
  CHECK(Utf8SequenceAt("\xED\xA0\x80", 0) == 0);  // surrogate
  CHECK(Utf8SequenceAt("\xFF", 0) == 0);
  CHECK(Utf8SequenceAt(std::string("\0", 1), 0) == 1);
}

}  // namespace kv
