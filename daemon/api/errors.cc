#include "daemon/api/errors.h"

#include <string>

#include <nlohmann/json.hpp>

namespace kv::daemon {

int HttpStatusFor(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return 200;
    case Status::Code::kNotFound: return 404;
    case Status::Code::kInvalidArgument: return 400;
    case Status::Code::kPreconditionFailed: return 412;
    case Status::Code::kTooLarge: return 413;
    case Status::Code::kQuotaExceeded: return 413;
    case Status::Code::kOutOfRange: return 410;
    case Status::Code::kUnauthorized: return 401;
    case Status::Code::kUnsupported: return 501;
    case Status::Code::kUnavailable: return 503;
    case Status::Code::kTimeout: return 504;
    case Status::Code::kNoSpace: return 507;
    case Status::Code::kCorruption:
    case Status::Code::kIOError:
    case Status::Code::kInternal: return 500;
  }
  return 500;
}

const char* ErrorCodeFor(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "OK";
    case Status::Code::kNotFound: return "NOT_FOUND";
    case Status::Code::kInvalidArgument: return "BAD_REQUEST";
    case Status::Code::kPreconditionFailed: return "PRECONDITION_FAILED";
    case Status::Code::kTooLarge: return "OBJECT_TOO_LARGE";
    case Status::Code::kQuotaExceeded: return "QUOTA_EXCEEDED";
    case Status::Code::kOutOfRange: return "REVISION_GONE";
    case Status::Code::kUnauthorized: return "UNAUTHORIZED";
    case Status::Code::kUnsupported: return "NOT_IMPLEMENTED";
    case Status::Code::kUnavailable: return "UNAVAILABLE";
    case Status::Code::kTimeout: return "TIMEOUT";
    case Status::Code::kNoSpace: return "INSUFFICIENT_STORAGE";
    case Status::Code::kCorruption:
    case Status::Code::kIOError:
    case Status::Code::kInternal: return "INTERNAL_ERROR";
  }
  return "INTERNAL_ERROR";
}

std::string ErrorBody(int status, std::string_view code, std::string_view message) {
  nlohmann::json body = {{"error", std::string(message)}, {"code", std::string(code)},
                         {"status", status}};
  // Messages may quote user input (a key, a header): never let invalid UTF-8
  // turn an error into an exception.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.headers.Set("Content-Type", "application/json");
  response.body = ErrorBody(status, code, message);
  return response;
}

HttpResponse ErrorFromStatus(const Status& status) {
  std::string message = status.message();
  if (message.empty()) message = CodeName(status.code());
  return ErrorResponse(HttpStatusFor(status.code()), ErrorCodeFor(status.code()), message);
}

}  // namespace kv::daemon
