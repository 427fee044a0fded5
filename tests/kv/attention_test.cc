// cpu::attention on every ISA level against a double-precision softmax(q.K^T) V over the cache's
// stored keys and values: head dims 24..128, GQA groups 1/4/7, odd token counts, pos0 > 0, position
// ranges split across threads, f32 and q8_0 caches.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "cpu/attention.h"
#include "cpu/kernels.h"
#include "kv/kv_cache.h"
#include "threading/thread_pool.h"

namespace rf {
namespace {

using cpu::KvFormat;

constexpr double kU = 0x1p-24;  // f32 unit roundoff

struct Case {
  int64_t head_dim;
  int64_t n_head_kv;
  int64_t group;
  int64_t pos0;
  int64_t n_tokens;
};

struct Problem {
  Case c;
  KvFormat kt, vt;
  KvCache cache;
  std::vector<float> q;  // [n_tokens][n_head * head_dim]
  float scale;
  static constexpr int64_t kLayer = 1;  // not layer 0: layer offsets matter

  int64_t n_head() const { return c.n_head_kv * c.group; }
  int64_t q_dim() const { return n_head() * c.head_dim; }
};

// Random keys and values for positions 0 .. pos0 + n_tokens - 1 and random queries. Queries are
// three times larger than unit so that the softmax is far from uniform.
Problem make_problem(const Case& c, KvFormat kt, KvFormat vt, uint32_t seed) {
  const int64_t n_pos = c.pos0 + c.n_tokens;
  Problem p{c, kt, vt, KvCache(2, n_pos + 7, c.n_head_kv, c.head_dim, kt, vt), {}, 0.0f};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  const int64_t kv_dim = c.n_head_kv * c.head_dim;
  std::vector<float> k(static_cast<size_t>(n_pos * kv_dim)), v(k.size());
  for (float& x : k) x = uni(rng);
  for (float& x : v) x = uni(rng);
  for (int64_t l = 0; l < 2; ++l) p.cache.store(l, 0, n_pos, k.data(), v.data(), kv_dim);
  p.q.resize(static_cast<size_t>(c.n_tokens * p.q_dim()));
  for (float& x : p.q) x = 3.0f * uni(rng);
  p.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.head_dim)));
  return p;
}

// For token t and head h: the reference output (double) and a bound on |kernel - reference| per
// element. Scores may be off by Δ (f32 rounding of q.k over head_dim terms, plus for q8_0 keys the
// query quantization: |q_i - d q8_i| <= d/2 per block); a softmax with every score off by at most Δ
// has probabilities within a factor e^(±2Δ), so the output moves by at most (e^2Δ - 1) max|v|.
// f32 accumulation of P.V over n positions and exp's 2e-7 relative error add (n + 8) u max|v|.
struct Expected {
  std::vector<double> out;
  double tol;
};

Expected reference(const Problem& p, int64_t t, int64_t h) {
  const int64_t hd = p.c.head_dim;
  const int64_t kvh = h / p.c.group;
  const int64_t n_pos = p.c.pos0 + t + 1;
  const float* q = p.q.data() + t * p.q_dim() + h * hd;
  std::vector<float> k(static_cast<size_t>(hd)), v(static_cast<size_t>(hd));
  std::vector<double> s(static_cast<size_t>(n_pos));
  double delta = 0.0;
  // q8_0 block scales of the scaled query, as the kernels quantize it.
  std::vector<double> q_step;
  for (int64_t b = 0; b * 32 < hd; ++b) {
    double amax = 0.0;
    for (int64_t i = b * 32; i < std::min<int64_t>(hd, b * 32 + 32); ++i) amax = std::max(amax, std::fabs(static_cast<double>(q[i]) * p.scale));
    q_step.push_back(amax / 127.0);
  }
  for (int64_t pos = 0; pos < n_pos; ++pos) {
    p.cache.load_k(Problem::kLayer, kvh, pos, k.data());
    double dot = 0.0, abs_dot = 0.0, quant_err = 0.0;
    for (int64_t i = 0; i < hd; ++i) {
      dot += static_cast<double>(q[i]) * k[i];
      abs_dot += std::fabs(static_cast<double>(q[i]) * k[i]);
      quant_err += q_step[static_cast<size_t>(i / 32)] / 2 * std::fabs(k[i]);
    }
    s[static_cast<size_t>(pos)] = dot * p.scale;
    double d = (static_cast<double>(hd) + 4) * kU * abs_dot * p.scale;
    if (p.kt == KvFormat::kQ8_0) d += quant_err * (1 + 1e-3);  // 1e-3: the f32 scale products
    delta = std::max(delta, d);
  }
  const double max_s = *std::max_element(s.begin(), s.end());
  double sum = 0.0;
  for (double& x : s) sum += (x = std::exp(x - max_s));
  Expected e{std::vector<double>(static_cast<size_t>(hd), 0.0), 0.0};
  double v_max = 0.0;
  for (int64_t pos = 0; pos < n_pos; ++pos) {
    p.cache.load_v(Problem::kLayer, kvh, pos, v.data());
    for (int64_t i = 0; i < hd; ++i) {
      e.out[static_cast<size_t>(i)] += s[static_cast<size_t>(pos)] / sum * v[i];
      v_max = std::max(v_max, std::fabs(static_cast<double>(v[i])));
    }
  }
  e.tol = v_max * (std::expm1(2 * delta) + (static_cast<double>(n_pos) + 8) * kU + 8e-7);
  return e;
}

