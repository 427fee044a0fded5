// Jinja subset: each language feature against Jinja2's documented behaviour (with Hugging Face's
// trim_blocks/lstrip_blocks), and Python semantics on random inputs against plain references.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "test_util.h"

namespace rf {
namespace {

using nlohmann::ordered_json;
using test::render;

struct Case {
  const char* source;
  const char* expected;
  const char* vars = "{}";
};

void expect_cases(std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(render(c.source, ordered_json::parse(c.vars)), c.expected) << "template: " << c.source;
  }
}

TEST(Jinja, TextAndOutputOfEachKind) {
  expect_cases({
      {"plain text", "plain text"},
      {"{{ 'a' }}{{ \"b\" }}{{ 'c' 'd' }}", "abcd"},
      {"{{ 42 }} {{ -7 }} {{ 1_000 }} {{ 2.5 }} {{ 1.0 }} {{ 1e3 }} {{ 0.1 + 0.2 }}", "42 -7 1000 2.5 1.0 1000.0 0.30000000000000004"},
      {"{{ true }} {{ True }} {{ false }} {{ none }} {{ None }}", "True True False None None"},
      {"{{ [1, 'a', none, [true]] }}", "[1, 'a', None, [True]]"},
      {"{{ {'k': 'v', 'n': 1} }}", "{'k': 'v', 'n': 1}"},
      {"{{ \"it's\" }} {{ [\"it's\", 'say \"hi\"', 'a\\nb'] }}", "it's [\"it's\", 'say \"hi\"', 'a\\nb']"},
      {"[{{ missing }}][{{ missing.attr }}][{{ x.y.z }}]", "[][][]", R"({"x": {}})"},
      {"{{ v }} {{ v.a }} {{ v['b'][1] }} {{ v.b[-1] }} {{ v.b.0 }}", "{'a': 1, 'b': [2, 3]} 1 3 3 2", R"({"v": {"a": 1, "b": [2, 3]}})"},
  });
}

TEST(Jinja, StringEscapes) {
  expect_cases({
      {R"({{ 'a\nb\tc' }})", "a\nb\tc"},
      {R"({{ 'q\'q' }}{{ "d\"d" }}{{ '\\' }})", "q'qd\"d\\"},
      {R"({{ '\x41\u00e9\U0001F600' }})", "A\xC3\xA9\xF0\x9F\x98\x80"},
      {R"({{ '\101' }}{{ '\d' }})", "A\\d"},  // octal; unknown escapes stay as written (Python)
  });
}

TEST(Jinja, WhitespaceControlMarkers) {
  expect_cases({
      {"a  {{- 'b' -}}  c", "abc"},
      {"a \n {%- if true -%} \n b \n {%- endif -%} \n c", "abc"},
      {"a \n {#- comment -#} \n c", "ac"},
      {"a\n  {{ 'b' }}\n", "a\n  b"},  // no lstrip for {{ }}; one trailing newline dropped
      {"x\r\ny\rz", "x\ny\nz"},        // newlines normalised as Jinja does
  });
}

TEST(Jinja, TrimBlocksAndLstripBlocks) {
  expect_cases({
      // trim_blocks: the newline after a block tag goes; lstrip_blocks: indentation before it goes.
      {"{% if true %}\nyes\n{% endif %}\nafter", "yes\nafter"},
      {"  {% if true %}\n    in\n  {% endif %}\nout", "    in\nout"},
      {"{# note #}\ntext", "text"},
      // Only whitespace before the tag on its line is stripped.
      {"a {% if true %}b{% endif %}", "a b"},
      // '+' turns each off for its side.
      {"  {%+ if true %}x{% endif +%}\ny", "  x\ny"},
      // {{ }} does not trim the newline after it.
      {"{{ 'v' }}\nw", "v\nw"},
      // A block ending a line after text: the text stays, the newline after the tag goes.
      {"line {% if true %}\nnext{% endif %}", "line next"},
  });
}

TEST(Jinja, RawBlocks) {
  expect_cases({
      {"{% raw %}{{ not parsed }}{% if %}{% endraw %}", "{{ not parsed }}{% if %}"},
      {"a {%- raw -%} {{x}} {%- endraw %} b", "a{{x}} b"},
  });
}

