// Jinja's tests, the str/dict/list methods and global functions templates call, and the argument
// helpers the filters share.
#include "chat/jinja_builtins.h"

#include <algorithm>
#include <cmath>
#include <ctime>

namespace rf::jinja {
namespace {

using TestFn = bool (*)(const Value& v, const Args& a, Budget& b);

// Python's `needle in haystack`.
bool contains(const Value& haystack, const Value& needle, Budget& budget) {
  switch (haystack.kind()) {
    case Value::Kind::kUndefined: return false;
    case Value::Kind::kString:
      if (!needle.is_string()) fail("'in <string>' requires a string as left operand, not %s", type_name(needle));
      return haystack.as_string().find(needle.as_string()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& e : haystack.as_list()) {
        if (equals(e, needle, budget)) return true;
      }
      return false;
    case Value::Kind::kDict:
      return needle.is_string() && haystack.as_dict().find(needle.as_string()) != nullptr;
    default: fail("argument of type '%s' is not iterable", type_name(haystack));
  }
}

struct TestEntry {
  std::string_view name;
  TestFn fn;
};

bool compare_test(const Value& v, const Args& a, Budget& b, int want_low, int want_high) {
  const Value* other = a.find(0, "other");
  if (other == nullptr) fail("comparison test: expected a value to compare with");
  const int c = compare(v, *other, b);
  return c >= want_low && c <= want_high;
}

const TestEntry kTests[] = {
    {"boolean", [](const Value& v, const Args&, Budget&) { return v.is_bool(); }},
    {"callable", [](const Value& v, const Args&, Budget&) { return v.is_macro(); }},
    {"defined", [](const Value& v, const Args&, Budget&) { return !v.is_undefined(); }},
    {"divisibleby", [](const Value& v, const Args& a, Budget&) {
       const int64_t d = int_arg(a.get(0, "num"), "divisibleby");
       if (d == 0) fail("divisibleby: division by zero");
       return int_arg(v, "divisibleby") % d == 0;
     }},
    {"eq", [](const Value& v, const Args& a, Budget& b) { return equals(v, a.get(0, "other"), b); }},
    {"equalto", nullptr},
    {"==", nullptr},
    {"even", [](const Value& v, const Args&, Budget&) { return int_arg(v, "even") % 2 == 0; }},
    {"false", [](const Value& v, const Args&, Budget&) { return v.is_bool() && !v.as_bool(); }},
    {"float", [](const Value& v, const Args&, Budget&) { return v.is_float(); }},
    {"ge", [](const Value& v, const Args& a, Budget& b) { return compare_test(v, a, b, 0, 1); }},
    {"gt", [](const Value& v, const Args& a, Budget& b) { return compare_test(v, a, b, 1, 1); }},
    {"in", [](const Value& v, const Args& a, Budget& b) { return contains(a.get(0, "seq"), v, b); }},
    {"integer", [](const Value& v, const Args&, Budget&) { return v.is_int(); }},
    {"iterable", [](const Value& v, const Args&, Budget&) {
       return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
     }},
    {"le", [](const Value& v, const Args& a, Budget& b) { return compare_test(v, a, b, -1, 0); }},
    {"lower", [](const Value& v, const Args&, Budget&) { return v.is_string() && ascii_lower(v.as_string()) == v.as_string(); }},
    {"lt", [](const Value& v, const Args& a, Budget& b) { return compare_test(v, a, b, -1, -1); }},
    {"mapping", [](const Value& v, const Args&, Budget&) { return v.is_dict(); }},
    {"ne", [](const Value& v, const Args& a, Budget& b) { return !equals(v, a.get(0, "other"), b); }},
    {"none", [](const Value& v, const Args&, Budget&) { return v.is_none(); }},
    {"number", [](const Value& v, const Args&, Budget&) { return v.is_number() || v.is_bool(); }},  // Python: bool is a Number
    {"odd", [](const Value& v, const Args&, Budget&) { return int_arg(v, "odd") % 2 != 0; }},
    {"sameas", [](const Value& v, const Args& a, Budget& b) {
       const Value other = a.get(0, "other");
       if (v.container_id() != nullptr || other.container_id() != nullptr) return v.container_id() == other.container_id();
       return v.kind() == other.kind() && equals(v, other, b);
     }},
    {"sequence", [](const Value& v, const Args&, Budget&) { return v.is_list() || v.is_dict() || v.is_string(); }},
    {"string", [](const Value& v, const Args&, Budget&) { return v.is_string(); }},
    {"true", [](const Value& v, const Args&, Budget&) { return v.is_bool() && v.as_bool(); }},
    {"undefined", [](const Value& v, const Args&, Budget&) { return v.is_undefined(); }},
    {"upper", [](const Value& v, const Args&, Budget&) { return v.is_string() && ascii_upper(v.as_string()) == v.as_string(); }},
};

std::string_view canonical_test(std::string_view name) {
  if (name == "equalto" || name == "==") return "eq";
  if (name == "!=") return "ne";
  if (name == "<") return "lt";
  if (name == "<=") return "le";
  if (name == ">") return "gt";
  if (name == ">=") return "ge";
  return name;
}

}  // namespace

int64_t int_arg(const Value& v, const char* what) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  fail("%s: expected an integer, found %s", what, type_name(v));
}

