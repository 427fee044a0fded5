// Legacy-quant kernels (q4_0, q4_1, q5_0, q5_1, q8_0 x ActBlockQ8) for AVX2 + FMA + F16C.
//
// Same shape as the AVX-512 level with 8 rows per 256-bit group (lane r of vector j = bytes
// 4j..4j+3 of row r's block; activation bytes broadcast), but without VNNI the byte products go
// through VPMADDUBSW (u8 x s8 -> pairs summed to saturating s16) and VPMADDWD. Nibble weights are
// unsigned, so pair sums stay small enough to add several in s16 before widening: q4 (<= 2*15*127)
// eight, q5 (<= 2*31*127) four. q8_0 uses the sign trick instead of an offset (|w| x sign(a, w)),
// since w + 128 would saturate the pair sums. Block dots are dw * da * Σ q a + cw * sum_a as in the
// scalar level (cw = 0 for q8_0 here).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cpu/kernel_families.h"
#include "quant/blocks.h"

namespace rf::cpu {
namespace {

// Byte layout of each weight type; kQh/kMin < 0: absent. kOffset: what cw subtracts per unit dw.
// kGroup: VPMADDUBSW results summed in s16 before widening (0: signed q8_0, sign trick).
struct Q4_0 {
  [[maybe_unused]] static constexpr int kBytes = 18, kQs = 2, kQh = -1, kMin = -1, kOffset = 8, kGroup = 8;
};
struct Q4_1 {
  [[maybe_unused]] static constexpr int kBytes = 20, kQs = 4, kQh = -1, kMin = 2, kOffset = 0, kGroup = 8;
};
struct Q5_0 {
  [[maybe_unused]] static constexpr int kBytes = 22, kQs = 6, kQh = 2, kMin = -1, kOffset = 16, kGroup = 4;
};
struct Q5_1 {
  [[maybe_unused]] static constexpr int kBytes = 24, kQs = 8, kQh = 4, kMin = 2, kOffset = 0, kGroup = 4;
};
struct Q8_0 {
  [[maybe_unused]] static constexpr int kBytes = 34, kQs = 2, kQh = -1, kMin = -1, kOffset = 0, kGroup = 0;
};
static_assert(sizeof(BlockQ4_0) == Q4_0::kBytes && sizeof(BlockQ4_1) == Q4_1::kBytes);
static_assert(sizeof(BlockQ5_0) == Q5_0::kBytes && sizeof(BlockQ5_1) == Q5_1::kBytes);
static_assert(sizeof(BlockQ8_0) == Q8_0::kBytes && offsetof(BlockQ5_1, qh) == Q5_1::kQh);

template <class T>
constexpr bool kHasC = T::kMin >= 0 || T::kOffset != 0;

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
__m128i loadu128(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
__m256i bcast_u32(const uint8_t* p) { return _mm256_set1_epi32(static_cast<int>(load_u32(p))); }

// ---- activations ------------------------------------------------------------------------------

// Bit for bit the scalar level: d = amax / 127, q = round-to-even(x * (1 / d)), sum = d * Σq.
void quantize_act_q8(const float* x, uint8_t* out, int64_t k) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t b = 0; b < k / kBlockSize; ++b, x += kBlockSize, out += kActBytes) {
    __m256 v[4], m = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(x + 8 * i);
      m = _mm256_max_ps(m, _mm256_and_ps(v[i], abs_mask));
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float d = _mm_cvtss_f32(m4) / 127.f;
    const __m256 id = _mm256_set1_ps(d != 0.f ? 1.f / d : 0.f);
    __m256i q[4];
    for (int i = 0; i < 4; ++i) q[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], id));
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    s4 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
    const float sum = d * static_cast<float>(_mm_cvtsi128_si32(s4) + _mm_extract_epi32(s4, 1));
    // Packing interleaves the 128-bit lanes: dwords come out in the order 0 2 4 6 1 3 5 7.
    const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    std::memcpy(out, &d, sizeof(d));
    std::memcpy(out + kActSum, &sum, sizeof(sum));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + kActQs), ordered);
  }
}

// ---- 8 weight rows per pass, one per 32-bit lane ----------------------------------------------

constexpr int kRows = 8;
constexpr int kChunk = 32;  // blocks per unpacked chunk: 32 x 576 B = 18 KiB stays in L1
constexpr int kTokens = 4;  // tokens per microkernel pass (16 registers)
constexpr int kTokenGroup = 64;

// One block of 8 rows: w[j] lane r = bytes 4j..4j+3 of row r's block, unsigned (|q| for q8_0,
// whose signed bytes s[j] then carry the signs).
struct PackedBlock {
  __m256i w[8];
  __m256i s[8];
  __m256 dw;
  __m256 cw;
};

