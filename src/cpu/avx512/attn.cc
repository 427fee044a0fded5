// Tiled attention with online softmax for AVX-512: one vector = one 16-position key panel.
//
// Per step of 32 positions: scores of every query row (f32 keys: FMAs with broadcast query
// features; q8_0 keys: VPDPBUSD of unsigned keys with int8 queries), mask, online-softmax update,
// then P.V over value rows (f32 loaded, q8_0 widened in registers) into register tiles of
// rows x 16-float chunks.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "cpu/avx512/vec_math.h"
#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

constexpr int64_t kLanes = 16;
static_assert(kLanes == kKvTile);
constexpr int kScoreRows = 8;  // query rows per score pass (accumulators)

struct Dims {
  int64_t hd;      // head_dim
  int64_t dim;     // head_dim rounded up to 32 (scratch row stride)
  int64_t blocks;  // q8_0 blocks per row
  int64_t chunks;  // 16-float chunks holding head_dim
};

int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

__mmask16 lanes_below(int64_t n) { return n >= kLanes ? static_cast<__mmask16>(0xffff) : n <= 0 ? 0 : first_lanes(n); }

// Scaled queries, zero-padded to dim; for q8_0 keys also int8 per block of 32 with scale and 128 * sum.
void prepare_queries(const AttentionArgs& a, const Dims& dm) {
  const AttentionScratch& s = a.scratch;
  const __m512 scale = _mm512_set1_ps(a.scale);
  for (int64_t r = 0; r < a.n_rows; ++r) {
    const float* src = a.q + (r / a.group) * a.q_stride + (r % a.group) * dm.hd;
    float* dst = s.q + r * dm.dim;
    for (int64_t i = 0; i < dm.dim; i += kLanes) {
      _mm512_store_ps(dst + i, _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes_below(dm.hd - i), src + i), scale));
    }
    if (a.k_format != KvFormat::kQ8_0) continue;
    for (int64_t b = 0; b < dm.blocks; ++b) {
      const __m512 v0 = _mm512_load_ps(dst + b * kKvBlock);
      const __m512 v1 = _mm512_load_ps(dst + b * kKvBlock + kLanes);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
      const float d = amax / 127.0f;
      const __m512 id = _mm512_set1_ps(d > 0.0f ? 1.0f / d : 0.0f);
      const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, id));
      const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, id));
      int8_t* q8 = s.q8 + r * dm.dim + b * kKvBlock;
      _mm_store_si128(reinterpret_cast<__m128i*>(q8), _mm512_cvtsepi32_epi8(q0));
      _mm_store_si128(reinterpret_cast<__m128i*>(q8 + kLanes), _mm512_cvtsepi32_epi8(q1));
      s.q8_d[r * dm.blocks + b] = d;
      s.q8_sum[r * dm.blocks + b] = 128 * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
  }
}

// p[i][16] = q_i . k for the panel's 16 positions, rows i < R starting at q.
template <int R>
void scores_f32(const float* q, const Dims& dm, const float* panel, float* p) {
  __m512 acc[R];
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t d = 0; d < dm.hd; ++d) {
    const __m512 k = _mm512_loadu_ps(panel + d * kLanes);
    for (int i = 0; i < R; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(q[i * dm.dim + d]), k, acc[i]);
  }
  for (int i = 0; i < R; ++i) _mm512_store_ps(p + i * kKvStep, acc[i]);
}

