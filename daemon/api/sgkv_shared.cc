#include "daemon/api/sgkv_shared.h"

#include <nlohmann/json.hpp>

#include "common/key.h"

namespace kv::daemon {
namespace {

HttpResponse OneField(int status, const char* field, std::string_view message) {
  nlohmann::ordered_json body = {{field, std::string(message)}};
  return SgkvJson(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

Status SgkvOptions::Validate(size_t kvd_max_key_bytes, size_t kvd_max_value_bytes) const {
  if (Status s = ValidateName(default_namespace, "DEFAULT_NAMESPACE"); !s.ok()) return s;
  if (Status s = ValidateName(default_app, "DEFAULT_APPNAME"); !s.ok()) return s;
  auto at_most = [](const char* name, uint64_t value, uint64_t limit, const char* why) {
    if (value == 0 || value > limit) {
      return Status::InvalidArgument(std::string(name) + " must be 1 to " + std::to_string(limit) +
                                     " (" + why + "), not " + std::to_string(value));
    }
    return Status::Ok();
  };
  if (Status s = at_most("MAX_NAMESPACE_LEN", max_namespace_len, kMaxNameBytes,
                         "kvd's longest namespace name");
      !s.ok()) {
    return s;
  }
  if (Status s = at_most("MAX_APPNAME_LEN", max_app_len, kMaxNameBytes, "kvd's longest app name");
      !s.ok()) {
    return s;
  }
  if (Status s = at_most("MAX_KEY_LEN", max_key_len, kvd_max_key_bytes, "--max-key-bytes");
      !s.ok()) {
    return s;
  }
  if (Status s =
          at_most("MAX_VALUE_SIZE", max_value_size, kvd_max_value_bytes, "--max-value-bytes");
      !s.ok()) {
    return s;
  }
  if (default_ttl_seconds < 0) return Status::InvalidArgument("DEFAULT_TTL_SECONDS must be >= 0");
  if (max_ttl_seconds < 0) return Status::InvalidArgument("MAX_TTL_SECONDS must be >= 0");
  return Status::Ok();
}

HttpResponse SgkvJson(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.headers.Set("Content-Type", "application/json");
  response.body = std::move(body);
  response.body.push_back('\n');
  return response;
}

HttpResponse SgkvError(int status, std::string_view message) {
  return OneField(status, "error", message);
}

HttpResponse EchoError(int status, std::string_view message) {
  return OneField(status, "message", message);
}

std::optional<NamespaceRef> SgkvNamespace(const HttpRequest& request, std::string_view tenant,
                                          const SgkvOptions& options, HttpResponse* error) {
  auto pick = [&](std::string_view header, const std::string& fallback) {
    std::optional<std::string_view> value = request.headers.Get(header);
    return value && !value->empty() ? std::string(*value) : fallback;
  };
  std::string ns = pick(kNamespaceHeader, options.default_namespace);
  std::string app = pick(kAppNameHeader, options.default_app);
  if (ns.size() > options.max_namespace_len) {
    *error = EchoError(400, "Namespace too long (max " + std::to_string(options.max_namespace_len) +
                                " characters)");
    return std::nullopt;
  }
  if (app.size() > options.max_app_len) {
    *error = EchoError(
        400, "App name too long (max " + std::to_string(options.max_app_len) + " characters)");
    return std::nullopt;
  }
  Result<NamespaceRef> ref = MakeNamespace(tenant, ns, app);
  if (!ref.ok()) {
    *error = SgkvError(400, ref.status().message());
    return std::nullopt;
  }
  return std::move(*ref);
}

}  // namespace kv::daemon
