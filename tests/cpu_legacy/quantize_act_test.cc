// Activation quantization to ActBlockQ8: the scalar definition, and every ISA bit for bit against it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/kernels.h"
#include "legacy_data.h"

namespace rf::cpu {
namespace {

std::vector<ActBlockQ8> quantize(const GemmKernel& kernel, const std::vector<float>& x) {
  std::vector<ActBlockQ8> out(x.size() / 32 + 1);
  std::memset(out.data(), 0x5a, out.size() * sizeof(ActBlockQ8));
  kernel.quantize_act(x.data(), reinterpret_cast<uint8_t*>(out.data()), static_cast<int64_t>(x.size()));
  return out;
}

// The definition: d = amax / 127, q = x / d rounded to nearest (ties to even), sum = d * Σq; so
// |x - d q| <= d/2 up to the rounding of d and of x * (1/d) (both ~1e-7 relative), max |q| = 127.
TEST(LegacyQuantizeAct, ScalarMatchesDefinition) {
  const GemmKernel& kernel = kernels_for(Isa::kScalar).for_type(DType::kQ4_0);
  ASSERT_EQ(kernel.act, ActFormat::kQ8);
  std::mt19937 rng(11);
  const std::vector<float> x = test::random_activations(1, 32 * 19, rng);
  const std::vector<ActBlockQ8> out = quantize(kernel, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0.f;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[b * 32 + i]));
    EXPECT_EQ(out[b].d, amax / 127.f) << "block " << b;
    int sum = 0, qmax = 0;
    for (int i = 0; i < 32; ++i) {
      const int q = out[b].qs[i];
      sum += q;
      qmax = std::max(qmax, std::abs(q));
      EXPECT_LE(std::fabs(x[b * 32 + i] - out[b].d * static_cast<float>(q)), out[b].d * 0.50002f) << b << " " << i;
    }
    EXPECT_EQ(qmax, 127) << "block " << b;
    EXPECT_EQ(out[b].sum, out[b].d * static_cast<float>(sum)) << "block " << b;
  }
  // Nothing written past the row.
  const auto* tail = reinterpret_cast<const uint8_t*>(&out.back());
  for (size_t i = 0; i < sizeof(ActBlockQ8); ++i) EXPECT_EQ(tail[i], 0x5a);
}

// Exact halves round to even: with amax = 127, d = 1 and q = x rounded.
TEST(LegacyQuantizeAct, TiesRoundToEven) {
  std::vector<float> x(32, 1.f);
  x[0] = 127.f;
  x[1] = 2.5f;
  x[2] = -3.5f;
  x[3] = 0.5f;
  x[4] = -126.5f;
  for (const Isa isa : available_isas()) {
    const std::vector<ActBlockQ8> out = quantize(kernels_for(isa).for_type(DType::kQ8_0), x);
    SCOPED_TRACE(std::string(isa_name(isa)));
    EXPECT_EQ(out[0].d, 1.f);
    EXPECT_EQ(out[0].qs[1], 2);
    EXPECT_EQ(out[0].qs[2], -4);
    EXPECT_EQ(out[0].qs[3], 0);
    EXPECT_EQ(out[0].qs[4], -126);
  }
}

// Every ISA reproduces the scalar bytes exactly (same d, q, sum), including an all-zero block
// (d = 0, q = 0) and blocks whose amax sits at either sign.
TEST(LegacyQuantizeAct, EveryIsaMatchesScalarBitForBit) {
  const GemmKernel& scalar = kernels_for(Isa::kScalar).for_type(DType::kQ4_0);
  std::mt19937 rng(5);
  for (const int64_t blocks : {1, 2, 3, 7, 33}) {
    std::vector<float> x = test::random_activations(1, 32 * blocks, rng);
    if (blocks > 2) std::fill(x.begin() + 32, x.begin() + 64, 0.f);
    const std::vector<ActBlockQ8> want = quantize(scalar, x);
    for (const Isa isa : available_isas()) {
      for (const DType type : test::kLegacyTypes) {
        const GemmKernel& kernel = kernels_for(isa).for_type(type);
        ASSERT_EQ(kernel.act, ActFormat::kQ8);
        const std::vector<ActBlockQ8> got = quantize(kernel, x);
        EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(ActBlockQ8)), 0)
            << isa_name(isa) << " " << dtype_name(type) << " blocks=" << blocks;
      }
    }
  }
}

}  // namespace
}  // namespace rf::cpu