// As scores_f32 for a q8_0 panel: keys flipped to unsigned (k + 128) for VPDPBUSD, the 128 * Σq
// excess subtracted per block before scaling by d_k * d_q.
template <int R>
void scores_q8(const AttentionScratch& s, int64_t r0, const Dims& dm, const uint8_t* panel, float* p) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const auto* scales = reinterpret_cast<const __m256i*>(panel + dm.blocks * kLanes * kKvBlock);
  __m512 acc[R];
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < dm.blocks; ++b) {
    __m512i dot[R];
    for (int i = 0; i < R; ++i) dot[i] = _mm512_setzero_si512();
    const uint8_t* qs = panel + b * kLanes * kKvBlock;
    for (int64_t j = 0; j < kKvBlock / 4; ++j) {
      const __m512i k = _mm512_xor_si512(_mm512_loadu_si512(qs + j * 64), flip);
      for (int i = 0; i < R; ++i) {
        int32_t q4;
        std::memcpy(&q4, s.q8 + (r0 + i) * dm.dim + b * kKvBlock + 4 * j, sizeof q4);
        dot[i] = _mm512_dpbusd_epi32(dot[i], k, _mm512_set1_epi32(q4));
      }
    }
    const __m512 dk = _mm512_cvtph_ps(_mm256_loadu_si256(scales + b));
    for (int i = 0; i < R; ++i) {
      const int64_t at = (r0 + i) * dm.blocks + b;
      const __m512 w = _mm512_mul_ps(dk, _mm512_set1_ps(s.q8_d[at]));
      const __m512i exact = _mm512_sub_epi32(dot[i], _mm512_set1_epi32(s.q8_sum[at]));
      acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), w, acc[i]);
    }
  }
  for (int i = 0; i < R; ++i) _mm512_store_ps(p + i * kKvStep, acc[i]);
}

template <class F>
void for_row_groups(int64_t n_rows, int64_t group_rows, F&& f) {
  for (int64_t r0 = 0; r0 < n_rows; r0 += group_rows) f(r0, n_rows - r0 < group_rows ? n_rows - r0 : group_rows);
}

// Scores of one panel into lanes [lane0, lane0 + 16) of each row's step.
void scores(const AttentionArgs& a, const Dims& dm, const uint8_t* panel, int64_t lane0) {
  const AttentionScratch& s = a.scratch;
  for_row_groups(a.n_rows, kScoreRows, [&](int64_t r0, int64_t rows) {
    float* p = s.p + r0 * kKvStep + lane0;
    if (a.k_format == KvFormat::kQ8_0) {
      switch (rows) {
        case 1: return scores_q8<1>(s, r0, dm, panel, p);
        case 2: return scores_q8<2>(s, r0, dm, panel, p);
        case 3: return scores_q8<3>(s, r0, dm, panel, p);
        case 4: return scores_q8<4>(s, r0, dm, panel, p);
        case 5: return scores_q8<5>(s, r0, dm, panel, p);
        case 6: return scores_q8<6>(s, r0, dm, panel, p);
        case 7: return scores_q8<7>(s, r0, dm, panel, p);
        default: return scores_q8<8>(s, r0, dm, panel, p);
      }
    }
    const float* q = s.q + r0 * dm.dim;
    const auto* k = reinterpret_cast<const float*>(panel);
    switch (rows) {
      case 1: return scores_f32<1>(q, dm, k, p);
      case 2: return scores_f32<2>(q, dm, k, p);
      case 3: return scores_f32<3>(q, dm, k, p);
      case 4: return scores_f32<4>(q, dm, k, p);
      case 5: return scores_f32<5>(q, dm, k, p);
      case 6: return scores_f32<6>(q, dm, k, p);
      case 7: return scores_f32<7>(q, dm, k, p);
      default: return scores_f32<8>(q, dm, k, p);
    }
  });
}

