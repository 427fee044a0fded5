// Choosing the kernel table: CPU features (or ROCMFORGE_ISA) decide once, at first use.
#include "cpu/kernels.h"
#include "cpu/kernel_families.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/check.h"
#include "base/log.h"
#include "cpu/ops.h"
#include "hardware/hardware.h"
#include "quant/blocks.h"
#include "quant/dequantize.h"

namespace rf::cpu {
namespace {

bool cpu_supports(Isa isa) {
  static const hw::CpuFeatures f = hw::detect_hardware().cpu.features;
  switch (isa) {
    case Isa::kScalar: return true;
#if defined(__x86_64__)
    case Isa::kAvx2: return f.avx2 && f.fma && f.f16c;
    case Isa::kAvx512: return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni && f.avx2 && f.fma;
#endif
#if defined(__aarch64__)
    case Isa::kNeon: return f.neon && f.dotprod;
#endif
    default: return false;
  }
}

// Any type with a reference dequantizer: dequantize a weight row, then f32 dot products. The slow
// floor under every table, for types no family implements yet.
void gemm_by_dequantize(DType type, const GemmArgs& g) {
  // Dequantizes a super-block's worth of a row at a time into a stack buffer: no allocation
  // inside the pool's parallel regions.
  constexpr int64_t kChunk = 256;  // a multiple of every block size
  float chunk[kChunk];
  const uint64_t chunk_bytes = *row_bytes(type, kChunk);
  for (int64_t r = 0; r < g.n_rows; ++r) {
    for (int64_t c = 0; c < g.n_cols; ++c) g.out[c * g.out_stride + r] = 0.0f;
    for (int64_t k0 = 0; k0 < g.k; k0 += kChunk) {
      const int64_t n = std::min(kChunk, g.k - k0);
      dequantize_row(type, g.w + static_cast<uint64_t>(r) * g.w_stride + static_cast<uint64_t>(k0 / kChunk) * chunk_bytes,
                     chunk, n);
      for (int64_t c = 0; c < g.n_cols; ++c) {
        const auto* a = reinterpret_cast<const float*>(g.a + static_cast<uint64_t>(c) * g.a_stride) + k0;
        g.out[c * g.out_stride + r] += dot(chunk, a, n);
      }
    }
  }
}

template <DType kType>
void gemm_dequantized(const GemmArgs& g) {
  gemm_by_dequantize(kType, g);
}

void copy_act_f32(const float* x, uint8_t* out, int64_t k) {
  std::memcpy(out, x, static_cast<size_t>(k) * sizeof(float));
}

template <DType... kTypes>
void fill_dequantize_floor(KernelTable& t) {
  ((t.gemm[static_cast<uint32_t>(kTypes)] = {ActFormat::kF32, copy_act_f32, gemm_dequantized<kTypes>}), ...);
}

// Lower levels first, so a level that lacks a kernel keeps the best one below it.
KernelTable build_table(Isa isa) {
  KernelTable t;
  fill_dequantize_floor<DType::kF32, DType::kF16, DType::kBF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0,
                        DType::kQ5_1, DType::kQ8_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kQ8_K>(t);
  fill_scalar_peak(t);
  fill_scalar_float(t);
  fill_scalar_legacy(t);
  fill_scalar_kquants(t);
  fill_scalar_ops(t);
  fill_scalar_attn(t);
#if defined(__x86_64__)
  if (isa == Isa::kAvx2 || isa == Isa::kAvx512) {
    fill_avx2_peak(t);
  fill_avx2_float(t);
    fill_avx2_legacy(t);
    fill_avx2_kquants(t);
    fill_avx2_ops(t);
    fill_avx2_attn(t);
  }
  if (isa == Isa::kAvx512) {
    fill_avx512_peak(t);
  fill_avx512_float(t);
    fill_avx512_legacy(t);
    fill_avx512_kquants(t);
    fill_avx512_ops(t);
    fill_avx512_attn(t);
  }
#endif
#if defined(__aarch64__)
  if (isa == Isa::kNeon) {
    fill_neon_peak(t);
  fill_neon_float(t);
    fill_neon_legacy(t);
    fill_neon_kquants(t);
    fill_neon_ops(t);
    fill_neon_attn(t);
  }
#endif
  t.isa = isa;
  return t;
}

constexpr std::array kAllIsas = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon};

const KernelTable& table_of(Isa isa) {
  static const std::array<KernelTable, kAllIsas.size()> tables = [] {
    std::array<KernelTable, kAllIsas.size()> out{};
    for (size_t i = 0; i < kAllIsas.size(); ++i) {
      if (cpu_supports(kAllIsas[i])) out[i] = build_table(kAllIsas[i]);
    }
    return out;
  }();
  return tables[static_cast<size_t>(isa)];
}

Isa choose_isa() {
  const std::vector<Isa> isas = available_isas();
  const char* forced = std::getenv("ROCMFORGE_ISA");
  if (forced == nullptr || *forced == '\0') return isas.back();
  for (const Isa isa : kAllIsas) {
    if (isa_name(isa) != forced) continue;
    if (cpu_supports(isa)) return isa;
    RF_LOG_WARN("ROCMFORGE_ISA=%s: this CPU or build lacks it; using %s", forced, isa_name(isas.back()).data());
    return isas.back();
  }
  RF_LOG_WARN("ROCMFORGE_ISA=%s is not one of scalar, avx2, avx512, neon; using %s", forced,
              isa_name(isas.back()).data());
  return isas.back();
}

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kNeon: return "neon";
  }
  return "unknown";
}

uint64_t act_row_bytes(ActFormat format, int64_t k) {
  const auto n = static_cast<uint64_t>(k);
  switch (format) {
    case ActFormat::kF32: return n * sizeof(float);
    case ActFormat::kQ8: return n / 32 * sizeof(ActBlockQ8);
    case ActFormat::kQ8K: return n / kSuperBlockSize * sizeof(BlockQ8_K);
    case ActFormat::kBF16: return n * sizeof(uint16_t);
  }
  return 0;
}

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (const Isa isa : kAllIsas) {
    if (cpu_supports(isa)) out.push_back(isa);
  }
  return out;
}

const KernelTable& kernels_for(Isa isa) {
  RF_CHECK(cpu_supports(isa));
  return table_of(isa);
}

const KernelTable& kernels() {
  static const KernelTable& chosen = table_of(choose_isa());
  return chosen;
}

}  // namespace rf::cpu
