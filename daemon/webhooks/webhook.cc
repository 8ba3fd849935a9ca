#include "daemon/webhooks/webhook.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <random>

#include "common/json_flat.h"

namespace kv::daemon::webhooks {
namespace {

Status InvalidInput() { return Status::InvalidArgument("Invalid input"); }

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool ValidMethod(std::string_view method) {
  static constexpr std::string_view kMethods[] = {"GET",   "POST",    "PUT", "DELETE",
                                                  "PATCH", "OPTIONS", "HEAD"};
  const std::string upper = Upper(method);
  return std::find(std::begin(kMethods), std::end(kMethods), upper) != std::end(kMethods);
}

bool ValidEvent(std::string_view event) {
  return event == "create" || event == "update" || event == "delete";
}

// simple-golang-kv does not check endpoints; kvd does, since a webhook that
// can never be delivered would only fill its log with failures.
bool ValidEndpoint(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.size() > scheme.size() && url.substr(0, scheme.size()) == scheme) return true;
  }
  return false;
}

Status CheckEventMethodEndpoint(const Webhook& w) {
  if (!ValidMethod(w.method)) return Status::InvalidArgument("Invalid method");
  if (!ValidEvent(w.event)) {
    return Status::InvalidArgument("Event must be one of: create, update, delete");
  }
  if (!ValidEndpoint(w.endpoint)) {
    return Status::InvalidArgument("Endpoint must be an http or https URL");
  }
  return Status::Ok();
}

bool IsStringMap(const Json& j) {
  return j.is_object() &&
         std::all_of(j.begin(), j.end(), [](const Json& v) { return v.is_string(); });
}

}  // namespace

Result<WebhookFields> ParseFields(std::string_view body) {
  Json j = kv::json::ParseTree<Json>(body);
  if (j.is_discarded() || !j.is_object()) return InvalidInput();
  WebhookFields f;
  auto text = [&](const char* name, std::optional<std::string>* out) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return true;
    if (!it->is_string()) return false;
    *out = it->get<std::string>();
    return true;
  };
  if (!text("key", &f.key) || !text("event", &f.event) || !text("endpoint", &f.endpoint) ||
      !text("method", &f.method)) {
    return InvalidInput();
  }
  if (auto it = j.find("headers"); it != j.end() && !it->is_null()) {
    if (!IsStringMap(*it)) return InvalidInput();
    f.headers = *it;
  }
  if (auto it = j.find("payload"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidInput();
    f.payload = *it;
  }
  if (auto it = j.find("add_event_data"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) return InvalidInput();
    f.add_event_data = it->get<bool>();
  }
  return f;
}

Result<Webhook> NewWebhook(const WebhookFields& f) {
  if (!f.key || f.key->empty()) return Status::InvalidArgument("Key must not be empty");
  if (!f.event || f.event->empty()) return Status::InvalidArgument("Event must not be empty");
  if (!f.endpoint || f.endpoint->empty()) {
    return Status::InvalidArgument("Endpoint must not be empty");
  }
  Webhook w;
  w.key = *f.key;
  w.event = *f.event;
  w.endpoint = *f.endpoint;
  if (f.method && !f.method->empty()) w.method = *f.method;
  if (f.headers) w.headers = *f.headers;
  if (f.payload) w.payload = *f.payload;
  w.add_event_data = f.add_event_data.value_or(false);
  if (Status s = CheckEventMethodEndpoint(w); !s.ok()) return s;
  w.id = NewId();
  w.created_at = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  return w;
}

Status ApplyUpdate(const WebhookFields& f, Webhook* webhook) {
  Webhook w = *webhook;
  if (f.key && !f.key->empty()) w.key = *f.key;
  if (f.event && !f.event->empty()) w.event = *f.event;
  if (f.endpoint && !f.endpoint->empty()) w.endpoint = *f.endpoint;
  if (f.method && !f.method->empty()) w.method = *f.method;
  if (f.headers && !f.headers->empty()) w.headers = *f.headers;
  if (f.payload && !f.payload->empty()) w.payload = *f.payload;
  if (f.add_event_data) w.add_event_data = *f.add_event_data;
  if (Status s = CheckEventMethodEndpoint(w); !s.ok()) return s;
  *webhook = std::move(w);
  return Status::Ok();
}

