// ApiError: an HTTP error in OpenAI's schema, and ApiResult<T>, a value or such an error.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"

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

// A value or the ApiError that refuses the request.
template <class T>
using ApiResult = Result<T, ApiError>;

}  // namespace rf::server
