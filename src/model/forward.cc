// The forward pass of llama/qwen2 decoders: RMSNorm, GQA attention with RoPE, SwiGLU FFN.
#include "model/forward.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "cpu/attention.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"

namespace rf {

Forward::Forward(const Model& model, ThreadPool& pool, int64_t max_tokens, int64_t max_positions)
    : model_(&model), pool_(&pool), max_tokens_(max_tokens), max_positions_(max_positions) {
  const ModelConfig& c = model.config();
  RF_CHECK(max_tokens > 0 && max_positions > 0);
  const auto nb = static_cast<size_t>(max_tokens);
  const auto max_cols = std::max({c.n_embd, c.q_dim(), c.n_ff});
  x_ = AlignedBuffer<float>(nb * c.n_embd);
  xb_ = AlignedBuffer<float>(nb * std::max(c.n_embd, c.q_dim()));
  q_ = AlignedBuffer<float>(nb * c.q_dim());
  k_ = AlignedBuffer<float>(nb * c.kv_dim());
  v_ = AlignedBuffer<float>(nb * c.kv_dim());
  attn_ = AlignedBuffer<float>(nb * c.q_dim());
  gate_ = AlignedBuffer<float>(nb * c.n_ff);
  up_ = AlignedBuffer<float>(nb * c.n_ff);
  act_ = AlignedBuffer<uint8_t>(cpu::matmul_scratch_bytes(max_tokens, max_cols));
  attn_ws_ = cpu::AttentionWorkspace({c.n_head, c.n_head_kv, c.head_dim}, pool.size(), max_tokens, max_positions);
  rope_ = AlignedBuffer<float>(static_cast<size_t>(max_positions * c.n_rot));
  for (int64_t pos = 0; pos < max_positions; ++pos) {
    cpu::rope_cos_sin(rope_.data() + pos * c.n_rot, pos, c.n_rot, c.rope_freq_base, c.rope_freq_scale);
  }
}

void Forward::run(const int32_t* tokens, std::span<const BatchSegment> segments, KvCache& kv, bool all_logits,
                  float* logits) {
  const ModelConfig& c = model_->config();
  const ModelWeights& w = model_->weights();
  ThreadPool& pool = *pool_;
  const int64_t d = c.n_embd;
  const std::span<uint8_t> scratch = act_.span();
  int64_t n = 0;
  for (const BatchSegment& s : segments) {
    RF_CHECK(s.n > 0 && s.pos0 >= 0 && s.pos0 + s.n <= max_positions_);
    n += s.n;
  }
  RF_CHECK(n > 0 && n <= max_tokens_);

  for (int64_t t = 0; t < n; ++t) {
    RF_CHECK(tokens[t] >= 0 && tokens[t] < c.n_vocab);
    cpu::matrix_row(w.token_embd, tokens[t], x_.data() + t * d);
  }
  const float attn_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));

  for (int64_t l = 0; l < c.n_layer; ++l) {
    const LayerWeights& lw = w.layers[static_cast<size_t>(l)];
    for (int64_t t = 0; t < n; ++t) {
      cpu::rms_norm(x_.data() + t * d, lw.attn_norm.data(), xb_.data() + t * d, d, c.rms_eps);
    }
    const cpu::MatmulJob qkv[] = {{&lw.wq, q_.data()}, {&lw.wk, k_.data()}, {&lw.wv, v_.data()}};
    cpu::matmul_many(pool, qkv, xb_.data(), n, scratch);
    int64_t t0 = 0;
    for (const BatchSegment& s : segments) {
      for (int64_t i = 0; i < s.n; ++i) {
        const int64_t t = t0 + i;
        float* q = q_.data() + t * c.q_dim();
        float* k = k_.data() + t * c.kv_dim();
        float* v = v_.data() + t * c.kv_dim();
        if (!lw.bq.empty()) cpu::add(q, lw.bq.data(), c.q_dim());
        if (!lw.bk.empty()) cpu::add(k, lw.bk.data(), c.kv_dim());
        if (!lw.bv.empty()) cpu::add(v, lw.bv.data(), c.kv_dim());
        const float* cs = rope_.data() + (s.pos0 + i) * c.n_rot;
        for (int64_t h = 0; h < c.n_head; ++h) cpu::rope(q + h * c.head_dim, c.n_rot, cs, c.rope_neox);
        for (int64_t h = 0; h < c.n_head_kv; ++h) cpu::rope(k + h * c.head_dim, c.n_rot, cs, c.rope_neox);
      }
      kv.store(l, s.blocks, s.pos0, s.n, k_.data() + t0 * c.kv_dim(), v_.data() + t0 * c.kv_dim(), c.kv_dim());
      cpu::attention(pool, kv.layer(l, s.blocks), q_.data() + t0 * c.q_dim(), s.n, s.pos0, attn_scale,
                     attn_.data() + t0 * c.q_dim(), attn_ws_);
      t0 += s.n;
    }
    cpu::matmul(pool, lw.wo, attn_.data(), n, xb_.data(), scratch);
    cpu::add(x_.data(), xb_.data(), n * d);

    for (int64_t t = 0; t < n; ++t) {
      cpu::rms_norm(x_.data() + t * d, lw.ffn_norm.data(), xb_.data() + t * d, d, c.rms_eps);
    }
    const cpu::MatmulJob gate_up[] = {{&lw.w_gate, gate_.data()}, {&lw.w_up, up_.data()}};
    cpu::matmul_many(pool, gate_up, xb_.data(), n, scratch);
    cpu::swiglu(gate_.data(), up_.data(), n * c.n_ff);
    cpu::matmul(pool, lw.w_down, gate_.data(), n, xb_.data(), scratch);
    cpu::add(x_.data(), xb_.data(), n * d);
  }

  // Logits of every token, or of each segment's last token that wants them, from packed rows.
  int64_t rows = 0;
  int64_t t0 = 0;
  for (const BatchSegment& s : segments) {
    const int64_t first = all_logits ? t0 : (s.want_logits ? t0 + s.n - 1 : t0 + s.n);
    for (int64_t t = first; t < t0 + s.n; ++t) {
      cpu::rms_norm(x_.data() + t * d, w.output_norm.data(), xb_.data() + rows * d, d, c.rms_eps);
      ++rows;
    }
    t0 += s.n;
  }
  if (rows > 0) cpu::matmul(pool, w.output, xb_.data(), rows, logits, scratch);
}

}  // namespace rf
