// Shared helpers of the float-family kernel tests: random operands and one awkwardly laid out gemm call.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "cpu/kernels.h"
#include "quant/types.h"

namespace rf::cpu::test {

// A product's operands as floats: w (n_rows x k) exactly representable in the weight type,
// x (n_cols x k) random activations. Nothing is zero.
struct GemmCase {
  DType type = DType::kF32;
  int64_t k = 0, n_rows = 0, n_cols = 0;
  uint64_t misalign = 0;  // bytes past a 64-byte boundary of the first weight and activation row
  std::vector<float> w, x;
};
GemmCase make_case(DType type, int64_t k, int64_t n_rows, int64_t n_cols, uint64_t misalign, uint32_t seed);

// The activations as `kernel`'s format holds them, widened back to f32 (rows of k).
std::vector<float> held_activations(const GemmKernel& kernel, const std::vector<float>& x, int64_t k);

// kernel.gemm on c's weights (encoded in c.type) and activations `x` (converted by quantize_act):
// rows `pad` bytes apart, outputs n_rows + 3 apart with NaN sentinels between. Returns the
// n_cols x n_rows outputs; a write outside them fails the current test.
std::vector<float> run_gemm(const GemmKernel& kernel, const GemmCase& c, const std::vector<float>& x);

// Every available ISA x `types`, and a readable test name for each.
std::vector<std::tuple<Isa, DType>> isa_type_params(std::initializer_list<DType> types);
std::string isa_type_name(const ::testing::TestParamInfo<std::tuple<Isa, DType>>& info);

// f32 -> type (f32, f16 or bf16), rounding to nearest even.
std::vector<uint8_t> encode(DType type, const std::vector<float>& x);

}  // namespace rf::cpu::test

namespace rf {
// Readable parameters in gtest messages (found by argument-dependent lookup).
void PrintTo(DType type, std::ostream* os);
namespace cpu {
void PrintTo(Isa isa, std::ostream* os);
}  // namespace cpu
}  // namespace rf
