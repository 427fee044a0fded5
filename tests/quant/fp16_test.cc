// f16/bf16 <-> f32 conversions against double-precision derivations: exhaustive decode, every
// rounding midpoint, and random f32 inputs checked against a nearest-value search.
#include "quant/fp16.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "reference_formats.h"

namespace rf {
namespace {

// The conversions are usable in constant expressions (1.0 = biased exponent 15 / 127, mantissa 0).
static_assert(f32_to_fp16(1.0f) == 0x3c00 && fp16_to_f32(0x3c00) == 1.0f);
static_assert(f32_to_bf16(-2.0f) == 0xc000 && bf16_to_f32(0xc000) == -2.0f);

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }

// Positive finite values of a 16-bit format in code order (which is value order), with the
// infinity code standing in for the first value past the largest finite one (2^16 for f16,
// 2^128 for bf16): IEEE rounding overflows to inf exactly when that value would be nearest.
std::vector<double> positive_grid(double (*decode)(uint16_t), uint16_t inf_code, double past_max) {
  std::vector<double> grid;
  for (uint32_t c = 0; c < inf_code; ++c) grid.push_back(decode(static_cast<uint16_t>(c)));
  grid.push_back(past_max);
  return grid;
}

// Nearest code to x (finite) on the grid, ties to the even code; the sign goes in bit 15.
uint16_t nearest_code(const std::vector<double>& grid, double x) {
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::fabs(x);
  if (a >= grid.back()) return static_cast<uint16_t>(sign | (grid.size() - 1));
  const auto above = std::upper_bound(grid.begin(), grid.end(), a);  // first > a; never begin()
  const auto k = static_cast<uint16_t>(above - grid.begin() - 1);
  const double below_gap = a - grid[k];
  const double above_gap = grid[k + 1u] - a;
  uint16_t code = k;
  if (above_gap < below_gap || (above_gap == below_gap && (k & 1))) code = static_cast<uint16_t>(k + 1);
  return static_cast<uint16_t>(sign | code);
}

// Random f32s: half with exponents around the 16-bit formats' ranges, half any bit pattern.
std::vector<float> random_floats(int count, int min_exp, int max_exp, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<uint32_t> any;
  std::uniform_int_distribution<int> exp(min_exp + 127, max_exp + 127);
  std::vector<float> out;
  for (int i = 0; i < count; ++i) {
    uint32_t u = any(rng);
    if (i % 2 == 0) u = (u & 0x807fffffu) | (static_cast<uint32_t>(exp(rng)) << 23);
    out.push_back(std::bit_cast<float>(u));
  }
  return out;
}

TEST(Fp16, DecodeIsExactForEveryCode) {
  for (uint32_t c = 0; c < 65536; ++c) {
    const auto h = static_cast<uint16_t>(c);
    const float got = fp16_to_f32(h);
    const double want = test::half_value(h);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << c;
      // Payload and sign carried into the top of the f32 mantissa.
      ASSERT_EQ(bits(got), ((c & 0x8000u) << 16) | 0x7f800000u | ((c & 0x3ffu) << 13)) << c;
    } else {
      ASSERT_EQ(bits(got), bits(static_cast<float>(want))) << c;  // also checks the sign of zero
    }
  }
}

TEST(Fp16, EveryCodeRoundTripsThroughF32) {
  for (uint32_t c = 0; c < 65536; ++c) {
    const auto h = static_cast<uint16_t>(c);
    const uint16_t back = f32_to_fp16(fp16_to_f32(h));
    if ((c & 0x7c00u) == 0x7c00u && (c & 0x3ffu) != 0) {
      // NaN: stays NaN with its sign; a signalling NaN comes back quieted.
      ASSERT_EQ(back & 0xfc00u, c & 0xfc00u) << c;
      ASSERT_EQ(back, static_cast<uint16_t>(c | 0x200u)) << c;
    } else {
      ASSERT_EQ(back, h) << c;
    }
  }
}

