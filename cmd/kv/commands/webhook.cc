// kv webhook add|ls|get|update|rm: the webhooks of a kvd namespace
// (simple-golang-kv's webhooks, delivered by kvd's dispatcher), with their
// delivery state.
#include <nlohmann/json.hpp>

#include "cmd/kv/commands/commands.h"

namespace kv::cli {
namespace {

// The --header values ("Name: value") as a JSON object.
Result<std::string> HeadersJson(const std::vector<std::string>& headers) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const std::string& h : headers) {
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      return Status::InvalidArgument("--header takes 'Name: value', not '" + h + "'");
    }
    std::string value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    out[h.substr(0, colon)] = value;
  }
  return out.dump();
}

// The fields given on the command line; empty ones are left out.
Result<client::WebhookSpec> SpecOf(const WebhookOptions& o) {
  client::WebhookSpec spec;
  auto given = [](const std::string& s) { return s.empty() ? std::nullopt : std::optional(s); };
  spec.key = given(o.key);
  spec.endpoint = given(o.endpoint);
  spec.event = given(o.event);
  spec.method = given(o.method);
  spec.payload_json = given(o.payload);
  if (!o.headers.empty()) {
    Result<std::string> headers = HeadersJson(o.headers);
    if (!headers.ok()) return headers.status();
    spec.headers_json = *headers;
  }
  if (o.event_data && o.no_event_data) {
    return Status::InvalidArgument("give --event-data or --no-event-data, not both");
  }
  if (o.event_data) spec.add_event_data = true;
  if (o.no_event_data) spec.add_event_data = false;
  return spec;
}

Status NoSuchWebhook(const Status& s, const std::string& id) {
  if (s.IsNotFound()) return Status::NotFound("no webhook with id " + id);
  return s;
}

void AddFieldFlags(CLI::App* cmd, WebhookOptions& o) {
  cmd->add_option("--method", o.method,
                  "HTTP method: GET, POST, PUT, DELETE, PATCH, OPTIONS or HEAD (default POST)");
  cmd->add_option("--header", o.headers, "A header to send, 'Name: value' (repeatable)");
  cmd->add_option("--payload", o.payload, "A JSON object sent as the body");
  cmd->add_flag("--event-data", o.event_data,
                "Add the change under \"event\" in the body (event, namespace, appName, key, "
                "value, ttl, expire_at, timestamp)");
}

}  // namespace

Status RunWebhookAdd(const WebhookOptions& options, Context& ctx) {
  Result<client::WebhookSpec> spec = SpecOf(options);
  if (!spec.ok()) return spec.status();
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<client::WebhookInfo> added = backend->AddWebhook(*spec);
  if (!added.ok()) return added.status();
  ctx.printer().WebhookAdded(*added);
  return Status::Ok();
}

Status RunWebhookList(const WebhookOptions& options, Context& ctx) {
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<std::vector<client::WebhookInfo>> list = backend->ListWebhooks(options.prefix);
  if (!list.ok()) return list.status();
  ctx.printer().Webhooks(*list, false);
  return Status::Ok();
}

Status RunWebhookGet(const WebhookOptions& options, Context& ctx) {
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<client::WebhookInfo> w = backend->GetWebhook(options.id);
  if (!w.ok()) return NoSuchWebhook(w.status(), options.id);
  ctx.printer().Webhooks({*w}, true);
  return Status::Ok();
}

Status RunWebhookUpdate(const WebhookOptions& options, Context& ctx) {
  Result<client::WebhookSpec> spec = SpecOf(options);
  if (!spec.ok()) return spec.status();
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<client::WebhookInfo> w = backend->UpdateWebhook(options.id, *spec);
  if (!w.ok()) return NoSuchWebhook(w.status(), options.id);
  ctx.printer().Webhooks({*w}, true);
  return Status::Ok();
}

Status RunWebhookRemove(const WebhookOptions& options, Context& ctx) {
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Status first;
  for (const std::string& id : options.ids) {
    Status s = backend->DeleteWebhook(id);
    if (s.ok()) {
      ctx.printer().WebhookRemoved(id);
      continue;
    }
    s = NoSuchWebhook(s, id);
    if (!s.IsNotFound()) return s;  // the backend failed: stop here
    ctx.PrintError(s.message());
    if (first.ok()) first = Status::NotFound("");  // reported already
  }
  return first;
}

