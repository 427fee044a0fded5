// Token ids against llama.cpp's on its tokenizer test strings, and round trips, for real vocabularies.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace rf {
namespace {

const std::string kShared = ROCMFORGE_SHARED_DIR;

std::string vocab_path(const std::string& name) { return kShared + "/models/vocab/ggml-vocab-" + name + ".gguf"; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The .inp file: strings each followed by "\n__ggml_vocab_test__\n".
std::vector<std::string> read_inputs(const std::string& path) {
  const std::string text = read_file(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t pos = 0;
  for (size_t hit; (hit = text.find(sep, pos)) != std::string::npos; pos = hit + sep.size()) {
    out.push_back(text.substr(pos, hit - pos));
  }
  return out;
}

// The .out file: one line of space-separated ids per input.
std::vector<std::vector<int32_t>> read_outputs(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<int32_t>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<int32_t>& ids = out.emplace_back();
    for (int32_t id; ls >> id;) ids.push_back(id);
  }
  return out;
}

Tokenizer load(const std::string& name) {
  auto file = gguf::File::open(vocab_path(name));
  EXPECT_TRUE(file.ok()) << file.error().message;
  auto tok = Tokenizer::from_gguf(*file);
  EXPECT_TRUE(tok.ok()) << tok.error().message;
  return std::move(tok).value();
}

std::string format_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (const int32_t id : ids) s += " " + std::to_string(id);
  return s;
}

class Reference : public ::testing::TestWithParam<std::string> {};

TEST_P(Reference, IdsMatchLlamaCpp) {
  const std::string name = GetParam();
  const std::string base = kShared + "/reference/tokenizer/ggml-vocab-" + name + ".gguf";
  const std::vector<std::string> inputs = read_inputs(base + ".inp");
  const std::vector<std::vector<int32_t>> expected = read_outputs(base + ".out");
  ASSERT_FALSE(inputs.empty());
  ASSERT_EQ(inputs.size(), expected.size());
  const Tokenizer tok = load(name);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<int32_t> ids = tok.encode(inputs[i], false, false);
    ASSERT_EQ(ids, expected[i]) << name << " string #" << i << " '" << inputs[i] << "'\n  got:     "
                                << format_ids(ids) << "\n  expected:" << format_ids(expected[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, Reference,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "falcon", "deepseek-coder"));

}  // namespace
}  // namespace rf
