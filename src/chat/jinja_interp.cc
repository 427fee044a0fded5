// The Jinja interpreter: walks the parsed template with Jinja's scoping (a for loop and a macro get their
// own variables; if does not), and the Template API around it.
#include <algorithm>
#include <optional>

#include "chat/jinja.h"
#include "chat/jinja_ast.h"
#include "chat/jinja_builtins.h"
#include "chat/jinja_ops.h"

namespace rf::jinja {
namespace {

struct Frame {
  std::vector<std::pair<std::string, Value>> vars;
  Frame* parent = nullptr;

  Value* find(std::string_view name) {
    for (auto& [k, v] : vars) {
      if (k == name) return &v;
    }
    return nullptr;
  }
  void set(const std::string& name, Value value) {
    if (Value* v = find(name)) {
      *v = std::move(value);
    } else {
      vars.emplace_back(name, std::move(value));
    }
  }
};

enum class Flow { kNormal, kBreak, kContinue };

int64_t as_integer(const Value& v) { return v.is_bool() ? int64_t{v.as_bool()} : v.as_int(); }

// Scoped Budget::enter/leave.
class DepthScope {
 public:
  explicit DepthScope(Budget& budget) : budget_(budget) { budget_.enter(); }
  ~DepthScope() { budget_.leave(); }

 private:
  Budget& budget_;
};

class Interpreter {
 public:
  Interpreter(const Program& program, const Value& globals)
      : program_(program), globals_(globals), budget_(program.limits), frame_(&root_), out_(&output_) {}

  std::string render() {
    exec(program_.body);
    return std::move(output_);
  }

 private:
  // ---- Statements.

