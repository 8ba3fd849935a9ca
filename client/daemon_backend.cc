#include "client/daemon_backend.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/json_flat.h"
#include "common/units.h"
#include "common/utf8.h"

namespace kv::client {
namespace {

using Json = nlohmann::json;

Json ParseJson(std::string_view body) { return Json::parse(body, nullptr, false); }

// kvd's JSON error body, or the status line, as a Status of the right code.
Status StatusFromReply(const HttpReply& reply, std::string_view what) {
  std::string message;
  std::string code;
  Json body = ParseJson(reply.body);
  if (body.is_object()) {
    if (body.contains("error") && body["error"].is_string()) message = body["error"];
    if (body.contains("code") && body["code"].is_string()) code = body["code"];
  }
  if (message.empty()) message = std::string(what) + ": HTTP " + std::to_string(reply.status);
  switch (reply.status) {
    case 400: case 415: return Status::InvalidArgument(message);
    case 401: case 403: return Status::Unauthorized(message);
    case 404: return Status::NotFound(message);
    case 410: return Status::OutOfRange(message);
    case 412: return Status::PreconditionFailed(message);
    case 413:
      if (code == "QUOTA_EXCEEDED") return Status::QuotaExceeded(message);
      return Status::TooLarge(message);
    case 503: return Status::Unavailable(message);
    case 504: return Status::Timeout(message);
    case 507: return Status::NoSpace(message);
    default: return Status::Internal(message);
  }
}

uint64_t JsonU64(const Json& j, const char* name) {
  if (!j.contains(name)) return 0;
  const Json& v = j[name];
  if (v.is_number_unsigned() || v.is_number_integer()) return v.get<uint64_t>();
  if (v.is_string()) {
    uint64_t out = 0;
    const std::string& s = v.get_ref<const std::string&>();
    std::from_chars(s.data(), s.data() + s.size(), out);
    return out;
  }
  return 0;
}

int64_t JsonI64(const Json& j, const char* name, int64_t missing) {
  if (!j.contains(name) || !j[name].is_number()) return missing;
  return j[name].get<int64_t>();
}

std::string JsonStr(const Json& j, const char* name) {
  if (!j.contains(name) || !j[name].is_string()) return "";
  return j[name].get<std::string>();
}

// A value as kvd sends it when asked for ?values=bytes ("encoding": text |
// base64), back to its bytes. Anything else (an embedded JSON value, whose
// line breaks are gone) is no value: callers that need it read the key.
std::optional<std::string> DecodeValue(const Json& j) {
  if (!j.contains("value") || !j["value"].is_string()) return std::nullopt;
  std::string enc = JsonStr(j, "encoding");
  const std::string& v = j["value"].get_ref<const std::string&>();
  if (enc == "base64") return Base64Decode(v);
  if (enc == "text" || enc.empty()) return v;
  return std::nullopt;
}

std::string DecodeKey(const Json& j) {
  std::string key = JsonStr(j, "key");
  if (JsonStr(j, "key_encoding") == "base64") {
    if (auto raw = Base64Decode(key)) return *raw;
  }
  return key;
}

KeyMeta MetaFromJson(const Json& j) {
  KeyMeta m;
  m.key = DecodeKey(j);
  m.etag = JsonStr(j, "etag");
  m.revision = JsonU64(j, "revision");
  if (m.etag.empty() && m.revision) m.etag = std::to_string(m.revision);
  m.create_revision = JsonU64(j, "create_revision");
  m.size = JsonU64(j, "size");
  m.content_type = JsonStr(j, "content_type");
  m.created_ms = JsonI64(j, "created_ms", 0);
  m.updated_ms = JsonI64(j, "updated_ms", 0);
  m.expire_at_ms = JsonI64(j, "expire_at_ms", 0);
  m.ttl_ms = JsonI64(j, "ttl_ms", -1);
  return m;
}

int64_t HeaderI64(const HttpReply& r, std::string_view name, int64_t missing) {
  auto h = r.Header(name);
  if (!h) return missing;
  int64_t v = missing;
  std::from_chars(h->data(), h->data() + h->size(), v);
  return v;
}

std::string Unquote(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

class DaemonBackend final : public Backend {
 public:
  DaemonBackend(std::unique_ptr<HttpClient> http, DaemonBackendOptions options)
      : http_(std::move(http)), opt_(std::move(options)) {}

  std::string Name() const override { return opt_.name; }
  Capabilities Caps() const override { return opt_.caps; }
  void SetScope(const Scope& scope) override { opt_.scope = scope; }
  const Scope& scope() const override { return opt_.scope; }

  Result<Value> Get(std::string_view key) override {
    auto r = Call("GET", KeyPath(key));
    if (!r.ok()) return r.status();
    if (r->status != 200) return StatusFromReply(*r, "get");
    Value v;
    v.bytes = std::move(r->body);
    v.meta.key.assign(key);
    v.meta.etag = Unquote(r->Header("ETag").value_or(""));
    v.meta.revision = static_cast<uint64_t>(HeaderI64(*r, "KV-Revision", 0));
    v.meta.create_revision = static_cast<uint64_t>(HeaderI64(*r, "KV-Created-Revision", 0));
    v.meta.size = v.bytes.size();
    v.meta.content_type = std::string(r->Header("Content-Type").value_or(""));
    v.meta.expire_at_ms = HeaderI64(*r, "KV-Expires-At", 0);
    v.meta.ttl_ms = HeaderI64(*r, "KV-TTL-Ms", -1);
    return v;
  }

  Result<KeyMeta> Meta(std::string_view key) override {
    if (!opt_.caps.list) {  // keyvalue.dev: HEAD is all there is
      auto r = Call("HEAD", KeyPath(key));
      if (!r.ok()) return r.status();
      if (r->status != 200) return StatusFromReply(*r, "meta");
      KeyMeta m;
      m.key.assign(key);
      m.etag = Unquote(r->Header("ETag").value_or(""));
      m.size = static_cast<uint64_t>(HeaderI64(*r, "Content-Length", 0));
      m.content_type = std::string(r->Header("Content-Type").value_or(""));
      return m;
    }
    return MetaCall("GET", KeyPath(key) + "/meta", "", "meta");
  }

  Result<KeyMeta> Set(std::string_view key, std::string_view value,
                      const SetOptions& o) override {
    if (o.ttl_ms > 0 && !opt_.caps.ttl) return NotSupported(opt_.name, "TTL");
    HttpCall call = NewCall("PUT", KeyPath(key));
    call.body.assign(value);
    if (!o.content_type.empty()) call.headers.emplace_back("Content-Type", o.content_type);
    if (o.ttl_ms > 0) call.headers.emplace_back("KV-TTL", std::to_string(o.ttl_ms) + "ms");
    if (o.keep_ttl) call.headers.emplace_back("KV-Keep-TTL", "1");
    AddCondition(o.condition, &call);
    auto r = http_->Send(call);
    if (!r.ok()) return r.status();
    if (r->status != 200 && r->status != 201) return StatusFromReply(*r, "set");
    KeyMeta m;
    m.key.assign(key);
    Json body = ParseJson(r->body);
    if (body.is_object()) {
      m.etag = Unquote(JsonStr(body, "etag"));
      m.revision = JsonU64(body, "revision");
      m.expire_at_ms = JsonI64(body, "expire_at_ms", 0);
    }
    if (m.etag.empty()) m.etag = Unquote(r->Header("ETag").value_or(""));
    m.size = value.size();
    m.content_type = o.content_type;
    return m;
  }

  Result<std::vector<Status>> SetMany(const std::vector<BatchItem>& items) override {
    if (!opt_.caps.list) return Backend::SetMany(items);  // keyvalue.dev: one by one
    HttpCall call = NewCall("POST", Base() + "/v1/batch");
    call.headers.emplace_back("Content-Type", "application/x-ndjson");
    // Written directly rather than through a JSON tree: an import sends
    // thousands of these lines. Into the last batch's buffer, sized ahead:
    // growing a fresh one for every batch was a fifth of an import's time
    // in kv (copies, and page faults as malloc handed pages back and forth).
    std::string& lines = call.body;
    lines = std::move(batch_body_);
    lines.clear();
    size_t size = 0;
    for (const BatchItem& item : items) size += item.key.size() + item.value.size() + 64;
    lines.reserve(size);
    for (const BatchItem& item : items) {
      // "name":"text", or its base64 and "<encoding_name>":"base64" when
      // the bytes are not UTF-8.
      auto member = [&](std::string_view name, std::string_view text, const char* encoding_name) {
        lines += lines.back() == '{' ? "\"" : ",\"";
        lines += name;
        lines += "\":";
        if (IsValidUtf8(text)) {
          json::AppendQuoted(lines, text);
          return;
        }
        json::AppendQuoted(lines, Base64Encode(text));
        lines += ",\"";
        lines += encoding_name;
        lines += "\":\"base64\"";
      };
      lines += '{';
      member("key", item.key, "key_encoding");
      member("value", item.value, "encoding");
      const SetOptions& o = item.options;
      // Media types and ETags are ASCII; '?' stands for bytes that are not.
      if (!o.content_type.empty()) {
        lines += ",\"content_type\":";
        json::AppendQuoted(lines, IsValidUtf8(o.content_type) ? o.content_type : "?");
      }
      if (o.ttl_ms > 0) lines += ",\"ttl_ms\":" + std::to_string(o.ttl_ms);
      switch (o.condition.kind) {
        case Condition::Kind::kNone: break;
        case Condition::Kind::kIfAbsent: lines += ",\"if_absent\":true"; break;
        case Condition::Kind::kIfExists: lines += ",\"if_exists\":true"; break;
        case Condition::Kind::kIfMatch: {
          const std::string etag = Unquote(o.condition.etag);
          lines += ",\"if_match\":";
          json::AppendQuoted(lines, IsValidUtf8(etag) ? etag : "?");
          break;
        }
      }
      lines += "}\n";
    }
    auto r = http_->Send(call);
    batch_body_ = std::move(call.body);
    if (!r.ok()) return r.status();
    if (r->status != 200) return StatusFromReply(*r, "batch");
    Json body = ParseJson(r->body);
    if (!body.is_object()) return Status::Internal("kvd sent a batch answer kv cannot read");
    std::vector<Status> out(items.size());
    if (body.contains("errors") && body["errors"].is_array()) {
      for (const Json& e : body["errors"]) {
        uint64_t i = JsonU64(e, "index");
        if (i >= out.size()) continue;
        HttpReply one;
        one.status = static_cast<int>(JsonU64(e, "status"));
        one.body = e.dump(-1, ' ', false, Json::error_handler_t::replace);
        out[i] = StatusFromReply(one, "set");
      }
    }
    return out;
  }

  Result<uint64_t> Delete(std::string_view key, const Condition& condition) override {
    HttpCall call = NewCall("DELETE", KeyPath(key));
    AddCondition(condition, &call);
    auto r = http_->Send(call);
    if (!r.ok()) return r.status();
    if (r->status != 204 && r->status != 200) return StatusFromReply(*r, "del");
    return static_cast<uint64_t>(HeaderI64(*r, "KV-Revision", 0));
  }

  Result<ListPage> List(const ListRequest& q) override {
    if (!opt_.caps.list) return NotSupported(opt_.name, "ls");
    std::string target = Base() + "/v1/keys?prefix=" + PercentEncode(q.prefix);
    if (q.limit) target += "&limit=" + std::to_string(q.limit);
    if (!q.cursor.empty()) target += "&cursor=" + PercentEncode(q.cursor);
    if (q.values) target += "&values=bytes";
    for (const auto& w : q.where) target += "&where=" + PercentEncode(w);
    auto r = Call("GET", target);
    if (!r.ok()) return r.status();
    if (r->status != 200) return StatusFromReply(*r, "ls");
    Json body = ParseJson(r->body);
    if (!body.is_object() || !body.contains("keys") || !body["keys"].is_array()) {
      return Status::Internal("kvd sent a key list kv cannot read");
    }
    ListPage page;
    for (const Json& k : body["keys"]) {
      ListedKey lk;
      lk.meta = MetaFromJson(k);
      if (q.values) lk.value = DecodeValue(k);
      page.keys.push_back(std::move(lk));
    }
    page.next_cursor = JsonStr(body, "next_cursor");
    return page;
  }

  Result<std::string> Incr(std::string_view key, int64_t by) override {
    if (!opt_.caps.incr) return NotSupported(opt_.name, "incr");
    auto r = Call("POST", KeyPath(key) + "/incr?by=" + std::to_string(by));
    if (!r.ok()) return r.status();
    if (r->status != 200 && r->status != 201) return StatusFromReply(*r, "incr");
    return r->body;
  }

  Result<std::string> Patch(std::string_view key, std::string_view patch) override {
    if (!opt_.caps.patch) return NotSupported(opt_.name, "patch");
    HttpCall call = NewCall("PATCH", KeyPath(key));
    call.headers.emplace_back("Content-Type", "application/merge-patch+json");
    call.body.assign(patch);
    auto r = http_->Send(call);
    if (!r.ok()) return r.status();
    if (r->status != 200 && r->status != 201) return StatusFromReply(*r, "patch");
    return r->body;
  }

  Result<KeyMeta> Expire(std::string_view key, int64_t ttl_ms) override {
    if (!opt_.caps.ttl) return NotSupported(opt_.name, "expire");
    return MetaCall("POST", KeyPath(key) + "/expire?ttl=" + std::to_string(ttl_ms) + "ms", "",
                    "expire");
  }

  Result<KeyMeta> Persist(std::string_view key) override {
    if (!opt_.caps.ttl) return NotSupported(opt_.name, "persist");
    return MetaCall("POST", KeyPath(key) + "/persist", "", "persist");
  }

  Result<uint64_t> Clear(std::string_view prefix) override {
    if (!opt_.caps.clear) return NotSupported(opt_.name, prefix.empty() ? "clear" : "del --prefix");
    auto r = Call("DELETE", Base() + (prefix.empty() ? "/v1/keys?confirm=1"
                                                     : "/v1/keys?prefix=" + PercentEncode(prefix)));
    if (!r.ok()) return r.status();
    if (r->status != 200) return StatusFromReply(*r, "clear");
    return JsonU64(ParseJson(r->body), "deleted");
  }

  Result<std::vector<NamespaceStats>> Stats(bool all) override {
    if (!opt_.caps.stats) return NotSupported(opt_.name, "stats");
    auto r = Call("GET", Base() + (all ? "/v1/namespaces" : "/v1/stats"));
    if (!r.ok()) return r.status();
    if (r->status != 200) return StatusFromReply(*r, "stats");
    Json body = ParseJson(r->body);
    std::vector<NamespaceStats> out;
    auto one = [](const Json& j) {
      NamespaceStats s;
      s.tenant = JsonStr(j, "tenant");
      s.ns = JsonStr(j, "namespace");
      s.app = JsonStr(j, "app");
      s.keys = JsonU64(j, "keys");
      s.bytes = JsonU64(j, "bytes");
      s.quota_bytes = JsonU64(j, "quota_bytes");
      return s;
    };
    if (all && body.is_object() && body.contains("namespaces") && body["namespaces"].is_array()) {
      for (const Json& j : body["namespaces"]) out.push_back(one(j));
    } else if (!all && body.is_object()) {
      out.push_back(one(body));
    } else {
      return Status::Internal("kvd sent statistics kv cannot read");
    }
    return out;
  }

  Status Watch(const WatchRequest& q, const std::function<bool(const Event&)>& on_event) override {
    if (!opt_.caps.watch) return NotSupported(opt_.name, "watch");
    // Where the next stream starts: after the last revision delivered, or
    // after the revision the first stream started at (its KV-Revision).
    std::optional<uint64_t> since = q.since;
    int64_t waited_ms = 0;  // without a stream, since the last one ended
    int64_t pause_ms = 50;
    for (;;) {
      std::string target = Base() + "/v1/watch?prefix=" + PercentEncode(q.prefix);
      if (since) target += "&since=" + std::to_string(*since);
      if (!q.follow) target += "&follow=0";
      target += "&values=bytes";
      bool stopped = false;
      Status stream_error;
      auto r = http_->Stream(NewCall("GET", target), [&](std::string_view data) {
        return ReadWatchLines(data, &since, on_event, &stopped, &stream_error);
      });
      watch_pending_.clear();
      if (stopped || !stream_error.ok()) return stream_error;
      if (r.ok() && r->status != 200) return StatusFromReply(*r, "watch");
      if (r.ok()) {
        if (!q.follow) return Status::Ok();  // the replay is over
        const int64_t started_at = HeaderI64(*r, "KV-Revision", 0);
        if (!since && started_at > 0) since = static_cast<uint64_t>(started_at);
        waited_ms = 0;  // a stream ran: a new outage starts
        pause_ms = 50;
      } else if (r.status().code() != Status::Code::kUnavailable || !q.follow || Interrupted()) {
        return r.status();
      }
      // kvd ended the stream (it is stopping) or could not be reached: try
      // again, resuming after `since`, until it has been gone too long.
      if (waited_ms >= opt_.watch_reconnect_ms) {
        const std::string who = opt_.name == "local" ? "the local kvd" : opt_.name;
        std::string resume =
            since ? ": resume with kv watch --since " + std::to_string(*since) : "";
        return Status::Unavailable(who + " went away and did not come back within " +
                                   FormatDurationMs(opt_.watch_reconnect_ms) + resume);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
      waited_ms += pause_ms;
      pause_ms = std::min<int64_t>(pause_ms * 2, 1000);
      if (Interrupted()) return Status::Unavailable("interrupted");
    }
  }

  Result<TokenInfo> CreateToken(std::string_view tenant) override {
    if (!opt_.caps.tokens) return NotSupported(opt_.name, "token administration");
    HttpCall call = NewCall("POST", Base() + "/v1/admin/tokens");
    call.headers.emplace_back("Content-Type", "application/json");
    call.body = Json{{"tenant", tenant}}.dump();
    auto r = http_->Send(call);
    if (!r.ok()) return r.status();
    if (r->status != 201 && r->status != 200) return StatusFromReply(*r, "token create");
    return TokenFromJson(ParseJson(r->body));
  }

  Result<std::vector<TokenInfo>> ListTokens() override {
    if (!opt_.caps.tokens) return NotSupported(opt_.name, "token administration");
    auto r = Call("GET", Base() + "/v1/admin/tokens");
    if (!r.ok()) return r.status();
    if (r->status != 200) return StatusFromReply(*r, "token ls");
    Json body = ParseJson(r->body);
    std::vector<TokenInfo> out;
    if (body.is_object() && body.contains("tokens") && body["tokens"].is_array()) {
      for (const Json& t : body["tokens"]) out.push_back(TokenFromJson(t));
    }
    return out;
  }

  Result<UiLogin> CreateUiLogin() override {
    if (!opt_.caps.ui) return NotSupported(opt_.name, "the admin panel (kv ui)");
    auto r = Call("POST", Base() + "/ui/api/login-codes");
    if (!r.ok()) return r.status();
    if (r->status != 201) return StatusFromReply(*r, "ui");
    Json j = ParseJson(r->body);
    UiLogin login;
    login.code = JsonStr(j, "code");
    login.tenant = JsonStr(j, "tenant");
    login.expires_ms = JsonI64(j, "expires_ms", 0);
    login.url = JsonStr(j, "url");
    if (login.code.empty()) return Status::Internal("kvd answered without a login code");
    return login;
  }

  Status RevokeToken(std::string_view id) override {
    if (!opt_.caps.tokens) return NotSupported(opt_.name, "token administration");
    auto r = Call("DELETE", Base() + "/v1/admin/tokens/" + PercentEncode(id));
    if (!r.ok()) return r.status();
    if (r->status != 204 && r->status != 200) return StatusFromReply(*r, "token revoke");
    return Status::Ok();
  }

  Status Backup(std::string_view dir) override {
    if (!opt_.caps.tokens) return NotSupported(opt_.name, "backups");
    HttpCall call = NewCall("POST", Base() + "/v1/admin/backup");
    call.headers.emplace_back("Content-Type", "application/json");
    call.body = Json{{"dir", dir}}.dump();
    call.no_timeout = true;  // kvd answers when the copy is done: minutes for a big one elsewhere
    auto r = http_->Send(call);
    if (!r.ok()) return r.status();
    if (r->status != 201 && r->status != 200) return StatusFromReply(*r, "backup");
    return Status::Ok();
  }

  Result<WebhookInfo> AddWebhook(const WebhookSpec& spec) override {
    if (!opt_.caps.webhooks) return NotSupported(opt_.name, "webhooks");
    Result<std::string> body = WebhookBody(spec);
    if (!body.ok()) return body.status();
    HttpCall call = NewCall("POST", Base() + "/v1/webhooks");
    call.headers.emplace_back("Content-Type", "application/json");
    call.body = *body;
    auto r = http_->Send(call);
    if (!r.ok()) return r.status();
    if (r->status != 201 && r->status != 200) return StatusFromReply(*r, "webhook add");
    return WebhookFromJson(ParseJson(r->body));
  }

  Result<std::vector<WebhookInfo>> ListWebhooks(std::string_view prefix) override {
    if (!opt_.caps.webhooks) return NotSupported(opt_.name, "webhooks");
    auto r = Call("GET", Base() + "/v1/webhooks?prefix=" + PercentEncode(prefix));
    if (!r.ok()) return r.status();
    if (r->status != 200) return StatusFromReply(*r, "webhook ls");
    Json body = ParseJson(r->body);
    std::vector<WebhookInfo> out;
    if (body.is_object() && body.contains("webhooks") && body["webhooks"].is_array()) {
      for (const Json& w : body["webhooks"]) out.push_back(WebhookFromJson(w));
    }
    return out;
  }

  Result<WebhookInfo> GetWebhook(std::string_view id) override {
    if (!opt_.caps.webhooks) return NotSupported(opt_.name, "webhooks");
    auto r = Call("GET", Base() + "/v1/webhooks/" + PercentEncode(id));
    if (!r.ok()) return r.status();
    if (r->status != 200) return StatusFromReply(*r, "webhook get");
    return WebhookFromJson(ParseJson(r->body));
  }

  Result<WebhookInfo> UpdateWebhook(std::string_view id, const WebhookSpec& spec) override {
    if (!opt_.caps.webhooks) return NotSupported(opt_.name, "webhooks");
    Result<std::string> body = WebhookBody(spec);
    if (!body.ok()) return body.status();
    HttpCall call = NewCall("PUT", Base() + "/v1/webhooks/" + PercentEncode(id));
    call.headers.emplace_back("Content-Type", "application/json");
    call.body = *body;
    auto r = http_->Send(call);
    if (!r.ok()) return r.status();
    if (r->status != 200) return StatusFromReply(*r, "webhook update");
    return WebhookFromJson(ParseJson(r->body));
  }

  Status DeleteWebhook(std::string_view id) override {
    if (!opt_.caps.webhooks) return NotSupported(opt_.name, "webhooks");
    auto r = Call("DELETE", Base() + "/v1/webhooks/" + PercentEncode(id));
    if (!r.ok()) return r.status();
    if (r->status != 204 && r->status != 200) return StatusFromReply(*r, "webhook rm");
    return Status::Ok();
  }

 private:
  // Splits a watch stream into lines and delivers its events; false ends
  // the stream (the caller stopped: *stopped; or kvd sent an error line).
  bool ReadWatchLines(std::string_view data, std::optional<uint64_t>* since,
                      const std::function<bool(const Event&)>& on_event, bool* stopped,
                      Status* stream_error) {
    std::string& pending = watch_pending_;
    pending.append(data);
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      Json j = ParseJson(std::string_view(pending).substr(start, nl - start));
      if (!j.is_object()) continue;
      if (j.contains("error")) {  // the server ended the stream with an error
        HttpReply fake;
        fake.status = static_cast<int>(JsonU64(j, "status"));
        fake.body = j.dump();
        *stream_error = StatusFromReply(fake, "watch");
        return false;
      }
      Event e;
      e.revision = JsonU64(j, "revision");
      e.type = JsonStr(j, "type");
      e.key = DecodeKey(j);
      e.ns = JsonStr(j, "namespace");
      e.app = JsonStr(j, "app");
      e.time_ms = JsonI64(j, "time_ms", 0);
      e.size = JsonU64(j, "size");
      e.content_type = JsonStr(j, "content_type");
      e.expire_at_ms = JsonI64(j, "expire_at_ms", 0);
      e.value = DecodeValue(j);
      *since = e.revision;
      if (!on_event(e)) {
        *stopped = true;
        return false;
      }
    }
    pending.erase(0, start);
    return true;
  }

  // The JSON body of a webhook add or update; InvalidArgument when the
  // headers or payload given are not JSON objects.
  static Result<std::string> WebhookBody(const WebhookSpec& spec) {
    Json body = Json::object();
    for (auto [name, field] : {std::pair{"key", &spec.key}, {"event", &spec.event},
                               {"endpoint", &spec.endpoint}, {"method", &spec.method}}) {
      if (*field) body[name] = **field;
    }
    for (auto [name, field] :
         {std::pair{"headers", &spec.headers_json}, {"payload", &spec.payload_json}}) {
      if (!*field) continue;
      Json j = ParseJson(**field);
      if (!j.is_object()) {
        return Status::InvalidArgument(std::string(name) + " must be a JSON object, not '" +
                                       **field + "'");
      }
      body[name] = std::move(j);
    }
    if (spec.add_event_data) body["add_event_data"] = *spec.add_event_data;
    return body.dump();
  }

  static WebhookInfo WebhookFromJson(const Json& j) {
    WebhookInfo w;
    if (!j.is_object()) return w;
    w.id = JsonStr(j, "id");
    w.key = JsonStr(j, "key");
    w.event = JsonStr(j, "event");
    w.endpoint = JsonStr(j, "endpoint");
    w.method = JsonStr(j, "method");
    if (j.contains("headers") && j["headers"].is_object()) w.headers_json = j["headers"].dump();
    if (j.contains("payload") && j["payload"].is_object()) w.payload_json = j["payload"].dump();
    w.add_event_data = j.value("add_event_data", false);
    w.created_at = JsonI64(j, "created_at", 0);
    if (j.contains("delivery") && j["delivery"].is_object()) {
      const Json& d = j["delivery"];
      w.cursor = JsonU64(d, "cursor");
      w.lag = JsonU64(d, "lag");
      w.delivered = JsonU64(d, "delivered");
      w.failed = JsonU64(d, "failed");
      w.attempts = JsonU64(d, "attempts");
      w.last_status = JsonI64(d, "last_status", 0);
      w.last_error = JsonStr(d, "last_error");
      w.last_attempt_ms = JsonI64(d, "last_attempt_ms", 0);
      w.last_success_ms = JsonI64(d, "last_success_ms", 0);
    }
    return w;
  }

  static TokenInfo TokenFromJson(const Json& j) {
    TokenInfo t;
    if (!j.is_object()) return t;
    t.id = JsonStr(j, "id");
    t.tenant = JsonStr(j, "tenant");
    t.created_ms = JsonI64(j, "created_ms", 0);
    t.token = JsonStr(j, "token");
    return t;
  }

  std::string Base() const { return opt_.base_path; }
  std::string KeyPath(std::string_view key) const {
    return Base() + "/v1/kv/" + PercentEncode(key);
  }

  HttpCall NewCall(std::string method, std::string target) const {
    HttpCall call;
    call.method = std::move(method);
    call.target = std::move(target);
    if (!opt_.token.empty()) call.headers.emplace_back("Authorization", "Bearer " + opt_.token);
    call.headers.emplace_back("KV-Namespace", opt_.scope.ns);
    call.headers.emplace_back("KV-App-Name", opt_.scope.app);
    return call;
  }

  static void AddCondition(const Condition& c, HttpCall* call) {
    switch (c.kind) {
      case Condition::Kind::kNone: break;
      case Condition::Kind::kIfMatch:
        // Accept the ETag as people paste it: 7, "7" or W/"7".
        call->headers.emplace_back("If-Match", "\"" + Unquote(c.etag) + "\"");
        break;
      case Condition::Kind::kIfAbsent: call->headers.emplace_back("If-None-Match", "*"); break;
      case Condition::Kind::kIfExists: call->headers.emplace_back("KV-If-Exists", "1"); break;
    }
  }

  Result<HttpReply> Call(std::string method, std::string target) {
    return http_->Send(NewCall(std::move(method), std::move(target)));
  }

  Result<KeyMeta> MetaCall(std::string method, std::string target, std::string body,
                           std::string_view what) {
    HttpCall call = NewCall(std::move(method), std::move(target));
    call.body = std::move(body);
    auto r = http_->Send(call);
    if (!r.ok()) return r.status();
    if (r->status != 200) return StatusFromReply(*r, what);
    Json j = ParseJson(r->body);
    if (!j.is_object()) return Status::Internal("kvd sent metadata kv cannot read");
    return MetaFromJson(j);
  }

  std::unique_ptr<HttpClient> http_;
  DaemonBackendOptions opt_;
  std::string watch_pending_;  // a watch stream's incomplete last line
  std::string batch_body_;  // SetMany's request body, kept for the next batch
};

}  // namespace

Capabilities KvdCapabilities() {
  Capabilities c;
  c.ttl = c.list = c.where = c.incr = c.patch = c.clear = c.watch = c.stats = c.tokens = true;
  c.ui = true;
  c.webhooks = true;
  c.batch_set = true;
  return c;
}

std::unique_ptr<Backend> NewDaemonBackend(std::unique_ptr<HttpClient> http,
                                          DaemonBackendOptions options) {
  return std::make_unique<DaemonBackend>(std::move(http), std::move(options));
}

}  // namespace kv::client
