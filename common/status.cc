#include "common/status.h"

namespace kv {

const char* CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "OK";
    case Status::Code::kNotFound: return "not found";
    case Status::Code::kInvalidArgument: return "invalid argument";
    case Status::Code::kPreconditionFailed: return "precondition failed";
    case Status::Code::kTooLarge: return "too large";
    case Status::Code::kQuotaExceeded: return "quota exceeded";
    case Status::Code::kOutOfRange: return "out of range";
    case Status::Code::kUnauthorized: return "unauthorized";
    case Status::Code::kUnsupported: return "unsupported";
    case Status::Code::kUnavailable: return "unavailable";
    case Status::Code::kTimeout: return "timeout";
    case Status::Code::kNoSpace: return "insufficient storage";
    case Status::Code::kCorruption: return "corruption";
    case Status::Code::kIOError: return "I/O error";
    case Status::Code::kInternal: return "internal error";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace kv
