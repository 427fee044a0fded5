// Jinja's filters (and for tojson, Hugging Face's): trim, default, join, selectattr, map, tojson, ...
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "chat/jinja_builtins.h"

namespace rf::jinja {
namespace {

using FilterFn = Value (*)(const Value& v, const Args& a, Budget& b);

size_t length_of(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return 0;
    case Value::Kind::kString: return char_count(v.as_string());
    case Value::Kind::kList: return v.as_list().size();
    case Value::Kind::kDict: return v.as_dict().items.size();
    default: fail("object of type '%s' has no length", type_name(v));
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
    out += to_str(attr != nullptr ? attribute_path(e, to_str(*attr, b)) : e, b);
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
    const Value subject = by_attr ? attribute_path(e, attr) : e;
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
      Value v = attribute_path(e, path);
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
    Value k = attr.is_undefined() ? v : attribute_path(v, to_str(attr, b));
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
    Value k = attr.is_undefined() ? v : attribute_path(v, to_str(attr, b));
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

}  // namespace

bool known_filter(std::string_view name) { return find_entry(kFilters, canonical_filter(name)) != nullptr; }

Value apply_filter(std::string_view name, const Value& subject, const Args& args, Budget& budget) {
  const FilterEntry* f = find_entry(kFilters, canonical_filter(name));
  if (f == nullptr) fail("unknown filter '%.*s'", static_cast<int>(name.size()), name.data());
  budget.step();
  return f->fn(subject, args, budget);
}

}  // namespace rf::jinja
