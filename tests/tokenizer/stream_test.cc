// StreamDecoder: whole characters only, held-back partial sequences, U+FFFD for broken ones.
#include <gtest/gtest.h>

#include <random>

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

// Fuzzer finding (crash-417bf96f): encode() reads ED B3 B3 as the surrogate U+DCF3, as llama.cpp does,
// so byte-level BPE ids spell those bytes and decode() returns them; the stream must replace them. In
// Table 3-7 ED continues only with 80..9F, so ED alone is a maximal subpart and each B3 is a lone
// continuation byte: three U+FFFD.
TEST(Stream, ReplacesSurrogatesThatLenientEncodingKept) {
  const Tokenizer tok = test::load_vocab_tokenizer("deepseek-coder");
  const std::string text = "a\xED\xB3\xB3" "b";
  const Ids ids = tok.encode(text, false, false);
  EXPECT_EQ(tok.decode(ids, false), text);
  const std::string bad = "\xEF\xBF\xBD";
  StreamDecoder dec(tok, false, true);
  std::string streamed;
  for (const int32_t id : ids) streamed += dec.push(id);
  streamed += dec.flush();
  EXPECT_EQ(streamed, "a" + bad + bad + bad + "b");
  EXPECT_EQ(streamed, test::well_formed_reference(text));
}

std::string stream_all(const Tokenizer& tok, const Ids& ids, bool render, bool strip) {
  StreamDecoder dec(tok, render, strip);
  std::string out;
  for (const int32_t id : ids) {
    const std::string piece = dec.push(id);
    EXPECT_TRUE(test::is_valid_utf8(piece));
    out += piece;
  }
  return out + dec.flush();
}

// The Unicode Standard's example of U+FFFD per maximal subpart (section 3.9), through byte tokens;
// it also checks the test's reference replacement.
TEST(Stream, ReplacesMaximalSubpartsAsUnicodeExample) {
  const Tokenizer tok = test::load_vocab_tokenizer("llama-spm");
  const std::string bytes = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
  const std::string bad = "\xEF\xBF\xBD";
  const std::string expected = "a" + bad + bad + bad + "b" + bad + "c" + bad + bad + "d";
  Ids ids;
  for (const char c : bytes) ids.push_back(byte_token(static_cast<uint8_t>(c)));
  EXPECT_EQ(stream_all(tok, ids, false, false), expected);
  EXPECT_EQ(test::well_formed_reference(bytes), expected);
}

// Random ids, mostly SPM byte tokens that start, continue or break UTF-8 sequences, among control and
// normal tokens: the stream is decode() (or the plain pieces) with ill-formed parts replaced.
TEST(Stream, EqualsDecodeWithIllFormedPartsReplaced) {
  const Tokenizer tok = test::load_vocab_tokenizer("llama-spm");
  const uint8_t bytes[] = {0x41, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
  std::mt19937 rng(7);
  for (int trial = 0; trial < 3000; ++trial) {
    Ids ids(rng() % 12);
    for (int32_t& id : ids) {
      const uint32_t kind = rng() % 8;
      if (kind == 0) {
        id = static_cast<int32_t>(rng() % 3);  // <unk>, <s>, </s>
      } else if (kind == 1) {
        id = 259 + static_cast<int32_t>(rng() % static_cast<uint32_t>(tok.n_vocab() - 259));
      } else {
        id = byte_token(bytes[rng() % std::size(bytes)]);
      }
    }
    const bool render = rng() % 2;
    std::string pieces;
    for (const int32_t id : ids) pieces += tok.token_to_piece(id, render);
    ASSERT_EQ(stream_all(tok, ids, render, true), test::well_formed_reference(tok.decode(ids, render)));
    ASSERT_EQ(stream_all(tok, ids, render, false), test::well_formed_reference(pieces));
  }
}

// The stripped space is the one decode() strips: that of the first id after an optional leading BOS,
// even when that id is a control token with an empty piece (then nothing is stripped), so that
// rendering specials only adds their text. The stream once stripped the first non-empty piece instead.
TEST(Stream, StripsTheSpaceDecodeStrips) {
  const Tokenizer tok = test::load_vocab_tokenizer("llama-spm");
  const Ids after_eos = tok.encode("</s>x", false, true);  // a control token, then "▁x" (space prefix)
  ASSERT_EQ(after_eos.size(), 2u);
  ASSERT_EQ(after_eos[0], tok.eos_id());
  EXPECT_EQ(stream_all(tok, after_eos, false, true), " x");
  EXPECT_EQ(stream_all(tok, after_eos, true, true), "</s> x");
  const Ids after_bos = tok.encode("x", true, false);
  ASSERT_EQ(after_bos.size(), 2u);
  EXPECT_EQ(stream_all(tok, after_bos, false, true), "x");
  EXPECT_EQ(stream_all(tok, after_bos, true, true), "<s>x");
  for (const char* text : {"<s> x", "</s> x", "<s><s>x", " x", "x", "<unk>  x"}) {
    for (const bool bos : {false, true}) {
      const Ids ids = tok.encode(text, bos, true);
      for (const bool render : {false, true}) {
        EXPECT_EQ(stream_all(tok, ids, render, true), tok.decode(ids, render)) << text << bos << render;
      }
    }
  }
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
