#include "daemon/api/native_api.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/json_flat.h"
#include "common/json_text.h"
#include "common/key.h"
#include "common/units.h"
#include "daemon/api/errors.h"

namespace kv::daemon {
namespace {

// Ordered: JSON values embedded in answers keep their own key order.
using json = nlohmann::ordered_json;

constexpr char kOctetStream[] = "application/octet-stream";
constexpr char kJsonType[] = "application/json";
// How long an idle watch sleeps between checks that its client is still
// there; the server wakes it at once when the client leaves.
constexpr int64_t kWatchIdleMs = 30'000;
constexpr size_t kWatchBatch = 256;

// ---------------------------------------------------------------- helpers

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

HttpResponse JsonTextResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.headers.Set("Content-Type", kJsonType);
  response.body = std::move(body);
  return response;
}

HttpResponse JsonResponse(int status, const json& body) {
  return JsonTextResponse(status, Dump(body));
}

HttpResponse WithRoute(HttpResponse response, std::string route) {
  response.route = std::move(route);
  return response;
}

HttpResponse MethodNotAllowed(const HttpRequest& request, std::string_view allow,
                              std::string route) {
  HttpResponse r = ErrorResponse(405, "METHOD_NOT_ALLOWED",
                                 request.method + " is not allowed here; use " +
                                     std::string(allow));
  r.headers.Set("Allow", std::string(allow));
  r.route = std::move(route);
  return r;
}

HttpResponse BadRequest(std::string_view message) {
  return ErrorResponse(400, "BAD_REQUEST", message);
}

std::string Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A path segment percent-decoded ('+' stays '+'); nullopt on a bad escape.
std::optional<std::string> DecodePath(std::string_view in) {
  std::string out;
  if (!PercentDecode(in, false, &out)) return std::nullopt;
  return out;
}

// "application/json", "application/merge-patch+json; charset=utf-8"...
std::string MediaType(std::string_view content_type) {
  return Lower(Trim(content_type.substr(0, content_type.find(';'))));
}

std::string Quoted(uint64_t revision) {
  std::string out;
  out.reserve(22);
  out.push_back('"');
  out.append(std::to_string(revision)).push_back('"');
  return out;
}

// "7", "\"7\"", "W/\"7\"" -> 7; anything else -> 0, which no key ever has
// (revisions start at 1), so the condition fails as it should.
uint64_t ParseEtag(std::string_view text) {
  std::string t = Trim(text);
  std::string_view v(t);
  if (v.substr(0, 2) == "W/") v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty() || v.size() > 20) return 0;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return 0;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (n > (std::numeric_limits<uint64_t>::max() - d) / 10) return 0;
    n = n * 10 + d;
  }
  return n;
}

std::vector<std::string> SplitList(std::string_view header) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string_view::npos) comma = header.size();
    std::string item = Trim(header.substr(start, comma - start));
    if (!item.empty()) out.push_back(std::move(item));
    start = comma + 1;
  }
  return out;
}

Result<bool> ParseFlag(std::optional<std::string_view> value, std::string_view name) {
  if (!value) return false;
  std::string v = Lower(Trim(*value));
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v.empty() || v == "0" || v == "false" || v == "no" || v == "off") return false;
  return Status::InvalidArgument(std::string(name) + " must be 1 or 0, not '" +
                                 std::string(*value) + "'");
}

Result<int64_t> ParseInt64(std::string_view text, std::string_view what) {
  std::string t = Trim(text);
  auto bad = [&] {
    return Status::InvalidArgument(std::string(what) + " must be an integer, not '" + t + "'");
  };
  if (t.empty()) return bad();
  size_t i = 0;
  bool negative = false;
  if (t[0] == '-' || t[0] == '+') {
    negative = t[0] == '-';
    i = 1;
  }
  if (i == t.size()) return bad();
  uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  uint64_t n = 0;
  for (; i < t.size(); ++i) {
    if (t[i] < '0' || t[i] > '9') return bad();
    uint64_t d = static_cast<uint64_t>(t[i] - '0');
    if (n > (limit - d) / 10) return bad();
    n = n * 10 + d;
  }
  if (negative) return n == (uint64_t{1} << 63) ? std::numeric_limits<int64_t>::min()
                                                 : -static_cast<int64_t>(n);
  return static_cast<int64_t>(n);
}

Result<uint64_t> ParseUint(std::string_view text, std::string_view what) {
  Result<int64_t> n = ParseInt64(text, what);
  if (!n.ok() || *n < 0 || Trim(text).front() == '+') {
    return Status::InvalidArgument(std::string(what) + " must be a non-negative integer, not '" +
                                   Trim(text) + "'");
  }
  return static_cast<uint64_t>(*n);
}

// A Unix time in ms as a UTC calendar date and time (proleptic Gregorian;
// days from civil, H. Hinnant), without gmtime_r and its locale and locks.
struct CivilTime {
  int64_t year;
  int month, day, hour, minute, second, weekday;  // month 1..12, weekday 0 = Sunday
};

CivilTime ToCivil(int64_t ms) {
  int64_t secs = ms / 1000;
  if (ms % 1000 < 0) --secs;
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  CivilTime t{};
  t.hour = static_cast<int>(rem / 3600);
  t.minute = static_cast<int>(rem / 60 % 60);
  t.second = static_cast<int>(rem % 60);
  t.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  t.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  t.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  t.year = yoe + era * 400 + (t.month <= 2 ? 1 : 0);
  return t;
}