// 8 rows x 4 dwords at rows[r] + offset -> q[j] lane r = dword j of row r.
[[gnu::always_inline]] inline void transpose8x4(const uint8_t* const* rows, int offset, __m256i* q) {
  __m256i z[4];
  for (int g = 0; g < 4; ++g) {
    const __m256i low = _mm256_castsi128_si256(loadu128(rows[g] + offset));
    z[g] = _mm256_inserti128_si256(low, loadu128(rows[g + 4] + offset), 1);
  }
  // 4x4 transposes inside each 128-bit lane: lane L, dword p of q[j] = dword j of row p + 4L.
  const __m256i t0 = _mm256_unpacklo_epi32(z[0], z[1]);
  const __m256i t1 = _mm256_unpackhi_epi32(z[0], z[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(z[2], z[3]);
  const __m256i t3 = _mm256_unpackhi_epi32(z[2], z[3]);
  q[0] = _mm256_unpacklo_epi64(t0, t2);
  q[1] = _mm256_unpackhi_epi64(t0, t2);
  q[2] = _mm256_unpacklo_epi64(t1, t3);
  q[3] = _mm256_unpackhi_epi64(t1, t3);
}

// The u16 (u32) at rows[r] + off of 8 rows, packed in general registers: cheaper than a gather.
[[gnu::always_inline]] inline __m128i gather_u16(const uint8_t* const* rows, int off) {
  long long q[2];
  for (int i = 0; i < 2; ++i) {
    uint64_t v = 0;
    for (int j = 0; j < 4; ++j) {
      uint16_t h;
      std::memcpy(&h, rows[4 * i + j] + off, sizeof(h));
      v |= static_cast<uint64_t>(h) << (16 * j);
    }
    q[i] = static_cast<long long>(v);
  }
  return _mm_set_epi64x(q[1], q[0]);
}
[[gnu::always_inline]] inline __m256i gather_u32(const uint8_t* const* rows, int off) {
  long long q[4];
  for (int i = 0; i < 4; ++i) {
    q[i] = static_cast<long long>(load_u32(rows[2 * i] + off) | uint64_t{load_u32(rows[2 * i + 1] + off)} << 32);
  }
  return _mm256_setr_epi64x(q[0], q[1], q[2], q[3]);
}

// Block at byte offset `off` of 8 rows (rows[r] = row starts; short tiles repeat a row) -> pb.
template <class T>
[[gnu::always_inline]] inline void unpack8(const uint8_t* const* rows, int off, PackedBlock& pb) {
  if constexpr (T::kGroup > 0) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    __m256i q[4];
    transpose8x4(rows, off + T::kQs, q);
    for (int j = 0; j < 4; ++j) {
      pb.w[j] = _mm256_and_si256(q[j], low4);
      pb.w[j + 4] = _mm256_and_si256(_mm256_srli_epi32(q[j], 4), low4);
    }
    if constexpr (T::kQh >= 0) {
      // Element 4j + p takes bit 4j + p of qh: replicate qh byte j/2 over the dword, test its bits.
      const __m256i qh = gather_u32(rows, off + T::kQh);
      const __m256i bits_lo = _mm256_set1_epi32(0x08040201);
      const __m256i bits_hi = _mm256_set1_epi32(static_cast<int>(0x80402010u));
      const __m256i dword_bytes = _mm256_setr_epi32(0, 0x04040404, 0x08080808, 0x0c0c0c0c, 0, 0x04040404, 0x08080808,
                                                    0x0c0c0c0c);
      for (int j = 0; j < 8; ++j) {
        const __m256i pick = _mm256_add_epi32(dword_bytes, _mm256_set1_epi32((j / 2) * 0x01010101));
        const __m256i bit = _mm256_and_si256(_mm256_shuffle_epi8(qh, pick), j % 2 ? bits_hi : bits_lo);
        const __m256i one = _mm256_min_epu8(bit, _mm256_set1_epi8(1));  // 0 or 1 per byte
        pb.w[j] = _mm256_or_si256(pb.w[j], _mm256_slli_epi16(one, 4));
      }
    }
  } else {
    transpose8x4(rows, off + T::kQs, pb.s);
    transpose8x4(rows, off + T::kQs + 16, pb.s + 4);
    for (int j = 0; j < 8; ++j) pb.w[j] = _mm256_abs_epi8(pb.s[j]);
  }
  pb.dw = _mm256_cvtph_ps(gather_u16(rows, off));
  if constexpr (T::kMin >= 0) {
    pb.cw = _mm256_cvtph_ps(gather_u16(rows, off + T::kMin));
  } else {
    pb.cw = _mm256_mul_ps(pb.dw, _mm256_set1_ps(-static_cast<float>(T::kOffset)));
  }
}

// For the 8 rows of token t: acc[t] += dw * da * Σ q a and acc_c[t] += cw * sum_a, block p against
// activation blocks a + t * a_stride. Two chains, summed once at the end by every caller, so the
// results do not depend on the token count.
template <class T, int C>
[[gnu::always_inline]] inline void accumulate_block(const PackedBlock& p, const uint8_t* a, uint64_t a_stride,
                                                    __m256* acc, __m256* acc_c) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i s16[C] = {}, s32[C] = {};  // written before read; initialized for the compiler
  // The empty asm statements pin each running sum: unpinned, GCC reassociates the wrapping adds
  // into a tree that keeps every product live and spills half of them (1.46x slower prefill).
  for (int j = 0; j < 8; ++j) {
    for (int t = 0; t < C; ++t) {
      const __m256i av = bcast_u32(a + t * a_stride + kActQs + 4 * j);
      if constexpr (T::kGroup == 0) {
        const __m256i x = _mm256_madd_epi16(_mm256_maddubs_epi16(p.w[j], _mm256_sign_epi8(av, p.s[j])), ones);
        s32[t] = j == 0 ? x : _mm256_add_epi32(s32[t], x);
        __asm__("" : "+x"(s32[t]));
      } else {
        const __m256i x = _mm256_maddubs_epi16(p.w[j], av);
        s16[t] = j % T::kGroup == 0 ? x : _mm256_add_epi16(s16[t], x);
        __asm__("" : "+x"(s16[t]));
        if (j % T::kGroup == T::kGroup - 1) {
          const __m256i wide = _mm256_madd_epi16(s16[t], ones);
          s32[t] = j < T::kGroup ? wide : _mm256_add_epi32(s32[t], wide);
        }
      }
    }
  }
  for (int t = 0; t < C; ++t) {
    const uint8_t* ab = a + t * a_stride;
    const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(s32[t]), _mm256_set1_ps(load_f32(ab)));
    acc[t] = _mm256_fmadd_ps(f, p.dw, acc[t]);
    if constexpr (kHasC<T>) acc_c[t] = _mm256_fmadd_ps(p.cw, _mm256_set1_ps(load_f32(ab + kActSum)), acc_c[t]);
  }
}

