// Helpers for the chat tests: render a template source against JSON variables.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/jinja.h"

namespace rf::test {

// The rendering, or "ERROR: <message>" (parse or render), so one expectation covers both.
inline std::string render(std::string_view source, const nlohmann::ordered_json& vars = nlohmann::ordered_json::object(),
                          const jinja::Limits& limits = {}) {
  auto t = jinja::Template::parse(source, limits);
  if (!t.ok()) return "ERROR: " + t.error().message;
  auto globals = jinja::value_from_json(vars);
  if (!globals.ok()) return "ERROR: " + globals.error().message;
  auto out = t->render(*globals);
  if (!out.ok()) return "ERROR: " + out.error().message;
  return *out;
}

}  // namespace rf::test
