// Model shapes the random-weight generator writes, and the tensor list (names, shapes, types) of each.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quant/types.h"

namespace rf::make_gguf {

struct ModelShape {
  std::string_view name;     // --arch spelling
  std::string_view arch;     // general.architecture
  int64_t n_embd;
  int64_t n_ff;
  int64_t n_layer;
  int64_t n_head;
  int64_t n_head_kv;
  int64_t n_vocab;           // 0: taken from the vocabulary file
  int64_t n_ctx;
  float rope_freq_base;
  float rms_eps;
  bool qkv_bias;             // blk.N.attn_{q,k,v}.bias (qwen2)
  bool tied_embeddings;      // no output.weight: the output projection reuses token_embd
};

// tinyllama-1.1b, qwen2.5-0.5b, tiny-llama-test, tiny-qwen2-test.
std::span<const ModelShape> model_shapes();
const ModelShape* find_model_shape(std::string_view name);

// What --type asks for. q4_k_m is llama.cpp's mix (see tensor_type in model_spec.cc).
enum class FileType { kF32, kF16, kBF16, kQ8_0, kQ4_0, kQ4_K_M };
std::optional<FileType> parse_file_type(std::string_view name);
std::string_view file_type_name(FileType t);
// llama.cpp's llama_ftype number, stored as general.file_type.
uint32_t llama_file_type(FileType t);

enum class Init {
  kWeight,  // normal, std 0.02
  kNorm,    // 1 + normal * 0.02 (RMSNorm gains)
};

struct TensorSpec {
  std::string name;
  std::vector<int64_t> ne;   // ne[0] innermost, as in the file
  DType type;
  Init init;
};

// Every tensor of the model in file order: token_embd, then per layer attn_norm, attn_q/k/v
// (+ biases), attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down, then output_norm and output.
std::vector<TensorSpec> tensor_specs(const ModelShape& shape, int64_t n_vocab, FileType type);

}  // namespace rf::make_gguf
