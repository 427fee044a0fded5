// Legacy-quant gemm per ISA on a 2048 x 5632 weight matrix (TinyLlama's ffn_down shape), against
// this machine's roofs measured in the same run: memory read bandwidth and int8 / fp32 peaks.
//
// Decode (1 token) reports weight bytes per second, streaming copies of the matrix that together
// exceed the L3; prefill (64 tokens) reports GOP/s (2 per multiply-add). Every CPU works through a
// ThreadPool, tiled as the matmul driver tiles (16 rows x 64 tokens).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/aligned_buffer.h"
#include "cpu/kernels.h"
#include "quant/fp16.h"
#include "quant/types.h"
#include "threading/thread_pool.h"

namespace rf::cpu {
namespace {

constexpr int64_t kRows = 2048;
constexpr int64_t kCols = 5632;  // k
constexpr int64_t kRowBlock = 16;
constexpr int64_t kTokenBlock = 64;
constexpr uint64_t kStreamBytes = uint64_t{256} << 20;  // far beyond the 32 MB L3

ThreadPool& pool() {
  static ThreadPool p(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  return p;
}

// `copies` matrices of random blocks: random quants, scales (and mins) set to finite f16 values.
AlignedBuffer<uint8_t> random_weights(DType type, int copies) {
  const DTypeInfo& info = dtype_info(type);
  const uint64_t bytes = row_bytes(type, kCols).value() * kRows;
  AlignedBuffer<uint8_t> buf(bytes * static_cast<uint64_t>(copies));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> scale(-0.02f, 0.02f);
  const bool has_min = type == DType::kQ4_1 || type == DType::kQ5_1;
  for (uint64_t i = 0; i < bytes; ++i) buf.data()[i] = static_cast<uint8_t>(rng());
  for (uint64_t b = 0; b < bytes; b += info.block_bytes) {
    const uint16_t d = f32_to_fp16(scale(rng)), m = f32_to_fp16(scale(rng));
    std::memcpy(buf.data() + b, &d, 2);
    if (has_min) std::memcpy(buf.data() + b + 2, &m, 2);
  }
  for (int c = 1; c < copies; ++c) std::memcpy(buf.data() + bytes * static_cast<uint64_t>(c), buf.data(), bytes);
  return buf;
}

// The matmul driver's schedule: activations quantized once, then 16-row x 64-token tiles, rows
// split statically for one token and handed out dynamically otherwise.
void run_matmul(const GemmKernel& kernel, const uint8_t* w, uint64_t w_stride, const float* x, int64_t n_tokens,
                uint8_t* scratch, float* y) {
  const uint64_t a_stride = act_row_bytes(kernel.act, kCols);
  for (int64_t t = 0; t < n_tokens; ++t) kernel.quantize_act(x + t * kCols, scratch + t * a_stride, kCols);
  const int64_t row_blocks = kRows / kRowBlock;
  const int64_t token_blocks = (n_tokens + kTokenBlock - 1) / kTokenBlock;
  const auto tiles = [&](int64_t begin, int64_t end, int) {
    for (int64_t tile = begin; tile < end; ++tile) {
      const int64_t r0 = tile % row_blocks * kRowBlock;
      const int64_t t0 = tile / row_blocks * kTokenBlock;
      GemmArgs g;
      g.k = kCols;
      g.w = w + static_cast<uint64_t>(r0) * w_stride;
      g.w_stride = w_stride;
      g.n_rows = kRowBlock;
      g.a = scratch + static_cast<uint64_t>(t0) * a_stride;
      g.a_stride = a_stride;
      g.n_cols = std::min(kTokenBlock, n_tokens - t0);
      g.out = y + t0 * kRows + r0;
      g.out_stride = kRows;
      kernel.gemm(g);
    }
  };
  if (token_blocks == 1) {
    pool().parallel_for(row_blocks, tiles);
  } else {
    pool().parallel_for_dynamic(row_blocks * token_blocks, 1, tiles);
  }
}

void BM_Gemm(benchmark::State& state, Isa isa, DType type, int64_t n_tokens) {
  const GemmKernel& kernel = kernels_for(isa).for_type(type);
  const uint64_t w_stride = row_bytes(type, kCols).value();
  const uint64_t matrix_bytes = w_stride * kRows;
  const int copies = n_tokens == 1 ? static_cast<int>((kStreamBytes + matrix_bytes - 1) / matrix_bytes) : 1;
  const AlignedBuffer<uint8_t> w = random_weights(type, copies);
  std::vector<float> x(static_cast<size_t>(n_tokens * kCols));
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (float& v : x) v = normal(rng);
  AlignedBuffer<uint8_t> scratch(act_row_bytes(kernel.act, kCols) * static_cast<uint64_t>(n_tokens));
  AlignedBuffer<float> y(static_cast<size_t>(kRows * n_tokens));
  int copy = 0;
  for (auto _ : state) {
    run_matmul(kernel, w.data() + matrix_bytes * static_cast<uint64_t>(copy), w_stride, x.data(), n_tokens,
               scratch.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % copies;
  }
  state.SetBytesProcessed(static_cast<int64_t>(matrix_bytes) * state.iterations());
  const double ops = 2.0 * kRows * kCols * static_cast<double>(n_tokens * state.iterations());
  state.counters["GOP/s"] = benchmark::Counter(1e-9 * ops, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(isa_name(isa)));
}

// Roofs, on every thread at once: streaming reads of a buffer far beyond the L3, flat-out loops.
void BM_RoofRead(benchmark::State& state) {
  const PeakLoops& peak = kernels().peak;
  const uint64_t per_thread = kStreamBytes / static_cast<uint64_t>(pool().size());
  AlignedBuffer<uint8_t> buf(kStreamBytes);
  std::memset(buf.data(), 1, kStreamBytes);
  for (auto _ : state) {
    pool().run([&](int i, int) {
      benchmark::DoNotOptimize(peak.stream_read(buf.data() + per_thread * static_cast<uint64_t>(i),
                                                static_cast<int64_t>(per_thread)));
    });
  }
  state.SetBytesProcessed(static_cast<int64_t>(kStreamBytes) * state.iterations());
  state.SetLabel(std::string(isa_name(kernels().isa)));
}

void BM_RoofCompute(benchmark::State& state, Isa isa, bool int8) {
  const PeakLoops& peak = kernels_for(isa).peak;
  const auto fn = int8 ? peak.int8_dot : peak.fp32_fma;
  const double ops = int8 ? peak.int8_ops_per_iteration : peak.fp32_ops_per_iteration;
  if (fn == nullptr) {
    state.SkipWithError("this ISA level has no such loop");
    return;
  }
  constexpr int64_t kIterations = 1 << 20;
  for (auto _ : state) {
    pool().run([&](int, int) { benchmark::DoNotOptimize(fn(kIterations)); });
  }
  const double total = ops * kIterations * pool().size() * static_cast<double>(state.iterations());
  state.counters["GOP/s"] = benchmark::Counter(1e-9 * total, benchmark::Counter::kIsRate);
}

const int kRegistered = [] {
  benchmark::RegisterBenchmark("roof/read", BM_RoofRead)->UseRealTime();
  for (const Isa isa : available_isas()) {
    const std::string name(isa_name(isa));
    benchmark::RegisterBenchmark(("roof/int8_dot/" + name).c_str(), BM_RoofCompute, isa, true)->UseRealTime();
    benchmark::RegisterBenchmark(("roof/fp32_fma/" + name).c_str(), BM_RoofCompute, isa, false)->UseRealTime();
  }
  for (const int64_t n_tokens : {int64_t{1}, kTokenBlock}) {
    for (const DType type : {DType::kQ4_0, DType::kQ8_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1}) {
      for (const Isa isa : available_isas()) {
        const std::string name = std::string(n_tokens == 1 ? "decode/" : "prefill/") + std::string(dtype_name(type)) +
                                 "/" + std::string(isa_name(isa));
        benchmark::RegisterBenchmark(name.c_str(), BM_Gemm, isa, type, n_tokens)->UseRealTime();
      }
    }
  }
  return 0;
}();

}  // namespace
}  // namespace rf::cpu
