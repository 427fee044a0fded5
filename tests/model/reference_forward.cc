// Straight-line transformer math in double: no batching, no caches, no threads.
#include "reference_forward.h"

#include <gtest/gtest.h>

#include <cmath>

#include "quant/dequantize.h"

namespace rf::test {
namespace {

using Vec = std::vector<double>;
using Mat = std::vector<Vec>;  // rows

Mat dequantize(const cpu::MatrixView& m) {
  Mat out(static_cast<size_t>(m.rows));
  std::vector<float> row(static_cast<size_t>(m.cols));
  for (int64_t r = 0; r < m.rows; ++r) {
    dequantize_row(m.type, m.data + static_cast<uint64_t>(r) * m.row_bytes, row.data(), m.cols);
    out[static_cast<size_t>(r)].assign(row.begin(), row.end());
  }
  return out;
}

Vec matvec(const Mat& w, const Vec& x) {
  Vec y(w.size(), 0.0);
  for (size_t r = 0; r < w.size(); ++r) {
    for (size_t c = 0; c < x.size(); ++c) y[r] += w[r][c] * x[c];
  }
  return y;
}

Vec rms_norm(const Vec& x, const std::vector<float>& weight, double eps) {
  double ss = 0.0;
  for (const double v : x) ss += v * v;
  const double scale = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * weight[i];
  return y;
}

void add_bias(Vec& x, const std::vector<float>& b) {
  for (size_t i = 0; i < b.size(); ++i) x[i] += b[i];
}

// Rotates each head's first n_rot dims; NeoX pairs (i, i + n_rot/2), otherwise (2i, 2i+1).
void rope(Vec& x, int64_t n_heads, const ModelConfig& c, int64_t pos) {
  for (int64_t h = 0; h < n_heads; ++h) {
    double* head = x.data() + h * c.head_dim;
    for (int64_t i = 0; i < c.n_rot / 2; ++i) {
      const double theta = static_cast<double>(pos) * c.rope_freq_scale *
                           std::pow(static_cast<double>(c.rope_freq_base), -2.0 * static_cast<double>(i) / static_cast<double>(c.n_rot));
      const int64_t a = c.rope_neox ? i : 2 * i;
      const int64_t b = c.rope_neox ? i + c.n_rot / 2 : 2 * i + 1;
      const double x0 = head[a];
      const double x1 = head[b];
      head[a] = x0 * std::cos(theta) - x1 * std::sin(theta);
      head[b] = x0 * std::sin(theta) + x1 * std::cos(theta);
    }
  }
}

}  // namespace

std::vector<std::vector<double>> reference_logits(const Model& model, const std::vector<int32_t>& tokens) {
  const ModelConfig& c = model.config();
  // The file's own tensors: independent of any layout the loader repacked them into.
  const auto bound = bind_weights(model.file(), c);
  EXPECT_TRUE(bound.ok());
  const ModelWeights& w = *bound;
  const Mat embd = dequantize(w.token_embd);
  const Mat out_w = dequantize(w.output);
  const auto n = tokens.size();
  const auto hd = static_cast<size_t>(c.head_dim);
  const auto group = static_cast<size_t>(c.n_head / c.n_head_kv);

  std::vector<Vec> x(n);
  for (size_t t = 0; t < n; ++t) x[t] = embd[static_cast<size_t>(tokens[t])];

  for (const LayerWeights& lw : w.layers) {
    const Mat wq = dequantize(lw.wq), wk = dequantize(lw.wk), wv = dequantize(lw.wv), wo = dequantize(lw.wo);
    const Mat wg = dequantize(lw.w_gate), wu = dequantize(lw.w_up), wd = dequantize(lw.w_down);
    std::vector<Vec> q(n), k(n), v(n);
    for (size_t t = 0; t < n; ++t) {
      const Vec h = rms_norm(x[t], lw.attn_norm, c.rms_eps);
      q[t] = matvec(wq, h);
      k[t] = matvec(wk, h);
      v[t] = matvec(wv, h);
      add_bias(q[t], lw.bq);
      add_bias(k[t], lw.bk);
      add_bias(v[t], lw.bv);
      rope(q[t], c.n_head, c, static_cast<int64_t>(t));
      rope(k[t], c.n_head_kv, c, static_cast<int64_t>(t));
    }
    for (size_t t = 0; t < n; ++t) {
      Vec attn(static_cast<size_t>(c.q_dim()), 0.0);
      for (size_t h = 0; h < static_cast<size_t>(c.n_head); ++h) {
        const size_t kv_off = (h / group) * hd;
        Vec scores(t + 1);
        double max_s = -1e300;
        for (size_t p = 0; p <= t; ++p) {
          double s = 0.0;
          for (size_t i = 0; i < hd; ++i) s += q[t][h * hd + i] * k[p][kv_off + i];
          scores[p] = s / std::sqrt(static_cast<double>(hd));
          max_s = std::max(max_s, scores[p]);
        }
        double sum = 0.0;
        for (double& s : scores) sum += (s = std::exp(s - max_s));
        for (size_t p = 0; p <= t; ++p) {
          for (size_t i = 0; i < hd; ++i) attn[h * hd + i] += scores[p] / sum * v[p][kv_off + i];
        }
      }
      const Vec o = matvec(wo, attn);
      for (size_t i = 0; i < o.size(); ++i) x[t][i] += o[i];
      const Vec h2 = rms_norm(x[t], lw.ffn_norm, c.rms_eps);
      Vec g = matvec(wg, h2);
      const Vec u = matvec(wu, h2);
      for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
      const Vec d = matvec(wd, g);
      for (size_t i = 0; i < d.size(); ++i) x[t][i] += d[i];
    }
  }
  std::vector<Vec> logits(n);
  for (size_t t = 0; t < n; ++t) logits[t] = matvec(out_w, rms_norm(x[t], w.output_norm, c.rms_eps));
  return logits;
}

}  // namespace rf::test