void check_all_isas(const Case& c, KvFormat kt, KvFormat vt, ThreadPool& pool, uint32_t seed) {
  const Problem p = make_problem(c, kt, vt, seed);
  std::vector<Expected> want;
  for (int64_t t = 0; t < c.n_tokens; ++t) {
    for (int64_t h = 0; h < p.n_head(); ++h) want.push_back(reference(p, t, h));
  }
  for (const cpu::Isa isa : cpu::available_isas()) {
    SCOPED_TRACE(testing::Message() << cpu::isa_name(isa) << " head_dim " << c.head_dim << " kv heads "
                                    << c.n_head_kv << " group " << c.group << " pos0 " << c.pos0 << " tokens "
                                    << c.n_tokens << " k " << kv_type_name(kt) << " v " << kv_type_name(vt)
                                    << " threads " << pool.size());
    cpu::AttentionWorkspace ws({p.n_head(), c.n_head_kv, c.head_dim}, pool.size(), c.n_tokens, c.pos0 + c.n_tokens);
    std::vector<float> out(p.q.size(), NAN);
    cpu::attention(pool, p.cache.layer(Problem::kLayer), p.q.data(), c.n_tokens, c.pos0, p.scale, out.data(), ws,
                   cpu::kernels_for(isa).ops);
    size_t at = 0;
    for (int64_t t = 0; t < c.n_tokens; ++t) {
      for (int64_t h = 0; h < p.n_head(); ++h, ++at) {
        const Expected& e = want[at];
        for (int64_t i = 0; i < c.head_dim; ++i) {
          const float got = out[static_cast<size_t>(t * p.q_dim() + h * c.head_dim + i)];
          ASSERT_LE(std::fabs(got - e.out[static_cast<size_t>(i)]), e.tol)
              << "token " << t << " head " << h << " element " << i << " (reference " << e.out[static_cast<size_t>(i)]
              << ")";
        }
      }
    }
  }
}

constexpr KvFormat kFormats[] = {KvFormat::kF32, KvFormat::kQ8_0};

TEST(Attention, MatchesDoublePrecisionOnEveryIsa) {
  ThreadPool pool(2);
  const Case cases[] = {
      {64, 4, 8, 0, 1},     // first token
      {64, 2, 4, 37, 1},    // decode
      {80, 1, 7, 13, 23},   // prefill continuing a cache, several token blocks
      {128, 2, 1, 0, 37},   // no grouping
      {24, 3, 4, 5, 9},     // head_dim under one q8_0 block
      {72, 1, 7, 70, 5},    // head_dim not a multiple of 16
      {36, 2, 3, 21, 4},    // head_dim not a multiple of 8
  };
  uint32_t seed = 1;
  for (const Case& c : cases) {
    for (const KvFormat kt : kFormats) {
      for (const KvFormat vt : kFormats) check_all_isas(c, kt, vt, pool, seed++);
    }
  }
}

// Long contexts with few tokens split their positions across threads and merge the partial sums.
TEST(Attention, SplitsLongContextsAcrossThreads) {
  ThreadPool pool(3);
  const Case cases[] = {
      {64, 1, 8, 900, 1},   // one KV head: 12 items wanted, 3 ranges of 304
      {80, 2, 4, 611, 3},   // three tokens in one block: rows see different range ends
  };
  uint32_t seed = 100;
  for (const Case& c : cases) {
    for (const KvFormat kt : kFormats) check_all_isas(c, kt, kt, pool, seed++);
  }
}

// The vector levels run the scalar level's algorithm (same query quantization, same per-block
// order), so they differ from it by f32 rounding only: far tighter than the bound against double.
TEST(Attention, VectorLevelsMatchTheScalarLevel) {
  ThreadPool pool(2);
  for (const KvFormat kt : kFormats) {
    for (const KvFormat vt : kFormats) {
      const Case c{80, 2, 4, 45, 19};
      const Problem p = make_problem(c, kt, vt, 11);
      cpu::AttentionWorkspace ws({p.n_head(), c.n_head_kv, c.head_dim}, pool.size(), c.n_tokens, 64);
      std::vector<float> want(p.q.size());
      cpu::attention(pool, p.cache.layer(1), p.q.data(), c.n_tokens, c.pos0, p.scale, want.data(), ws,
                     cpu::kernels_for(cpu::Isa::kScalar).ops);
      for (const cpu::Isa isa : cpu::available_isas()) {
        SCOPED_TRACE(testing::Message() << cpu::isa_name(isa) << " k " << kv_type_name(kt) << " v " << kv_type_name(vt));
        std::vector<float> got(p.q.size());
        cpu::attention(pool, p.cache.layer(1), p.q.data(), c.n_tokens, c.pos0, p.scale, got.data(), ws,
                       cpu::kernels_for(isa).ops);
        for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-6) << i;  // |v| <= 1
      }
    }
  }
}

TEST(Attention, SingleThreadMatchesPool) {
  ThreadPool one(1);
  ThreadPool two(2);
  const Problem p = make_problem({64, 2, 4, 300, 7}, KvFormat::kQ8_0, KvFormat::kF32, 7);
  std::vector<float> a(p.q.size()), b(p.q.size());
  cpu::AttentionWorkspace ws1({p.n_head(), 2, 64}, 1, 7, 307), ws2({p.n_head(), 2, 64}, 2, 7, 307);
  cpu::attention(one, p.cache.layer(1), p.q.data(), 7, 300, p.scale, a.data(), ws1);
  cpu::attention(two, p.cache.layer(1), p.q.data(), 7, 300, p.scale, b.data(), ws2);
  EXPECT_EQ(a, b);  // items do not depend on which thread runs them
}

}  // namespace
}  // namespace rf
