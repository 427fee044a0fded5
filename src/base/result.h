// Result<T>: the error channel for anything input can cause (files, requests, devices). The error
// type defaults to Error; layers with richer errors (the server's ApiError) name their own.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "base/check.h"

namespace rf {

struct Error {
  std::string message;
};

// Builds an Error with printf-style formatting: `return make_error("bad magic %x", m);`
Error make_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(E error) : v_(std::move(error)) {}         // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { RF_CHECK(ok()); return std::get<0>(v_); }
  const T& value() const& { RF_CHECK(ok()); return std::get<0>(v_); }
  T&& value() && { RF_CHECK(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const { RF_CHECK(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

// Result<void> spelled as a Status.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  static Status ok_status() { return {}; }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { RF_CHECK(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace rf

// Propagates an error from an expression returning Status or Result<T>.
#define RF_RETURN_IF_ERROR(expr)                       \
  do {                                                 \
    auto rf_status_ = (expr);                          \
    if (!rf_status_.ok()) return rf_status_.error();   \
  } while (0)