Json ToJson(const Webhook& w) {
  Json j = Json::object();
  j["id"] = w.id;
  j["namespace"] = w.ns;
  j["appName"] = w.app;
  j["key"] = w.key;
  j["event"] = w.event;
  j["endpoint"] = w.endpoint;
  j["method"] = w.method;
  if (!w.headers.empty()) j["headers"] = w.headers;
  if (!w.payload.empty()) j["payload"] = w.payload;
  j["add_event_data"] = w.add_event_data;
  j["created_at"] = w.created_at;
  return j;
}

Result<Webhook> FromJson(std::string_view definition) {
  Json j = kv::json::ParseTree<Json>(definition);
  auto bad = [] { return Status::Corruption("stored webhook is damaged"); };
  if (j.is_discarded() || !j.is_object()) return bad();
  Webhook w;
  for (auto [name, out] : {std::pair{"id", &w.id}, {"namespace", &w.ns}, {"appName", &w.app},
                           {"key", &w.key}, {"event", &w.event}, {"endpoint", &w.endpoint},
                           {"method", &w.method}}) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return bad();
    *out = it->get<std::string>();
  }
  if (auto it = j.find("headers"); it != j.end()) {
    if (!IsStringMap(*it)) return bad();
    w.headers = *it;
  }
  if (auto it = j.find("payload"); it != j.end()) {
    if (!it->is_object()) return bad();
    w.payload = *it;
  }
  if (auto it = j.find("add_event_data"); it != j.end()) {
    if (!it->is_boolean()) return bad();
    w.add_event_data = it->get<bool>();
  }
  if (auto it = j.find("created_at"); it != j.end()) {
    if (!it->is_number_integer()) return bad();
    w.created_at = it->get<int64_t>();
  }
  return w;
}

std::string NewId() {
  std::random_device rd;
  unsigned char b[16];
  for (int i = 0; i < 16; i += 4) {
    uint32_t r = rd();
    for (int k = 0; k < 4; ++k) b[i + k] = static_cast<unsigned char>(r >> (8 * k));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                b[14], b[15]);
  return out;
}

const char* WebhookEventName(store::EventType type) {
  switch (type) {
    case store::EventType::kCreate: return "create";
    case store::EventType::kUpdate: return "update";
    case store::EventType::kDelete:
    case store::EventType::kExpire: return "delete";
  }
  return "unknown";
}

bool Matches(const Webhook& w, const store::Event& e) {
  if (w.event != WebhookEventName(e.type)) return false;
  std::string_view pattern = w.key;
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return std::string_view(e.key).substr(0, pattern.size()) == pattern;
  }
  return e.key == pattern;
}

std::string DeliveryBody(const Webhook& w, const store::Event& e) {
  if (w.payload.empty() && !w.add_event_data) return "";
  Json body = w.payload.is_object() ? w.payload : Json::object();
  if (w.add_event_data) {
    Json event = Json::object();
    event["event"] = WebhookEventName(e.type);
    event["namespace"] = w.ns;
    event["appName"] = w.app;
    event["key"] = e.key;
    event["value"] = e.has_value ? Json(e.value) : Json(nullptr);
    if (e.expire_at_ms > 0) {
      const int64_t left_ms = std::max<int64_t>(0, e.expire_at_ms - e.time_ms);
      event["ttl"] = (left_ms + 999) / 1000;
      event["expire_at"] = e.expire_at_ms / 1000;
    }
    event["timestamp"] = e.time_ms / 1000;
    body["event"] = std::move(event);
  }
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace kv::daemon::webhooks
