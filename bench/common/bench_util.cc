// Shared pieces of the gemm microbenchmarks: thread pools, random weights, roofs, counters, registration.
#include "common/bench_util.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include "cpu/repack.h"
#include "quant/quantize.h"

namespace rf::bench {
namespace {

using cpu::ActFormat;
using cpu::Isa;

// Copies of the matrix one benchmark cycles through.
int copies_for(uint64_t matrix_bytes, bool stream) {
  return stream ? static_cast<int>((kStreamBytes + matrix_bytes - 1) / matrix_bytes) : 1;
}

// The file's rows of the matrix, or (`layout` kInterleaved16) the same repacked at load (cpu/repack.h).
cpu::MatrixView matrix_view(const uint8_t* data, DType type, cpu::MatrixLayout layout) {
  return {data, type, kRows, kCols, row_bytes(type, kCols).value(), layout};
}

AlignedBuffer<uint8_t> weight_copies(DType type, int copies, cpu::MatrixLayout layout) {
  const std::span<const uint8_t> matrix = random_matrix(type);
  AlignedBuffer<uint8_t> packed;
  std::span<const uint8_t> copy = matrix;
  if (layout == cpu::MatrixLayout::kInterleaved16) {
    const cpu::MatrixView rows = matrix_view(matrix.data(), type, cpu::MatrixLayout::kRows);
    packed = AlignedBuffer<uint8_t>(cpu::interleaved_bytes(rows));
    cpu::interleave(rows, packed.data());
    copy = {packed.data(), packed.size()};
  }
  AlignedBuffer<uint8_t> buf(copy.size() * static_cast<uint64_t>(copies));
  for (int c = 0; c < copies; ++c) std::memcpy(buf.data() + copy.size() * static_cast<uint64_t>(c), copy.data(), copy.size());
  return buf;
}

bool is_float(DType type) { return type == DType::kF32 || type == DType::kF16 || type == DType::kBF16; }

// The rate counter ("GB/s" for one token, "GFLOP/s" or "GOP/s" otherwise) and `roof` in the same
// unit (shown without the "/s" Google Benchmark appends to rates).
void report(benchmark::State& state, DType type, ActFormat act, int64_t n_tokens, uint64_t matrix_bytes,
            const Roofline& roofline) {
  const auto iters = static_cast<double>(state.iterations());
  double work = 0, roof = 0;  // work in units of 1e9 per iteration
  std::string name;
  if (n_tokens == 1) {
    name = "GB/s";
    work = 1e-9 * static_cast<double>(matrix_bytes);
    roof = roofline.read_gbps;
  } else {
    name = is_float(type) ? "GFLOP/s" : "GOP/s";
    work = 2e-9 * kRows * kCols * static_cast<double>(n_tokens);
    roof = act == ActFormat::kF32 ? roofline.fp32_gflops : act == ActFormat::kBF16 ? roofline.bf16_gflops
                                                                                    : roofline.int8_gops;
  }
  state.counters[name] = benchmark::Counter(work * iters, benchmark::Counter::kIsRate);
  state.counters["roof"] = roof;
}

// The level, and which bf16 path it takes.
std::string label(Isa isa, DType type) {
  return std::string(cpu::isa_name(isa)) + (cpu::kernels_for(isa).for_type(type).act == ActFormat::kBF16 ? " bf16-dot" : "");
}

// Times product(weights, x, y, scratch) over the case's copies of the weights, then reports rates
// against `roofline` and labels the run with the level `isa`.
template <typename Product>
void time_gemm(benchmark::State& state, DType type, cpu::MatrixLayout layout, GemmCase c, Isa isa,
               const Roofline& roofline, const Product& product) {
  const uint64_t matrix_bytes = row_bytes(type, kCols).value() * kRows;
  const int copies = copies_for(matrix_bytes, c.stream);
  const AlignedBuffer<uint8_t> w = weight_copies(type, copies, layout);
  const std::vector<float> x = random_activations(c.n_tokens * kCols, 2);
  AlignedBuffer<uint8_t> scratch(cpu::matmul_scratch_bytes(c.n_tokens, kCols));
  AlignedBuffer<float> y(static_cast<size_t>(kRows * c.n_tokens));
  int copy = 0;
  for (auto _ : state) {
    const cpu::MatrixView view = matrix_view(w.data() + matrix_bytes * static_cast<uint64_t>(copy), type, layout);
    product(view, x.data(), y.data(), std::span(scratch.data(), scratch.size()));
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % copies;
  }
  report(state, type, cpu::kernels_for(isa).for_type(type).act, c.n_tokens, matrix_bytes, roofline);
  state.SetLabel(label(isa, type));
}

// One level's kernel over the weights on the calling thread (the per-ISA comparison).
void BM_Kernel(benchmark::State& state, Isa isa, DType type, GemmCase c) {
  const cpu::GemmKernel& kernel = cpu::kernels_for(isa).for_type(type);
  time_gemm(state, type, cpu::MatrixLayout::kRows, c, isa, roofs(isa, false),
            [&](const cpu::MatrixView& w, const float* x, float* y, std::span<uint8_t> scratch) {
              kernel_matmul(kernel, w, x, c.n_tokens, y, scratch.data());
            });
}

// The real driver on a pool of 1 thread or of every CPU, with kernels()'s level, over weights in
// `layout`.
void BM_Matmul(benchmark::State& state, DType type, cpu::MatrixLayout layout, GemmCase c, bool all_threads) {
  ThreadPool& threads = pool(all_threads);
  time_gemm(state, type, layout, c, cpu::kernels().isa, roofs(cpu::kernels().isa, all_threads),
            [&](const cpu::MatrixView& w, const float* x, float* y, std::span<uint8_t> scratch) {
              cpu::matmul(threads, w, x, c.n_tokens, y, scratch);
            });
}

}  // namespace

int n_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

ThreadPool& pool(bool all_threads) {
  static ThreadPool one(1);
  static ThreadPool all(n_threads());
  return all_threads ? all : one;
}

std::vector<float> random_activations(int64_t n, uint32_t seed) {
  std::vector<float> x(static_cast<size_t>(n));
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  for (float& v : x) v = gauss(rng);
  return x;
}

std::span<const uint8_t> random_matrix(DType type) {
  static std::map<DType, std::unique_ptr<AlignedBuffer<uint8_t>>> made;
  std::unique_ptr<AlignedBuffer<uint8_t>>& matrix = made[type];
  if (matrix == nullptr) {
    const uint64_t stride = row_bytes(type, kCols).value();
    matrix = std::make_unique<AlignedBuffer<uint8_t>>(stride * kRows);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> row(static_cast<size_t>(kCols));
    for (int64_t r = 0; r < kRows; ++r) {
      for (float& v : row) v = u(rng);
      quantize_row(type, row.data(), matrix->data() + stride * static_cast<uint64_t>(r), kCols);
    }
  }
  return {matrix->data(), matrix->size()};
}

const Roofline& roofs(Isa isa, bool all_threads) {
  static std::map<std::pair<Isa, bool>, Roofline> measured;
  const auto key = std::make_pair(isa, all_threads);
  auto it = measured.find(key);
  if (it == measured.end()) it = measured.emplace(key, measure_roofline(pool(all_threads), cpu::kernels_for(isa))).first;
  return it->second;
}

void kernel_matmul(const cpu::GemmKernel& kernel, const cpu::MatrixView& w, const float* x, int64_t n_tokens,
                   float* y, uint8_t* scratch) {
  const uint64_t a_stride = cpu::act_row_bytes(kernel.act, w.cols);
  for (int64_t t = 0; t < n_tokens; ++t) kernel.quantize_act(x + t * w.cols, scratch + static_cast<uint64_t>(t) * a_stride, w.cols);
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenBlock) {
    cpu::GemmArgs g;
    g.k = w.cols;
    g.w = w.data;
    g.w_stride = w.row_bytes;
    g.n_rows = w.rows;
    g.a = scratch + static_cast<uint64_t>(t0) * a_stride;
    g.a_stride = a_stride;
    g.n_cols = std::min(kTokenBlock, n_tokens - t0);
    g.out = y + t0 * w.rows;
    g.out_stride = w.rows;
    kernel.gemm(g);
  }
}

