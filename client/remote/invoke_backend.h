// InvokeBackend: Invoke's KV store through the HTTP API of its KV test
// function (seeds/invoke-kv-test-function.md), under a function URL
// https://HOST/invoke/FUNCTION_ID:
//
//   GET    {base}/get/{key}     200 {"key","value"} | 404
//   POST   {base}/set           {"key","value","ttl"?}  (ttl in ms) 200 | 413 quota
//   DELETE {base}/delete/{key}  200 {"deleted":bool}
//   GET    {base}/has/{key}     200 {"key","exists":bool}
//   POST   {base}/clear         200
//
// Invoke stores JSON values. A value kv writes is sent as the JSON it is
// when it parses as JSON and is not a JSON string; any other value (text,
// or a JSON string literal such as "x" with its quotes) is sent as a JSON
// string of its bytes. Reading gives a string's bytes back, and any other
// JSON value as its JSON text, so what kv writes round-trips (JSON numbers,
// objects and arrays in nlohmann's compact form). Bytes that are not UTF-8
// cannot be stored (InvalidArgument). Content types are not stored: reads
// say application/json for a non-string value, text/plain for a string.
//
// The function decodes no %-escapes in its paths, so a key is put in the
// path as it is; a key with a byte a URL path cannot carry as it is (space,
// '?', '#', '%', controls, non-ASCII) is refused with InvalidArgument.
//
// kv meta and kv has read GET /get/{key}: Invoke's has() reports keys that
// expired but were not read yet, and /has gives no size. The project is the
// function URL: namespaces other than default/default are refused.
// Everything else (ls, incr, patch, expire, persist, conditions, --keep-ttl,
// watch, stats, tokens) is Unsupported: "invoke does not support ...".
// clear reports 0 keys: the API does not say how many it deleted.
//
// Ownership: the backend owns its HttpClient. Thread-safety: one thread at a
// time (Backend's contract).
#pragma once

#include <memory>
#include <string>

#include "client/backend.h"
#include "client/http_client.h"

namespace kv::client {

struct InvokeOptions {
  // The function's path on its host, e.g. "/invoke/3f2a..." (no trailing /).
  std::string base_path;
  // Sent as "Authorization: Bearer TOKEN" when not empty.
  std::string token;
  Scope scope;
};

std::unique_ptr<Backend> NewInvokeBackend(std::unique_ptr<HttpClient> http,
                                          InvokeOptions options);

}  // namespace kv::client
