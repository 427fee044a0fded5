// compute_perplexity: chunked evaluation and negative log-likelihood in double precision.
#include "runtime/perplexity.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "model/session.h"

namespace rf {
namespace {

// -log softmax(logits)[target].
double negative_log_likelihood(std::span<const float> logits, int32_t target) {
  double max_logit = logits[0];
  for (const float l : logits) max_logit = std::max<double>(max_logit, l);
  double sum = 0.0;
  for (const float l : logits) sum += std::exp(l - max_logit);
  return std::log(sum) - (logits[static_cast<size_t>(target)] - max_logit);
}

}  // namespace

Result<PerplexityResult> compute_perplexity(const Model& model, ThreadPool& pool,
                                            std::span<const int32_t> tokens, SessionParams params,
                                            const std::function<void(int64_t, int64_t, double)>& on_chunk) {
  const int64_t n_ctx = params.n_ctx;
  if (n_ctx < 4) return make_error("perplexity needs a context of at least 4 tokens");
  const auto n_chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
  if (n_chunks == 0) {
    return make_error("the text is %zu tokens, fewer than one chunk of %lld (lower -c)", tokens.size(),
                      static_cast<long long>(n_ctx));
  }
  params.logits_all = true;
  auto session = Session::create(model, pool, params);
  if (!session.ok()) return session.error();

  const int32_t bos = model.tokenizer().bos_id();
  const int64_t first = n_ctx / 2;
  std::vector<int32_t> chunk(static_cast<size_t>(n_ctx));
  double nll = 0.0;
  PerplexityResult result;
  result.n_chunks = n_chunks;
  for (int64_t c = 0; c < n_chunks; ++c) {
    const auto begin = tokens.begin() + c * n_ctx;
    std::copy_n(begin, n_ctx, chunk.begin());
    if (bos >= 0) chunk[0] = bos;
    session->rewind(0);
    RF_RETURN_IF_ERROR(session->eval(chunk));
    for (int64_t j = first; j < n_ctx - 1; ++j) {
      nll += negative_log_likelihood(session->logits(j), begin[j + 1]);
      ++result.scored_tokens;
    }
    result.perplexity = std::exp(nll / static_cast<double>(result.scored_tokens));
    if (on_chunk) on_chunk(c + 1, n_chunks, result.perplexity);
  }
  return result;
}

}  // namespace rf