void register_gemm(std::span<const DType> types, std::span<const GemmCase> cases) {
  for (const GemmCase& c : cases) {
    for (const DType type : types) {
      const std::string prefix = std::string(c.name) + "/" + std::string(dtype_name(type)) + "/";
      const std::string tokens = "/tokens:" + std::to_string(c.n_tokens);
      for (const Isa isa : cpu::available_isas()) {
        if (isa == Isa::kScalar && c.n_tokens > kTokenBlock) continue;  // seconds per iteration
        // One thread, timed by its CPU time: comparable across ISAs even on a busy machine.
        benchmark::RegisterBenchmark((prefix + std::string(cpu::isa_name(isa)) + tokens).c_str(), BM_Kernel, isa, type, c);
      }
      const bool packs = cpu::interleaving_helps(matrix_view(nullptr, type, cpu::MatrixLayout::kRows));
      for (const cpu::MatrixLayout layout : {cpu::MatrixLayout::kRows, cpu::MatrixLayout::kInterleaved16}) {
        if (layout == cpu::MatrixLayout::kInterleaved16 && !packs) continue;
        const std::string driver = layout == cpu::MatrixLayout::kRows ? "matmul" : "matmul-interleaved";
        for (const bool all : {false, true}) {
          const std::string name = prefix + driver + tokens + "/threads:" + std::to_string(all ? n_threads() : 1);
          benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(name.c_str(), BM_Matmul, type, layout, c, all);
          // The calling thread's CPU time would miss the workers'.
          if (all) b->UseRealTime();
        }
      }
    }
  }
}

}  // namespace rf::bench
