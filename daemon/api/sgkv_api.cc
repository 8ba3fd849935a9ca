#include "daemon/api/sgkv_api.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "common/json_flat.h"
#include "common/key.h"

namespace kv::daemon {
namespace {

using json = nlohmann::ordered_json;

constexpr char kTextType[] = "text/plain; charset=utf-8";
constexpr char kInvalidInput[] = "Invalid input";
constexpr char kKeyNotFound[] = "Key not found";

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse MethodNotAllowed(std::string allow) {
  HttpResponse r = EchoError(405, "Method Not Allowed");
  r.headers.Set("Allow", std::move(allow));
  return r;
}

// What simple-golang-kv binds a request body into.
struct WriteBody {
  std::string key;
  std::string value;
  int64_t ttl = 0;
  int64_t expire_at = 0;  // echoed back, never used
};

// A JSON integer that fits int64 (Go's json into an int64 field).
bool ReadInt(const json& field, int64_t* out) {
  if (field.is_null()) return true;
  if (field.is_number_integer() && !field.is_number_unsigned()) {
    *out = field.get<int64_t>();
    return true;
  }
  if (field.is_number_unsigned() &&
      field.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    *out = static_cast<int64_t>(field.get<uint64_t>());
    return true;
  }
  return false;
}

bool ReadString(const json& field, std::string* out) {
  if (field.is_null()) return true;
  if (!field.is_string()) return false;
  *out = field.get<std::string>();
  return true;
}

// False when simple-golang-kv's bind would fail ("Invalid input"). An empty
// body binds nothing; so does JSON null.
bool ParseWriteBody(const HttpRequest& request, WriteBody* out) {
  if (request.body.empty()) return true;
  if (auto type = request.headers.Get("Content-Type"); type && !type->empty()) {
    std::string media(type->substr(0, type->find(';')));
    for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!media.empty() && media.back() == ' ') media.pop_back();
    if (media != "application/json") return false;
  }
  json doc = kv::json::ParseTree<json>(request.body);
  if (doc.is_discarded() || !(doc.is_object() || doc.is_null())) return false;
  if (doc.is_null()) return true;
  for (const auto& [field_name, field] : doc.items()) {
    // Go's encoding/json also takes "Key", "VALUE", "Ttl": a Go client whose
    // struct has no json tags sends its field names.
    std::string name = field_name;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool ok = true;
    if (name == "key") {
      ok = ReadString(field, &out->key);
    } else if (name == "value") {
      ok = ReadString(field, &out->value);
    } else if (name == "ttl") {
      ok = ReadInt(field, &out->ttl);
    } else if (name == "expire_at") {
      ok = ReadInt(field, &out->expire_at);
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace

SgkvApi::SgkvApi(store::Store& store, const SgkvOptions& options)
    : store_(store), options_(options) {}

std::optional<HttpResponse> SgkvApi::CheckKey(const std::string& key) const {
  if (key.size() > options_.max_key_len) {
    return EchoError(400,
                     "Key too long (max " + std::to_string(options_.max_key_len) + " characters)");
  }
  if (key.find('\0') != std::string::npos) return SgkvError(400, "Key must not contain NUL");
  return std::nullopt;
}

HttpResponse SgkvApi::Handle(const HttpRequest& request, std::string_view rest,
                             const Caller& caller) {
  const std::string& method = request.method;
  if (rest.empty()) {
    HttpResponse r = method == "POST" ? Write(request, caller, "") : MethodNotAllowed("POST");
    r.route = "";
    return r;
  }
  // rest = "/{raw key}"; a literal '*' at its end asks for a prefix.
  std::string_view raw_key = rest.substr(1);
  bool prefix = method == "GET" && !raw_key.empty() && raw_key.back() == '*';
  std::string route = prefix ? "/{prefix}*" : "/{key}";
  auto answer = [&route](HttpResponse r) {
    r.route = route;
    return r;
  };
  if (method != "GET" && method != "PUT" && method != "DELETE") {
    return answer(MethodNotAllowed("GET, PUT, DELETE"));
  }
  std::string key;
  if (!PercentDecode(raw_key, false, &key)) {
    return answer(SgkvError(400, "Invalid %-escape in the key"));
  }
  if (key.empty()) return answer(SgkvError(400, "Key must not be empty"));
  if (method == "PUT") return answer(Write(request, caller, key));

  HttpResponse error;
  std::optional<NamespaceRef> ns = SgkvNamespace(request, caller.tenant, options_, &error);
  if (!ns) return answer(std::move(error));
  if (auto bad = CheckKey(key)) return answer(std::move(*bad));
  if (method == "DELETE") return answer(Delete(*ns, key));
  if (prefix) {
    // The key was percent-decoded whole; the '*' was literal, so it is last.
    key.pop_back();
    return answer(List(*ns, key));
  }
  return answer(Get(*ns, key));
}

HttpResponse SgkvApi::Write(const HttpRequest& request, const Caller& caller,
                            const std::string& path_key) {
  const bool create = path_key.empty();
  WriteBody body;
  if (!ParseWriteBody(request, &body)) return SgkvError(400, kInvalidInput);
  const std::string& key = create ? body.key : path_key;
  if (key.empty()) return SgkvError(400, "Key must not be empty");
  if (body.value.size() > options_.max_value_size) {
    return SgkvError(400,
                     "Value too large (max " + std::to_string(options_.max_value_size) + " bytes)");
  }
  if (body.ttl < 0 || body.ttl > options_.max_ttl_seconds) {
    return SgkvError(
        400, "TTL must be between 0 and " + std::to_string(options_.max_ttl_seconds) + " seconds");
  }
  if (body.ttl == 0) body.ttl = options_.default_ttl_seconds;
  HttpResponse error;
  std::optional<NamespaceRef> ns = SgkvNamespace(request, caller.tenant, options_, &error);
  if (!ns) return error;
  if (auto bad = CheckKey(key)) return std::move(*bad);

  store::PutOptions put;
  put.content_type = kTextType;
  put.ttl_ms = body.ttl * 1000;
  Result<store::WriteResult> result = store_.Put(ns->StoreName(), key, body.value, put);
  if (!result.ok()) {
    if (result.status().IsQuotaExceeded()) return SgkvError(413, result.status().message());
    if (result.status().IsInvalidArgument() || result.status().IsTooLarge()) {
      return SgkvError(400, result.status().message());
    }
    return SgkvError(
        500, create ? "Could not create key-value pair" : "Could not update key-value pair");
  }
  json echo = {{"key", key}, {"value", body.value}};
  if (body.ttl != 0) echo["ttl"] = body.ttl;
  if (create && body.expire_at != 0) echo["expire_at"] = body.expire_at;
  return SgkvJson(create ? 201 : 200, Dump(echo));
}

namespace {

// {"key","value","ttl","expire_at"}: the remaining TTL in seconds, rounded up.
json EntryJson(const store::Entry& entry, std::string_view key, int64_t now_ms) {
  json j = {{"key", std::string(key)}, {"value", entry.value}};
  if (entry.expire_at_ms > 0) {
    int64_t left_ms = std::max<int64_t>(0, entry.expire_at_ms - now_ms);
    j["ttl"] = (left_ms + 999) / 1000;
    j["expire_at"] = (entry.expire_at_ms + 999) / 1000;
  } else {
    j["ttl"] = nullptr;
    j["expire_at"] = nullptr;
  }
  return j;
}

}  // namespace

HttpResponse SgkvApi::Get(const NamespaceRef& ns, const std::string& key) {
  Result<store::Entry> entry = store_.Get(ns.StoreName(), key);
  if (!entry.ok()) {
    if (entry.status().IsNotFound()) return SgkvError(404, kKeyNotFound);
    return SgkvError(500, entry.status().message());
  }
  return SgkvJson(200, Dump(EntryJson(*entry, key, store_.NowMs())));
}

HttpResponse SgkvApi::List(const NamespaceRef& ns, const std::string& prefix) {
  json items = json::array();
  store::ListOptions options;
  options.prefix = prefix;
  options.values = true;
  options.limit = store::kMaxListLimit;
  const int64_t now = store_.NowMs();
  const HttpResponse too_many = SgkvError(400, "More than " + std::to_string(kMaxListed) +
                                                   " keys match; use a longer prefix, or kv ls");
  // Each page moves the cursor on; pages may be short (expired keys), hence
  // a bound on pages as well as on keys.
  for (size_t pages = 0;; ++pages) {
    if (pages == kMaxListed / 10) return too_many;
    Result<store::ListPage> page = store_.List(ns.StoreName(), options);
    if (!page.ok()) return SgkvError(500, page.status().message());
    for (const store::Entry& entry : page->entries)
      items.push_back(EntryJson(entry, entry.key, now));
    if (items.size() > kMaxListed) return too_many;
    if (page->next_cursor.empty()) break;
    options.cursor = std::move(page->next_cursor);
  }
  if (items.empty()) return SgkvError(404, kKeyNotFound);
  return SgkvJson(200, Dump(items));
}

HttpResponse SgkvApi::Delete(const NamespaceRef& ns, const std::string& key) {
  Result<uint64_t> deleted = store_.Delete(ns.StoreName(), key);
  if (!deleted.ok() && !deleted.status().IsNotFound()) {
    return SgkvError(500, "Could not delete key-value pair");
  }
  HttpResponse r;
  r.status = 204;
  return r;
}

}  // namespace kv::daemon
