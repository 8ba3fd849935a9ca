// Encryption at rest of a store's database directory: picks the RocksDB Env
// that Store::Open and CheckStore open it with, after checking that the key
// (or its absence) fits the database.
//
// Whether a database is encrypted, and with which key, is read from its
// CURRENT file, which RocksDB keeps in every database and rewrites through
// the Env: in an encrypted database it starts with the header of
// aes_ctr_provider.h, whose key check tells whether a key is the right one.
// So a missing key, a wrong key, or a key for a plain database is refused
// before RocksDB reads anything, with a message that says which; every other
// file carries its own header and is checked again when RocksDB opens it.
//
// An encrypted database stays encrypted with the key it was created with,
// and a plain one stays plain: neither is converted in place.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <rocksdb/env.h>

#include "common/status.h"
#include "daemon/store/encryption_key.h"

namespace kv::store {

// The Env to open the database in `db_dir` with: nullptr (RocksDB's default)
// for a plain database and no key; one that encrypts with `key` when it is
// given, for an encrypted database or a new one (no CURRENT file yet).
// Unauthorized: the database is encrypted and no key, or another key, was
// given. InvalidArgument: a key was given for a plain database.
// IOError: CURRENT cannot be read.
// The Env must outlive every DB opened with it.
Result<std::unique_ptr<rocksdb::Env>> EnvForDatabase(const std::string& db_dir,
                                                     const std::optional<EncryptionKey>& key);

}  // namespace kv::store
