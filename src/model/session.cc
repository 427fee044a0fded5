// The forward pass of llama/qwen2 decoders: RMSNorm, GQA attention with RoPE, SwiGLU FFN.
#include "model/session.h"

#include <algorithm>
#include <cmath>

#include "base/timer.h"

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
    : model_(&model), params_(params) {
  const ModelConfig& c = model.config();
  params_.n_ctx = n_ctx;
  params_.n_batch = std::min(params.n_batch, n_ctx);
  kv_ = KvCache(c.n_layer, n_ctx, c.n_head_kv, c.head_dim, params.k_type, params.v_type);
  forward_ = Forward(model, pool, params_.n_batch, n_ctx);
  logits_ = AlignedBuffer<float>(static_cast<size_t>((params_.logits_all ? n_ctx : 1) * c.n_vocab));
}

Status Session::eval(std::span<const int32_t> tokens) {
  const ModelConfig& c = model_->config();
  const auto n = static_cast<int64_t>(tokens.size());
  if (n == 0) return make_error("nothing to evaluate: the token list is empty");
  if (n_past_ + n > n_ctx()) {
    return make_error("%lld tokens do not fit in the context: %lld of %lld positions are used",
                      static_cast<long long>(n), static_cast<long long>(n_past_),
                      static_cast<long long>(n_ctx()));
  }
  for (const int32_t t : tokens) {
    if (t < 0 || t >= c.n_vocab) {
      return make_error("token id %d is outside the vocabulary (0..%lld)", t, static_cast<long long>(c.n_vocab - 1));
    }
  }
  const double start = now_seconds();
  for (int64_t done = 0; done < n;) {
    const int64_t chunk = std::min(params_.n_batch, n - done);
    const BatchSegment segment{kv_.identity_table(), n_past_, chunk, true};
    float* out = logits_.data() + (params_.logits_all ? done : 0) * c.n_vocab;
    forward_.run(tokens.data() + done, std::span(&segment, 1), kv_, params_.logits_all, out);
    n_past_ += chunk;
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
