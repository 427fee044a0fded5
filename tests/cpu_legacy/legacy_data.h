// Random operands, buffer layout and double-precision references of the legacy-kernel tests.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "cpu/kernels.h"
#include "quant/types.h"

namespace rf::cpu::test {

inline constexpr DType kLegacyTypes[] = {DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0};

// f32 values whose per-block scales span several binades (activation magnitudes vary by layer).
std::vector<float> random_activations(int64_t n_rows, int64_t k, std::mt19937& rng);

// n_rows weight rows of `type` at `stride` bytes (> row bytes), starting `misalign` bytes into the
// buffer: every byte random, then each block's d (and m) set to finite f16 scales of both signs.
struct WeightRows {
  std::vector<uint8_t> storage;
  const uint8_t* data = nullptr;
  uint64_t stride = 0;
};
WeightRows random_weights(DType type, int64_t n_rows, int64_t k, uint64_t misalign, std::mt19937& rng);

// Activation rows quantized by `kernel` at `stride` bytes, `misalign` bytes into the buffer; the
// gaps hold random bytes a kernel must not use.
struct ActRows {
  std::vector<uint8_t> storage;
  const uint8_t* data = nullptr;
  uint64_t stride = 0;
};
ActRows quantize_rows(const GemmKernel& kernel, const std::vector<float>& x, int64_t n_rows, int64_t k,
                      uint64_t misalign, std::mt19937& rng);

// Per (token c, row r), index c * n_rows + r, in double from the reference dequantizer:
//   dot_q:  Σ w * (d_a q_a), the quantized activations the kernel sees;
//   mag:    Σ |w * d_a q_a|, the scale of f32 rounding error;
//   dot_x:  Σ w * x, the unquantized activations;
//   act_err: Σ_blocks (d_a / 2) Σ |w|, the bound on |dot_q - dot_x| from rounding x to d_a q_a.
struct Reference {
  std::vector<double> dot_q, mag, dot_x, act_err;
};
Reference reference(DType type, const WeightRows& w, int64_t n_rows, const ActRows& a, const std::vector<float>& x,
                    int64_t n_cols, int64_t k);

}  // namespace rf::cpu::test
