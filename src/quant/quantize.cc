// quantize_row dispatch, plain float formats, and the 32-element block quantizers (ggml's *_ref).
#include "quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/check.h"
#include "quant/fp16.h"
#include "quant/quantize_blocks.h"

namespace rf {
namespace quant_detail {
namespace {

// 1/d, or 0 when d is 0 or so small (f32 subnormal) that 1/d overflows: such a block's f16 scale
// is 0 anyway, and a 0 inverse keeps x * id finite.
float safe_inverse(float d) {
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  return std::isfinite(id) ? id : 0.0f;
}

// The element of largest magnitude, with its sign (the first one on ties).
float signed_absmax(const float* x, int n) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float& min, float& max) {
  min = x[0];
  max = x[0];
  for (int j = 1; j < n; ++j) {
    min = std::min(min, x[j]);
    max = std::max(max, x[j]);
  }
}

// Packs 32 five-bit values: low nibbles as q4_0, fifth bits into the little-endian u32 qh.
void pack_q5(const int* q, uint8_t* qh_bytes, uint8_t* qs) {
  uint32_t qh = 0;
  for (int j = 0; j < kBlockSize / 2; ++j) {
    const int q0 = q[j];
    const int q1 = q[j + kBlockSize / 2];
    qs[j] = static_cast<uint8_t>((q0 & 0xf) | ((q1 & 0xf) << 4));
    qh |= static_cast<uint32_t>((q0 >> 4) & 1) << j;
    qh |= static_cast<uint32_t>((q1 >> 4) & 1) << (j + kBlockSize / 2);
  }
  std::memcpy(qh_bytes, &qh, sizeof(qh));
}

// Symmetric 2^bits levels: the signed max maps to the most negative level -2^(bits-1), so it is
// exact; the opposite extreme may clip to the top level (2^(bits-1) - 1).
float quantize_symmetric(const float* x, int bits, int* q) {
  const int half = 1 << (bits - 1);
  const float d = signed_absmax(x, kBlockSize) / static_cast<float>(-half);
  const float id = safe_inverse(d);
  const float offset = static_cast<float>(half) + 0.5f;  // truncation of x + offset rounds x
  for (int j = 0; j < kBlockSize; ++j) {
    q[j] = std::clamp(static_cast<int>(x[j] * id + offset), 0, 2 * half - 1);
  }
  return d;
}

// Asymmetric: levels 0 .. 2^bits - 1 spread over [min, max]; returns d, writes min.
float quantize_affine(const float* x, int bits, int* q, float& min) {
  float max;
  min_max(x, kBlockSize, min, max);
  const int top = (1 << bits) - 1;
  const float d = (max - min) / static_cast<float>(top);
  const float id = safe_inverse(d);
  for (int j = 0; j < kBlockSize; ++j) {
    q[j] = std::clamp(static_cast<int>((x[j] - min) * id + 0.5f), 0, top);
  }
  return d;
}

}  // namespace

void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t nb) {
  int q[kBlockSize];
  for (int64_t b = 0; b < nb; ++b, x += kBlockSize) {
    y[b].d = f32_to_fp16(quantize_symmetric(x, 4, q));
    for (int j = 0; j < kBlockSize / 2; ++j) {
      y[b].qs[j] = static_cast<uint8_t>(q[j] | (q[j + kBlockSize / 2] << 4));
    }
  }
}

void quantize_q4_1(const float* x, BlockQ4_1* y, int64_t nb) {
  int q[kBlockSize];
  for (int64_t b = 0; b < nb; ++b, x += kBlockSize) {
    float min;
    y[b].d = f32_to_fp16(quantize_affine(x, 4, q, min));
    y[b].m = f32_to_fp16(min);
    for (int j = 0; j < kBlockSize / 2; ++j) {
      y[b].qs[j] = static_cast<uint8_t>(q[j] | (q[j + kBlockSize / 2] << 4));
    }
  }
}

void quantize_q5_0(const float* x, BlockQ5_0* y, int64_t nb) {
  int q[kBlockSize];
  for (int64_t b = 0; b < nb; ++b, x += kBlockSize) {
    y[b].d = f32_to_fp16(quantize_symmetric(x, 5, q));
    pack_q5(q, y[b].qh, y[b].qs);
  }
}

void quantize_q5_1(const float* x, BlockQ5_1* y, int64_t nb) {
  int q[kBlockSize];
  for (int64_t b = 0; b < nb; ++b, x += kBlockSize) {
    float min;
    y[b].d = f32_to_fp16(quantize_affine(x, 5, q, min));
    y[b].m = f32_to_fp16(min);
    pack_q5(q, y[b].qh, y[b].qs);
  }
}

void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += kBlockSize) {
    float amax = 0.0f;
    for (int j = 0; j < kBlockSize; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = safe_inverse(d);
    y[b].d = f32_to_fp16(d);
    for (int j = 0; j < kBlockSize; ++j) {
      y[b].qs[j] = static_cast<int8_t>(std::clamp(std::round(x[j] * id), -127.0f, 127.0f));
    }
  }
}

}  // namespace quant_detail

bool can_quantize(DType type) {
  switch (type) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kQ8_0:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
    case DType::kQ8_K: return true;
    default: return false;
  }
}

void quantize_row(DType type, const float* src, void* dst, int64_t n) {
  using namespace quant_detail;
  RF_CHECK(can_quantize(type));
  const DTypeInfo& info = dtype_info(type);
  RF_CHECK(n >= 0 && n % info.block_size == 0);
  const int64_t nb = n / info.block_size;
  switch (type) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::kF16: {
      auto* y = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) y[i] = f32_to_fp16(src[i]);
      return;
    }
    case DType::kBF16: {
      auto* y = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) y[i] = f32_to_bf16(src[i]);
      return;
    }
    case DType::kQ4_0: return quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), nb);
    case DType::kQ4_1: return quantize_q4_1(src, static_cast<BlockQ4_1*>(dst), nb);
    case DType::kQ5_0: return quantize_q5_0(src, static_cast<BlockQ5_0*>(dst), nb);
    case DType::kQ5_1: return quantize_q5_1(src, static_cast<BlockQ5_1*>(dst), nb);
    case DType::kQ8_0: return quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), nb);
    case DType::kQ4_K: return quantize_q4_K(src, static_cast<BlockQ4_K*>(dst), nb);
    case DType::kQ5_K: return quantize_q5_K(src, static_cast<BlockQ5_K*>(dst), nb);
    case DType::kQ6_K: return quantize_q6_K(src, static_cast<BlockQ6_K*>(dst), nb);
    case DType::kQ8_K: return quantize_q8_K(src, static_cast<BlockQ8_K*>(dst), nb);
    default: break;
  }
  RF_CHECK(false && "can_quantize accepts a type quantize_row does not handle");
}

}  // namespace rf
