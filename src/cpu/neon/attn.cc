// Tiled attention with online softmax for NEON: a 16-position key panel is four 4-float vectors.
//
// Per step of 32 positions: scores of every query row (f32 keys: FMAs by query-feature lanes;
// q8_0 keys: SDOT of 4 features x 4 positions against a query lane), mask, online-softmax update,
// then P.V over value rows (f32 loaded, q8_0 widened in registers) into register tiles of 4 rows x
// 4 chunks of 4 floats.
#include <arm_neon.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "cpu/kernel_families.h"
#include "cpu/neon/vec_math.h"

namespace rf::cpu {
namespace {

constexpr int64_t kLanes = 4;
constexpr int kPanelVectors = kKvTile / kLanes;  // 4
constexpr int kScoreRows = 4;                    // 4 rows x 4 vectors of accumulators
constexpr int kPvRows = 4;                       // 4 rows x 4 chunks of accumulators
constexpr int kPvChunks = 4;

struct Dims {
  int64_t hd;      // head_dim
  int64_t dim;     // head_dim rounded up to 32 (scratch row stride)
  int64_t blocks;  // q8_0 blocks per row
  int64_t chunks;  // 4-float chunks holding head_dim
};

int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

void prepare_queries(const AttentionArgs& a, const Dims& dm) {
  const AttentionScratch& s = a.scratch;
  for (int64_t r = 0; r < a.n_rows; ++r) {
    const float* src = a.q + (r / a.group) * a.q_stride + (r % a.group) * dm.hd;
    float* dst = s.q + r * dm.dim;
    for (int64_t i = 0; i < dm.dim; i += kLanes) {
      vst1q_f32(dst + i, vmulq_n_f32(load_n(src + i, dm.hd - i > 0 ? dm.hd - i : 0), a.scale));
    }
    if (a.k_format != KvFormat::kQ8_0) continue;
    for (int64_t b = 0; b < dm.blocks; ++b) {
      const float* x = dst + b * kKvBlock;
      float32x4_t amax = vdupq_n_f32(0);
      for (int j = 0; j < 8; ++j) amax = vmaxq_f32(amax, vabsq_f32(vld1q_f32(x + j * kLanes)));
      const float d = vmaxvq_f32(amax) / 127.0f;
      const float id = d > 0.0f ? 1.0f / d : 0.0f;
      int8_t* q8 = s.q8 + r * dm.dim + b * kKvBlock;
      for (int h = 0; h < 2; ++h) {
        int16x8_t q16[2];
        for (int k = 0; k < 2; ++k) {
          const int32x4_t lo = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + h * 16 + k * 8), id));
          const int32x4_t hi = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + h * 16 + k * 8 + 4), id));
          q16[k] = vcombine_s16(vqmovn_s32(lo), vqmovn_s32(hi));
        }
        vst1q_s8(q8 + h * 16, vcombine_s8(vqmovn_s16(q16[0]), vqmovn_s16(q16[1])));
      }
      s.q8_d[r * dm.blocks + b] = d;
    }
  }
}

// p[i][16] = q_i . k for the panel's 16 positions, rows i < R starting at q.
template <int R>
void scores_f32(const float* q, const Dims& dm, const float* panel, float* p) {
  float32x4_t acc[R][kPanelVectors];
  for (int i = 0; i < R; ++i) {
    for (int v = 0; v < kPanelVectors; ++v) acc[i][v] = vdupq_n_f32(0);
  }
  for (int64_t d = 0; d < dm.hd; ++d) {
    float32x4_t k[kPanelVectors];
    for (int v = 0; v < kPanelVectors; ++v) k[v] = vld1q_f32(panel + d * kKvTile + v * kLanes);
    for (int i = 0; i < R; ++i) {
      const float qi = q[i * dm.dim + d];
      for (int v = 0; v < kPanelVectors; ++v) acc[i][v] = vfmaq_n_f32(acc[i][v], k[v], qi);
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int v = 0; v < kPanelVectors; ++v) vst1q_f32(p + i * kKvStep + v * kLanes, acc[i][v]);
  }
}

// SDOT of one 4-feature group (query lane L of q) into the row's 4 position vectors.
template <int L, int R>
void dot_group(int32x4_t (&dot)[R][kPanelVectors], const int8x16_t (&k)[kPanelVectors], const int8x16_t (&q)[R]) {
  for (int i = 0; i < R; ++i) {
    for (int v = 0; v < kPanelVectors; ++v) dot[i][v] = vdotq_laneq_s32(dot[i][v], k[v], q[i], L);
  }
}

