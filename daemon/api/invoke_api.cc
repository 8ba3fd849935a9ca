#include "daemon/api/invoke_api.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "common/json_flat.h"
#include "common/key.h"
#include "daemon/api/invoke_store.h"

namespace kv::daemon {
namespace {

using json = nlohmann::ordered_json;

// JSON.stringify's largest exact integer: longer TTLs are refused.
constexpr double kMaxTtlMs = 9007199254740991.0;

HttpResponse JsonAnswer(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json; charset=utf-8");
  r.body = DumpInvokeJson(body);
  return r;
}

HttpResponse Error(int status, std::string_view message) {
  return JsonAnswer(status, {{"error", std::string(message)}});
}

HttpResponse KeyRequired() { return Error(400, "Key is required"); }

HttpResponse StoreFailure(const Status& status) {
  return JsonAnswer(500, {{"error", "Internal server error"}, {"message", status.message()}});
}

HttpResponse RouteNotFound() {
  return JsonAnswer(404, {{"error", "Route not found"},
                          {"availableRoutes",
                           {"GET /", "GET /get/:key", "POST /set", "DELETE /delete/:key",
                            "GET /has/:key", "POST /clear"}}});
}

HttpResponse DemoPage() {
  HttpResponse r;
  r.headers.Set("Content-Type", "text/html");
  r.body =
      "<!DOCTYPE html>\n<html>\n<head><title>KV Store (kvd)</title></head>\n<body>\n"
      "<h1>KV Store</h1>\n<p>Invoke's KV API, served by kvd. Routes:</p>\n<ul>\n"
      "<li><code>GET /get/:key</code></li>\n<li><code>POST /set</code> "
      "<code>{\"key\": \"mykey\", \"value\": \"myvalue\", \"ttl\": 3600000}</code></li>\n"
      "<li><code>DELETE /delete/:key</code></li>\n<li><code>GET /has/:key</code></li>\n"
      "<li><code>POST /clear</code></li>\n</ul>\n</body>\n</html>\n";
  return r;
}

// A key from the path: percent-decoded, then checked; the error to send
// otherwise.
std::optional<HttpResponse> DecodeKey(std::string_view raw, size_t max_key_bytes,
                                      std::string* key) {
  if (!PercentDecode(raw, false, key)) return Error(400, "Invalid %-escape in the key");
  if (key->empty()) return KeyRequired();
  if (Status s = ValidateKey(*key, max_key_bytes); !s.ok()) return Error(400, s.message());
  return std::nullopt;
}

// JavaScript's truthiness, for `if (!key)`.
bool Falsy(const json& v) {
  return v.is_null() || (v.is_boolean() && !v.get<bool>()) || (v.is_string() && v.get_ref<const std::string&>().empty()) ||
         (v.is_number() && v.get<double>() == 0.0);
}

}  // namespace

InvokeApi::InvokeApi(store::Store& store) : store_(store) {}

HttpResponse InvokeApi::Handle(const HttpRequest& request, std::string_view rest,
                               const Caller& caller) {
  const auto [project, path] = SplitProjectPath(rest);
  auto answer = [](HttpResponse r, std::string route) {
    r.route = "/{project}" + route;
    return r;
  };
  if (project.empty()) {
    return answer(Error(404, "No project: use /invoke/{project}/get/{key} and the like"), "");
  }
  Result<NamespaceRef> ns = InvokeProjectNamespace(caller.tenant, project);
  if (!ns.ok()) return answer(Error(400, ns.status().message()), "");

  const std::string& method = request.method;
  const size_t max_key = store_.options().max_key_bytes;
  struct KeyRoute {
    const char* method;
    std::string_view prefix;
    const char* route;
  };
  for (const KeyRoute& r :
       {KeyRoute{"GET", "/get/", "/get/{key}"}, KeyRoute{"DELETE", "/delete/", "/delete/{key}"},
        KeyRoute{"GET", "/has/", "/has/{key}"}}) {
    if (method != r.method || !path.starts_with(r.prefix)) continue;
    std::string key;
    if (auto bad = DecodeKey(path.substr(r.prefix.size()), max_key, &key)) {
      return answer(std::move(*bad), r.route);
    }
    if (r.prefix == "/get/") return answer(Get(*ns, key), r.route);
    if (r.prefix == "/delete/") return answer(Delete(*ns, key), r.route);
    return answer(Has(*ns, key), r.route);
  }
  if (method == "POST" && path == "/set") return answer(Set(request, *ns), "/set");
  if (method == "POST" && path == "/clear") return answer(Clear(*ns), "/clear");
  if (method == "GET" && path == "/") return answer(DemoPage(), "/");
  return answer(RouteNotFound(), "/*");
}

HttpResponse InvokeApi::Get(const NamespaceRef& ns, const std::string& key) {
  Result<store::Entry> entry = store_.Get(ns.StoreName(), key);
  if (!entry.ok()) {
    if (entry.status().IsNotFound()) {
      return JsonAnswer(404, {{"error", "Key not found"}, {"key", key}});
    }
    return StoreFailure(entry.status());
  }
  return JsonAnswer(200, {{"key", key}, {"value", DecodeInvokeValue(*entry)}});
}

HttpResponse InvokeApi::Set(const HttpRequest& request, const NamespaceRef& ns) {
  json body = json::object();
  if (!request.body.empty()) {
    if (kv::json::NestsDeeperThan(request.body, kv::json::kMaxTreeDepth)) {
      return Error(400, kv::json::TooDeep("The body"));
    }
    body = kv::json::ParseTree<json>(request.body);
    if (body.is_discarded()) return Error(400, "Invalid JSON body");
    if (!body.is_object()) {
      return Error(400,
                   R"j(The body must be a JSON object: {"key": ..., "value": ..., "ttl": ...})j");
    }
  }
  auto key_field = body.find("key");
  if (key_field == body.end() || Falsy(*key_field)) return KeyRequired();
  if (!key_field->is_string()) return Error(400, "Key must be a string");
  const std::string key = key_field->get<std::string>();
  auto value = body.find("value");
  if (value == body.end()) return Error(400, "Value is required");
  int64_t ttl_ms = 0;
  if (auto ttl = body.find("ttl"); ttl != body.end() && !ttl->is_null()) {
    double ms = ttl->is_number() ? ttl->get<double>() : -1;
    if (!(ms >= 0 && ms <= kMaxTtlMs)) {
      return Error(400, "ttl must be a number of milliseconds, 0 or more");
    }
    ttl_ms = static_cast<int64_t>(std::ceil(ms));
  }
  if (Status s = ValidateKey(key, store_.options().max_key_bytes); !s.ok()) {
    return Error(400, s.message());
  }

  InvokeStoredValue stored = EncodeInvokeValue(*value);
  store::PutOptions put;
  put.content_type = std::move(stored.content_type);
  put.ttl_ms = ttl_ms;
  Result<store::WriteResult> result = store_.Put(ns.StoreName(), key, stored.bytes, put);
  if (!result.ok()) {
    const Status& s = result.status();
    // Invoke's clients look for "quota exceeded" in the message.
    if (s.IsQuotaExceeded()) return Error(413, "Storage quota exceeded: " + s.message());
    if (s.IsTooLarge()) return Error(413, "Value too large: " + s.message());
    if (s.IsInvalidArgument()) return Error(400, s.message());
    return StoreFailure(s);
  }
  return JsonAnswer(200, {{"success", true}, {"key", key}, {"value", *value}});
}

HttpResponse InvokeApi::Delete(const NamespaceRef& ns, const std::string& key) {
  Result<uint64_t> deleted = store_.Delete(ns.StoreName(), key);
  if (!deleted.ok() && !deleted.status().IsNotFound()) return StoreFailure(deleted.status());
  return JsonAnswer(200, {{"success", true}, {"deleted", deleted.ok()}, {"key", key}});
}

HttpResponse InvokeApi::Has(const NamespaceRef& ns, const std::string& key) {
  Result<store::Entry> entry = store_.Head(ns.StoreName(), key);
  if (!entry.ok() && !entry.status().IsNotFound()) return StoreFailure(entry.status());
  return JsonAnswer(200, {{"key", key}, {"exists", entry.ok()}});
}

HttpResponse InvokeApi::Clear(const NamespaceRef& ns) {
  Result<uint64_t> cleared = store_.Clear(ns.StoreName());
  if (!cleared.ok()) return StoreFailure(cleared.status());
  return JsonAnswer(200, {{"success", true}, {"message", "All keys cleared"}});
}

}  // namespace kv::daemon
