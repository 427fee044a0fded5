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
// Weight bytes of one prefill panel: small enough to stay in L2 while every token block passes.
constexpr uint64_t kPanelBytes = 192 * 1024;
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

  // One kernel call: rows [r0, r0 + n_rows) against tokens [t0, t0 + n_cols).
  const auto gemm = [&](int64_t r0, int64_t n_rows, int64_t t0, int64_t n_cols) {
    GemmArgs g;
    g.k = cols;
    g.w = w.data + static_cast<uint64_t>(r0) * w.row_bytes;
    g.w_stride = w.row_bytes;
    g.n_rows = n_rows;
    g.a = scratch.data() + static_cast<uint64_t>(t0) * a_stride;
    g.a_stride = a_stride;
    g.n_cols = n_cols;
    g.out = y + t0 * w.rows + r0;
    g.out_stride = w.rows;
    kernel.gemm(g);
  };

  if (n_tokens <= kTokenBlock) {
    // Decode and short prompts: equal shares of rows per thread, no shared counter.
    const int64_t row_blocks = (w.rows + kRowBlock - 1) / kRowBlock;
    const auto run = [&](int64_t begin, int64_t end, int) {
      const int64_t r0 = begin * kRowBlock;
      gemm(r0, std::min(end * kRowBlock, w.rows) - r0, 0, n_tokens);
    };
    if (parallel) {
      pool.parallel_for(row_blocks, run);
    } else {
      run(0, row_blocks, 0);
    }
    return;
  }

  // Prefill: a panel of rows (about kPanelBytes of weights, so it stays in L2) meets every token
  // block before the next panel starts, so each weight byte comes from memory once per matmul.
  // Panels are handed out dynamically; at least 4 per thread keep the threads balanced.
  int64_t panel_rows = static_cast<int64_t>(kPanelBytes / std::max<uint64_t>(w.row_bytes, 1));
  panel_rows = std::min(panel_rows, w.rows / (4 * pool.size()));
  panel_rows = std::max(kRowBlock, panel_rows / kRowBlock * kRowBlock);
  const int64_t n_panels = (w.rows + panel_rows - 1) / panel_rows;
  const auto run_panels = [&](int64_t begin, int64_t end, int) {
    for (int64_t p = begin; p < end; ++p) {
      const int64_t panel_end = std::min((p + 1) * panel_rows, w.rows);
      for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenBlock) {
        const int64_t n_cols = std::min(kTokenBlock, n_tokens - t0);
        for (int64_t r0 = p * panel_rows; r0 < panel_end; r0 += kRowBlock) {
          gemm(r0, std::min(kRowBlock, panel_end - r0), t0, n_cols);
        }
      }
    }
  };
  if (parallel) {
    pool.parallel_for_dynamic(n_panels, 1, run_panels);
  } else {
    run_panels(0, n_panels, 0);
  }
}

}  // namespace rf::cpu
