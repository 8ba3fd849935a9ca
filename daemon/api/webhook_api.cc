#include "daemon/api/webhook_api.h"

#include <string>
#include <utility>

#include "daemon/api/errors.h"
#include "daemon/api/sgkv_shared.h"
#include "daemon/webhooks/webhook.h"

namespace kv::daemon {
namespace {

using webhooks::Json;

HttpResponse JsonAnswer(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

HttpResponse WithRoute(HttpResponse r, std::string route) {
  r.route = std::move(route);
  return r;
}

Json NullIfZero(int64_t n) { return n != 0 ? Json(n) : Json(nullptr); }

Json DeliveryJson(const store::WebhookProgress& p, uint64_t committed) {
  Json d = Json::object();
  d["cursor"] = p.cursor;
  d["lag"] = committed > p.cursor ? committed - p.cursor : 0;
  d["delivered"] = p.delivered;
  d["failed"] = p.failed;
  d["attempts"] = p.attempts;
  d["last_status"] = NullIfZero(p.last_status);
  d["last_error"] = p.last_error.empty() ? Json(nullptr) : Json(p.last_error);
  d["last_attempt_ms"] = NullIfZero(p.last_attempt_ms);
  d["last_success_ms"] = NullIfZero(p.last_success_ms);
  return d;
}

}  // namespace

WebhookApi::WebhookApi(store::Store& store, Style style, const SgkvOptions& sgkv)
    : store_(store), style_(style), sgkv_(sgkv) {}

HttpResponse WebhookApi::Error(int status, std::string_view code, std::string_view message) const {
  if (style_ == Style::kNative) return ErrorResponse(status, code, message);
  return SgkvError(status, message);
}

HttpResponse WebhookApi::Answer(int status, const Json& body) const {
  if (style_ == Style::kNative) return JsonAnswer(status, body);
  return SgkvJson(status, body.dump(-1, ' ', false, Json::error_handler_t::replace));
}

HttpResponse WebhookApi::FromStatus(const Status& s) const {
  if (style_ == Style::kNative) return ErrorFromStatus(s);
  if (s.IsNotFound()) return Error(404, "NOT_FOUND", "Webhook not found");
  if (s.IsInvalidArgument()) return Error(400, "BAD_REQUEST", s.message());
  return Error(HttpStatusFor(s.code()), ErrorCodeFor(s.code()), s.message());
}

HttpResponse WebhookApi::Handle(const HttpRequest& request, std::string_view rest,
                                const Caller& caller) {
  const bool native = style_ == Style::kNative;
  const std::string& method = request.method;
  auto echo_error = [&](int status, const char* message, std::string route) {
    if (native) {
      HttpResponse r = ErrorResponse(status, status == 404 ? "NOT_FOUND" : "METHOD_NOT_ALLOWED",
                                     std::string(message) + ": " + method + " " + request.path);
      return WithRoute(std::move(r), std::move(route));
    }
    return WithRoute(EchoError(status, message), std::move(route));
  };

  // The namespace: simple-golang-kv's rules (its defaults and length limits)
  // on /webhooks, kvd's own on /v1/webhooks.
  Result<NamespaceRef> ns = Status::Internal("no namespace");
  HttpResponse ns_error;
  if (native) {
    ns = NamespaceFromRequest(request, caller.tenant);
    if (!ns.ok()) ns_error = FromStatus(ns.status());
  } else if (auto sgkv_ns = SgkvNamespace(request, caller.tenant, sgkv_, &ns_error)) {
    ns = std::move(*sgkv_ns);
  }
  if (rest.empty() || rest == "/") {
    if (method == "POST" || (native && method == "GET")) {
      if (!ns.ok()) return WithRoute(std::move(ns_error), "");
      if (method == "POST") return WithRoute(Create(request, *ns), "");
      return WithRoute(List(*ns, request.Query("prefix").value_or("")), "");
    }
    return echo_error(405, "Method Not Allowed", "");
  }
  std::string_view raw_id = rest.substr(1);
  if (raw_id.find('/') != std::string_view::npos) return echo_error(404, "Not Found", "/*");
  std::string id;
  if (!PercentDecode(raw_id, false, &id)) {
    return WithRoute(Error(400, "BAD_REQUEST", "bad %-escape in the webhook id"), "/{id}");
  }
  if (!ns.ok()) return WithRoute(std::move(ns_error), "/{id}");
  if (method == "GET") {
    if (!native && !id.empty() && id.back() == '*') {
      id.pop_back();
      return WithRoute(List(*ns, id), "/{pattern}*");
    }
    return WithRoute(Get(*ns, id), "/{id}");
  }
  if (method == "PUT" || (native && method == "PATCH")) {
    return WithRoute(Update(request, *ns, id), "/{id}");
  }
  if (method == "DELETE") return WithRoute(Delete(*ns, id), "/{id}");
  return echo_error(405, "Method Not Allowed", "/{id}");
}

HttpResponse WebhookApi::Create(const HttpRequest& request, const NamespaceRef& ns) {
  Result<webhooks::WebhookFields> fields = webhooks::ParseFields(request.body);
  if (!fields.ok()) return FromStatus(fields.status());
  Result<webhooks::Webhook> w = webhooks::NewWebhook(*fields);
  if (!w.ok()) return FromStatus(w.status());
  w->ns = ns.ns;
  w->app = ns.app;
  const Json definition = webhooks::ToJson(*w);
  if (Status s = store_.PutWebhook(ns.StoreName(), w->id, definition.dump(), true); !s.ok()) {
    return FromStatus(s);
  }
  if (style_ == Style::kNative) {
    HttpResponse created = Get(ns, w->id);
    if (created.status == 200) created.status = 201;
    return created;
  }
  Json body = Json::object();
  body["id"] = w->id;
  return Answer(201, body);
}

HttpResponse WebhookApi::Get(const NamespaceRef& ns, const std::string& id) {
  Result<store::StoredWebhook> stored = store_.GetWebhook(ns.StoreName(), id);
  if (!stored.ok()) return FromStatus(stored.status());
  Result<webhooks::Webhook> w = webhooks::FromJson(stored->definition);
  if (!w.ok()) return FromStatus(w.status());
  Json body = webhooks::ToJson(*w);
  if (style_ == Style::kNative) {
    body["delivery"] = DeliveryJson(stored->progress, store_.CommittedRevision());
  }
  return Answer(200, body);
}

HttpResponse WebhookApi::List(const NamespaceRef& ns, std::string_view prefix) {
  Result<std::vector<store::StoredWebhook>> all = store_.ListWebhooks(ns.StoreName());
  if (!all.ok()) return FromStatus(all.status());
  const uint64_t committed = store_.CommittedRevision();
  Json list = Json::array();
  for (const store::StoredWebhook& stored : *all) {
    Result<webhooks::Webhook> w = webhooks::FromJson(stored.definition);
    if (!w.ok()) return FromStatus(w.status());
    if (w->key.compare(0, prefix.size(), prefix) != 0) continue;
    Json item = webhooks::ToJson(*w);
    if (style_ == Style::kNative) item["delivery"] = DeliveryJson(stored.progress, committed);
    list.push_back(std::move(item));
  }
  if (style_ == Style::kNative) {
    Json body = Json::object();
    body["webhooks"] = std::move(list);
    return JsonAnswer(200, body);
  }
  return Answer(200, list);
}

HttpResponse WebhookApi::Update(const HttpRequest& request, const NamespaceRef& ns,
                                const std::string& id) {
  Result<webhooks::WebhookFields> fields = webhooks::ParseFields(request.body);
  if (!fields.ok()) return FromStatus(fields.status());
  Result<store::StoredWebhook> stored = store_.GetWebhook(ns.StoreName(), id);
  if (!stored.ok()) return FromStatus(stored.status());
  Result<webhooks::Webhook> w = webhooks::FromJson(stored->definition);
  if (!w.ok()) return FromStatus(w.status());
  if (Status s = webhooks::ApplyUpdate(*fields, &*w); !s.ok()) {
    if (style_ == Style::kNative) return FromStatus(s);
    return EchoError(400, s.message());  // simple-golang-kv answers these in Echo's format
  }
  const Json definition = webhooks::ToJson(*w);
  if (Status s = store_.PutWebhook(ns.StoreName(), id, definition.dump(), false); !s.ok()) {
    return FromStatus(s);
  }
  if (style_ == Style::kNative) return Get(ns, id);
  return Answer(200, definition);
}

HttpResponse WebhookApi::Delete(const NamespaceRef& ns, const std::string& id) {
  Status s = store_.DeleteWebhook(ns.StoreName(), id);
  if (!s.ok() && !(s.IsNotFound() && style_ == Style::kSimpleGolangKv)) return FromStatus(s);
  HttpResponse r;
  r.status = 204;
  return r;
}

}  // namespace kv::daemon