  Flow exec(const std::vector<Node>& body) {
    DepthScope depth(budget_);
    for (const Node& n : body) {
      const Flow flow = exec_node(n);
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Flow exec_node(const Node& n) {
    budget_.step();
    try {
      switch (n.kind) {
        case NodeKind::kText: emit(n.text); break;
        case NodeKind::kOutput: {
          const Value v = eval(n.exprs[0]);
          if (v.is_string()) emit(v.as_string());
          else emit(to_str(v, budget_));
          break;
        }
        case NodeKind::kIf:
          for (size_t i = 0; i < n.bodies.size(); ++i) {
            if (i >= n.exprs.size() || eval(n.exprs[i]).truthy()) return exec(n.bodies[i]);
          }
          break;
        case NodeKind::kFor: return exec_for(n);
        case NodeKind::kSet: exec_set(n); break;
        case NodeKind::kSetBlock: frame_->set(n.names[0], Value(capture(n.bodies[0]))); break;
        case NodeKind::kMacro: frame_->set(n.names[0], Value::macro(&n)); break;
        case NodeKind::kFilterBlock: {
          Value saved = std::move(empty_value_);
          empty_value_ = capture(n.bodies[0]);
          const Value v = eval(n.exprs[0]);
          empty_value_ = std::move(saved);
          emit(to_str(v, budget_));
          break;
        }
        case NodeKind::kBlock: return exec(n.bodies[0]);
        case NodeKind::kBreak: return Flow::kBreak;
        case NodeKind::kContinue: return Flow::kContinue;
      }
    } catch (Failure& f) {
      if (f.offset == kNoOffset) f.offset = n.offset;
      throw;
    }
    return Flow::kNormal;
  }

  Flow exec_for(const Node& n) {
    const Value iterable = eval(n.exprs[0]);
    List items = iteration_items(iterable, budget_);
    Frame frame;
    frame.parent = frame_;
    frame_ = &frame;
    if (n.exprs[1].kind != ExprKind::kEmpty) {  // `for x in xs if cond`: Jinja filters before counting
      List kept;
      for (Value& item : items) {
        frame.vars.clear();
        bind(n.names, item);
        if (eval(n.exprs[1]).truthy()) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    const int64_t length = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < length; ++i) {
      budget_.iterate();
      frame.vars.clear();
      bind(n.names, items[static_cast<size_t>(i)]);
      Dict loop;
      loop.items.reserve(10);
      loop.set("index", i + 1);
      loop.set("index0", i);
      loop.set("revindex", length - i);
      loop.set("revindex0", length - i - 1);
      loop.set("first", i == 0);
      loop.set("last", i + 1 == length);
      loop.set("length", length);
      loop.set("depth", 1);
      loop.set("depth0", 0);
      loop.set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value());
      loop.set("nextitem", i + 1 < length ? items[static_cast<size_t>(i + 1)] : Value());
      frame.vars.emplace_back("loop", Value(std::move(loop)));
      if (exec(n.bodies[0]) == Flow::kBreak) break;
    }
    frame_ = frame.parent;
    if (length == 0) return exec(n.bodies[1]);
    return Flow::kNormal;
  }

  void bind(const std::vector<std::string>& names, const Value& item) {
    if (names.size() == 1) {
      frame_->set(names[0], item);
      return;
    }
    if (!item.is_list() || item.as_list().size() != names.size()) {
      fail("cannot unpack %s into %zu names", item.is_list() ? ("a list of " + std::to_string(item.as_list().size())).c_str() : type_name(item),
           names.size());
    }
    for (size_t i = 0; i < names.size(); ++i) frame_->set(names[i], item.as_list()[i]);
  }

  void exec_set(const Node& n) {
    Value v = eval(n.exprs[0]);
    if (n.attr.empty()) return bind(n.names, v);
    const Value target = lookup(n.names[0]);
    if (!target.is_dict() || !target.as_dict().is_namespace) {
      fail("cannot set attribute '%s' of %s '%s': only namespace() objects take assignments", n.attr.c_str(),
           type_name(target), n.names[0].c_str());
    }
    if (reaches(v, target.container_id(), budget_)) fail("the namespace would contain itself");
    target.as_dict().set(n.attr, std::move(v));
  }

  std::string capture(const std::vector<Node>& body) {
    std::string buffer;
    std::string* saved = out_;
    out_ = &buffer;
    exec(body);
    out_ = saved;
    return buffer;
  }

  void emit(std::string_view s) {
    out_->append(s);
    budget_.check_size(out_->size());
    budget_.step(s.size());
  }

  // ---- Variables.

  Value lookup(const std::string& name) {
    for (Frame* f = frame_; f != nullptr; f = f->parent) {
      if (const Value* v = f->find(name)) return *v;
    }
    if (globals_.is_dict()) {
      if (const Value* v = globals_.as_dict().find(name)) return *v;
    }
    return Value();
  }

  // ---- Expressions.

  Value eval(const Expr& e) {
    DepthScope depth(budget_);
    budget_.step();
    try {
      return eval_inner(e);
    } catch (Failure& f) {
      if (f.offset == kNoOffset) f.offset = e.offset;
      throw;
    }
  }

  Value eval_inner(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kLiteral: return e.literal;
      case ExprKind::kName: return lookup(e.name);
      case ExprKind::kEmpty: return empty_value_;
      case ExprKind::kList: {
        List list;
        list.reserve(e.args.size());
        for (const Expr& a : e.args) list.push_back(eval(a));
        return list;
      }
      case ExprKind::kDict: {
        Dict dict;
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          const Value key = eval(e.args[i]);
          if (!key.is_string()) fail("dict keys must be strings, found %s", type_name(key));
          dict.set(key.as_string(), eval(e.args[i + 1]));
        }
        return dict;
      }
      case ExprKind::kAttr: return attribute(eval(e.args[0]), e.name);
      case ExprKind::kIndex: return index(eval(e.args[0]), eval(e.args[1]));
      case ExprKind::kSlice: return slice(eval(e.args[0]), e);
      case ExprKind::kCall: return call(e);
      case ExprKind::kFilter: {
        const Value subject = eval(e.args[0]);
        return apply_filter(e.name, subject, eval_args(e), budget_);
      }
      case ExprKind::kTest: {
        const Value subject = eval(e.args[0]);
        return apply_test(e.name, subject, eval_args(e), budget_) != e.negated;
      }
      case ExprKind::kUnary: return unary_op(e.op, eval(e.args[0]));
      case ExprKind::kBinary: return binary_op(e.op, eval(e.args[0]), eval(e.args[1]), budget_);
      case ExprKind::kAnd: {
        Value lhs = eval(e.args[0]);
        return lhs.truthy() ? eval(e.args[1]) : lhs;
      }
      case ExprKind::kOr: {
        Value lhs = eval(e.args[0]);
        return lhs.truthy() ? lhs : eval(e.args[1]);
      }
      case ExprKind::kCond:
        if (eval(e.args[1]).truthy()) return eval(e.args[0]);
        return e.args.size() > 2 ? eval(e.args[2]) : Value();
    }
    return Value();
  }

