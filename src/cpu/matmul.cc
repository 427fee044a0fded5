// The matmul driver: converts activations once, then splits (rows x tokens) tiles over threads.
#include "cpu/matmul.h"

#include <algorithm>

#include "base/check.h"
#include "base/timer.h"
#include "cpu/blas.h"
#include "cpu/kernels.h"
#include "cpu/repack.h"
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

const GemmKernel& kernel_for(const MatrixView& w) {
  const KernelTable& t = kernels();
  return w.layout == MatrixLayout::kInterleaved16 ? t.gemm_interleaved[static_cast<uint32_t>(w.type)] : t.for_type(w.type);
}

}  // namespace

uint64_t matmul_scratch_bytes(int64_t n_tokens, int64_t max_cols) {
  // f32 is the widest activation format. Prefill through BLAS reads activations in place and uses
  // the space for f16 weight rows widened to f32 instead, at least kBlasPanelRows of them.
  const int64_t rows = n_tokens >= kMinBlasTokens ? std::max(n_tokens, kBlasPanelRows) : n_tokens;
  return static_cast<uint64_t>(rows) * act_row_bytes(ActFormat::kF32, max_cols);
}

void matrix_row(const MatrixView& w, int64_t r, float* out) {
  RF_CHECK(r >= 0 && r < w.rows);
  if (w.layout == MatrixLayout::kInterleaved16) {
    dequantize_interleaved_row(w, r, out);
    return;
  }
  dequantize_row(w.type, w.data + static_cast<uint64_t>(r) * w.row_bytes, out, w.cols);
}

void matmul(ThreadPool& pool, const MatrixView& w, const float* x, int64_t n_tokens, float* y,
            std::span<uint8_t> scratch) {
  const MatmulJob job{&w, y};
  matmul_many(pool, std::span(&job, 1), x, n_tokens, scratch);
}

