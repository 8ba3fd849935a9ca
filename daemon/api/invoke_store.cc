#include "daemon/api/invoke_store.h"

#include <cctype>

#include "common/json_flat.h"
#include "common/key.h"

namespace kv::daemon {
namespace {

constexpr char kTextType[] = "text/plain; charset=utf-8";
constexpr char kJsonType[] = "application/json";

// application/json, or a +json type, parameters ignored.
bool IsJsonType(std::string_view content_type) {
  std::string media(content_type.substr(0, content_type.find(';')));
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  return media == kJsonType || (media.size() > 5 && media.ends_with("+json"));
}

}  // namespace

ProjectPath SplitProjectPath(std::string_view rest) {
  std::string_view after = rest.empty() ? rest : rest.substr(1);
  size_t slash = after.find('/');
  return {after.substr(0, slash), slash == std::string_view::npos ? "/" : after.substr(slash)};
}

Result<NamespaceRef> InvokeProjectNamespace(std::string_view tenant, std::string_view project) {
  if (Status s = ValidateName(project, "project"); !s.ok()) return s;
  return MakeNamespace(tenant, project, kDefaultAppName);
}

InvokeStoredValue EncodeInvokeValue(const nlohmann::ordered_json& value) {
  if (value.is_string()) return {value.get<std::string>(), kTextType};
  return {DumpInvokeJson(value), kJsonType};
}

nlohmann::ordered_json DecodeInvokeValue(const store::Entry& entry) {
  if (IsJsonType(entry.content_type)) {
    nlohmann::ordered_json parsed = kv::json::ParseTree<nlohmann::ordered_json>(entry.value);
    if (!parsed.is_discarded()) return parsed;
  }
  return entry.value;
}

std::string DumpInvokeJson(const nlohmann::ordered_json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace kv::daemon