  // Arguments after args[0] (the callee or subject); the last kwargs.size() are named.
  Args eval_args(const Expr& e) {
    Args args;
    const size_t n_named = e.kwargs.size();
    const size_t n_positional = e.args.size() - 1 - n_named;
    for (size_t i = 0; i < n_positional; ++i) args.positional.push_back(eval(e.args[1 + i]));
    for (size_t i = 0; i < n_named; ++i) args.named.emplace_back(e.kwargs[i], eval(e.args[1 + n_positional + i]));
    return args;
  }

  static Value attribute(const Value& object, const std::string& name) {
    if (object.is_dict()) {
      const Value* v = object.as_dict().find(name);
      return v != nullptr ? *v : Value();
    }
    return Value();  // methods are resolved by call(); anything else is undefined, as in Jinja
  }

  static Value index(const Value& object, const Value& key) {
    if (object.is_dict()) return key.is_string() ? attribute(object, key.as_string()) : Value();
    if (!key.is_int() && !key.is_bool()) {
      if (key.is_string()) return attribute(object, key.as_string());
      return Value();
    }
    int64_t i = as_integer(key);
    if (object.is_list()) {
      const auto n = static_cast<int64_t>(object.as_list().size());
      if (i < 0) i += n;
      return i >= 0 && i < n ? object.as_list()[static_cast<size_t>(i)] : Value();
    }
    if (object.is_string()) {
      const std::vector<size_t> at = char_offsets(object.as_string());
      const auto n = static_cast<int64_t>(at.size() - 1);
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value();
      const auto u = static_cast<size_t>(i);
      return Value(object.as_string().substr(at[u], at[u + 1] - at[u]));
    }
    return Value();
  }

  // Python's slice semantics over list elements or string characters.
  Value slice(const Value& object, const Expr& e) {
    auto bound = [&](const Expr& b) -> std::optional<int64_t> {
      if (b.kind == ExprKind::kEmpty) return std::nullopt;
      const Value v = eval(b);
      if (v.is_none() || v.is_undefined()) return std::nullopt;
      if (!v.is_int() && !v.is_bool()) fail("slice indices must be integers or none, found %s", type_name(v));
      return as_integer(v);
    };
    const std::optional<int64_t> lo = bound(e.args[1]);
    const std::optional<int64_t> hi = bound(e.args[2]);
    const int64_t step = bound(e.args[3]).value_or(1);
    if (step == 0) fail("slice step cannot be zero");
    if (!object.is_list() && !object.is_string()) {
      if (object.is_undefined()) return Value();
      fail("cannot slice %s", type_name(object));
    }
    std::vector<size_t> at;
    if (object.is_string()) at = char_offsets(object.as_string());
    const int64_t n = object.is_list() ? static_cast<int64_t>(object.as_list().size()) : static_cast<int64_t>(at.size() - 1);
    auto clamp = [&](std::optional<int64_t> b, int64_t fallback) {
      if (!b) return fallback;
      int64_t v = *b < 0 ? *b + n : *b;
      if (step > 0) return std::clamp<int64_t>(v, 0, n);
      return std::clamp<int64_t>(v, -1, n - 1);
    };
    const int64_t start = clamp(lo, step > 0 ? 0 : n - 1);
    const int64_t stop = clamp(hi, step > 0 ? n : -1);
    List list_out;
    std::string string_out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      const auto u = static_cast<size_t>(i);
      if (object.is_list()) list_out.push_back(object.as_list()[u]);
      else string_out.append(object.as_string(), at[u], at[u + 1] - at[u]);
    }
    budget_.step(object.is_list() ? list_out.size() : string_out.size());
    if (object.is_list()) return list_out;
    return string_out;
  }