// Masks positions a row may not see, raises each row's running max, and turns scores into
// exp(score - max) with the factor c = exp(old max - new max) that rescales what came before.
// Rows that have seen nothing keep max = -inf; their exp(NaN) and exp(-inf) come out 0.
void online_softmax(const AttentionArgs& a, int64_t step_pos, int64_t n_valid) {
  const AttentionScratch& s = a.scratch;
  const __m512 minus_inf = _mm512_set1_ps(-INFINITY);
  for (int64_t r = 0; r < a.n_rows; ++r) {
    const int64_t visible = min64(n_valid, a.pos0 + r / a.group - step_pos + 1);
    float* p = s.p + r * kKvStep;
    const __m512 x0 = _mm512_mask_mov_ps(minus_inf, lanes_below(visible), _mm512_load_ps(p));
    const __m512 x1 = _mm512_mask_mov_ps(minus_inf, lanes_below(visible - kLanes), _mm512_load_ps(p + kLanes));
    _mm512_store_ps(p, x0);
    _mm512_store_ps(p + kLanes, x1);
    s.c[r] = _mm512_reduce_max_ps(_mm512_max_ps(x0, x1));
  }
  for (int64_t r = 0; r < a.n_rows; r += kLanes) {
    const __mmask16 m = lanes_below(a.n_rows - r);
    const __m512 old_max = _mm512_maskz_loadu_ps(m, s.m + r);
    const __m512 new_max = _mm512_max_ps(old_max, _mm512_maskz_loadu_ps(m, s.c + r));
    _mm512_mask_storeu_ps(s.c + r, m, exp16(_mm512_sub_ps(old_max, new_max)));
    _mm512_mask_storeu_ps(s.m + r, m, new_max);
  }
  for (int64_t r = 0; r < a.n_rows; ++r) {
    float* p = s.p + r * kKvStep;
    const __m512 max = _mm512_set1_ps(s.m[r]);
    const __m512 e0 = exp16(_mm512_sub_ps(_mm512_load_ps(p), max));
    const __m512 e1 = exp16(_mm512_sub_ps(_mm512_load_ps(p + kLanes), max));
    _mm512_store_ps(p, e0);
    _mm512_store_ps(p + kLanes, e1);
    float* l = s.l + r * kLanes;
    _mm512_store_ps(l, _mm512_fmadd_ps(_mm512_load_ps(l), _mm512_set1_ps(s.c[r]), _mm512_add_ps(e0, e1)));
  }
}

// Value rows read as f32 chunks of 16 features: chunks [c0, c0 + C) of position t's row; kTail:
// the last of them is partial and loaded masked (masked loads of streamed memory are several times
// slower, so full chunks never use them).
struct F32Values {
  // P.V passes of 4 rows x 4 chunks read whole rows: 2 half-row passes over streamed rows run at half the speed.
  static constexpr int kRows = 4;
  static constexpr int kChunks = 4;
  const uint8_t* rows;
  uint64_t stride;
  int64_t hd;
  template <int C, bool kTail>
  void load(int64_t t, int64_t c0, __m512 (&v)[C]) const {
    const auto* row = reinterpret_cast<const float*>(rows + static_cast<uint64_t>(t) * stride) + c0 * kLanes;
    for (int j = 0; j < C; ++j) {
      v[j] = kTail && j == C - 1 ? _mm512_maskz_loadu_ps(first_lanes(hd - (c0 + j) * kLanes), row + j * kLanes)
                                 : _mm512_loadu_ps(row + j * kLanes);
    }
  }
};

// q8_0 value rows widened on the fly (rows are whole blocks, so no chunk is partial). The C <= 2
// chunks lie in one block: block c0 / 2, from half c0 % 2 (passes of 2 start at even chunks).
struct Q8Values {
  // 8 rows x 2 chunks: each block is widened once for 8 rows; the rows are short (34 bytes per block).
  static constexpr int kRows = 8;
  static constexpr int kChunks = 2;
  const uint8_t* rows;
  uint64_t stride;
  template <int C, bool kTail>
  void load(int64_t t, int64_t c0, __m512 (&v)[C]) const {
    const uint8_t* block = rows + static_cast<uint64_t>(t) * stride + (c0 / 2) * (2 + kKvBlock);
    uint16_t d16;
    std::memcpy(&d16, block, sizeof d16);
    const __m512 d = _mm512_set1_ps(_cvtsh_ss(d16));
    for (int j = 0; j < C; ++j) {
      const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2 + (c0 % 2 + j) * kLanes));
      v[j] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), d);
    }
  }
};

