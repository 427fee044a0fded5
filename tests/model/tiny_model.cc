// Random-weight GGUF models of adjustable shape, quantized with the reference quantizers.
#include "tiny_model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <vector>

#include "gguf/writer.h"
#include "quant/quantize.h"

namespace rf::test {
namespace {

const std::string kShared = ROCMFORGE_SHARED_DIR;

std::vector<uint8_t> random_tensor(std::mt19937_64& rng, DType type, int64_t cols, int64_t rows, float mean,
                                   float stddev) {
  std::normal_distribution<float> dist(mean, stddev);
  std::vector<float> row(static_cast<size_t>(cols));
  const uint64_t bytes = *row_bytes(type, static_cast<uint64_t>(cols));
  std::vector<uint8_t> out(bytes * static_cast<uint64_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : row) v = dist(rng);
    quantize_row(type, row.data(), out.data() + static_cast<uint64_t>(r) * bytes, cols);
  }
  return out;
}

}  // namespace

std::string write_tiny_model(const TinyModelSpec& s, const std::string& name) {
  auto vocab = gguf::File::open(kShared + "/models/stories260K.gguf");
  RF_CHECK(vocab.ok());
  gguf::Writer w;
  w.add_string("general.architecture", s.arch);
  for (const auto& kv : vocab->metadata()) {
    if (kv.key.starts_with("tokenizer.")) w.add_value(kv.key, kv.value);
  }
  const std::string p = s.arch + ".";
  w.add_u32(p + "context_length", 256);
  w.add_u32(p + "embedding_length", static_cast<uint32_t>(s.n_embd));
  w.add_u32(p + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.add_u32(p + "block_count", static_cast<uint32_t>(s.claimed_layers > 0 ? s.claimed_layers : s.n_layer));
  w.add_u32(p + "attention.head_count", static_cast<uint32_t>(s.n_head));
  w.add_u32(p + "attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  w.add_f32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
  w.add_f32(p + "rope.freq_base", s.rope_base);
  if (s.rope_linear_factor > 0) {
    w.add_string(p + "rope.scaling.type", "linear");
    w.add_f32(p + "rope.scaling.factor", s.rope_linear_factor);
  }

  std::mt19937_64 rng(s.seed);
  const int64_t n_vocab = 512;
  const int64_t hd = s.n_embd / s.n_head;
  const int64_t kv_dim = s.n_head_kv * hd;
  const auto add = [&](const std::string& tensor, DType type, int64_t cols, int64_t rows, float mean, float sd) {
    if (tensor == s.drop_tensor) return;
    const std::vector<int64_t> ne = rows == 1 ? std::vector<int64_t>{cols} : std::vector<int64_t>{cols, rows};
    w.add_tensor(tensor, type, ne, random_tensor(rng, type, cols, rows, mean, sd));
  };
  const auto matrix = [&](const std::string& tensor, int64_t cols, int64_t rows) {
    add(tensor, s.matrix_type, cols, rows, 0.0f, 1.0f / std::sqrt(static_cast<float>(cols)));
  };
  add("token_embd.weight", s.matrix_type, s.n_embd, n_vocab, 0.0f, 1.0f);
  add("output_norm.weight", DType::kF32, s.n_embd, 1, 1.0f, 0.1f);
  if (!s.tied_output) matrix("output.weight", s.n_embd, n_vocab);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", DType::kF32, s.n_embd, 1, 1.0f, 0.1f);
    matrix(b + "attn_q.weight", s.n_embd, s.n_embd);
    matrix(b + "attn_k.weight", s.n_embd, kv_dim);
    matrix(b + "attn_v.weight", s.n_embd, kv_dim);
    if (s.qkv_bias) {
      add(b + "attn_q.bias", DType::kF32, s.n_embd, 1, 0.0f, 0.5f);
      add(b + "attn_k.bias", DType::kF32, kv_dim, 1, 0.0f, 0.5f);
      add(b + "attn_v.bias", DType::kF32, kv_dim, 1, 0.0f, 0.5f);
    }
    matrix(b + "attn_output.weight", s.n_embd, s.n_embd);
    add(b + "ffn_norm.weight", DType::kF32, s.n_embd, 1, 1.0f, 0.1f);
    matrix(b + "ffn_gate.weight", s.n_embd, s.n_ff);
    matrix(b + "ffn_up.weight", s.n_embd, s.n_ff);
    matrix(b + "ffn_down.weight", s.n_ff, s.n_embd);
  }
  const std::string path = ::testing::TempDir() + "rf_tiny_" + name + "_" + std::to_string(getpid()) + ".gguf";
  RF_CHECK(w.write(path).ok());
  return path;
}

}  // namespace rf::test
