// jinja::Value basics: construction, truthiness, stack-safe release of nested containers, and
// conversion from JSON.
#include "chat/jinja_value.h"

#include <nlohmann/json.hpp>

namespace rf::jinja {
namespace {

// Freeing a container frees its elements, which may free containers in turn: done recursively, a
// deep chain overflows the stack. The deleter instead moves the elements out into a local queue and
// empties every container that would die with them before it dies, so each free is shallow.
void release_elements(List&& first) {
  List pending = std::move(first);
  while (!pending.empty()) {
    Value v = std::move(pending.back());
    pending.pop_back();
    if (v.use_count() != 1) continue;  // someone else holds it: nothing is freed now
    if (v.is_list()) {
      for (Value& e : v.as_list()) pending.push_back(std::move(e));
      v.as_list().clear();
    } else if (v.is_dict()) {
      for (auto& item : v.as_dict().items) pending.push_back(std::move(item.second));
      v.as_dict().items.clear();
    }
  }  // v is freed here, shallow
}

struct ListDeleter {
  void operator()(List* l) const {
    release_elements(std::move(*l));
    delete l;
  }
};
struct DictDeleter {
  void operator()(Dict* d) const {
    List elements;
    elements.reserve(d->items.size());
    for (auto& item : d->items) elements.push_back(std::move(item.second));
    release_elements(std::move(elements));
    delete d;
  }
};

template <class Json>
Result<Value> from_json_impl(const Json& j, int depth) {
  if (depth <= 0) return make_error("JSON nesting is deeper than the value depth limit");
  switch (j.type()) {
    case nlohmann::json::value_t::null: return Value(None{});
    case nlohmann::json::value_t::boolean: return Value(j.template get<bool>());
    case nlohmann::json::value_t::number_integer: return Value(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const uint64_t u = j.template get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float: return Value(j.template get<double>());
    case nlohmann::json::value_t::string: return Value(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      List list;
      list.reserve(j.size());
      for (const auto& item : j) {
        auto v = from_json_impl(item, depth - 1);
        if (!v.ok()) return v.error();
        list.push_back(std::move(v).value());
      }
      return Value(std::move(list));
    }
    case nlohmann::json::value_t::object: {
      Dict dict;
      for (auto it = j.begin(); it != j.end(); ++it) {
        auto v = from_json_impl(it.value(), depth - 1);
        if (!v.ok()) return v.error();
        dict.set(it.key(), std::move(v).value());
      }
      return Value(std::move(dict));
    }
    default:
      return make_error("JSON value of type %s has no template equivalent", j.type_name());
  }
}

}  // namespace

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : items) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Dict::set(std::string key, Value value) {
  for (auto& [k, v] : items) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(std::move(key), std::move(value));
}

Value::Value(List l) : v_(std::shared_ptr<List>(new List(std::move(l)), ListDeleter{})) {}
Value::Value(Dict d) : v_(std::shared_ptr<Dict>(new Dict(std::move(d)), DictDeleter{})) {}

long Value::use_count() const {
  if (is_list()) return std::get<std::shared_ptr<List>>(v_).use_count();
  if (is_dict()) return std::get<std::shared_ptr<Dict>>(v_).use_count();
  return 0;
}

const void* Value::container_id() const {
  if (is_list()) return std::get<std::shared_ptr<List>>(v_).get();
  if (is_dict()) return std::get<std::shared_ptr<Dict>>(v_).get();
  return nullptr;
}

bool Value::truthy() const {
  switch (kind()) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool: return as_bool();
    case Kind::kInt: return as_int() != 0;
    case Kind::kFloat: return as_float() != 0.0;
    case Kind::kString: return !as_string().empty();
    case Kind::kList: return !as_list().empty();
    case Kind::kDict: return as_dict().is_namespace || !as_dict().items.empty();
    case Kind::kMacro: return true;
  }
  return false;
}

Result<Value> value_from_json(const nlohmann::ordered_json& json, int max_depth) {
  return from_json_impl(json, max_depth);
}
Result<Value> value_from_json(const nlohmann::json& json, int max_depth) { return from_json_impl(json, max_depth); }

}  // namespace rf::jinja
