// Legacy-quant kernels (q4_0, q4_1, q5_0, q5_1, q8_0 x ActBlockQ8) for AVX-512 with VNNI.
//
// VPDPBUSD multiplies unsigned by signed bytes: nibble weights are unsigned already and q8_0 is
// shifted by +128 (xor 0x80). Each block's dot is then, as in the scalar level,
//   dw * da * Σ q a + cw * sum_a,  cw = -offset * dw (q4_0 8, q5_0 16, q8_0 128) or the min m.
// Decode (one token): rows stream past four per pass sharing the activation loads, two blocks per
// 512-bit vector. Prefill: chunks of 32 blocks x 16 rows are repacked once into an L1-sized buffer
// (lane r of vector j = bytes 4j..4j+3 of row r's block, scales as 16-lane vectors), then an
// 8-token x 16-row microkernel runs VPDPBUSD with 4 activation bytes broadcast from memory.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "cpu/kernel_families.h"
#include "quant/blocks.h"

namespace rf::cpu {
namespace {

// Byte layout of each weight type; kQh/kMin < 0: absent. kOffset: what cw subtracts per unit dw.
struct Q4_0 {
  static constexpr int kBytes = 18, kQs = 2, kQh = -1, kMin = -1, kOffset = 8;
  static constexpr bool kNibbles = true;
};
struct Q4_1 {
  static constexpr int kBytes = 20, kQs = 4, kQh = -1, kMin = 2, kOffset = 0;
  static constexpr bool kNibbles = true;
};
struct Q5_0 {
  static constexpr int kBytes = 22, kQs = 6, kQh = 2, kMin = -1, kOffset = 16;
  static constexpr bool kNibbles = true;
};
struct Q5_1 {
  static constexpr int kBytes = 24, kQs = 8, kQh = 4, kMin = 2, kOffset = 0;
  static constexpr bool kNibbles = true;
};
struct Q8_0 {
  static constexpr int kBytes = 34, kQs = 2, kQh = -1, kMin = -1, kOffset = 128;
  static constexpr bool kNibbles = false;
};
static_assert(sizeof(BlockQ4_0) == Q4_0::kBytes && sizeof(BlockQ4_1) == Q4_1::kBytes);
static_assert(sizeof(BlockQ5_0) == Q5_0::kBytes && sizeof(BlockQ5_1) == Q5_1::kBytes);
static_assert(sizeof(BlockQ8_0) == Q8_0::kBytes && offsetof(BlockQ5_1, qh) == Q5_1::kQh);

constexpr int kActBytes = sizeof(ActBlockQ8);
constexpr int kActQs = offsetof(ActBlockQ8, qs);
constexpr int kActSum = offsetof(ActBlockQ8, sum);

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
float load_f16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return _cvtsh_ss(v);
}
__m128i loadu128(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
__m256i loadu256(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// ---- activations ------------------------------------------------------------------------------

// Bit for bit the scalar level: d = amax / 127, q = round-to-even(x * (1 / d)), sum = d * Σq.
void quantize_act_q8(const float* x, uint8_t* out, int64_t k) {
  for (int64_t b = 0; b < k / kBlockSize; ++b, x += kBlockSize, out += kActBytes) {
    const __m512 x0 = _mm512_loadu_ps(x);
    const __m512 x1 = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
    const float d = amax / 127.f;
    const __m512 id = _mm512_set1_ps(d != 0.f ? 1.f / d : 0.f);
    const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, id));
    const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, id));
    const float sum = d * static_cast<float>(_mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1)));
    std::memcpy(out, &d, sizeof(d));
    std::memcpy(out + kActSum, &sum, sizeof(sum));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + kActQs), _mm512_cvtsepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + kActQs + 16), _mm512_cvtsepi32_epi8(q1));
  }
}

// ---- weight unpacking -------------------------------------------------------------------------

