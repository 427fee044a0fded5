// Builds small random-weight llama/qwen2 GGUF files in a temp dir for forward-pass tests.
#pragma once

#include <string>

#include "quant/types.h"

namespace rf::test {

struct TinyModelSpec {
  std::string arch = "llama";   // general.architecture
  DType matrix_type = DType::kF32;
  int64_t n_embd = 256;
  int64_t n_ff = 512;
  int64_t n_layer = 2;
  int64_t n_head = 4;
  int64_t n_head_kv = 2;
  float rope_base = 10000.0f;
  float rope_linear_factor = 0.0f;  // 0 = no rope.scaling keys
  bool tied_output = false;
  bool qkv_bias = false;
  std::string drop_tensor;           // leave this tensor out (error tests)
  int64_t claimed_layers = 0;        // block_count to write instead of n_layer (error tests)
  uint64_t seed = 1;
};

// Writes the model (vocabulary copied from stories260K, 512 tokens) and returns its path.
std::string write_tiny_model(const TinyModelSpec& spec, const std::string& name);

}  // namespace rf::test
