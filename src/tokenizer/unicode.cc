// Unicode helpers: UTF-8 coding, category lookups over the generated tables, GPT-2 byte alphabet.
#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>

#include "tokenizer/unicode_tables.h"

namespace rf::tok {
namespace {

Category lookup_category(uint32_t cp) {
  if (cp > 0x10FFFF) return Category::kUndefined;
  const uint32_t* begin = tables::kCategoryRuns;
  const uint32_t* end = begin + tables::kCategoryRunCount;
  // The last run whose start is <= cp; entries compare by start because the category is the low nibble.
  const uint32_t* it = std::upper_bound(begin, end, (cp << 4) | 0xF) - 1;
  return static_cast<Category>(*it & 0xF);
}

bool lookup_whitespace(uint32_t cp) {
  return std::binary_search(tables::kWhiteSpace, tables::kWhiteSpace + tables::kWhiteSpaceCount, cp);
}

uint8_t compute_flags(uint32_t cp) {
  uint8_t flags = lookup_whitespace(cp) ? kFlagWhitespace : 0;
  switch (lookup_category(cp)) {
    case Category::kLetter: flags |= kFlagLetter; break;
    case Category::kNumber: flags |= kFlagNumber; break;
    case Category::kPunctuation: flags |= kFlagPunctuation; break;
    default: break;
  }
  return flags;
}

// ASCII is most of most texts: its flags come from a table built once.
const std::array<uint8_t, 128>& ascii_flags() {
  static const std::array<uint8_t, 128> table = [] {
    std::array<uint8_t, 128> t{};
    for (uint32_t c = 0; c < 128; ++c) t[c] = compute_flags(c);
    return t;
  }();
  return table;
}

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes map to themselves, the other 68 bytes to
// U+0100.. in byte order.
bool byte_is_printable(uint32_t b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct ByteAlphabet {
  std::array<std::string, 256> symbol;      // byte -> UTF-8 of its code point
  std::array<int16_t, 256 + 68> byte_of{};  // code point -> byte
};

const ByteAlphabet& byte_alphabet() {
  static const ByteAlphabet alphabet = [] {
    ByteAlphabet a;
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const uint32_t cp = byte_is_printable(b) ? b : next++;
      append_utf8(a.symbol[b], cp);
      a.byte_of[cp] = static_cast<int16_t>(b);
    }
    return a;
  }();
  return alphabet;
}

bool is_continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

}  // namespace

Category category(uint32_t cp) { return lookup_category(cp); }

bool is_whitespace(uint32_t cp) { return cp < 128 ? (ascii_flags()[cp] & kFlagWhitespace) != 0 : lookup_whitespace(cp); }

uint8_t char_flags(uint32_t cp) { return cp < 128 ? ascii_flags()[cp] : compute_flags(cp); }

uint32_t to_lower(uint32_t cp) {
  const tables::LowercaseRun* begin = tables::kLowercaseRuns;
  const tables::LowercaseRun* end = begin + tables::kLowercaseRunCount;
  const auto* it = std::upper_bound(begin, end, cp,
                                    [](uint32_t c, const tables::LowercaseRun& r) { return c < r.first; });
  if (it == begin) return cp;
  --it;
  if (cp > it->last || (cp - it->first) % it->stride != 0) return cp;
  return static_cast<uint32_t>(static_cast<int64_t>(cp) + it->delta);
}

bool is_deepseek_letter(uint32_t cp) {
  const tables::CodepointRange* begin = tables::kDeepseekLetters;
  const tables::CodepointRange* end = begin + tables::kDeepseekLetterCount;
  const auto* it = std::upper_bound(begin, end, cp,
                                    [](uint32_t c, const tables::CodepointRange& r) { return c < r.first; });
  return it != begin && cp <= (it - 1)->last;
}

std::vector<uint32_t> decode_utf8(std::string_view text) {
  std::vector<uint32_t> out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t b0 = s[i];
    // Same acceptance as llama.cpp: the lead byte's high bits give the length, and only the
    // continuation bytes' top two bits are checked.
    size_t len = 0;
    uint32_t cp = 0;
    if (b0 < 0x80) {
      len = 1, cp = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1Fu;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0Fu;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07u;
    }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      ok = is_continuation(s[i + k]);
      cp = (cp << 6) | (s[i + k] & 0x3Fu);
    }
    if (ok && cp <= 0x10FFFF) {
      out.push_back(cp);
      i += len;
    } else {
      out.push_back(kReplacementChar);
      ++i;
    }
  }
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp <= 0x10FFFF) {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    append_utf8(out, kReplacementChar);
  }
}

Utf8Check check_utf8(std::string_view text, size_t pos, size_t* length) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const uint8_t b0 = s[pos];
  size_t need = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 < 0x80) {
    *length = 1;
    return Utf8Check::kValid;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    *length = 1;
    return Utf8Check::kInvalid;
  }
  for (size_t k = 1; k < need; ++k) {
    if (pos + k >= text.size()) {
      *length = k;
      return Utf8Check::kIncomplete;
    }
    const uint8_t b = s[pos + k];
    const bool ok = k == 1 ? (b >= lo && b <= hi) : is_continuation(b);
    if (!ok) {
      *length = k;
      return Utf8Check::kInvalid;
    }
  }
  *length = need;
  return Utf8Check::kValid;
}

const std::string& byte_to_symbol(uint8_t byte) { return byte_alphabet().symbol[byte]; }

int symbol_to_byte(uint32_t cp) {
  if (cp >= 256 + 68 || (cp < 256 && !byte_is_printable(cp))) return -1;
  return byte_alphabet().byte_of[cp];
}

}  // namespace rf::tok
