// How kvd's HTTP APIs name a store namespace. A tenant (what a token grants;
// "local" over the Unix socket) owns namespaces; each is addressed by a
// namespace name and an app name (DESIGN.md, "Data model"), both defaulting to
// "default". The store sees one opaque string, "tenant/ns/app": the three
// names are checked with kv::ValidateName, which refuses '/', so the string
// splits back unambiguously and one tenant can never name another's data.
//
// Every route table (native, simple-golang-kv, Invoke, admin UI) composes its
// store namespace here, so `kv -n myns --app myapp` and a simple-golang-kv
// client with KV-Namespace: myns / KV-App-Name: myapp see the same keys.
//
// Thread-safety: free functions and plain values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "daemon/http/message.h"

namespace kv::daemon {

// The tenant of the Unix socket (and of TCP with --no-auth and no token).
inline constexpr char kLocalTenant[] = "local";
inline constexpr char kDefaultNamespace[] = "default";
inline constexpr char kDefaultAppName[] = "default";
inline constexpr char kNamespaceHeader[] = "KV-Namespace";
inline constexpr char kAppNameHeader[] = "KV-App-Name";

struct NamespaceRef {
  std::string tenant;
  std::string ns = kDefaultNamespace;
  std::string app = kDefaultAppName;

  // "tenant/ns/app", the namespace as the store knows it.
  std::string StoreName() const;
  // "tenant/", the prefix of every store namespace of the tenant.
  static std::string TenantPrefix(std::string_view tenant);
};

// Validates the three names (kv::ValidateName; the tenant as "tenant").
// InvalidArgument names the offending part.
Result<NamespaceRef> MakeNamespace(std::string_view tenant, std::string_view ns,
                                   std::string_view app);

// Splits a store namespace back into its names; nullopt when it is not three
// valid names joined by '/'.
std::optional<NamespaceRef> ParseStoreNamespace(std::string_view store_ns);

// The namespace a request addresses for `tenant`: the query parameters `ns`
// and `app` when present, else the KV-Namespace and KV-App-Name headers, else
// "default". An empty value means the default (as simple-golang-kv does).
// InvalidArgument: a name with characters other than [A-Za-z0-9._-] or longer
// than kv::kMaxNameBytes.
Result<NamespaceRef> NamespaceFromRequest(const HttpRequest& request, std::string_view tenant);

}  // namespace kv::daemon