TEST(Jinja, IfElifElse) {
  const char* src = "{% if n == 1 %}one{% elif n == 2 %}two{% elif n is none %}none{% else %}many{% endif %}";
  EXPECT_EQ(render(src, {{"n", 1}}), "one");
  EXPECT_EQ(render(src, {{"n", 2}}), "two");
  EXPECT_EQ(render(src, {{"n", nullptr}}), "none");
  EXPECT_EQ(render(src, {{"n", 7}}), "many");
  EXPECT_EQ(render("{% if x %}t{% else %}f{% endif %}"), "f");  // undefined is false
  expect_cases({
      {"{% if [] %}t{% else %}f{% endif %}{% if [0] %}t{% endif %}{% if '' %}t{% else %}f{% endif %}{% if 0.0 %}t{% else %}f{% endif %}",
       "ftff"},
  });
}

TEST(Jinja, ForLoopVariables) {
  expect_cases({
      {"{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
       "1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;", R"({"xs": ["a", "b", "c"]})"},
      {"{% for x in xs %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}|{% endfor %}", "<a>b|a<b>c|b<c>|", R"({"xs": ["a", "b", "c"]})"},
      {"{% for x in [] %}x{% else %}empty{% endfor %}", "empty"},
      {"{% for x in missing %}x{% else %}empty{% endfor %}", "empty"},
      {"{% for x in [1, 2] %}{{ x }}{% else %}empty{% endfor %}", "12"},
      {"{% for k in d %}{{ k }}{% endfor %}", "ba", R"({"d": {"b": 1, "a": 2}})"},
      {"{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "b=1;a=2;", R"({"d": {"b": 1, "a": 2}})"},
      {"{% for k, v in d | items %}{{ k }}{{ v }}{% endfor %}", "b1a2", R"({"d": {"b": 1, "a": 2}})"},
      {"{% for c in 'h\xC3\xA9!' %}[{{ c }}]{% endfor %}", "[h][\xC3\xA9][!]"},
      // A loop filter: loop.* counts the kept items only.
      {"{% for x in range(10) if x % 3 == 0 %}{{ x }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}", "0/4,3/4,6/4,9/4"},
      {"{% for x in range(6) %}{% if x == 4 %}{% break %}{% endif %}{% if x % 2 %}{% continue %}{% endif %}{{ x }}{% endfor %}", "02"},
      {"{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", "1x1 1y2 1|2x1 2y2 2|"},
      {"{% for (a, b) in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", "37"},
  });
}

TEST(Jinja, ScopesAndNamespaces) {
  expect_cases({
      // A set inside a loop does not leak out; a namespace attribute does.
      {"{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}", "231"},
      {"{% set ns = namespace(x=false, n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% if i == 2 %}{% set ns.x = true %}{% endif %}{% endfor %}{{ ns.x }} {{ ns.n }}",
       "True 6"},
      {"{% set ns = namespace() %}{% set ns.items = [] %}{% for i in range(3) %}{% set _ = ns.items.append(i * i) %}{% endfor %}{{ ns.items }}",
       "[0, 1, 4]"},
      // if does not open a scope.
      {"{% if true %}{% set y = 5 %}{% endif %}{{ y }}", "5"},
      // A set at the top shadows a global for the rest of the template.
      {"{{ messages | length }}{% set messages = messages[1:] %}{{ messages | length }}", "32", R"({"messages": [1, 2, 3]})"},
      {"{% set a, b = 1, 2 %}{{ b }}{{ a }}", "21"},
      {"{% set block %}  x{{ 1 + 1 }} {% endset %}[{{ block }}]", "[  x2 ]"},
      {"{% set d = {'k': [1]} %}{% set e = d %}{% set _ = e.k.append(2) %}{{ d.k }}", "[1, 2]"},
  });
}

TEST(Jinja, Macros) {
  expect_cases({
      {"{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(punct='.', name='C') }}",
       "Hi A! Hi B? Hi C."},
      // A macro sees top-level variables, not the caller's loop variables.
      {"{% set top = 'T' %}{% macro m() %}{{ top }}{{ i }}{% endmacro %}{% for i in [1] %}{{ m() }}{% endfor %}", "T"},
      {"{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}", "120"},
      {"{% macro m(x) %}[{{ x }}]{% endmacro %}{% set d = {'f': m} %}{{ d.f(3) }}", "[3]"},
      {"{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", "ERROR: line 1, column 34: macro 'm' takes 1 arguments, 2 given"},
      {"{% macro m(a) %}{% endmacro %}{{ m(b=1) }}", "ERROR: line 1, column 34: macro 'm' has no parameter 'b'"},
  });
}

TEST(Jinja, OperatorsWithPythonSemantics) {
  expect_cases({
      {"{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % -3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }}", "3 -4 -2 2 3.5 2.0 1024 0.5"},
      {"{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1 + 2.5 }} {{ true + 1 }}", "3.0 0.5 3.5 2"},
      {"{{ 'ab' * 3 }}{{ [0] * 2 }}{{ 2 * 'x' }}{{ 'a' * -1 }}", "ababab[0, 0]xx"},
      {"{{ 'a' + 'b' }} {{ [1] + [2] }} {{ 1 ~ 'x' ~ none ~ [1] }}", "ab [1, 2] 1xNone[1]"},
      {"{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ 1 == true }} {{ 'a' != 'a' }}",
       "True False True True True True False"},
      {"{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }} {{ 'x' in missing }}", "True True True True False"},
      {"{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }}|{{ none or [] }} {{ not 0 }} {{ not not 'a' }}", "x b |[] True True"},
      {"{{ 'y' if 1 else 'n' }} {{ 'y' if 0 else 'n' }} [{{ 'y' if 0 }}] {{ 1 if 0 else 2 if 1 else 3 }}", "y n [] 2"},
      // Precedence: filters before +, unary minus before **, not after comparison.
      {"{{ 'a' + ' b ' | trim }} {{ -2 ** 2 }} {{ not 1 == 2 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }}", "ab 4 True 7 9 64"},
      {"{{ -(3) }} {{ +4 }} {{ - 2.5 }}", "-3 4 -2.5"},
  });
}

TEST(Jinja, Filters) {
  expect_cases({
      {"[{{ '  a b \n' | trim }}] [{{ 'xxaxx' | trim('x') }}] {{ 'Ab' | upper }} {{ 'Ab' | lower }} {{ 'hello WORLD' | capitalize }} {{ 'hello wORLD-x' | title }}",
       "[a b] [a] AB ab Hello world Hello World-X"},
      {"{{ 'h\xC3\xA9llo' | length }} {{ [1, 2] | length }} {{ {'a': 1} | count }} {{ missing | length }}", "5 2 1 0"},
      {"{{ missing | default('d') }} {{ '' | default('d') }} {{ '' | default('d', true) }} {{ none | d('x') }}", "d  d None"},
      {"{{ [3, 1, 2] | first }} {{ [3, 1, 2] | last }} {{ 'abc' | first }} {{ [] | first }}", "3 2 a "},
      {"{{ [1, 2, 3] | join }} {{ [1, 2, 3] | join(', ') }} {{ users | join('/', attribute='name') }}", "123 1, 2, 3 a/b",
       R"({"users": [{"name": "a"}, {"name": "b"}]})"},
      {"{{ 'a-b-c' | replace('-', '+') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'ab' | replace('', '.') }}", "a+b+c bba .a.b."},
      {"{{ '12' | int + 1 }} {{ '3.9' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 2.7 | int }} {{ '2.5' | float }} {{ 3 | float }}",
       "13 3 0 7 2 2.5 3.0"},
      {"{{ 5 | string ~ 1 }} {{ [1] | string }} {{ 'ab' | list }} {{ {'x': 1} | list }} {{ {'x': 1, 'y': 2} | items | list }}",
       "51 [1] ['a', 'b'] ['x'] [['x', 1], ['y', 2]]"},
      {"{{ [1, 2, 3] | reverse | list }} {{ 'h\xC3\xA9' | reverse }} {{ [3, 1, 2] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ ['b', 'A', 'c'] | sort }}",
       "[3, 2, 1] \xC3\xA9h [1, 2, 3] [3, 2, 1] ['A', 'b', 'c']"},
      {"{{ users | sort(attribute='age') | map(attribute='name') | join }} {{ users | map(attribute='missing', default='-') | join }}", "ba --",
       R"({"users": [{"name": "a", "age": 3}, {"name": "b", "age": 1}]})"},
      {"{{ ['a', 'B'] | map('upper') | list }} {{ [1, 2, 1, 3, 2] | unique | list }} {{ [-1, 2] | map('abs') | list }} {{ [3, 5, 4] | min }} {{ [3, 5, 4] | max }}",
       "['A', 'B'] [1, 2, 3] [1, 2] 3 5"},
      {"{{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='c') | join }} {{ msgs | rejectattr('role', 'equalto', 'user') | map(attribute='c') | join }} {{ msgs | selectattr('tool') | list | length }} {{ msgs | selectattr('tool', 'defined') | list | length }}",
       "13 2 1 2", R"({"msgs": [{"role": "user", "c": "1"}, {"role": "bot", "c": "2", "tool": 0}, {"role": "user", "c": "3", "tool": 1}]})"},
      {"{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} {{ [0, 1, '', 'a'] | select | list }} {{ ['a', 'b'] | reject('equalto', 'a') | list }}",
       "[1, 3] [2, 4] [1, 'a'] ['b']"},
      {"{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}|{{ 'a\nb' | indent('> ') }}", "a\n  b\n\n  c|  a\n  b|a\n> b"},
      {"{{ 3.14159 | round(2) }} {{ 2.5 | round }} {{ 2.1 | round(method='ceil') }} {{ -3 | abs }} {{ '<a&\"b\">' | e }} {{ 'x' | safe }}",
       "3.14 2.0 3.0 3 &lt;a&amp;&#34;b&#34;&gt; x"},
      {"{{ {'b': 1, 'a': 2} | dictsort }}", "[['a', 2], ['b', 1]]"},
  });
}

TEST(Jinja, ToJsonAsHuggingFaceCallsIt) {
  // json.dumps(x, ensure_ascii=False) with the default separators, keys in insertion order.
  expect_cases({
      {"{{ v | tojson }}", R"({"b": [1, 2.5, null, true], "a": "é\"\n\u0001"})", R"({"v": {"b": [1, 2.5, null, true], "a": "é\"\n\u0001"}})"},
      {"{{ [] | tojson }}{{ {} | tojson }}{{ 'x' | tojson }}{{ 1.0 | tojson }}", "[]{}\"x\"1.0"},
      {"{{ v | tojson(indent=2) }}", "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": \"c\"\n}", R"({"v": {"a": [1, {}], "b": "c"}})"},
  });
}