  Value call(const Expr& e) {
    const Expr& callee = e.args[0];
    if (callee.kind == ExprKind::kAttr) {
      const Value object = eval(callee.args[0]);
      const Value member = attribute(object, callee.name);
      if (member.is_macro()) return call_macro(*member.as_macro(), eval_args(e));
      Value result;
      if (call_method(object, callee.name, eval_args(e), budget_, result)) return result;
      fail("%s has no method '%s'", type_name(object), callee.name.c_str());
    }
    if (callee.kind == ExprKind::kName) {
      const Value v = lookup(callee.name);
      if (v.is_macro()) return call_macro(*v.as_macro(), eval_args(e));
      if (!v.is_undefined()) fail("'%s' is a %s, not a function", callee.name.c_str(), type_name(v));
      Value result;
      if (call_global(callee.name, eval_args(e), budget_, result)) return result;
      fail("'%s' is undefined: it cannot be called", callee.name.c_str());
    }
    const Value v = eval(callee);
    if (!v.is_macro()) fail("a %s cannot be called", type_name(v));
    return call_macro(*v.as_macro(), eval_args(e));
  }

  // A macro sees its parameters and the template's top-level variables, and returns what it renders.
  Value call_macro(const Node& macro, const Args& args) {
    const size_t n_params = macro.names.size() - 1;
    if (args.positional.size() > n_params) {
      fail("macro '%s' takes %zu arguments, %zu given", macro.names[0].c_str(), n_params, args.positional.size());
    }
    for (const auto& [name, value] : args.named) {
      if (std::find(macro.names.begin() + 1, macro.names.end(), name) == macro.names.end()) {
        fail("macro '%s' has no parameter '%s'", macro.names[0].c_str(), name.c_str());
      }
    }
    Frame frame;
    frame.parent = &root_;
    Frame* saved = frame_;
    frame_ = &frame;
    for (size_t i = 0; i < n_params; ++i) {
      const Value* given = args.find(i, macro.names[1 + i]);
      if (given != nullptr) frame.set(macro.names[1 + i], *given);
      else if (macro.exprs[i].kind != ExprKind::kEmpty) frame.set(macro.names[1 + i], eval(macro.exprs[i]));
      else frame.set(macro.names[1 + i], Value());
    }
    std::string rendered = capture(macro.bodies[0]);
    frame_ = saved;
    return rendered;
  }

  const Program& program_;
  const Value& globals_;
  Budget budget_;
  Frame root_;       // the template's top-level variables (globals are below them, read-only)
  Frame* frame_;
  std::string output_;
  std::string* out_;  // where text goes: output_, or a macro's / block set's buffer
  Value empty_value_;  // what kEmpty evaluates to: the body of a filter block
};

}  // namespace

Template::Template(std::unique_ptr<const Program> program) : program_(std::move(program)) {}
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::~Template() = default;

const std::string& Template::source() const { return program_->source; }

Result<Template> Template::parse(std::string_view source, const Limits& limits) {
  auto program = std::make_unique<Program>();
  program->source = normalise_source(source);
  program->limits = limits;
  try {
    program->body = parse_segments(program->source, lex(program->source), limits);
  } catch (const Failure& f) {
    return make_error("%s: %s", describe_offset(program->source, f.offset).c_str(), f.message.c_str());
  }
  return Template(std::move(program));
}

Result<std::string> Template::render(const Value& globals) const {
  if (!globals.is_dict()) return make_error("template variables must be a dict, found %s", type_name(globals));
  try {
    return Interpreter(*program_, globals).render();
  } catch (const Failure& f) {
    return make_error("%s: %s", describe_offset(program_->source, f.offset).c_str(), f.message.c_str());
  }
}

}  // namespace rf::jinja