const std::string& string_arg(const Value& v, const char* what) {
  if (!v.is_string()) fail("%s: expected a string, found %s", what, type_name(v));
  return v.as_string();
}

Value attribute_path(const Value& object, std::string_view path) {
  Value cur = object;
  while (true) {
    const size_t dot = path.find('.');
    const std::string_view part = path.substr(0, dot);
    if (cur.is_dict()) {
      const Value* found = cur.as_dict().find(part);
      cur = found != nullptr ? *found : Value();
    } else if (cur.is_list() && !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      const size_t i = part.size() < 10 ? std::stoul(std::string(part)) : SIZE_MAX;
      cur = i < cur.as_list().size() ? cur.as_list()[i] : Value();
    } else {
      return Value();
    }
    if (dot == std::string_view::npos) return cur;
    path.remove_prefix(dot + 1);
  }
}

const Value* Args::find(size_t index, std::string_view name) const {
  if (index < positional.size()) return &positional[index];
  for (const auto& [k, v] : named) {
    if (k == name) return &v;
  }
  return nullptr;
}

Value Args::get(size_t index, std::string_view name, Value fallback) const {
  const Value* v = find(index, name);
  return v != nullptr ? *v : std::move(fallback);
}

void Args::check(const char* callee, size_t max_positional, std::initializer_list<std::string_view> names) const {
  if (positional.size() > max_positional) {
    fail("%s takes at most %zu arguments, %zu given", callee, max_positional, positional.size());
  }
  for (const auto& [k, v] : named) {
    if (std::find(names.begin(), names.end(), k) == names.end()) {
      fail("%s got an unexpected keyword argument '%s'", callee, k.c_str());
    }
  }
}

bool known_test(std::string_view name) { return find_entry(kTests, canonical_test(name)) != nullptr; }

bool apply_test(std::string_view name, const Value& subject, const Args& args, Budget& budget) {
  const TestEntry* t = find_entry(kTests, canonical_test(name));
  if (t == nullptr) fail("unknown test '%.*s'", static_cast<int>(name.size()), name.data());
  budget.step();
  return t->fn(subject, args, budget);
}

List iteration_items(const Value& v, Budget& budget) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return {};
    case Value::Kind::kList: budget.step(v.as_list().size()); return v.as_list();
    case Value::Kind::kDict: {
      List keys;
      for (const auto& item : v.as_dict().items) keys.emplace_back(item.first);
      budget.step(keys.size());
      return keys;
    }
    case Value::Kind::kString: {
      const std::string& s = v.as_string();
      const std::vector<size_t> at = char_offsets(s);
      List chars;
      chars.reserve(at.size() - 1);
      for (size_t i = 0; i + 1 < at.size(); ++i) chars.emplace_back(s.substr(at[i], at[i + 1] - at[i]));
      budget.step(chars.size());
      return chars;
    }
    default: fail("'%s' object is not iterable", type_name(v));
  }
}