TEST(Jinja, Tests) {
  expect_cases({
      {"{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ x is not none }} {{ n is none }}", "True False True True True", R"({"x": 1, "n": null})"},
      {"{{ 's' is string }} {{ 1 is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is boolean }}",
       "True False True True True True True True"},
      {"{{ {} is mapping }} {{ [] is mapping }} {{ [] is iterable }} {{ 's' is iterable }} {{ 1 is iterable }} {{ 's' is sequence }} {{ {} is sequence }}",
       "True False True True False True True"},
      {"{{ 2 is equalto 2 }} {{ 2 is eq(3) }} {{ 2 is ne 3 }} {{ 3 is gt 2 }} {{ 3 is lt 2 }} {{ 2 is ge 2 }} {{ 1 is le 0 }} {{ 1 is in [1] }}",
       "True False True True False True False True"},
      {"{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 4 is even }} {{ 3 is odd }} {{ 9 is divisibleby 3 }} {{ 'ab' is lower }} {{ 'AB' is upper }}",
       "True False True True True True True True"},
      {"{% macro m() %}{% endmacro %}{{ m is callable }} {{ 1 is callable }} {{ l is sameas l }} {{ [] is sameas [] }} {{ none is sameas none }}",
       "True False True False True", R"({"l": [1]})"},
  });
}

