// Pre-tokenizer step chains: hand-written equivalents of the regexes llama.cpp applies per vocabulary.
#include "tokenizer/pretokenize.h"

#include <cstdint>
#include <utility>

#include "tokenizer/unicode.h"

namespace rf::tok {
namespace {

constexpr uint8_t kLetterNumberSpace = kFlagLetter | kFlagNumber | kFlagWhitespace;

// Code points of the text and their classes.
struct Text {
  std::vector<uint32_t> cps;
  std::vector<uint8_t> flags;
};

struct Piece {
  size_t begin;
  size_t end;
};

using Pieces = std::vector<Piece>;

// Collects consecutive pieces of [begin, end): emit(x) closes the piece that started where the last one
// ended (empty pieces are dropped).
class Emitter {
 public:
  Emitter(Pieces& out, size_t begin) : out_(out), prev_(begin) {}
  void emit(size_t end) {
    if (end > prev_) out_.push_back({prev_, end});
    prev_ = end;
  }

 private:
  Pieces& out_;
  size_t prev_;
};

bool is_newline(uint32_t cp) { return cp == '\r' || cp == '\n'; }

bool is_contraction_letter(uint32_t cp) { return cp == 's' || cp == 't' || cp == 'm' || cp == 'd'; }

bool is_contraction_pair(uint32_t a, uint32_t b) {
  return (a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l');
}

// Length of the contraction 's|'t|'re|'ve|'m|'ll|'d at pos, 0 if none; lowercase() folds case for the
// (?i:...) variants.
template <class Fold>
size_t contraction_length(const Text& t, size_t pos, size_t end, Fold lowercase) {
  if (t.cps[pos] != '\'' || pos + 1 >= end) return 0;
  const uint32_t a = lowercase(t.cps[pos + 1]);
  if (is_contraction_letter(a)) return 2;
  if (pos + 2 < end && is_contraction_pair(a, lowercase(t.cps[pos + 2]))) return 3;
  return 0;
}

// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// Follows llama.cpp's custom matcher, which also emits any unmatched code point on its own.
void split_gpt2(const Text& t, size_t begin, size_t end, Pieces& out) {
  auto flags_at = [&](size_t p) -> uint8_t { return p < end ? t.flags[p] : 0; };
  Emitter em(out, begin);
  size_t pos = begin;
  while (pos < end) {
    const uint32_t cp = t.cps[pos];
    if (size_t n = contraction_length(t, pos, end, [](uint32_t c) { return c; })) {
      em.emit(pos += n);
      continue;
    }
    const bool space = cp == ' ';
    const size_t head = pos + (space ? 1 : 0);  // where the class run would start
    const uint8_t f = space ? flags_at(pos + 1) : t.flags[pos];
    if (head < end && (f & kFlagLetter)) {
      for (pos = head; flags_at(pos) & kFlagLetter;) ++pos;
      em.emit(pos);
      continue;
    }
    if (head < end && (f & kFlagNumber)) {
      for (pos = head; flags_at(pos) & kFlagNumber;) ++pos;
      em.emit(pos);
      continue;
    }
    if (head < end && !(f & kLetterNumberSpace)) {
      for (pos = head; pos < end && !(t.flags[pos] & kLetterNumberSpace);) ++pos;
      em.emit(pos);
      continue;
    }
    size_t spaces = 0;
    while (flags_at(pos + spaces) & kFlagWhitespace) ++spaces;
    if (spaces > 1 && pos + spaces < end) {  // \s+(?!\S): leave the last space to the next word
      em.emit(pos += spaces - 1);
    } else if (spaces > 0) {  // \s+
      em.emit(pos += spaces);
    } else {
      em.emit(++pos);
    }
  }
}

// Llama 3 (max_digits 3) and Qwen2 (max_digits 1):
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max}| ?[^\s\p{L}\p{N}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+
void split_llama3(const Text& t, size_t begin, size_t end, size_t max_digits, Pieces& out) {
  auto flags_at = [&](size_t p) -> uint8_t { return p < end ? t.flags[p] : 0; };
  Emitter em(out, begin);
  size_t pos = begin;
  while (pos < end) {
    const uint32_t cp = t.cps[pos];
    const uint8_t f = t.flags[pos];
    if (size_t n = contraction_length(t, pos, end, to_lower)) {
      em.emit(pos += n);
      continue;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!is_newline(cp) && !(f & kFlagNumber) && ((f & kFlagLetter) || (flags_at(pos + 1) & kFlagLetter))) {
      for (++pos; flags_at(pos) & kFlagLetter;) ++pos;
      em.emit(pos);
      continue;
    }
    // \p{N}{1,max_digits}
    if (f & kFlagNumber) {
      size_t run = 0;
      for (; flags_at(pos) & kFlagNumber; ++pos) {
        if (++run == max_digits) {
          em.emit(pos + 1);
          run = 0;
        }
      }
      em.emit(pos);
      continue;
    }
    // ' '?[^\s\p{L}\p{N}]+[\r\n]*; a space alone at the end of the piece also lands here, as in
    // llama.cpp (the regex gives the same piece through \s+(?!\S)).
    const bool space = cp == ' ';
    const uint8_t f2 = space ? flags_at(pos + 1) : f;
    if (!(f2 & kLetterNumberSpace)) {
      for (pos += space ? 1 : 0; pos < end && !(t.flags[pos] & kLetterNumberSpace);) ++pos;
      while (pos < end && is_newline(t.cps[pos])) ++pos;
      em.emit(pos);
      continue;
    }
    size_t spaces = 0;
    size_t after_newline = 0;  // end of the last \r or \n in the whitespace run
    for (; flags_at(pos + spaces) & kFlagWhitespace; ++spaces) {
      if (is_newline(t.cps[pos + spaces])) after_newline = pos + spaces + 1;
    }
    if (after_newline > 0) {  // \s*[\r\n]+
      em.emit(pos = after_newline);
    } else if (spaces > 1 && pos + spaces < end) {  // \s+(?!\S)
      em.emit(pos += spaces - 1);
    } else if (spaces > 0) {  // \s+
      em.emit(pos += spaces);
    } else {
      em.emit(++pos);
    }
  }
}

// Splits [begin, end) into the leftmost non-overlapping matches of a pattern and the gaps between them.
// match(pos) returns the length of the pattern's match starting at pos (0: none).
template <class Match>
void split_matches(size_t begin, size_t end, Pieces& out, Match match) {
  Emitter em(out, begin);
  for (size_t pos = begin; pos < end;) {
    if (const size_t n = match(pos)) {
      em.emit(pos);
      em.emit(pos += n);
    } else {
      ++pos;
    }
  }
  em.emit(end);
}

// Classes tested on code points. Patterns that llama.cpp runs through std::wregex see non-ASCII
// whitespace replaced by U+000B, so their literal classes never contain it.
bool replaced_space(const Text& t, size_t p) { return t.cps[p] > 0x7F && (t.flags[p] & kFlagWhitespace); }

bool deepseek_letter(const Text& t, size_t p) { return is_deepseek_letter(t.cps[p]); }

// [!-/:-~！-／：-～‘-‟　-。]
bool deepseek_punct(const Text& t, size_t p) {
  const uint32_t c = t.cps[p];
  if (replaced_space(t, p)) return false;
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x7E) || (c >= 0xFF01 && c <= 0xFF0F) ||
         (c >= 0xFF1A && c <= 0xFF5E) || (c >= 0x2018 && c <= 0x201F) || (c >= 0x3000 && c <= 0x3002);
}

// [一-龥ࠀ-一가-퟿]
bool deepseek_cjk(const Text& t, size_t p) {
  const uint32_t c = t.cps[p];
  if (replaced_space(t, p)) return false;
  return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x0800 && c <= 0x4E00) || (c >= 0xAC00 && c <= 0xD7FF);
}

bool letter(const Text& t, size_t p) { return t.flags[p] & kFlagLetter; }
bool number(const Text& t, size_t p) { return t.flags[p] & kFlagNumber; }
bool punct(const Text& t, size_t p) { return t.flags[p] & kFlagPunctuation; }

// [\p{P}\$\+<=>\^~\|`] (falcon) and the same without ` (default): ASCII symbols join \p{P}.
bool falcon_punct(const Text& t, size_t p) {
  const uint32_t c = t.cps[p];
  return punct(t, p) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' || c == '~' ||
         c == '|' || c == '`';
}
bool default_punct(const Text& t, size_t p) { return t.cps[p] != '`' && falcon_punct(t, p); }

using Class = bool (*)(const Text&, size_t);

size_t run_length(const Text& t, size_t pos, size_t end, Class cls) {
  size_t n = 0;
  while (pos + n < end && cls(t, pos + n)) ++n;
  return n;
}

// One step of a chain.
struct Step {
  enum Kind { kGpt2, kLlama3, kQwen2, kRun, kSingle, kSpaceThenRun, kTrailingSpace, kDigitTriple } kind;
  Class cls = nullptr;
};

void apply_step(const Text& t, const Step& step, const Piece& piece, Pieces& out) {
  const size_t b = piece.begin, e = piece.end;
  switch (step.kind) {
    case Step::kGpt2:
      split_gpt2(t, b, e, out);
      return;
    case Step::kLlama3:
      split_llama3(t, b, e, 3, out);
      return;
    case Step::kQwen2:
      split_llama3(t, b, e, 1, out);
      return;
    case Step::kRun:  // [class]+
      split_matches(b, e, out, [&](size_t p) { return run_length(t, p, e, step.cls); });
      return;
    case Step::kSingle:  // [class]
      split_matches(b, e, out, [&](size_t p) -> size_t { return step.cls(t, p) ? 1 : 0; });
      return;
    case Step::kSpaceThenRun:  // \s?[class]+ (a class never contains whitespace)
      split_matches(b, e, out, [&](size_t p) -> size_t {
        if ((t.flags[p] & kFlagWhitespace) && p + 1 < e && step.cls(t, p + 1)) {
          return 1 + run_length(t, p + 1, e, step.cls);
        }
        return run_length(t, p, e, step.cls);
      });
      return;
    case Step::kTrailingSpace: {  // \s+$: only the whitespace that reaches the end of the piece
      size_t s = e;
      while (s > b && (t.flags[s - 1] & kFlagWhitespace)) --s;
      Emitter em(out, b);
      em.emit(s);
      em.emit(e);
      return;
    }
    case Step::kDigitTriple:  // [0-9][0-9][0-9]
      split_matches(b, e, out, [&](size_t p) -> size_t {
        auto digit = [&](size_t q) { return t.cps[q] >= '0' && t.cps[q] <= '9'; };
        return p + 2 < e && digit(p) && digit(p + 1) && digit(p + 2) ? 3 : 0;
      });
      return;
  }
}

std::vector<Step> steps_for(PreTokenizerKind kind) {
  switch (kind) {
    case PreTokenizerKind::kGpt2:
      return {{Step::kGpt2}};
    case PreTokenizerKind::kLlama3:
      return {{Step::kLlama3}};
    case PreTokenizerKind::kQwen2:
      return {{Step::kQwen2}};
    case PreTokenizerKind::kDeepseekLlm:
      return {{Step::kSingle, [](const Text& t, size_t p) { return is_newline(t.cps[p]); }},
              {Step::kSpaceThenRun, deepseek_letter},
              {Step::kSpaceThenRun, deepseek_punct},
              {Step::kTrailingSpace},
              {Step::kRun, deepseek_cjk},
              {Step::kRun, number}};
    case PreTokenizerKind::kDeepseekCoder:
      return {{Step::kSingle, [](const Text& t, size_t p) { return is_newline(t.cps[p]); }},
              {Step::kSpaceThenRun, letter},
              {Step::kSpaceThenRun, punct},
              {Step::kRun, deepseek_cjk},
              {Step::kSingle, number}};
    case PreTokenizerKind::kFalcon:
      return {{Step::kRun, falcon_punct}, {Step::kGpt2}, {Step::kDigitTriple}};
    case PreTokenizerKind::kStarcoder:
      return {{Step::kSingle, number}, {Step::kGpt2}};
    case PreTokenizerKind::kDefault:
      break;
  }
  return {{Step::kRun, default_punct}, {Step::kGpt2}, {Step::kRun, number}, {Step::kDigitTriple}};
}

}  // namespace

