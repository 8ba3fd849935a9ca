// Base64 (RFC 4648): standard alphabet with padding for export and etcd's
// JSON gateway, URL-safe without padding for opaque cursors.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kv {

std::string Base64Encode(std::string_view data);
std::string Base64UrlEncode(std::string_view data);  // '-' '_', no '='
// Accepts both alphabets, with or without padding; nullopt on any other byte.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace kv
