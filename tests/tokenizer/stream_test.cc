// StreamDecoder: whole characters only, held-back partial sequences, U+FFFD for broken ones.
#include <gtest/gtest.h>

#include "test_util.h"

namespace rf {
namespace {

using Ids = std::vector<int32_t>;

// SPM byte tokens: <0xXX> is id 3 + XX in the llama vocabulary.
int32_t byte_token(uint8_t b) { return 3 + b; }

TEST(Stream, HoldsBackSplitCharacters) {
  const Tokenizer tok = test::load_vocab_tokenizer("llama-spm");
  const Ids ids = tok.encode("🦙", false, false);  // "▁" then the emoji's four byte tokens
  ASSERT_EQ(ids, (Ids{29871, byte_token(0xF0), byte_token(0x9F), byte_token(0xA6), byte_token(0x99)}));
  StreamDecoder dec(tok);
  EXPECT_EQ(dec.push(ids[0]), " ");
  EXPECT_EQ(dec.push(ids[1]), "");
  EXPECT_EQ(dec.push(ids[2]), "");
  EXPECT_EQ(dec.push(ids[3]), "");
  EXPECT_EQ(dec.push(ids[4]), "🦙");
  EXPECT_EQ(dec.flush(), "");
}

TEST(Stream, BrokenSequencesBecomeReplacementCharacters) {
  const Tokenizer tok = test::load_vocab_tokenizer("llama-spm");
  const std::string kBad = "\xEF\xBF\xBD";
  StreamDecoder dec(tok);
  EXPECT_EQ(dec.push(byte_token(0x80)), kBad);  // a lone continuation byte
  EXPECT_EQ(dec.push(byte_token(0xF0)), "");
  EXPECT_EQ(dec.push(byte_token('a')), kBad + "a");  // the lead byte never got its continuation
  EXPECT_EQ(dec.push(byte_token(0xE4)), "");
  EXPECT_EQ(dec.push(byte_token(0xBD)), "");
  EXPECT_EQ(dec.flush(), kBad);  // unfinished at the end
  EXPECT_EQ(dec.push(byte_token(0xC3)), "");  // a new stream after flush
  EXPECT_EQ(dec.push(byte_token(0xA9)), "é");
}

TEST(Stream, StripsTheSpmSpaceOnlyWhenAsked) {
  const Tokenizer tok = test::load_vocab_tokenizer("llama-spm");
  const Ids ids = tok.encode("Once upon", false, false);
  ASSERT_EQ(ids.size(), 2u);
  StreamDecoder keep(tok);
  EXPECT_EQ(keep.push(ids[0]), " Once");
  EXPECT_EQ(keep.push(ids[1]), " upon");
  StreamDecoder strip(tok, false, true);
  EXPECT_EQ(strip.push(ids[0]), "Once");
  EXPECT_EQ(strip.push(ids[1]), " upon");
}

class StreamEqualsDecode : public ::testing::TestWithParam<std::string> {};

TEST_P(StreamEqualsDecode, OnTestStrings) {
  const Tokenizer tok = test::load_vocab_tokenizer(GetParam());
  for (const std::string& s : test::shared_test_strings()) {
    const Ids ids = tok.encode(s, true, false);
    StreamDecoder dec(tok, false, true);
    std::string streamed;
    for (const int32_t id : ids) {
      const std::string piece = dec.push(id);
      ASSERT_TRUE(test::is_valid_utf8(piece)) << s;
      streamed += piece;
    }
    streamed += dec.flush();
    EXPECT_EQ(streamed, tok.decode(ids, false));
    EXPECT_EQ(streamed, s);
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, StreamEqualsDecode, ::testing::Values("llama-spm", "gpt-2", "qwen2", "falcon"));

}  // namespace
}  // namespace rf
