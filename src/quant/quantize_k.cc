// The k-quant quantizers (256-element super-blocks), following ggml's quantize_row_*_K_ref.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/fp16.h"
#include "quant/quantize_blocks.h"

namespace rf::quant_detail {
namespace {

constexpr int kSubBlocks = kSuperBlockSize / 32;  // q4_K/q5_K sub-blocks of 32

// Fits x[i] ~= scale * L[i] - neg_min with L in [0, nmax] and neg_min >= 0 (ggml's
// make_qkx2_quants with squared error): start from the grid spanning [min(x, 0), max(x)], then try
// nstep + 1 grids of (nmax + rmin + rdelta * k) steps over that span, each refit by weighted least
// squares, keeping the lowest weighted error. Returns scale (0 for a constant block).
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, uint8_t* Laux,
                    float rmin, float rdelta, int nstep, float& neg_min) {
  float min = x[0];
  float max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    min = std::min(min, x[i]);
    max = std::max(max, x[i]);
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::fill(L, L + n, uint8_t{0});
    neg_min = -min;
    return 0.0f;
  }
  const auto level = [nmax](float v) { return static_cast<uint8_t>(std::clamp(nearest_int(v), 0, nmax)); };
  float iscale = static_cast<float>(nmax) / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = level(iscale * (x[i] - min));
    const float diff = scale * L[i] + min - x[i];
    best_error += w[i] * (diff * diff);
  }
  for (int k = 0; k <= nstep; ++k) {
    iscale = (rmin + rdelta * static_cast<float>(k) + static_cast<float>(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      Laux[i] = level(iscale * (x[i] - min));
      const float l = Laux[i];
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) continue;
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (this_min > 0) {  // the format only subtracts: refit the scale with min pinned at 0
      this_min = 0;
      this_scale = sum_xl / sum_l2;
    }
    float error = 0;
    for (int i = 0; i < n; ++i) {
      const float diff = this_scale * Laux[i] + this_min - x[i];
      error += w[i] * (diff * diff);
    }
    if (error < best_error) {
      std::copy(Laux, Laux + n, L);
      best_error = error;
      scale = this_scale;
      min = this_min;
    }
  }
  neg_min = -min;
  return scale;
}

// Shared by q4_K (nmax 15) and q5_K (nmax 31): per-sub-block scale/min fits, quantized to 6 bits
// against the super-block maxima, then every element re-rounded against the stored scales.
// Writes d, dmin, scales and L[256] (values 0..nmax).
void quantize_k4_super_block(const float* x, int nmax, float rmin, int nstep, uint16_t& d16,
                             uint16_t& dmin16, uint8_t* packed_scales, uint8_t* L) {
  float scales[kSubBlocks];
  float mins[kSubBlocks];
  float weights[32];
  uint8_t Laux[32];
  float max_scale = 0;
  float max_min = 0;
  for (int s = 0; s < kSubBlocks; ++s) {
    const float* xs = x + 32 * s;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    // Weight large elements more, but never zero: av_x keeps small ones in the fit.
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[s] = fit_scale_min(32, nmax, xs, weights, L + 32 * s, Laux, rmin, 0.1f, nstep, mins[s]);
    max_scale = std::max(max_scale, scales[s]);
    max_min = std::max(max_min, mins[s]);
  }

  // An inverse that overflows (max tiny) belongs to a block whose f16 d rounds to 0: use 0.
  const float inv_scale = max_scale > 0 && std::isfinite(63.f / max_scale) ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 && std::isfinite(63.f / max_min) ? 63.f / max_min : 0.f;
  uint8_t ls[kSubBlocks];
  uint8_t lm[kSubBlocks];
  for (int s = 0; s < kSubBlocks; ++s) {
    ls[s] = static_cast<uint8_t>(std::clamp(nearest_int(inv_scale * scales[s]), 0, 63));
    lm[s] = static_cast<uint8_t>(std::clamp(nearest_int(inv_min * mins[s]), 0, 63));
  }
  pack_scales_mins_k4(ls, lm, packed_scales);
  d16 = f32_to_fp16(max_scale / 63.f);
  dmin16 = f32_to_fp16(max_min / 63.f);

  for (int s = 0; s < kSubBlocks; ++s) {
    uint8_t sc, m;
    unpack_scale_min_k4(s, packed_scales, sc, m);
    const float d = fp16_to_f32(d16) * sc;
    if (d == 0) continue;  // every element of this sub-block decodes to -dm whatever L holds
    const float dm = fp16_to_f32(dmin16) * m;
    for (int l = 0; l < 32; ++l) {
      L[32 * s + l] = static_cast<uint8_t>(std::clamp(nearest_int((x[32 * s + l] + dm) / d), 0, nmax));
    }
  }
}

