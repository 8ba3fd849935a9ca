// SgkvApi: the key-value API of simple-golang-kv (github.com/mrofi/simple-golang-kv),
// mounted at /kv, so its clients run unchanged against kvd. Its webhooks
// (/webhooks) are another table. What its code really answers is recorded in
// the project's peers notes; kvd answers the same, except where noted
// "(kvd)". kvd(8) is written from this comment: keep it exact.
//
//   Namespace  KV-Namespace and KV-App-Name headers, empty or absent =
//              DEFAULT_NAMESPACE / DEFAULT_APPNAME; the kvd namespace
//              tenant/NS/APP (namespace.h), so `kv -n NS --app APP` sees the
//              same keys. Over MAX_NAMESPACE_LEN / MAX_APPNAME_LEN bytes: 400
//              {"message":"Namespace too long (max 25 characters)"}. (kvd) A
//              name with characters other than [A-Za-z0-9._-]: 400 {"error":...}.
//   Keys       The rest of the path, percent-decoded, '/' included: (kvd) a
//              key "a/b" is GET /kv/a/b or /kv/a%2Fb (simple-golang-kv could
//              store it but never read it). Over MAX_KEY_LEN bytes: 400
//              {"message":"Key too long (max 100 characters)"} (on GET
//              simple-golang-kv answered 500 with that body; kvd 400).
//   Values     Strings, up to MAX_VALUE_SIZE bytes, stored as they are
//              (text/plain; charset=utf-8), so `kv get` prints them as sent.
//   TTL        "ttl" in whole seconds, 0..MAX_TTL_SECONDS; 0 or absent =
//              DEFAULT_TTL_SECONDS (0: no expiry, and a write without one
//              removes a key's TTL). Reads give the remaining seconds (rounded
//              up) and "expire_at" (Unix seconds), both null without a TTL.
//   Bodies     JSON, with Content-Type application/json or (kvd) none at all;
//              another content type, bad JSON, or a field of the wrong type
//              ("value" must be a string, "ttl" an integer; names match
//              case-insensitively, as Go's encoding/json does): 400
//              {"error":"Invalid input"}. Every body ends with a newline.
//   Auth       the router's (router.h): over TCP a Bearer token, or kvd
//              --no-auth for clients that send none (simple-golang-kv has no auth).
//
//   POST /kv  {"key":"foo","value":"bar","ttl":60}
//     201, the request echoed: {"key":"foo","value":"bar","ttl":60} (ttl after
//     the default applies, left out when 0; "expire_at" only when sent).
//     Creates or overwrites. 400 {"error":"Invalid input"},
//     {"error":"Key must not be empty"}, {"error":"Value too large (max 1048576 bytes)"},
//     {"error":"TTL must be between 0 and 31536000 seconds"}, or a length
//     error (above), checked in that order. (kvd) 413 {"error":"..."} when
//     the namespace's quota would be exceeded.
//   GET /kv/{key}
//     200 {"key":"foo","value":"bar","ttl":57,"expire_at":1710000057}
//     404 {"error":"Key not found"}
//   GET /kv/{prefix}*     (a literal '*' ends the raw path; %2A is a key's '*')
//     200 [{...}, ...] every key starting with the prefix, keys relative, in
//     byte order; none: 404 {"error":"Key not found"}. (kvd) More than
//     kMaxListed: 400 {"error":...}, use `kv ls`.
//   PUT /kv/{key}  {"value":"baz","ttl":120}
//     200 {"key":"foo","value":"baz","ttl":120}: creates or overwrites (the
//     body's "key" is ignored); errors as POST.
//   DELETE /kv/{key}
//     204, whether or not the key existed.
//   Another method: 405 {"message":"Method Not Allowed"} with Allow.
//
// Ownership: holds a reference to the store (see router.h).
// Thread-safety: Handle() may be called concurrently from many threads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "daemon/api/namespace.h"
#include "daemon/api/router.h"
#include "daemon/api/sgkv_shared.h"
#include "daemon/http/message.h"
#include "daemon/store/store.h"

namespace kv::daemon {

class SgkvApi : public RouteTable {
 public:
  // The most keys one GET /kv/{prefix}* answers with.
  static constexpr size_t kMaxListed = 100000;

  SgkvApi(store::Store& store, const SgkvOptions& options);

  HttpResponse Handle(const HttpRequest& request, std::string_view rest,
                      const Caller& caller) override;

 private:
  // POST /kv and PUT /kv/{key}: `path_key` is empty for POST.
  HttpResponse Write(const HttpRequest& request, const Caller& caller, const std::string& path_key);
  HttpResponse Get(const NamespaceRef& ns, const std::string& key);
  HttpResponse List(const NamespaceRef& ns, const std::string& prefix);
  HttpResponse Delete(const NamespaceRef& ns, const std::string& key);

  // The key's length error (400, Echo's shape), or nullopt.
  std::optional<HttpResponse> CheckKey(const std::string& key) const;

  store::Store& store_;
  const SgkvOptions options_;
};

}  // namespace kv::daemon
