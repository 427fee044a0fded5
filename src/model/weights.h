// ModelWeights: every tensor of a llama/qwen2 model bound by name, checked against the config's shapes.
#pragma once

#include <vector>

#include "base/result.h"
#include "cpu/matmul.h"
#include "gguf/gguf.h"
#include "model/config.h"

namespace rf {

struct LayerWeights {
  std::vector<float> attn_norm;  // (n_embd)
  cpu::MatrixView wq;            // (q_dim, n_embd)  rows x cols
  cpu::MatrixView wk;            // (kv_dim, n_embd)
  cpu::MatrixView wv;            // (kv_dim, n_embd)
  cpu::MatrixView wo;            // (n_embd, q_dim)
  std::vector<float> bq;         // (q_dim) or empty
  std::vector<float> bk;         // (kv_dim) or empty
  std::vector<float> bv;         // (kv_dim) or empty
  std::vector<float> ffn_norm;   // (n_embd)
  cpu::MatrixView w_gate;        // (n_ff, n_embd)
  cpu::MatrixView w_up;          // (n_ff, n_embd)
  cpu::MatrixView w_down;        // (n_embd, n_ff)
};

// Matrices are views into the mapped file; the small norm and bias vectors are converted to f32 copies.
struct ModelWeights {
  cpu::MatrixView token_embd;    // (n_vocab, n_embd)
  std::vector<float> output_norm;  // (n_embd)
  cpu::MatrixView output;        // (n_vocab, n_embd); token_embd when the embeddings are tied
  std::vector<LayerWeights> layers;
};

// Binds all tensors; a missing tensor, a wrong shape or an unsupported type is an error naming it.
Result<ModelWeights> bind_weights(const gguf::File& file, const ModelConfig& config);

// Calls fn(view) for every matrix: embeddings, output (also when tied), each layer's.
// Weights is ModelWeights or const ModelWeights.
template <class Weights, class Fn>
void for_each_matrix(Weights& w, Fn&& fn) {
  fn(w.token_embd);
  fn(w.output);
  for (auto& l : w.layers) {
    for (auto* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) fn(*m);
  }
}

}  // namespace rf
