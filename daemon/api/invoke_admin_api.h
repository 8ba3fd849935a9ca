// InvokeAdminApi: the export and import routes of Invoke's admin API
// (invoke-admin/pages/api/projects/[id]/kv-export.ts, kv-import.ts), mounted
// at /api/projects, in Invoke's own format, so a project's data moves between
// Invoke and kvd:
//
//   curl -H "Authorization: Bearer $JWT" https://INVOKE/api/projects/P/kv-export > p.json
//   jq '{data: ., strategy: "merge"}' p.json > import.json
//   curl -H 'Content-Type: application/json' -d @import.json
//        http://127.0.0.1:7379/api/projects/P/kv-import     (one command)
//
// The project is the namespace PROJECT/default of the caller's tenant, values
// are kept as invoke_store.h says. kvd(8) is written from this comment.
//
//   GET /api/projects/{project}/kv-export
//     200, Content-Type: application/json, Content-Disposition: attachment;
//     filename="kv-export-{project}-{unix ms}.json"; the body is one JSON
//     object {"key": value, ...} in key byte order, indented by 2 as
//     JSON.stringify(data, null, 2). No TTLs. (kvd) Strings stay strings
//     (Invoke turned a string that parses as JSON into that JSON).
//   POST /api/projects/{project}/kv-import  {"data":{"key":value,...},"strategy":"merge"|"replace"}
//     strategy defaults to merge (keys not in data stay); replace deletes
//     every key of the project first. Imported keys have no TTL.
//     200 {"success":true,"data":{"imported":N,"updated":M,"total":N+M,
//          "strategy":"merge"},"message":"Import completed successfully",
//          "statusCode":200,"timestamp":"2026-01-01T00:00:00.000Z"}
//     (imported: keys that did not exist, updated: keys overwritten.)
//     400 "Data must be a JSON object with key-value pairs",
//         "Strategy must be either \"merge\" or \"replace\"", a bad key;
//     413 "Import would exceed storage quota. Projected usage: X.XXMB,
//         Limit: Y.YYMB" (against the namespace's quota), or a value over
//         --max-value-bytes. (kvd) Every check runs before anything is
//         written, so a refused import changes nothing; the writes are atomic
//         batches of 10000 keys.
//   Errors use Invoke's envelope: {"success":false,"data":null,"message":...,
//   "statusCode":N,"timestamp":...}; another method: 405 "Method not
//   allowed"; project "system": 403, as Invoke.
//   Auth: the router's. Invoke's admin JWT is not a kvd token: send a kvd
//   token, or run kvd --no-auth on loopback (any token is then accepted).
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

class InvokeAdminApi : public RouteTable {
 public:
  explicit InvokeAdminApi(store::Store& store);

  HttpResponse Handle(const HttpRequest& request, std::string_view rest,
                      const Caller& caller) override;

 private:
  HttpResponse Export(const NamespaceRef& ns, std::string_view project);
  HttpResponse Import(const HttpRequest& request, const NamespaceRef& ns);

  store::Store& store_;
};

}  // namespace kv::daemon
