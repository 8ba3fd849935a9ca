// Webhook: one registration of simple-golang-kv's webhook API, as kvd keeps
// it. The store holds its JSON (ToJson) as an opaque definition beside its
// delivery progress (store.h, StoredWebhook); the dispatcher and the route
// tables go through this file to read, validate, match and render it.
//
// The JSON is simple-golang-kv's, field for field:
//   {"id","namespace","appName","key","event","endpoint","method",
//    "headers"?,"payload"?,"add_event_data","created_at"}
// (headers and payload are left out when empty, created_at is Unix seconds).
//
// Thread-safety: plain values and free functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "daemon/store/layout.h"

namespace kv::daemon::webhooks {

using Json = nlohmann::ordered_json;

struct Webhook {
  std::string id;          // a UUID v4
  std::string ns;          // the namespace name (KV-Namespace), not the store's
  std::string app;         // the app name (KV-App-Name)
  std::string key;         // "foo": exactly that key; "foo*": every key starting with foo
  std::string event;       // create, update or delete
  std::string endpoint;    // http:// or https:// URL
  std::string method = "POST";  // as given (checked case-insensitively)
  Json headers = Json::object();  // name -> value, both strings
  Json payload = Json::object();  // any JSON object
  bool add_event_data = false;
  int64_t created_at = 0;  // Unix seconds
};

// The fields a request may set: what POST /webhooks and PUT /webhooks/{id}
// carry. Absent fields stay nullopt.
struct WebhookFields {
  std::optional<std::string> key, event, endpoint, method;
  std::optional<Json> headers, payload;
  std::optional<bool> add_event_data;
};

// Reads a request body. InvalidArgument "Invalid input" when it is not a JSON
// object or a field has the wrong type (simple-golang-kv's bind error).
Result<WebhookFields> ParseFields(std::string_view body);

// A new webhook from POST's fields, checked in simple-golang-kv's order.
// InvalidArgument with its messages: "Key must not be empty", "Event must not
// be empty", "Endpoint must not be empty", "Invalid method", "Event must be
// one of: create, update, delete", and kvd's own "Endpoint must be an http or
// https URL".
Result<Webhook> NewWebhook(const WebhookFields& fields);
// Applies PUT's fields: each one present and non-empty replaces the current
// value. InvalidArgument as NewWebhook.
Status ApplyUpdate(const WebhookFields& fields, Webhook* webhook);

Json ToJson(const Webhook& webhook);
// Corruption when the stored definition is not a webhook.
Result<Webhook> FromJson(std::string_view definition);

// A random UUID v4, "550e8400-e29b-41d4-a716-446655440000".
std::string NewId();

// The webhook event a store event is: create, update, or delete (delete and
// expire both).
const char* WebhookEventName(store::EventType type);
// True when the webhook wants this change of a key of its namespace.
bool Matches(const Webhook& webhook, const store::Event& event);
// What is sent: the custom payload, plus "event":{event, namespace, appName,
// key, value, ttl?, expire_at?, timestamp} when add_event_data; "" when both
// are empty.
std::string DeliveryBody(const Webhook& webhook, const store::Event& event);

}  // namespace kv::daemon::webhooks
