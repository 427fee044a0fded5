// Element-wise operators of every ISA level against double-precision references, over awkward
// lengths and misaligned pointers, with error bounds derived from f32 rounding and exp's bound.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/ops.h"

namespace rf::cpu {
namespace {

constexpr double kU = 0x1p-24;       // f32 unit roundoff
constexpr double kExpRel = 2e-7;     // stated bound of the vector levels' exp (ops_kernels.h)
constexpr int64_t kSizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 257, 1000, 2051};
constexpr int64_t kOffsets[] = {0, 1, 3};  // floats past a 64-byte boundary

// A float buffer whose data starts `offset` floats after an aligned address, filled with
// uniform values in [lo, hi), with guard values after the end that must survive.
struct Buffer {
  std::vector<float> storage;
  float* data;
  int64_t n;
  static constexpr int64_t kGuard = 19;

  Buffer(int64_t n_, int64_t offset, float lo, float hi, uint32_t seed)
      : storage(static_cast<size_t>(n_ + offset + kGuard + 16)), n(n_) {
    auto addr = reinterpret_cast<uintptr_t>(storage.data());
    const auto align = static_cast<int64_t>((64 - addr % 64) % 64 / sizeof(float));
    data = storage.data() + align % 16 + offset;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uni(lo, hi);
    for (int64_t i = 0; i < n; ++i) data[i] = uni(rng);
    for (int64_t i = n; i < n + kGuard; ++i) data[i] = 1234.5f;
  }
  std::vector<double> values() const { return {data, data + n}; }
  bool guard_intact() const {
    for (int64_t i = n; i < n + kGuard; ++i) {
      if (data[i] != 1234.5f) return false;
    }
    return true;
  }
};

// Runs check(isa, n, offset, seed) over every level, size and misalignment.
void sweep(const std::function<void(const OpsKernels&, int64_t, int64_t, uint32_t)>& check) {
  uint32_t seed = 1;
  for (const Isa isa : available_isas()) {
    for (const int64_t n : kSizes) {
      for (const int64_t off : kOffsets) {
        SCOPED_TRACE(testing::Message() << isa_name(isa) << " n " << n << " offset " << off);
        check(kernels_for(isa).ops, n, off, seed++);
      }
    }
  }
}

TEST(Ops, RmsNorm) {
  sweep([](const OpsKernels& ops, int64_t n, int64_t off, uint32_t seed) {
    Buffer x(n, off, -3.0f, 3.0f, seed), w(n, 0, 0.5f, 1.5f, seed + 1000), out(n, off, 0, 1, 0);
    ops.rms_norm(x.data, w.data, out.data, n, 1e-5f);
    double sum_sq = 0;
    for (const double v : x.values()) sum_sq += v * v;
    const double scale = 1.0 / std::sqrt(sum_sq / static_cast<double>(n) + 1e-5);
    for (int64_t i = 0; i < n; ++i) {
      const double ref = x.data[i] * scale * w.data[i];
      // f32 sum of n squares: relative error <= n u; the rsqrt halves it; 4 roundings after.
      ASSERT_NEAR(out.data[i], ref, std::fabs(ref) * (static_cast<double>(n) * kU / 2 + 6 * kU)) << i;
    }
    ASSERT_TRUE(out.guard_intact());
  });
}

TEST(Ops, RmsNormInPlace) {
  sweep([](const OpsKernels& ops, int64_t n, int64_t off, uint32_t seed) {
    Buffer x(n, off, -3.0f, 3.0f, seed), w(n, 0, 0.5f, 1.5f, seed + 1000), out(n, off, 0, 1, 0);
    ops.rms_norm(x.data, w.data, out.data, n, 1e-5f);
    ops.rms_norm(x.data, w.data, x.data, n, 1e-5f);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(x.data[i], out.data[i]) << i;
  });
}

TEST(Ops, LayerNorm) {
  sweep([](const OpsKernels& ops, int64_t n, int64_t off, uint32_t seed) {
    Buffer x(n, off, -1.0f, 5.0f, seed), w(n, 0, 0.5f, 1.5f, seed + 1), b(n, 3, -1.0f, 1.0f, seed + 2);
    Buffer out(n, off, 0, 1, 0);
    ops.layer_norm(x.data, w.data, b.data, out.data, n, 1e-5f);
    double mean = 0, abs_sum = 0;
    for (const double v : x.values()) {
      mean += v;
      abs_sum += std::fabs(v);
    }
    mean /= static_cast<double>(n);
    double var = 0;
    for (const double v : x.values()) var += (v - mean) * (v - mean);
    const double inv = 1.0 / std::sqrt(var / static_cast<double>(n) + 1e-5);
    for (int64_t i = 0; i < n; ++i) {
      const double centred = x.data[i] - mean;
      const double ref = centred * inv * w.data[i] + b.data[i];
      // The f32 mean is off by <= n u mean|x|; the variance by <= (n + 2) u relative; then 4 roundings.
      const double mean_err = static_cast<double>(n) * kU * abs_sum / static_cast<double>(n);
      const double tol = (mean_err + std::fabs(centred) * ((static_cast<double>(n) + 2) * kU + 6 * kU)) * inv *
                             std::fabs(w.data[i]) + 2 * kU * std::fabs(ref) + kU * std::fabs(b.data[i]);
      ASSERT_NEAR(out.data[i], ref, tol) << i;
    }
    ASSERT_TRUE(out.guard_intact());
  });
}

TEST(Ops, Softmax) {
  sweep([](const OpsKernels& ops, int64_t n, int64_t off, uint32_t seed) {
    Buffer x(n, off, -30.0f, 10.0f, seed);
    const std::vector<double> in = x.values();
    ops.softmax(x.data, n);
    const double max_v = *std::max_element(in.begin(), in.end());
    double sum = 0;
    for (const double v : in) sum += std::exp(v - max_v);
    for (int64_t i = 0; i < n; ++i) {
      const double ref = std::exp(in[static_cast<size_t>(i)] - max_v) / sum;
      // x - max rounds by u |x - max|, an absolute error in the exponent; exp's bound (the sum
      // inherits it); the n-term f32 sum; 3 more roundings.
      const double shift = std::fabs(in[static_cast<size_t>(i)] - max_v);
      ASSERT_NEAR(x.data[i], ref, ref * (kU * shift + 2 * kExpRel + static_cast<double>(n) * kU + 4 * kU)) << i;
    }
    ASSERT_TRUE(x.guard_intact());
  });
}

TEST(Ops, SwiGlu) {
  sweep([](const OpsKernels& ops, int64_t n, int64_t off, uint32_t seed) {
    Buffer g(n, off, -20.0f, 20.0f, seed), up(n, 2, -2.0f, 2.0f, seed + 1);
    const std::vector<double> in = g.values();
    ops.swiglu(g.data, up.data, n);
    for (int64_t i = 0; i < n; ++i) {
      const double v = in[static_cast<size_t>(i)];
      const double ref = v / (1 + std::exp(-v)) * up.data[i];
      // sigmoid's relative error is at most exp's (e/(1+e) < 1), then add, divide, multiply.
      ASSERT_NEAR(g.data[i], ref, std::fabs(ref) * (kExpRel + 5 * kU)) << i;
    }
    ASSERT_TRUE(g.guard_intact());
  });
}

TEST(Ops, Gelu) {
  sweep([](const OpsKernels& ops, int64_t n, int64_t off, uint32_t seed) {
    Buffer x(n, off, -8.0f, 8.0f, seed);
    const std::vector<double> in = x.values();
    ops.gelu(x.data, n);
    for (int64_t i = 0; i < n; ++i) {
      const double v = in[static_cast<size_t>(i)];
      const double y = std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v);
      // 0.5 v (1 + tanh y), written as v / (1 + e^-2y) so that double keeps its precision for
      // y << 0 (1 + tanh y cancels); the two agree wherever tanh does not cancel.
      const double ref = v / (1 + std::exp(-2 * y));
      if (y > -3) {
        ASSERT_NEAR(ref, 0.5 * v * (1 + std::tanh(y)), 1e-12 * std::fabs(v));
      }
      // x sigma(2y): y carries ~5 roundings (5 u |y| absolute), which move sigma(2y) by
      // 2 (1 - sigma) |dy| <= 10 u |y| relative; exp's bound and 3 roundings on top.
      ASSERT_NEAR(x.data[i], ref, std::fabs(ref) * (kExpRel + 10 * kU * std::fabs(y) + 4 * kU) + 1e-30) << i;
    }
    ASSERT_TRUE(x.guard_intact());
  });
}

