// kv's exit codes: DESIGN.md's table ("Errors and exit codes of kv"), as
// named constants, and the one mapping from a Status to them. CLI11's own
// codes (100-127) never leave kv: app.cc turns every parse error into
// kExitUsage.
//
// Thread-safety: constants and a pure function.
#pragma once

#include "common/status.h"

namespace kv::cli {

// Done (`has`: the key exists).
inline constexpr int kExitOk = 0;
// Not found (`get`, `del`, `meta`, `has`, `ttl`... on a missing key).
// Also an unexpected internal failure caught in main() (STYLE.md item 5).
inline constexpr int kExitNotFound = 1;
// Usage: unknown command or flag, bad duration, bad JSON where JSON is
// required, a bad config file or profile name.
inline constexpr int kExitUsage = 2;
// Precondition failed: ETag mismatch, key exists with --if-absent, missing
// with --if-exists.
inline constexpr int kExitPrecondition = 3;
// The backend is unreachable, or it timed out.
inline constexpr int kExitUnavailable = 4;
// Refused by the backend: too large, quota exceeded, unauthorized,
// unsupported, and every other backend error.
inline constexpr int kExitRefused = 5;

// The exit code for a Status (client/backend.h's table). ok() -> kExitOk.
inline int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return kExitOk;
    case Status::Code::kNotFound:
      return kExitNotFound;
    case Status::Code::kInvalidArgument:
      return kExitUsage;
    case Status::Code::kPreconditionFailed:
      return kExitPrecondition;
    case Status::Code::kUnavailable:
    case Status::Code::kTimeout:
      return kExitUnavailable;
    default:
      return kExitRefused;
  }
}

}  // namespace kv::cli
