// Random operands, buffer layout and double-precision references of the legacy-kernel tests.
#include "legacy_data.h"

#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/dequantize.h"
#include "quant/fp16.h"

namespace rf::cpu::test {
namespace {

constexpr uint64_t kRowPad = 5;  // odd: consecutive rows start at every alignment

void fill_random(std::vector<uint8_t>& bytes, std::mt19937& rng) {
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
}

void put_f16(uint8_t* p, float v) {
  const uint16_t h = f32_to_fp16(v);
  std::memcpy(p, &h, sizeof(h));
}

}  // namespace

std::vector<float> random_activations(int64_t n_rows, int64_t k, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> x(static_cast<size_t>(n_rows * k));
  for (size_t b = 0; b < x.size(); b += kBlockSize) {
    const float scale = std::ldexp(1.f, static_cast<int>(rng() % 10) - 6);
    for (size_t i = b; i < b + kBlockSize; ++i) x[i] = scale * normal(rng);
  }
  return x;
}

WeightRows random_weights(DType type, int64_t n_rows, int64_t k, uint64_t misalign, std::mt19937& rng) {
  const DTypeInfo& info = dtype_info(type);
  WeightRows w;
  const uint64_t bytes = *row_bytes(type, static_cast<uint64_t>(k));
  w.stride = bytes + kRowPad;
  // The last row ends the buffer, so a sanitizer sees any read past it.
  w.storage.resize(misalign + w.stride * static_cast<uint64_t>(n_rows - 1) + bytes);
  fill_random(w.storage, rng);
  w.data = w.storage.data() + misalign;
  std::uniform_real_distribution<float> scale(0.002f, 0.05f);
  std::uniform_real_distribution<float> min(-0.4f, 0.4f);
  const bool has_min = type == DType::kQ4_1 || type == DType::kQ5_1;
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t b = 0; b < k / kBlockSize; ++b) {
      uint8_t* blk = w.storage.data() + misalign + static_cast<uint64_t>(r) * w.stride +
                     static_cast<uint64_t>(b) * info.block_bytes;
      put_f16(blk, (rng() & 1) ? scale(rng) : -scale(rng));
      if (has_min) put_f16(blk + 2, min(rng));
    }
  }
  return w;
}

ActRows quantize_rows(const GemmKernel& kernel, const std::vector<float>& x, int64_t n_rows, int64_t k,
                      uint64_t misalign, std::mt19937& rng) {
  ActRows a;
  const uint64_t bytes = act_row_bytes(kernel.act, k);
  a.stride = bytes + 8;
  a.storage.resize(misalign + a.stride * static_cast<uint64_t>(n_rows - 1) + bytes);
  fill_random(a.storage, rng);
  a.data = a.storage.data() + misalign;
  for (int64_t c = 0; c < n_rows; ++c) {
    kernel.quantize_act(x.data() + c * k, a.storage.data() + misalign + static_cast<uint64_t>(c) * a.stride, k);
  }
  return a;
}

Reference reference(DType type, const WeightRows& w, int64_t n_rows, const ActRows& a, const std::vector<float>& x,
                    int64_t n_cols, int64_t k) {
  const auto n = static_cast<size_t>(n_rows * n_cols);
  Reference ref{std::vector<double>(n), std::vector<double>(n), std::vector<double>(n), std::vector<double>(n)};
  std::vector<float> wrow(static_cast<size_t>(k));
  std::vector<double> aq(static_cast<size_t>(k)), da(static_cast<size_t>(k / kBlockSize));
  for (int64_t c = 0; c < n_cols; ++c) {
    for (int64_t b = 0; b < k / kBlockSize; ++b) {
      ActBlockQ8 blk;
      const uint8_t* src = a.data + static_cast<uint64_t>(c) * a.stride + static_cast<uint64_t>(b) * sizeof(blk);
      std::memcpy(&blk, src, sizeof(blk));
      da[static_cast<size_t>(b)] = blk.d;
      for (int i = 0; i < kBlockSize; ++i) aq[static_cast<size_t>(b * kBlockSize + i)] = double{blk.d} * blk.qs[i];
    }
    for (int64_t r = 0; r < n_rows; ++r) {
      dequantize_row(type, w.data + static_cast<uint64_t>(r) * w.stride, wrow.data(), k);
      const size_t o = static_cast<size_t>(c * n_rows + r);
      for (int64_t i = 0; i < k; ++i) {
        const double wi = wrow[static_cast<size_t>(i)];
        ref.dot_q[o] += wi * aq[static_cast<size_t>(i)];
        ref.mag[o] += std::fabs(wi * aq[static_cast<size_t>(i)]);
        ref.dot_x[o] += wi * x[static_cast<size_t>(c * k + i)];
        ref.act_err[o] += da[static_cast<size_t>(i / kBlockSize)] / 2 * std::fabs(wi);
      }
    }
  }
  return ref;
}

}  // namespace rf::cpu::test