TEST(Jinja, MethodsOfStrDictList) {
  expect_cases({
      {"[{{ ' x '.strip() }}][{{ ' x '.lstrip() }}][{{ ' x '.rstrip() }}][{{ '--x--'.strip('-') }}]", "[x][x ][ x][x]"},
      {"{{ 'abc'.startswith('ab') }} {{ 'abc'.startswith(('x', 'a')) }} {{ 'abc'.endswith('bc') }} {{ 'abc'.endswith('b') }}", "True True True False"},
      {"{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ ' a b '.split(none, 1) }}",
       "['a', 'b', 'c'] ['a', 'b', '', 'c'] ['a', 'b,c'] ['a', 'b ']"},
      {"{{ 'Ab'.upper() }}{{ 'Ab'.lower() }} {{ 'ab cd'.title() }} {{ 'aXb'.capitalize() }} {{ 'aaa'.replace('a', 'b', 1) }} {{ 'h\xC3\xA9llo'.find('l') }} {{ ', '.join(['a', 'b']) }}",
       "ABab Ab Cd Axb baa 2 a, b"},
      {"{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 0) }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }}",
       "1 None 0 ['a', 'b'] [1, 2] [['a', 1], ['b', 2]]", R"({"d": {"a": 1, "b": 2}})"},
      {"{{ 'x'.nope() }}", "ERROR: line 1, column 4: str has no method 'nope'"},
  });
}

