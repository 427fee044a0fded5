// Scalar reference kernels for q4_K, q5_K and q6_K weights against q8_K activations (ggml's semantics).
//
// Every ISA level is tested against these. Per super-block of 256 the dot product is exact integer
// arithmetic: sub-block sums of q * a, times the 6-bit (q4_K/q5_K) or int8 (q6_K) sub-block scale,
// summed in int32. The q4_K/q5_K mins use the activation's bsums (m * Σa over a sub-block), and the
// q6_K offset of -32 is applied per element as ggml's reference does. Only the two float products
// per super-block (d * d_a * sumi, dmin * d_a * summ) round.
// Compiled without ISA flags, so it may use the quant layer's inline helpers.
#include "cpu/kernel_families.h"

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quantize_blocks.h"

namespace rf::cpu {
namespace {

void quantize_act_q8_K(const float* x, uint8_t* out, int64_t k) {
  quant_detail::quantize_q8_K(x, reinterpret_cast<BlockQ8_K*>(out), k / kSuperBlockSize);
}

// Σ over a q4_K/q5_K super-block: d * d_a * Σ_s sc[s] * Σ_l q * a  -  dmin * d_a * Σ_s m[s] * Σ a.
// qh == nullptr means q4_K (no fifth bit).
float dot_k4(uint16_t d16, uint16_t dmin16, const uint8_t* scales, const uint8_t* qs, const uint8_t* qh,
             const BlockQ8_K& a) {
  int32_t sumi = 0;
  int32_t summ = 0;
  for (int s = 0; s < 8; ++s) {
    uint8_t sc, m;
    unpack_scale_min_k4(s, scales, sc, m);
    const uint8_t* q = qs + 32 * (s / 2);
    const int shift = 4 * (s % 2);
    int32_t dot = 0;
    for (int l = 0; l < 32; ++l) {
      int v = (q[l] >> shift) & 0xf;
      if (qh != nullptr) v |= ((qh[l] >> s) & 1) << 4;
      dot += v * a.qs[32 * s + l];
    }
    sumi += sc * dot;
    summ += m * (a.bsums[2 * s] + a.bsums[2 * s + 1]);
  }
  const float d = fp16_to_f32(d16) * a.d;
  const float dmin = fp16_to_f32(dmin16) * a.d;
  return d * static_cast<float>(sumi) - dmin * static_cast<float>(summ);
}

float dot_q4_K(const uint8_t* w, const BlockQ8_K* a, int64_t nb) {
  const auto* x = reinterpret_cast<const BlockQ4_K*>(w);
  float sum = 0;
  for (int64_t b = 0; b < nb; ++b) sum += dot_k4(x[b].d, x[b].dmin, x[b].scales, x[b].qs, nullptr, a[b]);
  return sum;
}

float dot_q5_K(const uint8_t* w, const BlockQ8_K* a, int64_t nb) {
  const auto* x = reinterpret_cast<const BlockQ5_K*>(w);
  float sum = 0;
  for (int64_t b = 0; b < nb; ++b) sum += dot_k4(x[b].d, x[b].dmin, x[b].scales, x[b].qs, x[b].qh, a[b]);
  return sum;
}

// Σ over a q6_K super-block: d * d_a * Σ_j scales[j] * Σ_{16 elements} (q - 32) * a.
float dot_q6_K(const uint8_t* w, const BlockQ8_K* a, int64_t nb) {
  const auto* x = reinterpret_cast<const BlockQ6_K*>(w);
  float sum = 0;
  for (int64_t b = 0; b < nb; ++b) {
    int32_t sumi = 0;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[b].ql + 64 * h;
      const uint8_t* qh = x[b].qh + 32 * h;
      const int8_t* aq = a[b].qs + 128 * h;
      for (int g = 0; g < 4; ++g) {
        for (int half = 0; half < 2; ++half) {  // two sub-blocks of 16 per group of 32
          int32_t dot = 0;
          for (int l = 16 * half; l < 16 * half + 16; ++l) {
            const int lo = (ql[l + 32 * (g & 1)] >> (4 * (g / 2))) & 0xf;
            const int hi = (qh[l] >> (2 * g)) & 3;
            dot += ((lo | (hi << 4)) - 32) * aq[32 * g + l];
          }
          sumi += x[b].scales[8 * h + 2 * g + half] * dot;
        }
      }
    }
    sum += fp16_to_f32(x[b].d) * a[b].d * static_cast<float>(sumi);
  }
  return sum;
}

template <float (*kDot)(const uint8_t*, const BlockQ8_K*, int64_t)>
void gemm(const GemmArgs& g) {
  const int64_t nb = g.k / kSuperBlockSize;
  for (int64_t c = 0; c < g.n_cols; ++c) {
    const auto* a = reinterpret_cast<const BlockQ8_K*>(g.a + static_cast<uint64_t>(c) * g.a_stride);
    for (int64_t r = 0; r < g.n_rows; ++r) {
      g.out[c * g.out_stride + r] = kDot(g.w + static_cast<uint64_t>(r) * g.w_stride, a, nb);
    }
  }
}

}  // namespace

void fill_scalar_kquants(KernelTable& t) {
  t.gemm[static_cast<uint32_t>(DType::kQ4_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm<dot_q4_K>};
  t.gemm[static_cast<uint32_t>(DType::kQ5_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm<dot_q5_K>};
  t.gemm[static_cast<uint32_t>(DType::kQ6_K)] = {ActFormat::kQ8K, quantize_act_q8_K, gemm<dot_q6_K>};
}

}  // namespace rf::cpu
