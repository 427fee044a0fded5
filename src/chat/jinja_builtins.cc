// Filters, tests, str/dict/list methods and global functions of the template language, with
// Jinja's (and for tojson, Hugging Face's) semantics.
#include "chat/jinja_builtins.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <ctime>

namespace rf::jinja {
namespace {

constexpr size_t kNamedOnly = SIZE_MAX;  // Args::find index for keyword-only arguments

using FilterFn = Value (*)(const Value& v, const Args& a, Budget& b);
using TestFn = bool (*)(const Value& v, const Args& a, Budget& b);

int64_t int_arg(const Value& v, const char* what) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  fail("%s: expected an integer, found %s", what, type_name(v));
}

const std::string& string_arg(const Value& v, const char* what) {
  if (!v.is_string()) fail("%s: expected a string, found %s", what, type_name(v));
  return v.as_string();
}

// Jinja's attribute paths for selectattr/map/join/sort: "a.b.0".
Value attribute(const Value& object, std::string_view path) {
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

size_t length_of(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return 0;
    case Value::Kind::kString: return char_count(v.as_string());
    case Value::Kind::kList: return v.as_list().size();
    case Value::Kind::kDict: return v.as_dict().items.size();
    default: fail("object of type '%s' has no length", type_name(v));
  }
}

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

Value number_from(const Value& v, const Value& fallback, bool want_int, Budget& budget) {
  if (v.is_int()) return want_int ? v : Value(static_cast<double>(v.as_int()));
  if (v.is_bool()) return want_int ? Value(int64_t{v.as_bool()}) : Value(v.as_bool() ? 1.0 : 0.0);
  if (v.is_float()) {
    if (!want_int) return v;
    const double d = std::trunc(v.as_float());
    if (!(std::fabs(d) < 9.2e18)) return fallback;
    return Value(static_cast<int64_t>(d));
  }
  if (!v.is_string()) return fallback;
  const std::string s = py_strip(v.as_string(), nullptr, true, true);
  if (s.empty()) return fallback;
  char* end = nullptr;
  if (want_int) {
    errno = 0;
    const long long i = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0 && *end == '\0') return Value(static_cast<int64_t>(i));
  }
  const double d = std::strtod(s.c_str(), &end);
  if (*end != '\0') return fallback;
  return want_int ? number_from(Value(d), fallback, true, budget) : Value(d);
}

Value join(const Value& seq, const Args& a, Budget& b) {
  a.check("join", 1, {"d", "attribute"});
  const Value sep = a.get(0, "d", Value(""));
  const Value* attr = a.find(kNamedOnly, "attribute");
  std::string out;
  bool first = true;
  for (const Value& e : iteration_items(seq, b)) {
    if (!first) out += to_str(sep, b);
    first = false;
    out += to_str(attr != nullptr ? attribute(e, to_str(*attr, b)) : e, b);
    b.check_size(out.size());
  }
  b.step(out.size());
  return out;
}

// select/reject/selectattr/rejectattr: the test is the argument at `test_at` (none: truthiness), its
// own arguments follow.
Value select_items(const Value& seq, const Args& a, Budget& b, bool by_attr, bool keep) {
  const size_t test_at = by_attr ? 1 : 0;
  std::string attr;
  if (by_attr) {
    const Value* name = a.find(0, "attribute");
    if (name == nullptr) fail("selectattr/rejectattr: expected an attribute name");
    attr = to_str(*name, b);
  }
  Args test_args;
  std::string test;
  if (a.positional.size() > test_at) {
    test = string_arg(a.positional[test_at], "select: the test name");
    if (!known_test(test)) fail("unknown test '%s'", test.c_str());
    test_args.positional.assign(a.positional.begin() + static_cast<ptrdiff_t>(test_at) + 1, a.positional.end());
  }
  List out;
  for (const Value& e : iteration_items(seq, b)) {
    const Value subject = by_attr ? attribute(e, attr) : e;
    const bool pass = test.empty() ? subject.truthy() : apply_test(test, subject, test_args, b);
    if (pass == keep) out.push_back(e);
  }
  return out;
}

