// Legacy-quant kernels (q4_0, q4_1, q5_0, q5_1, q8_0 x ActBlockQ8) for AVX-512 with VNNI.
//
// VPDPBUSD multiplies unsigned by signed bytes: nibble weights are unsigned already and q8_0 is
// shifted by +128 (xor 0x80). Each block's dot is then, as in the scalar level,
//   dw * da * Σ q a + cw * sum_a,  cw = -offset * dw (q4_0 8, q5_0 16, q8_0 128) or the min m.
// Weights are consumed 16 rows at a time, one row per 32-bit lane: a block of 16 rows becomes 8
// vectors (lane r of vector j = bytes 4j..4j+3 of row r's block) plus dw/cw vectors, and each
// VPDPBUSD takes 4 activation bytes broadcast from memory, so there is no horizontal reduction.
// Up to 8 tokens use each unpacked block straight from registers (decode streams rows, the next
// 16 rows prefetched as one range); more tokens unpack chunks of 32 blocks once into an L1-sized
// buffer that every group of 8 tokens reuses. Weights repacked at load into the interleaved layout
// (cpu/repack.h) need no transposes, so they are always unpacked in registers, 8 tokens per pass.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cpu/kernel_families.h"
#include "quant/blocks.h"

namespace rf::cpu {
namespace {

// Byte layout of each weight type; kQh/kMin < 0: absent. kOffset: what cw subtracts per unit dw.
struct Q4_0 {
  [[maybe_unused]] static constexpr int kBytes = 18, kQs = 2, kQh = -1, kMin = -1, kOffset = 8;
  static constexpr bool kNibbles = true;
};
struct Q4_1 {
  [[maybe_unused]] static constexpr int kBytes = 20, kQs = 4, kQh = -1, kMin = 2, kOffset = 0;
  static constexpr bool kNibbles = true;
};
struct Q5_0 {
  [[maybe_unused]] static constexpr int kBytes = 22, kQs = 6, kQh = 2, kMin = -1, kOffset = 16;
  static constexpr bool kNibbles = true;
};
struct Q5_1 {
  [[maybe_unused]] static constexpr int kBytes = 24, kQs = 8, kQh = 4, kMin = 2, kOffset = 0;
  static constexpr bool kNibbles = true;
};
struct Q8_0 {
  [[maybe_unused]] static constexpr int kBytes = 34, kQs = 2, kQh = -1, kMin = -1, kOffset = 128;
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
__m128i loadu128(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

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

// ---- 16 weight rows per pass, one per 32-bit lane ------------------------------------------

constexpr int kRows = 16;      // one weight row per 32-bit lane
constexpr int kChunk = 32;     // blocks per repacked chunk: 32 x 640 B = 20 KiB stays in L1
constexpr int kTokens = 8;     // tokens per microkernel pass
constexpr int kTokenGroup = 64;
// Interleaved blocks ahead to prefetch when decoding (4 measured best of 2, 4, 8).
constexpr int64_t kInterleavedAhead = 4;

// One block of 16 rows: w[j] lane r = bytes 4j..4j+3 (unsigned) of row r's block.
struct PackedBlock {
  __m512i w[8];
  __m512 dw;
  __m512 cw;
};

// 16 rows x 4 dwords at rows[r] + offset -> q[j] lane r = dword j of row r.
[[gnu::always_inline]] inline void transpose16x4(const uint8_t* const* rows, int offset, __m512i* q) {
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

// The u16 (u32) at rows[r] + off of 16 rows, packed in general registers: cheaper than a gather.
[[gnu::always_inline]] inline __m256i gather_u16(const uint8_t* const* rows, int off) {
  long long q[4];
  for (int i = 0; i < 4; ++i) {
    uint64_t v = 0;
    for (int j = 0; j < 4; ++j) {
      uint16_t h;
      std::memcpy(&h, rows[4 * i + j] + off, sizeof(h));
      v |= static_cast<uint64_t>(h) << (16 * j);
    }
    q[i] = static_cast<long long>(v);
  }
  return _mm256_setr_epi64x(q[0], q[1], q[2], q[3]);
}
[[gnu::always_inline]] inline __m512i gather_u32(const uint8_t* const* rows, int off) {
  long long q[8];
  for (int i = 0; i < 8; ++i) {
    q[i] = static_cast<long long>(load_u32(rows[2 * i] + off) | uint64_t{load_u32(rows[2 * i + 1] + off)} << 32);
  }
  return _mm512_setr_epi64(q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7]);
}

// Block at byte offset `off` of 16 rows (rows[r] = row starts; short tiles repeat a row) -> pb.
template <class T>
[[gnu::always_inline]] inline void unpack16(const uint8_t* const* rows, int off, PackedBlock& pb) {
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  if constexpr (T::kNibbles) {
    __m512i q[4];
    transpose16x4(rows, off + T::kQs, q);
    for (int j = 0; j < 4; ++j) {
      pb.w[j] = _mm512_and_si512(q[j], low4);
      pb.w[j + 4] = _mm512_and_si512(_mm512_srli_epi32(q[j], 4), low4);
    }
    if constexpr (T::kQh >= 0) {
      // Element 4j + p takes bit 4j + p of qh: replicate qh byte j/2 over the dword, test its bits.
      const __m512i qh = gather_u32(rows, off + T::kQh);
      const __m512i bits_lo = _mm512_set1_epi32(0x08040201);
      const __m512i bits_hi = _mm512_set1_epi32(static_cast<int>(0x80402010u));
      const __m512i dword_bytes = _mm512_set4_epi32(0x0c0c0c0c, 0x08080808, 0x04040404, 0);
      for (int j = 0; j < 8; ++j) {
        const __m512i pick = _mm512_add_epi32(dword_bytes, _mm512_set1_epi32((j / 2) * 0x01010101));
        const __mmask64 m = _mm512_test_epi8_mask(_mm512_shuffle_epi8(qh, pick), j % 2 ? bits_hi : bits_lo);
        pb.w[j] = _mm512_mask_add_epi8(pb.w[j], m, pb.w[j], _mm512_set1_epi8(16));
      }
    }
  } else {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    transpose16x4(rows, off + T::kQs, pb.w);
    transpose16x4(rows, off + T::kQs + 16, pb.w + 4);
    for (__m512i& v : pb.w) v = _mm512_xor_si512(v, flip);
  }
  pb.dw = _mm512_cvtph_ps(gather_u16(rows, off));
  if constexpr (T::kMin >= 0) {
    pb.cw = _mm512_cvtph_ps(gather_u16(rows, off + T::kMin));
  } else {
    pb.cw = _mm512_mul_ps(pb.dw, _mm512_set1_ps(-static_cast<float>(T::kOffset)));
  }
}

// A block of the interleaved layout (cpu/repack.h): the 16 rows' dwords are already lane-ordered,
// so unpacking is plain loads — no transposes, one contiguous stream for all 16 rows.
template <class T>
[[gnu::always_inline]] inline void unpack16_interleaved(const uint8_t* block, PackedBlock& pb) {
  static_assert(T::kQh < 0 && T::kMin < 0, "interleaved: q4_0 and q8_0 only");
  const auto load = [block](int j) { return _mm512_loadu_si512(block + 64 * j); };
  if constexpr (T::kNibbles) {
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    for (int j = 0; j < 4; ++j) {
      const __m512i q = load(j);
      pb.w[j] = _mm512_and_si512(q, low4);
      pb.w[j + 4] = _mm512_and_si512(_mm512_srli_epi32(q, 4), low4);
    }
  } else {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    for (int j = 0; j < 8; ++j) pb.w[j] = _mm512_xor_si512(load(j), flip);
  }
  constexpr int kScales = (T::kBytes - 2) * kRows;  // after the 16 rows' quants
  pb.dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + kScales)));
  pb.cw = _mm512_mul_ps(pb.dw, _mm512_set1_ps(-static_cast<float>(T::kOffset)));
}

// Block b of a row group, in either layout.
template <class T, bool kInterleaved>
[[gnu::always_inline]] inline void unpack_block(const uint8_t* const* rows, const uint8_t* group, int64_t b,
                                                PackedBlock& pb) {
  if constexpr (kInterleaved) {
    unpack16_interleaved<T>(group + b * kRows * T::kBytes, pb);
  } else {
    unpack16<T>(rows, static_cast<int>(b * T::kBytes), pb);
  }
}

__m512i bcast_u32(const uint8_t* p) { return _mm512_set1_epi32(static_cast<int>(load_u32(p))); }

// For the 16 rows of token t: acc[t] += dw * da * Σ q a and acc_c[t] += cw * sum_a, block p against
// activation blocks a + t * a_stride. Two chains, summed once at the end by every caller: the
// integer dot is exact whatever the chain split, so results do not depend on the token count.
template <int C>
[[gnu::always_inline]] inline void accumulate_block(const PackedBlock& p, const uint8_t* a, uint64_t a_stride,
                                                    __m512* acc, __m512* acc_c) {
  // j outer, tokens inner: independent VPDPBUSD chains in flight; few tokens split each chain in two.
  constexpr int kSplit = C < 4 ? 2 : 1;
  __m512i s[kSplit][C];
  for (int h = 0; h < kSplit; ++h) {
    for (int t = 0; t < C; ++t) {
      s[h][t] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), p.w[h], bcast_u32(a + t * a_stride + kActQs + 4 * h));
    }
  }
  for (int j = kSplit; j < 8; ++j) {
    for (int t = 0; t < C; ++t) {
      s[j % kSplit][t] = _mm512_dpbusd_epi32(s[j % kSplit][t], p.w[j], bcast_u32(a + t * a_stride + kActQs + 4 * j));
    }
  }
  for (int t = 0; t < C; ++t) {
    const uint8_t* ab = a + t * a_stride;
    const __m512i dot = kSplit == 2 ? _mm512_add_epi32(s[0][t], s[kSplit - 1][t]) : s[0][t];
    const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(load_f32(ab)));
    acc[t] = _mm512_fmadd_ps(f, p.dw, acc[t]);
    acc_c[t] = _mm512_fmadd_ps(p.cw, _mm512_set1_ps(load_f32(ab + kActSum)), acc_c[t]);
  }
}

