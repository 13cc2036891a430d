// Status: the outcome of an operation that can fail in normal operation.
//
// Contract: a default-constructed Status is OK. Errors carry a Code and a
// one-line human message (no trailing newline) suitable for printing to a
// user as-is. Exceptions are reserved for bugs and start-up failures; every
// expected failure (bad input, I/O error, commit conflict, unreachable peer)
// travels as a Status or a Result<T>. Both are [[nodiscard]] (and the build
// makes dropping one an error): a caller handles the result, logs it, or says
// in a comment why it may be ignored.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace ws {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,  // the caller's input is wrong (bad flag, bad parameter)
    kNotFound,         // a file, table, snapshot or key does not exist
    kAlreadyExists,    // no-clobber create found an existing object
    kIOError,          // the operating system refused a read or write
    kCorruption,       // a file exists but its content is not what we wrote
    kConflict,         // optimistic commit lost a race; retry after rebasing
    kUnavailable,      // a peer (server, broker) cannot be reached now
    kTimeout,          // a bounded wait ran out
    kCancelled,        // shutdown was requested
    kEndOfStream,      // a finite source has no more records
    kNotSupported,     // valid input we deliberately do not handle
    kInternal,         // a bug surfaced as a value at an API boundary
  };

  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Timeout(std::string m) { return {Code::kTimeout, std::move(m)}; }
  static Status Cancelled(std::string m) { return {Code::kCancelled, std::move(m)}; }
  static Status EndOfStream(std::string m = "end of stream") { return {Code::kEndOfStream, std::move(m)}; }
  static Status NotSupported(std::string m) { return {Code::kNotSupported, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsEndOfStream() const { return code_ == Code::kEndOfStream; }

  // "IO error: open /x: No such file or directory"
  std::string ToString() const;
  static std::string_view CodeName(Code code);

  // Prefixes the message with context: Status::IOError("x").WithContext("commit") -> "commit: x".
  Status WithContext(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace ws

#define WS_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::ws::Status _ws_status = (expr);       \
    if (!_ws_status.ok()) return _ws_status; \
  } while (0)