// Appends n with at least `width` digits, zero-padded (as printf's %0*d).
void AppendPadded(std::string* out, int64_t n, int width) {
  if (n < 0) {
    out->push_back('-');
    n = -n;
    --width;
  }
  char buf[24];
  int len = 0;
  do {
    buf[len++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0);
  for (int i = len; i < width; ++i) out->push_back('0');
  while (len > 0) out->push_back(buf[--len]);
}

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate), locale-free.
std::string HttpDate(int64_t ms) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const CivilTime t = ToCivil(ms);
  std::string out;
  out.reserve(32);
  out.append(kDays[t.weekday]).append(", ");
  AppendPadded(&out, t.day, 2);
  out.push_back(' ');
  out.append(kMonths[t.month - 1]).push_back(' ');
  AppendPadded(&out, t.year, 4);
  out.push_back(' ');
  AppendPadded(&out, t.hour, 2);
  out.push_back(':');
  AppendPadded(&out, t.minute, 2);
  out.push_back(':');
  AppendPadded(&out, t.second, 2);
  out.append(" GMT");
  return out;
}

// "2023-11-14T22:13:20.000Z"
std::string IsoTime(int64_t ms) {
  const CivilTime t = ToCivil(ms);
  std::string out;
  out.reserve(32);
  AppendPadded(&out, t.year, 4);
  out.push_back('-');
  AppendPadded(&out, t.month, 2);
  out.push_back('-');
  AppendPadded(&out, t.day, 2);
  out.push_back('T');
  AppendPadded(&out, t.hour, 2);
  out.push_back(':');
  AppendPadded(&out, t.minute, 2);
  out.push_back(':');
  AppendPadded(&out, t.second, 2);
  out.push_back('.');
  AppendPadded(&out, ms % 1000, 3);
  out.push_back('Z');
  return out;
}

// ------------------------------------------------------- request parsing

// The write condition of a request; at most one may be given.
Result<store::Condition> ParseCondition(const HttpRequest& request) {
  std::vector<store::Condition> found;
  if (auto m = request.headers.Get("If-Match")) {
    std::vector<std::string> tags = SplitList(*m);
    if (tags.size() == 1 && tags[0] == "*") {
      found.push_back(store::Condition::IfExists());
    } else if (tags.size() == 1) {
      found.push_back(store::Condition::IfMatch(ParseEtag(tags[0])));
    } else {
      return Status::InvalidArgument("If-Match takes exactly one ETag");
    }
  }
  if (auto m = request.headers.Get("If-None-Match"); m && Trim(*m) == "*") {
    found.push_back(store::Condition::IfAbsent());
  }
  if (auto m = request.headers.Get("KV-If-Exists")) {
    Result<bool> on = ParseFlag(*m, "KV-If-Exists");
    if (!on.ok()) return on.status();
    if (*on) found.push_back(store::Condition::IfExists());
  }
  if (found.size() > 1) {
    return Status::InvalidArgument(
        "give at most one of If-Match, If-None-Match: * and KV-If-Exists");
  }
  return found.empty() ? store::Condition::None() : found[0];
}

// The TTL of ?ttl= or KV-TTL (nullopt: none given).
Result<std::optional<int64_t>> ParseTtl(const HttpRequest& request) {
  std::optional<std::string_view> query = request.Query("ttl");
  std::optional<std::string_view> header = request.headers.Get("KV-TTL");
  if (request.headers.Count("KV-TTL") > 1) {
    return Status::InvalidArgument("give the TTL once: several KV-TTL headers");
  }
  if (query && header && Trim(*query) != Trim(*header)) {
    return Status::InvalidArgument("give the TTL once: ?ttl= and KV-TTL differ");
  }
  std::optional<std::string_view> text = query ? query : header;
  if (!text) return std::optional<int64_t>();
  Result<int64_t> ms = ParseDurationMs(Trim(*text));
  if (!ms.ok()) return Status::InvalidArgument("bad ttl: " + ms.status().message());
  return std::optional<int64_t>(*ms);
}

// Follows a dotted path ("a.b.0.c") into a JSON document.
const json* FollowPath(const json& doc, std::string_view path) {
  const json* node = &doc;
  if (path.empty()) return node;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    if (dot == std::string_view::npos) dot = path.size();
    std::string segment(path.substr(start, dot - start));
    if (node->is_object()) {
      auto it = node->find(segment);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      Result<uint64_t> index = ParseUint(segment, "index");
      if (!index.ok() || *index >= node->size()) return nullptr;
      node = &(*node)[static_cast<size_t>(*index)];
    } else {
      return nullptr;
    }
    start = dot + 1;
  }
  return node;
}

struct WhereClause {
  std::string path;
  json expected;
};

Result<std::vector<WhereClause>> ParseWhere(const HttpRequest& request) {
  std::vector<WhereClause> out;
  for (const auto& [name, value] : request.query) {
    if (name != "where") continue;
    size_t eq = value.find('=');
    if (eq == std::string::npos) {
      return Status::InvalidArgument("where must be PATH=VALUE, not '" + value + "'");
    }
    WhereClause clause;
    clause.path = value.substr(0, eq);
    if (clause.path == ".") clause.path.clear();
    std::string expected = value.substr(eq + 1);
    clause.expected = kv::json::ParseTree<json>(expected);
    if (clause.expected.is_discarded()) clause.expected = expected;
    out.push_back(std::move(clause));
  }
  return out;
}

// ---------------------------------------------------------- responses

HttpResponse KeyError(const Status& status, const store::Condition& condition) {
  if (status.IsNotFound()) return ErrorResponse(404, "NOT_FOUND", "Key not found");
  if (status.IsPreconditionFailed()) {
    return ErrorResponse(412, "PRECONDITION_FAILED",
                         condition.kind == store::Condition::Kind::kIfAbsent
                             ? "Object already exists"
                             : "Precondition failed");
  }
  return ErrorFromStatus(status);
}

