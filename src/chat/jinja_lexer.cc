// Jinja lexer: splits a template into text and tags, applying whitespace control as Hugging Face's
// environment does (trim_blocks, lstrip_blocks, `-` and `+` markers), and tokenises tag contents.
#include <cstdarg>
#include <cstdio>
#include <string>

#include "chat/jinja_ast.h"
#include "tokenizer/unicode.h"

namespace rf::jinja {

[[noreturn]] static void vfail(uint32_t offset, const char* fmt, va_list args) {
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, args);
  throw Failure{buf, offset};
}

void fail(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vfail(kNoOffset, fmt, args);
}

void fail_at(uint32_t offset, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vfail(offset, fmt, args);
}

std::string describe_offset(std::string_view source, uint32_t offset) {
  if (offset == kNoOffset) return "unknown position";
  size_t line = 1;
  size_t line_start = 0;
  const size_t end = std::min<size_t>(offset, source.size());
  for (size_t i = 0; i < end; ++i) {
    if (source[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(end - line_start + 1);
}

std::string normalise_source(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();  // keep_trailing_newline=False
  return out;
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A string escape's code point as UTF-8; surrogates (not characters) become U+FFFD, as does
// anything past U+10FFFF.
void append_escaped(std::string& out, uint32_t cp) {
  tok::append_utf8(out, cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp);
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Segment> run() {
    size_t pos = 0;
    bool line_starting = true;  // the previous tag's match ended with a newline (lstrip_blocks)
    while (pos < src_.size()) {
      const size_t open = find_open(pos);
      std::string text(src_.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos));
      if (open == std::string_view::npos) {
        emit_text(pos, std::move(text));
        break;
      }
      const char kind = src_[open + 1];
      const char sign = open + 2 < src_.size() && (src_[open + 2] == '-' || src_[open + 2] == '+') ? src_[open + 2] : 0;
      if (sign == '-') {
        while (!text.empty() && is_space(text.back())) text.pop_back();
      } else if (sign != '+' && kind != '{') {  // lstrip_blocks: not for {{ }}
        const size_t line = text.rfind('\n') + 1;  // 0 when there is no newline
        if ((line > 0 || line_starting) && line < text.size() &&
            text.find_first_not_of(" \t\r\f\v", line) == std::string::npos) {
          text.resize(line);
        }
      }
      emit_text(pos, std::move(text));
      const size_t body = open + 2 + (sign != 0 ? 1 : 0);
      size_t close_end;  // just past the closing braces
      char close_sign;
      if (kind == '#') {
        const size_t close = src_.find("#}", body);
        if (close == std::string_view::npos) fail_at(static_cast<uint32_t>(open), "unterminated comment: expected '#}'");
        close_sign = close > body && (src_[close - 1] == '-' || src_[close - 1] == '+') ? src_[close - 1] : 0;
        close_end = close + 2;
      } else {
        Segment seg;
        seg.kind = kind == '{' ? Segment::Kind::kOutput : Segment::Kind::kStatement;
        seg.offset = static_cast<uint32_t>(open);
        const size_t close = tokenize_tag(body, kind == '{' ? '}' : '%', seg.tokens, close_sign);
        seg.end_offset = static_cast<uint32_t>(close);
        close_end = close + 2 + (close_sign != 0 ? 1 : 0);
        if (seg.kind == Segment::Kind::kStatement && seg.tokens.size() == 1 && seg.tokens[0].kind == TokenKind::kName &&
            seg.tokens[0].text == "raw") {
          pos = lex_raw(open, apply_close(close_end, close_sign, true));
          line_starting = pos > 0 && src_[pos - 1] == '\n';
          continue;
        }
        segments_.push_back(std::move(seg));
      }
      pos = apply_close(close_end, close_sign, kind != '{');
      line_starting = src_[pos - 1] == '\n';
    }
    return std::move(segments_);
  }

 private:
  // The first "{{", "{%" or "{#" at or after pos.
  size_t find_open(size_t pos) const {
    for (size_t i = src_.find('{', pos); i != std::string_view::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string_view::npos;
  }

  void emit_text(size_t offset, std::string text) {
    if (text.empty()) return;
    Segment seg;
    seg.kind = Segment::Kind::kText;
    seg.offset = static_cast<uint32_t>(offset);
    seg.end_offset = seg.offset;
    seg.text = std::move(text);
    segments_.push_back(std::move(seg));
  }

  // After a tag ending at close_end: `-` eats all following whitespace; trim_blocks eats one newline
  // after a statement or comment unless `+` says not to.
  size_t apply_close(size_t close_end, char close_sign, bool block) const {
    size_t pos = close_end;
    if (close_sign == '-') {
      while (pos < src_.size() && is_space(src_[pos])) ++pos;
    } else if (block && close_sign != '+' && pos < src_.size() && src_[pos] == '\n') {
      ++pos;
    }
    return pos;
  }

  // {% raw %}...{% endraw %}: the contents are text. Returns the position after the endraw tag.
  size_t lex_raw(size_t raw_open, size_t pos) {
    for (size_t open = find_open(pos); open != std::string_view::npos; open = find_open(open + 1)) {
      if (src_[open + 1] != '%') continue;
      size_t i = open + 2;
      const char sign = i < src_.size() && (src_[i] == '-' || src_[i] == '+') ? src_[i++] : 0;
      while (i < src_.size() && is_space(src_[i])) ++i;
      if (src_.substr(i, 6) != "endraw") continue;
      i += 6;
      while (i < src_.size() && is_space(src_[i])) ++i;
      char close_sign = 0;
      if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) close_sign = src_[i++];
      if (src_.substr(i, 2) != "%}") continue;
      std::string text(src_.substr(pos, open - pos));
      if (sign == '-') {
        while (!text.empty() && is_space(text.back())) text.pop_back();
      }
      emit_text(pos, std::move(text));
      return apply_close(i + 2, close_sign, true);
    }
    fail_at(static_cast<uint32_t>(raw_open), "unterminated raw block: expected '{%% endraw %%}'");
  }

  // Tokenises from pos to the tag's closer ('}' for }}, '%' for %}) at bracket depth 0. Returns the
  // offset of the closer (of its '-' or '+' if present).
  size_t tokenize_tag(size_t pos, char closer, std::vector<Token>& tokens, char& close_sign) {
    const size_t tag_start = pos - 2;
    std::vector<size_t> open_brackets;  // offsets: the closer only counts outside brackets
    while (true) {
      while (pos < src_.size() && is_space(src_[pos])) ++pos;
      if (pos >= src_.size()) {
        if (!open_brackets.empty()) {
          fail_at(static_cast<uint32_t>(open_brackets.back()), "'%c' is not closed before the end of the template",
                  src_[open_brackets.back()]);
        }
        fail_at(static_cast<uint32_t>(tag_start), "unterminated tag: expected '%c}' before the end of the template", closer);
      }
      const std::string_view rest = src_.substr(pos);
      if (open_brackets.empty()) {
        if (rest.size() >= 3 && (rest[0] == '-' || rest[0] == '+') && rest[1] == closer && rest[2] == '}') {
          close_sign = rest[0];
          return pos;
        }
        if (rest.size() >= 2 && rest[0] == closer && rest[1] == '}') {
          close_sign = 0;
          return pos;
        }
      }
      Token tok;
      tok.offset = static_cast<uint32_t>(pos);
      const char c = rest[0];
      if (is_name_start(c)) {
        size_t n = 1;
        while (n < rest.size() && is_name_char(rest[n])) ++n;
        tok.kind = TokenKind::kName;
        tok.text = std::string(rest.substr(0, n));
        pos += n;
      } else if (is_digit(c)) {
        pos = lex_number(pos, tok);
      } else if (c == '\'' || c == '"') {
        pos = lex_string(pos, tok);
      } else {
        static constexpr std::string_view kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
        tok.kind = TokenKind::kOp;
        for (std::string_view op : kTwo) {
          if (rest.substr(0, 2) == op) tok.text = std::string(op);
        }
        if (tok.text.empty()) {
          if (std::string_view("+-*/%~<>=.,:|()[]{}").find(c) == std::string_view::npos) {
            fail_at(tok.offset, "unexpected character '%c' inside a tag", c);
          }
          tok.text = std::string(1, c);
        }
        if (c == '(' || c == '[' || c == '{') open_brackets.push_back(pos);
        if (c == ')' || c == ']' || c == '}') {
          if (open_brackets.empty()) fail_at(tok.offset, "unexpected '%c'", c);
          const char open = src_[open_brackets.back()];
          const char want = open == '(' ? ')' : open == '[' ? ']' : '}';
          if (c != want) fail_at(tok.offset, "unexpected '%c', expected '%c'", c, want);
          open_brackets.pop_back();
        }
        pos += tok.text.size();
      }
      tokens.push_back(std::move(tok));
    }
  }

  size_t lex_number(size_t pos, Token& tok) const {
    const size_t start = pos;
    auto digits = [&] {
      while (pos < src_.size() && (is_digit(src_[pos]) || (src_[pos] == '_' && pos + 1 < src_.size() && is_digit(src_[pos + 1])))) ++pos;
    };
    digits();
    bool is_float = false;
    if (pos + 1 < src_.size() && src_[pos] == '.' && is_digit(src_[pos + 1])) {
      is_float = true;
      ++pos;
      digits();
    }
    if (pos < src_.size() && (src_[pos] == 'e' || src_[pos] == 'E')) {
      size_t e = pos + 1;
      if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
      if (e < src_.size() && is_digit(src_[e])) {
        is_float = true;
        pos = e;
        digits();
      }
    }
    std::string text;
    for (size_t i = start; i < pos; ++i) {
      if (src_[i] != '_') text += src_[i];
    }
    tok.text = text;
    if (is_float) {
      tok.kind = TokenKind::kFloat;
      tok.float_value = std::strtod(text.c_str(), nullptr);
    } else {
      tok.kind = TokenKind::kInt;
      int64_t v = 0;
      for (char d : text) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d - '0', &v)) {
          fail_at(tok.offset, "integer literal %s does not fit in 64 bits", text.c_str());
        }
      }
      tok.int_value = v;
    }
    return pos;
  }

  // A Python string literal with Python's escapes (Jinja decodes them with 'unicode-escape').
  size_t lex_string(size_t pos, Token& tok) const {
    const char quote = src_[pos++];
    tok.kind = TokenKind::kString;
    std::string& out = tok.text;
    while (true) {
      if (pos >= src_.size()) fail_at(tok.offset, "unterminated string literal: expected %c", quote);
      const char c = src_[pos++];
      if (c == quote) return pos;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos >= src_.size()) fail_at(tok.offset, "unterminated string literal: expected %c", quote);
      const char e = src_[pos++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case '\n': break;  // line continuation
        case 'x': case 'u': case 'U': {
          const int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int i = 0; i < n; ++i) {
            const int d = pos < src_.size() ? hex_digit(src_[pos]) : -1;
            if (d < 0) fail_at(static_cast<uint32_t>(pos), "bad \\%c escape: expected %d hex digits", e, n);
            cp = cp * 16 + static_cast<uint32_t>(d);
            ++pos;
          }
          append_escaped(out, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int i = 0; i < 2 && pos < src_.size() && src_[pos] >= '0' && src_[pos] <= '7'; ++i) {
              cp = cp * 8 + static_cast<uint32_t>(src_[pos++] - '0');
            }
            append_escaped(out, cp);
          } else {
            out += '\\';  // Python keeps unknown escapes as written
            out += e;
          }
      }
    }
  }

  std::string_view src_;
  std::vector<Segment> segments_;
};

}  // namespace

std::vector<Segment> lex(std::string_view source) {
  if (source.size() >= kNoOffset) fail("the template is %zu bytes; at most 4 GiB are supported", source.size());
  return Lexer(source).run();
}

}  // namespace rf::jinja
