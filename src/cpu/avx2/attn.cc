// Tiled attention with online softmax for AVX2: a 16-position key panel is two 8-float vectors.
//
// Per step of 32 positions: scores of every query row (f32 keys: FMAs with broadcast query
// features; q8_0 keys: VPMADDUBSW of |q| with sign-adjusted keys, the int8 trick without VNNI),
// mask, online-softmax update, then P.V over value rows (f32 loaded, q8_0 widened in registers)
// into register tiles of 4 rows x 2 chunks of 8 floats.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "cpu/avx2/vec_math.h"
#include "cpu/kernel_families.h"

namespace rf::cpu {
namespace {

constexpr int64_t kLanes = 8;
constexpr int64_t kPanelVectors = kKvTile / kLanes;  // 2
constexpr int kScoreRows = 6;                          // 6 rows x 2 vectors of accumulators
constexpr int kQ8ScoreRows = 4;                        // 4 rows x 2 int32 accumulators, floats in memory
constexpr int kPvRows = 4;                             // 4 rows x 2 chunks of accumulators
constexpr int kPvChunks = 2;

struct Dims {
  int64_t hd;      // head_dim
  int64_t dim;     // head_dim rounded up to 32 (scratch row stride)
  int64_t blocks;  // q8_0 blocks per row
  int64_t chunks;  // 8-float chunks holding head_dim
};

int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

void prepare_queries(const AttentionArgs& a, const Dims& dm) {
  const AttentionScratch& s = a.scratch;
  const __m256 scale = _mm256_set1_ps(a.scale);
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  for (int64_t r = 0; r < a.n_rows; ++r) {
    const float* src = a.q + (r / a.group) * a.q_stride + (r % a.group) * dm.hd;
    float* dst = s.q + r * dm.dim;
    for (int64_t i = 0; i < dm.dim; i += kLanes) {
      _mm256_store_ps(dst + i, _mm256_mul_ps(_mm256_maskload_ps(src + i, lanes_below(dm.hd - i)), scale));
    }
    if (a.k_format != KvFormat::kQ8_0) continue;
    for (int64_t b = 0; b < dm.blocks; ++b) {
      __m256 v[4];
      __m256 amax = _mm256_setzero_ps();
      for (int j = 0; j < 4; ++j) {
        v[j] = _mm256_load_ps(dst + b * kKvBlock + j * kLanes);
        amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_bit, v[j]));
      }
      const float d = hmax8(amax) / 127.0f;
      const __m256 id = _mm256_set1_ps(d > 0.0f ? 1.0f / d : 0.0f);
      __m256i q[4];
      for (int j = 0; j < 4; ++j) q[j] = _mm256_cvtps_epi32(_mm256_mul_ps(v[j], id));
      // int32 -> int16 -> int8 packs work per 128-bit lane; the permute restores element order.
      const __m256i q16a = _mm256_packs_epi32(q[0], q[1]);
      const __m256i q16b = _mm256_packs_epi32(q[2], q[3]);
      const __m256i q8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(q16a, q16b),
                                                     _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_store_si256(reinterpret_cast<__m256i*>(s.q8 + r * dm.dim + b * kKvBlock), q8);
      s.q8_d[r * dm.blocks + b] = d;
    }
  }
}

