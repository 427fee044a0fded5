// Jinja expressions: recursive descent over one tag's tokens, nesting bounded by the depth limit.
#include "chat/jinja_expr_parser.h"

#include "chat/jinja_builtins.h"

namespace rf::jinja {
namespace {

Expr make(ExprKind kind, uint32_t offset) {
  Expr e;
  e.kind = kind;
  e.offset = offset;
  return e;
}

Expr binary(ExprKind kind, Op op, Expr lhs, Expr rhs, uint32_t offset) {
  Expr e = make(kind, offset);
  e.op = op;
  e.args.push_back(std::move(lhs));
  e.args.push_back(std::move(rhs));
  return e;
}

}  // namespace

Expr ExprParser::parse_tuple_or_expression() {
  const uint32_t offset = here();
  Expr first = parse_expression();
  if (!peek_op(",")) return first;
  Expr list = make(ExprKind::kList, offset);
  list.args.push_back(std::move(first));
  while (accept_op(",")) {
    if (peek() == nullptr) break;
    list.args.push_back(parse_expression());
  }
  return list;
}

Expr ExprParser::parse_expression() {
  DepthGuard guard(*this, here());
  const uint32_t offset = here();
  Expr e = parse_or();
  while (accept_keyword("if")) {
    Expr cond = make(ExprKind::kCond, offset);
    cond.args.push_back(std::move(e));
    cond.args.push_back(parse_or());
    if (accept_keyword("else")) cond.args.push_back(parse_expression());
    e = std::move(cond);
  }
  return e;
}

Expr ExprParser::parse_or() {
  Expr e = parse_and();
  while (peek_keyword("or")) {
    const uint32_t offset = here();
    ++tok_;
    e = binary(ExprKind::kOr, Op::kAdd, std::move(e), parse_and(), offset);
  }
  return e;
}

Expr ExprParser::parse_and() {
  Expr e = parse_not();
  while (peek_keyword("and")) {
    const uint32_t offset = here();
    ++tok_;
    e = binary(ExprKind::kAnd, Op::kAdd, std::move(e), parse_not(), offset);
  }
  return e;
}

Expr ExprParser::parse_not() {
  if (peek_keyword("not")) {
    DepthGuard guard(*this, here());
    Expr e = make(ExprKind::kUnary, here());
    ++tok_;
    e.op = Op::kNot;
    e.args.push_back(parse_not());
    return e;
  }
  return parse_compare();
}

Expr ExprParser::parse_compare() {
  Expr lhs = parse_math1();
  Expr result;
  bool chained = false;
  while (true) {
    const uint32_t offset = here();
    Op op;
    if (accept_op("==")) op = Op::kEq;
    else if (accept_op("!=")) op = Op::kNe;
    else if (accept_op("<")) op = Op::kLt;
    else if (accept_op("<=")) op = Op::kLe;
    else if (accept_op(">")) op = Op::kGt;
    else if (accept_op(">=")) op = Op::kGe;
    else if (accept_keyword("in")) op = Op::kIn;
    else if (peek_keyword("not") && peek_keyword("in", 1)) { tok_ += 2; op = Op::kNotIn; }
    else break;
    Expr rhs = parse_math1();
    Expr cmp = binary(ExprKind::kBinary, op, lhs, rhs, offset);
    result = chained ? binary(ExprKind::kAnd, Op::kAdd, std::move(result), std::move(cmp), offset) : std::move(cmp);
    chained = true;
    lhs = std::move(rhs);
  }
  return chained ? result : lhs;
}

Expr ExprParser::parse_math1() {
  Expr e = parse_concat();
  while (peek_op("+") || peek_op("-")) {
    const uint32_t offset = here();
    const Op op = peek()->text == "+" ? Op::kAdd : Op::kSub;
    ++tok_;
    e = binary(ExprKind::kBinary, op, std::move(e), parse_concat(), offset);
  }
  return e;
}

Expr ExprParser::parse_concat() {
  Expr e = parse_math2();
  while (peek_op("~")) {
    const uint32_t offset = here();
    ++tok_;
    e = binary(ExprKind::kBinary, Op::kConcat, std::move(e), parse_math2(), offset);
  }
  return e;
}

Expr ExprParser::parse_math2() {
  Expr e = parse_pow();
  while (true) {
    const uint32_t offset = here();
    Op op;
    if (accept_op("*")) op = Op::kMul;
    else if (accept_op("/")) op = Op::kDiv;
    else if (accept_op("//")) op = Op::kFloorDiv;
    else if (accept_op("%")) op = Op::kMod;
    else break;
    e = binary(ExprKind::kBinary, op, std::move(e), parse_pow(), offset);
  }
  return e;
}

Expr ExprParser::parse_pow() {
  Expr e = parse_unary(true);
  while (peek_op("**")) {
    const uint32_t offset = here();
    ++tok_;
    e = binary(ExprKind::kBinary, Op::kPow, std::move(e), parse_unary(true), offset);
  }
  return e;
}

Expr ExprParser::parse_unary(bool with_filters) {
  DepthGuard guard(*this, here());
  Expr e;
  if (peek_op("-") || peek_op("+")) {
    e = make(ExprKind::kUnary, here());
    e.op = peek()->text == "-" ? Op::kNeg : Op::kPos;
    ++tok_;
    e.args.push_back(parse_unary(false));
  } else {
    e = parse_postfix(parse_primary());
  }
  if (with_filters) e = parse_filter_chain(std::move(e), false);
  return e;
}

Expr ExprParser::parse_filter_chain(Expr e, bool filter_block) {
  bool first = filter_block;
  while (true) {
    const uint32_t offset = here();
    if (first || accept_op("|")) {
      first = false;
      Expr f = make(ExprKind::kFilter, offset);
      const Token& name = expect_name("a filter name");
      f.name = name.text;
      if (!known_filter(f.name)) fail_at(name.offset, "unknown filter '%s'", f.name.c_str());
      f.args.push_back(std::move(e));
      if (accept_op("(")) parse_call_args(f);
      e = std::move(f);
    } else if (!filter_block && accept_keyword("is")) {
      Expr t = make(ExprKind::kTest, offset);
      t.negated = accept_keyword("not");
      const Token& name = expect_name("a test name");
      t.name = name.text;
      if (!known_test(t.name)) fail_at(name.offset, "unknown test '%s'", t.name.c_str());
      t.args.push_back(std::move(e));
      if (accept_op("(")) {
        parse_call_args(t);
      } else if (starts_test_argument()) {
        t.args.push_back(parse_postfix(parse_primary()));
      }
      e = std::move(t);
    } else if (!filter_block && peek_op("(")) {
      e = parse_postfix(std::move(e));
    } else {
      return e;
    }
  }
}

bool ExprParser::starts_test_argument() const {
  const Token* t = peek();
  if (t == nullptr) return false;
  if (t->kind == TokenKind::kName) {
    for (const char* stop : {"else", "or", "and", "if", "in", "is", "not"}) {
      if (t->text == stop) return false;
    }
    return true;
  }
  return t->kind != TokenKind::kOp || t->text == "[" || t->text == "{" || t->text == "(";
}

Expr ExprParser::parse_primary() {
  const Token* t = peek();
  if (t == nullptr) fail_at(here(), "expected an expression, found the end of the tag");
  const uint32_t offset = t->offset;
  switch (t->kind) {
    case TokenKind::kName: {
      ++tok_;
      Expr e = make(ExprKind::kLiteral, offset);
      if (t->text == "true" || t->text == "True") e.literal = true;
      else if (t->text == "false" || t->text == "False") e.literal = false;
      else if (t->text == "none" || t->text == "None") e.literal = None{};
      else {
        e.kind = ExprKind::kName;
        e.name = t->text;
      }
      return e;
    }
    case TokenKind::kString: {
      std::string s;
      while (peek() != nullptr && peek()->kind == TokenKind::kString) s += (*toks_)[tok_++].text;
      Expr e = make(ExprKind::kLiteral, offset);
      e.literal = std::move(s);
      return e;
    }
    case TokenKind::kInt: {
      ++tok_;
      Expr e = make(ExprKind::kLiteral, offset);
      e.literal = t->int_value;
      return e;
    }
    case TokenKind::kFloat: {
      ++tok_;
      Expr e = make(ExprKind::kLiteral, offset);
      e.literal = t->float_value;
      return e;
    }
    case TokenKind::kOp:
      break;
  }
  if (accept_op("(")) {
    if (accept_op(")")) return make(ExprKind::kList, offset);
    Expr e = parse_expression();
    if (peek_op(",")) {
      Expr list = make(ExprKind::kList, offset);
      list.args.push_back(std::move(e));
      while (accept_op(",") && !peek_op(")")) list.args.push_back(parse_expression());
      e = std::move(list);
    }
    expect_op(")");
    return e;
  }
  if (accept_op("[")) {
    Expr list = make(ExprKind::kList, offset);
    while (!accept_op("]")) {
      list.args.push_back(parse_expression());
      if (!accept_op(",")) {
        expect_op("]");
        break;
      }
    }
    return list;
  }
  if (accept_op("{")) {
    Expr dict = make(ExprKind::kDict, offset);
    while (!accept_op("}")) {
      dict.args.push_back(parse_expression());
      expect_op(":");
      dict.args.push_back(parse_expression());
      if (!accept_op(",")) {
        expect_op("}");
        break;
      }
    }
    return dict;
  }
  fail_at(offset, "expected an expression, found %s", describe_here().c_str());
}

Expr ExprParser::parse_postfix(Expr e) {
  while (true) {
    const uint32_t offset = e.offset;  // errors in a.b[c](d) point at its start
    if (accept_op(".")) {
      const Token* t = peek();
      if (t != nullptr && t->kind == TokenKind::kInt) {
        ++tok_;
        Expr index = make(ExprKind::kLiteral, t->offset);
        index.literal = t->int_value;
        e = binary(ExprKind::kIndex, Op::kAdd, std::move(e), std::move(index), offset);
        continue;
      }
      Expr attr = make(ExprKind::kAttr, offset);
      attr.name = expect_name("an attribute name after '.'").text;
      attr.args.push_back(std::move(e));
      e = std::move(attr);
    } else if (accept_op("[")) {
      e = parse_subscript(std::move(e), offset);
    } else if (accept_op("(")) {
      Expr call = make(ExprKind::kCall, offset);
      call.args.push_back(std::move(e));
      parse_call_args(call);
      e = std::move(call);
    } else {
      return e;
    }
  }
}

Expr ExprParser::parse_subscript(Expr subject, uint32_t offset) {
  DepthGuard guard(*this, offset);
  Expr lower = peek_op(":") ? make(ExprKind::kEmpty, here()) : parse_expression();
  if (!accept_op(":")) {
    expect_op("]");
    return binary(ExprKind::kIndex, Op::kAdd, std::move(subject), std::move(lower), offset);
  }
  Expr slice = make(ExprKind::kSlice, offset);
  slice.args.push_back(std::move(subject));
  slice.args.push_back(std::move(lower));
  slice.args.push_back(peek_op("]") || peek_op(":") ? make(ExprKind::kEmpty, here()) : parse_expression());
  Expr step = make(ExprKind::kEmpty, here());
  if (accept_op(":") && !peek_op("]")) step = parse_expression();
  slice.args.push_back(std::move(step));
  expect_op("]");
  return slice;
}

void ExprParser::parse_call_args(Expr& call) {
  while (!accept_op(")")) {
    if (peek() != nullptr && peek()->kind == TokenKind::kName && peek_op("=", 1)) {
      call.kwargs.push_back(peek()->text);
      tok_ += 2;
      call.args.push_back(parse_expression());
    } else {
      if (!call.kwargs.empty()) fail_at(here(), "a positional argument after a keyword argument");
      call.args.push_back(parse_expression());
    }
    if (!accept_op(",")) {
      expect_op(")");
      break;
    }
  }
}

}  // namespace rf::jinja
