#include "daemon/store/aes_ctr_provider.h"

#include <atomic>
#include <climits>
#include <cstring>
#include <string>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace kv::store {
namespace {

constexpr size_t kMagicBytes = 8;
constexpr size_t kVersionOffset = 8;
constexpr unsigned char kVersion = 1;
constexpr size_t kIvOffset = 16;
constexpr size_t kIvBytes = 16;
constexpr size_t kCheckOffset = 32;
constexpr size_t kCheckBytes = 32;
constexpr size_t kHeaderUsed = kCheckOffset + kCheckBytes;
constexpr size_t kAesBlock = 16;

EncryptionKey::Mac KeyCheck(const EncryptionKey& key, const unsigned char* iv) {
  std::string message(kKeyCheckLabel);
  message.append(reinterpret_cast<const char*>(iv), kIvBytes);
  return key.Hmac(message);
}

// RocksDB calls the provider from the threads of its default Env, which it
// joins only when that Env is destroyed at exit. OpenSSL's cleanup at exit
// (its atexit handler) runs before that whenever OpenSSL was initialised after
// the Env was made, and then each of those threads loses its OpenSSL state
// (error queue, random generator: LeakSanitizer's leaks at every exit) and
// frees its cipher context after the library is gone. Initialised here,
// before main and without that handler, OpenSSL stays until the process is
// gone and each thread frees its own state when it ends.
[[maybe_unused]] const int openssl_init = OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);

// AES-256-CTR, fetched once from OpenSSL's default provider (an implicit
// fetch on every initialisation would cost a lookup each time).
const EVP_CIPHER* Aes256Ctr() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-CTR", nullptr);
  return cipher;
}

// A cipher context per thread, reused across calls and files; it keeps the
// key schedule of the last key it was initialised with (keys are told apart
// by a number unique in the process, never by an address that can be reused).
struct ThreadCipher {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx{EVP_CIPHER_CTX_new(),
                                                                      &EVP_CIPHER_CTX_free};
  uint64_t keyed_for = 0;  // 0: none yet
};
ThreadCipher& ThisThreadCipher() {
  thread_local ThreadCipher cipher;
  return cipher;
}
std::atomic<uint64_t> next_key_id{1};

// The counter block of AES block number `block`: IV + block, big-endian,
// mod 2^128 (OpenSSL increments the counter the same way within a call).
void CounterAt(const unsigned char* iv, uint64_t block, unsigned char* out) {
  std::memcpy(out, iv, kIvBytes);
  uint64_t carry = block;
  for (size_t i = kIvBytes; i-- > 0 && carry != 0;) {
    uint64_t sum = out[i] + (carry & 0xFF);
    out[i] = static_cast<unsigned char>(sum & 0xFF);
    carry = (carry >> 8) + (sum >> 8);
  }
}

class AesCtrStream final : public rocksdb::BlockAccessCipherStream {
 public:
  AesCtrStream(std::shared_ptr<const EncryptionKey> key, uint64_t key_id, const unsigned char* iv)
      : key_(std::move(key)), key_id_(key_id) {
    std::memcpy(iv_, iv, kIvBytes);
  }

  size_t BlockSize() override { return kAesBlock; }
  // Counter mode: encrypting and decrypting are the same XOR.
  rocksdb::Status Encrypt(uint64_t offset, char* data, size_t size) override {
    return Apply(offset, data, size);
  }
  rocksdb::Status Decrypt(uint64_t offset, char* data, size_t size) override {
    return Apply(offset, data, size);
  }

 protected:
  // Encrypt/Decrypt above do whole ranges; these serve the base class only.
  void AllocateScratch(std::string&) override {}
  rocksdb::Status EncryptBlock(uint64_t block, char* data, char*) override {
    return Apply(block * kAesBlock, data, kAesBlock);
  }
  rocksdb::Status DecryptBlock(uint64_t block, char* data, char*) override {
    return Apply(block * kAesBlock, data, kAesBlock);
  }

 private:
  rocksdb::Status Apply(uint64_t offset, char* data, size_t size) const {
    ThreadCipher& tc = ThisThreadCipher();
    EVP_CIPHER_CTX* ctx = tc.ctx.get();
    const EVP_CIPHER* cipher = Aes256Ctr();
    if (ctx == nullptr || cipher == nullptr) {
      return rocksdb::Status::NotSupported("AES-256-CTR is not available from OpenSSL");
    }
    unsigned char counter[kIvBytes];
    CounterAt(iv_, offset / kAesBlock, counter);
    // Only the counter changes while the thread stays with one key.
    const bool keyed = tc.keyed_for == key_id_;
    if (EVP_EncryptInit_ex2(ctx, keyed ? nullptr : cipher, keyed ? nullptr : key_->data(), counter,
                            nullptr) != 1) {
      tc.keyed_for = 0;
      return rocksdb::Status::IOError("AES-256-CTR: cannot initialise the cipher");
    }
    tc.keyed_for = key_id_;
    int out_len = 0;
    // Skip the keystream before `offset` within its block.
    if (size_t skip = offset % kAesBlock; skip != 0) {
      unsigned char scratch[kAesBlock] = {};
      if (EVP_EncryptUpdate(ctx, scratch, &out_len, scratch, static_cast<int>(skip)) != 1) {
        return rocksdb::Status::IOError("AES-256-CTR: cannot encrypt");
      }
    }
    auto* bytes = reinterpret_cast<unsigned char*>(data);
    while (size > 0) {
      int chunk = static_cast<int>(std::min<size_t>(size, INT_MAX / 2));
      if (EVP_EncryptUpdate(ctx, bytes, &out_len, bytes, chunk) != 1) {
        return rocksdb::Status::IOError("AES-256-CTR: cannot encrypt");
      }
      bytes += chunk;
      size -= static_cast<size_t>(chunk);
    }
    return rocksdb::Status::OK();
  }

