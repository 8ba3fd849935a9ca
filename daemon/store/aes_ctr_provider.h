// AesCtrProvider: the rocksdb::EncryptionProvider behind kvd's encryption at
// rest (StoreOptions::encryption_key). RocksDB's encrypted file system
// (rocksdb::NewEncryptedFS) hands every file it creates -- SST, WAL,
// MANIFEST, CURRENT, OPTIONS, IDENTITY -- to this provider, which encrypts
// it with AES-256 in counter mode (OpenSSL's EVP), so the bytes on disk say
// nothing about the keys and values without the key.
//
// File format: a plaintext header of kEncryptionHeaderBytes (a page, as
// RocksDB's own CTR provider uses, so reads stay page-aligned), then the
// file's contents encrypted:
//
//   bytes 0-7     "KVAESCTR"
//   byte  8       format version: 1
//   bytes 9-15    zero
//   bytes 16-31   IV: 16 random bytes (OpenSSL RAND_bytes), new for every file
//   bytes 32-63   key check: HMAC-SHA256(key, kKeyCheckLabel || IV)
//   bytes 64-4095 zero
//
// The byte at offset `o` of the file (counted from the file's start, header
// included, as RocksDB counts) is XORed with AES-256(key, IV + o/16) at
// o%16, the counter being a 128-bit big-endian number (mod 2^128). Random
// 128-bit IVs keep two files' counter ranges apart, so no keystream is used
// twice (RocksDB only appends to its files).
//
// The key check lets a file tell whether a key is the one it was written
// with, without revealing anything about the key: opening a file with
// another key is an error naming the file, never garbage.
//
// What it does not give: integrity against someone who can write the disk
// (counter mode is malleable; RocksDB's checksums catch accidents, not an
// attacker), or secrecy of file names and sizes.
//
// Thread-safety: the provider and its cipher streams may be used from any
// number of threads at once (each thread keeps its own OpenSSL context).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include <rocksdb/env_encryption.h>

#include "daemon/store/encryption_key.h"

namespace kv::store {

inline constexpr size_t kEncryptionHeaderBytes = 4096;
inline constexpr char kEncryptionMagic[] = "KVAESCTR";  // 8 bytes, no NUL on disk
inline constexpr char kKeyCheckLabel[] = "kv encryption at rest: key check";

std::shared_ptr<rocksdb::EncryptionProvider> NewAesCtrProvider(const EncryptionKey& key);

// What a file's first bytes say about it and `key`.
enum class HeaderMatch {
  kNoHeader,        // not encrypted by this provider
  kThisKey,         // encrypted with `key`
  kOtherKey,        // encrypted with another key
  kUnknownVersion,  // a header of a format version this kvd does not know
};
HeaderMatch MatchHeader(std::string_view first_bytes, const EncryptionKey& key);
// True when `first_bytes` start with the header's magic.
bool HasEncryptionHeader(std::string_view first_bytes);

}  // namespace kv::store
