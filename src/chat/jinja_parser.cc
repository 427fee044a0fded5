// Jinja parser: lexer segments -> statement and expression trees, with Jinja's operator precedence
// (cond < or < and < not < comparisons < + - < ~ < * / // % < ** < unary, filters, tests < postfix).
#include <initializer_list>
#include <string>

#include "chat/jinja_ast.h"
#include "chat/jinja_builtins.h"

namespace rf::jinja {
namespace {

class Parser {
 public:
  Parser(std::string_view source, const std::vector<Segment>& segments, const Limits& limits)
      : source_(source), segs_(segments), limits_(limits) {}

  std::vector<Node> parse_all() {
    std::string end;
    std::vector<Node> body = parse_body({}, end, kNoOffset, "");
    return body;
  }

 private:
  // Counts nesting (blocks and expressions alike) against the depth limit.
  struct DepthGuard {
    DepthGuard(Parser& p, uint32_t offset) : p_(p) {
      if (++p_.depth_ > p_.limits_.max_depth) {
        fail_at(offset, "nesting depth limit (%d) exceeded", p_.limits_.max_depth);
      }
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  // ---- Statements.

  // Parses nodes until a statement tag whose first word is one of `ends` (consumed; its name goes
  // to `found`, the rest of the tag is left for the caller). With no ends, parses to the end.
  std::vector<Node> parse_body(std::initializer_list<std::string_view> ends, std::string& found, uint32_t opener,
                               const char* opener_name) {
    DepthGuard guard(*this, opener);
    std::vector<Node> nodes;
    while (seg_ < segs_.size()) {
      const Segment& seg = segs_[seg_++];
      if (seg.kind == Segment::Kind::kText) {
        Node n;
        n.kind = NodeKind::kText;
        n.offset = seg.offset;
        n.text = seg.text;
        nodes.push_back(std::move(n));
        continue;
      }
      begin_tag(seg);
      if (seg.kind == Segment::Kind::kOutput) {
        Node n;
        n.kind = NodeKind::kOutput;
        n.offset = seg.offset;
        n.exprs.push_back(parse_tuple_or_expression());
        expect_end();
        nodes.push_back(std::move(n));
        continue;
      }
      const Token& head = expect_name("a statement name");
      for (std::string_view e : ends) {
        if (head.text == e) {
          found = head.text;
          return nodes;
        }
      }
      if (head.text.rfind("end", 0) == 0 || head.text == "elif" || head.text == "else") {
        if (ends.size() == 0) fail_at(head.offset, "unexpected '%s': no block is open", head.text.c_str());
        fail_at(head.offset, "unexpected '%s': expected '%s' to close the '%s' at %s", head.text.c_str(),
                std::string(*ends.begin()).c_str(), opener_name, describe_offset(source_, opener).c_str());
      }
      nodes.push_back(parse_statement(head));
    }
    if (ends.size() != 0) {
      fail_at(opener, "unexpected end of template: expected '%s' to close this '%s'", std::string(*ends.begin()).c_str(),
              opener_name);
    }
    return nodes;
  }

  Node parse_statement(const Token& head) {
    Node n;
    n.offset = head.offset;
    const std::string& name = head.text;
    if (name == "if") return parse_if(std::move(n));
    if (name == "for") return parse_for(std::move(n));
    if (name == "set") return parse_set(std::move(n));
    if (name == "macro") return parse_macro(std::move(n));
    if (name == "filter") {
      n.kind = NodeKind::kFilterBlock;
      Expr subject;
      subject.kind = ExprKind::kEmpty;
      subject.offset = head.offset;
      n.exprs.push_back(parse_filter_chain(std::move(subject), true));
      expect_end();
      n.bodies.push_back(parse_until("endfilter", n.offset, "filter"));
      return n;
    }
    if (name == "generation") {  // Hugging Face's AssistantTracker marks assistant text; renders as is
      n.kind = NodeKind::kBlock;
      expect_end();
      n.bodies.push_back(parse_until("endgeneration", n.offset, "generation"));
      return n;
    }
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) fail_at(head.offset, "'%s' outside a for loop", name.c_str());
      n.kind = name == "break" ? NodeKind::kBreak : NodeKind::kContinue;
      expect_end();
      return n;
    }
    for (const char* unsupported : {"call", "include", "import", "from", "extends", "block", "with", "do"}) {
      if (name == unsupported) fail_at(head.offset, "the '%s' tag is not supported in chat templates", name.c_str());
    }
    fail_at(head.offset, "unknown tag '%s': expected if, for, set, macro, filter, break or continue", name.c_str());
  }

  std::vector<Node> parse_until(const char* end, uint32_t opener, const char* opener_name) {
    std::string found;
    std::vector<Node> body = parse_body({end}, found, opener, opener_name);
    expect_end();
    return body;
  }

  Node parse_if(Node n) {
    n.kind = NodeKind::kIf;
    const uint32_t opener = n.offset;
    n.exprs.push_back(parse_expression());
    expect_end();
    while (true) {
      std::string found;
      n.bodies.push_back(parse_body({"endif", "elif", "else"}, found, opener, "if"));
      if (found == "endif") break;
      if (found == "elif") {
        n.exprs.push_back(parse_expression());
        expect_end();
        continue;
      }
      expect_end();  // else
      n.bodies.push_back(parse_until("endif", opener, "if"));
      break;
    }
    expect_end();
    return n;
  }

