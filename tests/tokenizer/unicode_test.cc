// Unicode helpers: llama.cpp-compatible UTF-8 decoding, strict checking, classes, GPT-2 byte alphabet.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "tokenizer/unicode.h"

namespace rf::tok {
namespace {

constexpr uint32_t kBad = kReplacementChar;

TEST(Utf8, DecodesLikeLlamaCpp) {
  using V = std::vector<uint32_t>;
  EXPECT_EQ(decode_utf8(""), V{});
  EXPECT_EQ(decode_utf8("a\xC3\xA9"), (V{'a', 0xE9}));
  EXPECT_EQ(decode_utf8("\xE2\x82\xAC\xF0\x9F\xA6\x99"), (V{0x20AC, 0x1F999}));
  // Lenient like llama.cpp: overlong forms and surrogates decode to their value.
  EXPECT_EQ(decode_utf8(std::string("\xC0\x80", 2)), (V{0}));
  EXPECT_EQ(decode_utf8("\xED\xA0\x80"), (V{0xD800}));
  // Each byte that cannot start a complete sequence is one U+FFFD.
  EXPECT_EQ(decode_utf8("\x80"), (V{kBad}));
  EXPECT_EQ(decode_utf8("x\xE2\x82"), (V{'x', kBad, kBad}));
  EXPECT_EQ(decode_utf8("\xE2\x28\xA1"), (V{kBad, '(', kBad}));
  EXPECT_EQ(decode_utf8("\xF8\x88\x80\x80\x80"), (V{kBad, kBad, kBad, kBad, kBad}));
  // Above U+10FFFF (llama.cpp would throw later): every byte is U+FFFD.
  EXPECT_EQ(decode_utf8("\xF4\x90\x80\x80"), (V{kBad, kBad, kBad, kBad}));
}

TEST(Utf8, EncodeDecodeRoundTrip) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> dist(0, 0x10FFFF);
  std::vector<uint32_t> cps = {0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF};
  for (int i = 0; i < 2000; ++i) cps.push_back(dist(rng));
  std::string s;
  for (const uint32_t cp : cps) append_utf8(s, cp);
  EXPECT_EQ(decode_utf8(s), cps);

