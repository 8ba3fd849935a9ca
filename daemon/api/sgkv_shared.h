// What kvd's simple-golang-kv route tables (/kv in sgkv_api.h, /webhooks)
// share: that service's configuration (its environment variables, which kvd
// reads too), its two error shapes, and how it names a namespace.
//
//   {"error":"Key not found"}                       its handlers' errors
//   {"message":"Key too long (max 100 characters)"} Echo's own errors (the
//                                                   framework it runs on):
//                                                   length limits, 404/405
//
// Both bodies end with a newline, as Echo's c.JSON writes them.
//
// Thread-safety: free functions and plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "daemon/api/namespace.h"
#include "daemon/http/message.h"

namespace kv::daemon {

// simple-golang-kv's settings; each is a kvd flag whose environment twin is
// the variable simple-golang-kv reads (cmd/kvd/main.cc).
struct SgkvOptions {
  // DEFAULT_NAMESPACE, DEFAULT_APPNAME: used when the header is absent or empty.
  std::string default_namespace = kDefaultNamespace;
  std::string default_app = kDefaultAppName;
  // DEFAULT_TTL_SECONDS: the TTL of a write that gives none (or 0); 0 = none.
  int64_t default_ttl_seconds = 0;
  // MAX_NAMESPACE_LEN, MAX_APPNAME_LEN, MAX_KEY_LEN: bytes.
  size_t max_namespace_len = 25;
  size_t max_app_len = 25;
  size_t max_key_len = 100;
  // MAX_VALUE_SIZE: bytes of a value.
  size_t max_value_size = 1048576;
  // MAX_TTL_SECONDS: the largest ttl a request may give (1 year).
  int64_t max_ttl_seconds = 31536000;

  // InvalidArgument naming the variable when a setting cannot work in kvd: a
  // default name kv::ValidateName refuses, a length over kv::kMaxNameBytes or
  // over kvd's own key/value limits, a negative TTL.
  Status Validate(size_t kvd_max_key_bytes, size_t kvd_max_value_bytes) const;
};

// {"error": message} with `status`.
HttpResponse SgkvError(int status, std::string_view message);
// {"message": message} with `status`, Echo's error shape.
HttpResponse EchoError(int status, std::string_view message);
// `body` (JSON text, without the newline) with `status`, as Echo's c.JSON.
HttpResponse SgkvJson(int status, std::string body);

// The namespace a simple-golang-kv request addresses for `tenant`: the
// KV-Namespace and KV-App-Name headers, empty or absent meaning the defaults.
// On failure returns nullopt and sets *error to the answer to send:
//   400 {"message":"Namespace too long (max 25 characters)"}  (and
//       "App name too long ..."), as simple-golang-kv answers;
//   400 {"error":"namespace 'a/b' may only contain ..."}: characters kvd
//       cannot keep in a namespace name (simple-golang-kv has no such rule).
std::optional<NamespaceRef> SgkvNamespace(const HttpRequest& request, std::string_view tenant,
                                          const SgkvOptions& options, HttpResponse* error);

}  // namespace kv::daemon
