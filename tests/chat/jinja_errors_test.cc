// Jinja subset: parse and render errors name the place and what was expected; hostile templates hit a
// named limit instead of crashing or hanging.
#include <gtest/gtest.h>

#include <random>

#include "test_util.h"

namespace rf {
namespace {

using nlohmann::ordered_json;
using test::render;

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(JinjaErrors, ParseErrorsNameThePlaceAndTheExpectation) {
  const std::pair<const char*, const char*> cases[] = {
      {"{{ x", "ERROR: line 1, column 1: unterminated tag: expected '}}' before the end of the template"},
      {"ab\n{% if x", "ERROR: line 2, column 1: unterminated tag: expected '%}' before the end of the template"},
      {"{# note", "ERROR: line 1, column 1: unterminated comment: expected '#}'"},
      {"{{ 'abc }}", "ERROR: line 1, column 4: unterminated string literal: expected '"},
      {"{% if x %}abc", "ERROR: line 1, column 4: unexpected end of template: expected 'endif' to close this 'if'"},
      {"{% for x in y %}\n{% endif %}", "ERROR: line 2, column 4: unexpected 'endif': expected 'endfor' to close the 'for' at line 1, column 4"},
      {"{% endfor %}", "ERROR: line 1, column 4: unexpected 'endfor': no block is open"},
      {"{{ 1 + }}", "ERROR: line 1, column 8: expected an expression, found the end of the tag"},
      {"{{ a b }}", "ERROR: line 1, column 6: expected the end of the tag, found 'b'"},
      {"{{ x @ y }}", "ERROR: line 1, column 6: unexpected character '@' inside a tag"},
      {"{{ f(a=1, 2) }}", "ERROR: line 1, column 11: a positional argument after a keyword argument"},
      {"{{ [1, 2 }}", "ERROR: line 1, column 10: unexpected '}', expected ']'"},
      {"{{ (1 + (2", "ERROR: line 1, column 9: '(' is not closed before the end of the template"},
      {"{{ f(1] }}", "ERROR: line 1, column 7: unexpected ']', expected ')'"},
      {"{{ a } }}", "ERROR: line 1, column 6: unexpected '}'"},
      {"{% frobnicate %}", "ERROR: line 1, column 4: unknown tag 'frobnicate': expected if, for, set, macro, filter, break or continue"},
      {"{% include 'x.j' %}", "ERROR: line 1, column 4: the 'include' tag is not supported in chat templates"},
      {"{{ x | nosuch }}", "ERROR: line 1, column 8: unknown filter 'nosuch'"},
      {"{{ x is nosuch }}", "ERROR: line 1, column 9: unknown test 'nosuch'"},
      {"{% break %}", "ERROR: line 1, column 4: 'break' outside a for loop"},
      {"{% set %}", "ERROR: line 1, column 8: expected a variable name after 'set', found the end of the tag"},
      {"{% for x y %}{% endfor %}", "ERROR: line 1, column 10: expected 'in', found 'y'"},
      {"{{ 99999999999999999999 }}", "ERROR: line 1, column 4: integer literal 99999999999999999999 does not fit in 64 bits"},
      {"{{ '\\xZZ' }}", "ERROR: line 1, column 7: bad \\x escape: expected 2 hex digits"},
      {"{% raw %}never closed", "ERROR: line 1, column 1: unterminated raw block: expected '{% endraw %}'"},
  };
  for (const auto& [source, expected] : cases) EXPECT_EQ(render(source), expected) << source;
}

TEST(JinjaErrors, RenderErrorsNameThePlace) {
  const std::pair<const char*, const char*> cases[] = {
      {"{{ 'a' + 1 }}", "ERROR: line 1, column 8: unsupported operand types for +: str and int"},
      {"{{ x + 1 }}", "ERROR: line 1, column 6: unsupported operand types for +: undefined and int"},
      {"\n\n  {{ 1 / 0 }}", "ERROR: line 3, column 8: division by zero"},
      {"{{ 1 // 0 }}{{ 1 % 0 }}", "ERROR: line 1, column 6: division by zero"},
      {"{{ 9223372036854775807 + 1 }}", "ERROR: line 1, column 24: integer overflow"},
      {"{{ nothing(1) }}", "ERROR: line 1, column 4: 'nothing' is undefined: it cannot be called"},
      {"{% for a, b in [1] %}{% endfor %}", "ERROR: line 1, column 4: cannot unpack int into 2 names"},
      {"{% for x in 5 %}{% endfor %}", "ERROR: line 1, column 4: 'int' object is not iterable"},
      {"{% set x = 1 %}{% set x.y = 2 %}", "ERROR: line 1, column 19: cannot set attribute 'y' of int 'x': only namespace() objects take assignments"},
      {"{{ [1] < 'a' }}", "ERROR: line 1, column 8: cannot order list and str"},
      {"{{ {1: 2} }}", "ERROR: line 1, column 4: dict keys must be strings, found int"},
      {"{{ range(1, 2, 0) }}", "ERROR: line 1, column 4: range() arg 3 must not be zero"},
      {"{{ 'abc'[::0] }}", "ERROR: line 1, column 4: slice step cannot be zero"},
      {"{{ 'x' | tojson(indent=-1) }}", "ERROR: line 1, column 8: tojson: indent -1 out of range 0..64"},
      {"line one\n{% if true %}\n  {{ raise_exception('roles must alternate') }}\n{% endif %}",
       "ERROR: line 3, column 6: roles must alternate"},
  };
  for (const auto& [source, expected] : cases) EXPECT_EQ(render(source), expected) << source;
}

TEST(JinjaErrors, NestingBeyondTheDepthLimitIsAParseError) {
  const std::string limit = "nesting depth limit (128) exceeded";
  for (const std::string& src : {"{{ " + repeat("(", 5000) + "1" + repeat(")", 5000) + " }}",
                                 "{{ " + repeat("[", 5000) + repeat("]", 5000) + " }}",
                                 "{{ " + repeat("-", 100000) + "1 }}", "{{ " + repeat("not ", 100000) + "1 }}",
                                 repeat("{% if true %}", 5000), "{{ " + repeat("x|trim(", 3000) + "1" + repeat(")", 3000) + " }}"}) {
    const std::string out = render(src);
    EXPECT_NE(out.find(limit), std::string::npos) << out.substr(0, 200);
  }
  // Within the limit, nesting works.
  EXPECT_EQ(render("{{ " + repeat("(", 30) + "1" + repeat(")", 30) + " }}"), "1");
}

TEST(JinjaErrors, LoopsBeyondTheIterationLimitStop) {
  jinja::Limits limits;
  limits.max_loop_iterations = 1000;
  EXPECT_EQ(render("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", ordered_json::object(), limits),
            "ERROR: line 1, column 29: loop iteration limit (1000) exceeded");
  EXPECT_EQ(render("{{ range(10 ** 6) | length }}", ordered_json::object(), limits),
            "ERROR: line 1, column 4: range of 1000000 items exceeds the loop iteration limit (1000)");
  EXPECT_EQ(render("{% for i in range(1000) %}{% endfor %}ok", ordered_json::object(), limits), "ok");
}

TEST(JinjaErrors, OutputAndStringsBeyondTheSizeLimitStop) {
  jinja::Limits limits;
  limits.max_value_bytes = 1000;
  const std::string limit = "size limit (1000 bytes) exceeded";
  for (const char* src : {"{% for i in range(100) %}0123456789abc{% endfor %}", "{{ 'x' * 100000 }}", "{{ 'x' * 9223372036854775807 }}",
                          "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
                          "{{ 'ab' | replace('', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') | replace('x', 'yyyyyyyyyyyyyyyyyyyyyy') }}",
                          "{% macro m() %}{{ '-' * 600 }}{% endmacro %}{{ m() ~ m() }}"}) {
    const std::string out = render(src, ordered_json::object(), limits);
    EXPECT_NE(out.find(limit), std::string::npos) << src << " -> " << out.substr(0, 200);
  }
  // Repeating nothing many times is quick.
  EXPECT_EQ(render("[{{ '' * 9223372036854775807 }}{{ [] * 4444444444444 }}]"), "[[]]");
  // Lists count too, before they are built.
  EXPECT_NE(render("{{ ([0] * 4000000000000) | length }}").find("size limit (67108864 bytes) exceeded"), std::string::npos);
  EXPECT_NE(render("{{ ([0, 1] * 30 + [2] * 30) | length }}", ordered_json::object(), limits).find(limit), std::string::npos);
}

TEST(JinjaErrors, WorkBeyondTheStepLimitStops) {
  jinja::Limits limits;
  limits.max_steps = 10000;
  EXPECT_EQ(render("{% for i in range(5000) %}{{ i }}{% endfor %}", ordered_json::object(), limits).substr(0, 7), "ERROR: ");
  EXPECT_NE(render("{% for i in range(5000) %}{{ i }}{% endfor %}", ordered_json::object(), limits).find("evaluation step limit (10000) exceeded"),
            std::string::npos);
}

TEST(JinjaErrors, UnboundedRecursionHitsTheRenderDepthLimit) {
  EXPECT_NE(render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").find("render depth limit (1000) exceeded"),
            std::string::npos);
}

TEST(JinjaErrors, MutationsThatWouldMakeCyclesAreRefused) {
  EXPECT_NE(render("{% set l = [] %}{% set _ = l.append(l) %}").find("append would make the list contain itself"), std::string::npos);
  EXPECT_NE(render("{% set a = [] %}{% set b = [[a]] %}{% set _ = a.append(b) %}").find("contain itself"), std::string::npos);
  EXPECT_NE(render("{% set ns = namespace() %}{% set ns.me = [ns] %}").find("the namespace would contain itself"), std::string::npos);
}

// A value nested far deeper than the stack could recurse: building and freeing it is fine; printing it
// is a named error.
TEST(JinjaErrors, DeeplyNestedValuesAreFreedWithoutRecursion) {
  auto t = jinja::Template::parse("{% set x = 1 %}" + repeat("{% set x = [x] %}", 200000) +
                                  "{{ x | length }}{% if dump %}{{ x | tojson }}{% endif %}");
  ASSERT_TRUE(t.ok());
  jinja::Dict quiet;
  quiet.set("dump", jinja::Value(false));
  auto out = t->render(jinja::Value(std::move(quiet)));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, "1");
  jinja::Dict dump;
  dump.set("dump", jinja::Value(true));
  auto failed = t->render(jinja::Value(std::move(dump)));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("value nesting depth limit (128) exceeded"), std::string::npos);

