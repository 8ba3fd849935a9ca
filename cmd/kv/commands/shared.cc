// Helpers every command family uses (declared in commands.h).
#include <cstdio>

#include "cmd/kv/commands/commands.h"

namespace kv::cli {

void OnRun(CLI::App* command, Context& ctx, std::function<Status()> run) {
  command->callback([&ctx, run = std::move(run)] { ctx.SetAction(run); });
}

Status CheckKey(const std::string& key) {
  if (key.empty()) return Status::InvalidArgument("a key must not be empty");
  return Status::Ok();
}

Status GetBackend(Context& ctx, client::Backend** backend) {
  Result<client::Backend*> b = ctx.backend();
  if (!b.ok()) return b.status();
  *backend = *b;
  return Status::Ok();
}

Status Prefixed(const Status& status, const std::string& prefix) {
  std::string m = prefix + status.message();
  switch (status.code()) {
    case Status::Code::kOk: return status;
    case Status::Code::kNotFound: return Status::NotFound(m);
    case Status::Code::kInvalidArgument: return Status::InvalidArgument(m);
    case Status::Code::kPreconditionFailed: return Status::PreconditionFailed(m);
    case Status::Code::kTooLarge: return Status::TooLarge(m);
    case Status::Code::kQuotaExceeded: return Status::QuotaExceeded(m);
    case Status::Code::kOutOfRange: return Status::OutOfRange(m);
    case Status::Code::kUnauthorized: return Status::Unauthorized(m);
    case Status::Code::kUnsupported: return Status::Unsupported(m);
    case Status::Code::kUnavailable: return Status::Unavailable(m);
    case Status::Code::kTimeout: return Status::Timeout(m);
    case Status::Code::kNoSpace: return Status::NoSpace(m);
    case Status::Code::kCorruption: return Status::Corruption(m);
    case Status::Code::kIOError: return Status::IOError(m);
    case Status::Code::kInternal: return Status::Internal(m);
  }
  return Status::Internal(m);
}

std::string QuoteKey(std::string_view key) {
  std::string out;
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

}  // namespace kv::cli
