#include "daemon/api/namespace.h"

#include "common/key.h"

namespace kv::daemon {

std::string NamespaceRef::StoreName() const { return tenant + "/" + ns + "/" + app; }

std::string NamespaceRef::TenantPrefix(std::string_view tenant) {
  return std::string(tenant) + "/";
}

Result<NamespaceRef> MakeNamespace(std::string_view tenant, std::string_view ns,
                                   std::string_view app) {
  if (Status s = ValidateName(tenant, "tenant"); !s.ok()) return s;
  if (Status s = ValidateName(ns, "namespace"); !s.ok()) return s;
  if (Status s = ValidateName(app, "app name"); !s.ok()) return s;
  return NamespaceRef{std::string(tenant), std::string(ns), std::string(app)};
}

std::optional<NamespaceRef> ParseStoreNamespace(std::string_view store_ns) {
  size_t first = store_ns.find('/');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = store_ns.find('/', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  Result<NamespaceRef> ref =
      MakeNamespace(store_ns.substr(0, first), store_ns.substr(first + 1, second - first - 1),
                    store_ns.substr(second + 1));
  if (!ref.ok()) return std::nullopt;
  return std::move(*ref);
}

Result<NamespaceRef> NamespaceFromRequest(const HttpRequest& request, std::string_view tenant) {
  auto pick = [&](std::string_view query_name, std::string_view header,
                  std::string_view fallback) -> std::string {
    if (auto q = request.Query(query_name); q && !q->empty()) return std::string(*q);
    if (auto h = request.headers.Get(header); h && !h->empty()) return std::string(*h);
    return std::string(fallback);
  };
  std::string ns = pick("ns", kNamespaceHeader, kDefaultNamespace);
  std::string app = pick("app", kAppNameHeader, kDefaultAppName);
  return MakeNamespace(tenant, ns, app);
}

}  // namespace kv::daemon
