// q4_K / q5_K / q6_K gemm and q8_K activation quantization of every ISA level against the scalar
// level and against double-precision references built from the reference dequantizers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/kernels.h"
#include "quant/blocks.h"
#include "quant/dequantize.h"
#include "quant/fp16.h"
#include "quant/quantize.h"

namespace rf::cpu {
namespace {

constexpr DType kTypes[] = {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};
constexpr int64_t kMaxRows = 33;
constexpr int64_t kMaxCols = 64;
// Misalignment of the weight and activation buffers from a 64-byte boundary: the formats need only
// 2-byte (f16 fields) and 4-byte (q8_K's float d) alignment.
constexpr size_t kWeightOffset = 2;
constexpr size_t kActOffset = 4;

// f32 rounding in a kernel (products d * d_a * sumi, lane sums, the final reduction) stays within
// this fraction of Σ|w·a|; the sums are at most a few thousand terms.
constexpr double kF32Tolerance = 1e-5;

std::string label(DType type, Isa isa) {
  return std::string(dtype_name(type)) + "/" + std::string(isa_name(isa));
}

// Byte offsets of the f16 fields (d, dmin) of one block.
std::vector<int> half_fields(DType type) {
  return type == DType::kQ6_K ? std::vector<int>{208} : std::vector<int>{0, 2};
}

// A weight matrix: random rows (every bit pattern of quants and scales, random f16 d/dmin of any
// sign, including the extremes the SIMD code must not overflow on) alternating with rows the
// reference quantizer made from Gaussian data (the shapes real models have).
struct Weights {
  std::vector<uint8_t> storage;
  const uint8_t* data = nullptr;
  uint64_t stride = 0;
  std::vector<float> dequantized;  // kMaxRows x k
};

Weights make_weights(DType type, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  const uint64_t row = *row_bytes(type, static_cast<uint64_t>(k));
  Weights w;
  w.stride = row + 6;  // padding between rows: the kernel must honour w_stride
  // The buffer ends at the last row's last byte, so a sanitizer sees any read past it.
  w.storage.resize(kWeightOffset + w.stride * (kMaxRows - 1) + row);
  w.data = w.storage.data() + kWeightOffset;
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::uniform_real_distribution<float> log_scale(-12.0f, -4.0f);
  const uint32_t block_bytes = dtype_info(type).block_bytes;
  std::vector<float> x(static_cast<size_t>(k));
  for (int64_t r = 0; r < kMaxRows; ++r) {
    auto* dst = const_cast<uint8_t*>(w.data) + r * w.stride;
    if (r % 2 == 1) {
      for (float& v : x) v = gauss(rng);
      quantize_row(type, x.data(), dst, k);
      continue;
    }
    for (uint64_t i = 0; i < row; ++i) dst[i] = static_cast<uint8_t>(rng());
    for (int64_t b = 0; b < k / kSuperBlockSize; ++b) {
      for (const int off : half_fields(type)) {
        const float sign = rng() % 2 == 0 ? 1.0f : -1.0f;
        const uint16_t h = f32_to_fp16(sign * std::exp2(log_scale(rng)));
        std::memcpy(dst + b * block_bytes + off, &h, sizeof(h));
      }
    }
  }
  w.dequantized.resize(static_cast<size_t>(kMaxRows * k));
  for (int64_t r = 0; r < kMaxRows; ++r) {
    dequantize_row(type, w.data + r * w.stride, w.dequantized.data() + r * k, k);
  }
  return w;
}

// Activations: Gaussian rows whose 256-blocks have magnitudes from 1e-3 to 1e2, with outliers.
std::vector<float> make_activations(int64_t k, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::uniform_real_distribution<float> log_mag(-3.0f, 2.0f);
  std::vector<float> x(static_cast<size_t>(k * n));
  for (int64_t b = 0; b < k * n / kSuperBlockSize; ++b) {
    const float mag = std::pow(10.0f, log_mag(rng));
    for (int64_t j = 0; j < kSuperBlockSize; ++j) {
      float v = mag * gauss(rng);
      if (rng() % 97 == 0) v *= 20.0f;
      x[static_cast<size_t>(b * kSuperBlockSize + j)] = v;
    }
  }
  return x;
}

struct Activations {
  std::vector<uint8_t> storage;
  const uint8_t* data = nullptr;
  uint64_t stride = 0;
  std::vector<float> dequantized;  // kMaxCols x k
  std::vector<float> step;         // per 256-block: the q8_K scale d (one quantization step)
};

Activations quantize_activations(const GemmKernel& kernel, const std::vector<float>& x, int64_t k) {
  Activations a;
  a.stride = act_row_bytes(ActFormat::kQ8K, k) + 12;
  a.storage.resize(kActOffset + a.stride * (kMaxCols - 1) + act_row_bytes(ActFormat::kQ8K, k));
  a.data = a.storage.data() + kActOffset;
  for (int64_t c = 0; c < kMaxCols; ++c) {
    kernel.quantize_act(x.data() + c * k, const_cast<uint8_t*>(a.data) + c * a.stride, k);
  }
  a.dequantized.resize(x.size());
  for (int64_t c = 0; c < kMaxCols; ++c) {
    const uint8_t* row = a.data + c * a.stride;
    dequantize_row(DType::kQ8_K, row, a.dequantized.data() + c * k, k);
    for (int64_t b = 0; b < k / kSuperBlockSize; ++b) {
      float d;
      std::memcpy(&d, row + b * sizeof(BlockQ8_K), sizeof(d));
      a.step.push_back(d);
    }
  }
  return a;
}

// All products of one (type, k) case, in double: kMaxCols x kMaxRows, [c * kMaxRows + r].
struct Reference {
  std::vector<double> quantized;   // dequant(w) · dequant(a)
  std::vector<double> magnitude;   // Σ|dequant(w) · dequant(a)|
  std::vector<double> exact;       // dequant(w) · x (unquantized activations)
  std::vector<double> act_bound;   // bound on |quantized - exact|, see below
};

Reference make_reference(const Weights& w, const Activations& a, const std::vector<float>& x, int64_t k) {
  Reference ref;
  const auto n = static_cast<size_t>(kMaxRows * kMaxCols);
  ref.quantized.resize(n);
  ref.magnitude.resize(n);
  ref.exact.resize(n);
  ref.act_bound.resize(n);
  const int64_t nb = k / kSuperBlockSize;
  for (int64_t c = 0; c < kMaxCols; ++c) {
    for (int64_t r = 0; r < kMaxRows; ++r) {
      double q = 0, mag = 0, e = 0, bound = 0, xmag = 0;
      for (int64_t j = 0; j < k; ++j) {
        const double wv = w.dequantized[static_cast<size_t>(r * k + j)];
        const double av = a.dequantized[static_cast<size_t>(c * k + j)];
        const double xv = x[static_cast<size_t>(c * k + j)];
        q += wv * av;
        mag += std::fabs(wv * av);
        e += wv * xv;
        xmag += std::fabs(wv * xv);
        // q8_K rounds x * iscale to the nearest integer, so |x - q * d| <= d / 2; the f32 product
        // x * iscale and d = 1 / iscale each round once more (relative 2^-24 on values <= 127),
        // covered by the 1e-4 step margin.
        bound += std::fabs(wv) * std::fabs(a.step[static_cast<size_t>(c * nb + j / kSuperBlockSize)]) * 0.5001;
      }
      const auto i = static_cast<size_t>(c * kMaxRows + r);
      ref.quantized[i] = q;
      ref.magnitude[i] = mag;
      ref.exact[i] = e;
      ref.act_bound[i] = bound + kF32Tolerance * (mag + xmag);
    }
  }
  return ref;
}

// Runs one kernel on an (n_rows x n_cols) corner; unwritten output slots must keep their sentinel.
std::vector<float> run_gemm(const GemmKernel& kernel, const Weights& w, const Activations& a, int64_t k,
                            int64_t n_rows, int64_t n_cols, int64_t out_stride) {
  constexpr float kSentinel = -7777.0f;
  std::vector<float> out(static_cast<size_t>(n_cols * out_stride), kSentinel);
  GemmArgs g;
  g.k = k;
  g.w = w.data;
  g.w_stride = w.stride;
  g.n_rows = n_rows;
  g.a = a.data;
  g.a_stride = a.stride;
  g.n_cols = n_cols;
  g.out = out.data();
  g.out_stride = out_stride;
  kernel.gemm(g);
  for (int64_t c = 0; c < n_cols; ++c) {
    for (int64_t r = n_rows; r < out_stride; ++r) {
      EXPECT_EQ(out[static_cast<size_t>(c * out_stride + r)], kSentinel) << "wrote past n_rows at c=" << c;
    }
  }
  return out;
}

TEST(KQuantGemm, EveryIsaMatchesScalarAndDoubleReferences) {
  const GemmKernel* scalar[std::size(kTypes)];
  for (size_t i = 0; i < std::size(kTypes); ++i) scalar[i] = &kernels_for(Isa::kScalar).for_type(kTypes[i]);
  uint32_t seed = 1;
  for (size_t ti = 0; ti < std::size(kTypes); ++ti) {
    const DType type = kTypes[ti];
    ASSERT_EQ(scalar[ti]->act, ActFormat::kQ8K) << dtype_name(type);
    for (const int64_t blocks : {1, 2, 3, 7, 11}) {
      const int64_t k = blocks * kSuperBlockSize;
      const Weights w = make_weights(type, k, seed++);
      const std::vector<float> x = make_activations(k, kMaxCols, seed++);
      const Activations a = quantize_activations(*scalar[ti], x, k);
      const Reference ref = make_reference(w, a, x, k);
      const std::vector<float> base = run_gemm(*scalar[ti], w, a, k, kMaxRows, kMaxCols, kMaxRows);
      for (size_t i = 0; i < base.size(); ++i) {
        ASSERT_NEAR(base[i], ref.quantized[i], kF32Tolerance * ref.magnitude[i]) << dtype_name(type) << " k=" << k;
        ASSERT_NEAR(base[i], ref.exact[i], ref.act_bound[i]) << dtype_name(type) << " k=" << k;
      }
      for (const Isa isa : available_isas()) {
        const GemmKernel& kernel = kernels_for(isa).for_type(type);
        ASSERT_EQ(kernel.act, ActFormat::kQ8K) << label(type, isa);
        for (const int64_t n_rows : {1, 3, 5, 17, 33}) {
          for (const int64_t n_cols : {1, 2, 3, 5, 7, 13, 64}) {
            const int64_t out_stride = n_rows + 3;
            const std::vector<float> out = run_gemm(kernel, w, a, k, n_rows, n_cols, out_stride);
            for (int64_t c = 0; c < n_cols; ++c) {
              for (int64_t r = 0; r < n_rows; ++r) {
                const auto i = static_cast<size_t>(c * kMaxRows + r);
                const float got = out[static_cast<size_t>(c * out_stride + r)];
                const double tol = kF32Tolerance * ref.magnitude[i];
                ASSERT_NEAR(got, base[i], tol) << label(type, isa) << " k=" << k << " r=" << r << " c=" << c
                                               << " rows=" << n_rows << " cols=" << n_cols;
                ASSERT_NEAR(got, ref.quantized[i], tol) << label(type, isa) << " k=" << k << " r=" << r;
              }
            }
          }
        }
      }
    }
  }
}

// Inputs that exercise the q8_K quantizer's corner cases: ties at .5 steps, a negative extreme,
// the first of equal-magnitude extremes, a block of equal values, a block of zeros among others,
// huge and tiny magnitudes.
std::vector<float> tricky_activations(int64_t k, uint32_t seed) {
  std::vector<float> x = make_activations(k, 1, seed);
  const int64_t nb = k / kSuperBlockSize;
  for (int64_t b = 0; b < nb; ++b) {
    float* v = x.data() + b * kSuperBlockSize;
    switch (b % 7) {
      case 0:  // max 127 makes iscale -1: values k + 0.5 are exact ties
        v[3] = 127.0f;
        for (int j = 10; j < 60; ++j) v[j] = static_cast<float>(j - 35) + 0.5f;
        break;
      case 1: v[200] = -1e4f; break;
      case 2:
        v[17] = 50.0f;
        v[90] = -50.0f;
        break;
      case 3:
        for (int j = 0; j < kSuperBlockSize; ++j) v[j] = -0.25f;
        break;
      case 4:
        for (int j = 0; j < kSuperBlockSize; ++j) v[j] = 0.0f;
        break;
      case 5:
        for (int j = 0; j < kSuperBlockSize; ++j) v[j] *= 1e-30f;
        break;
      default: v[255] = 3e30f; break;
    }
  }
  return x;
}

TEST(KQuantActivations, EveryIsaQuantizesBitExactlyAsScalar) {
  const GemmKernel& scalar = kernels_for(Isa::kScalar).for_type(DType::kQ4_K);
  for (const int64_t blocks : {1, 3, 7, 14}) {
    const int64_t k = blocks * kSuperBlockSize;
    const uint64_t bytes = act_row_bytes(ActFormat::kQ8K, k);
    for (const uint32_t seed : {11u, 12u}) {
      const std::vector<float> x = seed == 11 ? tricky_activations(k, seed) : make_activations(k, 1, seed);
      std::vector<uint8_t> want(bytes);
      scalar.quantize_act(x.data(), want.data(), k);
      for (const Isa isa : available_isas()) {
        for (const DType type : kTypes) {
          std::vector<uint8_t> got(bytes + kActOffset, 0xa5);  // ends at the row's end
          kernels_for(isa).for_type(type).quantize_act(x.data(), got.data() + kActOffset, k);
          // Exact: the same f32 operations (|x| max, -127 / max, x * iscale rounded to nearest even,
          // 1 / iscale) in the same order; only the summation of bsums differs, and it is integer.
          ASSERT_EQ(std::memcmp(got.data() + kActOffset, want.data(), bytes), 0)
              << label(type, isa) << " k=" << k << " seed=" << seed;
        }
      }
    }
  }
}

}  // namespace
}  // namespace rf::cpu
