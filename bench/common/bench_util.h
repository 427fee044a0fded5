// Shared pieces of the gemm microbenchmarks: thread pools, random weights, roofs, counters, registration.
//
// End-to-end numbers come from rf::cpu::matmul (the real driver) on a pool of 1 thread, timed by its
// CPU time, and on a pool of every CPU, timed by the wall clock. cpu::matmul always runs kernels()
// (the best ISA, or ROCMFORGE_ISA), so the per-ISA comparison calls each level's kernel directly.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/aligned_buffer.h"
#include "cpu/kernels.h"
#include "cpu/matmul.h"
#include "quant/types.h"
#include "runtime/roofline.h"
#include "threading/thread_pool.h"

namespace rf::bench {

// The weight shape of every gemm case: TinyLlama's ffn_down (rows x k).
constexpr int64_t kRows = 2048;
constexpr int64_t kCols = 5632;
// Streaming decode cycles through copies of the matrix totalling at least this much, so no pass
// finds the weights in a (32 MB) L3.
constexpr uint64_t kStreamBytes = uint64_t{256} << 20;
constexpr int64_t kTokenBlock = 64;

int n_threads();
// A pool of 1 thread, or of every CPU; made once.
ThreadPool& pool(bool all_threads);

// n floats ~ N(0, 1), the same for the same seed.
std::vector<float> random_activations(int64_t n, uint32_t seed);
// One kRows x kCols matrix of `type`, quantized by quantize_row from values uniform in [-1, 1); made
// once per type.
std::span<const uint8_t> random_matrix(DType type);

// This machine's roofs for one ISA level's loops on 1 thread or on every CPU; measured once each.
const Roofline& roofs(cpu::Isa isa, bool all_threads);

// One level's kernel over a whole matrix on the calling thread: x (n_tokens x w.cols) converted into
// `scratch`, then one call per 64-token block; y is (n_tokens x w.rows).
void kernel_matmul(const cpu::GemmKernel& kernel, const cpu::MatrixView& w, const float* x, int64_t n_tokens,
                   float* y, uint8_t* scratch);

// A row of gemm cases: `name`/<type>/<isa or matmul>/tokens:<n_tokens>[/threads:<n>]. `stream`
// cycles through copies of the weights totalling kStreamBytes; otherwise one matrix is reused.
struct GemmCase {
  std::string_view name;
  int64_t n_tokens = 1;
  bool stream = false;
};

// Registers, for every case and type: each available ISA's kernel on one thread (the scalar level
// only up to 64 tokens), and cpu::matmul on 1 thread and on every CPU, over the file's rows and,
// where the level repacks the type, over the interleaved layout ("matmul-interleaved"). Each reports weight GB/s
// (1-token cases) or G(FL)OP/s (2 per multiply-add), `roof` in the same unit (read bandwidth, or the
// fp32 / bf16 / int8 peak matching the kernel's activation format, measured on as many threads).
void register_gemm(std::span<const DType> types, std::span<const GemmCase> cases);

}  // namespace rf::bench
