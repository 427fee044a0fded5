// The forward pass of llama/qwen2 decoders: RMSNorm, GQA attention with RoPE, SwiGLU FFN.
#include "model/session.h"

#include <algorithm>
#include <cmath>

#include "base/timer.h"
#include "cpu/attention.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"

namespace rf {

Result<Session> Session::create(const Model& model, ThreadPool& pool, const SessionParams& params) {
  const ModelConfig& c = model.config();
  int64_t n_ctx = params.n_ctx > 0 ? params.n_ctx : std::min<int64_t>(c.n_ctx_train, 4096);
  if (n_ctx < 1 || n_ctx > (int64_t{1} << 24)) {
    return make_error("context size %lld is out of range", static_cast<long long>(n_ctx));
  }
  if (params.n_batch < 1) return make_error("batch size must be at least 1");
  return Session(model, pool, params, n_ctx);
}

Session::Session(const Model& model, ThreadPool& pool, const SessionParams& params, int64_t n_ctx)
    : model_(&model), pool_(&pool), params_(params) {
  const ModelConfig& c = model.config();
  params_.n_ctx = n_ctx;
  params_.n_batch = std::min(params.n_batch, n_ctx);
  const auto nb = static_cast<size_t>(params_.n_batch);
  const auto max_cols = static_cast<size_t>(std::max({c.n_embd, c.q_dim(), c.n_ff}));
  kv_ = KvCache(c.n_layer, n_ctx, c.n_head_kv, c.head_dim, params.k_type, params.v_type);
  x_ = AlignedBuffer<float>(nb * c.n_embd);
  xb_ = AlignedBuffer<float>(nb * std::max(c.n_embd, c.q_dim()));
  q_ = AlignedBuffer<float>(nb * c.q_dim());
  k_ = AlignedBuffer<float>(nb * c.kv_dim());
  v_ = AlignedBuffer<float>(nb * c.kv_dim());
  attn_ = AlignedBuffer<float>(nb * c.q_dim());
  gate_ = AlignedBuffer<float>(nb * c.n_ff);
  up_ = AlignedBuffer<float>(nb * c.n_ff);
  act_ = AlignedBuffer<uint8_t>(cpu::matmul_scratch_bytes(params_.n_batch, static_cast<int64_t>(max_cols)));
  attn_ws_ = cpu::AttentionWorkspace({c.n_head, c.n_head_kv, c.head_dim}, pool.size(), params_.n_batch, n_ctx);
  rope_ = AlignedBuffer<float>(static_cast<size_t>(n_ctx * c.n_rot));
  for (int64_t pos = 0; pos < n_ctx; ++pos) {
    cpu::rope_cos_sin(rope_.data() + pos * c.n_rot, pos, c.n_rot, c.rope_freq_base, c.rope_freq_scale);
  }
  logits_ = AlignedBuffer<float>(static_cast<size_t>((params_.logits_all ? n_ctx : 1) * c.n_vocab));
}

Status Session::eval(std::span<const int32_t> tokens) {
  const ModelConfig& c = model_->config();
  const auto n = static_cast<int64_t>(tokens.size());
  if (n == 0) return make_error("nothing to evaluate: the token list is empty");
  if (n_past_ + n > kv_.n_ctx()) {
    return make_error("%lld tokens do not fit in the context: %lld of %lld positions are used",
                      static_cast<long long>(n), static_cast<long long>(n_past_),
                      static_cast<long long>(kv_.n_ctx()));
  }
  for (const int32_t t : tokens) {
    if (t < 0 || t >= c.n_vocab) {
      return make_error("token id %d is outside the vocabulary (0..%lld)", t, static_cast<long long>(c.n_vocab - 1));
    }
  }
  const double start = now_seconds();
  for (int64_t done = 0; done < n;) {
    const int64_t chunk = std::min(params_.n_batch, n - done);
    forward_chunk(tokens.data() + done, chunk, params_.logits_all, params_.logits_all ? done : 0);
    done += chunk;
  }
  n_logits_ = params_.logits_all ? n : 1;
  const double elapsed = now_seconds() - start;
  if (n == 1) {
    timings_.decode_seconds += elapsed;
    timings_.decode_tokens += 1;
  } else {
    timings_.prompt_seconds += elapsed;
    timings_.prompt_tokens += n;
  }
  return {};
}

void Session::forward_chunk(const int32_t* tokens, int64_t n, bool want_all_logits, int64_t logits_row) {
  const ModelConfig& c = model_->config();
  const ModelWeights& w = model_->weights();
  ThreadPool& pool = *pool_;
  const int64_t d = c.n_embd;
  const std::span<uint8_t> scratch = act_.span();

  for (int64_t t = 0; t < n; ++t) cpu::matrix_row(w.token_embd, tokens[t], x_.data() + t * d);

  for (int64_t l = 0; l < c.n_layer; ++l) {
    const LayerWeights& lw = w.layers[static_cast<size_t>(l)];
    for (int64_t t = 0; t < n; ++t) {
      cpu::rms_norm(x_.data() + t * d, lw.attn_norm.data(), xb_.data() + t * d, d, c.rms_eps);
    }
    const cpu::MatmulJob qkv[] = {{&lw.wq, q_.data()}, {&lw.wk, k_.data()}, {&lw.wv, v_.data()}};
    cpu::matmul_many(pool, qkv, xb_.data(), n, scratch);
    for (int64_t t = 0; t < n; ++t) {
      float* q = q_.data() + t * c.q_dim();
      float* k = k_.data() + t * c.kv_dim();
      float* v = v_.data() + t * c.kv_dim();
      if (!lw.bq.empty()) cpu::add(q, lw.bq.data(), c.q_dim());
      if (!lw.bk.empty()) cpu::add(k, lw.bk.data(), c.kv_dim());
      if (!lw.bv.empty()) cpu::add(v, lw.bv.data(), c.kv_dim());
      const int64_t pos = n_past_ + t;
      const float* cs = rope_.data() + pos * c.n_rot;
      for (int64_t h = 0; h < c.n_head; ++h) cpu::rope(q + h * c.head_dim, c.n_rot, cs, c.rope_neox);
      for (int64_t h = 0; h < c.n_head_kv; ++h) cpu::rope(k + h * c.head_dim, c.n_rot, cs, c.rope_neox);
    }
    kv_.store(l, n_past_, n, k_.data(), v_.data(), c.kv_dim());
    attention(l, n);
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
  n_past_ += n;

  // Logits: for every token when asked, else only for the chunk's last token.
  const int64_t first = want_all_logits ? 0 : n - 1;
  for (int64_t t = first; t < n; ++t) {
    cpu::rms_norm(x_.data() + t * d, w.output_norm.data(), xb_.data() + (t - first) * d, d, c.rms_eps);
  }
  float* out = logits_.data() + logits_row * c.n_vocab;
  cpu::matmul(pool, w.output, xb_.data(), n - first, out, scratch);
}

void Session::attention(int64_t layer, int64_t n) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(model_->config().head_dim));
  cpu::attention(*pool_, kv_.layer(layer), q_.data(), n, n_past_, scale, attn_.data(), attn_ws_);
}

std::span<const float> Session::logits(int64_t i) const {
  const int64_t n_vocab = model_->config().n_vocab;
  RF_CHECK(i >= 0 && i < n_logits_);
  return {logits_.data() + i * n_vocab, static_cast<size_t>(n_vocab)};
}

std::span<const float> Session::last_logits() const { return logits(n_logits_ - 1); }

void Session::rewind(int64_t n_past) {
  RF_CHECK(n_past >= 0 && n_past <= n_past_);
  n_past_ = n_past;
  n_logits_ = 0;
}

}  // namespace rf
