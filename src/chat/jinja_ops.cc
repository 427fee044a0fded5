// Python semantics of template values: str/repr, json.dumps, equality, ordering, UTF-8 characters.
#include "chat/jinja_ops.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace rf::jinja {
namespace {

void check_depth(int depth, const Budget& budget) {
  if (depth > budget.limits().max_depth) fail("value nesting depth limit (%d) exceeded", budget.limits().max_depth);
}

// Python's repr of a float: shortest round trip, ".0" on integral values.
std::string float_str(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

class Writer {
 public:
  explicit Writer(Budget& budget) : budget_(budget) {}
  void put(std::string_view s) {
    out_ += s;
    budget_.check_size(out_.size());
    budget_.step(s.size());
  }
  void put(char c) { put(std::string_view(&c, 1)); }
  std::string take() { return std::move(out_); }

  void repr(const Value& v, int depth) {
    check_depth(depth, budget_);
    switch (v.kind()) {
      case Value::Kind::kString: return repr_string(v.as_string());
      case Value::Kind::kList: {
        put('[');
        bool first = true;
        for (const Value& e : v.as_list()) {
          if (!first) put(", ");
          first = false;
          repr(e, depth + 1);
        }
        return put(']');
      }
      case Value::Kind::kDict: {
        if (v.as_dict().is_namespace) put("<Namespace ");
        put('{');
        bool first = true;
        for (const auto& [k, e] : v.as_dict().items) {
          if (!first) put(", ");
          first = false;
          repr_string(k);
          put(": ");
          repr(e, depth + 1);
        }
        put('}');
        if (v.as_dict().is_namespace) put('>');
        return;
      }
      default: return put(scalar_str(v));
    }
  }

  void json(const Value& v, int indent, int depth) {
    check_depth(depth, budget_);
    switch (v.kind()) {
      case Value::Kind::kUndefined:
      case Value::Kind::kNone: return put("null");
      case Value::Kind::kBool: return put(v.as_bool() ? "true" : "false");
      case Value::Kind::kInt: return put(std::to_string(v.as_int()));
      case Value::Kind::kFloat: {
        const double d = v.as_float();
        if (std::isnan(d)) return put("NaN");
        if (std::isinf(d)) return put(d > 0 ? "Infinity" : "-Infinity");
        return put(float_str(d));
      }
      case Value::Kind::kString: return json_string(v.as_string());
      case Value::Kind::kList: {
        const List& l = v.as_list();
        if (l.empty()) return put("[]");
        put('[');
        for (size_t i = 0; i < l.size(); ++i) {
          separator(i == 0, indent, depth + 1);
          json(l[i], indent, depth + 1);
        }
        newline(indent, depth);
        return put(']');
      }
      case Value::Kind::kDict: {
        const auto& items = v.as_dict().items;
        if (items.empty()) return put("{}");
        put('{');
        for (size_t i = 0; i < items.size(); ++i) {
          separator(i == 0, indent, depth + 1);
          json_string(items[i].first);
          put(": ");
          json(items[i].second, indent, depth + 1);
        }
        newline(indent, depth);
        return put('}');
      }
      case Value::Kind::kMacro: fail("a macro cannot be converted to JSON");
    }
  }

 private:
  void separator(bool first, int indent, int depth) {
    if (!first) put(indent >= 0 ? "," : ", ");
    newline(indent, depth);
  }
  void newline(int indent, int depth) {
    if (indent < 0) return;
    put('\n');
    put(std::string(static_cast<size_t>(indent) * static_cast<size_t>(depth), ' '));
  }

  void repr_string(const std::string& s) {
    const char quote = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
    std::string out(1, quote);
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == quote || c == '\\') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (u < 0x20 || u == 0x7F) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", u);
        out += buf;
      } else {
        out += c;
      }
    }
    out += quote;
    put(out);
  }

  void json_string(const std::string& s) {
    std::string out = "\"";
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (u < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
          } else {
            out += c;
          }
      }
    }
    out += '"';
    put(out);
  }

 public:
  static std::string scalar_str(const Value& v) {
    switch (v.kind()) {
      case Value::Kind::kUndefined: return "";
      case Value::Kind::kNone: return "None";
      case Value::Kind::kBool: return v.as_bool() ? "True" : "False";
      case Value::Kind::kInt: return std::to_string(v.as_int());
      case Value::Kind::kFloat: return float_str(v.as_float());
      case Value::Kind::kString: return v.as_string();
      case Value::Kind::kMacro: return "<macro>";
      default: return "";
    }
  }

 private:
  Budget& budget_;
  std::string out_;
};