// p[i][16] = q_i . k for the panel's 16 positions, rows i < R starting at q.
template <int R>
void scores_f32(const float* q, const Dims& dm, const float* panel, float* p) {
  __m256 acc[R][kPanelVectors];
  for (int i = 0; i < R; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t d = 0; d < dm.hd; ++d) {
    const __m256 k0 = _mm256_loadu_ps(panel + d * kKvTile);
    const __m256 k1 = _mm256_loadu_ps(panel + d * kKvTile + kLanes);
    for (int i = 0; i < R; ++i) {
      const __m256 qi = _mm256_broadcast_ss(q + i * dm.dim + d);
      acc[i][0] = _mm256_fmadd_ps(qi, k0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(qi, k1, acc[i][1]);
    }
  }
  for (int i = 0; i < R; ++i) {
    _mm256_store_ps(p + i * kKvStep, acc[i][0]);
    _mm256_store_ps(p + i * kKvStep + kLanes, acc[i][1]);
  }
}

// As scores_f32 for a q8_0 panel: per 4 features of 8 positions, VPMADDUBSW(|q|, sign(k, q)) then
// VPMADDWD with ones (|q| <= 127 and |k| <= 127 keep the int16 pair sums from saturating).
template <int R>
void scores_q8(const AttentionScratch& s, int64_t r0, const Dims& dm, const uint8_t* panel, float* p) {
  const __m256i ones = _mm256_set1_epi16(1);
  const auto* scales = reinterpret_cast<const __m128i*>(panel + dm.blocks * kKvTile * kKvBlock);
  for (int i = 0; i < R; ++i) {
    _mm256_store_ps(p + i * kKvStep, _mm256_setzero_ps());
    _mm256_store_ps(p + i * kKvStep + kLanes, _mm256_setzero_ps());
  }
  for (int64_t b = 0; b < dm.blocks; ++b) {
    __m256i dot[R][kPanelVectors];
    for (int i = 0; i < R; ++i) dot[i][0] = dot[i][1] = _mm256_setzero_si256();
    const uint8_t* qs = panel + b * kKvTile * kKvBlock;
    for (int64_t j = 0; j < kKvBlock / 4; ++j) {
      const __m256i k0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + j * 64));
      const __m256i k1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + j * 64 + 32));
      for (int i = 0; i < R; ++i) {
        int32_t q4;
        std::memcpy(&q4, s.q8 + (r0 + i) * dm.dim + b * kKvBlock + 4 * j, sizeof q4);
        const __m256i qv = _mm256_set1_epi32(q4);
        const __m256i qa = _mm256_sign_epi8(qv, qv);
        dot[i][0] = _mm256_add_epi32(dot[i][0], _mm256_madd_epi16(_mm256_maddubs_epi16(qa, _mm256_sign_epi8(k0, qv)), ones));
        dot[i][1] = _mm256_add_epi32(dot[i][1], _mm256_madd_epi16(_mm256_maddubs_epi16(qa, _mm256_sign_epi8(k1, qv)), ones));
      }
    }
    const __m256 dk0 = _mm256_cvtph_ps(_mm_loadu_si128(scales + 2 * b));
    const __m256 dk1 = _mm256_cvtph_ps(_mm_loadu_si128(scales + 2 * b + 1));
    for (int i = 0; i < R; ++i) {
      const __m256 dq = _mm256_set1_ps(s.q8_d[(r0 + i) * dm.blocks + b]);
      float* row = p + i * kKvStep;
      _mm256_store_ps(row, _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[i][0]), _mm256_mul_ps(dk0, dq), _mm256_load_ps(row)));
      _mm256_store_ps(row + kLanes, _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[i][1]), _mm256_mul_ps(dk1, dq),
                                                    _mm256_load_ps(row + kLanes)));
    }
  }
}

template <class F>
void for_row_groups(int64_t n_rows, int64_t group_rows, F&& f) {
  for (int64_t r0 = 0; r0 < n_rows; r0 += group_rows) f(r0, n_rows - r0 < group_rows ? n_rows - r0 : group_rows);
}

// Scores of one panel into lanes [lane0, lane0 + 16) of each row's step.
void scores(const AttentionArgs& a, const Dims& dm, const uint8_t* panel, int64_t lane0) {
  const AttentionScratch& s = a.scratch;
  if (a.k_format == KvFormat::kQ8_0) {
    for_row_groups(a.n_rows, kQ8ScoreRows, [&](int64_t r0, int64_t rows) {
      float* p = s.p + r0 * kKvStep + lane0;
      switch (rows) {
        case 1: return scores_q8<1>(s, r0, dm, panel, p);
        case 2: return scores_q8<2>(s, r0, dm, panel, p);
        case 3: return scores_q8<3>(s, r0, dm, panel, p);
        default: return scores_q8<4>(s, r0, dm, panel, p);
      }
    });
    return;
  }
  const auto* k = reinterpret_cast<const float*>(panel);
  for_row_groups(a.n_rows, kScoreRows, [&](int64_t r0, int64_t rows) {
    float* p = s.p + r0 * kKvStep + lane0;
    const float* q = s.q + r0 * dm.dim;
    switch (rows) {
      case 1: return scores_f32<1>(q, dm, k, p);
      case 2: return scores_f32<2>(q, dm, k, p);
      case 3: return scores_f32<3>(q, dm, k, p);
      case 4: return scores_f32<4>(q, dm, k, p);
      case 5: return scores_f32<5>(q, dm, k, p);
      default: return scores_f32<6>(q, dm, k, p);
    }
  });
}

