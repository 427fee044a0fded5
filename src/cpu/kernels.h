// The CPU kernel table: one entry per weight type and operator, filled once from the detected ISA.
//
// Each ISA's kernels live in their own translation unit compiled with that ISA's flags
// (kernels_avx2.cc, kernels_avx512.cc, kernels_neon.cc); generic code only calls through this table.
// The table starts as the scalar reference and each ISA overwrites the entries it implements.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "cpu/ops_kernels.h"
#include "quant/types.h"

namespace rf::cpu {

enum class Isa {
  kScalar,   // portable C++, the reference every other level is tested against
  kAvx2,     // AVX2 + FMA + F16C
  kAvx512,   // AVX-512 F/BW/VL/DQ + VNNI (Ice Lake, Zen 4 and later); BF16 used where present
  kNeon,     // arm64 NEON with the dot-product extension
};
std::string_view isa_name(Isa isa);

// How activations are laid out for a weight type's dot product.
enum class ActFormat {
  kF32,   // plain floats (f32/f16/bf16 weights)
  kQ8,    // ActBlockQ8 per 32 elements (q4_0, q4_1, q5_0, q5_1, q8_0 weights)
  kQ8K,   // BlockQ8_K per 256 elements (q4_K, q5_K, q6_K weights)
  kBF16,  // bfloat16 bits, rounded to nearest even once (bf16 weights on CPUs with VDPBF16PS)
};

// 32 activations quantized to int8 with one float scale; `sum` = d * Σqs lets kernels fold a
// weight block's offset (q4_0's -8, q4_1's min) into one multiply instead of per-element work.
struct ActBlockQ8 {
  float d;
  float sum;
  int8_t qs[32];
};
static_assert(sizeof(ActBlockQ8) == 40);

// Bytes of one activation row of k elements in `format` (k a multiple of the format's block).
uint64_t act_row_bytes(ActFormat format, int64_t k);

// out[c * out_stride + r] = dot(weight row r, activation row c) for r < n_rows, c < n_cols.
struct GemmArgs {
  int64_t k = 0;                // inner dimension in elements
  const uint8_t* w = nullptr;   // first weight row, in the weight type's block layout
  uint64_t w_stride = 0;        // bytes between weight rows
  int64_t n_rows = 0;
  const uint8_t* a = nullptr;   // first activation row, in the type's ActFormat
  uint64_t a_stride = 0;        // bytes between activation rows
  int64_t n_cols = 0;           // activation rows (tokens)
  float* out = nullptr;
  int64_t out_stride = 0;       // floats between output rows of consecutive tokens
};

struct GemmKernel {
  ActFormat act = ActFormat::kF32;
  // Converts one row of k floats into the ActFormat (k a multiple of its block size).
  void (*quantize_act)(const float* x, uint8_t* out, int64_t k) = nullptr;
  void (*gemm)(const GemmArgs& args) = nullptr;
};

// Loops that run one instruction kind flat out, for measuring this machine's compute roofs.
// Each returns a value derived from its accumulators (so the work is not optimised away).
struct PeakLoops {
  float (*fp32_fma)(int64_t iterations) = nullptr;  // fp32 multiply-adds
  float (*int8_dot)(int64_t iterations) = nullptr;  // u8 x s8 dot products (VNNI / SDOT)
  float (*bf16_dot)(int64_t iterations) = nullptr;  // bf16 pair dot products; nullptr if absent
  float (*stream_read)(const uint8_t* data, int64_t bytes) = nullptr;  // bytes: a multiple of 256
  double fp32_ops_per_iteration = 0;                // multiply + add count as two operations
  double int8_ops_per_iteration = 0;
  double bf16_ops_per_iteration = 0;
};

struct KernelTable {
  Isa isa = Isa::kScalar;
  GemmKernel gemm[32];  // indexed by DType id; gemm == nullptr: type not computable
  // Kernels for weights in the 16-row interleaved layout (cpu/repack.h); gemm == nullptr: this
  // level has none for the type, so such weights are never repacked.
  GemmKernel gemm_interleaved[32];
  PeakLoops peak;
  OpsKernels ops;  // element-wise operators and attention

  const GemmKernel& for_type(DType t) const { return gemm[static_cast<uint32_t>(t)]; }
};

// The table for the best ISA this CPU supports, or the one forced by ROCMFORGE_ISA
// (scalar | avx2 | avx512 | neon; a level the CPU lacks is refused with a warning). Chosen once.
const KernelTable& kernels();

// Every level this build has and this CPU can run, lowest first (tests sweep them all).
std::vector<Isa> available_isas();
// The table of one level; RF_CHECKs that it is available.
const KernelTable& kernels_for(Isa isa);

}  // namespace rf::cpu
