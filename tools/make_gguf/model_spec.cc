// Shape table and per-tensor type choice (plain types, and an approximation of llama.cpp's Q4_K_M).
#include "model_spec.h"

#include <array>

namespace rf::make_gguf {
namespace {

// Published configurations of TinyLlama-1.1B and Qwen2.5-0.5B; two tiny test shapes whose sizes
// are awkward on purpose: tiny-llama-test's n_ff 172 (like stories260K) is not a multiple of 32,
// tiny-qwen2-test's n_ff 768 is a multiple of 256 so its ffn_down can take K-quants.
constexpr std::array kShapes = {
    ModelShape{"tinyllama-1.1b", "llama", 2048, 5632, 22, 32, 4, 32000, 2048, 10000.0f, 1e-5f, false, false},
    ModelShape{"qwen2.5-0.5b", "qwen2", 896, 4864, 24, 14, 2, 151936, 32768, 1000000.0f, 1e-6f, true, true},
    ModelShape{"tiny-llama-test", "llama", 64, 172, 2, 8, 4, 0, 256, 10000.0f, 1e-5f, false, false},
    ModelShape{"tiny-qwen2-test", "qwen2", 128, 768, 3, 4, 2, 0, 512, 1000000.0f, 1e-6f, true, true},
};

struct FileTypeName {
  FileType type;
  std::string_view name;
  uint32_t llama_ftype;
};
constexpr std::array kFileTypes = {
    FileTypeName{FileType::kF32, "f32", 0},   FileTypeName{FileType::kF16, "f16", 1},
    FileTypeName{FileType::kBF16, "bf16", 32}, FileTypeName{FileType::kQ8_0, "q8_0", 7},
    FileTypeName{FileType::kQ4_0, "q4_0", 2}, FileTypeName{FileType::kQ4_K_M, "q4_k_m", 15},
};

enum class Role { kTokenEmbd, kOutput, kAttnV, kFfnDown, kOtherMatrix };

// llama.cpp gives these layers of attn_v / ffn_down more bits in its _M mixes: the first and last
// eighth of the stack, and every third layer in between.
bool use_more_bits(int64_t layer, int64_t n_layer) {
  return layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2;
}

// The type one matrix gets. Rows that are not whole blocks fall back: K-quants to Q8_0, 32-element
// block types to F16 (which fits any row).
DType matrix_type(FileType ft, Role role, int64_t layer, const ModelShape& shape, int64_t ne0) {
  DType want = DType::kF32;
  switch (ft) {
    case FileType::kF32: want = DType::kF32; break;
    case FileType::kF16: want = DType::kF16; break;
    case FileType::kBF16: want = DType::kBF16; break;
    case FileType::kQ8_0: want = DType::kQ8_0; break;
    case FileType::kQ4_0: want = DType::kQ4_0; break;
    case FileType::kQ4_K_M: {
      // Approximates llama.cpp's Q4_K_M: Q6_K for the output projection (token_embd when tied),
      // and for attn_v and ffn_down in the layers use_more_bits picks; Q4_K elsewhere.
      const bool is_output = role == Role::kOutput || (role == Role::kTokenEmbd && shape.tied_embeddings);
      const bool more = (role == Role::kAttnV || role == Role::kFfnDown) && use_more_bits(layer, shape.n_layer);
      want = is_output || more ? DType::kQ6_K : DType::kQ4_K;
      break;
    }
  }
  if (ne0 % dtype_info(want).block_size != 0) want = DType::kQ8_0;
  if (ne0 % dtype_info(want).block_size != 0) want = DType::kF16;
  return want;
}

}  // namespace

std::span<const ModelShape> model_shapes() { return kShapes; }

const ModelShape* find_model_shape(std::string_view name) {
  for (const ModelShape& s : kShapes) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::optional<FileType> parse_file_type(std::string_view name) {
  for (const FileTypeName& f : kFileTypes) {
    if (f.name == name) return f.type;
  }
  return std::nullopt;
}

std::string_view file_type_name(FileType t) {
  for (const FileTypeName& f : kFileTypes) {
    if (f.type == t) return f.name;
  }
  return "unknown";
}

uint32_t llama_file_type(FileType t) {
  for (const FileTypeName& f : kFileTypes) {
    if (f.type == t) return f.llama_ftype;
  }
  return 0;
}

std::vector<TensorSpec> tensor_specs(const ModelShape& s, int64_t n_vocab, FileType ft) {
  const int64_t head_dim = s.n_embd / s.n_head;
  const int64_t kv_dim = head_dim * s.n_head_kv;
  std::vector<TensorSpec> out;
  auto matrix = [&](std::string name, int64_t ne0, int64_t ne1, Role role, int64_t layer) {
    out.push_back({std::move(name), {ne0, ne1}, matrix_type(ft, role, layer, s, ne0), Init::kWeight});
  };
  auto vector = [&](std::string name, int64_t n, Init init) {
    out.push_back({std::move(name), {n}, DType::kF32, init});
  };

  matrix("token_embd.weight", s.n_embd, n_vocab, Role::kTokenEmbd, 0);  // [n_embd, n_vocab]
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    vector(p + "attn_norm.weight", s.n_embd, Init::kNorm);
    matrix(p + "attn_q.weight", s.n_embd, s.n_embd, Role::kOtherMatrix, l);  // [n_embd, n_head*head_dim]
    if (s.qkv_bias) vector(p + "attn_q.bias", s.n_embd, Init::kWeight);
    matrix(p + "attn_k.weight", s.n_embd, kv_dim, Role::kOtherMatrix, l);    // [n_embd, kv_dim]
    if (s.qkv_bias) vector(p + "attn_k.bias", kv_dim, Init::kWeight);
    matrix(p + "attn_v.weight", s.n_embd, kv_dim, Role::kAttnV, l);          // [n_embd, kv_dim]
    if (s.qkv_bias) vector(p + "attn_v.bias", kv_dim, Init::kWeight);
    matrix(p + "attn_output.weight", s.n_embd, s.n_embd, Role::kOtherMatrix, l);
    vector(p + "ffn_norm.weight", s.n_embd, Init::kNorm);
    matrix(p + "ffn_gate.weight", s.n_embd, s.n_ff, Role::kOtherMatrix, l);  // [n_embd, n_ff]
    matrix(p + "ffn_up.weight", s.n_embd, s.n_ff, Role::kOtherMatrix, l);    // [n_embd, n_ff]
    matrix(p + "ffn_down.weight", s.n_ff, s.n_embd, Role::kFfnDown, l);      // [n_ff, n_embd]
  }
  vector("output_norm.weight", s.n_embd, Init::kNorm);
  if (!s.tied_embeddings) matrix("output.weight", s.n_embd, n_vocab, Role::kOutput, 0);
  return out;
}

}  // namespace rf::make_gguf