// The n packed blocks against C tokens; acc_io[t * 16 + r] and acc_c_io[t * 16 + r] accumulate
// the two terms apart, as gemm_direct does, so a token's result has the same bits either way.
template <int C>
void microkernel(const PackedBlock* pb, int n, const uint8_t* a, uint64_t a_stride, float* acc_io, float* acc_c_io) {
  __m512 acc[C], acc_c[C];
  for (int t = 0; t < C; ++t) {
    acc[t] = _mm512_loadu_ps(acc_io + t * kRows);
    acc_c[t] = _mm512_loadu_ps(acc_c_io + t * kRows);
  }
  for (int i = 0; i < n; ++i) accumulate_block<C>(pb[i], a + i * kActBytes, a_stride, acc, acc_c);
  for (int t = 0; t < C; ++t) {
    _mm512_storeu_ps(acc_io + t * kRows, acc[t]);
    _mm512_storeu_ps(acc_c_io + t * kRows, acc_c[t]);
  }
}

using Microkernel = void (*)(const PackedBlock*, int, const uint8_t*, uint64_t, float*, float*);
constexpr Microkernel kMicrokernels[kTokens + 1] = {nullptr,         microkernel<1>, microkernel<2>,
                                                    microkernel<3>, microkernel<4>, microkernel<5>,
                                                    microkernel<6>, microkernel<7>, microkernel<8>};