// REQUIRES: `response` has none of these headers yet (they are added, not set).
void SetEntryHeaders(HttpResponse* response, const store::Entry& entry, int64_t now_ms) {
  Headers& h = response->headers;
  h.Add("ETag", Quoted(entry.revision));
  h.Add("KV-Revision", std::to_string(entry.revision));
  if (entry.create_revision > 0) h.Add("KV-Created-Revision", std::to_string(entry.create_revision));
  if (entry.updated_ms > 0) h.Add("Last-Modified", HttpDate(entry.updated_ms));
  if (entry.created_ms > 0) h.Add("X-Created-At", IsoTime(entry.created_ms));
  if (entry.expire_at_ms > 0) {
    h.Add("KV-Expires-At", std::to_string(entry.expire_at_ms));
    h.Add("KV-TTL-Ms", std::to_string(std::max<int64_t>(0, entry.expire_at_ms - now_ms)));
  }
}

std::string_view ContentTypeOf(const std::string& stored) {
  return stored.empty() ? std::string_view(kOctetStream) : std::string_view(stored);
}

std::string MetaJson(const store::Entry& entry, const NamespaceRef& ns, int64_t now_ms) {
  JsonObject o;
  PutKey(o, entry.key);
  o.Str("namespace", ns.ns).Str("app", ns.app);
  o.Str("etag", std::to_string(entry.revision)).Uint("revision", entry.revision);
  o.Uint("create_revision", entry.create_revision).Uint("size", entry.value_size);
  o.Str("content_type", ContentTypeOf(entry.content_type));
  o.Int("created_ms", entry.created_ms).Int("updated_ms", entry.updated_ms);
  o.MsOrNull("expire_at_ms", entry.expire_at_ms, /*zero_is_null=*/true);
  o.MsOrNull("ttl_ms", entry.expire_at_ms > 0 ? std::max<int64_t>(0, entry.expire_at_ms - now_ms)
                                             : -1,
             /*zero_is_null=*/false);
  return o.Done();
}

HttpResponse MetaResponse(int status, const store::Entry& entry, const NamespaceRef& ns,
                          int64_t now_ms) {
  HttpResponse r = JsonTextResponse(status, MetaJson(entry, ns, now_ms));
  SetEntryHeaders(&r, entry, now_ms);
  return r;
}

// How listings and events carry values (?values=).
enum class ValueForm {
  kNone,
  // As kv's output does (common/json_text.h, one set of rules): a JSON value
  // embedded as its own text, so jq reads it; other text as a string; other
  // bytes in base64.
  kPresented,
  // Every value as its exact bytes, a string or base64: what kv reads, so
  // that a pretty-printed JSON value comes back with its line breaks.
  kBytes,
};

Result<ValueForm> ParseValueForm(std::optional<std::string_view> text, ValueForm unset) {
  if (!text) return unset;
  if (Lower(Trim(*text)) == "bytes") return ValueForm::kBytes;
  Result<bool> on = ParseFlag(text, "values");
  if (!on.ok()) {
    return Status::InvalidArgument("values must be 1, 0 or bytes, not '" + std::string(*text) +
                                   "'");
  }
  return *on ? ValueForm::kPresented : ValueForm::kNone;
}

void PutValueAs(JsonObject& o, const std::string& bytes, std::string_view content_type,
                ValueForm form) {
  if (form == ValueForm::kNone) return;
  std::string text;
  // Bytes: a content type that is not JSON, so nothing is embedded.
  const ValueEncoding encoding =
      EncodeValue(bytes, form == ValueForm::kBytes ? kOctetStream : content_type, &text);
  o.Raw("value", text).Str("encoding", ValueEncodingName(encoding));
}

std::string EventJson(const store::Event& event, const NamespaceRef& ns, ValueForm form) {
  JsonObject o;
  o.Uint("revision", event.revision).Str("type", store::EventTypeName(event.type));
  PutKey(o, event.key);
  o.Str("namespace", ns.ns).Str("app", ns.app);
  o.Int("time_ms", event.time_ms).Uint("size", event.value_size);
  o.Str("content_type", ContentTypeOf(event.content_type));
  o.MsOrNull("expire_at_ms", event.expire_at_ms, /*zero_is_null=*/true);
  if (event.has_value) PutValueAs(o, event.value, event.content_type, form);
  return o.Done();
}

}  // namespace

// ============================================================== NativeApi

NativeApi::NativeApi(store::Store& store, auth::TokenStore& tokens, const ApiOptions& options)
    : store_(store), tokens_(tokens), options_(options) {}

HttpResponse NativeApi::Handle(const HttpRequest& request, std::string_view rest,
                               const Caller& caller) {
  const std::string& method = request.method;
  if (rest.substr(0, 4) == "/kv/") return HandleKey(request, rest.substr(4), caller);
  if (rest.substr(0, 14) == "/admin/tokens/" || rest == "/admin/tokens") {
    return Tokens(request, rest, caller);
  }
  if (rest == "/admin/backup") return WithRoute(Backup(request, caller), "/admin/backup");

  auto with_ns = [&](auto&& fn) -> HttpResponse {
    Result<NamespaceRef> ns = NamespaceFromRequest(request, caller.tenant);
    if (!ns.ok()) return ErrorFromStatus(ns.status());
    return fn(*ns);
  };
  if (rest == "/keys") {
    if (method == "GET") {
      return WithRoute(with_ns([&](const NamespaceRef& ns) { return ListKeys(request, ns); }),
                       "/keys");
    }
    if (method == "DELETE") {
      return WithRoute(with_ns([&](const NamespaceRef& ns) { return Clear(request, ns); }),
                       "/keys");
    }
    return MethodNotAllowed(request, "GET, DELETE", "/keys");
  }
  if (rest == "/batch") {
    if (method != "POST") return MethodNotAllowed(request, "POST", "/batch");
    return WithRoute(with_ns([&](const NamespaceRef& ns) { return Batch(request, ns); }),
                     "/batch");
  }
  if (rest == "/stats") {
    if (method != "GET") return MethodNotAllowed(request, "GET", "/stats");
    return WithRoute(with_ns([&](const NamespaceRef& ns) { return Stats(ns); }), "/stats");
  }
  if (rest == "/namespaces") {
    if (method != "GET") return MethodNotAllowed(request, "GET", "/namespaces");
    return WithRoute(Namespaces(request, caller), "/namespaces");
  }
  if (rest == "/watch") {
    if (method != "GET") return MethodNotAllowed(request, "GET", "/watch");
    return WithRoute(with_ns([&](const NamespaceRef& ns) { return Watch(request, ns); }),
                     "/watch");
  }
  if (rest == "/kv") {
    return WithRoute(BadRequest("key is empty: use /v1/kv/{key}"), "/kv/{key}");
  }
  return WithRoute(ErrorResponse(404, "NOT_FOUND",
                                 "no such route: " + method + " " + std::string(request.path)),
                   "/*");
}