Value map_items(const Value& seq, const Args& a, Budget& b) {
  List out;
  if (const Value* attr = a.find(kNamedOnly, "attribute")) {
    const std::string path = to_str(*attr, b);
    const Value fallback = a.get(kNamedOnly, "default");
    for (const Value& e : iteration_items(seq, b)) {
      Value v = attribute(e, path);
      out.push_back(v.is_undefined() ? fallback : std::move(v));
    }
    return out;
  }
  if (a.positional.empty()) fail("map: expected a filter name or attribute=");
  const std::string filter = string_arg(a.positional[0], "map: the filter name");
  if (!known_filter(filter)) fail("unknown filter '%s'", filter.c_str());
  Args filter_args;
  filter_args.positional.assign(a.positional.begin() + 1, a.positional.end());
  for (const Value& e : iteration_items(seq, b)) out.push_back(apply_filter(filter, e, filter_args, b));
  return out;
}

Value sort_items(const Value& seq, const Args& a, Budget& b) {
  a.check("sort", 3, {"reverse", "case_sensitive", "attribute"});
  const bool reverse = a.get(0, "reverse", Value(false)).truthy();
  const bool case_sensitive = a.get(1, "case_sensitive", Value(false)).truthy();
  const Value attr = a.get(2, "attribute");
  List items = iteration_items(seq, b);
  auto key = [&](const Value& v) {
    Value k = attr.is_undefined() ? v : attribute(v, to_str(attr, b));
    return !case_sensitive && k.is_string() ? Value(ascii_lower(k.as_string())) : k;
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    const int c = compare(key(x), key(y), b);
    return reverse ? c > 0 : c < 0;
  });
  return items;
}

