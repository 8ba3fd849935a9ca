#include "client/remote/invoke_backend.h"

#include <nlohmann/json.hpp>

#include "common/json_flat.h"

namespace kv::client {
namespace {

using Json = nlohmann::json;

constexpr char kName[] = "invoke";

// Characters a URL path carries as they are (RFC 3986 pchar without '%',
// plus '/'): the function reads its keys from the raw path.
bool PathSafe(std::string_view key) {
  for (unsigned char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) {
      switch (c) {
        case '-': case '.': case '_': case '~': case '!': case '$': case '&': case '\'':
        case '(': case ')': case '*': case '+': case ',': case ';': case '=': case ':':
        case '@': case '/':
          ok = true;
          break;
        default: break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += len;
  }
  return true;
}

std::string Str(const Json& j, const char* name) {
  if (!j.is_object()) return "";
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

class InvokeBackend final : public Backend {
 public:
  InvokeBackend(std::unique_ptr<HttpClient> http, InvokeOptions options)
      : http_(std::move(http)), opt_(std::move(options)) {}

  std::string Name() const override { return kName; }
  Capabilities Caps() const override {
    Capabilities c;
    c.ttl = true;  // on set only
    c.clear = true;
    return c;
  }
  void SetScope(const Scope& scope) override { opt_.scope = scope; }
  const Scope& scope() const override { return opt_.scope; }

  Result<Value> Get(std::string_view key) override {
    if (Status s = Check(key); !s.ok()) return s;
    auto reply = Call("GET", "/get/" + std::string(key), "");
    if (!reply.ok()) return reply.status();
    if (reply->status != 200) return FromReply(*reply, key);
    Json body = Json::parse(reply->body, nullptr, false);
    if (!body.is_object() || !body.contains("value")) {
      return Status::Internal("invoke at " + http_->Describe() + " sent a reply kv cannot read");
    }
    Value v;
    const Json& value = body["value"];
    if (value.is_string()) {
      v.bytes = value.get<std::string>();
      v.meta.content_type = "text/plain";
    } else {
      v.bytes = value.dump();
      v.meta.content_type = "application/json";
    }
    v.meta.key.assign(key);
    v.meta.size = v.bytes.size();
    return v;
  }

  Result<KeyMeta> Meta(std::string_view key) override {
    auto v = Get(key);
    if (!v.ok()) return v.status();
    return v->meta;
  }

  Result<KeyMeta> Set(std::string_view key, std::string_view value,
                      const SetOptions& o) override {
    if (Status s = Check(key); !s.ok()) return s;
    switch (o.condition.kind) {
      case Condition::Kind::kNone: break;
      case Condition::Kind::kIfMatch: return NotSupported(kName, "--if-match");
      case Condition::Kind::kIfAbsent: return NotSupported(kName, "--if-absent");
      case Condition::Kind::kIfExists: return NotSupported(kName, "--if-exists");
    }
    if (o.keep_ttl) return NotSupported(kName, "--keep-ttl");
    Json doc = kv::json::ParseTree<Json>(value);  // too deep: sent as a string
    Json body = {{"key", key}};
    if (!doc.is_discarded() && !doc.is_string()) {
      body["value"] = std::move(doc);
    } else if (ValidUtf8(value)) {
      body["value"] = std::string(value);
    } else {
      return Status::InvalidArgument("invoke stores JSON: the value of " + std::string(key) +
                                     " is neither JSON nor UTF-8 text");
    }
    if (o.ttl_ms > 0) body["ttl"] = o.ttl_ms;
    auto reply = Call("POST", "/set", body.dump());
    if (!reply.ok()) return reply.status();
    if (reply->status != 200 && reply->status != 201) return FromReply(*reply, key);
    KeyMeta m;
    m.key.assign(key);
    m.size = value.size();
    m.content_type = body["value"].is_string() ? "text/plain" : "application/json";
    if (o.ttl_ms > 0) m.ttl_ms = o.ttl_ms;
    return m;
  }

  Result<uint64_t> Delete(std::string_view key, const Condition& condition) override {
    if (Status s = Check(key); !s.ok()) return s;
    if (condition.kind != Condition::Kind::kNone) return NotSupported(kName, "conditional deletes");
    auto reply = Call("DELETE", "/delete/" + std::string(key), "");
    if (!reply.ok()) return reply.status();
    if (reply->status != 200) return FromReply(*reply, key);
    Json body = Json::parse(reply->body, nullptr, false);
    if (body.is_object() && body.contains("deleted") && body["deleted"].is_boolean() &&
        !body["deleted"].get<bool>()) {
      return Status::NotFound("key not found: " + std::string(key));
    }
    return uint64_t{0};
  }

  Result<ListPage> List(const ListRequest&) override { return NotSupported(kName, "ls"); }
  Result<std::string> Incr(std::string_view, int64_t) override {
    return NotSupported(kName, "incr");
  }
  Result<std::string> Patch(std::string_view, std::string_view) override {
    return NotSupported(kName, "patch");
  }
  Result<KeyMeta> Expire(std::string_view, int64_t) override {
    return NotSupported(kName, "expire");
  }
  Result<KeyMeta> Persist(std::string_view) override { return NotSupported(kName, "persist"); }

  Result<uint64_t> Clear(std::string_view prefix) override {
    if (!prefix.empty()) return NotSupported(kName, "del --prefix");
    if (Status s = CheckScope(); !s.ok()) return s;
    auto reply = Call("POST", "/clear", "");
    if (!reply.ok()) return reply.status();
    if (reply->status != 200) return FromReply(*reply, "");
    return uint64_t{0};
  }

  Result<std::vector<NamespaceStats>> Stats(bool) override { return NotSupported(kName, "stats"); }
  Status Watch(const WatchRequest&, const std::function<bool(const Event&)>&) override {
    return NotSupported(kName, "watch");
  }
  Result<TokenInfo> CreateToken(std::string_view) override {
    return NotSupported(kName, "token administration");
  }
  Result<std::vector<TokenInfo>> ListTokens() override {
    return NotSupported(kName, "token administration");
  }
  Status RevokeToken(std::string_view) override {
    return NotSupported(kName, "token administration");
  }

 private:
  Status CheckScope() const {
    if (opt_.scope.ns != "default" || opt_.scope.app != "default") {
      return NotSupported(kName, "namespaces (the function URL names the project)");
    }
    return Status::Ok();
  }

  Status Check(std::string_view key) const {
    if (Status s = CheckScope(); !s.ok()) return s;
    if (!PathSafe(key)) {
      return Status::InvalidArgument(
          "invoke cannot address key '" + std::string(key) +
          "': its API takes keys in the URL path without %-decoding (use letters, digits and "
          "-._~!$&'()*+,;=:@/)");
    }
    return Status::Ok();
  }

  Result<HttpReply> Call(const char* method, const std::string& path, std::string body) {
    HttpCall call;
    call.method = method;
    call.target = opt_.base_path + path;
    if (!opt_.token.empty()) call.headers.emplace_back("Authorization", "Bearer " + opt_.token);
    if (!body.empty()) call.headers.emplace_back("Content-Type", "application/json");
    call.body = std::move(body);
    return http_->Send(call);
  }

  // The function's error answers ({"error": ...}) as a Status.
  Status FromReply(const HttpReply& reply, std::string_view key) const {
    Json body = Json::parse(reply.body, nullptr, false);
    std::string message = Str(body, "error");
    if (std::string detail = Str(body, "message"); !detail.empty()) message += ": " + detail;
    if (message.empty()) message = "HTTP " + std::to_string(reply.status);
    message = "invoke at " + http_->Describe() + ": " + message;
    switch (reply.status) {
      case 400: return Status::InvalidArgument(message);
      case 401:
      case 403: return Status::Unauthorized(message);
      case 404:
        if (Str(body, "error") == "Key not found") {
          return Status::NotFound("key not found: " + std::string(key));
        }
        return Status::Unsupported(message + " (is the URL an Invoke KV function?)");
      case 413: return Status::QuotaExceeded(message);
      case 502:
      case 503: return Status::Unavailable(message);
      case 504: return Status::Timeout(message);
      default: return Status::Internal(message);
    }
  }

  std::unique_ptr<HttpClient> http_;
  InvokeOptions opt_;
};

}  // namespace

std::unique_ptr<Backend> NewInvokeBackend(std::unique_ptr<HttpClient> http,
                                          InvokeOptions options) {
  return std::make_unique<InvokeBackend>(std::move(http), std::move(options));
}

}  // namespace kv::client