// Row pointers of a 16-row group; a short group repeats its last row (results masked off).
struct RowGroup {
  int64_t r0;
  const uint8_t* w0;
  const uint8_t* rows[kRows];
  __mmask16 mask;

  RowGroup(const GemmArgs& g, int64_t first) : r0(first), w0(g.w + first * g.w_stride) {
    const int64_t n = g.n_rows - first < kRows ? g.n_rows - first : kRows;
    for (int r = 0; r < kRows; ++r) rows[r] = w0 + (r < n ? r : n - 1) * g.w_stride;
    mask = static_cast<__mmask16>((1u << n) - 1);
  }
};

// Few tokens: each block is unpacked in registers and used at once, rows streaming past.
template <class T, bool kInterleaved, int C>
void gemm_direct(const GemmArgs& g, const RowGroup& rg, int64_t c0) {
  __m512 acc[C], acc_c[C];
  for (int t = 0; t < C; ++t) acc[t] = acc_c[t] = _mm512_setzero_ps();
  const uint8_t* a = g.a + c0 * g.a_stride;
  const int64_t nb = g.k / kBlockSize;
  // The file's 16 rows are 16 short streams the hardware prefetchers follow poorly; the next 16
  // rows (the next tile this thread runs when decoding) are one contiguous range, prefetched in
  // step. Interleaved, the group is one stream, yet the prefetchers still left q8_0 decode a few
  // percent short: the block kInterleavedAhead blocks on is prefetched line by line.
  const uintptr_t next = reinterpret_cast<uintptr_t>(rg.w0) + kRows * g.w_stride;  // may lie past the matrix
  const int64_t next_lines = static_cast<int64_t>(kRows * g.w_stride / 64);
  int64_t line = 0;
  for (int64_t b = 0; b < nb; ++b) {
    if constexpr (kInterleaved) {
      const uintptr_t ahead = reinterpret_cast<uintptr_t>(rg.w0) + static_cast<uintptr_t>((b + kInterleavedAhead) * kRows * T::kBytes);
      for (int l = 0; l < kRows * T::kBytes; l += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead + static_cast<uintptr_t>(l)), _MM_HINT_T0);
    } else {
      for (const int64_t end = (b + 1) * next_lines / nb; line < end; ++line) {
        _mm_prefetch(reinterpret_cast<const char*>(next + static_cast<uintptr_t>(line) * 64), _MM_HINT_T1);
      }
    }
    PackedBlock p;
    unpack_block<T, kInterleaved>(rg.rows, rg.w0, b, p);
    accumulate_block<C>(p, a + b * kActBytes, g.a_stride, acc, acc_c);
  }
  for (int t = 0; t < C; ++t) {
    _mm512_mask_storeu_ps(g.out + (c0 + t) * g.out_stride + rg.r0, rg.mask, _mm512_add_ps(acc[t], acc_c[t]));
  }
}