// min/max: the first item that no other item is below (sign -1) or above (sign 1).
Value extreme(const Value& seq, const Args& a, Budget& b, int sign) {
  a.check(sign < 0 ? "min" : "max", 1, {"case_sensitive", "attribute"});
  const bool case_sensitive = a.get(0, "case_sensitive", Value(false)).truthy();
  const Value attr = a.get(kNamedOnly, "attribute");
  auto key = [&](const Value& v) {
    Value k = attr.is_undefined() ? v : attribute(v, to_str(attr, b));
    return !case_sensitive && k.is_string() ? Value(ascii_lower(k.as_string())) : k;
  };
  Value best;
  for (const Value& e : iteration_items(seq, b)) {
    if (best.is_undefined() || compare(key(e), key(best), b) * sign > 0) best = e;
  }
  return best;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Jinja's indent: every line but the first (and blank ones) gets the prefix, unless told otherwise.
Value indent(const Value& v, const Args& a, Budget& b) {
  a.check("indent", 3, {"width", "first", "blank"});
  const Value width = a.get(0, "width", Value(4));
  std::string prefix;
  if (width.is_string()) {
    prefix = width.as_string();
  } else {
    const int64_t n = int_arg(width, "indent width");
    if (n < 0 || static_cast<size_t>(n) > b.limits().max_value_bytes) fail("indent: bad width %lld", static_cast<long long>(n));
    prefix.assign(static_cast<size_t>(n), ' ');
  }
  const bool first = a.get(1, "first", Value(false)).truthy();
  const bool blank = a.get(2, "blank", Value(false)).truthy();
  const std::string s = to_str(v, b);
  std::string out;
  size_t pos = 0;
  bool first_line = true;
  while (pos <= s.size()) {
    size_t end = s.find('\n', pos);
    if (end == std::string::npos) end = s.size();
    const std::string_view line(s.data() + pos, end - pos);
    if ((!first_line || first) && (blank || !line.empty())) out += prefix;
    out += line;
    b.check_size(out.size());
    if (end == s.size()) break;
    out += '\n';
    pos = end + 1;
    first_line = false;
  }
  b.step(out.size());
  return out;
}

Value round_number(const Value& v, const Args& a, Budget&) {
  a.check("round", 2, {"precision", "method"});
  const int64_t precision = int_arg(a.get(0, "precision", Value(0)), "round precision");
  if (precision < -20 || precision > 20) fail("round: precision %lld out of range", static_cast<long long>(precision));
  const Value method = a.get(1, "method", Value("common"));
  if (!v.is_number() && !v.is_bool()) fail("round: expected a number, found %s", type_name(v));
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = (v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_number()) * scale;
  const std::string m = method.is_string() ? method.as_string() : "";
  // "common" is Python's round(): halves go to the even neighbour (the default rounding mode).
  const double r = m == "floor" ? std::floor(x) : m == "ceil" ? std::ceil(x) : m == "common" ? std::nearbyint(x) : NAN;
  if (std::isnan(r) && !std::isnan(x)) fail("round: method must be common, ceil or floor");
  return Value(r / scale);
}

Value reverse(const Value& v, const Args&, Budget& b) {
  if (v.is_string()) {
    const std::vector<size_t> at = char_offsets(v.as_string());
    std::string out;
    for (size_t i = at.size() - 1; i > 0; --i) out.append(v.as_string(), at[i - 1], at[i] - at[i - 1]);
    return out;
  }
  List items = iteration_items(v, b);
  std::reverse(items.begin(), items.end());
  return items;
}

Value first_or_last(const Value& v, Budget& b, bool first) {
  if (v.is_string()) {
    const std::vector<size_t> at = char_offsets(v.as_string());
    if (at.size() < 2) return Value();
    const size_t i = first ? 0 : at.size() - 2;
    return Value(v.as_string().substr(at[i], at[i + 1] - at[i]));
  }
  if (v.is_list()) {
    const List& l = v.as_list();
    if (l.empty()) return Value();
    return first ? l.front() : l.back();
  }
  const List items = iteration_items(v, b);
  if (items.empty()) return Value();
  return first ? items.front() : items.back();
}

Value items_of(const Value& v, Budget& b) {
  if (v.is_undefined()) return List{};
  if (!v.is_dict()) fail("items: expected a dict, found %s", type_name(v));
  List out;
  for (const auto& [k, e] : v.as_dict().items) out.emplace_back(List{Value(k), e});
  b.step(out.size());
  return out;
}

struct FilterEntry {
  std::string_view name;
  FilterFn fn;
};

const FilterEntry kFilters[] = {
    {"abs", [](const Value& v, const Args&, Budget&) -> Value {
       if (v.is_int()) {
         if (v.as_int() == INT64_MIN) fail("abs: integer overflow");
         return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
       }
       if (v.is_float()) return Value(std::fabs(v.as_float()));
       fail("abs: expected a number, found %s", type_name(v));
     }},
    {"capitalize", [](const Value& v, const Args&, Budget& b) { return Value(py_capitalize(to_str(v, b))); }},
    {"count", [](const Value& v, const Args&, Budget&) { return Value(static_cast<int64_t>(length_of(v))); }},
    {"d", [](const Value& v, const Args& a, Budget&) {
       a.check("default", 2, {"default_value", "boolean"});
       const bool boolean = a.get(1, "boolean", Value(false)).truthy();
       return v.is_undefined() || (boolean && !v.truthy()) ? a.get(0, "default_value", Value("")) : v;
     }},
    {"default", nullptr},  // same as "d" (resolved in apply_filter)
    {"dictsort", [](const Value& v, const Args& a, Budget& b) {
       Args by_key;
       const Value by = a.get(1, "by", Value("key"));
       if (!by.is_string() || (by.as_string() != "key" && by.as_string() != "value")) fail("dictsort: by must be 'key' or 'value'");
       by_key.named.emplace_back("attribute", Value(by.as_string() == "key" ? "0" : "1"));
       by_key.named.emplace_back("case_sensitive", a.get(0, "case_sensitive", Value(false)));
       by_key.named.emplace_back("reverse", a.get(2, "reverse", Value(false)));
       return sort_items(items_of(v, b), by_key, b);
     }},
    {"e", [](const Value& v, const Args&, Budget& b) { return Value(html_escape(to_str(v, b))); }},
    {"escape", nullptr},
    {"first", [](const Value& v, const Args&, Budget& b) { return first_or_last(v, b, true); }},
    {"float", [](const Value& v, const Args& a, Budget& b) { return number_from(v, a.get(0, "default", Value(0.0)), false, b); }},
    {"indent", indent},
    {"int", [](const Value& v, const Args& a, Budget& b) { return number_from(v, a.get(0, "default", Value(0)), true, b); }},
    {"items", [](const Value& v, const Args&, Budget& b) { return items_of(v, b); }},
    {"join", join},
    {"last", [](const Value& v, const Args&, Budget& b) { return first_or_last(v, b, false); }},
    {"length", nullptr},
    {"list", [](const Value& v, const Args&, Budget& b) { return Value(iteration_items(v, b)); }},
    {"lower", [](const Value& v, const Args&, Budget& b) { return Value(ascii_lower(to_str(v, b))); }},
    {"map", map_items},
    {"max", [](const Value& v, const Args& a, Budget& b) { return extreme(v, a, b, 1); }},
    {"min", [](const Value& v, const Args& a, Budget& b) { return extreme(v, a, b, -1); }},
    {"reject", [](const Value& v, const Args& a, Budget& b) { return select_items(v, a, b, false, false); }},
    {"rejectattr", [](const Value& v, const Args& a, Budget& b) { return select_items(v, a, b, true, false); }},
    {"replace", [](const Value& v, const Args& a, Budget& b) {
       a.check("replace", 3, {"old", "new", "count"});
       const Value count = a.get(2, "count", Value(-1));
       return Value(py_replace(to_str(v, b), to_str(a.get(0, "old"), b), to_str(a.get(1, "new"), b),
                               count.is_none() ? -1 : int_arg(count, "replace count"), b));
     }},
    {"reverse", reverse},
    {"round", round_number},
    {"safe", [](const Value& v, const Args&, Budget&) { return v; }},
    {"select", [](const Value& v, const Args& a, Budget& b) { return select_items(v, a, b, false, true); }},
    {"selectattr", [](const Value& v, const Args& a, Budget& b) { return select_items(v, a, b, true, true); }},
    {"sort", sort_items},
    {"string", [](const Value& v, const Args&, Budget& b) { return Value(to_str(v, b)); }},
    {"title", [](const Value& v, const Args&, Budget& b) { return Value(py_title(to_str(v, b))); }},
    {"tojson", [](const Value& v, const Args& a, Budget& b) {
       const Value indent_arg = a.get(0, "indent");
       int indent_width = -1;
       if (!indent_arg.is_undefined() && !indent_arg.is_none()) {
         const int64_t n = int_arg(indent_arg, "tojson indent");
         if (n < 0 || n > 64) fail("tojson: indent %lld out of range 0..64", static_cast<long long>(n));
         indent_width = static_cast<int>(n);
       }
       return Value(to_json(v, b, indent_width));
     }},
    {"trim", [](const Value& v, const Args& a, Budget& b) {
       const Value chars = a.get(0, "chars");
       const std::string set = chars.is_string() ? chars.as_string() : "";
       return Value(py_strip(to_str(v, b), chars.is_string() ? &set : nullptr, true, true));
     }},
    {"unique", [](const Value& v, const Args&, Budget& b) {
       List out;
       for (const Value& e : iteration_items(v, b)) {
         const bool seen = std::any_of(out.begin(), out.end(), [&](const Value& o) { return equals(o, e, b); });
         if (!seen) out.push_back(e);
       }
       return Value(std::move(out));
     }},
    {"upper", [](const Value& v, const Args&, Budget& b) { return Value(ascii_upper(to_str(v, b))); }},
};

// Jinja's aliases share an implementation.
std::string_view canonical_filter(std::string_view name) {
  if (name == "default") return "d";
  if (name == "escape") return "e";
  if (name == "length") return "count";
  return name;
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

template <class Entry, size_t N>
const Entry* find_entry(const Entry (&table)[N], std::string_view name) {
  for (const Entry& e : table) {
    if (e.name == name && e.fn != nullptr) return &e;
  }
  return nullptr;
}

}  // namespace

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

bool known_filter(std::string_view name) { return find_entry(kFilters, canonical_filter(name)) != nullptr; }
bool known_test(std::string_view name) { return find_entry(kTests, canonical_test(name)) != nullptr; }

Value apply_filter(std::string_view name, const Value& subject, const Args& args, Budget& budget) {
  const FilterEntry* f = find_entry(kFilters, canonical_filter(name));
  if (f == nullptr) fail("unknown filter '%.*s'", static_cast<int>(name.size()), name.data());
  budget.step();
  return f->fn(subject, args, budget);
}

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
      result = join(a.get(0, "iterable"), join_args, b);
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
      result = items_of(obj, b);
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
