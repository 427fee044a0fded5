// quantize_row -> dequantize_row round trips: error bounds derived per format, the "nearest level
// for the stored scales" property of every quantizer, outliers, and degenerate inputs.
#include "quant/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "quant/dequantize.h"
#include "reference_formats.h"

namespace rf {
namespace {

constexpr int kSuper = 256;  // super-block size; also a whole number of 32-element blocks

struct Encoded {
  std::vector<uint8_t> bytes;
  std::vector<float> decoded;
  const uint8_t* block(const DTypeInfo& info, int64_t i) const {
    return bytes.data() + (i / info.block_size) * info.block_bytes;
  }
};

Encoded round_trip(DType type, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  const size_t size = *row_bytes(type, x.size());
  Encoded e;
  e.bytes.assign(size + 5, 0xa5);  // guard bytes past the row must survive
  quantize_row(type, x.data(), e.bytes.data(), n);
  for (size_t i = size; i < e.bytes.size(); ++i) EXPECT_EQ(e.bytes[i], 0xa5) << dtype_name(type);
  e.bytes.resize(size);
  e.decoded.resize(x.size());
  dequantize_row(type, e.bytes.data(), e.decoded.data(), n);
  return e;
}

std::vector<float> gaussian(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = normal(rng);
  return x;
}

double rms(const std::vector<float>& x, int64_t begin, int64_t end) {
  double s = 0;
  for (int64_t i = begin; i < end; ++i) s += static_cast<double>(x[i]) * x[i];
  return std::sqrt(s / static_cast<double>(end - begin));
}

double rms_error(const std::vector<float>& x, const std::vector<float>& y, int64_t begin, int64_t end) {
  double s = 0;
  for (int64_t i = begin; i < end; ++i) s += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
  return std::sqrt(s / static_cast<double>(end - begin));
}


// ---- Per-format description used by the checks below ----

struct Format {
  DType type;
  int group;          // elements sharing one step (the unit of the naive rounding model)
  double levels;      // step = amax / levels (symmetric) or range / levels (affine)
  bool affine;        // range = max - min (k-quants: max - min(min, 0)), else amax
  double model_ratio; // measured RMS error <= model_ratio * naive-rounding model (see below)
  double gauss_bound; // RMS error / RMS data for N(0, 1) data must stay below this
  double outlier_rel; // |error| / |x| allowed on an isolated outlier
};

// Naive model: every element rounded on a uniform grid whose step is the group's span over its
// levels; rounding error is then uniform in +-step/2, RMS step / sqrt(12). For N(0, 1) data,
// E[max|x| of 32] ~= 2.07 gives e.g. q8_0 2.07 / 127 / sqrt(12) ~= 0.0047 and q4_0 (step amax/8)
// ~= 0.075 plus clipping of the opposite extreme; measured 0.0054 and 0.087 on these seeds.
// Plain rounders (q*_0, q*_1, q8_K) must match the model within 5%; the k-quant searches
// (make_qkx2_quants, make_qx_quants) exist to beat it and must come in 5% under it.
const Format kFormats[] = {
    {DType::kQ8_0, 32, 127, false, 1.05, 0.0062, 1.0 / 254 + 2e-3},
    {DType::kQ4_0, 32, 8, false, 1.05, 0.095, 2e-3},
    {DType::kQ5_0, 32, 16, false, 1.05, 0.048, 2e-3},
    {DType::kQ4_1, 32, 15, true, 1.05, 0.088, 0.045},
    {DType::kQ5_1, 32, 31, true, 1.05, 0.043, 0.025},
    {DType::kQ4_K, 32, 15, true, 0.95, 0.08, 0.05},
    {DType::kQ5_K, 32, 31, true, 0.95, 0.04, 0.03},
    {DType::kQ6_K, 16, 32, false, 0.95, 0.019, 0.03},
    {DType::kQ8_K, 256, 127, false, 1.05, 0.0078, 1.0 / 254 + 1e-6},
};

void PrintTo(const Format& f, std::ostream* os) { *os << dtype_name(f.type); }

bool is_k_quant(DType t) { return t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ6_K; }

double naive_model_rms(const Format& f, const std::vector<float>& x, int64_t begin, int64_t end) {
  double sum = 0;
  for (int64_t b = begin; b < end; b += f.group) {
    double lo = x[b], hi = x[b], amax = 0;
    for (int64_t i = b; i < b + f.group; ++i) {
      lo = std::min(lo, static_cast<double>(x[i]));
      hi = std::max(hi, static_cast<double>(x[i]));
      amax = std::max(amax, std::fabs(static_cast<double>(x[i])));
    }
    if (is_k_quant(f.type)) lo = std::min(lo, 0.0);
    const double step = (f.affine ? hi - lo : amax) / f.levels;
    sum += f.group * step * step / 12;
  }
  return std::sqrt(sum / static_cast<double>(end - begin));
}

// Checks every element against what its format guarantees given the block's stored scales, which
// the test decodes itself (reference_formats.h). Returns the number of elements checked.
//  - q8_0 / q4_0 / q5_0: x rounded on the grid d32 * q, d32 = signed max / -levels computed here
//    in f32 as the format defines; the stored f16 d differs from d32 by its rounding, which moves
//    level q by |q| * |d32 - d16|. Levels above top are clipped (q4_0: the opposite extreme).
//  - q4_1 / q5_1: grid min + d32 * q, d32 = (max - min) / top; f16 rounding of d and m as above.
//  - q8_K: f32 d stored exactly: |err| <= |d| / 2.
//  - q4_K / q5_K / q6_K: the final pass rounds each element to the nearest level of the stored
//    (decoded) scale and min, so the error must not exceed the distance to the nearest level.
void check_levels(DType type, const std::vector<float>& x, const Encoded& e) {
  const DTypeInfo& info = dtype_info(type);
  const auto n = static_cast<int64_t>(x.size());
  for (int64_t b = 0; b < n; b += info.block_size) {
    const uint8_t* blk = e.block(info, b);
    float lo = x[b], hi = x[b], smax = 0, amax = 0;
    for (int64_t i = b; i < b + info.block_size; ++i) {
      lo = std::min(lo, x[i]);
      hi = std::max(hi, x[i]);
      if (std::fabs(x[i]) > amax) {
        amax = std::fabs(x[i]);
        smax = x[i];
      }
    }
    for (int64_t i = b; i < b + info.block_size; ++i) {
      const double err = std::fabs(static_cast<double>(e.decoded[i]) - x[i]);
      const int j = static_cast<int>(i - b);
      double bound = 0;
      switch (type) {
        case DType::kQ8_0:
        case DType::kQ4_0:
        case DType::kQ5_0: {
          const int half = type == DType::kQ8_0 ? 127 : type == DType::kQ4_0 ? 8 : 16;
          const double d32 = type == DType::kQ8_0 ? amax / 127.0f : smax / static_cast<float>(-half);
          const double d16 = test::half_at(blk);
          const int top = type == DType::kQ8_0 ? 127 : half - 1;
          const double clip = std::max(0.0, x[i] / d32 - top);  // beyond the top level, in steps
          bound = std::fabs(d32) * (0.5 + clip) + half * std::fabs(d32 - d16);
          break;
        }
        case DType::kQ4_1:
        case DType::kQ5_1: {
          const int top = type == DType::kQ4_1 ? 15 : 31;
          const double d32 = (hi - lo) / static_cast<float>(top);
          bound = d32 / 2 + top * std::fabs(d32 - test::half_at(blk)) + std::fabs(lo - test::half_at(blk + 2));
          break;
        }
        case DType::kQ8_K: {
          float d;
          std::memcpy(&d, blk, sizeof(d));
          bound = std::fabs(d) / 2;
          break;
        }
        case DType::kQ4_K:
        case DType::kQ5_K: {
          int sc, m;
          test::k4_scale_min(blk + 4, j / 32, sc, m);
          const double step = test::half_at(blk) * sc;
          const double offset = test::half_at(blk + 2) * m;
          const int top = type == DType::kQ4_K ? 15 : 31;
          if (step == 0) {
            bound = std::fabs(x[i] + offset);  // the whole sub-block decodes to -offset
          } else {
            const double q = std::clamp(std::round((x[i] + offset) / step), 0.0, static_cast<double>(top));
            bound = std::fabs(step * q - offset - x[i]);
          }
          bound += 1e-6 * (std::fabs(step) * top + std::fabs(offset));
          break;
        }
        case DType::kQ6_K: {
          const double step = test::half_at(blk + 208) * static_cast<int8_t>(blk[192 + j / 16]);
          if (step == 0) {
            bound = std::fabs(x[i]);
          } else {
            const double q = std::clamp(std::round(x[i] / step), -32.0, 31.0);
            bound = std::fabs(step * q - x[i]);
          }
          bound += 1e-6 * std::fabs(step) * 32;
          break;
        }
        default: FAIL() << "no level check for " << info.name;
      }
      // Slack for the f32 arithmetic of the quantizer (x * (1/d) instead of x / d, etc.).
      bound += 1e-6 * amax;
      ASSERT_LE(err, bound) << info.name << " element " << i << " x=" << x[i] << " got " << e.decoded[i];
    }
  }
}

std::string param_name(const ::testing::TestParamInfo<Format>& info) {
  return std::string(dtype_name(info.param.type));
}

class QuantizeRoundTrip : public ::testing::TestWithParam<Format> {};

TEST_P(QuantizeRoundTrip, GaussianErrorWithinFormatBounds) {
  const Format& f = GetParam();
  // 11 super-blocks: an odd count of blocks for every format (11 or 88 or 176).
  for (const uint32_t seed : {1u, 2u}) {
    const auto x = gaussian(11 * kSuper, seed);
    const auto e = round_trip(f.type, x);
    const auto n = static_cast<int64_t>(x.size());
    check_levels(f.type, x, e);
    const double err = rms_error(x, e.decoded, 0, n);
    EXPECT_LE(err, f.model_ratio * naive_model_rms(f, x, 0, n)) << dtype_name(f.type);
    EXPECT_LE(err / rms(x, 0, n), f.gauss_bound) << dtype_name(f.type);
    EXPECT_GT(err, 0.0);  // a lossy format that reproduced random data exactly would be suspect
  }
}

TEST_P(QuantizeRoundTrip, OutliersStayAccurateAndContained) {
  const Format& f = GetParam();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> magnitude(20.0f, 60.0f);
  auto x = gaussian(9 * kSuper, 3);
  // Two isolated outliers in every odd super-block, in different 16- and 32-element groups.
  std::vector<int64_t> outliers;
  for (int64_t sb = 1; sb < 9; sb += 2) {
    for (const int pos : {37, 200}) {
      const int64_t i = sb * kSuper + pos;
      x[i] = (rng() & 1 ? 1.0f : -1.0f) * magnitude(rng);
      outliers.push_back(i);
    }
  }
  const auto e = round_trip(f.type, x);
  check_levels(f.type, x, e);
  for (const int64_t i : outliers) {
    EXPECT_LE(std::fabs(e.decoded[i] - x[i]), f.outlier_rel * std::fabs(x[i]))
        << dtype_name(f.type) << " outlier " << x[i] << " -> " << e.decoded[i];
  }
  // Clean super-blocks keep their Gaussian accuracy whatever their neighbours hold.
  for (int64_t sb = 0; sb < 9; sb += 2) {
    const int64_t b = sb * kSuper, end = b + kSuper;
    EXPECT_LE(rms_error(x, e.decoded, b, end), f.model_ratio * naive_model_rms(f, x, b, end) * 1.1)
        << dtype_name(f.type) << " super-block " << sb;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, QuantizeRoundTrip, ::testing::ValuesIn(kFormats), param_name);

// Degenerate blocks: constants of either sign, negative-only data, and magnitudes from tiny down
// to f32 subnormals must encode without NaN/inf. Constants are reproduced up to the f16 rounding
// of the scale (relative 2^-11, a few roundings: 2e-3) as long as that scale is a normal f16
// (q6_K: |c| / 32 / 128 >= 2^-14, so |c| >= 0.25); below, f16 subnormals leave less precision.
TEST_P(QuantizeRoundTrip, DegenerateBlocksStayFinite) {
  const Format& f = GetParam();
  const int64_t n = 3 * kSuper;
  const auto check_finite = [&](const std::vector<float>& x, const Encoded& e, const char* what) {
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_TRUE(std::isfinite(e.decoded[i])) << dtype_name(f.type) << " " << what << " x=" << x[i];
    }
  };
  for (const float c : {3.7f, -2.5f, 0.3f, -6e4f}) {
    const std::vector<float> x(n, c);
    const auto e = round_trip(f.type, x);
    check_finite(x, e, "constant");
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_NEAR(e.decoded[i], c, 2e-3 * std::fabs(c)) << dtype_name(f.type) << " constant " << c;
    }
  }
  {
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> neg(-3.0f, -0.1f);
    std::vector<float> x(n);
    for (auto& v : x) v = neg(rng);
    const auto e = round_trip(f.type, x);
    check_finite(x, e, "negative");
    check_levels(f.type, x, e);
    EXPECT_LE(rms_error(x, e.decoded, 0, n), f.model_ratio * naive_model_rms(f, x, 0, n)) << dtype_name(f.type);
  }
  // Tiny: f16 subnormal scales (1e-6), scales that round to 0 in f16 (1e-12), f32 subnormals.
  for (const float scale : {1e-6f, 1e-12f, 1e-30f, 1e-40f}) {
    auto x = gaussian(n, 5);
    for (auto& v : x) v *= scale;
    std::fill(x.begin() + kSuper, x.begin() + 2 * kSuper, 0.0f);  // an all-zero block between
    const auto e = round_trip(f.type, x);
    check_finite(x, e, "tiny");
    for (int64_t i = 0; i < n; ++i) {
      // Never larger than the data's own magnitude scale: decoding noise, not garbage.
      ASSERT_LE(std::fabs(e.decoded[i] - x[i]), 8 * scale + 1e-7f) << dtype_name(f.type) << " scale " << scale;
    }
  }
}

TEST(QuantizeQ8K, BlockSumsMatchQuantsAndSignedMaxIsExact) {
  const auto x = gaussian(5 * kSuper, 21);
  const auto e = round_trip(DType::kQ8_K, x);
  for (int64_t b = 0; b < 5; ++b) {
    const uint8_t* blk = e.bytes.data() + b * 292;
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += static_cast<int8_t>(blk[4 + 16 * g + i]);
      EXPECT_EQ(sum, static_cast<int16_t>(test::le16(blk + 260 + 2 * g))) << "block " << b << " group " << g;
    }
    // The signed max maps to level -127, so d * -127 reproduces it to f32 rounding.
    float amax = 0, smax = 0;
    for (int64_t i = b * kSuper; i < (b + 1) * kSuper; ++i) {
      if (std::fabs(x[i]) > amax) {
        amax = std::fabs(x[i]);
        smax = x[i];
      }
    }
    float d;
    std::memcpy(&d, blk, sizeof(d));
    EXPECT_NEAR(d * -127.0f, smax, 1e-6f * amax);
  }
}

