// InvokeApi: the HTTP API of Invoke's KV test function (brian9206/invoke,
// samples/kv-test-function), mounted at /invoke/{project}, so scripts written
// against https://HOST/invoke/<function-id>/... run against kvd with only the
// base URL changed. Bodies and statuses are the function's; "(kvd)" marks
// where kvd does better than the recorded code. kvd(8) is written from this
// comment: keep it exact.
//
//   Project   {project} is the namespace (invoke_store.h); not a valid name:
//             400 {"error":"project ..."}.
//   Keys      The rest of the path after /get/, /delete/, /has/, (kvd)
//             percent-decoded ('/' allowed); 1..--max-key-bytes bytes, no NUL.
//   Values    Any JSON (invoke_store.h), up to --max-value-bytes once stored.
//   Quota     The namespace's quota (--quota-bytes, default 1 GiB), keys plus
//             values, checked on every set: 413, nothing written. (Invoke
//             checked it only in its admin API.)
//   TTL       "ttl" in milliseconds on /set; 0 or absent: none. An expired key
//             is gone for get and (kvd) has.
//   Auth      the router's (router.h): over TCP a Bearer token, or kvd
//             --no-auth for clients that send none (function URLs are public).
//
//   GET /get/{key}      200 {"key":K,"value":V}
//                       404 {"error":"Key not found","key":K}
//   POST /set {"key":K,"value":V,"ttl":MS}
//                       200 {"success":true,"key":K,"value":V}
//                       400 {"error":"Key is required"} (absent or "")
//                       400 {"error":"Value is required"} (absent; (kvd) null is
//                           a value and is stored)
//                       400 {"error":...}: body not a JSON object, key not a
//                           string, ttl not a number >= 0, key too long
//                       413 {"error":"Storage quota exceeded: ..."} or
//                           {"error":"Value too large: ..."}
//   DELETE /delete/{key} 200 {"success":true,"deleted":true|false,"key":K}
//   GET /has/{key}      200 {"key":K,"exists":true|false}
//   POST /clear         200 {"success":true,"message":"All keys cleared"}
//   GET /               200 an HTML page listing these routes
//   An empty key:       400 {"error":"Key is required"}
//   Anything else:      404 {"error":"Route not found","availableRoutes":[...]}
//   A store failure:    500 {"error":"Internal server error","message":...}
//
// Ownership: holds a reference to the store (see router.h).
// Thread-safety: Handle() may be called concurrently from many threads.
#pragma once

#include <string>
#include <string_view>

#include "daemon/api/namespace.h"
#include "daemon/api/router.h"
#include "daemon/http/message.h"
#include "daemon/store/store.h"

namespace kv::daemon {

class InvokeApi : public RouteTable {
 public:
  explicit InvokeApi(store::Store& store);

  HttpResponse Handle(const HttpRequest& request, std::string_view rest,
                      const Caller& caller) override;

 private:
  HttpResponse Get(const NamespaceRef& ns, const std::string& key);
  HttpResponse Set(const HttpRequest& request, const NamespaceRef& ns);
  HttpResponse Delete(const NamespaceRef& ns, const std::string& key);
  HttpResponse Has(const NamespaceRef& ns, const std::string& key);
  HttpResponse Clear(const NamespaceRef& ns);

  store::Store& store_;
};

}  // namespace kv::daemon
