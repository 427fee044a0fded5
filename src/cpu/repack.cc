// The 16-row interleaved layout: a byte shuffle of q4_0 / q8_0 rows (see repack.h).
#include "cpu/repack.h"

#include <cstring>

#include "base/check.h"
#include "cpu/kernels.h"
#include "quant/types.h"

namespace rf::cpu {
namespace {

constexpr int64_t kGroupRows = 16;

// Quant bytes per block (after the fp16 scale) of the types the layout covers.
int64_t quant_bytes(DType type) { return type == DType::kQ4_0 ? 16 : 32; }

}  // namespace

bool interleaving_helps(DType type) {
  return (type == DType::kQ4_0 || type == DType::kQ8_0) && kernels().gemm_interleaved[static_cast<uint32_t>(type)].gemm != nullptr;
}

uint64_t interleaved_bytes(const MatrixView& w) {
  return static_cast<uint64_t>((w.rows + kGroupRows - 1) / kGroupRows * kGroupRows) * w.row_bytes;
}

MatrixView interleave(const MatrixView& w, uint8_t* dst) {
  RF_CHECK(w.layout == MatrixLayout::kRows && (w.type == DType::kQ4_0 || w.type == DType::kQ8_0));
  const int64_t qbytes = quant_bytes(w.type);
  const int64_t block_bytes = 2 + qbytes;
  const int64_t n_blocks = w.cols / 32;
  const int64_t n_groups = (w.rows + kGroupRows - 1) / kGroupRows;
  uint8_t* out = dst;
  for (int64_t g = 0; g < n_groups; ++g) {
    const uint8_t* rows[kGroupRows];
    for (int64_t r = 0; r < kGroupRows; ++r) {
      rows[r] = w.data + static_cast<uint64_t>(std::min(g * kGroupRows + r, w.rows - 1)) * w.row_bytes;
    }
    for (int64_t b = 0; b < n_blocks; ++b) {
      for (int64_t j = 0; j < qbytes / 4; ++j) {
        for (int64_t r = 0; r < kGroupRows; ++r, out += 4) std::memcpy(out, rows[r] + b * block_bytes + 2 + 4 * j, 4);
      }
      for (int64_t r = 0; r < kGroupRows; ++r, out += 2) std::memcpy(out, rows[r] + b * block_bytes, 2);
    }
  }
  RF_CHECK(static_cast<uint64_t>(out - dst) == interleaved_bytes(w));
  MatrixView v = w;
  v.data = dst;
  v.layout = MatrixLayout::kInterleaved16;
  return v;
}

}  // namespace rf::cpu
