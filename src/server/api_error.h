// ApiError: an HTTP error in OpenAI's schema, and ApiResult<T>, a value or such an error.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "base/check.h"

namespace rf::server {

struct ApiError {
  int status = 400;
  std::string type = "invalid_request_error";
  std::string message;
  std::string param;  // the offending request field, "" for none
  std::string code;   // OpenAI's machine-readable code, "" for none
};

// 400 invalid_request_error naming `param`.
ApiError invalid_request(std::string param, std::string message);

// {"error": {"message", "type", "param", "code"}}; empty param/code become null.
nlohmann::json error_json(const ApiError& error);

template <class T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}       // NOLINT: implicit by design
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  T& value() & { RF_CHECK(ok()); return std::get<0>(v_); }
  const T& value() const& { RF_CHECK(ok()); return std::get<0>(v_); }
  T&& value() && { RF_CHECK(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const ApiError& error() const { RF_CHECK(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

}  // namespace rf::server
