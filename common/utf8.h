// UTF-8 well-formedness, shared by kv, its client library and kvd: which
// bytes can travel as JSON text and which need base64.
#pragma once

#include <cstddef>
#include <string_view>

namespace kv {

// True when `s` is well-formed UTF-8 (RFC 3629): no overlong forms, no
// surrogates, no code points past U+10FFFF.
bool IsValidUtf8(std::string_view s);

// The length (1 to 4) of the well-formed UTF-8 sequence that starts at
// s[i], or 0 when the byte there does not start one.
// REQUIRES: i < s.size().
size_t Utf8SequenceAt(std::string_view s, size_t i);

}  // namespace kv