// Masks positions a row may not see, raises each row's running max, and turns scores into
// exp(score - max) with the factor c = exp(old max - new max) that rescales what came before.
// Rows that have seen nothing keep max = -inf; their exp(NaN) and exp(-inf) come out 0.
void online_softmax(const AttentionArgs& a, int64_t step_pos, int64_t n_valid) {
  const AttentionScratch& s = a.scratch;
  constexpr int kVectors = kKvStep / kLanes;
  const __m256 minus_inf = _mm256_set1_ps(-INFINITY);
  for (int64_t r = 0; r < a.n_rows; ++r) {
    const int64_t visible = min64(n_valid, a.pos0 + r / a.group - step_pos + 1);
    float* p = s.p + r * kKvStep;
    __m256 max = minus_inf;
    for (int j = 0; j < kVectors; ++j) {
      const __m256 keep = _mm256_castsi256_ps(lanes_below(visible - j * kLanes));
      const __m256 x = _mm256_blendv_ps(minus_inf, _mm256_load_ps(p + j * kLanes), keep);
      _mm256_store_ps(p + j * kLanes, x);
      max = _mm256_max_ps(max, x);
    }
    s.c[r] = hmax8(max);
  }
  for (int64_t r = 0; r < a.n_rows; r += kLanes) {
    const __m256i m = lanes_below(a.n_rows - r);
    const __m256 old_max = _mm256_maskload_ps(s.m + r, m);
    const __m256 new_max = _mm256_max_ps(old_max, _mm256_maskload_ps(s.c + r, m));
    _mm256_maskstore_ps(s.c + r, m, exp8(_mm256_sub_ps(old_max, new_max)));
    _mm256_maskstore_ps(s.m + r, m, new_max);
  }
  for (int64_t r = 0; r < a.n_rows; ++r) {
    float* p = s.p + r * kKvStep;
    const __m256 max = _mm256_set1_ps(s.m[r]);
    __m256 sum[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int j = 0; j < kVectors; ++j) {
      const __m256 e = exp8(_mm256_sub_ps(_mm256_load_ps(p + j * kLanes), max));
      _mm256_store_ps(p + j * kLanes, e);
      sum[j % 2] = _mm256_add_ps(sum[j % 2], e);  // lane j of l gathers positions j and j + 8 (mod 16)
    }
    float* l = s.l + r * kKvTile;
    const __m256 c = _mm256_set1_ps(s.c[r]);
    for (int j = 0; j < 2; ++j) {
      _mm256_store_ps(l + j * kLanes, _mm256_fmadd_ps(_mm256_load_ps(l + j * kLanes), c, sum[j]));
    }
  }
}

// Value rows read as f32 chunks of 8 features: chunks [c0, c0 + C) of position t's row; kTail:
// the last of them is partial and loaded masked.
struct F32Values {
  const uint8_t* rows;
  uint64_t stride;
  int64_t hd;
  template <int C, bool kTail>
  void load(int64_t t, int64_t c0, __m256 (&v)[C]) const {
    const auto* row = reinterpret_cast<const float*>(rows + static_cast<uint64_t>(t) * stride) + c0 * kLanes;
    for (int j = 0; j < C; ++j) {
      v[j] = kTail && j == C - 1 ? _mm256_maskload_ps(row + j * kLanes, lanes_below(hd - (c0 + j) * kLanes))
                                 : _mm256_loadu_ps(row + j * kLanes);
    }
  }
};

// q8_0 value rows widened on the fly (whole blocks, never partial). The C <= 2 chunks of a pass lie
// in one block: block c0 / 4, from quarter c0 % 4 (passes of 2 start at even chunks).
struct Q8Values {
  const uint8_t* rows;
  uint64_t stride;
  template <int C, bool kTail>
  void load(int64_t t, int64_t c0, __m256 (&v)[C]) const {
    const uint8_t* block = rows + static_cast<uint64_t>(t) * stride + (c0 / 4) * (2 + kKvBlock);
    uint16_t d16;
    std::memcpy(&d16, block, sizeof d16);
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(d16));
    for (int j = 0; j < C; ++j) {
      const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(block + 2 + (c0 % 4 + j) * kLanes));
      v[j] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), d);
    }
  }
};