const char* pre_tokenizer_name(PreTokenizerKind kind) {
  switch (kind) {
    case PreTokenizerKind::kDefault: return "default";
    case PreTokenizerKind::kGpt2: return "gpt-2";
    case PreTokenizerKind::kLlama3: return "llama3";
    case PreTokenizerKind::kQwen2: return "qwen2";
    case PreTokenizerKind::kDeepseekLlm: return "deepseek-llm";
    case PreTokenizerKind::kDeepseekCoder: return "deepseek-coder";
    case PreTokenizerKind::kFalcon: return "falcon";
    case PreTokenizerKind::kStarcoder: return "starcoder";
  }
  return "?";
}

std::vector<std::string> pre_tokenize(PreTokenizerKind kind, std::string_view text) {
  Text t;
  t.cps = decode_utf8(text);
  t.flags.resize(t.cps.size());
  for (size_t i = 0; i < t.cps.size(); ++i) t.flags[i] = char_flags(t.cps[i]);

  Pieces pieces;
  if (!t.cps.empty()) pieces.push_back({0, t.cps.size()});
  Pieces next;
  for (const Step& step : steps_for(kind)) {
    next.clear();
    next.reserve(pieces.size() * 2);
    for (const Piece& p : pieces) apply_step(t, step, p, next);
    std::swap(pieces, next);
  }

  std::vector<std::string> words;
  words.reserve(pieces.size());
  for (const Piece& p : pieces) {
    std::string& w = words.emplace_back();
    for (size_t i = p.begin; i < p.end; ++i) append_utf8(w, t.cps[i]);
  }
  return words;
}

}  // namespace rf::tok