TEST(Jinja, GlobalFunctions) {
  expect_cases({
      {"{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(5, 0, -2) | list }} {{ range(0) | list }}", "[0, 1, 2] [1, 2, 3] [5, 3, 1] []"},
      {"{{ dict(a=1, b='x') }} {{ namespace(a=1).a }}", "{'a': 1, 'b': 'x'} 1"},
      {"before{{ raise_exception('Conversation roles must alternate') }}", "ERROR: line 1, column 10: Conversation roles must alternate"},
  });
  const std::string today = render("{{ strftime_now('%Y') }}");
  ASSERT_EQ(today.size(), 4u) << today;
  EXPECT_GE(std::stoi(today), 2024);
}

TEST(Jinja, FilterBlocksAndGenerationBlocks) {
  expect_cases({
      {"{% filter upper %}ab{{ 'c' }}{% endfilter %}", "ABC"},
      {"{% filter trim | replace('a', 'b') %}  aa  {% endfilter %}", "bb"},
      {"{% generation %}kept{% endgeneration %}", "kept"},
  });
}

// Python's slice semantics, written out: the reference for random slices.
std::vector<int> reference_slice(int n, std::optional<int> lo, std::optional<int> hi, int step) {
  auto norm = [&](std::optional<int> v, int fallback) {
    if (!v) return fallback;
    int x = *v < 0 ? *v + n : *v;
    if (step > 0) return std::clamp(x, 0, n);
    return std::clamp(x, -1, n - 1);
  };
  const int start = norm(lo, step > 0 ? 0 : n - 1);
  const int stop = norm(hi, step > 0 ? n : -1);
  std::vector<int> out;
  for (int i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(i);
  return out;
}

TEST(Jinja, RandomSlicesOfListsAndStringsMatchPython) {
  std::mt19937 rng(7);
  const char* chars[] = {"a", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "z"};  // 1- to 4-byte characters
  for (int trial = 0; trial < 300; ++trial) {
    const int n = static_cast<int>(rng() % 14);
    ordered_json list = ordered_json::array();
    std::vector<std::string> text_chars;
    std::string text;
    for (int i = 0; i < n; ++i) {
      list.push_back(i * 10);
      text_chars.push_back(chars[rng() % 5]);
      text += text_chars.back();
    }
    auto bound = [&]() -> std::optional<int> {
      if (rng() % 4 == 0) return std::nullopt;
      return static_cast<int>(rng() % 21) - 10;
    };
    const std::optional<int> lo = bound();
    const std::optional<int> hi = bound();
    int step = static_cast<int>(rng() % 7) - 3;
    if (step == 0 || rng() % 3 == 0) step = 1;
    const std::string spec = (lo ? std::to_string(*lo) : "") + ":" + (hi ? std::to_string(*hi) : "") + ":" + std::to_string(step);
    std::string want_list = "[";
    std::string want_text;
    for (const int i : reference_slice(n, lo, hi, step)) {
      want_list += (want_list.size() > 1 ? ", " : "") + std::to_string(i * 10);
      want_text += text_chars[static_cast<size_t>(i)];
    }
    want_list += "]";
    EXPECT_EQ(render("{{ l[" + spec + "] }}", {{"l", list}}), want_list) << spec << " of " << n;
    EXPECT_EQ(render("{{ s[" + spec + "] }}", {{"s", text}}), want_text) << spec << " of " << text;
  }
}

TEST(Jinja, RandomIntegerArithmeticMatchesPythonFlooring) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    const auto a = static_cast<int64_t>(rng() % 2001) - 1000;
    auto b = static_cast<int64_t>(rng() % 41) - 20;
    if (b == 0) b = 3;
    // Python floors: q = floor(a / b), r = a - b*q, computed here in long double.
    const auto q = static_cast<int64_t>(std::floor(static_cast<long double>(a) / static_cast<long double>(b)));
    const int64_t r = a - b * q;
    EXPECT_EQ(render("{{ a // b }} {{ a % b }} {{ a * b - a }}", {{"a", a}, {"b", b}}),
              std::to_string(q) + " " + std::to_string(r) + " " + std::to_string(a * b - a))
        << a << ", " << b;
  }
}