TEST(Ops, Add) {
  sweep([](const OpsKernels& ops, int64_t n, int64_t off, uint32_t seed) {
    Buffer y(n, off, -5.0f, 5.0f, seed), x(n, 1, -5.0f, 5.0f, seed + 1);
    const std::vector<double> before = y.values();
    ops.add(y.data, x.data, n);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y.data[i], static_cast<float>(before[static_cast<size_t>(i)] + x.data[i]));
    ASSERT_TRUE(y.guard_intact());
  });
}

TEST(Ops, Rope) {
  sweep([](const OpsKernels& ops, int64_t n, int64_t off, uint32_t seed) {
    const int64_t n_rot = 2 * n;
    for (const bool neox : {false, true}) {
      SCOPED_TRACE(neox ? "neox" : "adjacent");
      Buffer head(n_rot + 6, off, -2.0f, 2.0f, seed), cs(n_rot, 1, 0, 1, 0);
      for (int64_t i = 0; i < n; ++i) {  // unit (cos, sin) pairs of assorted angles
        cs.data[2 * i] = static_cast<float>(std::cos(0.37 * static_cast<double>(i) + 0.1));
        cs.data[2 * i + 1] = static_cast<float>(std::sin(0.37 * static_cast<double>(i) + 0.1));
      }
      const std::vector<double> in = head.values();
      ops.rope(head.data, n_rot, cs.data, neox);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t a = neox ? i : 2 * i;
        const int64_t b = neox ? i + n : 2 * i + 1;
        const double x0 = in[static_cast<size_t>(a)], x1 = in[static_cast<size_t>(b)];
        const double c = cs.data[2 * i], s = cs.data[2 * i + 1];
        // Two products and one sum: at most 2 u times the sum of the products' magnitudes.
        ASSERT_NEAR(head.data[a], x0 * c - x1 * s, 2 * kU * (std::fabs(x0 * c) + std::fabs(x1 * s))) << i;
        ASSERT_NEAR(head.data[b], x0 * s + x1 * c, 2 * kU * (std::fabs(x0 * s) + std::fabs(x1 * c))) << i;
      }
      for (int64_t i = n_rot; i < n_rot + 6; ++i) ASSERT_EQ(head.data[i], in[static_cast<size_t>(i)]);  // beyond n_rot
    }
  });
}