TEST(QuantizeFloat, F32ExactF16AndBf16RoundToNearest) {
  auto x = gaussian(333, 8);
  x[0] = 1e-6f;  // an f16 subnormal
  x[1] = -70000.0f;  // beyond f16: inf
  const auto f32 = round_trip(DType::kF32, x);
  const auto f16 = round_trip(DType::kF16, x);
  const auto bf16 = round_trip(DType::kBF16, x);
  EXPECT_EQ(f32.decoded, x);
  EXPECT_TRUE(std::isinf(f16.decoded[1]) && f16.decoded[1] < 0);
  for (size_t i = 0; i < x.size(); ++i) {
    if (i == 1) continue;
    const double a = std::fabs(static_cast<double>(x[i]));
    // Half an ulp: 2^-11 relative for normal f16 (2^-25 absolute below 2^-14), 2^-8 for bf16.
    EXPECT_LE(std::fabs(f16.decoded[i] - x[i]), std::max(a * std::ldexp(1.0, -11), std::ldexp(1.0, -25))) << i;
    EXPECT_LE(std::fabs(bf16.decoded[i] - x[i]), a * std::ldexp(1.0, -8)) << i;
  }
}

TEST(QuantizeDeathTest, RejectsPartialBlocksAndUnsupportedTypes) {
  const std::vector<float> x(512, 1.0f);
  std::vector<uint8_t> out(2048);
  EXPECT_DEATH(quantize_row(DType::kQ4_K, x.data(), out.data(), 300), "internal check failed");
  EXPECT_DEATH(quantize_row(DType::kQ3_K, x.data(), out.data(), 256), "internal check failed");
  EXPECT_FALSE(can_quantize(DType::kQ2_K));
  EXPECT_TRUE(can_quantize(DType::kQ6_K));
}

}  // namespace
}  // namespace rf