// As scores_f32 for a q8_0 panel: SDOT of 4 positions x 4 features against 4 query features, int32
// per block, then scaled by d_k * d_q into the float scores.
template <int R>
void scores_q8(const AttentionScratch& s, int64_t r0, const Dims& dm, const uint8_t* panel, float* p) {
  const auto* scales = reinterpret_cast<const uint16_t*>(panel + dm.blocks * kKvTile * kKvBlock);
  for (int i = 0; i < R; ++i) {
    for (int v = 0; v < kPanelVectors; ++v) vst1q_f32(p + i * kKvStep + v * kLanes, vdupq_n_f32(0));
  }
  for (int64_t b = 0; b < dm.blocks; ++b) {
    int32x4_t dot[R][kPanelVectors];
    for (int i = 0; i < R; ++i) {
      for (int v = 0; v < kPanelVectors; ++v) dot[i][v] = vdupq_n_s32(0);
    }
    const auto* qs = reinterpret_cast<const int8_t*>(panel + b * kKvTile * kKvBlock);
    for (int h = 0; h < 2; ++h) {  // 16 features (4 groups) of the block per query vector
      int8x16_t q[R];
      for (int i = 0; i < R; ++i) q[i] = vld1q_s8(s.q8 + (r0 + i) * dm.dim + b * kKvBlock + h * 16);
      const int8_t* group = qs + h * 4 * kKvTile * 4;
      const auto load = [&](int g, int8x16_t (&k)[kPanelVectors]) {
        for (int v = 0; v < kPanelVectors; ++v) k[v] = vld1q_s8(group + g * kKvTile * 4 + v * 16);
      };
      int8x16_t k[kPanelVectors];
      load(0, k);
      dot_group<0>(dot, k, q);
      load(1, k);
      dot_group<1>(dot, k, q);
      load(2, k);
      dot_group<2>(dot, k, q);
      load(3, k);
      dot_group<3>(dot, k, q);
    }
    for (int v = 0; v < kPanelVectors; ++v) {
      const float32x4_t dk = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(scales + b * kKvTile + v * kLanes)));
      for (int i = 0; i < R; ++i) {
        float* at = p + i * kKvStep + v * kLanes;
        const float32x4_t w = vmulq_n_f32(dk, s.q8_d[(r0 + i) * dm.blocks + b]);
        vst1q_f32(at, vfmaq_f32(vld1q_f32(at), vcvtq_f32_s32(dot[i][v]), w));
      }
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
  for_row_groups(a.n_rows, kScoreRows, [&](int64_t r0, int64_t rows) {
    float* p = s.p + r0 * kKvStep + lane0;
    if (a.k_format == KvFormat::kQ8_0) {
      switch (rows) {
        case 1: return scores_q8<1>(s, r0, dm, panel, p);
        case 2: return scores_q8<2>(s, r0, dm, panel, p);
        case 3: return scores_q8<3>(s, r0, dm, panel, p);
        default: return scores_q8<4>(s, r0, dm, panel, p);
      }
    }
    const float* q = s.q + r0 * dm.dim;
    const auto* k = reinterpret_cast<const float*>(panel);
    switch (rows) {
      case 1: return scores_f32<1>(q, dm, k, p);
      case 2: return scores_f32<2>(q, dm, k, p);
      case 3: return scores_f32<3>(q, dm, k, p);
      default: return scores_f32<4>(q, dm, k, p);
    }
  });
}

// Masks positions a row may not see, raises each row's running max, and turns scores into
// exp(score - max) with the factor c = exp(old max - new max) that rescales what came before.
// Rows that have seen nothing keep max = -inf; their exp(NaN) and exp(-inf) come out 0.
void online_softmax(const AttentionArgs& a, int64_t step_pos, int64_t n_valid) {
  const AttentionScratch& s = a.scratch;
  constexpr int kVectors = kKvStep / kLanes;
  const float32x4_t minus_inf = vdupq_n_f32(-INFINITY);
  const int32x4_t lane = {0, 1, 2, 3};
  for (int64_t r = 0; r < a.n_rows; ++r) {
    const int64_t visible = min64(n_valid, a.pos0 + r / a.group - step_pos + 1);
    float* p = s.p + r * kKvStep;
    float32x4_t max = minus_inf;
    for (int j = 0; j < kVectors; ++j) {
      const int64_t left = visible - j * kLanes;
      const int32x4_t n = vdupq_n_s32(static_cast<int32_t>(left < 0 ? 0 : left > kLanes ? kLanes : left));
      const float32x4_t x = vbslq_f32(vcltq_s32(lane, n), vld1q_f32(p + j * kLanes), minus_inf);
      vst1q_f32(p + j * kLanes, x);
      max = vmaxq_f32(max, x);
    }
    s.c[r] = vmaxvq_f32(max);
  }
  for (int64_t r = 0; r < a.n_rows; r += kLanes) {
    const int64_t n = min64(kLanes, a.n_rows - r);
    const float32x4_t old_max = load_n(s.m + r, n);
    const float32x4_t new_max = vmaxq_f32(old_max, load_n(s.c + r, n));
    store_n(s.c + r, exp4(vsubq_f32(old_max, new_max)), n);
    store_n(s.m + r, new_max, n);
  }
  for (int64_t r = 0; r < a.n_rows; ++r) {
    float* p = s.p + r * kKvStep;
    const float32x4_t max = vdupq_n_f32(s.m[r]);
    float32x4_t sum[kPanelVectors];
    for (int v = 0; v < kPanelVectors; ++v) sum[v] = vdupq_n_f32(0);
    for (int j = 0; j < kVectors; ++j) {
      const float32x4_t e = exp4(vsubq_f32(vld1q_f32(p + j * kLanes), max));
      vst1q_f32(p + j * kLanes, e);
      sum[j % kPanelVectors] = vaddq_f32(sum[j % kPanelVectors], e);
    }
    float* l = s.l + r * kKvTile;
    for (int v = 0; v < kPanelVectors; ++v) {
      vst1q_f32(l + v * kLanes, vfmaq_n_f32(sum[v], vld1q_f32(l + v * kLanes), s.c[r]));
    }
  }
}