// Many tokens, file layout: chunks of blocks are unpacked (transposed) once into an L1-resident
// buffer and reused by every group of 8 tokens.
template <class T>
void gemm_packed(const GemmArgs& g, const RowGroup& rg, int64_t c0, int cols) {
  const int64_t nb = g.k / kBlockSize;
  alignas(64) PackedBlock packed[kChunk];
  alignas(64) float acc[kTokenGroup * kRows];
  alignas(64) float acc_c[kTokenGroup * kRows];
  std::memset(acc, 0, sizeof(float) * static_cast<size_t>(cols * kRows));
  std::memset(acc_c, 0, sizeof(float) * static_cast<size_t>(cols * kRows));
  for (int64_t b0 = 0; b0 < nb; b0 += kChunk) {
    const int n = static_cast<int>(nb - b0 < kChunk ? nb - b0 : kChunk);
    for (int i = 0; i < n; ++i) unpack16<T>(rg.rows, static_cast<int>((b0 + i) * T::kBytes), packed[i]);
    const uint8_t* a0 = g.a + c0 * g.a_stride + b0 * kActBytes;
    for (int t = 0; t < cols; t += kTokens) {
      const int c = cols - t < kTokens ? cols - t : kTokens;
      kMicrokernels[c](packed, n, a0 + t * g.a_stride, g.a_stride, acc + t * kRows, acc_c + t * kRows);
    }
  }
  for (int t = 0; t < cols; ++t) {
    _mm512_mask_storeu_ps(g.out + (c0 + t) * g.out_stride + rg.r0, rg.mask,
                          _mm512_add_ps(_mm512_load_ps(acc + t * kRows), _mm512_load_ps(acc_c + t * kRows)));
  }
}

// kInterleaved: g.w is in the 16-row interleaved layout (rows of a group 16 * w_stride bytes, r0
// multiples of 16, the last group padded).
template <class T, bool kInterleaved>
void gemm(const GemmArgs& g) {
  using Direct = void (*)(const GemmArgs&, const RowGroup&, int64_t);
  static constexpr Direct kDirect[kTokens + 1] = {nullptr,
                                                  gemm_direct<T, kInterleaved, 1>,
                                                  gemm_direct<T, kInterleaved, 2>,
                                                  gemm_direct<T, kInterleaved, 3>,
                                                  gemm_direct<T, kInterleaved, 4>,
                                                  gemm_direct<T, kInterleaved, 5>,
                                                  gemm_direct<T, kInterleaved, 6>,
                                                  gemm_direct<T, kInterleaved, 7>,
                                                  gemm_direct<T, kInterleaved, 8>};
  for (int64_t r0 = 0; r0 < g.n_rows; r0 += kRows) {
    const RowGroup rg(g, r0);
    for (int64_t c0 = 0; c0 < g.n_cols; c0 += kTokenGroup) {
      const int cols = static_cast<int>(g.n_cols - c0 < kTokenGroup ? g.n_cols - c0 : kTokenGroup);
      if (kInterleaved) {
        // Unpacking interleaved blocks is a few register ops: redoing it per 8 tokens (from L1/L2)
        // beats storing and reloading unpacked copies (16 decode streams: +27 %, pp512 equal).
        for (int t = 0; t < cols; t += kTokens) kDirect[cols - t < kTokens ? cols - t : kTokens](g, rg, c0 + t);
      } else if (cols <= kTokens) {
        kDirect[cols](g, rg, c0);
      } else {
        gemm_packed<T>(g, rg, c0, cols);
      }
    }
  }
}

template <class T, DType kType>
void set_kernel(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(kType)] = {ActFormat::kQ8, quantize_act_q8, gemm<T, false>};
}

template <class T, DType kType>
void set_interleaved_kernel(KernelTable& t) {
  t.gemm_interleaved[static_cast<uint32_t>(kType)] = {ActFormat::kQ8, quantize_act_q8, gemm<T, true>};
}

}  // namespace

void fill_avx512_legacy(KernelTable& t) {
  set_kernel<Q4_0, DType::kQ4_0>(t);
  set_kernel<Q4_1, DType::kQ4_1>(t);
  set_kernel<Q5_0, DType::kQ5_0>(t);
  set_kernel<Q5_1, DType::kQ5_1>(t);
  set_kernel<Q8_0, DType::kQ8_0>(t);
  set_interleaved_kernel<Q4_0, DType::kQ4_0>(t);
  set_interleaved_kernel<Q8_0, DType::kQ8_0>(t);
}

}  // namespace rf::cpu
