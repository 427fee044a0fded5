// Token ids against llama.cpp's on its tokenizer test strings; loading and round trips of every
// shared vocabulary; stories260K's prompt ids.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace rf {
namespace {

using test::kShared;

// The .out file: one line of space-separated ids per input string.
std::vector<std::vector<int32_t>> read_expected_ids(const std::string& path) {
  std::istringstream in(test::read_file(path));
  std::vector<std::vector<int32_t>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<int32_t>& ids = out.emplace_back();
    for (int32_t id; ls >> id;) ids.push_back(id);
  }
  return out;
}

std::string format_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (const int32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

class Reference : public ::testing::TestWithParam<std::string> {};

TEST_P(Reference, IdsMatchLlamaCpp) {
  const std::string base = kShared + "/reference/tokenizer/ggml-vocab-" + GetParam() + ".gguf";
  const std::vector<std::string> inputs = test::read_test_strings(base + ".inp");
  const std::vector<std::vector<int32_t>> expected = read_expected_ids(base + ".out");
  ASSERT_GT(inputs.size(), 40u);
  ASSERT_EQ(inputs.size(), expected.size());
  const Tokenizer tok = test::load_vocab_tokenizer(GetParam());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<int32_t> ids = tok.encode(inputs[i], false, false);
    ASSERT_EQ(ids, expected[i]) << "string #" << i << " '" << inputs[i] << "'\n  got:     " << format_ids(ids)
                                << "\n  expected:" << format_ids(expected[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, Reference,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "falcon", "deepseek-coder"));

class RoundTrip : public ::testing::TestWithParam<std::string> {};

// decode(encode(s)) == s: byte-level BPE is lossless, and decode drops the space SPM adds in front.
TEST_P(RoundTrip, DecodeInvertsEncode) {
  const Tokenizer tok = test::load_vocab_tokenizer(GetParam());
  ASSERT_GT(tok.n_vocab(), 0);
  std::vector<std::string> inputs = test::shared_test_strings();
  inputs.push_back(test::read_file(kShared + "/reference/stories260K-sample.txt"));
  for (const std::string& s : inputs) {
    for (const bool add_bos : {false, true}) {
      const std::vector<int32_t> ids = tok.encode(s, add_bos, false);
      for (const int32_t id : ids) ASSERT_TRUE(id >= 0 && id < tok.n_vocab());
      EXPECT_EQ(tok.decode(ids, false), s) << "add_bos " << add_bos;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, RoundTrip,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "falcon", "deepseek-coder", "deepseek-llm",
                                           "qwen2", "starcoder", "refact", "mpt", "gpt-neox", "baichuan"));

TEST(Reference, UnsupportedModelIsNamed) {
  auto file = gguf::File::open(test::vocab_path("bert-bge"));
  ASSERT_TRUE(file.ok());
  auto tok = Tokenizer::from_gguf(*file);
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.error().message.find("'bert'"), std::string::npos) << tok.error().message;
}

TEST(Reference, VocabularyFlags) {
  const Tokenizer spm = test::load_vocab_tokenizer("llama-spm");
  EXPECT_EQ(spm.vocab().model, Vocab::Model::kSpm);
  EXPECT_TRUE(spm.adds_space_prefix());
  EXPECT_EQ(spm.bos_id(), 1);
  EXPECT_EQ(spm.eos_id(), 2);
  EXPECT_EQ(spm.encode("", true, false), std::vector<int32_t>{1});
  EXPECT_TRUE(spm.encode("", false, false).empty());

  const Tokenizer qwen = test::load_vocab_tokenizer("qwen2");
  EXPECT_EQ(qwen.n_vocab(), 151936);
  EXPECT_EQ(qwen.vocab().pre, tok::PreTokenizerKind::kQwen2);
  EXPECT_FALSE(qwen.adds_space_prefix());
  EXPECT_TRUE(qwen.encode("", true, false).empty());  // add_bos_token is false
  EXPECT_EQ(qwen.eos_id(), 151645);

  const Tokenizer neox = test::load_vocab_tokenizer("gpt-neox");  // no tokenizer.ggml.pre
  EXPECT_EQ(neox.vocab().pre, tok::PreTokenizerKind::kDefault);
  const Tokenizer refact = test::load_vocab_tokenizer("refact");
  EXPECT_EQ(refact.vocab().pre, tok::PreTokenizerKind::kStarcoder);
}

// The prompt ids llama.cpp fed stories260K (BOS added).
TEST(Reference, Stories260KPromptIds) {
  const Tokenizer tok = test::load_tokenizer(kShared + "/models/stories260K.gguf");
  const auto ref = nlohmann::json::parse(test::read_file(kShared + "/reference/stories260K.json"));
  ASSERT_FALSE(ref["cases"].empty());
  for (const auto& c : ref["cases"]) {
    const auto expected = c["prompt_ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.encode(c["prompt"].get<std::string>(), true, true), expected) << c["prompt"];
  }
}

}  // namespace
}  // namespace rf