  ordered_json deep = 1;
  for (int i = 0; i < 1000; ++i) deep = ordered_json::array({deep});
  auto v = jinja::value_from_json(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("deeper than the value depth limit"), std::string::npos);
}

// Random token soup: every template parses and renders or fails with a placed message; none crashes,
// hangs or runs past the limits.
TEST(JinjaErrors, RandomTemplatesFailCleanly) {
  static constexpr const char* kPieces[] = {
      "{{", "}}", "{%", "%}", "{#", "#}", "-", "+", " ", "\n", "if", "elif", "else", "endif", "for", "in", "endfor",
      "set", "=", "macro", "endmacro", "raw", "endraw", "x", "ns", "loop", "loop.index", "namespace(", "range(", "(", ")",
      "[", "]", "{", "}", ",", ":", ".", "'s'", "\"t\"", "1", "2.5", "-1", "|", "trim", "tojson", "length", "join",
      "is", "not", "defined", "and", "or", "~", "*", "**", "//", "%", "==", "<", ".append(", "messages", "[::-1]",
      "break", "continue", "filter", "endfilter", "raise_exception(", "none", "true",
  };
  std::mt19937 rng(5);
  jinja::Limits limits;
  limits.max_steps = 200000;
  limits.max_value_bytes = 1 << 16;
  limits.max_loop_iterations = 5000;
  const ordered_json vars = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"x", {1, 2, 3}}};
  int rendered = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string src;
    for (auto n = 1 + rng() % 40; n > 0; --n) src += kPieces[rng() % std::size(kPieces)];
    const std::string out = render(src, vars, limits);
    if (out.rfind("ERROR: ", 0) == 0) {
      EXPECT_EQ(out.rfind("ERROR: line ", 0), 0u) << src << " -> " << out;
    } else {
      ++rendered;
    }
  }
  EXPECT_GT(rendered, 50);  // the soup is not all errors: rendering paths are exercised too
}

}  // namespace
}  // namespace rf
