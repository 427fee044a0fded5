// The parsed form of a Jinja template (lexer segments, expressions, statements) and the internal error
// the lexer, parser and interpreter throw; Template catches it and returns a Result.
//
// Exceptions stay inside src/chat: a tree-walking interpreter fails from deep inside expressions, and
// threading a Result through every evaluation step would double the code. Nothing throws out of the
// public API (jinja.h, chat_template.h).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja.h"
#include "chat/jinja_value.h"

namespace rf::jinja {

inline constexpr uint32_t kNoOffset = std::numeric_limits<uint32_t>::max();

// Thrown inside the interpreter; offset is filled in by the innermost expression or statement that
// knows its place in the source.
struct Failure {
  std::string message;
  uint32_t offset = kNoOffset;
};
[[noreturn]] void fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void fail_at(uint32_t offset, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// "line L, column C" of a byte offset in source (columns count bytes from 1).
std::string describe_offset(std::string_view source, uint32_t offset);

// ---- Lexer: the source as text runs and tags, whitespace control already applied.

enum class TokenKind : uint8_t { kName, kString, kInt, kFloat, kOp };

struct Token {
  TokenKind kind;
  uint32_t offset;
  std::string text;  // name, operator, or the decoded string literal
  int64_t int_value = 0;
  double float_value = 0;
};

struct Segment {
  enum class Kind : uint8_t { kText, kOutput, kStatement };
  Kind kind;
  uint32_t offset;          // of the text, or of the tag's opening brace
  uint32_t end_offset;      // of the tag's closing braces (for "expected ... before the end of the tag")
  std::string text;         // kText
  std::vector<Token> tokens;  // kOutput, kStatement: the tag's contents
};

// source must already be normalised (normalise_source). Throws Failure.
std::vector<Segment> lex(std::string_view source);
// Jinja's preprocessing: \r\n and \r become \n, and one trailing newline is dropped.
std::string normalise_source(std::string_view source);

// ---- Expressions.

enum class ExprKind : uint8_t {
  kLiteral,  // literal (a scalar)
  kName,     // name
  kList,     // [args...] (tuples too)
  kDict,     // {args[0]: args[1], args[2]: args[3], ...}
  kAttr,     // args[0].name
  kIndex,    // args[0][args[1]]
  kSlice,    // args[0][args[1]:args[2]:args[3]], kEmpty for a missing bound
  kCall,     // args[0](args[1..]); the last kwargs.size() arguments are named
  kFilter,   // args[0] | name(args[1..]); kwargs as for kCall
  kTest,     // args[0] is [not] name(args[1..])
  kUnary,    // op args[0]
  kBinary,   // args[0] op args[1]
  kAnd,      // args[0] and args[1]
  kOr,       // args[0] or args[1]
  kCond,     // args[0] if args[1] else args[2] (args.size() == 2: no else)
  kEmpty,    // nothing (a missing slice bound, the subject of a filter block)
};

enum class Op : uint8_t {
  kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow, kConcat,
  kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn,
  kNeg, kPos, kNot,
};

struct Expr {
  ExprKind kind = ExprKind::kEmpty;
  Op op = Op::kAdd;
  bool negated = false;  // kTest: `is not`
  uint32_t offset = kNoOffset;
  std::string name;
  Value literal;
  std::vector<Expr> args;
  std::vector<std::string> kwargs;
};

// ---- Statements.

enum class NodeKind : uint8_t {
  kText,         // text
  kOutput,       // {{ exprs[0] }}
  kIf,           // exprs: one condition per branch; bodies: one per branch, then else if present
  kFor,          // for names in exprs[0] [if exprs[1]]: bodies[0], else bodies[1]
  kSet,          // set names[0] (.attr) | names... = exprs[0]
  kSetBlock,     // set names[0] %}bodies[0]{% endset
  kMacro,        // macro names[0](names[1..], defaults in exprs: kEmpty where none) bodies[0]
  kFilterBlock,  // filter exprs[0] (a kFilter whose subject is kEmpty) bodies[0]
  kBlock,        // generation: bodies[0] rendered as is
  kBreak,
  kContinue,
};

struct Node {
  NodeKind kind = NodeKind::kText;
  uint32_t offset = kNoOffset;
  std::string text;
  std::string attr;  // kSet: the attribute of `set ns.attr = ...`, else empty
  std::vector<std::string> names;
  std::vector<Expr> exprs;
  std::vector<std::vector<Node>> bodies;
};

struct Program {
  std::string source;
  Limits limits;
  std::vector<Node> body;
};

// Throws Failure.
std::vector<Node> parse_segments(std::string_view source, const std::vector<Segment>& segments, const Limits& limits);

}  // namespace rf::jinja
