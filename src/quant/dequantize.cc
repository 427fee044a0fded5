// Scalar reference dequantizers, one per format; float arithmetic ordered as ggml's references.
#include "quant/dequantize.h"

#include <bit>

#include <cstring>

#include "base/check.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

namespace rf {
namespace {

// fp16_to_f32's results, written without branches so that the compiler vectorizes it (SSE2 on any
// x86-64): 0.38 ns an element against 0.92 for the per-element branches (one thread, 1M elements;
// F16 weights are widened this way for BLAS panels). Subnormals go through an integer -> float
// conversion (exact below 2^10), so no f32 subnormal arithmetic is involved.
void dequant_f16(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t h = x[i];
    const uint32_t em = h & 0x7fffu;  // exponent and mantissa
    const uint32_t normal = (em << 13) + (112u << 23);
    const uint32_t special = (em << 13) | 0x7f800000u;  // inf, NaN (payload kept)
    const uint32_t subnormal = std::bit_cast<uint32_t>(static_cast<float>(static_cast<int32_t>(em)) * 0x1p-24f);
    // All-ones masks rather than ?: so that GCC selects in vector registers instead of branching.
    const uint32_t is_subnormal = 0u - static_cast<uint32_t>(em < 0x400u);
    const uint32_t is_special = 0u - static_cast<uint32_t>(em >= 0x7c00u);
    const uint32_t bits = (subnormal & is_subnormal) | (special & is_special) | (normal & ~(is_subnormal | is_special));
    y[i] = std::bit_cast<float>(bits | (h & 0x8000u) << 16);
  }
}

void dequant_bf16(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_f32(x[i]);
}

void dequant_q4_0(const BlockQ4_0* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kBlockSize) {
    const float d = fp16_to_f32(x[b].d);
    for (int j = 0; j < kBlockSize / 2; ++j) {
      y[j] = static_cast<float>((x[b].qs[j] & 0xf) - 8) * d;
      y[j + kBlockSize / 2] = static_cast<float>((x[b].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequant_q4_1(const BlockQ4_1* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kBlockSize) {
    const float d = fp16_to_f32(x[b].d);
    const float m = fp16_to_f32(x[b].m);
    for (int j = 0; j < kBlockSize / 2; ++j) {
      y[j] = static_cast<float>(x[b].qs[j] & 0xf) * d + m;
      y[j + kBlockSize / 2] = static_cast<float>(x[b].qs[j] >> 4) * d + m;
    }
  }
}

// Five-bit values of a q5_0/q5_1 block: nibbles plus the fifth bit from the u32 qh.
void unpack_q5(const uint8_t* qh_bytes, const uint8_t* qs, int* q) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof(qh));
  for (int j = 0; j < kBlockSize / 2; ++j) {
    q[j] = (qs[j] & 0xf) | static_cast<int>(((qh >> j) & 1u) << 4);
    q[j + kBlockSize / 2] = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
  }
}

void dequant_q5_0(const BlockQ5_0* x, float* y, int64_t nb) {
  int q[kBlockSize];
  for (int64_t b = 0; b < nb; ++b, y += kBlockSize) {
    const float d = fp16_to_f32(x[b].d);
    unpack_q5(x[b].qh, x[b].qs, q);
    for (int j = 0; j < kBlockSize; ++j) y[j] = static_cast<float>(q[j] - 16) * d;
  }
}

void dequant_q5_1(const BlockQ5_1* x, float* y, int64_t nb) {
  int q[kBlockSize];
  for (int64_t b = 0; b < nb; ++b, y += kBlockSize) {
    const float d = fp16_to_f32(x[b].d);
    const float m = fp16_to_f32(x[b].m);
    unpack_q5(x[b].qh, x[b].qs, q);
    for (int j = 0; j < kBlockSize; ++j) y[j] = static_cast<float>(q[j]) * d + m;
  }
}

void dequant_q8_0(const BlockQ8_0* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kBlockSize) {
    const float d = fp16_to_f32(x[b].d);
    for (int j = 0; j < kBlockSize; ++j) y[j] = static_cast<float>(x[b].qs[j]) * d;
  }
}

// q4_K and q5_K differ only in the fifth bit; qh == nullptr means q4_K.
void dequant_k4(uint16_t d16, uint16_t dmin16, const uint8_t* scales, const uint8_t* qs,
                const uint8_t* qh, float* y) {
  const float d = fp16_to_f32(d16);
  const float dmin = fp16_to_f32(dmin16);
  for (int s = 0; s < 8; ++s, y += 32) {
    uint8_t sc, m;
    unpack_scale_min_k4(s, scales, sc, m);
    const float ds = d * sc;
    const float ms = dmin * m;
    const uint8_t* q = qs + 32 * (s / 2);
    const int shift = 4 * (s % 2);
    for (int l = 0; l < 32; ++l) {
      int v = (q[l] >> shift) & 0xf;
      if (qh != nullptr) v |= ((qh[l] >> s) & 1) << 4;
      y[l] = ds * static_cast<float>(v) - ms;
    }
  }
}

void dequant_q6_K(const BlockQ6_K* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b) {
    const float d = fp16_to_f32(x[b].d);
    for (int h = 0; h < 2; ++h, y += 128) {
      const uint8_t* ql = x[b].ql + 64 * h;
      const uint8_t* qh = x[b].qh + 32 * h;
      const int8_t* sc = x[b].scales + 8 * h;
      for (int g = 0; g < 4; ++g) {
        for (int l = 0; l < 32; ++l) {
          const int lo = (ql[l + 32 * (g & 1)] >> (4 * (g / 2))) & 0xf;
          const int hi = (qh[l] >> (2 * g)) & 3;
          // d * sc is exact in f32 (11 x 8 bits), so this rounds once, as ggml does.
          y[32 * g + l] = d * sc[2 * g + l / 16] * static_cast<float>((lo | (hi << 4)) - 32);
        }
      }
    }
  }
}

