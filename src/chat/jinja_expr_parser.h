// Internal to the parser: a cursor over one tag's tokens and Jinja's expression grammar, with its
// operator precedence (cond < or < and < not < comparisons < + - < ~ < * / // % < ** < unary, filters,
// tests < postfix). The statement parser (jinja_parser.cc) builds on it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja_ast.h"

namespace rf::jinja {

class ExprParser {
 public:
  ExprParser(std::string_view source, const Limits& limits) : source_(source), limits_(limits) {}

 protected:
  // Counts nesting (blocks and expressions alike) against the depth limit.
  struct DepthGuard {
    DepthGuard(ExprParser& p, uint32_t offset) : p_(p) {
      if (++p_.depth_ > p_.limits_.max_depth) {
        fail_at(offset, "nesting depth limit (%d) exceeded", p_.limits_.max_depth);
      }
    }
    ~DepthGuard() { --p_.depth_; }
    ExprParser& p_;
  };

  // ---- Tokens of the current tag.

  void begin_tag(const Segment& seg) {
    toks_ = &seg.tokens;
    tok_ = 0;
    tag_end_ = seg.end_offset;
  }
  const Token* peek(size_t ahead = 0) const {
    return tok_ + ahead < toks_->size() ? &(*toks_)[tok_ + ahead] : nullptr;
  }
  uint32_t here() const { return peek() != nullptr ? peek()->offset : tag_end_; }
  std::string describe_here() const {
    const Token* t = peek();
    if (t == nullptr) return "the end of the tag";
    if (t->kind == TokenKind::kString) return "a string";
    return "'" + t->text + "'";
  }
  bool peek_op(std::string_view op, size_t ahead = 0) const {
    const Token* t = peek(ahead);
    return t != nullptr && t->kind == TokenKind::kOp && t->text == op;
  }
  bool peek_keyword(std::string_view word, size_t ahead = 0) const {
    const Token* t = peek(ahead);
    return t != nullptr && t->kind == TokenKind::kName && t->text == word;
  }
  bool accept_op(std::string_view op) {
    if (!peek_op(op)) return false;
    ++tok_;
    return true;
  }
  bool accept_keyword(std::string_view word) {
    if (!peek_keyword(word)) return false;
    ++tok_;
    return true;
  }
  void expect_op(const char* op) {
    if (!accept_op(op)) fail_at(here(), "expected '%s', found %s", op, describe_here().c_str());
  }
  void expect_keyword(const char* word) {
    if (!accept_keyword(word)) fail_at(here(), "expected '%s', found %s", word, describe_here().c_str());
  }
  const Token& expect_name(const char* what) {
    const Token* t = peek();
    if (t == nullptr || t->kind != TokenKind::kName) fail_at(here(), "expected %s, found %s", what, describe_here().c_str());
    ++tok_;
    return *t;
  }
  void expect_end() {
    if (peek() != nullptr) fail_at(here(), "expected the end of the tag, found %s", describe_here().c_str());
  }

  // ---- Expressions.
  // `a, b` at the top of {{ }} or a set value is a tuple (a list here).
  Expr parse_tuple_or_expression();
  Expr parse_expression();
  Expr parse_or();
  Expr parse_and();
  Expr parse_not();
  // Chains (a < b < c) become (a < b) and (b < c), as in Python.
  Expr parse_compare();
  Expr parse_math1();
  Expr parse_concat();
  Expr parse_math2();
  Expr parse_pow();
  // Jinja: `-x|f` is (-x)|f; the operand of a sign takes no filters itself.
  Expr parse_unary(bool with_filters);
  // Filters (| name(args)), tests (is [not] name args) and calls, in any order (Jinja's
  // parse_filter_expr). For a filter block only filters are allowed, and the first '|' is implied.
  Expr parse_filter_chain(Expr e, bool filter_block);
  bool starts_test_argument() const;
  Expr parse_primary();
  Expr parse_postfix(Expr e);
  Expr parse_subscript(Expr subject, uint32_t offset);
  // After '(': positional arguments, then name=value ones, up to ')'.
  void parse_call_args(Expr& call);

  std::string_view source_;
  const Limits& limits_;
  const std::vector<Token>* toks_ = nullptr;
  size_t tok_ = 0;
  uint32_t tag_end_ = 0;
  int depth_ = 0;
};

}  // namespace rf::jinja
