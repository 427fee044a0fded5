// jinja::Value: the dynamic values a chat template computes with (Python's None, bool, int, float,
// str, list, dict), plus Jinja's undefined and macros.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"

namespace rf::jinja {

class Value;
struct Node;  // a macro definition in a parsed template (jinja_ast.h)

using List = std::vector<Value>;

// A dict keeps insertion order, as Python's does (tojson and items() show it). Keys are strings:
// chat templates index messages and tool schemas, which come from JSON.
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  bool is_namespace = false;  // made by namespace(): the one kind `{% set ns.x = ... %}` may change

  const Value* find(std::string_view key) const;
  void set(std::string key, Value value);
};

struct Undefined {};
struct None {};

// Lists and dicts are shared, as Python objects are: `{% set ns.x = 1 %}` inside a loop changes
// the namespace seen outside it, and list.append changes every alias. The interpreter refuses
// mutations that would make a cycle, so shared ownership never leaks. Containers are released
// iteratively, so a template that nests a list a million deep cannot overflow the stack freeing it.
class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kMacro };

  Value() : v_(Undefined{}) {}
  Value(None) : v_(None{}) {}                       // NOLINT: implicit by design
  Value(bool b) : v_(b) {}                          // NOLINT
  Value(int64_t i) : v_(i) {}                       // NOLINT
  Value(int i) : v_(static_cast<int64_t>(i)) {}     // NOLINT
  Value(double d) : v_(d) {}                        // NOLINT
  Value(std::string s) : v_(std::move(s)) {}        // NOLINT
  Value(std::string_view s) : v_(std::string(s)) {} // NOLINT
  Value(const char* s) : v_(std::string(s)) {}      // NOLINT
  Value(List l);                                    // NOLINT
  Value(Dict d);                                    // NOLINT
  static Value macro(const Node* definition) { Value v; v.v_ = definition; return v; }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  bool is_number() const { return is_int() || is_float(); }  // bool is not (Jinja's `number` test)
  bool is_string() const { return kind() == Kind::kString; }
  bool is_list() const { return kind() == Kind::kList; }
  bool is_dict() const { return kind() == Kind::kDict; }
  bool is_macro() const { return kind() == Kind::kMacro; }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  double as_number() const { return is_int() ? static_cast<double>(as_int()) : as_float(); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  List& as_list() const { return *std::get<std::shared_ptr<List>>(v_); }
  Dict& as_dict() const { return *std::get<std::shared_ptr<Dict>>(v_); }
  const Node* as_macro() const { return std::get<const Node*>(v_); }
  // Identity of a list or dict (for the cycle check and `sameas`); null for other kinds.
  const void* container_id() const;
  long use_count() const;  // owners of a list or dict (0 for other kinds)

  // Python truthiness; undefined is false.
  bool truthy() const;

 private:
  std::variant<Undefined, None, bool, int64_t, double, std::string, std::shared_ptr<List>,
               std::shared_ptr<Dict>, const Node*>
      v_;
};

// JSON -> Value (objects keep their key order only if the json type does; nlohmann::json sorts them).
// Errors: nesting deeper than max_depth.
Result<Value> value_from_json(const nlohmann::ordered_json& json, int max_depth = 64);
Result<Value> value_from_json(const nlohmann::json& json, int max_depth = 64);

}  // namespace rf::jinja