// One block at p as 32 unsigned bytes in element order.
template <class T>
__m256i unpack1(const uint8_t* p) {
  if constexpr (T::kNibbles) {
    const __m256i x = _mm256_broadcastsi128_si256(loadu128(p + T::kQs));
    __m256i q = _mm256_and_si256(_mm256_srlv_epi64(x, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(0x0f));
    if constexpr (T::kQh >= 0) q = _mm256_mask_add_epi8(q, load_u32(p + T::kQh), q, _mm256_set1_epi8(16));
    return q;
  } else {
    return _mm256_xor_si256(loadu256(p + T::kQs), _mm256_set1_epi8(static_cast<char>(0x80)));
  }
}

// Blocks p and p + kBytes as 64 unsigned bytes in element order.
template <class T>
__m512i unpack2(const uint8_t* p) {
  if constexpr (T::kNibbles) {
    // [qs0, qs0, qs1, qs1], the second copy of each shifted down to its high nibbles.
    const __m256i x0 = _mm256_broadcastsi128_si256(loadu128(p + T::kQs));
    const __m256i x1 = _mm256_broadcastsi128_si256(loadu128(p + T::kBytes + T::kQs));
    const __m512i x = _mm512_inserti64x4(_mm512_castsi256_si512(x0), x1, 1);
    const __m512i shifts = _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4);
    __m512i q = _mm512_and_si512(_mm512_srlv_epi64(x, shifts), _mm512_set1_epi8(0x0f));
    if constexpr (T::kQh >= 0) {
      const uint64_t h = load_u32(p + T::kQh) | static_cast<uint64_t>(load_u32(p + T::kBytes + T::kQh)) << 32;
      q = _mm512_mask_add_epi8(q, _cvtu64_mask64(h), q, _mm512_set1_epi8(16));
    }
    return q;
  } else {
    const __m512i x = _mm512_inserti64x4(_mm512_castsi256_si512(loadu256(p + T::kQs)),
                                         loadu256(p + T::kBytes + T::kQs), 1);
    return _mm512_xor_si512(x, _mm512_set1_epi8(static_cast<char>(0x80)));
  }
}

// dw and cw of the 8 blocks whose first u32 the gather fetched (d in the low half, m in the high).
template <class T>
void scales8(__m256i first_u32, __m256& dw, __m256& cw) {
  dw = _mm256_cvtph_ps(_mm256_cvtepi32_epi16(first_u32));
  if constexpr (T::kMin >= 0) {
    cw = _mm256_cvtph_ps(_mm256_cvtepi32_epi16(_mm256_srli_epi32(first_u32, 16)));
  } else {
    cw = _mm256_mul_ps(dw, _mm256_set1_ps(-static_cast<float>(T::kOffset)));
  }
}

float cw_of(const uint8_t* p, float dw, int min_offset, int offset) {
  return min_offset >= 0 ? load_f16(p + min_offset) : -static_cast<float>(offset) * dw;
}

// ---- decode: one token ------------------------------------------------------------------------

