// KvCache: stored keys and values read back exactly (f32) or as ggml's q8_0 round trip; type names.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kv/kv_cache.h"
#include "quant/dequantize.h"
#include "quant/quantize.h"

namespace rf {
namespace {

using cpu::KvFormat;

std::vector<float> random_rows(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 2.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = gauss(rng);
  return v;
}

// q8_0 of a head row as the reference quantizer and dequantizer see it: zero-padded to 32s.
std::vector<float> q8_0_round_trip(const float* x, int64_t head_dim) {
  const int64_t padded = (head_dim + 31) / 32 * 32;
  std::vector<float> in(static_cast<size_t>(padded), 0.0f);
  std::copy_n(x, head_dim, in.begin());
  std::vector<uint8_t> q(*row_bytes(DType::kQ8_0, static_cast<uint64_t>(padded)));
  quantize_row(DType::kQ8_0, in.data(), q.data(), padded);
  std::vector<float> out(static_cast<size_t>(padded));
  dequantize_row(DType::kQ8_0, q.data(), out.data(), padded);
  out.resize(static_cast<size_t>(head_dim));
  return out;
}

TEST(KvCache, StoresAndLoadsEveryLayerHeadAndPosition) {
  for (const int64_t head_dim : {64, 80, 24, 128}) {
    for (const KvFormat kt : {KvFormat::kF32, KvFormat::kQ8_0}) {
      for (const KvFormat vt : {KvFormat::kF32, KvFormat::kQ8_0}) {
        SCOPED_TRACE(testing::Message() << "head_dim " << head_dim << " k " << kv_type_name(kt) << " v "
                                        << kv_type_name(vt));
        constexpr int64_t kLayers = 3, kHeads = 3, kCtx = 41;
        KvCache cache(kLayers, kCtx, kHeads, head_dim, kt, vt);
        const int64_t stride = kHeads * head_dim + 5;  // rows need not be packed
        std::vector<std::vector<float>> keys, values;
        for (int64_t l = 0; l < kLayers; ++l) {
          keys.push_back(random_rows(kCtx * stride, static_cast<uint32_t>(2 * l + 1)));
          values.push_back(random_rows(kCtx * stride, static_cast<uint32_t>(2 * l + 2)));
          // Uneven chunks, as prefill batches store them.
          for (int64_t pos = 0; pos < kCtx;) {
            const int64_t n = std::min<int64_t>(pos % 7 + 1, kCtx - pos);
            cache.store(l, pos, n, keys[l].data() + pos * stride, values[l].data() + pos * stride, stride);
            pos += n;
          }
        }
        std::vector<float> got(static_cast<size_t>(head_dim));
        for (int64_t l = 0; l < kLayers; ++l) {
          for (int64_t h = 0; h < kHeads; ++h) {
            for (int64_t pos = 0; pos < kCtx; ++pos) {
              const float* k = keys[l].data() + pos * stride + h * head_dim;
              const float* v = values[l].data() + pos * stride + h * head_dim;
              const std::vector<float> k_want = kt == KvFormat::kF32 ? std::vector<float>(k, k + head_dim)
                                                                     : q8_0_round_trip(k, head_dim);
              const std::vector<float> v_want = vt == KvFormat::kF32 ? std::vector<float>(v, v + head_dim)
                                                                     : q8_0_round_trip(v, head_dim);
              cache.load_k(l, h, pos, got.data());
              ASSERT_EQ(got, k_want) << "key l" << l << " h" << h << " pos " << pos;
              cache.load_v(l, h, pos, got.data());
              ASSERT_EQ(got, v_want) << "value l" << l << " h" << h << " pos " << pos;
            }
          }
        }
      }
    }
  }
}

TEST(KvCache, Q8_0TakesAQuarterOfTheBytesPlusScales) {
  const KvCache f32(2, 256, 4, 64, KvFormat::kF32, KvFormat::kF32);
  const KvCache q8(2, 256, 4, 64, KvFormat::kQ8_0, KvFormat::kQ8_0);
  EXPECT_EQ(f32.bytes(), size_t{2} * 2 * 256 * 4 * 64 * 4);
  EXPECT_EQ(q8.bytes(), size_t{2} * 2 * 256 * 4 * 2 * 34);  // 34 bytes per 32 numbers
}

TEST(KvCache, ParsesTypeNames) {
  EXPECT_EQ(*parse_kv_type("f32"), KvFormat::kF32);
  EXPECT_EQ(*parse_kv_type("q8_0"), KvFormat::kQ8_0);
  for (const KvFormat t : {KvFormat::kF32, KvFormat::kQ8_0}) EXPECT_EQ(*parse_kv_type(kv_type_name(t)), t);
  const auto bad = parse_kv_type("q4_0");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("q4_0"), std::string::npos);
  EXPECT_NE(bad.error().message.find("f32 or q8_0"), std::string::npos);
}

}  // namespace
}  // namespace rf