// A number or a bool as a number: booleans count as 0 and 1, as in Python.
double number_as_double(const Value& v) { return v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_number(); }
int64_t number_as_int(const Value& v) { return v.is_bool() ? v.as_bool() : v.as_int(); }

// -1, 0 or 1 as x is below, equal to (or unordered with) or above y.
template <class N>
int three_way(N x, N y) {
  return x < y ? -1 : (y < x ? 1 : 0);
}

bool equals_impl(const Value& a, const Value& b, Budget& budget, int depth) {
  check_depth(depth, budget);
  budget.step();
  const bool a_num = a.is_number() || a.is_bool();
  const bool b_num = b.is_number() || b.is_bool();
  if (a_num && b_num) {
    if (a.is_float() || b.is_float()) return number_as_double(a) == number_as_double(b);
    return number_as_int(a) == number_as_int(b);
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone: return true;
    case Value::Kind::kString: return a.as_string() == b.as_string();
    case Value::Kind::kMacro: return a.as_macro() == b.as_macro();
    case Value::Kind::kList: {
      const List& x = a.as_list();
      const List& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!equals_impl(x[i], y[i], budget, depth + 1)) return false;
      }
      return true;
    }
    case Value::Kind::kDict: {
      const Dict& x = a.as_dict();
      const Dict& y = b.as_dict();
      if (x.items.size() != y.items.size()) return false;
      for (const auto& [k, v] : x.items) {
        const Value* other = y.find(k);
        if (other == nullptr || !equals_impl(v, *other, budget, depth + 1)) return false;
      }
      return true;
    }
    default: return false;
  }
}

int compare_impl(const Value& a, const Value& b, Budget& budget, int depth) {
  check_depth(depth, budget);
  budget.step();
  const bool a_num = a.is_number() || a.is_bool();
  const bool b_num = b.is_number() || b.is_bool();
  if (a_num && b_num) {
    if (a.is_float() || b.is_float()) return three_way(number_as_double(a), number_as_double(b));
    return three_way(number_as_int(a), number_as_int(b));
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.as_string().compare(b.as_string());  // UTF-8 byte order is code point order
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list()) {
    const List& x = a.as_list();
    const List& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      const int c = compare_impl(x[i], y[i], budget, depth + 1);
      if (c != 0) return c;
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  fail("cannot order %s and %s", type_name(a), type_name(b));
}

bool reaches_impl(const Value& from, const void* target, Budget& budget, int depth) {
  if (!from.is_list() && !from.is_dict()) return false;
  check_depth(depth, budget);
  budget.step();
  if (from.container_id() == target) return true;
  if (from.is_list()) {
    for (const Value& e : from.as_list()) {
      if (reaches_impl(e, target, budget, depth + 1)) return true;
    }
  } else {
    for (const auto& item : from.as_dict().items) {
      if (reaches_impl(item.second, target, budget, depth + 1)) return true;
    }
  }
  return false;
}

}  // namespace

const char* type_name(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return "undefined";
    case Value::Kind::kNone: return "NoneType";
    case Value::Kind::kBool: return "bool";
    case Value::Kind::kInt: return "int";
    case Value::Kind::kFloat: return "float";
    case Value::Kind::kString: return "str";
    case Value::Kind::kList: return "list";
    case Value::Kind::kDict: return v.as_dict().is_namespace ? "namespace" : "dict";
    case Value::Kind::kMacro: return "macro";
  }
  return "?";
}

std::string to_str(const Value& v, Budget& budget) {
  if (v.is_string()) return v.as_string();
  if (!v.is_list() && !v.is_dict()) return Writer::scalar_str(v);
  return repr(v, budget);
}

std::string repr(const Value& v, Budget& budget) {
  Writer w(budget);
  w.repr(v, 0);
  return w.take();
}

std::string to_json(const Value& v, Budget& budget, int indent) {
  Writer w(budget);
  w.json(v, indent, 0);
  return w.take();
}

bool equals(const Value& a, const Value& b, Budget& budget) { return equals_impl(a, b, budget, 0); }
int compare(const Value& a, const Value& b, Budget& budget) { return compare_impl(a, b, budget, 0); }
bool reaches(const Value& from, const void* target, Budget& budget) { return reaches_impl(from, target, budget, 0); }

// The offset after the character at i: a well-formed UTF-8 sequence, or one byte.
static size_t next_char(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  size_t n = 1;
  while (n < len && i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
  return i + (n == len ? len : 1);
}

std::vector<size_t> char_offsets(std::string_view s) {
  std::vector<size_t> offsets;
  offsets.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size(); i = next_char(s, i)) offsets.push_back(i);
  offsets.push_back(s.size());
  return offsets;
}

size_t char_count(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); i = next_char(s, i)) ++n;
  return n;
}

}  // namespace rf::jinja
