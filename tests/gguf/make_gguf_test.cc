// The random-model generator: published shapes and parameter counts, llama.cpp names and the
// Q4_K_M mix, metadata, determinism, and weights that agree across types for one seed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "gguf/gguf.h"
#include "model_spec.h"
#include "quant/dequantize.h"
#include "random_model.h"

namespace rf::make_gguf {
namespace {

const std::string kSpmVocab = std::string(ROCMFORGE_SHARED_DIR) + "/models/vocab/ggml-vocab-llama-spm.gguf";
const std::string kQwenVocab = std::string(ROCMFORGE_SHARED_DIR) + "/models/vocab/ggml-vocab-qwen2.gguf";

uint64_t parameter_count(const std::vector<TensorSpec>& specs) {
  uint64_t n = 0;
  for (const TensorSpec& t : specs) {
    uint64_t e = 1;
    for (int64_t d : t.ne) e *= static_cast<uint64_t>(d);
    n += e;
  }
  return n;
}

std::map<std::string, TensorSpec> by_name(const std::vector<TensorSpec>& specs) {
  std::map<std::string, TensorSpec> m;
  for (const TensorSpec& t : specs) m.emplace(t.name, t);
  return m;
}

TEST(MakeGguf, RealShapesHaveTheirPublishedParameterCounts) {
  const ModelShape* tl = find_model_shape("tinyllama-1.1b");
  const ModelShape* qw = find_model_shape("qwen2.5-0.5b");
  ASSERT_NE(tl, nullptr);
  ASSERT_NE(qw, nullptr);
  // TinyLlama-1.1B: 1,100,048,384 parameters; Qwen2.5-0.5B: 494,032,768 (tied embeddings).
  EXPECT_EQ(parameter_count(tensor_specs(*tl, 32000, FileType::kF32)), 1100048384u);
  EXPECT_EQ(parameter_count(tensor_specs(*qw, 151936, FileType::kF32)), 494032768u);
  EXPECT_EQ(tensor_specs(*tl, 32000, FileType::kF32).size(), 3u + 9u * 22u);
  EXPECT_EQ(tensor_specs(*qw, 151936, FileType::kF32).size(), 2u + 12u * 24u);
}

TEST(MakeGguf, TensorNamesAndShapesFollowLlamaCpp) {
  const auto tl = by_name(tensor_specs(*find_model_shape("tinyllama-1.1b"), 32000, FileType::kF16));
  EXPECT_EQ(tl.at("token_embd.weight").ne, (std::vector<int64_t>{2048, 32000}));
  EXPECT_EQ(tl.at("output.weight").ne, (std::vector<int64_t>{2048, 32000}));
  EXPECT_EQ(tl.at("output_norm.weight").ne, (std::vector<int64_t>{2048}));
  EXPECT_EQ(tl.at("blk.21.attn_q.weight").ne, (std::vector<int64_t>{2048, 2048}));
  EXPECT_EQ(tl.at("blk.21.attn_k.weight").ne, (std::vector<int64_t>{2048, 256}));  // 4 kv heads of 64
  EXPECT_EQ(tl.at("blk.0.ffn_down.weight").ne, (std::vector<int64_t>{5632, 2048}));
  EXPECT_EQ(tl.at("blk.0.ffn_up.weight").ne, (std::vector<int64_t>{2048, 5632}));
  EXPECT_EQ(tl.at("blk.0.attn_norm.weight").type, DType::kF32);
  EXPECT_EQ(tl.at("blk.0.attn_q.weight").type, DType::kF16);
  EXPECT_EQ(tl.count("blk.0.attn_q.bias"), 0u);
  EXPECT_EQ(tl.count("blk.22.attn_q.weight"), 0u);

  const auto qw = by_name(tensor_specs(*find_model_shape("qwen2.5-0.5b"), 151936, FileType::kF16));
  EXPECT_EQ(qw.count("output.weight"), 0u);
  EXPECT_EQ(qw.at("token_embd.weight").ne, (std::vector<int64_t>{896, 151936}));
  EXPECT_EQ(qw.at("blk.23.attn_k.weight").ne, (std::vector<int64_t>{896, 128}));  // 2 kv heads of 64
  EXPECT_EQ(qw.at("blk.23.attn_q.bias").ne, (std::vector<int64_t>{896}));
  EXPECT_EQ(qw.at("blk.23.attn_v.bias").ne, (std::vector<int64_t>{128}));
  EXPECT_EQ(qw.at("blk.23.attn_v.bias").type, DType::kF32);
}

TEST(MakeGguf, Q4KMGivesMoreBitsWhereLlamaCppDoes) {
  const auto tl = by_name(tensor_specs(*find_model_shape("tinyllama-1.1b"), 32000, FileType::kQ4_K_M));
  EXPECT_EQ(tl.at("output.weight").type, DType::kQ6_K);
  EXPECT_EQ(tl.at("token_embd.weight").type, DType::kQ4_K);
  EXPECT_EQ(tl.at("blk.5.attn_q.weight").type, DType::kQ4_K);
  EXPECT_EQ(tl.at("blk.5.ffn_gate.weight").type, DType::kQ4_K);
  // 22 layers: the first 2 and last 3, plus layers 4, 7, 10, 13, 16 (every third after the first eighth).
  const std::set<int> more = {0, 1, 4, 7, 10, 13, 16, 19, 20, 21};
  for (int l = 0; l < 22; ++l) {
    const DType want = more.contains(l) ? DType::kQ6_K : DType::kQ4_K;
    EXPECT_EQ(tl.at("blk." + std::to_string(l) + ".attn_v.weight").type, want) << l;
    EXPECT_EQ(tl.at("blk." + std::to_string(l) + ".ffn_down.weight").type, want) << l;
  }
  // Qwen2.5-0.5B: rows of 896 are not whole 256-blocks, so those matrices fall back to Q8_0,
  // including the tied token_embd; ffn_down rows (4864 = 19 * 256) keep K-quants.
  const auto qw = by_name(tensor_specs(*find_model_shape("qwen2.5-0.5b"), 151936, FileType::kQ4_K_M));
  EXPECT_EQ(qw.at("token_embd.weight").type, DType::kQ8_0);
  EXPECT_EQ(qw.at("blk.3.attn_q.weight").type, DType::kQ8_0);
  EXPECT_EQ(qw.at("blk.0.ffn_down.weight").type, DType::kQ6_K);
  EXPECT_EQ(qw.at("blk.3.ffn_down.weight").type, DType::kQ4_K);
  // tiny-llama-test: n_ff 172 is not a whole number of 32-blocks either: F16.
  const auto tiny = by_name(tensor_specs(*find_model_shape("tiny-llama-test"), 512, FileType::kQ4_0));
  EXPECT_EQ(tiny.at("blk.0.ffn_down.weight").type, DType::kF16);
  EXPECT_EQ(tiny.at("blk.0.ffn_up.weight").type, DType::kQ4_0);
}

gguf::File parse_model(const std::vector<uint8_t>& bytes) {
  auto f = gguf::File::parse(bytes);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  return std::move(f).value();
}

Options tiny_options(const char* arch, FileType type, uint64_t seed) {
  Options o;
  o.arch = arch;
  o.type = type;
  o.vocab_path = kSpmVocab;
  o.seed = seed;
  o.n_threads = 2;
  return o;
}

TEST(MakeGguf, TinyModelsCarryMetadataTokenizerAndEveryTensor) {
  auto vocab = gguf::File::open(kSpmVocab);
  ASSERT_TRUE(vocab.ok()) << vocab.error().message;
  for (const char* arch : {"tiny-llama-test", "tiny-qwen2-test"}) {
    for (FileType type : {FileType::kF32, FileType::kF16, FileType::kBF16, FileType::kQ8_0, FileType::kQ4_0,
                          FileType::kQ4_K_M}) {
      SCOPED_TRACE(std::string(arch) + " " + std::string(file_type_name(type)));
      auto bytes = random_model_bytes(tiny_options(arch, type, 5));
      ASSERT_TRUE(bytes.ok()) << bytes.error().message;
      const gguf::File f = parse_model(*bytes);
      const ModelShape& s = *find_model_shape(arch);
      const std::string a = std::string(s.arch) + ".";
      EXPECT_EQ(f.get_string("general.architecture"), s.arch);
      EXPECT_EQ(f.get_int("general.file_type"), static_cast<int64_t>(llama_file_type(type)));
      EXPECT_EQ(f.get_int(a + "embedding_length"), s.n_embd);
      EXPECT_EQ(f.get_int(a + "feed_forward_length"), s.n_ff);
      EXPECT_EQ(f.get_int(a + "block_count"), s.n_layer);
      EXPECT_EQ(f.get_int(a + "attention.head_count"), s.n_head);
      EXPECT_EQ(f.get_int(a + "attention.head_count_kv"), s.n_head_kv);
      EXPECT_EQ(f.get_int(a + "context_length"), s.n_ctx);
      EXPECT_FLOAT_EQ(static_cast<float>(*f.get_float(a + "attention.layer_norm_rms_epsilon")), s.rms_eps);
      EXPECT_FLOAT_EQ(static_cast<float>(*f.get_float(a + "rope.freq_base")), s.rope_freq_base);
      // Every tokenizer.* key of the vocabulary, and nothing else from it.
      size_t n_tokenizer_keys = 0;
      for (const gguf::KeyValue& kv : vocab->metadata()) {
        if (!kv.key.starts_with("tokenizer.")) continue;
        ++n_tokenizer_keys;
        ASSERT_NE(f.find(kv.key), nullptr) << kv.key;
        EXPECT_EQ(f.find(kv.key)->type, kv.value.type) << kv.key;
      }
      EXPECT_EQ(f.get_array("tokenizer.ggml.tokens")->strings, vocab->get_array("tokenizer.ggml.tokens")->strings);
      EXPECT_EQ(f.find("llama.vocab_size"), nullptr);
      size_t n_tokenizer_in_model = 0;
      for (const gguf::KeyValue& kv : f.metadata()) n_tokenizer_in_model += kv.key.starts_with("tokenizer.");
      EXPECT_EQ(n_tokenizer_in_model, n_tokenizer_keys);

      const auto specs = tensor_specs(s, 32000, type);
      ASSERT_EQ(f.tensors().size(), specs.size());
      for (size_t i = 0; i < specs.size(); ++i) {
        const gguf::TensorInfo& t = f.tensors()[i];
        EXPECT_EQ(t.name, specs[i].name);
        EXPECT_EQ(t.type, specs[i].type) << specs[i].name;
        ASSERT_EQ(t.n_dims, static_cast<int>(specs[i].ne.size()));
        for (int d = 0; d < t.n_dims; ++d) EXPECT_EQ(t.ne[d], specs[i].ne[static_cast<size_t>(d)]);
      }
    }
  }
}

TEST(MakeGguf, OutputIsAFunctionOfTheSeedOnly) {
  auto a = random_model_bytes(tiny_options("tiny-qwen2-test", FileType::kQ4_K_M, 42));
  Options three_threads = tiny_options("tiny-qwen2-test", FileType::kQ4_K_M, 42);
  three_threads.n_threads = 3;
  auto b = random_model_bytes(three_threads);
  auto c = random_model_bytes(tiny_options("tiny-qwen2-test", FileType::kQ4_K_M, 43));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  ASSERT_EQ(a->size(), c->size());
  const gguf::File fa = parse_model(*a);
  const gguf::File fc = parse_model(*c);
  for (size_t i = 0; i < fa.tensors().size(); ++i) {
    const gguf::TensorInfo& x = fa.tensors()[i];
    EXPECT_NE(0, std::memcmp(x.data, fc.tensors()[i].data, x.n_bytes)) << x.name;
  }
}

std::vector<float> dequantized(const gguf::TensorInfo& t) {
  std::vector<float> out(t.n_elements);
  const uint64_t rows = t.n_elements / static_cast<uint64_t>(t.ne[0]);
  const uint64_t rb = *row_bytes(t.type, static_cast<uint64_t>(t.ne[0]));
  for (uint64_t r = 0; r < rows; ++r) {
    dequantize_row(t.type, t.data + r * rb, out.data() + r * static_cast<uint64_t>(t.ne[0]), t.ne[0]);
  }
  return out;
}

// Weights ~ N(0, 0.02) and norm gains ~ 1 + N(0, 0.02) in f32; every other type of the same seed
// encodes those same values within its format's error.
TEST(MakeGguf, WeightsHaveTheIntendedSpreadAndAgreeAcrossTypes) {
  auto ref_bytes = random_model_bytes(tiny_options("tiny-qwen2-test", FileType::kF32, 9));
  ASSERT_TRUE(ref_bytes.ok());
  const gguf::File ref = parse_model(*ref_bytes);
  for (const gguf::TensorInfo& t : ref.tensors()) {
    const std::vector<float> v = dequantized(t);
    double sum = 0, sum2 = 0;
    for (float x : v) sum += x;
    const double mean = sum / static_cast<double>(v.size());
    for (float x : v) sum2 += (x - mean) * (x - mean);
    const double std = std::sqrt(sum2 / static_cast<double>(v.size()));
    const bool norm = t.name.find("norm") != std::string_view::npos;
    const double tol = 5.0 / std::sqrt(static_cast<double>(v.size()));  // ~5 sigma of the sample mean / std
    EXPECT_NEAR(mean, norm ? 1.0 : 0.0, 0.02 * tol + 1e-6) << t.name;
    EXPECT_NEAR(std, 0.02, 0.02 * tol + 0.0005) << t.name;
  }
  // Relative RMS error bounds per format (for N(0, sigma) data): 8-bit ~0.5%, 6-bit ~2%, 4-bit ~10%.
  const std::map<DType, double> bound = {{DType::kF32, 0.0},   {DType::kF16, 0.001}, {DType::kBF16, 0.005},
                                         {DType::kQ8_0, 0.01}, {DType::kQ6_K, 0.04}, {DType::kQ4_K, 0.15},
                                         {DType::kQ4_0, 0.15}};
  for (FileType type : {FileType::kF16, FileType::kBF16, FileType::kQ8_0, FileType::kQ4_0, FileType::kQ4_K_M}) {
    SCOPED_TRACE(file_type_name(type));
    auto bytes = random_model_bytes(tiny_options("tiny-qwen2-test", type, 9));
    ASSERT_TRUE(bytes.ok());
    const gguf::File f = parse_model(*bytes);
    for (size_t i = 0; i < f.tensors().size(); ++i) {
      const gguf::TensorInfo& t = f.tensors()[i];
      const std::vector<float> want = dequantized(ref.tensors()[i]);
      const std::vector<float> got = dequantized(t);
      double err2 = 0, ref2 = 0;
      for (size_t k = 0; k < want.size(); ++k) {
        err2 += (got[k] - want[k]) * (got[k] - want[k]);
        const double centred = t.name.find("norm") != std::string_view::npos ? want[k] - 1.0 : want[k];
        ref2 += centred * centred;
      }
      EXPECT_LE(std::sqrt(err2 / ref2), bound.at(t.type)) << t.name << " " << dtype_name(t.type);
    }
  }
}

TEST(MakeGguf, RejectsUnknownShapesAndMismatchedVocabularies) {
  Options o = tiny_options("llama-7b", FileType::kF32, 0);
  auto unknown = random_model_bytes(o);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown model shape 'llama-7b'"), std::string::npos);

  o.arch = "tinyllama-1.1b";
  o.vocab_path = kQwenVocab;
  auto mismatch = random_model_bytes(o);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("32000"), std::string::npos) << mismatch.error().message;
  EXPECT_NE(mismatch.error().message.find("151936"), std::string::npos) << mismatch.error().message;

  o.vocab_path = "/nonexistent.gguf";
  auto missing = random_model_bytes(o);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("vocabulary"), std::string::npos) << missing.error().message;
}

}  // namespace
}  // namespace rf::make_gguf