  std::shared_ptr<const EncryptionKey> key_;
  uint64_t key_id_;
  unsigned char iv_[kIvBytes];
};

class AesCtrProvider final : public rocksdb::EncryptionProvider {
 public:
  explicit AesCtrProvider(const EncryptionKey& key)
      : key_(std::make_shared<const EncryptionKey>(key)), key_id_(next_key_id.fetch_add(1)) {}

  static const char* kClassName() { return "kv.AesCtrProvider"; }
  const char* Name() const override { return kClassName(); }

  size_t GetPrefixLength() const override { return kEncryptionHeaderBytes; }

  rocksdb::Status CreateNewPrefix(const std::string& fname, char* prefix,
                                  size_t length) const override {
    if (length < kHeaderUsed) {
      return rocksdb::Status::InvalidArgument(fname + ": encryption header too short");
    }
    std::memset(prefix, 0, length);
    std::memcpy(prefix, kEncryptionMagic, kMagicBytes);
    auto* header = reinterpret_cast<unsigned char*>(prefix);
    header[kVersionOffset] = kVersion;
    if (RAND_bytes(header + kIvOffset, static_cast<int>(kIvBytes)) != 1) {
      return rocksdb::Status::IOError(fname + ": OpenSSL could not make a random IV");
    }
    EncryptionKey::Mac check = KeyCheck(*key_, header + kIvOffset);
    std::memcpy(header + kCheckOffset, check.data(), kCheckBytes);
    return rocksdb::Status::OK();
  }

  rocksdb::Status AddCipher(const std::string&, const char*, size_t, bool) override {
    return rocksdb::Status::NotSupported("kvd's encryption provider has one key, given at start");
  }

  rocksdb::Status CreateCipherStream(
      const std::string& fname, const rocksdb::EnvOptions&, rocksdb::Slice& prefix,
      std::unique_ptr<rocksdb::BlockAccessCipherStream>* result) override {
    std::string_view header(prefix.data(), prefix.size());
    switch (MatchHeader(header, *key_)) {
      case HeaderMatch::kThisKey:
        break;
      case HeaderMatch::kNoHeader:
        return rocksdb::Status::Corruption(fname + " is not encrypted (no kvd encryption header)");
      case HeaderMatch::kOtherKey:
        return rocksdb::Status::InvalidArgument(fname + " was encrypted with another key");
      case HeaderMatch::kUnknownVersion:
        return rocksdb::Status::NotSupported(fname +
                                             " is encrypted in a format this kvd does not know");
    }
    result->reset(new AesCtrStream(
        key_, key_id_, reinterpret_cast<const unsigned char*>(prefix.data()) + kIvOffset));
    return rocksdb::Status::OK();
  }

 private:
  std::shared_ptr<const EncryptionKey> key_;
  uint64_t key_id_;  // tells this provider's key apart in ThreadCipher
};

}  // namespace

std::shared_ptr<rocksdb::EncryptionProvider> NewAesCtrProvider(const EncryptionKey& key) {
  return std::make_shared<AesCtrProvider>(key);
}

bool HasEncryptionHeader(std::string_view first_bytes) {
  return first_bytes.size() >= kMagicBytes &&
         first_bytes.substr(0, kMagicBytes) == std::string_view(kEncryptionMagic, kMagicBytes);
}

HeaderMatch MatchHeader(std::string_view first_bytes, const EncryptionKey& key) {
  if (!HasEncryptionHeader(first_bytes) || first_bytes.size() < kHeaderUsed) {
    return HeaderMatch::kNoHeader;
  }
  const auto* header = reinterpret_cast<const unsigned char*>(first_bytes.data());
  if (header[kVersionOffset] != kVersion) return HeaderMatch::kUnknownVersion;
  EncryptionKey::Mac check = KeyCheck(key, header + kIvOffset);
  return CRYPTO_memcmp(check.data(), header + kCheckOffset, kCheckBytes) == 0
             ? HeaderMatch::kThisKey
             : HeaderMatch::kOtherKey;
}

}  // namespace kv::store
