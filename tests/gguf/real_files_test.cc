// The real shared GGUF files (stories260K and the vocab-only files) open with the expected contents.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "gguf/gguf.h"
#include "gguf/writer.h"

namespace rf::gguf {
namespace {

const std::string kModels = std::string(ROCMFORGE_SHARED_DIR) + "/models";

TEST(GgufRealFiles, Stories260KHasItsLlamaConfigAndTensors) {
  auto f = File::open(kModels + "/stories260K.gguf");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->get_string("general.architecture"), "llama");
  // The llama2.c stories260K config: dim 64, hidden 172, 5 layers, 8 heads, 4 kv heads, vocab 512.
  EXPECT_EQ(f->get_int("llama.embedding_length"), 64);
  EXPECT_EQ(f->get_int("llama.feed_forward_length"), 172);
  EXPECT_EQ(f->get_int("llama.block_count"), 5);
  EXPECT_EQ(f->get_int("llama.attention.head_count"), 8);
  EXPECT_EQ(f->get_int("llama.attention.head_count_kv"), 4);
  ASSERT_NE(f->get_array("tokenizer.ggml.tokens"), nullptr);
  EXPECT_EQ(f->get_array("tokenizer.ggml.tokens")->count, 512u);
  EXPECT_EQ(f->get_array("tokenizer.ggml.scores")->count, 512u);
  // 3 global tensors + 9 per layer.
  ASSERT_EQ(f->tensors().size(), 3u + 9u * 5u);
  const TensorInfo* emb = f->find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->n_dims, 2);
  EXPECT_EQ(emb->ne[0], 64);
  EXPECT_EQ(emb->ne[1], 512);
  const TensorInfo* down = f->find_tensor("blk.4.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->ne[0], 172);
  EXPECT_EQ(down->ne[1], 64);
  uint64_t total = 0;
  for (const TensorInfo& t : f->tensors()) {
    EXPECT_EQ(t.type, DType::kF32) << t.name;
    EXPECT_EQ(t.n_bytes, t.n_elements * 4) << t.name;
    total += t.n_elements;
  }
  // Embedding + output (2 x 64 x 512), output norm, and per layer 4 attention matrices
  // (64x64 twice, 64x32 twice), 3 FFN matrices (64x172) and 2 norms.
  EXPECT_EQ(total, 2u * 64 * 512 + 64 + 5u * (2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 172 + 2 * 64));
}

TEST(GgufRealFiles, RewritingStories260KReproducesItByteForByte) {
  auto f = File::open(kModels + "/stories260K.gguf");
  ASSERT_TRUE(f.ok()) << f.error().message;
  Writer w(f->version());
  for (const KeyValue& kv : f->metadata()) w.add_value(kv.key, kv.value);
  for (const TensorInfo& t : f->tensors()) {
    w.add_tensor(t.name, t.type, std::span<const int64_t>(t.ne, static_cast<size_t>(t.n_dims)),
                 std::span<const uint8_t>(t.data, t.n_bytes));
  }
  const std::vector<uint8_t> rewritten = w.to_bytes();
  ASSERT_EQ(rewritten.size(), f->bytes().size());
  EXPECT_TRUE(std::equal(rewritten.begin(), rewritten.end(), f->bytes().begin()));
}

struct VocabExpectation {
  std::string architecture;
  uint64_t n_tokens;
  bool has_merges;  // BPE vocabularies carry merges, SentencePiece ones carry scores
};

// Token counts as published for each model family (the README gives llama-spm and qwen2).
const std::map<std::string, VocabExpectation> kVocabs = {
    {"ggml-vocab-baichuan.gguf", {"baichuan", 64000, false}},
    {"ggml-vocab-bert-bge.gguf", {"bert", 30522, false}},
    {"ggml-vocab-deepseek-coder.gguf", {"llama", 32256, true}},
    {"ggml-vocab-deepseek-llm.gguf", {"llama", 102400, true}},
    {"ggml-vocab-falcon.gguf", {"falcon", 65024, true}},
    {"ggml-vocab-gpt-2.gguf", {"gpt2", 50257, true}},
    {"ggml-vocab-gpt-neox.gguf", {"gptneox", 50432, true}},
    {"ggml-vocab-llama-spm.gguf", {"llama", 32000, false}},
    {"ggml-vocab-mpt.gguf", {"mpt", 50432, true}},
    {"ggml-vocab-phi-3.gguf", {"phi3", 32064, false}},
    {"ggml-vocab-qwen2.gguf", {"qwen2", 151936, true}},
    {"ggml-vocab-refact.gguf", {"refact", 49216, true}},
    {"ggml-vocab-starcoder.gguf", {"starcoder2", 49152, true}},
};

TEST(GgufRealFiles, EveryVocabFileOpensWithItsArchitectureAndTokenCount) {
  std::set<std::string> seen;
  for (const auto& entry : std::filesystem::directory_iterator(kModels + "/vocab")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".gguf") continue;
    SCOPED_TRACE(name);
    seen.insert(name);
    const auto it = kVocabs.find(name);
    ASSERT_NE(it, kVocabs.end()) << "new vocab file: add its expectations";
    const VocabExpectation& want = it->second;
    auto f = File::open(entry.path().string());
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(f->get_string("general.architecture"), want.architecture);
    EXPECT_TRUE(f->tensors().empty());
    const Array* tokens = f->get_array("tokenizer.ggml.tokens");
    ASSERT_NE(tokens, nullptr);
    EXPECT_EQ(tokens->type, ValueType::kString);
    EXPECT_EQ(tokens->count, want.n_tokens);
    const Array* types = f->get_array("tokenizer.ggml.token_type");
    ASSERT_NE(types, nullptr);
    EXPECT_EQ(types->count, want.n_tokens);
    EXPECT_TRUE(f->get_string("tokenizer.ggml.model").has_value());
    const Array* merges = f->get_array("tokenizer.ggml.merges");
    const Array* scores = f->get_array("tokenizer.ggml.scores");
    if (want.has_merges) {
      ASSERT_NE(merges, nullptr);
      EXPECT_GT(merges->count, want.n_tokens * 9 / 10);  // about one merge per learned token
      EXPECT_LT(merges->count, want.n_tokens);
    } else if (want.architecture != "bert") {
      ASSERT_NE(scores, nullptr);
      EXPECT_EQ(scores->count, want.n_tokens);
    }
    const auto bos = f->get_int("tokenizer.ggml.bos_token_id");
    if (bos) {
      EXPECT_LT(static_cast<uint64_t>(*bos), want.n_tokens);
    }
  }
  EXPECT_EQ(seen.size(), kVocabs.size());
}

}  // namespace
}  // namespace rf::gguf