// out[r] = dot(row r, a) for R rows of nb blocks starting at w.
template <class T, int R>
void gemv_rows(const uint8_t* w, uint64_t w_stride, const uint8_t* a, int64_t nb, float* out) {
  const __m256i block_offsets = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(T::kBytes));
  const __m256i act_offsets = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(kActBytes));
  // Lanes 0-7 take scale 2p, lanes 8-15 scale 2p + 1 of the 8 blocks' scale vector.
  __m512i pair_index[4];
  for (int p = 0; p < 4; ++p) {
    pair_index[p] = _mm512_inserti64x4(_mm512_set1_epi32(2 * p), _mm256_set1_epi32(2 * p + 1), 1);
  }
  __m512 acc[R];
  __m256 acc_c[R];  // Σ cw * sum_a
  for (int r = 0; r < R; ++r) {
    acc[r] = _mm512_setzero_ps();
    acc_c[r] = _mm256_setzero_ps();
  }
  const int64_t nb8 = nb / 8 * 8;
  for (int64_t b = 0; b < nb8; b += 8) {
    const uint8_t* ab = a + b * kActBytes;
    const __m256 da = _mm256_i32gather_ps(reinterpret_cast<const float*>(ab), act_offsets, 1);
    const __m256 sa = _mm256_i32gather_ps(reinterpret_cast<const float*>(ab + kActSum), act_offsets, 1);
    __m256 ds[R];
    for (int r = 0; r < R; ++r) {
      const uint8_t* wb = w + r * w_stride + static_cast<uint64_t>(b) * T::kBytes;
      __m256 dw, cw;
      scales8<T>(_mm256_i32gather_epi32(reinterpret_cast<const int*>(wb), block_offsets, 1), dw, cw);
      ds[r] = _mm256_mul_ps(dw, da);
      acc_c[r] = _mm256_fmadd_ps(cw, sa, acc_c[r]);
    }
    for (int p = 0; p < 4; ++p) {
      const __m512i av = _mm512_inserti64x4(_mm512_castsi256_si512(loadu256(ab + 2 * p * kActBytes + kActQs)),
                                            loadu256(ab + (2 * p + 1) * kActBytes + kActQs), 1);
      for (int r = 0; r < R; ++r) {
        const uint8_t* wb = w + r * w_stride + static_cast<uint64_t>(b + 2 * p) * T::kBytes;
        const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), unpack2<T>(wb), av);
        const __m512 scale = _mm512_permutexvar_ps(pair_index[p], _mm512_castps256_ps512(ds[r]));
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, acc[r]);
      }
    }
  }
  float tail[R] = {};
  for (int64_t b = nb8; b < nb; ++b) {
    const uint8_t* ab = a + b * kActBytes;
    const __m256i av = loadu256(ab + kActQs);
    for (int r = 0; r < R; ++r) {
      const uint8_t* wb = w + r * w_stride + static_cast<uint64_t>(b) * T::kBytes;
      const __m256i dot = _mm256_dpbusd_epi32(_mm256_setzero_si256(), unpack1<T>(wb), av);
      const __m128i d4 = _mm_add_epi32(_mm256_castsi256_si128(dot), _mm256_extracti128_si256(dot, 1));
      const __m128i d2 = _mm_add_epi32(d4, _mm_unpackhi_epi64(d4, d4));
      const int32_t isum = _mm_cvtsi128_si32(d2) + _mm_extract_epi32(d2, 1);
      const float dw = load_f16(wb);
      tail[r] += dw * (load_f32(ab) * static_cast<float>(isum)) + cw_of(wb, dw, T::kMin, T::kOffset) * load_f32(ab + kActSum);
    }
  }
  for (int r = 0; r < R; ++r) {
    const __m256 c = acc_c[r];
    const __m128 c4 = _mm_add_ps(_mm256_castps256_ps128(c), _mm256_extractf128_ps(c, 1));
    const __m128 c2 = _mm_add_ps(c4, _mm_movehl_ps(c4, c4));
    out[r] = _mm512_reduce_add_ps(acc[r]) + (_mm_cvtss_f32(c2) + _mm_cvtss_f32(_mm_movehdup_ps(c2))) + tail[r];
  }
}

template <class T>
void gemv(const GemmArgs& g) {
  const int64_t nb = g.k / kBlockSize;
  int64_t r = 0;
  for (; r + 4 <= g.n_rows; r += 4) gemv_rows<T, 4>(g.w + r * g.w_stride, g.w_stride, g.a, nb, g.out + r);
  for (; r < g.n_rows; ++r) gemv_rows<T, 1>(g.w + r * g.w_stride, g.w_stride, g.a, nb, g.out + r);
}

// ---- prefill: 16 rows x up to 64 tokens -------------------------------------------------------

constexpr int kRows = 16;      // one weight row per 32-bit lane
constexpr int kChunk = 32;     // blocks per repacked chunk: 32 x 640 B = 20 KiB stays in L1
constexpr int kTokens = 8;     // tokens per microkernel pass
constexpr int kTokenGroup = 64;

// One block of 16 rows: w[j] lane r = bytes 4j..4j+3 (unsigned) of row r's block.
struct PackedBlock {
  __m512i w[8];
  __m512 dw;
  __m512 cw;
};

