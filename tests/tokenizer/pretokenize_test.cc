// Pre-tokenizer splits on tricky strings, each expectation worked out by hand from the regex.
#include <gtest/gtest.h>

#include "tokenizer/pretokenize.h"

namespace rf::tok {
namespace {

using W = std::vector<std::string>;
using K = PreTokenizerKind;

W split(K kind, std::string_view text) { return pre_tokenize(kind, text); }

TEST(PreTokenize, Gpt2) {
  EXPECT_EQ(split(K::kGpt2, ""), W{});
  EXPECT_EQ(split(K::kGpt2, "Hello world"), (W{"Hello", " world"}));
  EXPECT_EQ(split(K::kGpt2, "I'm here, it's 2024!"), (W{"I", "'m", " here", ",", " it", "'s", " 2024", "!"}));
  // Contractions are case-sensitive here: "'" then "T".
  EXPECT_EQ(split(K::kGpt2, "don't DON'T"), (W{"don", "'t", " DON", "'", "T"}));
  // \s+(?!\S) leaves the last space to the next word; a final run stays whole.
  EXPECT_EQ(split(K::kGpt2, "a  b"), (W{"a", " ", " b"}));
  EXPECT_EQ(split(K::kGpt2, "a   \n\nb"), (W{"a", "   \n", "\n", "b"}));
  EXPECT_EQ(split(K::kGpt2, "x  "), (W{"x", "  "}));
  EXPECT_EQ(split(K::kGpt2, "3.14 $100"), (W{"3", ".", "14", " $", "100"}));
  EXPECT_EQ(split(K::kGpt2, "Hi 你好"), (W{"Hi", " 你好"}));
  EXPECT_EQ(split(K::kGpt2, "🦙🦙 x"), (W{"🦙🦙", " x"}));
  EXPECT_EQ(split(K::kGpt2, "e\u0301"), (W{"e", "\u0301"}));            // a mark is "other"
  EXPECT_EQ(split(K::kGpt2, "a\u00A0b"), (W{"a", "\u00A0", "b"}));      // NBSP is whitespace
  EXPECT_EQ(split(K::kGpt2, "x\u0378y"), (W{"x", "\u0378", "y"}));      // unassigned is "other"
  EXPECT_EQ(split(K::kGpt2, "a\xFF" "b"), (W{"a", "\uFFFD", "b"}));     // invalid byte -> U+FFFD
}

TEST(PreTokenize, Llama3) {
  EXPECT_EQ(split(K::kLlama3, "I'M here"), (W{"I", "'M", " here"}));  // case-insensitive contractions
  EXPECT_EQ(split(K::kLlama3, "12345"), (W{"123", "45"}));
  EXPECT_EQ(split(K::kLlama3, "a\n\n  b"), (W{"a", "\n\n", " ", " b"}));
  EXPECT_EQ(split(K::kLlama3, "hello!!!\n\nworld"), (W{"hello", "!!!\n\n", "world"}));
  EXPECT_EQ(split(K::kLlama3, "(test)"), (W{"(test", ")"}));  // one non-letter may lead a word
  EXPECT_EQ(split(K::kLlama3, " 1"), (W{" ", "1"}));
  EXPECT_EQ(split(K::kLlama3, "'x"), (W{"'x"}));
  EXPECT_EQ(split(K::kLlama3, "a\u3000b"), (W{"a", "\u3000b"}));
  EXPECT_EQ(split(K::kLlama3, "x  \t\n y"), (W{"x", "  \t\n", " y"}));
  EXPECT_EQ(split(K::kLlama3, "end "), (W{"end", " "}));
}

TEST(PreTokenize, Qwen2SplitsDigits) {
  EXPECT_EQ(split(K::kQwen2, "12345"), (W{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(split(K::kQwen2, "I'M 2x"), (W{"I", "'M", " ", "2", "x"}));
  EXPECT_EQ(split(K::kQwen2, "hi!!\nyo"), (W{"hi", "!!\n", "yo"}));
}

TEST(PreTokenize, DeepseekCoder) {
  EXPECT_EQ(split(K::kDeepseekCoder, "Hello world\n123"), (W{"Hello", " world", "\n", "1", "2", "3"}));
  EXPECT_EQ(split(K::kDeepseekCoder, "a, b"), (W{"a", ",", " b"}));
  EXPECT_EQ(split(K::kDeepseekCoder, "x  y"), (W{"x", " ", " y"}));
  EXPECT_EQ(split(K::kDeepseekCoder, "中文abc"), (W{"中文", "abc"}));
  EXPECT_EQ(split(K::kDeepseekCoder, "¿Qué?"), (W{"¿", "Qué", "?"}));
}

TEST(PreTokenize, DeepseekLlm) {
  EXPECT_EQ(split(K::kDeepseekLlm, "Hello World 123"), (W{"Hello", " World", " ", "123"}));
  EXPECT_EQ(split(K::kDeepseekLlm, "\u01BBx"), (W{"\u01BB", "x"}));  // ƻ is not a cased letter
  EXPECT_EQ(split(K::kDeepseekLlm, "end  "), (W{"end", "  "}));
  EXPECT_EQ(split(K::kDeepseekLlm, "你好，世界"), (W{"你好", "，", "世界"}));
  // The ideographic space is in the punctuation class's range, but llama.cpp has already turned it
  // into \v: it only matches as \s.
  EXPECT_EQ(split(K::kDeepseekLlm, "a\u3000!"), (W{"a", "\u3000!"}));
}

TEST(PreTokenize, Falcon) {
  EXPECT_EQ(split(K::kFalcon, "Hello, world!!"), (W{"Hello", ",", " world", "!!"}));
  EXPECT_EQ(split(K::kFalcon, "x=1234567"), (W{"x", "=", "123", "456", "7"}));
  EXPECT_EQ(split(K::kFalcon, "a 12345"), (W{"a", " ", "123", "45"}));
  EXPECT_EQ(split(K::kFalcon, "x `y`"), (W{"x", " ", "`", "y", "`"}));
}

TEST(PreTokenize, StarcoderAndDefault) {
  EXPECT_EQ(split(K::kStarcoder, "abc123 def"), (W{"abc", "1", "2", "3", " def"}));
  EXPECT_EQ(split(K::kDefault, "a+b=c"), (W{"a", "+", "b", "=", "c"}));
  EXPECT_EQ(split(K::kDefault, "x `y`"), (W{"x", " `", "y", "`"}));  // ` is not in the default class
  EXPECT_EQ(split(K::kDefault, "12345"), (W{"123", "45"}));
}

// Whatever the input, the words cover it exactly (for valid UTF-8).
TEST(PreTokenize, WordsConcatenateToText) {
  const std::string text = "  Mixed: ÄÖÜ straße 12345 \t\n\n 中文テキスト 🚀🚀 it's I'LL '' \r\n end  ";
  for (const K kind : {K::kDefault, K::kGpt2, K::kLlama3, K::kQwen2, K::kDeepseekLlm, K::kDeepseekCoder, K::kFalcon,
                       K::kStarcoder}) {
    std::string joined;
    const W words = split(kind, text);
    for (const std::string& w : words) {
      EXPECT_FALSE(w.empty());
      joined += w;
    }
    EXPECT_EQ(joined, text) << pre_tokenizer_name(kind);
    EXPECT_GT(words.size(), 10u) << pre_tokenizer_name(kind);
  }
}

}  // namespace
}  // namespace rf::tok