// Random nested values survive tojson: nlohmann parses back what was fed in.
TEST(Jinja, RandomValuesRoundTripThroughToJson) {
  std::mt19937 rng(3);
  std::function<ordered_json(int)> make = [&](int depth) -> ordered_json {
    switch (depth > 3 ? rng() % 4 : rng() % 6) {
      case 0: return static_cast<int64_t>(rng() % 100000) - 50000;
      case 1: return std::ldexp(static_cast<double>(rng() % 1000000) - 5e5, static_cast<int>(rng() % 20) - 10);
      case 2: {
        std::string s;
        const char* pieces[] = {"a", "\"", "\\", "\n", "\x01", "\xC3\xA9"};
        for (auto i = rng() % 6; i > 0; --i) s += pieces[rng() % 6];
        return s;
      }
      case 3: return rng() % 2 ? ordered_json(true) : ordered_json(nullptr);
      case 4: {
        ordered_json a = ordered_json::array();
        for (auto i = rng() % 4; i > 0; --i) a.push_back(make(depth + 1));
        return a;
      }
      default: {
        ordered_json o = ordered_json::object();
        for (auto i = rng() % 4; i > 0; --i) o["k" + std::to_string(rng() % 10)] = make(depth + 1);
        return o;
      }
    }
  };
  for (int trial = 0; trial < 200; ++trial) {
    const ordered_json v = make(0);
    for (const char* src : {"{{ v | tojson }}", "{{ v | tojson(indent=3) }}"}) {
      const std::string out = render(src, {{"v", v}});
      ASSERT_TRUE(ordered_json::accept(out)) << out;
      EXPECT_EQ(ordered_json::parse(out), v) << out;
    }
  }
}

TEST(Jinja, OneTemplateRendersConcurrently) {
  auto t = jinja::Template::parse(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + m | length %}{{ m }}{% endfor %}={{ ns.n }}");
  ASSERT_TRUE(t.ok());
  std::vector<std::string> outputs(4);
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      jinja::List msgs;
      for (int i = 0; i <= w; ++i) msgs.emplace_back(std::string(static_cast<size_t>(i + 1), 'x'));
      jinja::Dict vars;
      vars.set("messages", jinja::Value(std::move(msgs)));
      const jinja::Value globals(std::move(vars));
      for (int rep = 0; rep < 200; ++rep) {
        auto out = t->render(globals);
        if (!out.ok() || (rep > 0 && *out != outputs[w])) {
          outputs[w] = "mismatch";
          return;
        }
        outputs[w] = *out;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(outputs[0], "x=1");
  EXPECT_EQ(outputs[1], "xxx=3");
  EXPECT_EQ(outputs[2], "xxxxxx=6");
  EXPECT_EQ(outputs[3], "xxxxxxxxxx=10");
}

}  // namespace
}  // namespace rf