void AddWebhookCommand(CLI::App& app, Context& ctx) {
  CLI::App* webhook = app.add_subcommand(
      "webhook", "Manage the namespace's webhooks: HTTP requests kvd sends on each change");
  webhook->require_subcommand(1);
  {
    auto o = std::make_shared<WebhookOptions>();
    CLI::App* cmd = webhook->add_subcommand(
        "add", "Call ENDPOINT on each EVENT of KEY (KEY* for every key starting with KEY)");
    cmd->add_option("key", o->key, "The key, or a prefix followed by *")->required();
    cmd->add_option("endpoint", o->endpoint, "An http:// or https:// URL")->required();
    cmd->add_option("--event", o->event, "create, update or delete (an expiry is a delete)")
        ->required();
    AddFieldFlags(cmd, *o);
    cmd->footer(
        "Prints the new webhook's id. Delivery is at least once, in order, retried with\n"
        "backoff while the endpoint fails (see kvd(8)); kv webhook ls shows how it goes.\n"
        "  kv webhook add 'user:*' https://example.com/hook --event create --event-data\n"
        "JSON: the webhook (kv help json).");
    OnRun(cmd, ctx, [o, &ctx] { return RunWebhookAdd(*o, ctx); });
  }
  {
    auto o = std::make_shared<WebhookOptions>();
    CLI::App* cmd = webhook->add_subcommand("ls", "List webhooks and how their delivery goes");
    cmd->alias("list");
    cmd->add_option("prefix", o->prefix, "Only those whose key pattern starts with this");
    cmd->footer(
        "raw: ID<TAB>EVENT<TAB>KEY<TAB>METHOD<TAB>ENDPOINT<TAB>DELIVERED<TAB>FAILED<TAB>ATTEMPTS"
        "<TAB>LAST_STATUS<TAB>LAG\n"
        "ATTEMPTS: tries at the event it is stuck on (0: none); LAST_STATUS: 0 when there was\n"
        "no answer; LAG: revisions of the store it has not dealt with yet.");
    OnRun(cmd, ctx, [o, &ctx] { return RunWebhookList(*o, ctx); });
  }
  {
    auto o = std::make_shared<WebhookOptions>();
    CLI::App* cmd = webhook->add_subcommand("get", "Show a webhook and its delivery state");
    cmd->add_option("id", o->id, "The webhook's id")->required();
    cmd->footer("Exit 1 when there is no such webhook.");
    OnRun(cmd, ctx, [o, &ctx] { return RunWebhookGet(*o, ctx); });
  }
  {
    auto o = std::make_shared<WebhookOptions>();
    CLI::App* cmd = webhook->add_subcommand("update", "Change a webhook's fields");
    cmd->add_option("id", o->id, "The webhook's id")->required();
    cmd->add_option("--key", o->key, "The key, or a prefix followed by *");
    cmd->add_option("--endpoint", o->endpoint, "An http:// or https:// URL");
    cmd->add_option("--event", o->event, "create, update or delete");
    AddFieldFlags(cmd, *o);
    cmd->add_flag("--no-event-data", o->no_event_data, "Stop adding the change to the body");
    cmd->footer(
        "Fields not given stay as they are; --header replaces all the headers. Exit 1 when\n"
        "there is no such webhook.");
    OnRun(cmd, ctx, [o, &ctx] { return RunWebhookUpdate(*o, ctx); });
  }
  {
    auto o = std::make_shared<WebhookOptions>();
    CLI::App* cmd = webhook->add_subcommand("rm", "Delete webhooks; nothing more is sent");
    cmd->alias("del");
    cmd->add_option("id", o->ids, "The webhooks' ids")->required();
    cmd->footer("Exit 1 when one of them does not exist. JSON: {\"id\",\"removed\":true} each.");
    OnRun(cmd, ctx, [o, &ctx] { return RunWebhookRemove(*o, ctx); });
  }
}

}  // namespace kv::cli
