// Internal to the interpreter: the per-render budget (limits) and the Python semantics of values —
// str(), repr(), json.dumps, ==, <, and UTF-8 character indexing. Failures throw jinja::Failure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja.h"
#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace rf::jinja {

// Counters of one render against its Limits.
class Budget {
 public:
  explicit Budget(const Limits& limits) : limits_(limits) {}

  // One evaluation step, plus one per 64 bytes built.
  void step(size_t bytes = 0) {
    steps_ += 1 + static_cast<int64_t>(bytes / 64);
    if (steps_ > limits_.max_steps) fail("evaluation step limit (%lld) exceeded", static_cast<long long>(limits_.max_steps));
  }
  // A string of `bytes`, or a list of bytes / sizeof(Value) elements.
  void check_size(size_t bytes) const {
    if (bytes > limits_.max_value_bytes) fail("size limit (%zu bytes) exceeded", limits_.max_value_bytes);
  }
  void iterate() {
    if (++iterations_ > limits_.max_loop_iterations) {
      fail("loop iteration limit (%lld) exceeded", static_cast<long long>(limits_.max_loop_iterations));
    }
  }
  // Entering a nested evaluation; leave() when done.
  void enter() {
    if (++render_depth_ > limits_.max_render_depth) fail("render depth limit (%d) exceeded", limits_.max_render_depth);
  }
  void leave() { --render_depth_; }
  const Limits& limits() const { return limits_; }

 private:
  const Limits& limits_;
  int64_t steps_ = 0;
  int64_t iterations_ = 0;
  int render_depth_ = 0;
};

const char* type_name(const Value& v);  // Python's: 'str', 'int', 'NoneType', ...

std::string to_str(const Value& v, Budget& budget);   // str(v); undefined -> ""
std::string repr(const Value& v, Budget& budget);     // repr(v)
// json.dumps(v, ensure_ascii=False, indent=indent) as Hugging Face's tojson filter calls it; indent < 0:
// one line with ", " and ": ". Undefined becomes null.
std::string to_json(const Value& v, Budget& budget, int indent);
bool equals(const Value& a, const Value& b, Budget& budget);
// -1, 0 or 1 as Python's < orders numbers, strings and lists; other pairs fail.
int compare(const Value& a, const Value& b, Budget& budget);
// Python's operators (Op::kNot, kNeg, kPos; the binary ones but and/or, which the interpreter
// short-circuits).
Value unary_op(Op op, const Value& v);
Value binary_op(Op op, const Value& a, const Value& b, Budget& budget);
// Whether `from` contains (at any depth) the container `target` — the cycle check before mutations.
bool reaches(const Value& from, const void* target, Budget& budget);

// Python's str methods on UTF-8 (case mapping is ASCII-only; whitespace is ASCII whitespace).
std::string ascii_lower(std::string_view s);
std::string ascii_upper(std::string_view s);
std::string py_title(std::string_view s);
std::string py_capitalize(std::string_view s);
// chars: the set to strip (nullptr: whitespace).
std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right);
// count < 0: all. Fails if the result would pass the string size limit.
std::string py_replace(std::string_view s, std::string_view from, std::string_view to, int64_t count, Budget& budget);
// sep == nullptr: runs of whitespace; max_split < 0: no limit. Fails on an empty separator.
List py_split(std::string_view s, const std::string* sep, int64_t max_split, Budget& budget);

// Byte offsets of each character of s (UTF-8; an invalid byte is a character of its own), then s.size().
std::vector<size_t> char_offsets(std::string_view s);
size_t char_count(std::string_view s);

}  // namespace rf::jinja