HttpResponse NativeApi::HandleKey(const HttpRequest& request, std::string_view raw_key,
                                  const Caller& caller) {
  const std::string& method = request.method;
  std::string_view action;
  if (method == "POST") {
    for (std::string_view suffix : {"/incr", "/decr", "/expire", "/persist"}) {
      if (raw_key.size() > suffix.size() && EndsWith(raw_key, suffix)) {
        action = suffix.substr(1);
        raw_key.remove_suffix(suffix.size());
        break;
      }
    }
    if (action.empty()) {
      return MethodNotAllowed(request, "GET, HEAD, PUT, PATCH, DELETE", "/kv/{key}");
    }
  } else if (method == "GET" && raw_key.size() > 5 && EndsWith(raw_key, "/meta")) {
    action = "meta";
    raw_key.remove_suffix(5);
  } else if (method != "GET" && method != "HEAD" && method != "PUT" && method != "DELETE" &&
             method != "PATCH") {
    return MethodNotAllowed(request, "GET, HEAD, PUT, PATCH, DELETE", "/kv/{key}");
  }
  std::string route = action.empty() ? "/kv/{key}" : "/kv/{key}/" + std::string(action);

  std::optional<std::string> key = DecodePath(raw_key);
  if (!key) return WithRoute(BadRequest("bad %-escape in the key"), route);
  if (Status s = ValidateKey(*key, options_.max_key_bytes); !s.ok()) {
    if (s.IsTooLarge()) {
      return WithRoute(ErrorResponse(400, "KEY_TOO_LONG",
                                     "Key too long: " + std::to_string(key->size()) +
                                         " bytes, the limit is " +
                                         std::to_string(options_.max_key_bytes)),
                       route);
    }
    return WithRoute(ErrorFromStatus(s), route);
  }
  Result<NamespaceRef> ns = NamespaceFromRequest(request, caller.tenant);
  if (!ns.ok()) return WithRoute(ErrorFromStatus(ns.status()), route);

  HttpResponse response;
  if (action == "incr") {
    response = Incr(request, *ns, *key, false);
  } else if (action == "decr") {
    response = Incr(request, *ns, *key, true);
  } else if (action == "expire") {
    response = Expire(request, *ns, *key);
  } else if (action == "persist") {
    response = Persist(request, *ns, *key);
  } else if (action == "meta") {
    response = Meta(*ns, *key);
  } else if (method == "GET") {
    response = Get(request, *ns, *key, false);
  } else if (method == "HEAD") {
    response = Get(request, *ns, *key, true);
  } else if (method == "PUT") {
    response = Put(request, *ns, *key);
  } else if (method == "DELETE") {
    response = Delete(request, *ns, *key);
  } else {
    response = Patch(request, *ns, *key);
  }
  response.route = std::move(route);
  return response;
}

HttpResponse NativeApi::Put(const HttpRequest& request, const NamespaceRef& ns,
                            const std::string& key) {
  if (request.body.size() > options_.max_value_bytes) {
    return ErrorResponse(413, "OBJECT_TOO_LARGE",
                         "Object too large: " + std::to_string(request.body.size()) +
                             " bytes, the limit is " + std::to_string(options_.max_value_bytes));
  }
  Result<std::optional<int64_t>> ttl = ParseTtl(request);
  if (!ttl.ok()) return ErrorFromStatus(ttl.status());
  std::optional<std::string_view> keep_text = request.Query("keep_ttl");
  if (!keep_text) keep_text = request.headers.Get("KV-Keep-TTL");
  Result<bool> keep_ttl = ParseFlag(keep_text, "keep_ttl");
  if (!keep_ttl.ok()) return ErrorFromStatus(keep_ttl.status());
  if (*keep_ttl && ttl->has_value()) return BadRequest("give either a TTL or keep_ttl, not both");
  Result<store::Condition> condition = ParseCondition(request);
  if (!condition.ok()) return ErrorFromStatus(condition.status());

  store::PutOptions options;
  auto content_type = request.headers.Get("Content-Type");
  options.content_type =
      content_type && !Trim(*content_type).empty() ? Trim(*content_type) : kOctetStream;
  options.ttl_ms = ttl->value_or(0);
  options.keep_ttl = *keep_ttl;
  options.condition = *condition;

  Result<store::WriteResult> result = store_.Put(ns.StoreName(), key, request.body, options);
  if (!result.ok()) return KeyError(result.status(), *condition);
  const store::Entry& entry = result->entry;
  // {"success":true,"etag":"7","revision":7,"created":true,"expire_at_ms":null},
  // as nlohmann's ordered_json would print it, without building one.
  const std::string revision = std::to_string(entry.revision);
  HttpResponse response;
  response.status = result->created ? 201 : 200;
  std::string& body = response.body;
  body.reserve(96);
  body.append("{\"success\":true,\"etag\":\"").append(revision).append("\",\"revision\":");
  body.append(revision).append(",\"created\":").append(result->created ? "true" : "false");
  body.append(",\"expire_at_ms\":");
  if (entry.expire_at_ms > 0) {
    body.append(std::to_string(entry.expire_at_ms));
  } else {
    body.append("null");
  }
  body.push_back('}');
  response.headers.Add("Content-Type", kJsonType);
  response.headers.Add("ETag", "\"" + revision + "\"");
  response.headers.Add("KV-Revision", revision);
  if (entry.expire_at_ms > 0) response.headers.Add("KV-Expires-At", std::to_string(entry.expire_at_ms));
  return response;
}

