#include "daemon/api/router.h"

#include <algorithm>
#include <cctype>

#include "common/key.h"
#include "daemon/api/errors.h"
#include "daemon/api/namespace.h"
#include "daemon/api/invoke_admin_api.h"
#include "daemon/api/invoke_api.h"
#include "daemon/api/native_api.h"
#include "daemon/api/sgkv_api.h"
#include "daemon/api/ui_routes.h"
#include "daemon/api/webhook_api.h"

namespace kv::daemon {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The token of "Bearer <token>" (scheme case-insensitive, one space, as
// keyvalue.dev parses it); empty when the header is not of that form.
std::string_view BearerToken(std::string_view header) {
  size_t space = header.find(' ');
  if (space == std::string_view::npos) return {};
  std::string_view scheme = header.substr(0, space);
  std::string_view token = header.substr(space + 1);
  if (!EqualsIgnoreCase(scheme, "Bearer") || token.empty() ||
      token.find(' ') != std::string_view::npos) {
    return {};
  }
  return token;
}

HttpResponse Unauthorized(std::string_view message, bool invalid_token) {
  HttpResponse response = ErrorResponse(401, "UNAUTHORIZED", message);
  response.headers.Set("WWW-Authenticate", invalid_token
                                               ? "Bearer realm=\"kvd\", error=\"invalid_token\""
                                               : "Bearer realm=\"kvd\"");
  return response;
}

// Whether a request without a token may be served under --no-auth. The
// clients --no-auth is for are local programs (curl, simple-golang-kv and
// Invoke clients); the one client that can be talked into sending requests
// is a browser. A page of another site says so in Origin, and a page that
// reached kvd through a DNS name rebound to 127.0.0.1 names that name in
// Host: both are refused, so no web page can use a token-less kvd.
bool LocalProgram(const HttpRequest& request) {
  std::string_view host = request.headers.Get("Host").value_or("");
  std::string_view name = host;
  if (!name.empty() && name.front() == '[') {
    name = name.substr(0, name.find(']') + 1);  // "[::1]:7379"
  } else {
    name = name.substr(0, name.find(':'));
  }
  // 127.x.y.z as digits only: "127.evil.example" is a name that can rebind.
  const bool loopback_ip = name.starts_with("127.") &&
                           name.find_first_not_of("0123456789.") == std::string_view::npos;
  const bool loopback_name = name.empty() || EqualsIgnoreCase(name, "localhost") || loopback_ip ||
                             name == "[::1]";
  if (!loopback_name) return false;
  std::optional<std::string_view> origin = request.headers.Get("Origin");
  if (!origin) return true;
  return EqualsIgnoreCase(*origin, "http://" + std::string(host));
}

}  // namespace

Router::Router(store::Store& store, auth::TokenStore& tokens, ApiOptions options)
    : store_(store),
      tokens_(tokens),
      options_(options),
      sessions_(std::make_unique<auth::UiSessions>([&store] { return store.NowMs(); })),
      native_(std::make_unique<NativeApi>(store, tokens, options_)),
      sgkv_(std::make_unique<SgkvApi>(store, options_.sgkv)),
      invoke_(std::make_unique<InvokeApi>(store)),
      invoke_admin_(std::make_unique<InvokeAdminApi>(store)),
      ui_(std::make_unique<UiRoutes>(*sessions_, options_.tcp_endpoint)),
      webhooks_native_(
          std::make_unique<WebhookApi>(store, WebhookApi::Style::kNative, options_.sgkv)),
      webhooks_sgkv_(
          std::make_unique<WebhookApi>(store, WebhookApi::Style::kSimpleGolangKv, options_.sgkv)) {
  mounts_.push_back({"/api/v1", native_.get()});
  mounts_.push_back({"/v1", native_.get()});
  mounts_.push_back({"/v1/webhooks", webhooks_native_.get()});
  mounts_.push_back({"/api/v1/webhooks", webhooks_native_.get()});
  mounts_.push_back({"/kv", sgkv_.get()});
  mounts_.push_back({"/webhooks", webhooks_sgkv_.get()});
  mounts_.push_back({"/invoke", invoke_.get()});
  mounts_.push_back({"/api/projects", invoke_admin_.get()});
  mounts_.push_back({"/ui", ui_.get(), /*open=*/true});
  std::stable_sort(mounts_.begin(), mounts_.end(), [](const Mount& a, const Mount& b) {
    return a.prefix.size() > b.prefix.size();
  });
}

Router::~Router() = default;

bool Router::Authenticate(const HttpRequest& request, Caller* caller,
                          HttpResponse* refusal) const {
  if (request.transport == Transport::kUnixSocket) {
    caller->admin = true;
    caller->tenant = kLocalTenant;
    if (auto as = request.headers.Get("KV-Tenant"); as && !as->empty()) {
      if (Status s = ValidateName(*as, "tenant"); !s.ok()) {
        *refusal = ErrorFromStatus(s);
        return false;
      }
      caller->tenant = std::string(*as);
    }
    return true;
  }
  caller->admin = false;
  std::optional<std::string_view> header = request.headers.Get("Authorization");
  std::string_view token = header ? BearerToken(*header) : std::string_view();
  std::optional<std::string> tenant;
  if (!token.empty()) tenant = tokens_.Lookup(token);
  if (!tenant && !token.empty()) {
    tenant = sessions_->Lookup(token);
    if (tenant) caller->session = std::string(token);
  }
  if (tenant) {
    caller->tenant = std::move(*tenant);
    return true;
  }
  if (options_.no_auth) {
    if (!LocalProgram(request)) {
      *refusal = ErrorResponse(403, "FORBIDDEN",
                               "a browser page of another origin (or a Host that is not "
                               "loopback) needs a token, even with --no-auth");
      return false;
    }
    caller->tenant = kLocalTenant;
    return true;
  }
  if (token.empty()) {
    *refusal = Unauthorized("Missing or invalid Authorization header", false);
  } else {
    *refusal = Unauthorized("Invalid API token", true);
  }
  return false;
}

const Router::Mount* Router::FindMount(const HttpRequest& request, std::string_view* path) const {
  *path = request.raw_path.empty() ? std::string_view(request.path)
                                   : std::string_view(request.raw_path);
  for (const Mount& m : mounts_) {
    if (path->substr(0, m.prefix.size()) == m.prefix &&
        (path->size() == m.prefix.size() || (*path)[m.prefix.size()] == '/')) {
      return &m;
    }
  }
  return nullptr;
}

bool Router::FlushNeeded() { return store_.WalFlushNeeded(); }
Status Router::Flush() { return store_.FlushWal(); }

std::optional<uint64_t> Router::BodyLimit(const HttpRequest& head) {
  std::string_view path;
  const Mount* mount = FindMount(head, &path);
  if (mount == nullptr || mount->table != native_.get()) return std::nullopt;
  if (head.method == "PUT" || head.method == "PATCH") return options_.max_value_bytes;
  if (head.method == "POST" && path.ends_with("/batch")) return options_.max_value_bytes;
  return kMaxSmallBodyBytes;
}

HttpResponse Router::Handle(const HttpRequest& request) {
  std::string_view path;
  const Mount* mount = FindMount(request, &path);

  HttpResponse response;
  if (mount == nullptr) {
    response = ErrorResponse(404, "NOT_FOUND",
                             "no such route: " + request.method + " " + std::string(path));
    response.route = "(unmatched)";
  } else {
    Caller caller;
    bool known = Authenticate(request, &caller, &response);
    if (!known && !mount->open) {
      response.route = "(unauthorized)";
    } else {
      if (!known) caller = Caller();  // an open table serves anonymous callers too
      response = mount->table->Handle(request, path.substr(mount->prefix.size()), caller);
      response.route = mount->prefix + response.route;
    }
  }
  if (request.method == "HEAD") response.body.clear();
  return response;
}

}  // namespace kv::daemon
