// Legacy-quant gemm of every ISA against the scalar level and double-precision references.
//
// Tolerances (mag = Σ|w · d_a q_a| in double):
//   vs the scalar level and vs Σ w · d_a q_a: 1e-5 · mag. Both compute the same exact integer block
//   dots; only f32 products and the order of summing ≤ 3 terms per block differ (each ~6e-8).
//   vs Σ w · x: the activation rounding |x - d_a q_a| <= d_a/2 (1 + 3e-5) (d_a and x * (1/d_a) each
//   round once) bounds the gap by act_err = Σ_blocks d_a/2 Σ|w|, times 1.0001, plus the above.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cpu/kernels.h"
#include "legacy_data.h"

namespace rf::cpu {
namespace {

constexpr float kUnwritten = std::numeric_limits<float>::quiet_NaN();

struct Shape {
  int64_t blocks, rows, cols;
};

std::vector<float> run(const GemmKernel& kernel, const test::WeightRows& w, const test::ActRows& a, const Shape& s,
                       int64_t out_stride) {
  std::vector<float> out(static_cast<size_t>(out_stride * s.cols), kUnwritten);
  GemmArgs g;
  g.k = s.blocks * 32;
  g.w = w.data;
  g.w_stride = w.stride;
  g.n_rows = s.rows;
  g.a = a.data;
  g.a_stride = a.stride;
  g.n_cols = s.cols;
  g.out = out.data();
  g.out_stride = out_stride;
  kernel.gemm(g);
  return out;
}

class LegacyGemm : public ::testing::TestWithParam<DType> {};

TEST_P(LegacyGemm, EveryIsaMatchesScalarAndReference) {
  const DType type = GetParam();
  std::mt19937 rng(static_cast<uint32_t>(type) * 101 + 3);
  const GemmKernel& scalar = kernels_for(Isa::kScalar).for_type(type);
  int checked = 0;
  for (const int64_t blocks : {1, 3, 7, 8, 11, 40}) {
    for (const int64_t rows : {1, 3, 5, 17, 33}) {
      for (const int64_t cols : {1, 2, 3, 5, 7, 13, 64}) {
        const Shape s{blocks, rows, cols};
        const int64_t k = blocks * 32;
        const test::WeightRows w = test::random_weights(type, rows, k, 1 + rng() % 3, rng);
        const std::vector<float> x = test::random_activations(cols, k, rng);
        const test::ActRows a = test::quantize_rows(scalar, x, cols, k, 4, rng);
        const test::Reference ref = test::reference(type, w, rows, a, x, cols, k);
        const int64_t out_stride = rows + 3;
        const std::vector<float> want = run(scalar, w, a, s, out_stride);
        for (const Isa isa : available_isas()) {
          const GemmKernel& kernel = kernels_for(isa).for_type(type);
          ASSERT_EQ(kernel.act, ActFormat::kQ8);
          SCOPED_TRACE(std::string(isa_name(isa)) + " k=" + std::to_string(k) + " rows=" + std::to_string(rows) +
                       " cols=" + std::to_string(cols));
          const std::vector<float> got = isa == Isa::kScalar ? want : run(kernel, w, a, s, out_stride);
          for (int64_t c = 0; c < cols; ++c) {
            for (int64_t r = 0; r < out_stride; ++r) {
              const float y = got[static_cast<size_t>(c * out_stride + r)];
              if (r >= rows) {
                ASSERT_TRUE(std::isnan(y)) << "wrote outside the tile at token " << c << " row " << r;
                continue;
              }
              const size_t o = static_cast<size_t>(c * rows + r);
              const double tol = 1e-5 * ref.mag[o];
              const float y_scalar = want[static_cast<size_t>(c * out_stride + r)];
              ASSERT_NEAR(y, y_scalar, tol) << "vs scalar, token " << c << " row " << r;
              ASSERT_NEAR(y, ref.dot_q[o], tol) << "vs double, token " << c << " row " << r;
              ASSERT_NEAR(y, ref.dot_x[o], 1.0001 * ref.act_err[o] + tol) << "vs f32 x, token " << c << " row " << r;
              ++checked;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(Types, LegacyGemm, ::testing::ValuesIn(test::kLegacyTypes),
                         [](const ::testing::TestParamInfo<DType>& p) { return std::string(dtype_name(p.param)); });

}  // namespace
}  // namespace rf::cpu
