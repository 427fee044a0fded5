// dequantize_row against element-by-element decoders written from the format spec
// (reference_formats.h), on random blocks: random quant bytes, random finite f16 scales.
#include "quant/dequantize.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "quant/fp16.h"
#include "reference_formats.h"

namespace rf {

// Readable parameter names in test listings (gtest finds this by argument-dependent lookup).
void PrintTo(DType type, std::ostream* os) { *os << dtype_name(type); }

namespace {

// A random finite half: any sign, normal exponents 2^-14 .. 2^10, and one in eight subnormal.
uint16_t random_scale(std::mt19937& rng) {
  const auto r = static_cast<uint32_t>(rng());
  const uint32_t exp = (r % 8 == 0) ? 0 : 1 + (r >> 3) % 25;
  return static_cast<uint16_t>((r & 0x8000u) | (exp << 10) | ((r >> 16) & 0x3ffu));
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v & 0xff);
  p[1] = static_cast<uint8_t>(v >> 8);
}

// Byte offsets of the f16 scale fields of one block (quant bytes everywhere else stay random).
std::vector<int> half_fields(DType type) {
  switch (type) {
    case DType::kQ4_0:
    case DType::kQ5_0:
    case DType::kQ8_0: return {0};
    case DType::kQ4_1:
    case DType::kQ5_1:
    case DType::kQ4_K:
    case DType::kQ5_K: return {0, 2};
    case DType::kQ6_K: return {208};
    default: return {};
  }
}

std::vector<uint8_t> random_blocks(DType type, int64_t blocks, uint32_t seed) {
  std::mt19937 rng(seed);
  const DTypeInfo& info = dtype_info(type);
  std::vector<uint8_t> data(static_cast<size_t>(blocks) * info.block_bytes);
  for (auto& byte : data) byte = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> d8k(-4.0f, 4.0f);
  for (int64_t b = 0; b < blocks; ++b) {
    uint8_t* block = data.data() + b * info.block_bytes;
    for (const int off : half_fields(type)) put16(block + off, random_scale(rng));
    if (type == DType::kQ8_K) {
      const float d = d8k(rng);
      std::memcpy(block, &d, sizeof(d));
    }
  }
  return data;
}

// Decodes into a buffer with guard values past the end, so a write beyond n is caught.
std::vector<float> decode(DType type, const std::vector<uint8_t>& data, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n) + 7, 12345.0f);
  dequantize_row(type, data.data(), out.data(), n);
  for (size_t i = static_cast<size_t>(n); i < out.size(); ++i) EXPECT_EQ(out[i], 12345.0f);
  out.resize(static_cast<size_t>(n));
  return out;
}

class DequantizeBlocks : public ::testing::TestWithParam<DType> {};

TEST_P(DequantizeBlocks, MatchesSpecElementByElement) {
  const DType type = GetParam();
  const DTypeInfo& info = dtype_info(type);
  for (const int64_t blocks : {1, 3, 13}) {
    const auto data = random_blocks(type, blocks, static_cast<uint32_t>(blocks) * 31u + info.block_bytes);
    const int64_t n = blocks * info.block_size;
    const auto got = decode(type, data, n);
    int nonzero = 0;
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* block = data.data() + (i / info.block_size) * info.block_bytes;
      const double want = test::reference_element(type, block, static_cast<int>(i % info.block_size));
      // Every product fits a double exactly, and the format rounds once to f32: compare exactly.
      ASSERT_EQ(got[i], static_cast<float>(want)) << info.name << " element " << i;
      nonzero += got[i] != 0.0f;
    }
    EXPECT_GT(nonzero, n / 2) << info.name;  // the random blocks really exercised the decoder
  }
}

INSTANTIATE_TEST_SUITE_P(AllBlockTypes, DequantizeBlocks,
                         ::testing::Values(DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                                           DType::kQ8_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
                                           DType::kQ8_K),
                         [](const auto& p) { return std::string(dtype_name(p.param)); });

TEST(DequantizeFloat, F16AndBf16DecodeEveryCodeExactly) {
  std::vector<uint8_t> codes(2 * 65536);
  for (uint32_t c = 0; c < 65536; ++c) put16(codes.data() + 2 * c, static_cast<uint16_t>(c));
  const auto f16 = decode(DType::kF16, codes, 65536);
  const auto bf16 = decode(DType::kBF16, codes, 65536);
  for (uint32_t c = 0; c < 65536; ++c) {
    const double h = test::half_value(static_cast<uint16_t>(c));
    const double b = test::bf16_value(static_cast<uint16_t>(c));
    if (std::isnan(h)) {
      ASSERT_TRUE(std::isnan(f16[c])) << c;
    } else {
      ASSERT_EQ(std::bit_cast<uint32_t>(f16[c]), std::bit_cast<uint32_t>(static_cast<float>(h))) << c;
    }
    if (std::isnan(b)) {
      ASSERT_TRUE(std::isnan(bf16[c])) << c;
    } else {
      ASSERT_EQ(std::bit_cast<uint32_t>(bf16[c]), std::bit_cast<uint32_t>(static_cast<float>(b))) << c;
    }
  }
}

// The row path against the scalar decode bit for bit (NaN payloads too), at odd offsets and a
// length that is no multiple of a vector, writing nothing outside the range.
TEST(DequantizeFloat, F16RowMatchesScalarDecodeBitForBit) {
  std::vector<uint16_t> h(1 + 65536 + 3);
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint16_t>((i * 40503u + 7u) & 0xffffu);
  for (uint32_t v = 0; v < 65536; ++v) h[1 + v] = static_cast<uint16_t>(v);
  std::vector<float> out(h.size() + 1, 1.0f);
  dequantize_row(DType::kF16, h.data() + 1, out.data() + 1, static_cast<int64_t>(h.size() - 1));
  EXPECT_EQ(out[0], 1.0f);  // nothing written before the range
  for (size_t i = 1; i < h.size(); ++i) {
    ASSERT_EQ(std::bit_cast<uint32_t>(out[i]), std::bit_cast<uint32_t>(fp16_to_f32(h[i]))) << "half 0x" << std::hex << h[i];
  }
}

TEST(DequantizeFloat, F32IsACopy) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> x(77);
  for (auto& v : x) v = normal(rng);
  std::vector<uint8_t> bytes(x.size() * sizeof(float));
  std::memcpy(bytes.data(), x.data(), bytes.size());
  EXPECT_EQ(decode(DType::kF32, bytes, 77), x);
}

TEST(DequantizeDeathTest, RejectsPartialBlocksAndUnsupportedTypes) {
  const std::vector<uint8_t> data(2 * 210);
  std::vector<float> out(512);
  EXPECT_DEATH(dequantize_row(DType::kQ6_K, data.data(), out.data(), 300), "internal check failed");
  EXPECT_DEATH(dequantize_row(DType::kQ2_K, data.data(), out.data(), 256), "internal check failed");
}

}  // namespace
}  // namespace rf
