// Legacy-quant kernels (q4_0, q4_1, q5_0, q5_1, q8_0 x ActBlockQ8), portable C++: the reference
// every ISA's legacy kernels are tested against.
//
// Every type reduces to one form per 32-element block: dot = dw * (da * Σ q_i a_i) + cw * sum_a,
// with q the stored (unsigned for the nibble types) integers, da/sum_a the activation block's
// scale and d * Σa, and cw the weight block's offset term: -8 dw (q4_0), -16 dw (q5_0), the min m
// (q4_1, q5_1), 0 (q8_0, whose q are signed).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cpu/kernel_families.h"
#include "quant/blocks.h"

namespace rf::cpu {
namespace {

// IEEE binary16 -> f32 (a local copy: ISA files may not call shared inline helpers).
float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {
    uint32_t e = 113;  // normalize the subnormal: shift its leading one up to bit 10
    do {
      mant <<= 1;
      --e;
    } while ((mant & 0x400u) == 0);
    bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Round to nearest, ties to even (as SIMD conversions do), exact for |x| < 2^22.
int32_t round_even(float x) {
  const float shifted = x + 12582912.f;  // 1.5 * 2^23: the integer lands in the low mantissa bits
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof(bits));
  return (bits & 0x007fffff) - 0x00400000;
}

// x[k] -> k/32 ActBlockQ8: d = amax / 127, q = round_even(x * (1 / d)) as ggml's q8 (which rounds
// ties away from zero; ties to even lets every ISA reproduce this bit for bit), sum = d * Σq.
void quantize_act_q8(const float* x, uint8_t* out, int64_t k) {
  for (int64_t b = 0; b < k / kBlockSize; ++b, x += kBlockSize, out += sizeof(ActBlockQ8)) {
    float amax = 0.f;
    for (int i = 0; i < kBlockSize; ++i) amax = std::max(amax, x[i] < 0.f ? -x[i] : x[i]);
    ActBlockQ8 blk;
    blk.d = amax / 127.f;
    const float id = blk.d != 0.f ? 1.f / blk.d : 0.f;
    int32_t sum = 0;
    for (int i = 0; i < kBlockSize; ++i) {
      const int32_t q = round_even(x[i] * id);
      blk.qs[i] = static_cast<int8_t>(q);
      sum += q;
    }
    blk.sum = blk.d * static_cast<float>(sum);
    std::memcpy(out, &blk, sizeof(blk));
  }
}

// One weight block decoded to the common form: q[32] integers, dw, cw (see the file comment).
struct Decoded {
  int32_t q[kBlockSize];
  float dw;
  float cw;
};

// Nibbles: element j < 16 is the low nibble of qs[j], element j + 16 its high nibble.
void unpack_nibbles(const uint8_t* qs, int32_t* q) {
  for (int j = 0; j < kBlockSize / 2; ++j) {
    q[j] = qs[j] & 0xf;
    q[j + kBlockSize / 2] = qs[j] >> 4;
  }
}

// Fifth bits: bit j of the little-endian u32 at qh belongs to element j.
void add_fifth_bits(const uint8_t* qh_bytes, int32_t* q) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof(qh));
  for (int j = 0; j < kBlockSize; ++j) q[j] |= static_cast<int32_t>(((qh >> j) & 1u) << 4);
}

template <DType kType>
void decode_block(const uint8_t* blk, Decoded& out) {
  out.dw = half_to_float(load_u16(blk));
  if constexpr (kType == DType::kQ4_0) {
    unpack_nibbles(blk + offsetof(BlockQ4_0, qs), out.q);
    out.cw = -8.f * out.dw;
  } else if constexpr (kType == DType::kQ4_1) {
    unpack_nibbles(blk + offsetof(BlockQ4_1, qs), out.q);
    out.cw = half_to_float(load_u16(blk + offsetof(BlockQ4_1, m)));
  } else if constexpr (kType == DType::kQ5_0) {
    unpack_nibbles(blk + offsetof(BlockQ5_0, qs), out.q);
    add_fifth_bits(blk + offsetof(BlockQ5_0, qh), out.q);
    out.cw = -16.f * out.dw;
  } else if constexpr (kType == DType::kQ5_1) {
    unpack_nibbles(blk + offsetof(BlockQ5_1, qs), out.q);
    add_fifth_bits(blk + offsetof(BlockQ5_1, qh), out.q);
    out.cw = half_to_float(load_u16(blk + offsetof(BlockQ5_1, m)));
  } else {
    static_assert(kType == DType::kQ8_0);
    for (int j = 0; j < kBlockSize; ++j) out.q[j] = static_cast<int8_t>(blk[offsetof(BlockQ8_0, qs) + j]);
    out.cw = 0.f;
  }
}

template <DType kType, size_t kBlockBytes>
void gemm_q8(const GemmArgs& g) {
  const int64_t nb = g.k / kBlockSize;
  for (int64_t r = 0; r < g.n_rows; ++r) {
    for (int64_t c = 0; c < g.n_cols; ++c) g.out[c * g.out_stride + r] = 0.f;
    const uint8_t* w = g.w + static_cast<uint64_t>(r) * g.w_stride;
    for (int64_t b = 0; b < nb; ++b) {
      Decoded wb;
      decode_block<kType>(w + static_cast<uint64_t>(b) * kBlockBytes, wb);
      for (int64_t c = 0; c < g.n_cols; ++c) {
        ActBlockQ8 ab;
        std::memcpy(&ab, g.a + static_cast<uint64_t>(c) * g.a_stride + static_cast<uint64_t>(b) * sizeof(ActBlockQ8),
                    sizeof(ab));
        int32_t isum = 0;
        for (int j = 0; j < kBlockSize; ++j) isum += wb.q[j] * ab.qs[j];
        g.out[c * g.out_stride + r] += wb.dw * (ab.d * static_cast<float>(isum)) + wb.cw * ab.sum;
      }
    }
  }
}

template <DType kType, typename Block>
void set_kernel(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(kType)] = {ActFormat::kQ8, quantize_act_q8, gemm_q8<kType, sizeof(Block)>};
}

}  // namespace

void fill_scalar_legacy(KernelTable& t) {
  set_kernel<DType::kQ4_0, BlockQ4_0>(t);
  set_kernel<DType::kQ4_1, BlockQ4_1>(t);
  set_kernel<DType::kQ5_0, BlockQ5_0>(t);
  set_kernel<DType::kQ5_1, BlockQ5_1>(t);
  set_kernel<DType::kQ8_0, BlockQ8_0>(t);
}

}  // namespace rf::cpu
