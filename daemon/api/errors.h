// Errors of kvd's HTTP APIs: a status, and keyvalue.dev's JSON error body
//
//   {"error":"<one line a person understands>","code":"<STABLE_WORD>","status":N}
//
// with Content-Type: application/json. The code is the stable part: clients
// (kv, scripts) branch on it, never on the message.
//
//   code                    status  when
//   BAD_REQUEST             400     bad input: ttl, JSON, cursor, limit, name, header...
//   KEY_TOO_LONG            400     key over the key limit (keyvalue.dev's status)
//   CONFIRMATION_REQUIRED   400     DELETE /v1/keys without ?confirm=1
//   UNAUTHORIZED            401     missing or unknown Bearer token (TCP)
//   FORBIDDEN               403     admin route over TCP
//   NOT_FOUND               404     missing key, token, or route
//   METHOD_NOT_ALLOWED      405     known path, other method (Allow header set)
//   TYPE_MISMATCH           409     incr on a non-integer, patch of a non-object
//   REVISION_GONE           410     watch ?since= older than the retained event log
//   PRECONDITION_FAILED     412     If-Match / If-None-Match / KV-If-Exists did not hold
//   OBJECT_TOO_LARGE        413     value over the value limit (keyvalue.dev)
//   QUOTA_EXCEEDED          413     the write would take the namespace over its
//                                   quota (413 as Invoke answers it)
//   UNSUPPORTED_MEDIA_TYPE  415     PATCH without a JSON merge patch content type
//   INTERNAL_ERROR          500     corruption, I/O error, bug (keyvalue.dev's word)
//   NOT_IMPLEMENTED         501     the operation is not supported
//   UNAVAILABLE             503     the store cannot serve now
//   TIMEOUT                 504     the store did not answer in time
//   INSUFFICIENT_STORAGE    507     the disk is full
//
// Thread-safety: free functions without shared state.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "daemon/http/message.h"

namespace kv::daemon {

// The HTTP status and stable code for a Status that is not ok().
int HttpStatusFor(Status::Code code);
const char* ErrorCodeFor(Status::Code code);

// A JSON error response.
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message);
// The JSON error response for a Status that is not ok(); the message is the
// Status's message.
HttpResponse ErrorFromStatus(const Status& status);

// The error body alone (no trailing newline), for a stream's last line.
std::string ErrorBody(int status, std::string_view code, std::string_view message);

}  // namespace kv::daemon
