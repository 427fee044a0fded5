// Reading request bodies: JSON parsing with errors that say where (field path, line, column), and
// typed field access whose errors name the field and say what was expected and what was found.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/api_error.h"

namespace rf::server {

// Parses a request body that must be one JSON object. Malformed JSON, invalid UTF-8 in a string
// (or an escaped lone surrogate) and non-object bodies are 400s; the message names the field being
// read when the error happened ("messages[1].content") and never echoes the body's bytes.
ApiResult<nlohmann::json> parse_json_object(std::string_view body);

// "a string", "an integer", "an array", ... for messages.
std::string json_kind(const nlohmann::json& value);

// Typed access to the fields of one JSON object. Absent and null fields read as std::nullopt (as
// OpenAI treats them); a present field of the wrong type or range records an error naming
// prefix + name and also reads as std::nullopt. The first error is kept.
class FieldReader {
 public:
  explicit FieldReader(const nlohmann::json& object, std::string prefix = "");

  std::optional<int64_t> integer(std::string_view name, int64_t lo, int64_t hi);
  std::optional<double> number(std::string_view name, double lo, double hi);
  std::optional<bool> boolean(std::string_view name);
  std::optional<std::string> string(std::string_view name);
  // The raw value when present and not null.
  const nlohmann::json* raw(std::string_view name) const;

  // Records an error about prefix + name (first error wins).
  void fail(std::string_view name, const std::string& message);
  // Keeps `nested`'s error (a reader of a sub-object) unless this one already has one.
  void merge(const FieldReader& nested);
  std::string path(std::string_view name) const { return prefix_ + std::string(name); }
  const std::optional<ApiError>& error() const { return error_; }

 private:
  const nlohmann::json& object_;
  std::string prefix_;
  std::optional<ApiError> error_;
};

}  // namespace rf::server