HttpResponse NativeApi::Get(const HttpRequest& request, const NamespaceRef& ns,
                            const std::string& key, bool head) {
  Result<store::Entry> entry = head ? store_.Head(ns.StoreName(), key)
                                    : store_.Get(ns.StoreName(), key);
  if (!entry.ok()) return KeyError(entry.status(), {});
  int64_t now = store_.NowMs();

  HttpResponse response;
  if (auto none_match = request.headers.Get("If-None-Match")) {
    for (const std::string& tag : SplitList(*none_match)) {
      if (tag == "*" || ParseEtag(tag) == entry->revision) {
        response.status = 304;
        SetEntryHeaders(&response, *entry, now);
        return response;
      }
    }
  }
  response.status = 200;
  response.headers.Add("Content-Type",
                       entry->content_type.empty() ? kOctetStream : std::move(entry->content_type));
  SetEntryHeaders(&response, *entry, now);
  if (head) {
    response.headers.Add("Content-Length", std::to_string(entry->value_size));
  } else {
    response.body = std::move(entry->value);
  }
  return response;
}

HttpResponse NativeApi::Delete(const HttpRequest& request, const NamespaceRef& ns,
                               const std::string& key) {
  Result<store::Condition> condition = ParseCondition(request);
  if (!condition.ok()) return ErrorFromStatus(condition.status());
  Result<uint64_t> revision = store_.Delete(ns.StoreName(), key, *condition);
  if (!revision.ok()) return KeyError(revision.status(), *condition);
  HttpResponse response;
  response.status = 204;
  response.headers.Set("KV-Revision", std::to_string(*revision));
  return response;
}

HttpResponse NativeApi::Patch(const HttpRequest& request, const NamespaceRef& ns,
                              const std::string& key) {
  auto content_type = request.headers.Get("Content-Type");
  std::string media = content_type ? MediaType(*content_type) : std::string();
  if (media != "application/merge-patch+json" && media != kJsonType) {
    return ErrorResponse(415, "UNSUPPORTED_MEDIA_TYPE",
                         "PATCH takes a JSON merge patch: send Content-Type: "
                         "application/merge-patch+json");
  }
  if (kv::json::NestsDeeperThan(request.body, kv::json::kMaxTreeDepth)) {
    return BadRequest(kv::json::TooDeep("the merge patch"));
  }
  if (!kv::json::Valid(request.body)) {
    return BadRequest("the merge patch is not valid JSON");
  }
  Result<store::Condition> condition = ParseCondition(request);
  if (!condition.ok()) return ErrorFromStatus(condition.status());
  Result<store::WriteResult> result =
      store_.Patch(ns.StoreName(), key, request.body, *condition);
  if (!result.ok()) {
    if (result.status().IsInvalidArgument()) {
      return ErrorResponse(409, "TYPE_MISMATCH", result.status().message());
    }
    return KeyError(result.status(), *condition);
  }
  HttpResponse response;
  response.status = result->created ? 201 : 200;
  response.headers.Set("Content-Type", kJsonType);
  response.headers.Set("ETag", Quoted(result->entry.revision));
  response.headers.Set("KV-Revision", std::to_string(result->entry.revision));
  response.body = std::move(result->entry.value);
  return response;
}

HttpResponse NativeApi::Incr(const HttpRequest& request, const NamespaceRef& ns,
                             const std::string& key, bool decrement) {
  std::optional<std::string_view> by_query = request.Query("by");
  std::string body = Trim(request.body);
  if (by_query && !body.empty()) return BadRequest("give the amount once: ?by= or the body");
  int64_t by = 1;
  if (by_query) {
    Result<int64_t> n = ParseInt64(*by_query, "by");
    if (!n.ok()) return ErrorFromStatus(n.status());
    by = *n;
  } else if (!body.empty() && body.front() == '{') {
    json doc = kv::json::ParseTree<json>(body);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("by") ||
        !doc["by"].is_number_integer()) {
      return BadRequest("the body must be an integer or {\"by\": integer}");
    }
    if (doc["by"].is_number_unsigned() &&
        doc["by"].get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return BadRequest("by is out of range");
    }
    by = doc["by"].get<int64_t>();
  } else if (!body.empty()) {
    Result<int64_t> n = ParseInt64(body, "the amount");
    if (!n.ok()) return ErrorFromStatus(n.status());
    by = *n;
  }
  if (decrement) {
    if (by == std::numeric_limits<int64_t>::min()) return BadRequest("by is out of range");
    by = -by;
  }
  Result<store::Condition> condition = ParseCondition(request);
  if (!condition.ok()) return ErrorFromStatus(condition.status());
  Result<store::WriteResult> result = store_.Incr(ns.StoreName(), key, by, *condition);
  if (!result.ok()) {
    if (result.status().IsInvalidArgument()) {
      return ErrorResponse(409, "TYPE_MISMATCH", result.status().message());
    }
    return KeyError(result.status(), *condition);
  }
  HttpResponse response;
  response.status = result->created ? 201 : 200;
  response.headers.Set("Content-Type", kJsonType);
  response.headers.Set("ETag", Quoted(result->entry.revision));
  response.headers.Set("KV-Revision", std::to_string(result->entry.revision));
  response.body = std::move(result->entry.value);
  return response;
}