// 16 rows x 4 dwords at rows[r] + offset -> q[j] lane r = dword j of row r.
void transpose16x4(const uint8_t* const* rows, int offset, __m512i* q) {
  __m512i z[4];
  for (int g = 0; g < 4; ++g) {
    z[g] = _mm512_castsi128_si512(loadu128(rows[g] + offset));
    z[g] = _mm512_inserti32x4(z[g], loadu128(rows[g + 4] + offset), 1);
    z[g] = _mm512_inserti32x4(z[g], loadu128(rows[g + 8] + offset), 2);
    z[g] = _mm512_inserti32x4(z[g], loadu128(rows[g + 12] + offset), 3);
  }
  // 4x4 transposes inside each 128-bit lane: lane L, dword p of q[j] = dword j of row p + 4L.
  const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]);
  const __m512i t1 = _mm512_unpackhi_epi32(z[0], z[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]);
  const __m512i t3 = _mm512_unpackhi_epi32(z[2], z[3]);
  q[0] = _mm512_unpacklo_epi64(t0, t2);
  q[1] = _mm512_unpackhi_epi64(t0, t2);
  q[2] = _mm512_unpacklo_epi64(t1, t3);
  q[3] = _mm512_unpackhi_epi64(t1, t3);
}

// Repacks blocks [b0, b0 + n) of 16 rows (rows[r] = row starts; short tiles repeat a row).
template <class T>
void repack(const uint8_t* const* rows, __m512i row_offsets, const uint8_t* w0, int64_t b0, int n, PackedBlock* out) {
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  for (int i = 0; i < n; ++i) {
    const int off = static_cast<int>((b0 + i) * T::kBytes);
    PackedBlock& pb = out[i];
    if constexpr (T::kNibbles) {
      __m512i q[4];
      transpose16x4(rows, off + T::kQs, q);
      for (int j = 0; j < 4; ++j) {
        pb.w[j] = _mm512_and_si512(q[j], low4);
        pb.w[j + 4] = _mm512_and_si512(_mm512_srli_epi32(q[j], 4), low4);
      }
      if constexpr (T::kQh >= 0) {
        // Element 4j + p takes bit 4j + p of qh: replicate qh byte j/2 over the dword, test its bits.
        const __m512i qh = _mm512_i32gather_epi32(row_offsets, w0 + off + T::kQh, 1);
        const __m512i bits_lo = _mm512_set1_epi32(0x08040201);
        const __m512i bits_hi = _mm512_set1_epi32(static_cast<int>(0x80402010u));
        for (int j = 0; j < 8; ++j) {
          const __m512i byte = _mm512_shuffle_epi8(qh, _mm512_add_epi32(_mm512_set1_epi32((j / 2) * 0x01010101),
                                                                        _mm512_set4_epi32(0x0c0c0c0c, 0x08080808, 0x04040404, 0)));
          const __mmask64 m = _mm512_test_epi8_mask(byte, j % 2 ? bits_hi : bits_lo);
          pb.w[j] = _mm512_mask_add_epi8(pb.w[j], m, pb.w[j], _mm512_set1_epi8(16));
        }
      }
    } else {
      const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
      transpose16x4(rows, off + T::kQs, pb.w);
      transpose16x4(rows, off + T::kQs + 16, pb.w + 4);
      for (__m512i& v : pb.w) v = _mm512_xor_si512(v, flip);
    }
    const __m512i first = _mm512_i32gather_epi32(row_offsets, w0 + off, 1);
    pb.dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(first));
    if constexpr (T::kMin >= 0) {
      pb.cw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(first, 16)));
    } else {
      pb.cw = _mm512_mul_ps(pb.dw, _mm512_set1_ps(-static_cast<float>(T::kOffset)));
    }
  }
}

__m512i bcast_u32(const uint8_t* p) { return _mm512_set1_epi32(static_cast<int>(load_u32(p))); }

