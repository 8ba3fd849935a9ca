// TokenStore: the bearer tokens kvd accepts over TCP, each granting one
// tenant. A token is "kv_" followed by 32 random bytes (getrandom) in
// base64url, shown once by Create() and never stored: the file keeps only its
// SHA-256, so a leaked tokens.json does not let anyone in.
//
// File: <data_dir>/tokens.json, mode 0600, rewritten whole on every change
// through a temporary file, fsync and rename, so a crash leaves either the old
// or the new list. Format:
//
//   {"version":1,"tokens":[{"id":"3f9a0c1d2b4e5f60","tenant":"acme",
//                           "created_ms":1700000000000,"sha256":"<64 hex>"}]}
//
// Lookup() compares the presented token's hash with every stored hash in
// constant time.
//
// Ownership: the caller owns the TokenStore (main keeps it for the daemon's
// life; the router holds a reference).
// Thread-safety: all methods may be called concurrently from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kv::daemon::auth {

inline constexpr char kTokenPrefix[] = "kv_";

// What List() shows of a token: never the secret.
struct TokenInfo {
  std::string id;  // 16 hex digits, names the token for Revoke()
  std::string tenant;
  int64_t created_ms = 0;
};

struct NewToken {
  TokenInfo info;
  std::string token;  // "kv_...": the only time the secret exists outside the caller
};

class TokenStore {
 public:
  // Loads the tokens from `path`; a missing file means no tokens (the file is
  // created by the first Create()). Corruption: the file exists but is not a
  // token list (never overwritten); IOError: it cannot be read.
  static Result<std::unique_ptr<TokenStore>> Open(std::string path);

  TokenStore(const TokenStore&) = delete;
  TokenStore& operator=(const TokenStore&) = delete;

  // Makes a token for `tenant` and saves the list before returning it.
  // InvalidArgument: the tenant is not a valid name (kv::ValidateName).
  // IOError: the file could not be written (nothing changed).
  Result<NewToken> Create(std::string_view tenant);

  // Every token, oldest first.
  std::vector<TokenInfo> List() const;

  // Removes the token with this id. NotFound: no such id. IOError: the file
  // could not be written (nothing changed).
  Status Revoke(std::string_view id);

  // The tenant the token grants, or nullopt for an unknown or malformed one.
  std::optional<std::string> Lookup(std::string_view token) const;

  const std::string& path() const { return path_; }

  // Writes the token list, as it is now, to `path` as well (a backup of the
  // data directory), atomically, mode 0600. IOError: it could not be written.
  Status SaveCopy(const std::string& path);

 private:
  struct Stored {
    TokenInfo info;
    std::string sha256;  // 32 raw bytes
  };

  explicit TokenStore(std::string path) : path_(std::move(path)) {}
  // REQUIRES: write_mu_ held. Writes `tokens` to `path` atomically.
  Status Save(const std::vector<Stored>& tokens, const std::string& path) const;

  const std::string path_;
  std::mutex write_mu_;                // serializes Create/Revoke and the file
  mutable std::shared_mutex mu_;       // guards tokens_
  std::vector<Stored> tokens_;
};

// SHA-256 of `data`, 32 raw bytes.
std::string Sha256(std::string_view data);

// `n` bytes from the kernel's random source (getrandom). IOError: it failed.
Result<std::string> RandomBytes(size_t n);

}  // namespace kv::daemon::auth
