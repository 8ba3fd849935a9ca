// Encryption at rest, the parts: the key and its file, and the AES-256-CTR
// provider's file header and cipher stream (aes_ctr_provider.h).
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include <catch2/catch.hpp>
#include <rocksdb/env.h>
#include <rocksdb/env_encryption.h>

#include "daemon/store/aes_ctr_provider.h"
#include "daemon/store/encryption_key.h"
#include "tests/support/temp_dir.h"

namespace kv::store {
namespace {

using kv::testing::TempDir;

const std::string kHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

EncryptionKey KeyOf(char fill) { return *EncryptionKey::FromBytes(std::string(32, fill)); }

std::string WriteKeyFile(const TempDir& dir, const std::string& text, mode_t mode) {
  std::string path = dir.Sub("key");
  std::ofstream(path, std::ios::trunc | std::ios::binary) << text;
  REQUIRE(::chmod(path.c_str(), mode) == 0);
  return path;
}

TEST_CASE("a key is 64 hex digits, with an optional newline", "[unit]") {
  for (const std::string& text : {kHex, kHex + "\n", kHex + "\r\n"}) {
    Result<EncryptionKey> key = EncryptionKey::FromText(text);
    REQUIRE(key.ok());
    CHECK(key->data()[0] == 0x00);
    CHECK(key->data()[31] == 0xff);
  }
  std::string upper = kHex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  CHECK(EncryptionKey::FromText(upper).ok());

  const std::string secretish = "zz" + kHex.substr(2);
  for (const std::string& bad : {kHex.substr(1), kHex + "0", kHex + "\n\n", secretish,
                                 std::string(32, 'k'), std::string(), "  " + kHex}) {
    Result<EncryptionKey> key = EncryptionKey::FromText(bad);
    INFO(bad);
    REQUIRE_FALSE(key.ok());
    CHECK(key.status().code() == Status::Code::kInvalidArgument);
    CHECK(key.status().message().find("64 hexadecimal digits") != std::string::npos);
    CHECK(key.status().message().find("openssl rand -hex 32") != std::string::npos);
    // The text itself is never repeated.
    CHECK(key.status().message().find("zz") == std::string::npos);
    CHECK(key.status().message().find("0011") == std::string::npos);
  }
}

TEST_CASE("a key file must be private to its owner", "[unit]") {
  TempDir dir;
  CHECK(ReadEncryptionKeyFile(WriteKeyFile(dir, kHex + "\n", 0600)).ok());
  CHECK(ReadEncryptionKeyFile(WriteKeyFile(dir, kHex + "\n", 0400)).ok());
  for (mode_t mode : {0644, 0640, 0604, 0620, 0602}) {
    std::string path = WriteKeyFile(dir, kHex + "\n", mode);
    Result<EncryptionKey> key = ReadEncryptionKeyFile(path);
    INFO(key.status().ToString());
    REQUIRE_FALSE(key.ok());
    CHECK(key.status().code() == Status::Code::kInvalidArgument);
    CHECK(key.status().message().find("too open") != std::string::npos);
    CHECK(key.status().message().find("chmod 600 " + path) != std::string::npos);
  }
}

TEST_CASE("a key file that is missing, a directory, short or long is a clear error", "[unit]") {
  TempDir dir;
  Result<EncryptionKey> missing = ReadEncryptionKeyFile(dir.Sub("nope"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() ==
        "encryption key file " + dir.Sub("nope") + ": No such file or directory");

  ::chmod(dir.str().c_str(), 0700);
  Result<EncryptionKey> directory = ReadEncryptionKeyFile(dir.str());
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.status().message().find("not a regular file") != std::string::npos);

  Result<EncryptionKey> raw = ReadEncryptionKeyFile(WriteKeyFile(dir, std::string(32, '\x01'), 0600));
  REQUIRE_FALSE(raw.ok());
  CHECK(raw.status().message().find("found 32 characters") != std::string::npos);

  Result<EncryptionKey> big = ReadEncryptionKeyFile(WriteKeyFile(dir, std::string(5000, 'a'), 0600));
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().message().find("a file of 5000 bytes") != std::string::npos);
}

// A header for a file, made by the provider.
std::string NewHeader(rocksdb::EncryptionProvider& provider) {
  std::string header(provider.GetPrefixLength(), '\0');
  REQUIRE(provider.CreateNewPrefix("f", header.data(), header.size()).ok());
  return header;
}

std::unique_ptr<rocksdb::BlockAccessCipherStream> StreamFor(rocksdb::EncryptionProvider& provider,
                                                            const std::string& header) {
  rocksdb::Slice prefix(header);
  std::unique_ptr<rocksdb::BlockAccessCipherStream> stream;
  rocksdb::Status s = provider.CreateCipherStream("f", rocksdb::EnvOptions(), prefix, &stream);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return stream;
}

TEST_CASE("every file gets its own random IV, and a key check only its key passes", "[unit]") {
  EncryptionKey key = KeyOf('a');
  auto provider = NewAesCtrProvider(key);
  REQUIRE(provider->GetPrefixLength() == kEncryptionHeaderBytes);
  std::string a = NewHeader(*provider), b = NewHeader(*provider);
  CHECK(a.substr(0, 8) == "KVAESCTR");
  CHECK(a[8] == 1);
  CHECK(a.substr(16, 16) != b.substr(16, 16));  // IVs
  CHECK(a.substr(16, 16) != std::string(16, '\0'));
  CHECK(a.substr(64) == std::string(kEncryptionHeaderBytes - 64, '\0'));

  CHECK(MatchHeader(a, key) == HeaderMatch::kThisKey);
  CHECK(MatchHeader(a, KeyOf('b')) == HeaderMatch::kOtherKey);
  CHECK(MatchHeader("MANIFEST-000005\n", key) == HeaderMatch::kNoHeader);
  std::string future = a;
  future[8] = 2;
  CHECK(MatchHeader(future, key) == HeaderMatch::kUnknownVersion);

  // The provider itself refuses to read a file of another key, or a plain one.
  auto other = NewAesCtrProvider(KeyOf('b'));
  rocksdb::Slice prefix(a);
  std::unique_ptr<rocksdb::BlockAccessCipherStream> stream;
  rocksdb::Status s = other->CreateCipherStream("000012.sst", rocksdb::EnvOptions(), prefix, &stream);
  CHECK(s.ToString().find("000012.sst was encrypted with another key") != std::string::npos);
  std::string plain = "MANIFEST-000005\n";
  rocksdb::Slice plain_prefix(plain);
  s = provider->CreateCipherStream("CURRENT", rocksdb::EnvOptions(), plain_prefix, &stream);
  CHECK(s.ToString().find("CURRENT is not encrypted") != std::string::npos);
}

// Encrypts `data` at `offset` in one call, then decrypts it in pieces of
// random sizes, each at its own offset, as RocksDB's reads do.
void RoundTripInPieces(rocksdb::BlockAccessCipherStream& stream, uint64_t offset,
                       const std::string& data) {
  std::string bytes = data;
  REQUIRE(stream.Encrypt(offset, bytes.data(), bytes.size()).ok());
  CHECK(bytes != data);
  // Encrypting in pieces gives the same bytes as in one call.
  std::mt19937 rng(7);
  std::string pieces = data;
  for (size_t at = 0; at < pieces.size();) {
    size_t n = std::min<size_t>(pieces.size() - at, 1 + rng() % 100);
    REQUIRE(stream.Encrypt(offset + at, pieces.data() + at, n).ok());
    at += n;
  }
  CHECK(pieces == bytes);
  for (size_t at = 0; at < bytes.size();) {
    size_t n = std::min<size_t>(bytes.size() - at, 1 + rng() % 5000);
    REQUIRE(stream.Decrypt(offset + at, bytes.data() + at, n).ok());
    at += n;
  }
  CHECK(bytes == data);
}

TEST_CASE("the cipher stream decrypts any piece at any offset", "[unit]") {
  EncryptionKey key = KeyOf('a');
  auto provider = NewAesCtrProvider(key);
  std::string header = NewHeader(*provider);
  auto stream = StreamFor(*provider, header);
  std::string data(100000, '\0');
  std::mt19937 rng(1);
  for (char& c : data) c = static_cast<char>(rng());
  RoundTripInPieces(*stream, kEncryptionHeaderBytes, data);
  RoundTripInPieces(*stream, kEncryptionHeaderBytes + 5, data);

  // Same bytes, another file (IV): other ciphertext.
  auto stream2 = StreamFor(*provider, NewHeader(*provider));
  std::string one = data, two = data;
  REQUIRE(stream->Encrypt(kEncryptionHeaderBytes, one.data(), one.size()).ok());
  REQUIRE(stream2->Encrypt(kEncryptionHeaderBytes, two.data(), two.size()).ok());
  CHECK(one != two);

  // Streams of two keys used in turn on one thread each keep to their key.
  auto provider_b = NewAesCtrProvider(KeyOf('b'));
  auto stream_b = StreamFor(*provider_b, NewHeader(*provider_b));
  std::string a1 = data.substr(0, 1000), b1 = a1, a2 = a1;
  REQUIRE(stream->Encrypt(kEncryptionHeaderBytes, a1.data(), a1.size()).ok());
  REQUIRE(stream_b->Encrypt(kEncryptionHeaderBytes, b1.data(), b1.size()).ok());
  REQUIRE(stream->Encrypt(kEncryptionHeaderBytes, a2.data(), a2.size()).ok());
  CHECK(a1 == a2);
  CHECK(a1 != b1);
  REQUIRE(stream_b->Decrypt(kEncryptionHeaderBytes, b1.data(), b1.size()).ok());
  CHECK(b1 == data.substr(0, 1000));
}

TEST_CASE("the counter carries across all 128 bits and wraps", "[unit]") {
  EncryptionKey key = KeyOf('a');
  auto provider = NewAesCtrProvider(key);
  for (const std::string& iv : {std::string(15, '\0') + "\xf0",
                                std::string(8, '\0') + std::string(7, '\xff') + "\xf0",
                                std::string(15, '\xff') + "\xf0"}) {
    std::string header = NewHeader(*provider);
    header.replace(16, 16, iv);
    EncryptionKey::Mac check = key.Hmac(std::string(kKeyCheckLabel) + iv);
    header.replace(32, 32, reinterpret_cast<const char*>(check.data()), check.size());
    REQUIRE(MatchHeader(header, key) == HeaderMatch::kThisKey);
    auto stream = StreamFor(*provider, header);
    // 16 blocks from offset 0 cross the byte, word or 128-bit boundary.
    std::string data(16 * 40, 'x');
    RoundTripInPieces(*stream, 0, data);
  }
}

}  // namespace
}  // namespace kv::store
