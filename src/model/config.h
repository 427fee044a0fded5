// ModelConfig: the hyper-parameters of a transformer, read from GGUF metadata (`<arch>.*` keys).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "gguf/gguf.h"

namespace rf {

enum class Architecture { kLlama, kQwen2 };

struct ModelConfig {
  Architecture arch = Architecture::kLlama;
  std::string arch_name;     // as in general.architecture
  int64_t n_vocab = 0;
  int64_t n_embd = 0;        // model width
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;     // < n_head for grouped-query attention
  int64_t head_dim = 0;      // n_embd / n_head unless key_length says otherwise
  int64_t n_ff = 0;          // FFN hidden width
  int64_t n_ctx_train = 0;
  int64_t n_rot = 0;         // rotated dimensions per head
  float rms_eps = 1e-5f;
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / linear scaling factor
  bool rope_neox = false;        // NeoX pairing (Qwen2) vs adjacent pairs (Llama in GGUF)
  bool qkv_bias = false;

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
};

// Reads and validates the configuration; an unsupported architecture or a missing or
// inconsistent hyper-parameter is an error naming the key.
Result<ModelConfig> read_config(const gguf::File& file);

}  // namespace rf