// Value rows read as f32 chunks of 4 features: chunks [c0, c0 + C) of position t's row; kTail:
// the last of them is partial (copied through a padded buffer).
struct F32Values {
  const uint8_t* rows;
  uint64_t stride;
  int64_t hd;
  template <int C, bool kTail>
  void load(int64_t t, int64_t c0, float32x4_t (&v)[C]) const {
    const auto* row = reinterpret_cast<const float*>(rows + static_cast<uint64_t>(t) * stride) + c0 * kLanes;
    for (int j = 0; j < C; ++j) {
      v[j] = kTail && j == C - 1 ? load_n(row + j * kLanes, hd - (c0 + j) * kLanes) : vld1q_f32(row + j * kLanes);
    }
  }
};

// q8_0 value rows widened on the fly (whole blocks, never partial). The C <= 4 chunks of a pass lie
// in one block: block c0 / 8, from chunk c0 % 8 (passes of 4 start at multiples of 4).
struct Q8Values {
  const uint8_t* rows;
  uint64_t stride;
  template <int C, bool kTail>
  void load(int64_t t, int64_t c0, float32x4_t (&v)[C]) const {
    const uint8_t* block = rows + static_cast<uint64_t>(t) * stride + (c0 / 8) * (2 + kKvBlock);
    uint16_t d16;
    std::memcpy(&d16, block, sizeof d16);
    const float d = vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(d16))), 0);
    const auto* q = reinterpret_cast<const int8_t*>(block + 2 + (c0 % 8) * kLanes);
    if constexpr (C == 4) {  // 16 int8 in one load
      const int8x16_t q8 = vld1q_s8(q);
      const int16x8_t lo = vmovl_s8(vget_low_s8(q8));
      const int16x8_t hi = vmovl_s8(vget_high_s8(q8));
      v[0] = vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d);
      v[1] = vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo))), d);
      v[2] = vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d);
      v[3] = vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi))), d);
    } else {
      for (int j = 0; j < C; ++j) {  // 4 int8 each: never read past the block
        int32_t four;
        std::memcpy(&four, q + j * kLanes, sizeof four);
        const int16x8_t q16 = vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(four)));
        v[j] = vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(q16))), d);
      }
    }
  }
};

// o[i] = o[i] * c[i] + Σ_t p[i][t] v[t] over value chunks [c0, c0 + C), rows i < R.
template <int R, int C, bool kTail, class Values>
void pv_pass(const float* p, const float* c, float* o, int64_t dim, const Values& values, int64_t n_valid, int64_t c0) {
  float32x4_t acc[R][C];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < C; ++j) acc[i][j] = vmulq_n_f32(vld1q_f32(o + i * dim + (c0 + j) * kLanes), c[i]);
  }
  for (int64_t t = 0; t < n_valid; ++t) {
    float32x4_t v[C];
    values.template load<C, kTail>(t, c0, v);
    for (int i = 0; i < R; ++i) {
      const float pi = p[i * kKvStep + t];
      for (int j = 0; j < C; ++j) acc[i][j] = vfmaq_n_f32(acc[i][j], v[j], pi);
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < C; ++j) vst1q_f32(o + i * dim + (c0 + j) * kLanes, acc[i][j]);
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
    float32x4_t sum_v = vdupq_n_f32(0);
    for (int v = 0; v < kPanelVectors; ++v) sum_v = vaddq_f32(sum_v, vld1q_f32(l + v * kLanes));
    const float sum = vaddvq_f32(sum_v);
    float* dst = a.out + (r / a.group) * a.out_stride + (r % a.group) * dm.hd;
    const float scale = a.max_sum != nullptr ? 1.0f : 1.0f / sum;
    for (int64_t i = 0; i < dm.hd; i += kLanes) {
      store_n(dst + i, vmulq_n_f32(vld1q_f32(s.o + r * dm.dim + i), scale), dm.hd - i);
    }
    if (a.max_sum != nullptr) {
      a.max_sum[2 * r] = s.m[r];
      a.max_sum[2 * r + 1] = sum;
    }
  }
}

#include "cpu/attention_steps.inc"

}  // namespace

void fill_neon_attn(KernelTable& t) { t.ops.attention = attention; }

}  // namespace rf::cpu