bool call_method(const Value& obj, std::string_view name, const Args& a, Budget& b, Value& result) {
  b.step();
  if (obj.is_string()) {
    const std::string& s = obj.as_string();
    const Value chars = a.get(0, "chars");
    const std::string* set = chars.is_string() ? &chars.as_string() : nullptr;
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      result = py_strip(s, set, name != "rstrip", name != "lstrip");
    } else if (name == "upper") {
      result = ascii_upper(s);
    } else if (name == "lower") {
      result = ascii_lower(s);
    } else if (name == "title") {
      result = py_title(s);
    } else if (name == "capitalize") {
      result = py_capitalize(s);
    } else if (name == "startswith" || name == "endswith") {
      const Value arg = a.get(0, "prefix");
      const List options = arg.is_list() ? arg.as_list() : List{arg};
      bool hit = false;
      for (const Value& o : options) {
        const std::string& p = string_arg(o, name == "startswith" ? "startswith" : "endswith");
        hit = hit || (name == "startswith" ? s.rfind(p, 0) == 0
                                            : s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0);
      }
      result = hit;
    } else if (name == "split") {
      const Value sep = a.get(0, "sep");
      const Value max = a.get(1, "maxsplit", Value(-1));
      result = py_split(s, sep.is_string() ? &sep.as_string() : nullptr, int_arg(max, "split maxsplit"), b);
    } else if (name == "replace") {
      result = py_replace(s, string_arg(a.get(0, "old"), "replace"), string_arg(a.get(1, "new"), "replace"),
                          int_arg(a.get(2, "count", Value(-1)), "replace count"), b);
    } else if (name == "find") {
      const size_t at = s.find(string_arg(a.get(0, "sub"), "find"));
      result = at == std::string::npos ? Value(-1) : Value(static_cast<int64_t>(char_count(std::string_view(s).substr(0, at))));
    } else if (name == "join") {
      Args join_args;
      join_args.positional.push_back(obj);
      result = apply_filter("join", a.get(0, "iterable"), join_args, b);
    } else {
      return false;
    }
    return true;
  }
  if (obj.is_dict()) {
    const Dict& d = obj.as_dict();
    if (name == "get") {
      const Value key = a.get(0, "key");
      const Value* found = key.is_string() ? d.find(key.as_string()) : nullptr;
      result = found != nullptr ? *found : a.get(1, "default", Value(None{}));
    } else if (name == "items") {
      result = apply_filter("items", obj, Args{}, b);
    } else if (name == "keys" || name == "values") {
      List out;
      for (const auto& [k, v] : d.items) out.push_back(name == "keys" ? Value(k) : v);
      b.step(out.size());
      result = std::move(out);
    } else {
      return false;
    }
    return true;
  }
  if (obj.is_list() && name == "append") {
    a.check("append", 1, {});
    if (a.positional.empty()) fail("append takes exactly one argument");
    if (reaches(a.positional[0], obj.container_id(), b)) fail("append would make the list contain itself");
    obj.as_list().push_back(a.positional[0]);
    result = None{};
    return true;
  }
  return false;
}

bool call_global(std::string_view name, const Args& a, Budget& b, Value& result) {
  if (name == "range") {
    a.check("range", 3, {});
    if (a.positional.empty()) fail("range expected at least 1 argument, got 0");
    const bool one = a.positional.size() == 1;
    const int64_t start = one ? 0 : int_arg(a.positional[0], "range");
    const int64_t stop = int_arg(a.positional[one ? 0 : 1], "range");
    const int64_t step = a.positional.size() == 3 ? int_arg(a.positional[2], "range") : 1;
    if (step == 0) fail("range() arg 3 must not be zero");
    const double n = std::max(0.0, std::ceil((static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step)));
    if (n > static_cast<double>(b.limits().max_loop_iterations)) {
      fail("range of %.0f items exceeds the loop iteration limit (%lld)", n, static_cast<long long>(b.limits().max_loop_iterations));
    }
    List out;
    out.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) out.emplace_back(start + i * step);
    b.step(out.size());
    result = std::move(out);
    return true;
  }
  if (name == "namespace" || name == "dict") {
    Dict d;
    d.is_namespace = name == "namespace";
    if (!a.positional.empty()) {
      if (a.positional.size() > 1 || !a.positional[0].is_dict()) fail("%.*s() takes keyword arguments or one dict", static_cast<int>(name.size()), name.data());
      d.items = a.positional[0].as_dict().items;
    }
    for (const auto& [k, v] : a.named) d.set(k, v);
    result = std::move(d);
    return true;
  }
  if (name == "raise_exception") {
    throw Failure{a.positional.empty() ? "raise_exception() called" : to_str(a.positional[0], b), kNoOffset};
  }
  if (name == "strftime_now") {
    const std::string format = string_arg(a.get(0, "format"), "strftime_now");
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buf[256];
    const size_t n = std::strftime(buf, sizeof buf, format.c_str(), &local);
    result = std::string(buf, n);
    return true;
  }
  return false;
}

}  // namespace rf::jinja
