// Result<T>: a value or the Status explaining why there is none.
//
// Contract: exactly one of value() and !ok() holds. Calling value() on an
// error Result is a bug (it aborts with the status message).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <variant>

#include "wikistream/common/status.h"

namespace ws {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}           // NOLINT(implicit)
  Result(Status status) : data_(std::move(status)) {      // NOLINT(implicit)
    if (std::get<Status>(data_).ok()) {
      data_ = Status::Internal("Result constructed from an OK status without a value");
    }
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }

  T& value() & { CheckOk(); return std::get<T>(data_); }
  const T& value() const& { CheckOk(); return std::get<T>(data_); }
  T&& value() && { CheckOk(); return std::get<T>(std::move(data_)); }
  T value_or(T fallback) const& { return ok() ? std::get<T>(data_) : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void CheckOk() const {
    if (!ok()) {
      std::fprintf(stderr, "Result::value() on error: %s\n", std::get<Status>(data_).ToString().c_str());
      std::abort();
    }
  }
  std::variant<T, Status> data_;
};

}  // namespace ws

#define WS_CONCAT_INNER(a, b) a##b
#define WS_CONCAT(a, b) WS_CONCAT_INNER(a, b)
#define WS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
// WS_ASSIGN_OR_RETURN(auto x, MakeX()); declares x or returns the error.
#define WS_ASSIGN_OR_RETURN(lhs, expr) WS_ASSIGN_OR_RETURN_IMPL(WS_CONCAT(_ws_result_, __LINE__), lhs, expr)