// exp itself: the stated relative bound where the result is a normal float, tiny results near 0,
// exact handling of 0, -inf (softmax masks) and overflow.
TEST(Ops, ExpWithinStatedBound) {
  for (const Isa isa : available_isas()) {
    SCOPED_TRACE(isa_name(isa));
    std::vector<float> x;
    for (double v = -87.3; v < 88.7; v += 0.0137) x.push_back(static_cast<float>(v));
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> small(-1e-3f, 1e-3f);
    for (int i = 0; i < 1000; ++i) x.push_back(small(rng));
    std::vector<float> y(x.size());
    kernels_for(isa).ops.exp(x.data(), y.data(), static_cast<int64_t>(x.size()));
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double ref = std::exp(static_cast<double>(x[i]));
      worst = std::max(worst, std::fabs(y[i] - ref) / ref);
    }
    EXPECT_LE(worst, kExpRel);
    const float specials[] = {0.0f, -INFINITY, -88.0f, -100.0f, -200.0f, 89.0f, INFINITY};
    float out[7];
    kernels_for(isa).ops.exp(specials, out, 7);
    EXPECT_EQ(out[0], 1.0f);
    EXPECT_EQ(out[1], 0.0f);
    EXPECT_LE(out[2], 1.2e-38f);  // below FLT_MIN: subnormal or 0
    EXPECT_LE(out[3], 1.2e-38f);
    EXPECT_EQ(out[4], 0.0f);
    EXPECT_EQ(out[5], INFINITY);
    EXPECT_EQ(out[6], INFINITY);
  }
}

// cpu/ops.h forwards to the chosen level.
TEST(Ops, FrontDispatchesToTheChosenLevel) {
  Buffer a(37, 1, -3, 3, 9), b(37, 1, -3, 3, 9), w(37, 0, 0.5f, 1.5f, 10);
  rms_norm(a.data, w.data, a.data, 37, 1e-6f);
  kernels().ops.rms_norm(b.data, w.data, b.data, 37, 1e-6f);
  for (int i = 0; i < 37; ++i) EXPECT_EQ(a.data[i], b.data[i]);
}

}  // namespace
}  // namespace rf::cpu
