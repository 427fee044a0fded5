// The 16-row interleaved layout: a byte shuffle of rows, described per type as fields (see repack.h).
#include "cpu/repack.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>

#include "base/check.h"
#include "cpu/kernels.h"
#include "quant/blocks.h"
#include "quant/dequantize.h"
#include "quant/types.h"

namespace rf::cpu {
namespace {

constexpr int64_t kGroupRows = 16;

// Bytes [offset, offset + bytes) of each block, cut into units of `unit` bytes: the layout stores
// unit u of the 16 rows side by side, u = 0, 1, ...
struct Field {
  int offset;
  int bytes;
  int unit;
};

// A type's blocks as the interleaved layout reorders them; n_fields == 0: not covered.
struct Layout {
  int block_elements = 0;
  int block_bytes = 0;
  Field fields[4] = {};
  int n_fields = 0;
};

Layout layout_of(DType type) {
  switch (type) {
    case DType::kQ4_0: return {32, 18, {{2, 16, 4}, {0, 2, 2}}, 2};                     // quants, then scales
    case DType::kQ8_0: return {32, 34, {{2, 32, 4}, {0, 2, 2}}, 2};
    case DType::kF16:
    case DType::kBF16: return {32, 64, {{0, 64, 64}}, 1};                                 // 32 elements a row
    case DType::kQ4_K: return {256, 144, {{0, 4, 4}, {4, 12, 4}, {16, 128, 4}}, 3};       // d+dmin, scales, qs
    case DType::kQ5_K: return {256, 176, {{0, 4, 4}, {4, 12, 4}, {16, 32, 4}, {48, 128, 4}}, 4};     // + qh
    case DType::kQ6_K: return {256, 210, {{208, 2, 2}, {192, 16, 4}, {0, 128, 4}, {128, 64, 4}}, 4};  // d, scales, ql, qh
    default: return {};
  }
}
static_assert(sizeof(BlockQ4_K) == 144 && offsetof(BlockQ4_K, qs) == 16);
static_assert(sizeof(BlockQ5_K) == 176 && offsetof(BlockQ5_K, qh) == 16 && offsetof(BlockQ5_K, qs) == 48);
static_assert(sizeof(BlockQ6_K) == 210 && offsetof(BlockQ6_K, scales) == 192 && offsetof(BlockQ6_K, d) == 208);

// memcpy of one unit with the size known to the compiler (a call per unit would dominate load time).
void copy_unit(uint8_t* dst, const uint8_t* src, int unit) {
  switch (unit) {
    case 2: std::memcpy(dst, src, 2); return;
    case 4: std::memcpy(dst, src, 4); return;
    case 64: std::memcpy(dst, src, 64); return;
    default: std::memcpy(dst, src, static_cast<size_t>(unit));
  }
}

// Whether the layout is defined for w.
bool covered(const MatrixView& w) {
  const Layout l = layout_of(w.type);
  return w.layout == MatrixLayout::kRows && l.n_fields > 0 && w.cols % l.block_elements == 0;
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
  const Layout l = layout_of(w.type);
  const int64_t n_groups = (w.rows + kGroupRows - 1) / kGroupRows;
  uint8_t* out = dst;
  for (int64_t g = 0; g < n_groups; ++g) {
    const uint8_t* rows[kGroupRows];
    for (int64_t r = 0; r < kGroupRows; ++r) {
      rows[r] = w.data + static_cast<uint64_t>(std::min(g * kGroupRows + r, w.rows - 1)) * w.row_bytes;
    }
    for (int64_t b = 0; b < w.cols / l.block_elements; ++b) {
      for (const Field& f : std::span(l.fields, static_cast<size_t>(l.n_fields))) {
        for (int u = 0; u < f.bytes; u += f.unit) {
          for (int64_t r = 0; r < kGroupRows; ++r, out += f.unit) {
            copy_unit(out, rows[r] + b * l.block_bytes + f.offset + u, f.unit);
          }
        }
      }
    }
  }
  RF_CHECK(static_cast<uint64_t>(out - dst) == interleaved_bytes(w));
  MatrixView v = w;
  v.data = dst;
  v.layout = MatrixLayout::kInterleaved16;
  return v;
}

void dequantize_interleaved_row(const MatrixView& w, int64_t r, float* out) {
  RF_CHECK(w.layout == MatrixLayout::kInterleaved16 && r >= 0 && r < w.rows);
  const Layout l = layout_of(w.type);
  const uint8_t* packed = w.data + static_cast<uint64_t>(r / kGroupRows * kGroupRows) * w.row_bytes;
  const int64_t lane = r % kGroupRows;
  // Reassemble each block of the row as the file has it, then decode it.
  uint8_t block[256];
  RF_CHECK(l.block_bytes <= static_cast<int>(sizeof(block)));
  for (int64_t b = 0; b < w.cols / l.block_elements; ++b) {
    for (const Field& f : std::span(l.fields, static_cast<size_t>(l.n_fields))) {
      for (int u = 0; u < f.bytes; u += f.unit, packed += kGroupRows * f.unit) {
        copy_unit(block + f.offset + u, packed + lane * f.unit, f.unit);
      }
    }
    dequantize_row(w.type, block, out + b * l.block_elements, l.block_elements);
  }
}

}  // namespace rf::cpu
