// Validation of keys and namespace names, shared by kv and kvd so that both
// refuse the same input with the same words.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kv {

// Default: 1024 bytes (DESIGN.md, "Data model").
inline constexpr std::size_t kDefaultMaxKeyBytes = 1024;
// Default: 10 MiB.
inline constexpr std::size_t kDefaultMaxValueBytes = 10u << 20;
// Namespace and app names: 1..kMaxNameBytes of [A-Za-z0-9._-].
inline constexpr std::size_t kMaxNameBytes = 64;

// A key is 1..max_bytes bytes, any bytes but NUL.
// Returns InvalidArgument (empty, NUL) or TooLarge (over max_bytes).
Status ValidateKey(std::string_view key, std::size_t max_bytes = kDefaultMaxKeyBytes);

// A namespace or app name: 1..kMaxNameBytes of letters, digits, '.', '_', '-'.
// `what` names it in the message ("namespace", "app name").
Status ValidateName(std::string_view name, std::string_view what);

}  // namespace kv

namespace kv {

// The smallest string greater than every string that starts with `prefix`:
// drop trailing 0xFF bytes, then increment the last byte. Empty when there is
// none (prefix empty or all 0xFF): the range is then unbounded. The same rule
// gives RocksDB's iterate_upper_bound and etcd's range_end.
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace kv
