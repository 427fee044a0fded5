// The 16-row interleaved layout: a byte shuffle of q4_0 / q8_0 / f16 / bf16 rows (see repack.h).
#include "cpu/repack.h"

#include <cstring>

#include "base/check.h"
#include "cpu/kernels.h"
#include "quant/dequantize.h"
#include "quant/types.h"

namespace rf::cpu {
namespace {

constexpr int64_t kGroupRows = 16;
// Elements of a 16-bit float row per chunk (64 bytes).
constexpr int64_t kFloatChunk = 32;

bool is_float16(DType type) { return type == DType::kF16 || type == DType::kBF16; }

// Quant bytes per block (after the fp16 scale) of the quantized types the layout covers.
int64_t quant_bytes(DType type) { return type == DType::kQ4_0 ? 16 : 32; }

// q4_0 / q8_0: per block, the rows' quant dwords lane by lane, then their scales.
uint8_t* interleave_quant_group(const MatrixView& w, const uint8_t* const* rows, uint8_t* out) {
  const int64_t qbytes = quant_bytes(w.type);
  const int64_t block_bytes = 2 + qbytes;
  for (int64_t b = 0; b < w.cols / 32; ++b) {
    for (int64_t j = 0; j < qbytes / 4; ++j) {
      for (int64_t r = 0; r < kGroupRows; ++r, out += 4) std::memcpy(out, rows[r] + b * block_bytes + 2 + 4 * j, 4);
    }
    for (int64_t r = 0; r < kGroupRows; ++r, out += 2) std::memcpy(out, rows[r] + b * block_bytes, 2);
  }
  return out;
}

// f16 / bf16: per chunk of 32 elements, the rows' 64 bytes in row order.
uint8_t* interleave_float16_group(const MatrixView& w, const uint8_t* const* rows, uint8_t* out) {
  constexpr int64_t kBytes = kFloatChunk * 2;
  for (int64_t c = 0; c < w.cols / kFloatChunk; ++c) {
    for (int64_t r = 0; r < kGroupRows; ++r, out += kBytes) std::memcpy(out, rows[r] + c * kBytes, kBytes);
  }
  return out;
}

// Whether the layout is defined for w.
bool covered(const MatrixView& w) {
  return w.layout == MatrixLayout::kRows &&
         (w.type == DType::kQ4_0 || w.type == DType::kQ8_0 || (is_float16(w.type) && w.cols % kFloatChunk == 0));
}

}  // namespace

bool interleaving_helps(const MatrixView& w) {
  return covered(w) && kernels().gemm_interleaved[static_cast<uint32_t>(w.type)].gemm != nullptr;
}

uint64_t interleaved_bytes(const MatrixView& w) {
  return static_cast<uint64_t>((w.rows + kGroupRows - 1) / kGroupRows * kGroupRows) * w.row_bytes;
}

MatrixView interleave(const MatrixView& w, uint8_t* dst) {
  RF_CHECK(covered(w));
  const int64_t n_groups = (w.rows + kGroupRows - 1) / kGroupRows;
  uint8_t* out = dst;
  for (int64_t g = 0; g < n_groups; ++g) {
    const uint8_t* rows[kGroupRows];
    for (int64_t r = 0; r < kGroupRows; ++r) {
      rows[r] = w.data + static_cast<uint64_t>(std::min(g * kGroupRows + r, w.rows - 1)) * w.row_bytes;
    }
    out = is_float16(w.type) ? interleave_float16_group(w, rows, out) : interleave_quant_group(w, rows, out);
  }
  RF_CHECK(static_cast<uint64_t>(out - dst) == interleaved_bytes(w));
  MatrixView v = w;
  v.data = dst;
  v.layout = MatrixLayout::kInterleaved16;
  return v;
}

void dequantize_interleaved_row(const MatrixView& w, int64_t r, float* out) {
  RF_CHECK(w.layout == MatrixLayout::kInterleaved16 && r >= 0 && r < w.rows);
  const uint8_t* group = w.data + static_cast<uint64_t>(r / kGroupRows * kGroupRows) * w.row_bytes;
  const int64_t lane = r % kGroupRows;
  if (is_float16(w.type)) {
    constexpr int64_t kBytes = kFloatChunk * 2;
    for (int64_t c = 0; c < w.cols / kFloatChunk; ++c) {
      dequantize_row(w.type, group + (c * kGroupRows + lane) * kBytes, out + c * kFloatChunk, kFloatChunk);
    }
    return;
  }
  // Reassemble each block of the row as the file has it, then decode it.
  const int64_t qbytes = quant_bytes(w.type);
  const int64_t block_bytes = 2 + qbytes;
  uint8_t block[2 + 32];
  for (int64_t b = 0; b < w.cols / 32; ++b) {
    const uint8_t* packed = group + b * kGroupRows * block_bytes;
    std::memcpy(block, packed + kGroupRows * qbytes + 2 * lane, 2);
    for (int64_t j = 0; j < qbytes / 4; ++j) std::memcpy(block + 2 + 4 * j, packed + (j * kGroupRows + lane) * 4, 4);
    dequantize_row(w.type, block, out + b * 32, 32);
  }
}

}  // namespace rf::cpu