// o[i] = o[i] * c[i] + Σ_t p[i][t] v[t] over value chunks [c0, c0 + C), rows i < R.
template <int R, int C, bool kTail, class Values>
void pv_pass(const float* p, const float* c, float* o, int64_t dim, const Values& values, int64_t n_valid, int64_t c0) {
  __m256 acc[R][C];
  for (int i = 0; i < R; ++i) {
    const __m256 ci = _mm256_set1_ps(c[i]);
    for (int j = 0; j < C; ++j) acc[i][j] = _mm256_mul_ps(_mm256_load_ps(o + i * dim + (c0 + j) * kLanes), ci);
  }
  for (int64_t t = 0; t < n_valid; ++t) {
    __m256 v[C];
    values.template load<C, kTail>(t, c0, v);
    for (int i = 0; i < R; ++i) {
      const __m256 pi = _mm256_broadcast_ss(p + i * kKvStep + t);
      for (int j = 0; j < C; ++j) acc[i][j] = _mm256_fmadd_ps(pi, v[j], acc[i][j]);
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < C; ++j) _mm256_store_ps(o + i * dim + (c0 + j) * kLanes, acc[i][j]);
  }
}

template <int R, class Values>
void pv_rows(const float* p, const float* c, float* o, const Dims& dm, const Values& values, int64_t n_valid) {
  const int64_t full = dm.hd / kLanes;  // chunks without a partial tail
  int64_t c0 = 0;
  for (; c0 + kPvChunks <= full; c0 += kPvChunks) pv_pass<R, kPvChunks, false>(p, c, o, dm.dim, values, n_valid, c0);
  for (; c0 < full; ++c0) pv_pass<R, 1, false>(p, c, o, dm.dim, values, n_valid, c0);
  if (c0 < dm.chunks) pv_pass<R, 1, true>(p, c, o, dm.dim, values, n_valid, c0);
}

template <class Values>
void accumulate_values(const AttentionArgs& a, const Dims& dm, const Values& values, int64_t n_valid) {
  const AttentionScratch& s = a.scratch;
  for_row_groups(a.n_rows, kPvRows, [&](int64_t r0, int64_t rows) {
    const float* p = s.p + r0 * kKvStep;
    const float* c = s.c + r0;
    float* o = s.o + r0 * dm.dim;
    switch (rows) {
      case 1: return pv_rows<1>(p, c, o, dm, values, n_valid);
      case 2: return pv_rows<2>(p, c, o, dm, values, n_valid);
      case 3: return pv_rows<3>(p, c, o, dm, values, n_valid);
      default: return pv_rows<4>(p, c, o, dm, values, n_valid);
    }
  });
}

void write_output(const AttentionArgs& a, const Dims& dm) {
  const AttentionScratch& s = a.scratch;
  for (int64_t r = 0; r < a.n_rows; ++r) {
    const float* l = s.l + r * kKvTile;
    const float sum = hsum8(_mm256_add_ps(_mm256_load_ps(l), _mm256_load_ps(l + kLanes)));
    float* dst = a.out + (r / a.group) * a.out_stride + (r % a.group) * dm.hd;
    const __m256 scale = _mm256_set1_ps(a.max_sum != nullptr ? 1.0f : 1.0f / sum);
    for (int64_t i = 0; i < dm.hd; i += kLanes) {
      _mm256_maskstore_ps(dst + i, lanes_below(dm.hd - i), _mm256_mul_ps(_mm256_load_ps(s.o + r * dm.dim + i), scale));
    }
    if (a.max_sum != nullptr) {
      a.max_sum[2 * r] = s.m[r];
      a.max_sum[2 * r + 1] = sum;
    }
  }
}

#include "cpu/attention_steps.inc"

}  // namespace

void fill_avx2_attn(KernelTable& t) { t.ops.attention = attention; }

}  // namespace rf::cpu