// o[i] = o[i] * c[i] + Σ_t p[i][t] v[t] over value chunks [c0, c0 + C), rows i < R: R x C
// accumulators, each value vector loaded (or widened) once and used R times.
template <int R, int C, bool kTail, class Values>
void pv_pass(const float* p, const float* c, float* o, int64_t dim, const Values& values, int64_t n_valid, int64_t c0) {
  __m512 acc[R][C];
  for (int i = 0; i < R; ++i) {
    const __m512 ci = _mm512_set1_ps(c[i]);
    for (int j = 0; j < C; ++j) acc[i][j] = _mm512_mul_ps(_mm512_load_ps(o + i * dim + (c0 + j) * kLanes), ci);
  }
  for (int64_t t = 0; t < n_valid; ++t) {
    __m512 v[C];
    values.template load<C, kTail>(t, c0, v);
    for (int i = 0; i < R; ++i) {
      const __m512 pi = _mm512_set1_ps(p[i * kKvStep + t]);
      for (int j = 0; j < C; ++j) acc[i][j] = _mm512_fmadd_ps(pi, v[j], acc[i][j]);
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < C; ++j) _mm512_store_ps(o + i * dim + (c0 + j) * kLanes, acc[i][j]);
  }
}

template <int R, class Values>
void pv_rows(const float* p, const float* c, float* o, const Dims& dm, const Values& values, int64_t n_valid) {
  constexpr int kC = Values::kChunks;
  const int64_t full = dm.hd / kLanes;  // chunks without a partial tail
  int64_t c0 = 0;
  for (; c0 + kC <= full; c0 += kC) pv_pass<R, kC, false>(p, c, o, dm.dim, values, n_valid, c0);
  for (; c0 < full; ++c0) pv_pass<R, 1, false>(p, c, o, dm.dim, values, n_valid, c0);
  if (c0 < dm.chunks) pv_pass<R, 1, true>(p, c, o, dm.dim, values, n_valid, c0);
}

template <class Values>
void accumulate_values(const AttentionArgs& a, const Dims& dm, const Values& values, int64_t n_valid) {
  const AttentionScratch& s = a.scratch;
  for_row_groups(a.n_rows, Values::kRows, [&](int64_t r0, int64_t rows) {
    const float* p = s.p + r0 * kKvStep;
    const float* c = s.c + r0;
    float* o = s.o + r0 * dm.dim;
    switch (rows) {
      case 1: return pv_rows<1>(p, c, o, dm, values, n_valid);
      case 2: return pv_rows<2>(p, c, o, dm, values, n_valid);
      case 3: return pv_rows<3>(p, c, o, dm, values, n_valid);
      case 4: return pv_rows<4>(p, c, o, dm, values, n_valid);
      case 5: return pv_rows<Values::kRows < 5 ? 4 : 5>(p, c, o, dm, values, n_valid);
      case 6: return pv_rows<Values::kRows < 6 ? 4 : 6>(p, c, o, dm, values, n_valid);
      case 7: return pv_rows<Values::kRows < 7 ? 4 : 7>(p, c, o, dm, values, n_valid);
      default: return pv_rows<Values::kRows>(p, c, o, dm, values, n_valid);
    }
  });
}

void write_output(const AttentionArgs& a, const Dims& dm) {
  const AttentionScratch& s = a.scratch;
  for (int64_t r = 0; r < a.n_rows; ++r) {
    const float sum = _mm512_reduce_add_ps(_mm512_load_ps(s.l + r * kLanes));
    float* dst = a.out + (r / a.group) * a.out_stride + (r % a.group) * dm.hd;
    const __m512 scale = _mm512_set1_ps(a.max_sum != nullptr ? 1.0f : 1.0f / sum);
    for (int64_t i = 0; i < dm.hd; i += kLanes) {
      _mm512_mask_storeu_ps(dst + i, lanes_below(dm.hd - i), _mm512_mul_ps(_mm512_load_ps(s.o + r * dm.dim + i), scale));
    }
    if (a.max_sum != nullptr) {
      a.max_sum[2 * r] = s.m[r];
      a.max_sum[2 * r + 1] = sum;
    }
  }
}

#include "cpu/attention_steps.inc"

}  // namespace

void fill_avx512_attn(KernelTable& t) { t.ops.attention = attention; }

}  // namespace rf::cpu
