// Jinja parser: lexer segments -> statement trees (the expressions inside tags: jinja_expr_parser.cc).
#include <initializer_list>
#include <string>

#include "chat/jinja_ast.h"
#include "chat/jinja_expr_parser.h"

namespace rf::jinja {
namespace {

class Parser : public ExprParser {
 public:
  Parser(std::string_view source, const std::vector<Segment>& segments, const Limits& limits)
      : ExprParser(source, limits), segs_(segments) {}

  std::vector<Node> parse_all() {
    std::string end;
    std::vector<Node> body = parse_body({}, end, kNoOffset, "");
    return body;
  }

 private:
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

  const std::vector<Segment>& segs_;
  size_t seg_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

std::vector<Node> parse_segments(std::string_view source, const std::vector<Segment>& segments, const Limits& limits) {
  return Parser(source, segments, limits).parse_all();
}

}  // namespace rf::jinja