namespace {

// Our kernels: activations converted once, then (rows x tokens) tiles spread over the pool.
void run_kernels(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int64_t n_tokens,
                 std::span<uint8_t> scratch) {
  const GemmKernel& kernel = kernel_for(*jobs[0].w);
  RF_CHECK(kernel.gemm != nullptr);
  const int64_t cols = jobs[0].w->cols;
  int64_t total_rows = 0;
  for (const MatmulJob& job : jobs) {
    // Every level's quantizer of one format writes the same bytes, so any one of them will do.
    if (job.w->cols != cols || kernel_for(*job.w).act != kernel.act) {
      for (const MatmulJob& single : jobs) run_kernels(pool, std::span(&single, 1), x, n_tokens, scratch);
      return;
    }
    total_rows += job.w->rows;
  }
  const uint64_t a_stride = act_row_bytes(kernel.act, cols);
  RF_CHECK(scratch.size() >= a_stride * static_cast<uint64_t>(n_tokens));
  const bool parallel = total_rows * cols * n_tokens >= kMinParallelWork && pool.size() > 1;

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

  // One kernel call: rows [r0, r0 + n_rows) of a job's matrix against tokens [t0, t0 + n_cols).
  const auto gemm = [&](const MatmulJob& job, int64_t r0, int64_t n_rows, int64_t t0, int64_t n_cols) {
    const MatrixView& w = *job.w;
    GemmArgs g;
    g.k = cols;
    g.w = w.data + static_cast<uint64_t>(r0) * w.row_bytes;
    g.w_stride = w.row_bytes;
    g.n_rows = n_rows;
    g.a = scratch.data() + static_cast<uint64_t>(t0) * a_stride;
    g.a_stride = a_stride;
    g.n_cols = n_cols;
    g.out = job.y + t0 * w.rows + r0;
    g.out_stride = w.rows;
    kernel_for(w).gemm(g);
  };

  // Work units numbered across the jobs: unit u of job j covers rows [u * size, ...) of it.
  int64_t first_unit[kMaxJobs + 1];
  const auto number_units = [&](const auto& rows_per_unit) {
    first_unit[0] = 0;
    for (size_t j = 0; j < jobs.size(); ++j) {
      const int64_t size = rows_per_unit(*jobs[j].w);
      first_unit[j + 1] = first_unit[j] + (jobs[j].w->rows + size - 1) / size;
    }
    return first_unit[jobs.size()];
  };
  // Calls fn(job, first row, end row) for the rows of units [begin, end), job by job.
  const auto for_rows = [&](int64_t begin, int64_t end, const auto& rows_per_unit, const auto& fn) {
    for (size_t j = 0; j < jobs.size(); ++j) {
      const int64_t lo = std::max(begin, first_unit[j]);
      const int64_t hi = std::min(end, first_unit[j + 1]);
      if (lo >= hi) continue;
      const int64_t size = rows_per_unit(*jobs[j].w);
      fn(jobs[j], (lo - first_unit[j]) * size, std::min((hi - first_unit[j]) * size, jobs[j].w->rows));
    }
  };

  if (n_tokens <= kTokenBlock) {
    // Decode and short prompts: equal shares of row blocks per thread, one kernel call per matrix.
    const auto block = [](const MatrixView&) { return kRowBlock; };
    const int64_t n_units = number_units(block);
    const auto run = [&](int64_t begin, int64_t end, int) {
      for_rows(begin, end, block, [&](const MatmulJob& job, int64_t r0, int64_t r1) {
        gemm(job, r0, r1 - r0, 0, n_tokens);
      });
    };
    if (parallel) {
      pool.parallel_for(n_units, run);
    } else {
      run(0, n_units, 0);
    }
    return;
  }

  // Prefill: a panel of rows (about kPanelBytes of weights, so it stays in L2) meets every token
  // block before the next panel starts, so each weight byte comes from memory once per matmul.
  // Panels are handed out dynamically; at least 4 per thread keep the threads balanced.
  const auto panel = [&](const MatrixView& w) {
    int64_t rows = static_cast<int64_t>(kPanelBytes / std::max<uint64_t>(w.row_bytes, 1));
    rows = std::min(rows, total_rows / (4 * pool.size()));
    return std::max(kRowBlock, rows / kRowBlock * kRowBlock);
  };
  const int64_t n_units = number_units(panel);
  const auto run_panels = [&](int64_t begin, int64_t end, int) {
    for_rows(begin, end, panel, [&](const MatmulJob& job, int64_t r0, int64_t r1) {
      const int64_t size = panel(*job.w);
      for (int64_t p0 = r0; p0 < r1; p0 += size) {
        const int64_t p1 = std::min(p0 + size, r1);
        for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenBlock) {
          const int64_t n_cols = std::min(kTokenBlock, n_tokens - t0);
          for (int64_t rb = p0; rb < p1; rb += kRowBlock) gemm(job, rb, std::min(kRowBlock, p1 - rb), t0, n_cols);
        }
      }
    });
  };
  if (parallel) {
    pool.parallel_for_dynamic(n_units, 1, run_panels);
  } else {
    run_panels(0, n_units, 0);
  }
}

// Prefill of F32/F16 weights: the chooser (blas.h) sends each job to our kernels or to a BLAS back
// end, timing the calls it measures. Returns false, having run nothing, when every job is settled
// on our kernels, so that grouped jobs keep one shared conversion and parallel region.
bool run_chosen(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int64_t n_tokens,
                std::span<uint8_t> scratch) {
  BlasPick picks[kMaxJobs];
  bool all_ours = true;
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (!blas_applies(*jobs[j].w, n_tokens)) continue;
    picks[j] = blas_pick(*jobs[j].w, n_tokens);
    all_ours = all_ours && picks[j].candidate == 0 && picks[j].slot < 0;
  }
  if (all_ours) return false;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const double start = now_seconds();
    if (picks[j].candidate == 0) {
      run_kernels(pool, jobs.subspan(j, 1), x, n_tokens, scratch);
    } else {
      const BlasBackend& backend = blas_backends()[static_cast<size_t>(picks[j].candidate - 1)];
      blas_matmul(pool, backend, *jobs[j].w, x, n_tokens, jobs[j].y, scratch);
    }
    if (picks[j].slot >= 0) blas_record(picks[j], n_tokens, now_seconds() - start);
  }
  return true;
}

}  // namespace

void matmul_many(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int64_t n_tokens,
                 std::span<uint8_t> scratch) {
  RF_CHECK(!jobs.empty() && jobs.size() <= kMaxJobs);
  if (run_chosen(pool, jobs, x, n_tokens, scratch)) return;
  run_kernels(pool, jobs, x, n_tokens, scratch);
}

}  // namespace rf::cpu