HttpResponse NativeApi::Expire(const HttpRequest& request, const NamespaceRef& ns,
                               const std::string& key) {
  Result<std::optional<int64_t>> ttl = ParseTtl(request);
  if (!ttl.ok()) return ErrorFromStatus(ttl.status());
  std::string body = Trim(request.body);
  if (ttl->has_value() && !body.empty()) {
    return BadRequest("give the TTL once: in the query, the KV-TTL header or the body");
  }
  int64_t ttl_ms = ttl->value_or(0);
  if (!body.empty()) {
    json doc = kv::json::ParseTree<json>(body);
    if (doc.is_discarded() || !doc.is_object()) {
      return BadRequest("the body must be {\"ttl_ms\": N} or {\"ttl\": \"30s\"}");
    }
    if (doc.contains("ttl_ms") && doc.contains("ttl")) {
      return BadRequest("give either ttl_ms or ttl, not both");
    }
    if (doc.contains("ttl_ms")) {
      if (!doc["ttl_ms"].is_number_integer() || doc["ttl_ms"].get<int64_t>() <= 0 ||
          (doc["ttl_ms"].is_number_unsigned() &&
           doc["ttl_ms"].get<uint64_t>() >
               static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
        return BadRequest("ttl_ms must be a positive integer");
      }
      ttl_ms = doc["ttl_ms"].get<int64_t>();
    } else if (doc.contains("ttl") && doc["ttl"].is_string()) {
      Result<int64_t> ms = ParseDurationMs(doc["ttl"].get<std::string>());
      if (!ms.ok()) return BadRequest("bad ttl: " + ms.status().message());
      ttl_ms = *ms;
    } else {
      return BadRequest("the body must be {\"ttl_ms\": N} or {\"ttl\": \"30s\"}");
    }
  }
  if (ttl_ms <= 0) {
    return BadRequest("give the TTL: ?ttl=30s, KV-TTL: 30s or {\"ttl_ms\": 30000}");
  }
  Result<store::Condition> condition = ParseCondition(request);
  if (!condition.ok()) return ErrorFromStatus(condition.status());
  Result<store::WriteResult> result = store_.Expire(ns.StoreName(), key, ttl_ms, *condition);
  if (!result.ok()) return KeyError(result.status(), *condition);
  return MetaResponse(200, result->entry, ns, store_.NowMs());
}

HttpResponse NativeApi::Persist(const HttpRequest& request, const NamespaceRef& ns,
                                const std::string& key) {
  Result<store::Condition> condition = ParseCondition(request);
  if (!condition.ok()) return ErrorFromStatus(condition.status());
  Result<store::WriteResult> result = store_.Persist(ns.StoreName(), key, *condition);
  if (!result.ok()) return KeyError(result.status(), *condition);
  return MetaResponse(200, result->entry, ns, store_.NowMs());
}

HttpResponse NativeApi::Meta(const NamespaceRef& ns, const std::string& key) {
  Result<store::Entry> entry = store_.Head(ns.StoreName(), key);
  if (!entry.ok()) return KeyError(entry.status(), {});
  return MetaResponse(200, *entry, ns, store_.NowMs());
}

HttpResponse NativeApi::ListKeys(const HttpRequest& request, const NamespaceRef& ns) {
  store::ListOptions options;
  if (auto prefix = request.Query("prefix")) options.prefix = std::string(*prefix);
  if (auto cursor = request.Query("cursor")) options.cursor = std::string(*cursor);
  if (auto limit = request.Query("limit")) {
    Result<uint64_t> n = ParseUint(*limit, "limit");
    if (!n.ok() || *n < 1 || *n > store::kMaxListLimit) {
      return BadRequest("limit must be an integer from 1 to " +
                        std::to_string(store::kMaxListLimit) + ", not '" + std::string(*limit) +
                        "'");
    }
    options.limit = static_cast<size_t>(*n);
  }
  Result<ValueForm> values = ParseValueForm(request.Query("values"), ValueForm::kNone);
  if (!values.ok()) return ErrorFromStatus(values.status());
  options.values = *values != ValueForm::kNone;
  Result<std::vector<WhereClause>> where = ParseWhere(request);
  if (!where.ok()) return ErrorFromStatus(where.status());
  std::string contains = Lower(request.Query("contains").value_or(""));
  if (!where->empty() || !contains.empty()) {
    options.filter = [clauses = std::move(*where), contains](const store::Entry& entry) {
      if (!contains.empty() && Lower(entry.key).find(contains) == std::string::npos) return false;
      if (clauses.empty()) return true;
      json doc = kv::json::ParseTree<json>(entry.value);
      if (doc.is_discarded()) return false;
      for (const WhereClause& clause : clauses) {
        const json* node = FollowPath(doc, clause.path);
        if (node == nullptr || *node != clause.expected) return false;
      }
      return true;
    };
  }

  Result<store::ListPage> page = store_.List(ns.StoreName(), options);
  if (!page.ok()) return ErrorFromStatus(page.status());
  std::string keys = "[";
  for (const store::Entry& entry : page->entries) {
    JsonObject item;
    PutKey(item, entry.key);
    item.Str("etag", std::to_string(entry.revision)).Uint("revision", entry.revision);
    item.Uint("size", entry.value_size).Str("content_type", ContentTypeOf(entry.content_type));
    item.Int("updated_ms", entry.updated_ms);
    item.MsOrNull("expire_at_ms", entry.expire_at_ms, /*zero_is_null=*/true);
    PutValueAs(item, entry.value, entry.content_type, *values);
    if (keys.size() > 1) keys.push_back(',');
    keys += item.Done();
  }
  keys.push_back(']');
  JsonObject body;
  body.Raw("keys", keys);
  if (page->next_cursor.empty()) {
    body.Null("next_cursor");
  } else {
    body.Str("next_cursor", page->next_cursor);
  }
  return JsonTextResponse(200, body.Done());
}

HttpResponse NativeApi::Clear(const HttpRequest& request, const NamespaceRef& ns) {
  // Under a prefix the request names what goes, as etcd's range delete;
  // the whole namespace needs ?confirm=1.
  const std::string prefix(request.Query("prefix").value_or(""));
  if (!prefix.empty()) {
    Result<uint64_t> deleted = store_.Clear(ns.StoreName(), prefix);
    if (!deleted.ok()) return ErrorFromStatus(deleted.status());
    return JsonResponse(200, {{"deleted", *deleted}});
  }
  std::optional<std::string_view> confirm_text = request.Query("confirm");
  if (!confirm_text) confirm_text = request.headers.Get("KV-Confirm");
  Result<bool> confirm = ParseFlag(confirm_text, "confirm");
  if (!confirm.ok()) return ErrorFromStatus(confirm.status());
  if (!*confirm) {
    return ErrorResponse(400, "CONFIRMATION_REQUIRED",
                         "this deletes every key of namespace '" + ns.ns + "' (app '" + ns.app +
                             "'): add ?confirm=1 to do it");
  }
  Result<uint64_t> deleted = store_.Clear(ns.StoreName());
  if (!deleted.ok()) return ErrorFromStatus(deleted.status());
  return JsonResponse(200, {{"deleted", *deleted}});
}

HttpResponse NativeApi::Stats(const NamespaceRef& ns) {
  Result<store::Usage> usage = store_.Stats(ns.StoreName());
  store::Usage u;
  if (usage.ok()) {
    u = *usage;
  } else if (usage.status().IsNotFound()) {
    u.quota_bytes = store_.options().default_quota_bytes;
  } else {
    return ErrorFromStatus(usage.status());
  }
  json body = {{"namespace", ns.ns},          {"app", ns.app},
               {"keys", u.keys},              {"bytes", u.bytes},
               {"quota_bytes", u.quota_bytes}, {"revision", store_.CommittedRevision()}};
  return JsonResponse(200, body);
}

HttpResponse NativeApi::Namespaces(const HttpRequest& request, const Caller& caller) {
  Result<bool> all = ParseFlag(request.Query("all"), "all");
  if (!all.ok()) return ErrorFromStatus(all.status());
  if (*all && !caller.admin) {
    return ErrorResponse(403, "FORBIDDEN",
                         "?all=1 lists every tenant's namespaces: only over kvd's Unix socket");
  }
  json list = json::array();
  for (const store::Usage& usage : store_.ListNamespaces()) {
    std::optional<NamespaceRef> ref = ParseStoreNamespace(usage.ns);
    if (!ref || (!*all && ref->tenant != caller.tenant)) continue;
    list.push_back({{"tenant", ref->tenant},
                    {"namespace", ref->ns},
                    {"app", ref->app},
                    {"keys", usage.keys},
                    {"bytes", usage.bytes},
                    {"quota_bytes", usage.quota_bytes}});
  }
  return JsonResponse(200, {{"namespaces", std::move(list)}});
}

HttpResponse NativeApi::Watch(const HttpRequest& request, const NamespaceRef& ns) {
  std::string prefix;
  if (auto p = request.Query("prefix")) prefix = std::string(*p);
  Result<ValueForm> value_form = ParseValueForm(request.Query("values"), ValueForm::kPresented);
  if (!value_form.ok()) return ErrorFromStatus(value_form.status());
  Result<bool> follow = ParseFlag(request.Query("follow"), "follow");
  if (!follow.ok()) return ErrorFromStatus(follow.status());
  if (!request.Query("follow")) *follow = true;
  uint64_t since = store_.CommittedRevision();
  if (auto s = request.Query("since")) {
    Result<uint64_t> n = ParseUint(*s, "since");
    if (!n.ok()) return ErrorFromStatus(n.status());
    since = *n;
  }
  // Read the first batch now, so that a trimmed `since` is a plain 410.
  uint64_t committed = store_.CommittedRevision();
  Result<std::vector<store::Event>> first = store_.ReadEvents(since, kWatchBatch);
  if (!first.ok()) {
    if (first.status().IsOutOfRange()) {
      return ErrorResponse(410, "REVISION_GONE",
                           "events after revision " + std::to_string(since) +
                               " are no longer kept (the log starts after revision " +
                               std::to_string(store_.EventFloor()) +
                               "): list the keys again, then watch from the current revision");
    }
    return ErrorFromStatus(first.status());
  }

  HttpResponse response;
  response.status = 200;
  response.headers.Set("Content-Type", "application/x-ndjson");
  response.headers.Set("Cache-Control", "no-store");
  response.headers.Set("KV-Revision", std::to_string(since));
  std::string store_ns = ns.StoreName();
  response.stream = [this, ns, store_ns = std::move(store_ns), prefix = std::move(prefix),
                     follow = *follow, values = *value_form, since, committed,
                     batch = std::move(*first)](StreamWriter& writer) mutable {
    uint64_t cursor = since;
    // Events up to `end` have been seen once `cursor` reaches it; without
    // follow the stream ends there.
    const uint64_t end = committed;
    // A client that leaves wakes the wait for events below at once.
    writer.SetOnClosed([this] { store_.WakeRevisionWaiters(); });
    for (;;) {
      std::string chunk;
      bool done = false;
      for (const store::Event& event : batch) {
        if (!follow && event.revision > end) {
          done = true;
          break;
        }
        cursor = std::max(cursor, event.revision);
        if (event.ns != store_ns || event.key.compare(0, prefix.size(), prefix) != 0) continue;
        chunk += EventJson(event, ns, values);
        chunk += '\n';
      }
      if (!chunk.empty() && !writer.Write(chunk)) return;
      if (done) return;
      if (batch.size() < kWatchBatch) {
        // Everything up to `committed` has been read (revisions without an
        // event were abandoned writes).
        cursor = std::max(cursor, committed);
        if (!follow && cursor >= end) return;
        // Sleep until there is something new or the client leaves: an idle
        // watch costs kvd nothing.
        auto gone = [&writer] { return writer.Closed(); };
        while (!gone() && store_.WaitForRevision(cursor, kWatchIdleMs, gone) <= cursor) {
        }
      }
      if (writer.Closed()) return;
      committed = store_.CommittedRevision();
      Result<std::vector<store::Event>> next = store_.ReadEvents(cursor, kWatchBatch);
      if (!next.ok()) {
        int status = HttpStatusFor(next.status().code());
        writer.Write(ErrorBody(status, ErrorCodeFor(next.status().code()),
                               next.status().IsOutOfRange()
                                   ? "events after revision " + std::to_string(cursor) +
                                         " were trimmed before this watch read them"
                                   : next.status().message()) +
                     "\n");
        return;
      }
      batch = std::move(*next);
    }
  };
  return response;
}

HttpResponse NativeApi::Backup(const HttpRequest& request, const Caller& caller) {
  if (!caller.admin) {
    return ErrorResponse(403, "FORBIDDEN", "backups are only available over kvd's Unix socket");
  }
  if (request.method != "POST") return MethodNotAllowed(request, "POST", "/admin/backup");
  json doc = kv::json::ParseTree<json>(request.body);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("dir") || !doc["dir"].is_string()) {
    return BadRequest("the body must be {\"dir\": \"/absolute/path\"}");
  }
  const std::string dir = doc["dir"];
  if (dir.empty() || dir.front() != '/') {
    return BadRequest("the backup directory must be an absolute path, not '" + dir + "'");
  }
  // kvd makes the directory itself, so that it never writes into one that
  // holds something already.
  if (::mkdir(dir.c_str(), 0700) != 0) {
    const int err = errno;
    if (err == EEXIST) return BadRequest(dir + " exists: back up into a new directory");
    if (err == ENOENT) return BadRequest("the parent directory of " + dir + " does not exist");
    return ErrorFromStatus(Status::IOError("cannot create " + dir + ": " + std::strerror(err)));
  }
  // On a thread of its own: a copy to another filesystem takes as long as
  // copying every file, and the connections on this I/O thread must not
  // wait for it. kvd's shutdown waits for it before the store closes.
  HttpResponse response;
  response.deferred = [this, dir] {
    Status s = store_.Backup(dir + "/db");
    if (s.ok()) s = tokens_.SaveCopy(dir + "/tokens.json");
    if (!s.ok()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
      return WithRoute(ErrorFromStatus(s), "/admin/backup");
    }
    return WithRoute(JsonResponse(201, {{"dir", dir}}), "/admin/backup");
  };
  return response;
}

