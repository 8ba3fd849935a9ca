// Status: the outcome of an operation, carried across module boundaries as a
// value (no exception leaves a module). Modelled on leveldb::Status: OK is
// cheap (no allocation), errors carry a code and a one-line message a person
// can read.
//
// Thread-safety: a Status is a value; const methods may be called from many
// threads at once.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace kv {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk,
    kNotFound,            // the key (or namespace, event...) does not exist
    kInvalidArgument,     // bad input: key, JSON, duration, cursor...
    kPreconditionFailed,  // if-match / if-absent / if-exists did not hold
    kTooLarge,            // key or value over its configured limit
    kQuotaExceeded,       // the namespace's quota would be exceeded
    kOutOfRange,          // e.g. an event revision no longer retained
    kUnauthorized,
    kUnsupported,         // the backend cannot do this operation
    kUnavailable,         // backend unreachable / data dir in use
    kTimeout,
    kNoSpace,             // the disk is full
    kCorruption,          // on-disk data is not what it must be
    kIOError,
    kInternal,
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status PreconditionFailed(std::string msg) { return {Code::kPreconditionFailed, std::move(msg)}; }
  static Status TooLarge(std::string msg) { return {Code::kTooLarge, std::move(msg)}; }
  static Status QuotaExceeded(std::string msg) { return {Code::kQuotaExceeded, std::move(msg)}; }
  static Status OutOfRange(std::string msg) { return {Code::kOutOfRange, std::move(msg)}; }
  static Status Unauthorized(std::string msg) { return {Code::kUnauthorized, std::move(msg)}; }
  static Status Unsupported(std::string msg) { return {Code::kUnsupported, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status Timeout(std::string msg) { return {Code::kTimeout, std::move(msg)}; }
  static Status NoSpace(std::string msg) { return {Code::kNoSpace, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsPreconditionFailed() const { return code_ == Code::kPreconditionFailed; }
  bool IsTooLarge() const { return code_ == Code::kTooLarge; }
  bool IsQuotaExceeded() const { return code_ == Code::kQuotaExceeded; }
  bool IsOutOfRange() const { return code_ == Code::kOutOfRange; }

  Code code() const { return code_; }
  // The one-line message, without a code prefix; empty when ok().
  const std::string& message() const { return message_; }
  // "<code name>: <message>", or "OK".
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// The stable name of a code ("not found", "precondition failed", ...).
const char* CodeName(Status::Code code);

// Result<T>: a T, or the Status saying why there is none.
// REQUIRES: value() only when ok().
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace kv
