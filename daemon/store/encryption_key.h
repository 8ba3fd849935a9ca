// EncryptionKey: the 256-bit key of kvd's encryption at rest (see
// aes_ctr_provider.h for what it encrypts), and the key file it comes from.
//
// Key file: 64 hexadecimal digits (either case), optionally followed by one
// newline -- what `openssl rand -hex 32` prints. It must be a regular file
// (or a link to one) that neither group nor others may read or write (mode
// 0600 or 0400), as ssh demands of a private key.
//
// Ownership: a value type. Every copy wipes its bytes (OPENSSL_cleanse) when
// it goes away. Thread-safety: const methods may be called concurrently.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kv::store {

class EncryptionKey {
 public:
  static constexpr size_t kBytes = 32;
  using Mac = std::array<unsigned char, 32>;

  // InvalidArgument: not exactly kBytes bytes.
  static Result<EncryptionKey> FromBytes(std::string_view bytes);
  // The text of a key file (format above). InvalidArgument: not 64 hex
  // digits with an optional newline; the message never repeats the text.
  static Result<EncryptionKey> FromText(std::string_view text);

  EncryptionKey(const EncryptionKey& other);
  EncryptionKey& operator=(const EncryptionKey& other);
  ~EncryptionKey();

  // The kBytes bytes of the key.
  const unsigned char* data() const { return bytes_.data(); }
  // HMAC-SHA256 of `message` under the key.
  Mac Hmac(std::string_view message) const;

 private:
  EncryptionKey() = default;
  std::array<unsigned char, kBytes> bytes_{};
};

// Reads the key file at `path`. InvalidArgument, with a message that names
// the path and the fix: the file is missing or unreadable, not a regular
// file, open to group or others, or not in the format above.
Result<EncryptionKey> ReadEncryptionKeyFile(const std::string& path);

}  // namespace kv::store
