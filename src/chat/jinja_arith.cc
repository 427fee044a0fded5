// Python's arithmetic for template values: int (failing on overflow), float, str and list operators,
// comparisons and membership.
#include <algorithm>
#include <cmath>

#include "chat/jinja_builtins.h"
#include "chat/jinja_ops.h"

namespace rf::jinja {
namespace {

// Integer arithmetic fails on overflow (Python's integers do not wrap).
int64_t checked_op(bool (*op)(int64_t, int64_t, int64_t*), int64_t x, int64_t y) {
  int64_t r = 0;
  if (op(x, y, &r)) fail("integer overflow");
  return r;
}
bool add_op(int64_t x, int64_t y, int64_t* r) { return __builtin_add_overflow(x, y, r); }
bool sub_op(int64_t x, int64_t y, int64_t* r) { return __builtin_sub_overflow(x, y, r); }
bool mul_op(int64_t x, int64_t y, int64_t* r) { return __builtin_mul_overflow(x, y, r); }

int64_t as_integer(const Value& v) { return v.is_bool() ? int64_t{v.as_bool()} : v.as_int(); }
double as_double(const Value& v) { return v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_number(); }

const char* op_name(Op op) {
  switch (op) {
    case Op::kAdd: return "+";
    case Op::kSub: return "-";
    case Op::kMul: return "*";
    case Op::kDiv: return "/";
    case Op::kFloorDiv: return "//";
    case Op::kMod: return "%";
    case Op::kPow: return "**";
    default: return "?";
  }
}

Value repeat(const Value& v, int64_t times, Budget& budget) {
  const size_t unit = v.is_string() ? v.as_string().size() : v.as_list().size();
  if (times <= 0 || unit == 0) return v.is_string() ? Value("") : Value(List{});  // '' * 10**15 too
  const double total = static_cast<double>(unit) * static_cast<double>(times);
  const double bytes = v.is_string() ? total : total * static_cast<double>(sizeof(Value));
  budget.check_size(static_cast<size_t>(std::min(bytes, 1e18)));
  budget.step(static_cast<size_t>(total));
  if (v.is_string()) {
    std::string out;
    out.reserve(static_cast<size_t>(total));
    for (int64_t i = 0; i < times; ++i) out += v.as_string();
    return out;
  }
  List out;
  out.reserve(static_cast<size_t>(total));
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), v.as_list().begin(), v.as_list().end());
  return out;
}

Value float_op(Op op, double x, double y) {
  switch (op) {
    case Op::kAdd: return x + y;
    case Op::kSub: return x - y;
    case Op::kMul: return x * y;
    case Op::kDiv:
      if (y == 0) fail("division by zero");
      return x / y;
    case Op::kFloorDiv:
      if (y == 0) fail("division by zero");
      return std::floor(x / y);
    case Op::kMod: {
      if (y == 0) fail("modulo by zero");
      const double r = std::fmod(x, y);
      return r != 0 && ((r < 0) != (y < 0)) ? r + y : r;
    }
    case Op::kPow: return std::pow(x, y);
    default: fail("bad float operator");
  }
}

Value int_op(Op op, int64_t x, int64_t y) {
  switch (op) {
    case Op::kAdd: return checked_op(add_op, x, y);
    case Op::kSub: return checked_op(sub_op, x, y);
    case Op::kMul: return checked_op(mul_op, x, y);
    case Op::kFloorDiv:
    case Op::kMod: {
      if (y == 0) fail(op == Op::kMod ? "modulo by zero" : "division by zero");
      if (x == INT64_MIN && y == -1) fail("integer overflow");
      int64_t q = x / y;
      int64_t m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {  // Python floors
        --q;
        m += y;
      }
      return op == Op::kMod ? m : q;
    }
    case Op::kPow: {
      if (y < 0) return std::pow(static_cast<double>(x), static_cast<double>(y));
      int64_t result = 1;
      for (int64_t i = 0; i < y; ++i) {
        if (__builtin_mul_overflow(result, x, &result)) fail("integer overflow");
        if (result == 0 || result == 1) break;  // 0**n, 1**n
      }
      return result;
    }
    default: fail("bad integer operator");
  }
}

}  // namespace

Value unary_op(Op op, const Value& v) {
  if (op == Op::kNot) return !v.truthy();
  if (!v.is_number() && !v.is_bool()) fail("bad operand type for unary %s: %s", op == Op::kNeg ? "-" : "+", type_name(v));
  if (op == Op::kPos) return v.is_bool() ? Value(as_integer(v)) : v;
  if (v.is_float()) return Value(-v.as_float());
  return checked_op(sub_op, 0, as_integer(v));
}

Value binary_op(Op op, const Value& a, const Value& b, Budget& budget) {
  switch (op) {
    case Op::kEq: return equals(a, b, budget);
    case Op::kNe: return !equals(a, b, budget);
    case Op::kLt: return compare(a, b, budget) < 0;
    case Op::kLe: return compare(a, b, budget) <= 0;
    case Op::kGt: return compare(a, b, budget) > 0;
    case Op::kGe: return compare(a, b, budget) >= 0;
    case Op::kIn: return apply_test("in", a, Args{{b}, {}}, budget);
    case Op::kNotIn: return !apply_test("in", a, Args{{b}, {}}, budget);
    case Op::kConcat: {
      std::string s = to_str(a, budget);
      s += to_str(b, budget);
      budget.check_size(s.size());
      budget.step(s.size());
      return s;
    }
    default: break;
  }
  const bool numbers = (a.is_number() || a.is_bool()) && (b.is_number() || b.is_bool());
  if (op == Op::kAdd && a.is_string() && b.is_string()) {
    budget.check_size(a.as_string().size() + b.as_string().size());
    budget.step(a.as_string().size() + b.as_string().size());
    return a.as_string() + b.as_string();
  }
  if (op == Op::kAdd && a.is_list() && b.is_list()) {
    budget.check_size((a.as_list().size() + b.as_list().size()) * sizeof(Value));
    List out = a.as_list();
    out.insert(out.end(), b.as_list().begin(), b.as_list().end());
    budget.step(out.size());
    return out;
  }
  if (op == Op::kMul && (a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) return repeat(a, as_integer(b), budget);
  if (op == Op::kMul && (b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) return repeat(b, as_integer(a), budget);
  if (!numbers) fail("unsupported operand types for %s: %s and %s", op_name(op), type_name(a), type_name(b));
  if (a.is_float() || b.is_float() || op == Op::kDiv) return float_op(op, as_double(a), as_double(b));
  return int_op(op, as_integer(a), as_integer(b));
}

}  // namespace rf::jinja