HttpResponse NativeApi::Tokens(const HttpRequest& request, std::string_view rest,
                               const Caller& caller) {
  const bool collection = rest == "/admin/tokens";
  std::string route = collection ? "/admin/tokens" : "/admin/tokens/{id}";
  if (!caller.admin) {
    return WithRoute(ErrorResponse(403, "FORBIDDEN",
                                   "token administration is only available over kvd's Unix "
                                   "socket"),
                     route);
  }
  if (collection) {
    if (request.method == "GET") {
      json list = json::array();
      for (const auth::TokenInfo& info : tokens_.List()) {
        list.push_back(
            {{"id", info.id}, {"tenant", info.tenant}, {"created_ms", info.created_ms}});
      }
      return WithRoute(JsonResponse(200, {{"tokens", std::move(list)}}), route);
    }
    if (request.method == "POST") {
      json doc = kv::json::ParseTree<json>(request.body);
      if (doc.is_discarded() || !doc.is_object() || !doc.contains("tenant") ||
          !doc["tenant"].is_string()) {
        return WithRoute(BadRequest("the body must be {\"tenant\": \"NAME\"}"), route);
      }
      Result<auth::NewToken> token = tokens_.Create(doc["tenant"].get<std::string>());
      if (!token.ok()) return WithRoute(ErrorFromStatus(token.status()), route);
      json body = {{"id", token->info.id},
                   {"tenant", token->info.tenant},
                   {"created_ms", token->info.created_ms},
                   {"token", token->token}};
      HttpResponse response = JsonResponse(201, body);
      response.headers.Set("Cache-Control", "no-store");
      return WithRoute(std::move(response), route);
    }
    return MethodNotAllowed(request, "GET, POST", route);
  }
  if (request.method != "DELETE") return MethodNotAllowed(request, "DELETE", route);
  std::optional<std::string> id = DecodePath(rest.substr(14));
  if (!id || id->empty()) return WithRoute(BadRequest("bad token id"), route);
  if (Status s = tokens_.Revoke(*id); !s.ok()) return WithRoute(ErrorFromStatus(s), route);
  HttpResponse response;
  response.status = 204;
  return WithRoute(std::move(response), route);
}

}  // namespace kv::daemon
