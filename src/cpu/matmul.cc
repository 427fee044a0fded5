// The matmul driver: converts activations once, then splits (rows x tokens) tiles over threads.
#include "cpu/matmul.h"

#include <algorithm>

#include "base/check.h"
#include "cpu/kernels.h"
#include "quant/dequantize.h"

namespace rf::cpu {
namespace {

// Rows per work unit: a multiple of every kernel's register tile, small enough to balance threads.
constexpr int64_t kRowBlock = 16;
// Tokens per prefill tile: activations of a tile stay in L2 while weights stream past once.
constexpr int64_t kTokenBlock = 64;
// Waking workers costs microseconds; products smaller than this finish sooner on one thread.
constexpr int64_t kMinParallelWork = 1 << 15;

}  // namespace

uint64_t matmul_scratch_bytes(int64_t n_tokens, int64_t max_cols) {
  // f32 is the widest activation format.
  return static_cast<uint64_t>(n_tokens) * act_row_bytes(ActFormat::kF32, max_cols);
}

void matrix_row(const MatrixView& w, int64_t r, float* out) {
  RF_CHECK(r >= 0 && r < w.rows);
  dequantize_row(w.type, w.data + static_cast<uint64_t>(r) * w.row_bytes, out, w.cols);
}

void matmul(ThreadPool& pool, const MatrixView& w, const float* x, int64_t n_tokens, float* y,
            std::span<uint8_t> scratch) {
  const GemmKernel& kernel = kernels().for_type(w.type);
  RF_CHECK(kernel.gemm != nullptr);
  const int64_t cols = w.cols;
  const uint64_t a_stride = act_row_bytes(kernel.act, cols);
  RF_CHECK(scratch.size() >= a_stride * static_cast<uint64_t>(n_tokens));
  const bool parallel = w.rows * cols * n_tokens >= kMinParallelWork && pool.size() > 1;

  const auto convert = [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) {
      kernel.quantize_act(x + t * cols, scratch.data() + static_cast<uint64_t>(t) * a_stride, cols);
    }
  };
  if (parallel && n_tokens > 1) {
    pool.parallel_for(n_tokens, convert);
  } else {
    convert(0, n_tokens, 0);
  }

  const int64_t row_blocks = (w.rows + kRowBlock - 1) / kRowBlock;
  const int64_t token_blocks = (n_tokens + kTokenBlock - 1) / kTokenBlock;
  const auto run_tiles = [&](int64_t begin, int64_t end, int) {
    for (int64_t tile = begin; tile < end; ++tile) {
      const int64_t rb = tile % row_blocks;
      const int64_t tb = tile / row_blocks;
      const int64_t r0 = rb * kRowBlock;
      const int64_t t0 = tb * kTokenBlock;
      GemmArgs g;
      g.k = cols;
      g.w = w.data + static_cast<uint64_t>(r0) * w.row_bytes;
      g.w_stride = w.row_bytes;
      g.n_rows = std::min(kRowBlock, w.rows - r0);
      g.a = scratch.data() + static_cast<uint64_t>(t0) * a_stride;
      g.a_stride = a_stride;
      g.n_cols = std::min(kTokenBlock, n_tokens - t0);
      g.out = y + t0 * w.rows + r0;
      g.out_stride = w.rows;
      kernel.gemm(g);
    }
  };
  const int64_t n_tiles = row_blocks * token_blocks;
  if (!parallel) {
    run_tiles(0, n_tiles, 0);
  } else if (token_blocks == 1) {
    pool.parallel_for(n_tiles, run_tiles);  // decode: equal shares of rows, no shared counter
  } else {
    pool.parallel_for_dynamic(n_tiles, 1, run_tiles);
  }
}

}  // namespace rf::cpu
