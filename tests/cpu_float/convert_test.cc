// Activation conversion and weight widening of the float-family kernels, bit for bit.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/kernels.h"
#include "float_data.h"
#include "quant/fp16.h"

namespace rf::cpu {
namespace {

// Values whose rounding is easy to get wrong: ties both ways, carries into the exponent, overflow
// to inf, subnormals, signed zeros, inf and NaNs (quiet, signalling, with payload).
std::vector<float> special_floats() {
  const uint32_t bits[] = {0x3f808000u, 0x3f818000u, 0x3f80ffffu, 0x3fffffffu, 0x7f7fffffu, 0x7f7f7fffu,
                           0x00000001u, 0x00408000u, 0x807fffffu, 0x00000000u, 0x80000000u, 0x7f800000u,
                           0xff800000u, 0x7fc00000u, 0x7f800001u, 0xffbfffffu, 0x3eaaaaabu, 0xc0490fdbu};
  std::vector<float> out;
  for (const uint32_t b : bits) out.push_back(std::bit_cast<float>(b));
  return out;
}

class FloatConvert : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

// quantize_act against the scalar definition: f32 is copied; bf16 matches rf::f32_to_bf16 exactly
// (round to nearest even, NaN kept quiet, subnormals kept). Nothing is written past k elements.
TEST_P(FloatConvert, QuantizeActIsExact) {
  const auto [isa, type] = GetParam();
  const GemmKernel& kernel = kernels_for(isa).for_type(type);
  std::mt19937 rng(7);
  for (const int64_t k : {1, 3, 15, 16, 17, 18, 33, 100, 257}) {
    std::vector<float> x(static_cast<size_t>(k));
    for (float& v : x) v = std::bit_cast<float>(static_cast<uint32_t>(rng()));
    const std::vector<float> special = special_floats();
    for (size_t i = 0; i < special.size() && i < x.size(); ++i) x[(i * 7) % x.size()] = special[i];
    const uint64_t bytes = act_row_bytes(kernel.act, k);
    std::vector<uint8_t> out(bytes + 64, 0xa5);
    kernel.quantize_act(x.data(), out.data(), k);
    for (uint64_t i = bytes; i < out.size(); ++i) ASSERT_EQ(out[i], 0xa5) << "wrote past the row, k=" << k;
    for (int64_t i = 0; i < k; ++i) {
      const uint32_t in = std::bit_cast<uint32_t>(x[static_cast<size_t>(i)]);
      if (kernel.act == ActFormat::kF32) {
        uint32_t got;
        std::memcpy(&got, out.data() + 4 * i, 4);
        ASSERT_EQ(got, in) << "k=" << k << " i=" << i;
      } else {
        ASSERT_EQ(kernel.act, ActFormat::kBF16);
        uint16_t got;
        std::memcpy(&got, out.data() + 2 * i, 2);
        ASSERT_EQ(got, f32_to_bf16(x[static_cast<size_t>(i)])) << std::hex << "input bits 0x" << in;
      }
    }
  }
}

// Every 16-bit weight pattern (k = 1, one row each) times activations 1 and -2 (exact in every
// format): the products must be the exact widened values, through both the one-token and the
// many-token tiles. The bf16 dot instruction treats subnormal inputs as zero; those may give 0.
class FloatWiden : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

TEST_P(FloatWiden, EveryWeightPatternWidensExactly) {
  const auto [isa, type] = GetParam();
  const GemmKernel& kernel = kernels_for(isa).for_type(type);
  constexpr int64_t kRows = 1 << 16;
  std::vector<uint16_t> w(kRows);
  for (int64_t i = 0; i < kRows; ++i) w[static_cast<size_t>(i)] = static_cast<uint16_t>(i);
  for (const int64_t n_cols : {1, 2}) {
    const float acts[2] = {1.0f, -2.0f};
    std::vector<uint8_t> a(2 * act_row_bytes(kernel.act, 1));
    const uint64_t a_stride = act_row_bytes(kernel.act, 1);
    for (int64_t c = 0; c < n_cols; ++c) kernel.quantize_act(&acts[c], a.data() + c * a_stride, 1);
    std::vector<float> out(static_cast<size_t>(kRows * n_cols));
    GemmArgs g;
    g.k = 1;
    g.w = reinterpret_cast<const uint8_t*>(w.data());
    g.w_stride = 2;
    g.n_rows = kRows;
    g.a = a.data();
    g.a_stride = a_stride;
    g.n_cols = n_cols;
    g.out = out.data();
    g.out_stride = kRows;
    kernel.gemm(g);
    int failures = 0;
    for (int64_t c = 0; c < n_cols; ++c) {
      for (int64_t r = 0; r < kRows && failures < 5; ++r) {
        const auto bits = static_cast<uint16_t>(r);
        const float v = type == DType::kF16 ? fp16_to_f32(bits) : bf16_to_f32(bits);
        const float want = v * acts[c];
        const float got = out[static_cast<size_t>(c * kRows + r)];
        const bool daz = kernel.act == ActFormat::kBF16 && std::fpclassify(v) == FP_SUBNORMAL && got == 0.0f;
        const bool ok = (std::isnan(want) && std::isnan(got)) || got == want || daz;
        failures += ok ? 0 : 1;
        EXPECT_TRUE(ok) << std::hex << "weight bits 0x" << bits << std::dec << " act " << acts[c] << ": got "
                        << got << ", want " << want;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, FloatConvert, ::testing::ValuesIn(test::isa_type_params({DType::kF32, DType::kF16, DType::kBF16})),
                         test::isa_type_name);
INSTANTIATE_TEST_SUITE_P(All, FloatWiden, ::testing::ValuesIn(test::isa_type_params({DType::kF16, DType::kBF16})),
                         test::isa_type_name);

}  // namespace
}  // namespace rf::cpu
