// Unicode helpers for the tokenizer: UTF-8 decoding the way llama.cpp does it, strict validation for
// streaming, code point classes for the pre-tokenizers, and GPT-2's byte <-> code point maps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rf::tok {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// General category, reduced to its first letter; unassigned code points are kUndefined.
enum class Category : uint8_t {
  kUndefined = 0, kLetter = 1, kNumber = 2, kPunctuation = 3, kSymbol = 4, kMark = 5, kSeparator = 6,
  kOther = 7,
};

// Bits of char_flags(): the classes the pre-tokenizer patterns test (\p{L}, \p{N}, \p{P}, \s).
enum CharFlag : uint8_t {
  kFlagLetter = 1,
  kFlagNumber = 2,
  kFlagPunctuation = 4,
  kFlagWhitespace = 8,
};

Category category(uint32_t cp);
bool is_whitespace(uint32_t cp);  // Unicode White_Space
uint8_t char_flags(uint32_t cp);  // CharFlag bits
uint32_t to_lower(uint32_t cp);   // simple lowercase mapping; cp itself if none
bool is_deepseek_letter(uint32_t cp);  // the letter class of the deepseek-llm regex

// Length of the UTF-8 sequence a lead byte announces, from its high nibble as llama.cpp reads it
// (continuation bytes count as 1, 0xF8..0xFF as 4).
inline size_t utf8_lead_length(uint8_t lead) {
  static constexpr uint8_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[lead >> 4];
}

// Decodes UTF-8 like llama.cpp's unicode_cpts_from_utf8: lenient about overlong forms and surrogates,
// but each byte that cannot start a complete sequence becomes one U+FFFD. Sequences that would decode
// above U+10FFFF (on which llama.cpp throws) are treated the same way. Never reads past the end.
std::vector<uint32_t> decode_utf8(std::string_view text);

// Appends cp (<= 0x10FFFF) as UTF-8; larger values append U+FFFD.
void append_utf8(std::string& out, uint32_t cp);

// Strict UTF-8 (Unicode Table 3-7) for one sequence starting at text[pos]:
//   kValid: a well-formed sequence of *length bytes;
//   kIncomplete: text ends inside a sequence that is well-formed so far;
//   kInvalid: ill-formed; *length is its maximal subpart (>= 1), to replace by one U+FFFD.
enum class Utf8Check { kValid, kIncomplete, kInvalid };
Utf8Check check_utf8(std::string_view text, size_t pos, size_t* length);

// GPT-2's byte-level BPE alphabet: each byte maps to a printable code point (space -> U+0120 'Ġ').
const std::string& byte_to_symbol(uint8_t byte);  // the code point, UTF-8 encoded
int symbol_to_byte(uint32_t cp);                  // the byte, or -1 if cp is not in the alphabet

}  // namespace rf::tok
