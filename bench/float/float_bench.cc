// Float-family gemm per ISA on a 2048 x 5632 weight matrix (TinyLlama's ffn_down shape), against
// this machine's roofs measured in the same run: memory read bandwidth and fp32 FMA / bf16 dot peaks.
//
// Decode (1 token) reports weight bytes per second; prefill (64 and 512 tokens) reports FLOP/s (2
// per multiply-add), tiled as the matmul driver tiles. Each runs twice: /threads:N on every CPU
// through a ThreadPool, timed by the wall clock, and /threads:1 on the calling thread, timed by its
// CPU time; on a busy machine only the latter's ratios to its roofs mean much.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/aligned_buffer.h"
#include "cpu/kernels.h"
#include "quant/fp16.h"
#include "quant/types.h"
#include "threading/function_ref.h"
#include "threading/thread_pool.h"

namespace rf::cpu {
namespace {

constexpr int64_t kRows = 2048;
constexpr int64_t kCols = 5632;  // k
constexpr int64_t kRowBlock = 16;
constexpr int64_t kTokenBlock = 64;
// Decode cycles through copies of the matrix totalling at least this much, so no pass finds the
// weights in the (32 MB) L3.
constexpr uint64_t kStreamBytes = uint64_t{256} << 20;

int n_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

ThreadPool& pool() {
  static ThreadPool p(n_threads());
  return p;
}

// Runs fn(begin, end, thread) over [0, n) on the pool (statically or dynamically split), or all of
// it on the calling thread.
void spread(bool all_threads, bool dynamic, int64_t n, FunctionRef<void(int64_t, int64_t, int)> fn) {
  if (!all_threads) {
    fn(0, n, 0);
  } else if (dynamic) {
    pool().parallel_for_dynamic(n, 1, fn);
  } else {
    pool().parallel_for(n, fn);
  }
}

// Random weights of `type` (values in [-1, 1)), `copies` matrices back to back.
AlignedBuffer<uint8_t> random_weights(DType type, int copies) {
  const uint64_t bytes = row_bytes(type, kCols).value() * kRows;
  AlignedBuffer<uint8_t> buf(bytes * static_cast<uint64_t>(copies));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const uint64_t elems = buf.size() / (type == DType::kF32 ? 4 : 2);
  for (uint64_t i = 0; i < elems; ++i) {
    const float v = u(rng);
    if (type == DType::kF32) {
      std::memcpy(buf.data() + 4 * i, &v, 4);
    } else {
      const uint16_t h = type == DType::kF16 ? f32_to_fp16(v) : f32_to_bf16(v);
      std::memcpy(buf.data() + 2 * i, &h, 2);
    }
  }
  return buf;
}

// The matmul driver's schedule: activations converted once, then 16-row x 64-token tiles, rows
// split statically for one token and handed out dynamically otherwise.
void run_matmul(bool all_threads, const GemmKernel& kernel, const uint8_t* w, uint64_t w_stride, const float* x,
                int64_t n_tokens, uint8_t* scratch, float* y) {
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
  spread(all_threads, token_blocks > 1, row_blocks * token_blocks, tiles);
}

void BM_Gemm(benchmark::State& state, bool all_threads, Isa isa, DType type, int64_t n_tokens) {
  const GemmKernel& kernel = kernels_for(isa).for_type(type);
  const uint64_t w_stride = row_bytes(type, kCols).value();
  const uint64_t matrix_bytes = w_stride * kRows;
  const int copies = n_tokens == 1 ? static_cast<int>((kStreamBytes + matrix_bytes - 1) / matrix_bytes) : 1;
  const AlignedBuffer<uint8_t> w = random_weights(type, copies);
  std::vector<float> x(static_cast<size_t>(n_tokens * kCols));
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (float& v : x) v = u(rng);
  AlignedBuffer<uint8_t> scratch(act_row_bytes(ActFormat::kF32, kCols) * static_cast<uint64_t>(n_tokens));
  AlignedBuffer<float> y(static_cast<size_t>(kRows * n_tokens));
  int copy = 0;
  for (auto _ : state) {
    run_matmul(all_threads, kernel, w.data() + matrix_bytes * static_cast<uint64_t>(copy), w_stride, x.data(), n_tokens,
               scratch.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % copies;
  }
  const auto iters = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(matrix_bytes) * state.iterations());
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * kRows * kCols * static_cast<double>(n_tokens) * iters,
                                                benchmark::Counter::kIsRate);
  state.SetLabel(std::string(isa_name(isa)) + (kernel.act == ActFormat::kBF16 ? " bf16-dot" : " fma"));
}

// Accuracy of f16 weights kept f16 (FMA, f32 activations) versus repacked to bf16 at load (the
// VDPBF16PS path with bf16 activations, or FMA with f32 activations to separate the two roundings),
// against an f64 product of the original f16 weights and f32 activations. Weights ~ N(0, 0.02),
// activations ~ N(0, 1) with every 64th channel 20x larger (the outlier channels LLMs have).
// Reports |error| / rms(reference outputs): the largest and the root mean square over all outputs.
enum class Repack { kNone, kBf16Fma, kBf16Dot };

void BM_Accuracy(benchmark::State& state, Repack repack) {
  constexpr int64_t kAccRows = 256, kTokens = 16;
  // The FMA path for bf16 weights on a CPU with VDPBF16PS is the AVX2 level's.
  const Isa isa = repack == Repack::kBf16Fma && available_isas().back() == Isa::kAvx512 ? Isa::kAvx2
                                                                                          : available_isas().back();
  const DType type = repack == Repack::kNone ? DType::kF16 : DType::kBF16;
  const GemmKernel& kernel = kernels_for(isa).for_type(type);
  if ((repack == Repack::kBf16Dot) != (kernel.act == ActFormat::kBF16)) {
    state.SkipWithError("this CPU has no matching kernel");
    return;
  }
  std::mt19937 rng(3);
  std::normal_distribution<float> wdist(0.0f, 0.02f), adist(0.0f, 1.0f);
  std::vector<double> w(static_cast<size_t>(kAccRows * kCols));
  std::vector<uint8_t> wq(static_cast<size_t>(kAccRows * kCols) * 2);
  for (size_t i = 0; i < w.size(); ++i) {
    const uint16_t h = f32_to_fp16(wdist(rng));
    w[i] = fp16_to_f32(h);
    const uint16_t stored = repack == Repack::kNone ? h : f32_to_bf16(fp16_to_f32(h));
    std::memcpy(&wq[2 * i], &stored, 2);
  }
  std::vector<float> x(static_cast<size_t>(kTokens * kCols));
  for (size_t i = 0; i < x.size(); ++i) x[i] = adist(rng) * (i % 64 == 5 ? 20.0f : 1.0f);
  const uint64_t a_stride = act_row_bytes(kernel.act, kCols);
  std::vector<uint8_t> a(a_stride * kTokens);
  for (int64_t t = 0; t < kTokens; ++t) kernel.quantize_act(x.data() + t * kCols, a.data() + t * a_stride, kCols);
  std::vector<float> y(static_cast<size_t>(kAccRows * kTokens));
  for (auto _ : state) {
    for (int64_t r0 = 0; r0 < kAccRows; r0 += kRowBlock) {
      GemmArgs g;
      g.k = kCols;
      g.w = wq.data() + static_cast<uint64_t>(r0 * kCols) * 2;
      g.w_stride = kCols * 2;
      g.n_rows = kRowBlock;
      g.a = a.data();
      g.a_stride = a_stride;
      g.n_cols = kTokens;
      g.out = y.data() + r0;
      g.out_stride = kAccRows;
      kernel.gemm(g);
    }
  }
  double sq_ref = 0, sq_err = 0, max_err = 0;
  for (int64_t t = 0; t < kTokens; ++t) {
    for (int64_t r = 0; r < kAccRows; ++r) {
      double ref = 0;
      for (int64_t i = 0; i < kCols; ++i) ref += w[static_cast<size_t>(r * kCols + i)] * x[static_cast<size_t>(t * kCols + i)];
      const double err = std::fabs(y[static_cast<size_t>(t * kAccRows + r)] - ref);
      sq_ref += ref * ref;
      sq_err += err * err;
      max_err = std::max(max_err, err);
    }
  }
  const double rms_ref = std::sqrt(sq_ref / (kAccRows * kTokens));
  state.counters["max_err/rms"] = max_err / rms_ref;
  state.counters["rms_err/rms"] = std::sqrt(sq_err / (kAccRows * kTokens)) / rms_ref;
  state.SetLabel(std::string(isa_name(isa)) + (kernel.act == ActFormat::kBF16 ? " bf16-dot" : " fma"));
}

// Roofs: the table's read and compute loops, on every thread or on the calling one.
void BM_RoofRead(benchmark::State& state, bool all_threads) {
  const PeakLoops& peak = kernels().peak;
  const int n = all_threads ? pool().size() : 1;
  const uint64_t per_thread = kStreamBytes / static_cast<uint64_t>(n);
  const AlignedBuffer<uint8_t> buf(kStreamBytes);
  for (auto _ : state) {
    spread(all_threads, false, n, [&](int64_t begin, int64_t end, int) {
      for (int64_t i = begin; i < end; ++i) {
        benchmark::DoNotOptimize(peak.stream_read(buf.data() + per_thread * static_cast<uint64_t>(i),
                                                  static_cast<int64_t>(per_thread)));
      }
    });
  }
  state.SetBytesProcessed(static_cast<int64_t>(kStreamBytes) * state.iterations());
  state.SetLabel(std::string(isa_name(kernels().isa)));
}

void BM_RoofCompute(benchmark::State& state, bool all_threads, Isa isa, bool bf16) {
  const PeakLoops& peak = kernels_for(isa).peak;
  const auto fn = bf16 ? peak.bf16_dot : peak.fp32_fma;
  const double ops = bf16 ? peak.bf16_ops_per_iteration : peak.fp32_ops_per_iteration;
  if (fn == nullptr) {
    state.SkipWithError("this ISA level has no such loop");
    return;
  }
  constexpr int64_t kIterations = 1 << 20;
  const int n = all_threads ? pool().size() : 1;
  for (auto _ : state) {
    spread(all_threads, false, n, [&](int64_t begin, int64_t end, int) {
      for (int64_t i = begin; i < end; ++i) benchmark::DoNotOptimize(fn(kIterations));
    });
  }
  state.counters["FLOP/s"] =
      benchmark::Counter(ops * kIterations * n * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// Real time for the pool runs (the calling thread's CPU time would miss the workers'); CPU time
// for single-thread runs (immune to time slices lost to other processes).
benchmark::internal::Benchmark* timed(benchmark::internal::Benchmark* b, bool all_threads) {
  return all_threads ? b->UseRealTime() : b;
}

const int kRegistered = [] {
  benchmark::RegisterBenchmark("accuracy/f16_kept", BM_Accuracy, Repack::kNone)->Iterations(1);
  benchmark::RegisterBenchmark("accuracy/f16_as_bf16_fma", BM_Accuracy, Repack::kBf16Fma)->Iterations(1);
  benchmark::RegisterBenchmark("accuracy/f16_as_bf16_dot", BM_Accuracy, Repack::kBf16Dot)->Iterations(1);
  for (const bool all : {false, true}) {
    const std::string threads = "/threads:" + std::to_string(all ? n_threads() : 1);
    timed(benchmark::RegisterBenchmark(("roof/read" + threads).c_str(), BM_RoofRead, all), all);
    for (const Isa isa : available_isas()) {
      const std::string name(isa_name(isa));
      timed(benchmark::RegisterBenchmark(("roof/fp32_fma/" + name + threads).c_str(), BM_RoofCompute, all, isa, false), all);
      if (kernels_for(isa).peak.bf16_dot != nullptr) {
        timed(benchmark::RegisterBenchmark(("roof/bf16_dot/" + name + threads).c_str(), BM_RoofCompute, all, isa, true),
              all);
      }
    }
    for (const int64_t n_tokens : {int64_t{1}, kTokenBlock, 8 * kTokenBlock}) {
      for (const DType type : {DType::kF32, DType::kF16, DType::kBF16}) {
        for (const Isa isa : available_isas()) {
          if (isa == Isa::kScalar && n_tokens > kTokenBlock) continue;  // seconds per iteration
          const std::string name = std::string(n_tokens == 1 ? "decode/" : "prefill/") + std::string(dtype_name(type)) +
                                   "/" + std::string(isa_name(isa)) + "/tokens:" + std::to_string(n_tokens) + threads;
          timed(benchmark::RegisterBenchmark(name.c_str(), BM_Gemm, all, isa, type, n_tokens), all);
        }
      }
    }
  }
  return 0;
}();

}  // namespace
}  // namespace rf::cpu
