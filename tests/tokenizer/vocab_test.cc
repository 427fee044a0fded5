// Vocabularies built in memory: metadata errors, defaults, pre-tokenizer fallback, and the SPM/BPE merge
// rules on tiny vocabularies whose results can be worked out by hand.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/log.h"
#include "gguf/writer.h"
#include "tokenizer/tokenizer.h"

namespace rf {
namespace {

// A small vocabulary; each test changes what it needs before build().
struct VocabSpec {
  std::string model = "gpt2";
  std::string pre = "gpt-2";
  std::vector<std::string> tokens = {"a", "b", "c", "ab", "abc", "\xC4\xA0", "<|end|>"};  // \xC4\xA0 = Ġ
  std::vector<std::string> merges = {"a b", "ab c"};
  std::vector<float> scores;
  std::vector<int32_t> types = {1, 1, 1, 1, 1, 1, 3};
  int64_t bos = -1;  // -1: no key
  int64_t eos = 6;
  int add_bos = -1;  // -1: no key
  int add_space_prefix = -1;

  std::vector<uint8_t> build() const {
    gguf::Writer w;
    if (!model.empty()) w.add_string("tokenizer.ggml.model", model);
    if (!pre.empty()) w.add_string("tokenizer.ggml.pre", pre);
    if (!tokens.empty()) w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
    if (!merges.empty()) w.add_array("tokenizer.ggml.merges", std::span<const std::string>(merges));
    if (!scores.empty()) w.add_array("tokenizer.ggml.scores", scores);
    if (!types.empty()) w.add_array("tokenizer.ggml.token_type", types);
    if (bos >= 0) w.add_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(bos));
    if (eos >= 0) w.add_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(eos));
    if (add_bos >= 0) w.add_bool("tokenizer.ggml.add_bos_token", add_bos != 0);
    if (add_space_prefix >= 0) w.add_bool("tokenizer.ggml.add_space_prefix", add_space_prefix != 0);
    return w.to_bytes();
  }
};

Result<Tokenizer> make(const VocabSpec& spec) {
  const std::vector<uint8_t> bytes = spec.build();
  auto file = gguf::File::parse(bytes);
  if (!file.ok()) return file.error();
  return Tokenizer::from_gguf(*file);  // the tokenizer copies what it needs from the file
}

std::string error_of(const VocabSpec& spec) {
  auto tok = make(spec);
  return tok.ok() ? std::string("(loaded)") : tok.error().message;
}

// Captures warnings while alive.
struct WarningLog {
  std::vector<std::string> lines;
  WarningLog() {
    set_log_sink([this](LogLevel level, std::string_view msg) {
      if (level == LogLevel::kWarn) lines.emplace_back(msg);
    });
  }
  ~WarningLog() { set_log_sink(nullptr); }
  bool mentions(std::string_view s) const {
    for (const std::string& l : lines) {
      if (l.find(s) != std::string::npos) return true;
    }
    return false;
  }
};

TEST(Vocab, MalformedMetadataIsReported) {
  auto has = [](const std::string& msg, std::string_view part) { return msg.find(part) != std::string::npos; };
  VocabSpec s;
  s.tokens.clear();
  s.types.clear();
  EXPECT_TRUE(has(error_of(s), "tokenizer.ggml.tokens")) << error_of(s);

  s = {};
  s.model.clear();
  EXPECT_TRUE(has(error_of(s), "tokenizer.ggml.model")) << error_of(s);

  s = {};
  s.model = "t5";
  EXPECT_TRUE(has(error_of(s), "unsupported tokenizer model 't5'")) << error_of(s);

  s = {};
  s.merges.clear();
  EXPECT_TRUE(has(error_of(s), "tokenizer.ggml.merges")) << error_of(s);

  s = {};
  s.types.pop_back();
  EXPECT_TRUE(has(error_of(s), "tokenizer.ggml.token_type")) << error_of(s);
  EXPECT_TRUE(has(error_of(s), "6 entries")) << error_of(s);

  s = {};
  s.scores = {0.0f, 0.0f};
  EXPECT_TRUE(has(error_of(s), "tokenizer.ggml.scores")) << error_of(s);

  s = {};
  s.tokens[2] = "a";
  EXPECT_TRUE(has(error_of(s), "duplicate token")) << error_of(s);

  // A BOS the vocabulary asks for but does not have (the default 11 and the key's 99 are both outside).
  s = {};
  s.bos = 99;
  s.add_bos = 1;
  WarningLog log;
  EXPECT_TRUE(has(error_of(s), "BOS")) << error_of(s);
  EXPECT_TRUE(log.mentions("tokenizer.ggml.bos_token_id"));
}

