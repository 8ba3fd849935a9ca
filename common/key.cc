#include "common/key.h"

#include <string>

namespace kv {

Status ValidateKey(std::string_view key, std::size_t max_bytes) {
  if (key.empty()) return Status::InvalidArgument("key is empty");
  if (key.size() > max_bytes) {
    return Status::TooLarge("key is " + std::to_string(key.size()) + " bytes, over the limit of " +
                            std::to_string(max_bytes));
  }
  if (key.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("key contains a NUL byte");
  }
  return Status::Ok();
}

Status ValidateName(std::string_view name, std::string_view what) {
  std::string w(what);
  if (name.empty()) return Status::InvalidArgument(w + " is empty");
  if (name.size() > kMaxNameBytes) {
    return Status::InvalidArgument(w + " is longer than " + std::to_string(kMaxNameBytes) +
                                   " bytes");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument(w + " '" + std::string(name) +
                                     "' may only contain letters, digits, '.', '_' and '-'");
    }
  }
  return Status::Ok();
}

}  // namespace kv

namespace kv {

std::string PrefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty() && static_cast<unsigned char>(out.back()) == 0xFF) out.pop_back();
  if (!out.empty()) out.back() = static_cast<char>(static_cast<unsigned char>(out.back()) + 1);
  return out;
}

}  // namespace kv
