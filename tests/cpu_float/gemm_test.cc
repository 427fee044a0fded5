// Float-family gemm kernels of every ISA against the scalar level and a double-precision reference.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cpu/kernels.h"
#include "float_data.h"

namespace rf::cpu {
namespace {

using test::GemmCase;

// Rounding bound of one f32 dot product of k terms, relative to Σ|w·a|: every kernel splits the
// sum over at least 4 lanes (NEON; a bf16 dot adds 2 products per 16-lane step, i.e. one term per
// 8 elements), so each lane adds at most ceil(k/4) + 1 rounded terms, and the lanes meet in at
// most 8 more additions: first-order bound (ceil(k/4) + 9) * u, u = 2^-24.
double sum_bound(int64_t k) { return static_cast<double>((k + 3) / 4 + 9) * 0x1p-24; }

// Relative error of the activation format: bf16 keeps 8 significant bits, so rounding to nearest
// moves each activation by at most 2^-8 of itself, and Σ w·x by at most 2^-8 Σ|w·x|.
double act_bound(ActFormat act) { return act == ActFormat::kBF16 ? 0x1p-8 : 0.0; }

struct Shape {
  int64_t k, n_rows, n_cols;
};

// k: 1, 3, 7, 11 elements, vector-width edges (15, 16, 17, 31, 33), and multiples of 32 plus
// odd remainders; rows and tokens below, between and above every register tile.
std::vector<Shape> shapes() {
  std::vector<Shape> out;
  const int64_t ks[] = {1, 3, 7, 11, 15, 17, 31, 33, 96 + 5, 11 * 32, 7 * 32 + 19, 1029};
  const int64_t rows[] = {1, 3, 5, 17, 33};
  const int64_t cols[] = {1, 2, 3, 5, 7, 13, 64};
  for (const int64_t k : ks) {
    for (const int64_t r : rows) {
      for (const int64_t c : cols) out.push_back({k, r, c});
    }
  }
  return out;
}

// f64 products of w and x: Σ w·x and Σ |w·x| per (token, row).
void reference(const GemmCase& c, const std::vector<float>& x, std::vector<double>& dot, std::vector<double>& mag) {
  dot.assign(static_cast<size_t>(c.n_rows * c.n_cols), 0.0);
  mag.assign(dot.size(), 0.0);
  for (int64_t t = 0; t < c.n_cols; ++t) {
    for (int64_t r = 0; r < c.n_rows; ++r) {
      double s = 0, m = 0;
      for (int64_t i = 0; i < c.k; ++i) {
        const double p = static_cast<double>(c.w[static_cast<size_t>(r * c.k + i)]) * x[static_cast<size_t>(t * c.k + i)];
        s += p;
        m += std::fabs(p);
      }
      dot[static_cast<size_t>(t * c.n_rows + r)] = s;
      mag[static_cast<size_t>(t * c.n_rows + r)] = m;
    }
  }
}

class FloatGemm : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

// (a) Same activations as the kernel holds them, through the scalar level: only the summation
// order differs, so the two may differ by twice the one-sided rounding bound.
// (b) Against Σ w·x in f64 on the original activations: rounding plus the activation format's error.
TEST_P(FloatGemm, MatchesScalarAndDoubleReference) {
  const auto [isa, type] = GetParam();
  const GemmKernel& kernel = kernels_for(isa).for_type(type);
  const GemmKernel& scalar = kernels_for(Isa::kScalar).for_type(type);
  ASSERT_NE(kernel.gemm, nullptr);
  ASSERT_EQ(scalar.act, ActFormat::kF32);
  uint32_t seed = 1;
  std::vector<double> dot, mag, held_dot, held_mag;
  for (const Shape& s : shapes()) {
    const uint64_t misalign = 4 * (seed % 5);
    const GemmCase c = test::make_case(type, s.k, s.n_rows, s.n_cols, misalign, seed++);
    const std::vector<float> held = test::held_activations(kernel, c.x, c.k);
    const std::vector<float> out = test::run_gemm(kernel, c, c.x);
    const std::vector<float> ref = test::run_gemm(scalar, c, held);
    reference(c, c.x, dot, mag);
    reference(c, held, held_dot, held_mag);
    const double tol_a = 2 * sum_bound(c.k);
    const double tol_b = sum_bound(c.k) + act_bound(kernel.act) * (1 + sum_bound(c.k));
    int failures = 0;
    for (size_t i = 0; i < out.size() && failures < 5; ++i) {
      const double err_a = std::fabs(static_cast<double>(out[i]) - ref[i]);
      const double err_b = std::fabs(static_cast<double>(out[i]) - dot[i]);
      const bool ok = err_a <= tol_a * held_mag[i] && err_b <= tol_b * mag[i];
      failures += ok ? 0 : 1;
      EXPECT_TRUE(ok) << "k=" << c.k << " rows=" << c.n_rows << " cols=" << c.n_cols << " i=" << i
                      << ": kernel " << out[i] << " scalar " << ref[i] << " f64 " << dot[i]
                      << " (|err| vs scalar " << err_a / held_mag[i] << ", vs f64 " << err_b / mag[i]
                      << " of sum|w*a|)";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, FloatGemm, ::testing::ValuesIn(test::isa_type_params({DType::kF32, DType::kF16, DType::kBF16})), test::isa_type_name);

}  // namespace
}  // namespace rf::cpu