  const size_t lengths[] = {1, 1, 2, 2, 3, 3, 4, 4};
  for (size_t i = 0; i < 8; ++i) {
    std::string one;
    append_utf8(one, cps[i]);
    EXPECT_EQ(one.size(), lengths[i]) << std::hex << cps[i];
  }
  std::string big;
  append_utf8(big, 0x110000);
  EXPECT_EQ(big, "\xEF\xBF\xBD");
}

TEST(Utf8, StrictCheck) {
  auto check = [](std::string_view s, size_t* n) { return check_utf8(s, 0, n); };
  size_t n = 0;
  EXPECT_EQ(check("a", &n), Utf8Check::kValid);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(check("\xC3\xA9", &n), Utf8Check::kValid);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(check("\xE2\x82\xAC", &n), Utf8Check::kValid);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(check("\xF0\x9F\x98\x80", &n), Utf8Check::kValid);
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(check("\xE2\x82", &n), Utf8Check::kIncomplete);
  EXPECT_EQ(check("\xF0\x9F\x98", &n), Utf8Check::kIncomplete);
  // Ill-formed: the maximal subpart is replaced as a unit.
  EXPECT_EQ(check(std::string_view("\xC0\x80", 2), &n), Utf8Check::kInvalid);  // overlong lead
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(check("\xE0\x80\x80", &n), Utf8Check::kInvalid);  // overlong
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(check("\xED\xA0\x80", &n), Utf8Check::kInvalid);  // surrogate
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(check("\xF4\x90\x80\x80", &n), Utf8Check::kInvalid);  // above U+10FFFF
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(check("\x80", &n), Utf8Check::kInvalid);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(check("\xF0\x9F\x98(", &n), Utf8Check::kInvalid);
  EXPECT_EQ(n, 3u);
}

TEST(Unicode, Categories) {
  EXPECT_EQ(category('A'), Category::kLetter);
  EXPECT_EQ(category(0xE9), Category::kLetter);           // é
  EXPECT_EQ(category(0x4E2D), Category::kLetter);         // 中 (Lo)
  EXPECT_EQ(category('7'), Category::kNumber);
  EXPECT_EQ(category(0xBD), Category::kNumber);           // ½ (No)
  EXPECT_EQ(category(0x663), Category::kNumber);          // Arabic-Indic three (Nd)
  EXPECT_EQ(category('!'), Category::kPunctuation);
  EXPECT_EQ(category(0xBF), Category::kPunctuation);      // ¿
  EXPECT_EQ(category('$'), Category::kSymbol);
  EXPECT_EQ(category(0x20AC), Category::kSymbol);         // €
  EXPECT_EQ(category(0x301), Category::kMark);            // combining acute
  EXPECT_EQ(category(' '), Category::kSeparator);
  EXPECT_EQ(category('\n'), Category::kOther);            // Cc
  EXPECT_EQ(category(0xE000), Category::kOther);          // private use
  EXPECT_EQ(category(0x378), Category::kUndefined);       // unassigned
  EXPECT_EQ(category(0x110000), Category::kUndefined);
  // Unicode 15.1 additions, as llama.cpp's tables have them.
  EXPECT_EQ(category(0x2EBF0), Category::kLetter);
  EXPECT_EQ(category(0x2FFC), Category::kSymbol);
  EXPECT_EQ(category(0x31EF), Category::kSymbol);
}

TEST(Unicode, WhiteSpaceIsTheUnicodeProperty) {
  const std::set<uint32_t> ws = {0x9,    0xA,    0xB,    0xC,    0xD,    0x20,   0x85,   0xA0,   0x1680,
                                 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
                                 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
  for (uint32_t cp = 0; cp < 0x3100; ++cp) EXPECT_EQ(is_whitespace(cp), ws.count(cp) == 1) << std::hex << cp;
  EXPECT_EQ(char_flags(0xA0), kFlagWhitespace);  // a separator, but not a letter/number/punctuation
  EXPECT_EQ(char_flags('a'), kFlagLetter);
  EXPECT_EQ(char_flags(0x300C), kFlagPunctuation);  // 「
  EXPECT_EQ(char_flags(0x1C), 0);                   // FS: not \s for the regex engines
}

TEST(Unicode, Lowercase) {
  EXPECT_EQ(to_lower('A'), uint32_t{'a'});
  EXPECT_EQ(to_lower('Z'), uint32_t{'z'});
  EXPECT_EQ(to_lower('a'), uint32_t{'a'});
  EXPECT_EQ(to_lower('1'), uint32_t{'1'});
  EXPECT_EQ(to_lower(0xC9), 0xE9u);     // É
  EXPECT_EQ(to_lower(0x130), 0x69u);    // İ -> i
  EXPECT_EQ(to_lower(0x3A3), 0x3C3u);   // Σ
  EXPECT_EQ(to_lower(0x212A), 0x6Bu);   // Kelvin sign -> k
  EXPECT_EQ(to_lower(0x100), 0x101u);   // Ā (a stride-2 run)
  EXPECT_EQ(to_lower(0x101), 0x101u);   // ā
  EXPECT_EQ(to_lower(0x1C5), 0x1C6u);   // ǅ
  EXPECT_EQ(to_lower(0x10400), 0x10428u);
}

TEST(Unicode, DeepseekLetterClass) {
  EXPECT_TRUE(is_deepseek_letter('A'));
  EXPECT_TRUE(is_deepseek_letter(0xB5));    // µ
  EXPECT_TRUE(is_deepseek_letter(0x1C5));   // ǅ, inside Ǆ-ʓ
  EXPECT_TRUE(is_deepseek_letter(0x2126));  // Ω (ohm sign)
  EXPECT_TRUE(is_deepseek_letter(0x1F7D));  // ώ
  EXPECT_FALSE(is_deepseek_letter(0x1BB));  // ƻ is Lo
  EXPECT_FALSE(is_deepseek_letter(0x561));  // Armenian lowercase is not in the class
  EXPECT_FALSE(is_deepseek_letter(0x4E2D));
  EXPECT_FALSE(is_deepseek_letter('1'));
}

TEST(Unicode, Gpt2ByteAlphabet) {
  EXPECT_EQ(byte_to_symbol(' '), "\xC4\xA0");   // U+0120 Ġ
  EXPECT_EQ(byte_to_symbol('\n'), "\xC4\x8A");  // U+010A Ċ
  EXPECT_EQ(byte_to_symbol(0), "\xC4\x80");     // U+0100
  EXPECT_EQ(byte_to_symbol(0xAD), "\xC5\x83");  // U+0143, the last remapped byte
  EXPECT_EQ(byte_to_symbol('!'), "!");
  EXPECT_EQ(byte_to_symbol(0xFF), "\xC3\xBF");  // ÿ maps to itself
  std::set<std::string> seen;
  for (int b = 0; b < 256; ++b) {
    const std::string& s = byte_to_symbol(static_cast<uint8_t>(b));
    const std::vector<uint32_t> cps = decode_utf8(s);
    ASSERT_EQ(cps.size(), 1u);
    EXPECT_EQ(symbol_to_byte(cps[0]), b);
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 256u);
  EXPECT_EQ(symbol_to_byte(' '), -1);  // space itself is not in the alphabet
  EXPECT_EQ(symbol_to_byte(0xAD), -1);
  EXPECT_EQ(symbol_to_byte(0x144), -1);
}

}  // namespace
}  // namespace rf::tok