// Fits x[i] ~= scale * (L[i] - nmax) with L in [0, 2 nmax) (ggml's make_qx_quants, rmse_type 1:
// weights x^2): the signed max maps to -nmax, then 18 nearby grids are refit by least squares.
float fit_symmetric_scale(int n, int nmax, const float* x, int8_t* L) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax < 1e-15f) {  // all (nearly) zero: ggml's GROUP_MAX_EPS
    std::fill(L, L + n, int8_t{0});
    return 0.f;
  }
  const auto level = [nmax](float v) { return std::clamp(nearest_int(v), -nmax, nmax - 1); };
  float iscale = static_cast<float>(-nmax) / max;
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = level(iscale * x[i]);
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    const auto lf = static_cast<float>(l);
    sumlx += w * x[i] * lf;
    suml2 += w * lf * lf;
  }
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(k)) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = level(iscale * x[i]);
      const float w = x[i] * x[i];
      const auto lf = static_cast<float>(l);
      sumlx += w * x[i] * lf;
      suml2 += w * lf * lf;
    }
    // Least-squares error is sum(w x^2) - sumlx^2 / suml2: larger sumlx^2 / suml2 is better.
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(level(iscale * x[i]) + nmax);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

}  // namespace

void quantize_q4_K(const float* x, BlockQ4_K* y, int64_t nb) {
  uint8_t L[kSuperBlockSize];
  for (int64_t b = 0; b < nb; ++b, x += kSuperBlockSize) {
    quantize_k4_super_block(x, 15, -1.f, 20, y[b].d, y[b].dmin, y[b].scales, L);
    for (int p = 0; p < kSubBlocks / 2; ++p) {
      for (int l = 0; l < 32; ++l) {
        y[b].qs[32 * p + l] = static_cast<uint8_t>(L[64 * p + l] | (L[64 * p + 32 + l] << 4));
      }
    }
  }
}

void quantize_q5_K(const float* x, BlockQ5_K* y, int64_t nb) {
  uint8_t L[kSuperBlockSize];
  for (int64_t b = 0; b < nb; ++b, x += kSuperBlockSize) {
    quantize_k4_super_block(x, 31, -0.5f, 15, y[b].d, y[b].dmin, y[b].scales, L);
    std::memset(y[b].qh, 0, sizeof(y[b].qh));
    for (int p = 0; p < kSubBlocks / 2; ++p) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * p + l];
        const int hi = L[64 * p + 32 + l];
        y[b].qs[32 * p + l] = static_cast<uint8_t>((lo & 0xf) | ((hi & 0xf) << 4));
        y[b].qh[l] = static_cast<uint8_t>(y[b].qh[l] | ((lo >> 4) << (2 * p)) | ((hi >> 4) << (2 * p + 1)));
      }
    }
  }
}

void quantize_q6_K(const float* x, BlockQ6_K* y, int64_t nb) {
  constexpr int kGroups = kSuperBlockSize / 16;
  int8_t L[kSuperBlockSize];
  float scales[kGroups];
  for (int64_t b = 0; b < nb; ++b, x += kSuperBlockSize) {
    float max_scale = 0;
    float max_abs_scale = 0;
    for (int g = 0; g < kGroups; ++g) {
      scales[g] = fit_symmetric_scale(16, 32, x + 16 * g, L + 16 * g);
      if (std::fabs(scales[g]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[g]);
        max_scale = scales[g];
      }
    }
    if (max_abs_scale < 1e-15f) {
      std::memset(&y[b], 0, sizeof(y[b]));
      continue;
    }
    // The largest-magnitude scale maps to -128 so the int8 scales use their full range.
    const float iscale = -128.f / max_scale;
    y[b].d = f32_to_fp16(1 / iscale);
    for (int g = 0; g < kGroups; ++g) {
      y[b].scales[g] = static_cast<int8_t>(std::clamp(nearest_int(iscale * scales[g]), -128, 127));
    }
    for (int g = 0; g < kGroups; ++g) {
      const float d = fp16_to_f32(y[b].d) * y[b].scales[g];
      if (d == 0) continue;
      for (int i = 0; i < 16; ++i) {
        L[16 * g + i] = static_cast<int8_t>(std::clamp(nearest_int(x[16 * g + i] / d), -32, 31) + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const int8_t* Lh = L + 128 * h;
      uint8_t* ql = y[b].ql + 64 * h;
      uint8_t* qh = y[b].qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        ql[l] = static_cast<uint8_t>((Lh[l] & 0xf) | ((Lh[l + 64] & 0xf) << 4));
        ql[l + 32] = static_cast<uint8_t>((Lh[l + 32] & 0xf) | ((Lh[l + 96] & 0xf) << 4));
        qh[l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                     ((Lh[l + 96] >> 4) << 6));
      }
    }
  }
}

void quantize_q8_K(const float* x, BlockQ8_K* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += kSuperBlockSize) {
    float max = 0;
    float amax = 0;
    for (int j = 0; j < kSuperBlockSize; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    // The signed max maps to -127 (ggml: keeps q in [-127, 127] for the SIMD dot products).
    const float iscale = amax != 0 ? -127.f / max : 0.f;
    if (!std::isfinite(iscale) || iscale == 0) {  // all zero, or so tiny that 1/max overflows
      std::memset(&y[b], 0, sizeof(y[b]));
      continue;
    }
    for (int j = 0; j < kSuperBlockSize; ++j) {
      y[b].qs[j] = static_cast<int8_t>(std::clamp(nearest_int(iscale * x[j]), -128, 127));
    }
    for (int g = 0; g < kSuperBlockSize / 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += y[b].qs[16 * g + i];
      y[b].bsums[g] = static_cast<int16_t>(sum);
    }
    y[b].d = 1 / iscale;
  }
}

}  // namespace rf::quant_detail
