// UiSessions: the admin panel's sign-ins, kept in memory only (a restart of
// kvd signs every browser out).
//
// A browser never keeps a tenant's long-lived kv_ token: it trades one for a
// session token ("kvs_...", valid kSessionTtlMs), which it holds in
// sessionStorage and sends as `Authorization: Bearer kvs_...`, exactly like a
// kv_ token (the Router accepts both). No cookie is ever set, so a page of
// another site cannot make the browser write to kvd (no CSRF).
//
// `kv ui` cannot hand a browser a token through a URL without leaving it in
// the history, so it asks for a login code ("kvl_...") instead: the code works
// once, within kLoginCodeTtlMs, and the page trades it for a session at once,
// then removes it from the address bar.
//
// Secrets are random (getrandom, 32 bytes, base64url); only their SHA-256 is
// kept. The number of live codes and sessions is bounded: the oldest go first.
//
// Thread-safety: every method may be called concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kv::daemon::auth {

inline constexpr char kSessionPrefix[] = "kvs_";
inline constexpr char kLoginCodePrefix[] = "kvl_";
inline constexpr int64_t kSessionTtlMs = 12LL * 3600 * 1000;
inline constexpr int64_t kLoginCodeTtlMs = 5LL * 60 * 1000;
inline constexpr size_t kMaxSessions = 10000;
inline constexpr size_t kMaxLoginCodes = 1000;

struct UiGrant {
  std::string secret;  // "kvs_..." or "kvl_...": shown once
  std::string tenant;
  int64_t expires_ms = 0;  // Unix ms
};

class UiSessions {
 public:
  // `now_ms` is the clock (Unix ms); tests pass their own.
  explicit UiSessions(std::function<int64_t()> now_ms);

  // A one-time login code for `tenant`. IOError: no randomness.
  Result<UiGrant> CreateLoginCode(std::string_view tenant);
  // Spends a login code and returns a new session for its tenant.
  // NotFound: the code is unknown, used already or expired.
  Result<UiGrant> RedeemLoginCode(std::string_view code);
  // A session for `tenant` (after it proved itself with a token).
  Result<UiGrant> CreateSession(std::string_view tenant);
  // The tenant of a live session token, or nullopt.
  std::optional<std::string> Lookup(std::string_view token) const;
  // Ends a session; false when it was not live.
  bool Revoke(std::string_view token);

 private:
  struct Entry {
    std::string tenant;
    int64_t expires_ms = 0;
  };
  using Table = std::map<std::string, Entry>;  // SHA-256 of the secret -> grant

  // REQUIRES: mu_ held. Drops expired entries, then the soonest to expire
  // until `table` has room for one more.
  void MakeRoom(Table* table, size_t max, int64_t now) const;
  Result<UiGrant> Add(Table* table, size_t max, const char* prefix, std::string_view tenant,
                      int64_t ttl_ms);

  const std::function<int64_t()> now_ms_;
  mutable std::mutex mu_;
  Table sessions_;
  Table codes_;
};

}  // namespace kv::daemon::auth
