// jinja::Template: a Jinja2 subset for chat templates, with Hugging Face's settings (trim_blocks,
// lstrip_blocks, loop controls). Parsed once; render() is const and thread-safe.
//
// Supported: text, {{ }}, {% %}, {# #}, whitespace control (- and +), raw; if/elif/else, for (loop
// variables, else, a filter condition, unpacking), break/continue, set (also ns.attr and block set),
// macro, filter blocks, generation blocks (HF); Python-like expressions with the filters, tests and
// str/dict/list methods chat templates use (see jinja_builtins.cc). Undefined names and attributes are
// undefined (falsy, render as ""). No include/extends/import/call: they are parse errors.
//
// Hostile templates cannot crash or hang a render: nesting, loop iterations, evaluation steps, value
// and output sizes are bounded (Limits), and exceeding one is an error naming it. Every error says the
// line and column and what was expected.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "chat/jinja_value.h"

namespace rf::jinja {

struct Limits {
  int max_depth = 128;                         // nesting in the source, and of values (lists in lists)
  int max_render_depth = 1000;                 // nested evaluation while rendering (macro recursion)
  int64_t max_loop_iterations = 1'000'000;     // over all loops of one render
  int64_t max_steps = 50'000'000;              // evaluation steps per render (bytes built count 1/64)
  size_t max_value_bytes = size_t{1} << 26;    // any string or list built, the output included (64 MiB)
};

struct Program;  // the parsed template (jinja_ast.h)

class Template {
 public:
  // Errors name the line and column and what was expected there.
  static Result<Template> parse(std::string_view source, const Limits& limits = {});

  // globals: a dict of the template's variables (messages, bos_token, ...). Errors: the template's
  // raise_exception(message), type errors (`'a' + 1`), limits, with the line and column.
  Result<std::string> render(const Value& globals) const;

  const std::string& source() const;  // as parsed: newlines normalised, one trailing newline dropped

  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;
  ~Template();

 private:
  explicit Template(std::unique_ptr<const Program> program);
  std::unique_ptr<const Program> program_;
};

}  // namespace rf::jinja