  Node parse_for(Node n) {
    n.kind = NodeKind::kFor;
    n.names = parse_targets();
    expect_keyword("in");
    n.exprs.push_back(parse_or());
    Expr filter;
    if (accept_keyword("if")) filter = parse_expression();
    n.exprs.push_back(std::move(filter));
    if (peek_keyword("recursive")) fail_at(peek()->offset, "recursive loops are not supported");
    expect_end();
    ++loop_depth_;
    std::string found;
    n.bodies.push_back(parse_body({"endfor", "else"}, found, n.offset, "for"));
    --loop_depth_;
    if (found == "else") {
      expect_end();
      n.bodies.push_back(parse_until("endfor", n.offset, "for"));
    } else {
      expect_end();
      n.bodies.emplace_back();
    }
    return n;
  }

  Node parse_set(Node n) {
    const Token& first = expect_name("a variable name after 'set'");
    n.names.push_back(first.text);
    if (accept_op(".")) {
      n.attr = expect_name("an attribute name").text;
    } else {
      while (accept_op(",")) n.names.push_back(expect_name("a variable name").text);
    }
    if (accept_op("=")) {
      n.kind = NodeKind::kSet;
      n.exprs.push_back(parse_tuple_or_expression());
      expect_end();
      return n;
    }
    if (!n.attr.empty() || n.names.size() != 1) fail_at(n.offset, "a block set takes one plain variable name");
    n.kind = NodeKind::kSetBlock;
    expect_end();
    n.bodies.push_back(parse_until("endset", n.offset, "set"));
    return n;
  }

  Node parse_macro(Node n) {
    n.kind = NodeKind::kMacro;
    n.names.push_back(expect_name("a macro name").text);
    expect_op("(");
    while (!accept_op(")")) {
      n.names.push_back(expect_name("a parameter name").text);
      Expr def;
      if (accept_op("=")) def = parse_expression();
      n.exprs.push_back(std::move(def));
      if (!accept_op(",")) {
        expect_op(")");
        break;
      }
    }
    expect_end();
    const int saved_loops = loop_depth_;
    loop_depth_ = 0;
    n.bodies.push_back(parse_until("endmacro", n.offset, "macro"));
    loop_depth_ = saved_loops;
    return n;
  }

  std::vector<std::string> parse_targets() {
    const bool parens = accept_op("(");
    std::vector<std::string> names{expect_name("a loop variable name").text};
    while (accept_op(",")) names.push_back(expect_name("a loop variable name").text);
    if (parens) expect_op(")");
    return names;
  }

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

  static Expr make(ExprKind kind, uint32_t offset) {
    Expr e;
    e.kind = kind;
    e.offset = offset;
    return e;
  }
  static Expr binary(ExprKind kind, Op op, Expr lhs, Expr rhs, uint32_t offset) {
    Expr e = make(kind, offset);
    e.op = op;
    e.args.push_back(std::move(lhs));
    e.args.push_back(std::move(rhs));
    return e;
  }

  // `a, b` at the top of {{ }} or a set value is a tuple (a list here).
  Expr parse_tuple_or_expression() {
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

  Expr parse_expression() {
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

  Expr parse_or() {
    Expr e = parse_and();
    while (peek_keyword("or")) {
      const uint32_t offset = here();
      ++tok_;
      e = binary(ExprKind::kOr, Op::kAdd, std::move(e), parse_and(), offset);
    }
    return e;
  }

  Expr parse_and() {
    Expr e = parse_not();
    while (peek_keyword("and")) {
      const uint32_t offset = here();
      ++tok_;
      e = binary(ExprKind::kAnd, Op::kAdd, std::move(e), parse_not(), offset);
    }
    return e;
  }

  Expr parse_not() {
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

  // Chains (a < b < c) become (a < b) and (b < c), as in Python.
  Expr parse_compare() {
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

  Expr parse_math1() {
    Expr e = parse_concat();
    while (peek_op("+") || peek_op("-")) {
      const uint32_t offset = here();
      const Op op = peek()->text == "+" ? Op::kAdd : Op::kSub;
      ++tok_;
      e = binary(ExprKind::kBinary, op, std::move(e), parse_concat(), offset);
    }
    return e;
  }

  Expr parse_concat() {
    Expr e = parse_math2();
    while (peek_op("~")) {
      const uint32_t offset = here();
      ++tok_;
      e = binary(ExprKind::kBinary, Op::kConcat, std::move(e), parse_math2(), offset);
    }
    return e;
  }

  Expr parse_math2() {
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

  Expr parse_pow() {
    Expr e = parse_unary(true);
    while (peek_op("**")) {
      const uint32_t offset = here();
      ++tok_;
      e = binary(ExprKind::kBinary, Op::kPow, std::move(e), parse_unary(true), offset);
    }
    return e;
  }

  // Jinja: `-x|f` is (-x)|f; the operand of a sign takes no filters itself.
  Expr parse_unary(bool with_filters) {
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

  // Filters (| name(args)), tests (is [not] name args) and calls, in any order (Jinja's
  // parse_filter_expr). For a filter block only filters are allowed, and the first '|' is implied.
  Expr parse_filter_chain(Expr e, bool filter_block) {
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

  bool starts_test_argument() const {
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

  Expr parse_primary() {
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

  Expr parse_postfix(Expr e) {
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

  Expr parse_subscript(Expr subject, uint32_t offset) {
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

  // After '(': positional arguments, then name=value ones, up to ')'.
  void parse_call_args(Expr& call) {
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

  std::string_view source_;
  const std::vector<Segment>& segs_;
  const Limits& limits_;
  size_t seg_ = 0;
  const std::vector<Token>* toks_ = nullptr;
  size_t tok_ = 0;
  uint32_t tag_end_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

std::vector<Node> parse_segments(std::string_view source, const std::vector<Segment>& segments, const Limits& limits) {
  return Parser(source, segments, limits).parse_all();
}

}  // namespace rf::jinja
