// k-quant gemm (q4_K, q5_K, q6_K x q8_K) per ISA on a 2048 x 5632 weight matrix (TinyLlama's
// ffn_down shape), against this machine's roofs measured in the same run.
//
// decode/…      1 token, weights cycled through copies totalling 256 MB (never cache-resident):
//               bytes/s is weight bytes streamed; compare with roof/read.
// decode_l3/…   1 token on one 5-9 MB matrix that stays in the 32 MB L3 (an upper bound).
// prefill/…     64 and 512 tokens: OP/s counts 2 per multiply-add; compare with roof/int8_dot.
// quantize_act/ q8_K activation conversion of 64 rows.
// Every gemm uses all CPUs through a ThreadPool, tiled as the matmul driver tiles (16 rows x 64 tokens);
// the …/1thread twins run the same tiles on the calling thread and report its CPU time.
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
constexpr uint64_t kStreamBytes = uint64_t{256} << 20;
constexpr DType kTypes[] = {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

ThreadPool& pool() {
  static ThreadPool p(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  return p;
}

// `copies` matrices of random blocks: random quant and scale bytes, f16 d (and dmin) in a sane range.
AlignedBuffer<uint8_t> random_weights(DType type, int copies) {
  const uint64_t matrix = row_bytes(type, kCols).value() * kRows;
  AlignedBuffer<uint8_t> buf(matrix * static_cast<uint64_t>(copies));
  std::mt19937 rng(1);
  for (uint64_t i = 0; i < matrix; ++i) buf[i] = static_cast<uint8_t>(rng());
  const uint32_t block_bytes = dtype_info(type).block_bytes;
  const uint16_t h = f32_to_fp16(1e-3f);
  for (uint64_t b = 0; b < matrix / block_bytes; ++b) {
    uint8_t* block = buf.data() + b * block_bytes;
    if (type == DType::kQ6_K) {
      std::memcpy(block + 208, &h, 2);
    } else {
      std::memcpy(block, &h, 2);
      std::memcpy(block + 2, &h, 2);
    }
  }
  for (int c = 1; c < copies; ++c) std::memcpy(buf.data() + matrix * static_cast<uint64_t>(c), buf.data(), matrix);
  return buf;
}

// The matmul driver's schedule: activations converted once, then 16-row x 64-token tiles, rows
// split statically for one token and handed out dynamically otherwise.
void run_matmul(const GemmKernel& kernel, const uint8_t* w, uint64_t w_stride, const float* x, int64_t n_tokens,
                uint8_t* scratch, float* y, bool all_threads) {
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
  if (!all_threads) {
    tiles(0, row_blocks * token_blocks, 0);
  } else if (token_blocks == 1) {
    pool().parallel_for(row_blocks, tiles);
  } else {
    pool().parallel_for_dynamic(row_blocks * token_blocks, 1, tiles);
  }
}

std::vector<float> random_activations(int64_t n) {
  std::vector<float> x(static_cast<size_t>(n));
  std::mt19937 rng(2);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  for (float& v : x) v = gauss(rng);
  return x;
}

void BM_Gemm(benchmark::State& state, Isa isa, DType type, int64_t n_tokens, bool stream, bool all_threads) {
  const GemmKernel& kernel = kernels_for(isa).for_type(type);
  const uint64_t w_stride = row_bytes(type, kCols).value();
  const uint64_t matrix_bytes = w_stride * kRows;
  const int copies = stream ? static_cast<int>((kStreamBytes + matrix_bytes - 1) / matrix_bytes) : 1;
  const AlignedBuffer<uint8_t> w = random_weights(type, copies);
  const std::vector<float> x = random_activations(n_tokens * kCols);
  AlignedBuffer<uint8_t> scratch(act_row_bytes(kernel.act, kCols) * static_cast<uint64_t>(n_tokens));
  AlignedBuffer<float> y(static_cast<size_t>(kRows * n_tokens));
  int copy = 0;
  for (auto _ : state) {
    run_matmul(kernel, w.data() + matrix_bytes * static_cast<uint64_t>(copy), w_stride, x.data(), n_tokens,
               scratch.data(), y.data(), all_threads);
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % copies;
  }
  const auto iters = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(matrix_bytes) * state.iterations());
  state.counters["OP/s"] =
      benchmark::Counter(2.0 * kRows * kCols * static_cast<double>(n_tokens) * iters, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(isa_name(isa)));
}

void BM_QuantizeAct(benchmark::State& state, Isa isa) {
  constexpr int64_t kTokens = 64;
  const GemmKernel& kernel = kernels_for(isa).for_type(DType::kQ4_K);
  const std::vector<float> x = random_activations(kTokens * kCols);
  const uint64_t a_stride = act_row_bytes(kernel.act, kCols);
  AlignedBuffer<uint8_t> out(a_stride * kTokens);
  for (auto _ : state) {
    for (int64_t t = 0; t < kTokens; ++t) kernel.quantize_act(x.data() + t * kCols, out.data() + t * a_stride, kCols);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(x.size() * sizeof(float)) * state.iterations());
}

// Roofs on every thread at once: memory read (256 MB stream) and the int8 / fp32 peak loops.
void BM_RoofRead(benchmark::State& state, bool all_threads) {
  const PeakLoops& peak = kernels().peak;
  const int n = all_threads ? pool().size() : 1;
  const uint64_t per_thread = kStreamBytes / static_cast<uint64_t>(n);
  const AlignedBuffer<uint8_t> buf(kStreamBytes);
  for (auto _ : state) {
    if (all_threads) {
      pool().run([&](int i, int) {
        benchmark::DoNotOptimize(
            peak.stream_read(buf.data() + per_thread * static_cast<uint64_t>(i), static_cast<int64_t>(per_thread)));
      });
    } else {
      benchmark::DoNotOptimize(peak.stream_read(buf.data(), static_cast<int64_t>(kStreamBytes)));
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(kStreamBytes) * state.iterations());
  state.SetLabel(std::string(isa_name(kernels().isa)));
}

void BM_RoofCompute(benchmark::State& state, Isa isa, bool int8, bool all_threads) {
  const PeakLoops& peak = kernels_for(isa).peak;
  const auto fn = int8 ? peak.int8_dot : peak.fp32_fma;
  const double ops = int8 ? peak.int8_ops_per_iteration : peak.fp32_ops_per_iteration;
  if (fn == nullptr) {
    state.SkipWithError("this ISA level has no such loop");
    return;
  }
  constexpr int64_t kIterations = 1 << 20;
  for (auto _ : state) {
    if (all_threads) {
      pool().run([&](int, int) { benchmark::DoNotOptimize(fn(kIterations)); });
    } else {
      benchmark::DoNotOptimize(fn(kIterations));
    }
  }
  const int threads = all_threads ? pool().size() : 1;
  state.counters["OP/s"] = benchmark::Counter(ops * kIterations * threads * static_cast<double>(state.iterations()),
                                              benchmark::Counter::kIsRate);
}

const int kRegistered = [] {
  benchmark::RegisterBenchmark("roof/read", BM_RoofRead, true)->UseRealTime();
  benchmark::RegisterBenchmark("roof/read/1thread", BM_RoofRead, false);
  for (const Isa isa : available_isas()) {
    const std::string name(isa_name(isa));
    benchmark::RegisterBenchmark(("roof/int8_dot/" + name).c_str(), BM_RoofCompute, isa, true, true)->UseRealTime();
    benchmark::RegisterBenchmark(("roof/fp32_fma/" + name).c_str(), BM_RoofCompute, isa, false, true)->UseRealTime();
    benchmark::RegisterBenchmark(("roof/int8_dot/" + name + "/1thread").c_str(), BM_RoofCompute, isa, true, false);
    benchmark::RegisterBenchmark(("roof/fp32_fma/" + name + "/1thread").c_str(), BM_RoofCompute, isa, false, false);
    benchmark::RegisterBenchmark(("quantize_act/q8_K/" + name).c_str(), BM_QuantizeAct, isa)->UseRealTime();
  }
  struct Case {
    const char* name;
    int64_t tokens;
    bool stream;
  };
  for (const Case c : {Case{"decode", 1, true}, Case{"decode_l3", 1, false}, Case{"prefill", kTokenBlock, false},
                       Case{"prefill", 8 * kTokenBlock, false}}) {
    for (const DType type : kTypes) {
      for (const Isa isa : available_isas()) {
        const std::string name = std::string(c.name) + "/" + std::string(dtype_name(type)) + "/" +
                                 std::string(isa_name(isa)) + "/tokens:" + std::to_string(c.tokens);
        benchmark::RegisterBenchmark(name.c_str(), BM_Gemm, isa, type, c.tokens, c.stream, true)->UseRealTime();
        // One thread, timed by its CPU time: comparable across ISAs even on a busy machine.
        benchmark::RegisterBenchmark((name + "/1thread").c_str(), BM_Gemm, isa, type, c.tokens, c.stream, false);
      }
    }
  }
  return 0;
}();

}  // namespace
}  // namespace rf::cpu
