// Float-family gemm (f32, f16, bf16 weights) on a 2048 x 5632 weight matrix (TinyLlama's ffn_down
// shape), against this machine's roofs measured in the same run: memory read bandwidth and fp32 FMA /
// bf16 dot peaks.
//
// Decode (1 token, weights streamed from 256 MB of copies) reports weight GB/s; prefill (64 and 512
// tokens) reports GFLOP/s (2 per multiply-add). Each level's kernel runs on one thread (CPU time);
// cpu::matmul runs on /threads:1 (CPU time) and on every CPU (wall time); see common/bench_util.h.
// On a busy machine only the one-thread ratios to their roofs mean much.
// accuracy/… compares f16 weights kept f16 with f16 weights repacked to bf16.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/bench_util.h"
#include "cpu/kernels.h"
#include "quant/fp16.h"
#include "quant/types.h"

namespace rf::cpu {
namespace {

constexpr int64_t kCols = bench::kCols;  // k

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
  std::vector<uint8_t> scratch(matmul_scratch_bytes(kTokens, kCols));
  std::vector<float> y(static_cast<size_t>(kAccRows * kTokens));
  const MatrixView view{wq.data(), type, kAccRows, kCols, kCols * 2};
  for (auto _ : state) bench::kernel_matmul(kernel, view, x.data(), kTokens, y.data(), scratch.data());
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

const int kRegistered = [] {
  benchmark::RegisterBenchmark("accuracy/f16_kept", BM_Accuracy, Repack::kNone)->Iterations(1);
  benchmark::RegisterBenchmark("accuracy/f16_as_bf16_fma", BM_Accuracy, Repack::kBf16Fma)->Iterations(1);
  benchmark::RegisterBenchmark("accuracy/f16_as_bf16_dot", BM_Accuracy, Repack::kBf16Dot)->Iterations(1);
  constexpr DType kTypes[] = {DType::kF32, DType::kF16, DType::kBF16};
  constexpr bench::GemmCase kCases[] = {{"decode", 1, true}, {"prefill", 64, false}, {"prefill", 512, false}};
  bench::register_gemm(kTypes, kCases);
  return 0;
}();

}  // namespace
}  // namespace rf::cpu
