// Special tokens in text (parse_special on/off, user-defined tokens, strip rules), end-of-generation
// sets and token pieces, on the shared vocabularies.
#include <gtest/gtest.h>

#include <algorithm>

#include "test_util.h"

namespace rf {
namespace {

using Ids = std::vector<int32_t>;

bool contains(const Ids& ids, int32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

Ids concat(std::initializer_list<Ids> parts) {
  Ids out;
  for (const Ids& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(Special, ControlTokensNeedParseSpecial) {
  const Tokenizer tok = test::load_vocab_tokenizer("qwen2");
  const int32_t im_start = 151644, im_end = 151645;
  ASSERT_EQ(tok.token_text(im_start), "<|im_start|>");
  const std::string text = "<|im_start|>user\nHi there<|im_end|>";
  EXPECT_EQ(tok.encode(text, false, true), concat({{im_start}, tok.encode("user\nHi there", false, false), {im_end}}));
  const Ids plain = tok.encode(text, false, false);
  EXPECT_FALSE(contains(plain, im_start));
  EXPECT_FALSE(contains(plain, im_end));
  EXPECT_EQ(tok.decode(plain, false), text);
  EXPECT_EQ(tok.decode(tok.encode(text, false, true), true), text);
}

TEST(Special, UserDefinedTokensMatchEvenWithoutParseSpecial) {
  const Tokenizer qwen = test::load_vocab_tokenizer("qwen2");
  const int32_t tool_call = 151657;  // "<tool_call>", type user-defined
  ASSERT_EQ(qwen.token_text(tool_call), "<tool_call>");
  EXPECT_EQ(qwen.encode("x<tool_call>y", false, false),
            concat({qwen.encode("x", false, false), {tool_call}, qwen.encode("y", false, false)}));

  // deepseek-coder adds single characters as user-defined tokens; llama.cpp splits them out.
  const Tokenizer ds = test::load_vocab_tokenizer("deepseek-coder");
  ASSERT_EQ(ds.token_text(32009), "ü");
  EXPECT_EQ(ds.encode("ü", false, false), Ids{32009});
  // "<｜fim▁hole｜>" is user-defined too, but as a FIM token llama.cpp makes it a control token.
  const std::string hole = "<｜fim▁hole｜>";
  ASSERT_EQ(ds.token_text(32015), hole);
  EXPECT_FALSE(contains(ds.encode(hole, false, false), 32015));
  EXPECT_EQ(ds.encode(hole, false, true), Ids{32015});

  // mpt / gpt-neox: runs of spaces are added tokens, longest first.
  const Tokenizer mpt = test::load_vocab_tokenizer("mpt");
  ASSERT_EQ(mpt.token_text(50273), "     ");
  EXPECT_EQ(mpt.encode("a     b", false, false),
            concat({mpt.encode("a", false, false), {50273}, mpt.encode("b", false, false)}));
}

TEST(Special, SpmSpacePrefixFollowsSpecialTokens) {
  const Tokenizer tok = test::load_vocab_tokenizer("llama-spm");
  // After a special token the text gets a space prefix again, as at the start.
  EXPECT_EQ(tok.encode("<s>Hello", false, true), concat({{1}, tok.encode("Hello", false, false)}));
  EXPECT_EQ(tok.encode("Hi</s>Hello", true, true),
            concat({{1}, tok.encode("Hi", false, false), {2}, tok.encode("Hello", false, false)}));
  EXPECT_EQ(tok.decode(tok.encode("<s>Hello", false, false), false), "<s>Hello");
}

TEST(Special, Phi3StripsWhitespaceAfterSpecialTokens) {
  const Tokenizer tok = test::load_vocab_tokenizer("phi-3");
  const int32_t user = 32010, endoftext = 32000;
  ASSERT_EQ(tok.token_text(user), "<|user|>");
  // llama.cpp gives phi-3's special tokens rstrip, except <unk>, <s> and <|endoftext|>.
  EXPECT_EQ(tok.encode("<|user|>\n Hello", false, true), concat({{user}, tok.encode("Hello", false, false)}));
  EXPECT_EQ(tok.encode("<|endoftext|>\nHi", false, true), concat({{endoftext}, tok.encode("\nHi", false, false)}));
  // "</s>" is user-defined in the file, but an end-of-generation text: a control token.
  EXPECT_EQ(tok.encode("</s>", false, true), Ids{2});
  EXPECT_FALSE(contains(tok.encode("</s>", false, false), 2));
}

TEST(Special, EndOfGeneration) {
  const Tokenizer qwen = test::load_vocab_tokenizer("qwen2");
  for (const int32_t id : {151643, 151645, 151662, 151663, 151664}) {  // endoftext, im_end, fim pad/repo/sep
    EXPECT_TRUE(qwen.is_end_of_generation(id)) << id;
  }
  for (const int32_t id : {151644, 151657, 0, 9707, -1, 1 << 30}) EXPECT_FALSE(qwen.is_end_of_generation(id)) << id;

  const Tokenizer phi = test::load_vocab_tokenizer("phi-3");
  for (const int32_t id : {2, 32000, 32007}) EXPECT_TRUE(phi.is_end_of_generation(id)) << id;  // </s>, eos, <|end|>
  EXPECT_FALSE(phi.is_end_of_generation(1));

  const Tokenizer spm = test::load_vocab_tokenizer("llama-spm");
  EXPECT_TRUE(spm.is_end_of_generation(2));
  EXPECT_FALSE(spm.is_end_of_generation(1));
}

TEST(Special, Pieces) {
  const Tokenizer spm = test::load_vocab_tokenizer("llama-spm");
  const Ids hello = spm.encode("Hello", false, false);
  ASSERT_EQ(hello.size(), 1u);
  EXPECT_EQ(spm.token_text(hello[0]), "\xE2\x96\x81Hello");
  EXPECT_EQ(spm.token_to_piece(hello[0], false), " Hello");
  EXPECT_EQ(spm.token_to_piece(3 + '\n', false), "\n");  // <0x0A>
  EXPECT_EQ(spm.token_to_piece(1, false), "");
  EXPECT_EQ(spm.token_to_piece(1, true), "<s>");
  EXPECT_EQ(spm.token_to_piece(-1, true), "");
  EXPECT_EQ(spm.token_to_piece(spm.n_vocab(), true), "");

  const Tokenizer gpt2 = test::load_vocab_tokenizer("gpt-2");
  EXPECT_EQ(gpt2.token_to_piece(50256, false), "");
  EXPECT_EQ(gpt2.token_to_piece(50256, true), "<|endoftext|>");
  EXPECT_EQ(gpt2.token_to_piece(995, false), " world");  // "Ġworld"
  EXPECT_EQ(gpt2.encode("<|endoftext|>", false, true), Ids{50256});
  EXPECT_FALSE(contains(gpt2.encode("<|endoftext|>", false, false), 50256));
  EXPECT_EQ(gpt2.decode(Ids{50256, 995, 1 << 30, -7}, false), " world");  // bad ids decode to nothing
}

}  // namespace
}  // namespace rf
