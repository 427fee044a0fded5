// Our f32/f16 prefill (cpu::matmul, BLAS off) against each BLAS back end found, at TinyLlama's
// shapes: attn 2048 x 2048, ffn_gate/up 5632 x 2048, ffn_down 2048 x 5632 (rows x k), 64, 128 and
// 512 tokens, against this machine's fp32 FMA roof measured in the same run.
//
// GFLOP/s counts 2 per multiply-add; `roof` is the fp32 peak on as many threads. /threads:1 is
// timed by CPU time (comparable on a busy machine), /threads:<all> by the wall clock. f16 rows of a
// back end include widening the weights to f32 panel by panel (blas.h), as cpu::matmul runs them.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "base/aligned_buffer.h"
#include "common/bench_util.h"
#include "cpu/blas.h"
#include "cpu/kernels.h"
#include "quant/quantize.h"

namespace rf::cpu {
namespace {

// Set before main, so before anything loads the back ends: cpu::matmul is then our kernels only,
// and each back end is loaded here, on its own, and called directly.
const bool kChooserOff = setenv("ROCMFORGE_BLAS", "off", 1) == 0;

const std::vector<BlasBackend>& backends() {
  static const std::vector<BlasBackend> found = [] {
    std::vector<BlasBackend> all;
    for (const BlasLibrary& library : known_blas_libraries()) {
      if (std::optional<BlasBackend> b = load_blas(library)) all.push_back(std::move(*b));
    }
    return all;
  }();
  return found;
}

struct Shape {
  int64_t rows, cols;
};

// A (rows, cols) matrix of `type` from values uniform in [-1, 1); made once per type and shape.
const AlignedBuffer<uint8_t>& weights(DType type, Shape s) {
  static std::map<std::tuple<DType, int64_t, int64_t>, std::unique_ptr<AlignedBuffer<uint8_t>>> made;
  auto& w = made[{type, s.rows, s.cols}];
  if (w == nullptr) {
    const uint64_t stride = row_bytes(type, s.cols).value();
    w = std::make_unique<AlignedBuffer<uint8_t>>(stride * static_cast<uint64_t>(s.rows));
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> row(static_cast<size_t>(s.cols));
    for (int64_t r = 0; r < s.rows; ++r) {
      for (float& v : row) v = u(rng);
      quantize_row(type, row.data(), w->data() + stride * static_cast<uint64_t>(r), s.cols);
    }
  }
  return *w;
}

// backend < 0: cpu::matmul (our kernels); otherwise backends()[backend] through blas_matmul.
void BM_Prefill(benchmark::State& state, DType type, Shape s, int64_t n_tokens, int backend, bool all_threads) {
  if (!kChooserOff) {
    state.SkipWithError("could not set ROCMFORGE_BLAS=off");
    return;
  }
  ThreadPool& pool = bench::pool(all_threads);
  const AlignedBuffer<uint8_t>& w = weights(type, s);
  const MatrixView view{w.data(), type, s.rows, s.cols, row_bytes(type, s.cols).value()};
  const std::vector<float> x = bench::random_activations(n_tokens * s.cols, 2);
  AlignedBuffer<uint8_t> scratch(matmul_scratch_bytes(n_tokens, s.cols));
  AlignedBuffer<float> y(static_cast<size_t>(s.rows * n_tokens));
  for (auto _ : state) {
    if (backend < 0) {
      matmul(pool, view, x.data(), n_tokens, y.data(), scratch.span());
    } else {
      blas_matmul(pool, backends()[static_cast<size_t>(backend)], view, x.data(), n_tokens, y.data(), scratch.span());
    }
    benchmark::DoNotOptimize(y.data());
  }
  const double flops = 2.0 * static_cast<double>(s.rows * s.cols * n_tokens);
  state.counters["GFLOP/s"] =
      benchmark::Counter(1e-9 * flops * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["roof"] = bench::roofs(kernels().isa, all_threads).fp32_gflops;
  state.SetLabel(backend < 0 ? "ours " + std::string(isa_name(kernels().isa)) : backends()[static_cast<size_t>(backend)].name);
}

const int kRegistered = [] {
  constexpr Shape kShapes[] = {{2048, 2048}, {5632, 2048}, {2048, 5632}};
  for (const Shape s : kShapes) {
    for (const DType type : {DType::kF32, DType::kF16}) {
      for (const int64_t n_tokens : {int64_t{64}, int64_t{128}, int64_t{512}}) {
        for (const bool all : {false, true}) {
          const std::string shape = std::to_string(s.rows) + "x" + std::to_string(s.cols);
          const std::string suffix = "/tokens:" + std::to_string(n_tokens) + "/threads:" +
                                     std::to_string(all ? bench::n_threads() : 1);
          for (int b = -1; b < static_cast<int>(backends().size()); ++b) {
            const std::string who = b < 0 ? "ours" : backends()[static_cast<size_t>(b)].name;
            const std::string name = "prefill/" + std::string(dtype_name(type)) + "/" + shape + "/" + who + suffix;
            benchmark::internal::Benchmark* bm =
                benchmark::RegisterBenchmark(name.c_str(), BM_Prefill, type, s, n_tokens, b, all);
            // The calling thread's CPU time would miss the workers' and the library's threads.
            if (all) bm->UseRealTime();
          }
        }
      }
    }
  }
  return 0;
}();

}  // namespace
}  // namespace rf::cpu
