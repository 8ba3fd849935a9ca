#include "daemon/store/encryption_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/hex.h"

namespace kv::store {
namespace {

constexpr char kFormat[] =
    "64 hexadecimal digits and an optional newline (make one with: openssl rand -hex 32)";

// Wipes a string that held key material.
void Wipe(std::string* s) {
  if (!s->empty()) OPENSSL_cleanse(s->data(), s->size());
  s->clear();
}

}  // namespace

Result<EncryptionKey> EncryptionKey::FromBytes(std::string_view bytes) {
  if (bytes.size() != kBytes) {
    return Status::InvalidArgument("an encryption key is " + std::to_string(kBytes) +
                                   " bytes, not " + std::to_string(bytes.size()));
  }
  EncryptionKey key;
  std::memcpy(key.bytes_.data(), bytes.data(), kBytes);
  return key;
}

Result<EncryptionKey> EncryptionKey::FromText(std::string_view text) {
  if (text.size() >= 1 && text.back() == '\n') text.remove_suffix(1);
  if (text.size() >= 1 && text.back() == '\r') text.remove_suffix(1);
  if (text.size() != 2 * kBytes) {
    return Status::InvalidArgument("expected " + std::string(kFormat) + ", found " +
                                   std::to_string(text.size()) + " characters");
  }
  std::optional<std::string> bytes = HexDecode(text);
  if (!bytes) {
    return Status::InvalidArgument("expected " + std::string(kFormat) +
                                   ", found a character that is not a hexadecimal digit");
  }
  Result<EncryptionKey> key = FromBytes(*bytes);
  Wipe(&*bytes);
  return key;
}

EncryptionKey::EncryptionKey(const EncryptionKey& other) : bytes_(other.bytes_) {}

EncryptionKey& EncryptionKey::operator=(const EncryptionKey& other) {
  bytes_ = other.bytes_;
  return *this;
}

EncryptionKey::~EncryptionKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

EncryptionKey::Mac EncryptionKey::Hmac(std::string_view message) const {
  Mac mac{};
  unsigned int len = 0;
  // HMAC-SHA256 cannot fail on these arguments; a failure leaves zeros,
  // which match no key check.
  (void)HMAC(EVP_sha256(), bytes_.data(), static_cast<int>(bytes_.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(),
             &len);
  return mac;
}

Result<EncryptionKey> ReadEncryptionKeyFile(const std::string& path) {
  auto fail = [&](const std::string& why) {
    return Status::InvalidArgument("encryption key file " + path + ": " + why);
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return fail(std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail("not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(std::string("permissions ") + mode +
                " are too open: group or others may read or change it (chmod 600 " + path + ")");
  }
  if (st.st_size > 128) {
    ::close(fd);
    return fail("expected " + std::string(kFormat) + ", found a file of " +
                std::to_string(st.st_size) + " bytes");
  }
  std::string text(128, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      Wipe(&text);
      return fail(std::strerror(err));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  Result<EncryptionKey> key = EncryptionKey::FromText(text);
  Wipe(&text);
  if (!key.ok()) return fail(key.status().message());
  return key;
}

}  // namespace kv::store
