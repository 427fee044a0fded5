// ApiError construction and its JSON form.
#include "server/api_error.h"

namespace rf::server {

ApiError invalid_request(std::string param, std::string message) {
  ApiError e;
  e.message = std::move(message);
  e.param = std::move(param);
  return e;
}

nlohmann::json error_json(const ApiError& error) {
  nlohmann::json body = {{"message", error.message}, {"type", error.type}, {"param", nullptr}, {"code", nullptr}};
  if (!error.param.empty()) body["param"] = error.param;
  if (!error.code.empty()) body["code"] = error.code;
  return {{"error", body}};
}

}  // namespace rf::server
