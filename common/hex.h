// Hexadecimal text of bytes (token hashes and ids, encryption keys), and back.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kv {

// Two lower-case digits per byte.
std::string HexEncode(std::string_view bytes);
// Accepts either case; nullopt for an odd length or any other character.
std::optional<std::string> HexDecode(std::string_view hex);

}  // namespace kv
