#include "daemon/auth/ui_sessions.h"

#include <algorithm>

#include "common/base64.h"
#include "daemon/auth/token_store.h"

namespace kv::daemon::auth {

UiSessions::UiSessions(std::function<int64_t()> now_ms) : now_ms_(std::move(now_ms)) {}

void UiSessions::MakeRoom(Table* table, size_t max, int64_t now) const {
  std::erase_if(*table, [now](const auto& item) { return item.second.expires_ms <= now; });
  while (!table->empty() && table->size() >= max) {
    auto soonest = std::min_element(table->begin(), table->end(), [](const auto& a, const auto& b) {
      return a.second.expires_ms < b.second.expires_ms;
    });
    table->erase(soonest);
  }
}

Result<UiGrant> UiSessions::Add(Table* table, size_t max, const char* prefix,
                                std::string_view tenant, int64_t ttl_ms) {
  Result<std::string> secret = RandomBytes(32);
  if (!secret.ok()) return secret.status();
  UiGrant grant;
  grant.secret = std::string(prefix) + Base64UrlEncode(*secret);
  grant.tenant = std::string(tenant);
  std::lock_guard lock(mu_);
  int64_t now = now_ms_();
  grant.expires_ms = now + ttl_ms;
  MakeRoom(table, max, now);
  (*table)[Sha256(grant.secret)] = Entry{grant.tenant, grant.expires_ms};
  return grant;
}

Result<UiGrant> UiSessions::CreateLoginCode(std::string_view tenant) {
  return Add(&codes_, kMaxLoginCodes, kLoginCodePrefix, tenant, kLoginCodeTtlMs);
}

Result<UiGrant> UiSessions::CreateSession(std::string_view tenant) {
  return Add(&sessions_, kMaxSessions, kSessionPrefix, tenant, kSessionTtlMs);
}

Result<UiGrant> UiSessions::RedeemLoginCode(std::string_view code) {
  std::string tenant;
  {
    std::lock_guard lock(mu_);
    auto it = codes_.find(Sha256(code));
    if (it == codes_.end()) return Status::NotFound("unknown login code");
    bool live = it->second.expires_ms > now_ms_();
    tenant = it->second.tenant;
    codes_.erase(it);  // spent, whether or not it was still good
    if (!live) return Status::NotFound("the login code has expired");
  }
  return CreateSession(tenant);
}

std::optional<std::string> UiSessions::Lookup(std::string_view token) const {
  if (token.substr(0, sizeof(kSessionPrefix) - 1) != kSessionPrefix) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(Sha256(token));
  if (it == sessions_.end() || it->second.expires_ms <= now_ms_()) return std::nullopt;
  return it->second.tenant;
}

bool UiSessions::Revoke(std::string_view token) {
  std::lock_guard lock(mu_);
  return sessions_.erase(Sha256(token)) > 0;
}

}  // namespace kv::daemon::auth
