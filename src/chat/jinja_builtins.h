// Internal to the interpreter: the filters, tests, value methods and global functions templates may
// call. Failures throw jinja::Failure.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja_ops.h"

namespace rf::jinja {

inline constexpr size_t kNamedOnly = SIZE_MAX;  // Args::find index of a keyword-only argument

// Evaluated call arguments (for filters and tests: those after the subject).
struct Args {
  List positional;
  std::vector<std::pair<std::string, Value>> named;

  // The argument at `index`, or the one called `name`; nullptr if neither was given.
  const Value* find(size_t index, std::string_view name) const;
  Value get(size_t index, std::string_view name, Value fallback = {}) const;
  // Fails when more than max_positional positional arguments, or a name not in `names`, were given.
  void check(const char* callee, size_t max_positional, std::initializer_list<std::string_view> names) const;
};

// An int (or bool) argument, or a string one; other kinds fail, naming `what`.
int64_t int_arg(const Value& v, const char* what);
const std::string& string_arg(const Value& v, const char* what);
// Jinja's attribute paths for selectattr/map/join/sort ("a.b.0"); undefined where a step is missing.
Value attribute_path(const Value& object, std::string_view path);

// The entry called `name` in a table of {name, fn} (entries with a null fn are aliases), or nullptr.
template <class Entry, size_t N>
const Entry* find_entry(const Entry (&table)[N], std::string_view name) {
  for (const Entry& e : table) {
    if (e.name == name && e.fn != nullptr) return &e;
  }
  return nullptr;
}

bool known_filter(std::string_view name);
bool known_test(std::string_view name);

Value apply_filter(std::string_view name, const Value& subject, const Args& args, Budget& budget);
bool apply_test(std::string_view name, const Value& subject, const Args& args, Budget& budget);
// Methods of str, dict and list (s.strip(), d.items(), l.append(x), ...). False if there is none.
bool call_method(const Value& object, std::string_view name, const Args& args, Budget& budget, Value& result);
// range, namespace, dict, raise_exception, strftime_now. False if `name` is none of them.
bool call_global(std::string_view name, const Args& args, Budget& budget, Value& result);

// The items a for loop visits: a list's elements, a dict's keys, a string's characters; undefined is
// empty. Other kinds fail.
List iteration_items(const Value& v, Budget& budget);

}  // namespace rf::jinja