TEST(Fp16, MidpointsRoundToEvenAndNeighboursToNearest) {
  const auto grid = positive_grid(test::half_value, 0x7c00, 65536.0);
  for (uint16_t k = 0; k + 1u < grid.size(); ++k) {
    const double mid = (grid[k] + grid[k + 1u]) / 2;  // exact: needs one more bit than a half
    const auto mid_f = static_cast<float>(mid);
    ASSERT_EQ(static_cast<double>(mid_f), mid);
    const uint16_t even = (k & 1) ? static_cast<uint16_t>(k + 1) : k;
    for (const float sign : {1.0f, -1.0f}) {
      const uint16_t s = sign < 0 ? 0x8000 : 0;
      ASSERT_EQ(f32_to_fp16(sign * mid_f), s | even) << k;
      ASSERT_EQ(f32_to_fp16(sign * std::nextafter(mid_f, 0.0f)), s | k) << k;
      ASSERT_EQ(f32_to_fp16(sign * std::nextafter(mid_f, INFINITY)), s | (k + 1)) << k;
    }
  }
}

TEST(Fp16, RandomF32RoundsToNearestHalf) {
  const auto grid = positive_grid(test::half_value, 0x7c00, 65536.0);
  for (const float f : random_floats(1 << 19, -27, 17, 1234)) {
    const uint16_t got = f32_to_fp16(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(fp16_to_f32(got))) << bits(f);
      ASSERT_EQ(got & 0x8000u, (bits(f) >> 16) & 0x8000u);
    } else {
      ASSERT_EQ(got, nearest_code(grid, f)) << "f32 bits " << bits(f);
    }
  }
}

TEST(Fp16, InfinityAndOverflow) {
  EXPECT_EQ(f32_to_fp16(INFINITY), 0x7c00);
  EXPECT_EQ(f32_to_fp16(-INFINITY), 0xfc00);
  EXPECT_EQ(f32_to_fp16(1e30f), 0x7c00);
  EXPECT_EQ(f32_to_fp16(-std::numeric_limits<float>::max()), 0xfc00);
  EXPECT_TRUE(std::isinf(fp16_to_f32(0x7c00)));
}

TEST(Bf16, DecodeIsExactForEveryCode) {
  for (uint32_t c = 0; c < 65536; ++c) {
    const auto b = static_cast<uint16_t>(c);
    const float got = bf16_to_f32(b);
    const double want = test::bf16_value(b);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << c;
    } else {
      ASSERT_EQ(bits(got), bits(static_cast<float>(want))) << c;
    }
  }
}

TEST(Bf16, EveryCodeRoundTripsThroughF32) {
  for (uint32_t c = 0; c < 65536; ++c) {
    const auto b = static_cast<uint16_t>(c);
    const uint16_t back = f32_to_bf16(bf16_to_f32(b));
    if ((c & 0x7f80u) == 0x7f80u && (c & 0x7fu) != 0) {
      ASSERT_EQ(back, static_cast<uint16_t>(c | 0x40u)) << c;  // NaN, quieted, sign kept
    } else {
      ASSERT_EQ(back, b) << c;
    }
  }
}

TEST(Bf16, RandomF32RoundsToNearestBf16) {
  const auto grid = positive_grid(test::bf16_value, 0x7f80, std::ldexp(1.0, 128));
  for (const float f : random_floats(1 << 19, -140, 127, 99)) {
    const uint16_t got = f32_to_bf16(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(bf16_to_f32(got))) << bits(f);
    } else {
      ASSERT_EQ(got, nearest_code(grid, f)) << "f32 bits " << bits(f);
    }
  }
}

TEST(Bf16, MidpointsRoundToEven) {
  const auto grid = positive_grid(test::bf16_value, 0x7f80, std::ldexp(1.0, 128));
  for (uint16_t k = 0; k + 1u < grid.size(); ++k) {
    const auto mid_f = static_cast<float>((grid[k] + grid[k + 1u]) / 2);
    const uint16_t even = (k & 1) ? static_cast<uint16_t>(k + 1) : k;
    ASSERT_EQ(f32_to_bf16(mid_f), even) << k;
    ASSERT_EQ(f32_to_bf16(-mid_f), 0x8000 | even) << k;
  }
}

}  // namespace
}  // namespace rf