// acc[t] (16 rows of token t) += the n packed blocks against tokens a + t * a_stride.
template <int C>
void microkernel(const PackedBlock* pb, int n, const uint8_t* a, uint64_t a_stride, float* acc_io) {
  __m512 acc[C];
  for (int t = 0; t < C; ++t) acc[t] = _mm512_loadu_ps(acc_io + t * kRows);
  for (int i = 0; i < n; ++i, a += kActBytes) {
    const PackedBlock& p = pb[i];
    for (int t = 0; t < C; ++t) {
      const uint8_t* ab = a + t * a_stride;
      __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), p.w[0], bcast_u32(ab + kActQs));
      for (int j = 1; j < 8; ++j) s = _mm512_dpbusd_epi32(s, p.w[j], bcast_u32(ab + kActQs + 4 * j));
      const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(load_f32(ab)));
      acc[t] = _mm512_fmadd_ps(f, p.dw, acc[t]);
      acc[t] = _mm512_fmadd_ps(p.cw, _mm512_set1_ps(load_f32(ab + kActSum)), acc[t]);
    }
  }
  for (int t = 0; t < C; ++t) _mm512_storeu_ps(acc_io + t * kRows, acc[t]);
}

using Microkernel = void (*)(const PackedBlock*, int, const uint8_t*, uint64_t, float*);
constexpr Microkernel kMicrokernels[kTokens + 1] = {nullptr,         microkernel<1>, microkernel<2>,
                                                    microkernel<3>, microkernel<4>, microkernel<5>,
                                                    microkernel<6>, microkernel<7>, microkernel<8>};

template <class T>
void gemm_tiles(const GemmArgs& g) {
  const int64_t nb = g.k / kBlockSize;
  alignas(64) PackedBlock packed[kChunk];
  alignas(64) float acc[kTokenGroup * kRows];
  for (int64_t r0 = 0; r0 < g.n_rows; r0 += kRows) {
    const int rows = static_cast<int>(g.n_rows - r0 < kRows ? g.n_rows - r0 : kRows);
    const uint8_t* w0 = g.w + r0 * g.w_stride;
    const uint8_t* row_ptr[kRows];
    alignas(64) int32_t row_off[kRows];
    for (int r = 0; r < kRows; ++r) {
      row_off[r] = static_cast<int32_t>(static_cast<uint64_t>(r < rows ? r : rows - 1) * g.w_stride);
      row_ptr[r] = w0 + row_off[r];
    }
    const __m512i row_offsets = _mm512_load_si512(row_off);
    for (int64_t c0 = 0; c0 < g.n_cols; c0 += kTokenGroup) {
      const int cols = static_cast<int>(g.n_cols - c0 < kTokenGroup ? g.n_cols - c0 : kTokenGroup);
      std::memset(acc, 0, sizeof(float) * static_cast<size_t>(cols * kRows));
      for (int64_t b0 = 0; b0 < nb; b0 += kChunk) {
        const int n = static_cast<int>(nb - b0 < kChunk ? nb - b0 : kChunk);
        repack<T>(row_ptr, row_offsets, w0, b0, n, packed);
        const uint8_t* a0 = g.a + c0 * g.a_stride + b0 * kActBytes;
        for (int t = 0; t < cols; t += kTokens) {
          const int c = cols - t < kTokens ? cols - t : kTokens;
          kMicrokernels[c](packed, n, a0 + t * g.a_stride, g.a_stride, acc + t * kRows);
        }
      }
      const auto row_mask = static_cast<__mmask16>((1u << rows) - 1);
      for (int t = 0; t < cols; ++t) {
        _mm512_mask_storeu_ps(g.out + (c0 + t) * g.out_stride + r0, row_mask, _mm512_load_ps(acc + t * kRows));
      }
    }
  }
}

template <class T>
void gemm(const GemmArgs& g) {
  if (g.n_cols == 1) {
    gemv<T>(g);
  } else {
    gemm_tiles<T>(g);
  }
}

template <class T, DType kType>
void set_kernel(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(kType)] = {ActFormat::kQ8, quantize_act_q8, gemm<T>};
}

}  // namespace

void fill_avx512_legacy(KernelTable& t) {
  set_kernel<Q4_0, DType::kQ4_0>(t);
  set_kernel<Q4_1, DType::kQ4_1>(t);
  set_kernel<Q5_0, DType::kQ5_0>(t);
  set_kernel<Q5_1, DType::kQ5_1>(t);
  set_kernel<Q8_0, DType::kQ8_0>(t);
}

}  // namespace rf::cpu