void dequant_q8_K(const BlockQ8_K* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += kSuperBlockSize) {
    for (int j = 0; j < kSuperBlockSize; ++j) y[j] = x[b].d * static_cast<float>(x[b].qs[j]);
  }
}

}  // namespace

void dequantize_row(DType type, const void* src, float* dst, int64_t n) {
  const DTypeInfo& info = dtype_info(type);
  RF_CHECK(info.can_dequantize);
  RF_CHECK(n >= 0 && n % info.block_size == 0);
  const int64_t nb = n / info.block_size;
  switch (type) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::kF16: return dequant_f16(static_cast<const uint16_t*>(src), dst, n);
    case DType::kBF16: return dequant_bf16(static_cast<const uint16_t*>(src), dst, n);
    case DType::kQ4_0: return dequant_q4_0(static_cast<const BlockQ4_0*>(src), dst, nb);
    case DType::kQ4_1: return dequant_q4_1(static_cast<const BlockQ4_1*>(src), dst, nb);
    case DType::kQ5_0: return dequant_q5_0(static_cast<const BlockQ5_0*>(src), dst, nb);
    case DType::kQ5_1: return dequant_q5_1(static_cast<const BlockQ5_1*>(src), dst, nb);
    case DType::kQ8_0: return dequant_q8_0(static_cast<const BlockQ8_0*>(src), dst, nb);
    case DType::kQ4_K: {
      const auto* x = static_cast<const BlockQ4_K*>(src);
      for (int64_t b = 0; b < nb; ++b) {
        dequant_k4(x[b].d, x[b].dmin, x[b].scales, x[b].qs, nullptr, dst + b * kSuperBlockSize);
      }
      return;
    }
    case DType::kQ5_K: {
      const auto* x = static_cast<const BlockQ5_K*>(src);
      for (int64_t b = 0; b < nb; ++b) {
        dequant_k4(x[b].d, x[b].dmin, x[b].scales, x[b].qs, x[b].qh, dst + b * kSuperBlockSize);
      }
      return;
    }
    case DType::kQ6_K: return dequant_q6_K(static_cast<const BlockQ6_K*>(src), dst, nb);
    case DType::kQ8_K: return dequant_q8_K(static_cast<const BlockQ8_K*>(src), dst, nb);
    default: break;
  }
  RF_CHECK(false && "can_dequantize is set for a type dequantize_row does not handle");
}

}  // namespace rf