TEST(Vocab, BpeMergesByRank) {
  auto tok = make(VocabSpec{});
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  // "abc": a+b (rank 0) then ab+c (rank 1). " ab": "Ġ" has no merge with "a".
  EXPECT_EQ(tok->encode("abc ab", false, false), (std::vector<int32_t>{4, 5, 3}));
  // "cab": c a b -> the only merge is a+b.
  EXPECT_EQ(tok->encode("cab", false, false), (std::vector<int32_t>{2, 3}));
  // "d" is not a token and not a GPT-2 byte token either: nothing to emit, as in llama.cpp.
  EXPECT_TRUE(tok->encode("d", false, false).empty());
  EXPECT_EQ(tok->decode(std::vector<int32_t>{4, 5, 3}, false), "abc ab");
  EXPECT_TRUE(tok->is_end_of_generation(6));  // eos, and "<|end|>" is an EOG text
  EXPECT_FALSE(tok->is_end_of_generation(4));
}

TEST(Vocab, UnknownPreTokenizerFallsBackToGpt2) {
  VocabSpec s;
  s.pre = "no-such-pre";
  WarningLog log;
  auto tok = make(s);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ(tok->vocab().pre, tok::PreTokenizerKind::kGpt2);
  EXPECT_TRUE(log.mentions("no-such-pre"));
  EXPECT_EQ(tok->encode("abc ab", false, false), (std::vector<int32_t>{4, 5, 3}));

  s.pre.clear();  // absent: llama.cpp's default chain, also with a warning
  WarningLog log2;
  auto tok2 = make(s);
  ASSERT_TRUE(tok2.ok());
  EXPECT_EQ(tok2->vocab().pre, tok::PreTokenizerKind::kDefault);
  EXPECT_FALSE(log2.lines.empty());
}

TEST(Vocab, EmptyTokenTextIsRenamed) {
  VocabSpec s;
  s.tokens[2] = "";
  auto tok = make(s);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ(tok->token_text(2), "[EMPTY_2]");
  EXPECT_EQ(tok->token_text(99), "");
}

// SPM: tokens are "▁" pieces; which pair merges first decides the result.
VocabSpec spm_spec(float score_space_a, float score_ab) {
  VocabSpec s;
  s.model = "llama";
  s.pre.clear();
  s.merges.clear();
  s.tokens = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b", "\xE2\x96\x81" "a", "ab", "<0x63>"};
  s.scores = {0, 0, 0, -5, -5, -5, score_space_a, score_ab, 0};
  s.types = {2, 3, 3, 1, 1, 1, 1, 1, 6};
  s.eos = 2;
  return s;
}

TEST(Vocab, SpmMergesHighestScoreFirst) {
  {
    auto tok = make(spm_spec(-1.0f, -0.5f));  // "ab" beats "▁a"
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    EXPECT_EQ(tok->encode("ab", false, false), (std::vector<int32_t>{3, 7}));
    EXPECT_EQ(tok->encode("ab", true, false), (std::vector<int32_t>{1, 3, 7}));  // SPM adds BOS by default
    EXPECT_EQ(tok->decode(std::vector<int32_t>{1, 3, 7}, false), "ab");
    EXPECT_EQ(tok->decode(std::vector<int32_t>{1, 3, 7}, true), "<s>ab");
  }
  {
    auto tok = make(spm_spec(-0.1f, -0.5f));  // "▁a" beats "ab"
    ASSERT_TRUE(tok.ok());
    EXPECT_EQ(tok->encode("ab", false, false), (std::vector<int32_t>{6, 5}));
  }
}

TEST(Vocab, SpmByteFallbackAndUnknown) {
  auto tok = make(spm_spec(-1.0f, -0.5f));
  ASSERT_TRUE(tok.ok());
  // "c" is only reachable as the byte token <0x63>; "d" has neither, so it becomes <unk>.
  EXPECT_EQ(tok->encode("c", false, false), (std::vector<int32_t>{3, 8}));
  EXPECT_EQ(tok->encode("d", false, false), (std::vector<int32_t>{3, 0}));
  EXPECT_EQ(tok->token_to_piece(8, false), "c");
  EXPECT_EQ(tok->token_to_piece(0, false), "");
  EXPECT_EQ(tok->token_to_piece(0, true), "<unk>");
}

TEST(Vocab, SpmTiesGoToTheLeftmostPair) {
  VocabSpec s = spm_spec(-1.0f, -0.5f);
  s.tokens[7] = "aa";
  s.add_space_prefix = 0;
  auto tok = make(s);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_FALSE(tok->adds_space_prefix());
  EXPECT_EQ(tok->encode("aaa", false, false), (std::vector<int32_t>{7, 4}));
}

TEST(Vocab, FromVocabChecksConsistency) {
  auto tok = make(VocabSpec{});
  ASSERT_TRUE(tok.ok());
  Vocab v = tok->vocab();
  EXPECT_TRUE(Tokenizer::from_vocab(v).ok());
  v.scores.pop_back();
  EXPECT_FALSE(Tokenizer::from_vocab(v).ok());
  v = tok->vocab();
  v.bos_id = 1000;
  EXPECT_FALSE(Tokenizer::from_vocab(v).ok());
}

}  // namespace
}  // namespace rf