// The n packed blocks against C tokens; acc_io[t * 8 + r] and acc_c_io[t * 8 + r] accumulate the
// two terms apart, as gemm_direct does, so a token's result has the same bits either way.
template <class T, int C>
void microkernel(const PackedBlock* pb, int n, const uint8_t* a, uint64_t a_stride, float* acc_io, float* acc_c_io) {
  __m256 acc[C], acc_c[C];
  for (int t = 0; t < C; ++t) {
    acc[t] = _mm256_loadu_ps(acc_io + t * kRows);
    acc_c[t] = _mm256_loadu_ps(acc_c_io + t * kRows);
  }
  for (int i = 0; i < n; ++i) accumulate_block<T, C>(pb[i], a + i * kActBytes, a_stride, acc, acc_c);
  for (int t = 0; t < C; ++t) {
    _mm256_storeu_ps(acc_io + t * kRows, acc[t]);
    _mm256_storeu_ps(acc_c_io + t * kRows, acc_c[t]);
  }
}

// Row pointers of an 8-row group; a short group repeats its last row (results masked off).
struct RowGroup {
  int64_t r0;
  const uint8_t* w0;
  const uint8_t* rows[kRows];
  __m256i mask;

  RowGroup(const GemmArgs& g, int64_t first) : r0(first), w0(g.w + first * g.w_stride) {
    const int64_t n = g.n_rows - first < kRows ? g.n_rows - first : kRows;
    for (int r = 0; r < kRows; ++r) rows[r] = w0 + (r < n ? r : n - 1) * g.w_stride;
    mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
};

// Few tokens: each block is unpacked in registers and used at once, rows streaming past.
template <class T, int C>
void gemm_direct(const GemmArgs& g, const RowGroup& rg, int64_t c0) {
  __m256 acc[C], acc_c[C];
  for (int t = 0; t < C; ++t) acc[t] = acc_c[t] = _mm256_setzero_ps();
  const uint8_t* a = g.a + c0 * g.a_stride;
  const int64_t nb = g.k / kBlockSize;
  // The 8 rows are 8 short streams the hardware prefetchers follow poorly; the next 8 rows (the
  // next tile this thread runs when decoding) are one contiguous range, prefetched in step.
  const uintptr_t next = reinterpret_cast<uintptr_t>(rg.w0) + kRows * g.w_stride;  // may lie past the matrix
  const int64_t next_lines = static_cast<int64_t>(kRows * g.w_stride / 64);
  int64_t line = 0;
  for (int64_t b = 0; b < nb; ++b) {
    for (const int64_t end = (b + 1) * next_lines / nb; line < end; ++line) {
      _mm_prefetch(reinterpret_cast<const char*>(next + static_cast<uintptr_t>(line) * 64), _MM_HINT_T1);
    }
    PackedBlock p;
    unpack8<T>(rg.rows, static_cast<int>(b * T::kBytes), p);
    accumulate_block<T, C>(p, a + b * kActBytes, g.a_stride, acc, acc_c);
  }
  for (int t = 0; t < C; ++t) {
    _mm256_maskstore_ps(g.out + (c0 + t) * g.out_stride + rg.r0, rg.mask, _mm256_add_ps(acc[t], acc_c[t]));
  }
}

// Many tokens: chunks of blocks are unpacked once into an L1-resident buffer and reused by every
// group of 4 tokens.
template <class T>
void gemm_packed(const GemmArgs& g, const RowGroup& rg, int64_t c0, int cols) {
  using Microkernel = void (*)(const PackedBlock*, int, const uint8_t*, uint64_t, float*, float*);
  static constexpr Microkernel kMicrokernels[kTokens + 1] = {nullptr, microkernel<T, 1>, microkernel<T, 2>,
                                                             microkernel<T, 3>, microkernel<T, 4>};
  const int64_t nb = g.k / kBlockSize;
  alignas(32) PackedBlock packed[kChunk];
  alignas(32) float acc[kTokenGroup * kRows];
  alignas(32) float acc_c[kTokenGroup * kRows];
  std::memset(acc, 0, sizeof(float) * static_cast<size_t>(cols * kRows));
  std::memset(acc_c, 0, sizeof(float) * static_cast<size_t>(cols * kRows));
  for (int64_t b0 = 0; b0 < nb; b0 += kChunk) {
    const int n = static_cast<int>(nb - b0 < kChunk ? nb - b0 : kChunk);
    for (int i = 0; i < n; ++i) unpack8<T>(rg.rows, static_cast<int>((b0 + i) * T::kBytes), packed[i]);
    const uint8_t* a0 = g.a + c0 * g.a_stride + b0 * kActBytes;
    for (int t = 0; t < cols; t += kTokens) {
      const int c = cols - t < kTokens ? cols - t : kTokens;
      kMicrokernels[c](packed, n, a0 + t * g.a_stride, g.a_stride, acc + t * kRows, acc_c + t * kRows);
    }
  }
  for (int t = 0; t < cols; ++t) {
    _mm256_maskstore_ps(g.out + (c0 + t) * g.out_stride + rg.r0, rg.mask,
                        _mm256_add_ps(_mm256_load_ps(acc + t * kRows), _mm256_load_ps(acc_c + t * kRows)));
  }
}

template <class T>
void gemm(const GemmArgs& g) {
  using Direct = void (*)(const GemmArgs&, const RowGroup&, int64_t);
  static constexpr Direct kDirect[kTokens + 1] = {nullptr, gemm_direct<T, 1>, gemm_direct<T, 2>, gemm_direct<T, 3>,
                                                  gemm_direct<T, 4>};
  for (int64_t r0 = 0; r0 < g.n_rows; r0 += kRows) {
    const RowGroup rg(g, r0);
    for (int64_t c0 = 0; c0 < g.n_cols; c0 += kTokenGroup) {
      const int cols = static_cast<int>(g.n_cols - c0 < kTokenGroup ? g.n_cols - c0 : kTokenGroup);
      if (cols <= kTokens) {
        kDirect[cols](g, rg, c0);
      } else {
        gemm_packed<T>(g, rg, c0, cols);
      }
    }
  }
}

template <class T, DType kType>
void set_kernel(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(kType)] = {ActFormat::kQ8, quantize_act_q8, gemm<T>};
}

}  // namespace

void fill_avx2_legacy(KernelTable& t) {
  set_kernel<Q4_0, DType::kQ4_0>(t);
  set_kernel<Q4_1, DType::kQ4_1>(t);
  set_kernel<Q5_0, DType::kQ5_0>(t);
  set_kernel<Q5_1, DType::kQ5_1>(t);
  set_kernel<Q8_0, DType::kQ8_0>(t);
}

}  // namespace rf::cpu
