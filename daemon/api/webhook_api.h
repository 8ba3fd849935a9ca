// WebhookApi: webhook registrations over HTTP, in two dialects over the same
// store records (daemon/webhooks/webhook.h) and the same checks.
//
// SIMPLE-GOLANG-KV, mounted at /webhooks (Style::kSimpleGolangKv)
//   Namespace from KV-Namespace / KV-App-Name as for /kv (sgkv_shared.h:
//   DEFAULT_NAMESPACE, MAX_NAMESPACE_LEN...). Bodies end with a newline.
//   POST /webhooks          {"key","event","endpoint","method"?,"headers"?,
//                            "payload"?,"add_event_data"?}
//     201 {"id":"<uuid>"}; 400 {"error":"Invalid input"} (not a JSON object,
//     a field of the wrong type), {"error":"Key must not be empty"},
//     "Event must not be empty", "Endpoint must not be empty",
//     "Invalid method", "Event must be one of: create, update, delete",
//     "Endpoint must be an http or https URL" (kvd only).
//   GET /webhooks/{id}      200 the webhook; 404 {"error":"Webhook not found"}
//   GET /webhooks/{prefix}* 200 [webhooks whose key pattern starts with prefix]
//                           (possibly []); /webhooks/* lists them all
//   PUT /webhooks/{id}      fields present and non-empty replace the current
//     ones (add_event_data when present); 200 the webhook; 400
//     {"message":"..."} (Echo's format, as recorded) for a bad event, method
//     or endpoint, {"error":"Invalid input"} for a bad body; 404 as GET.
//   DELETE /webhooks/{id}   204, also when there was no such webhook.
//   Other paths: 404 {"message":"Not Found"}; other methods: 405
//   {"message":"Method Not Allowed"}.
//
// NATIVE, mounted at /v1/webhooks (Style::kNative), what `kv webhook` uses:
// the same fields and checks, kvd's error bodies (errors.h), and each
// webhook carries its delivery state:
//   "delivery":{"cursor":N,"lag":N,"delivered":N,"failed":N,"attempts":N,
//               "last_status":N|null,"last_error":"..."|null,
//               "last_attempt_ms":N|null,"last_success_ms":N|null}
//   (cursor: every change up to this revision has been dealt with; lag: how
//   many revisions of the store it is behind; attempts: at the pending event.)
//   GET /v1/webhooks?prefix=P   200 {"webhooks":[...]} (key pattern starts with P)
//   POST /v1/webhooks           201 the webhook
//   GET /v1/webhooks/{id}       200 the webhook; 404 NOT_FOUND
//   PUT|PATCH /v1/webhooks/{id} 200 the webhook; 404 NOT_FOUND
//   DELETE /v1/webhooks/{id}    204; 404 NOT_FOUND
//   400 BAD_REQUEST with the messages above.
//
// Ownership: holds a reference to the store. Thread-safety: Handle() may be
// called concurrently.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/api/namespace.h"
#include "daemon/api/router.h"
#include "daemon/api/sgkv_shared.h"
#include "daemon/store/store.h"

namespace kv::daemon {

class WebhookApi : public RouteTable {
 public:
  enum class Style { kSimpleGolangKv, kNative };

  // `sgkv`: simple-golang-kv's settings (namespace defaults and limits), for
  // Style::kSimpleGolangKv; must outlive the table.
  WebhookApi(store::Store& store, Style style, const SgkvOptions& sgkv);

  HttpResponse Handle(const HttpRequest& request, std::string_view rest,
                      const Caller& caller) override;

 private:
  HttpResponse Create(const HttpRequest& request, const NamespaceRef& ns);
  HttpResponse Get(const NamespaceRef& ns, const std::string& id);
  HttpResponse List(const NamespaceRef& ns, std::string_view prefix);
  HttpResponse Update(const HttpRequest& request, const NamespaceRef& ns, const std::string& id);
  HttpResponse Delete(const NamespaceRef& ns, const std::string& id);

  // An error in this table's dialect.
  HttpResponse Error(int status, std::string_view code, std::string_view message) const;
  HttpResponse FromStatus(const Status& status) const;
  // A JSON answer in this table's dialect.
  HttpResponse Answer(int status, const nlohmann::ordered_json& body) const;

  store::Store& store_;
  const Style style_;
  const SgkvOptions& sgkv_;
};

}  // namespace kv::daemon
