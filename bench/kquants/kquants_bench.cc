// k-quant gemm (q4_K, q5_K, q6_K x q8_K) on a 2048 x 5632 weight matrix (TinyLlama's ffn_down
// shape), against this machine's roofs measured in the same run.
//
// decode/…      1 token, weights cycled through copies totalling 256 MB (never cache-resident):
//               GB/s is weight bytes streamed, against the read roof.
// decode_l3/…   1 token on one 5-9 MB matrix that stays in the 32 MB L3 (an upper bound).
// prefill/…     64 and 512 tokens: GOP/s counts 2 per multiply-add, against the int8 dot roof.
// quantize_act/ q8_K activation conversion of 64 rows.
// Each level's kernel runs on one thread (CPU time); cpu::matmul runs on /threads:1 (CPU time) and
// on every CPU (wall time); see common/bench_util.h.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "base/aligned_buffer.h"
#include "common/bench_util.h"
#include "cpu/kernels.h"
#include "quant/types.h"

namespace rf::cpu {
namespace {

constexpr int64_t kCols = bench::kCols;  // k

void BM_QuantizeAct(benchmark::State& state, Isa isa) {
  constexpr int64_t kTokens = 64;
  const GemmKernel& kernel = kernels_for(isa).for_type(DType::kQ4_K);
  const std::vector<float> x = bench::random_activations(kTokens * kCols, 2);
  const uint64_t a_stride = act_row_bytes(kernel.act, kCols);
  AlignedBuffer<uint8_t> out(a_stride * kTokens);
  for (auto _ : state) {
    for (int64_t t = 0; t < kTokens; ++t) kernel.quantize_act(x.data() + t * kCols, out.data() + t * a_stride, kCols);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(x.size() * sizeof(float)) * state.iterations());
}

const int kRegistered = [] {
  for (const Isa isa : available_isas()) {
    benchmark::RegisterBenchmark(("quantize_act/q8_K/" + std::string(isa_name(isa))).c_str(), BM_QuantizeAct, isa);
  }
  constexpr DType kTypes[] = {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};
  constexpr bench::GemmCase kCases[] = {
      {"decode", 1, true}, {"decode_l3", 1, false}, {"prefill", 64, false}, {"prefill", 512, false}};
  bench::register_gemm(kTypes, kCases);
  return 0;
}();

}  // namespace
}  // namespace rf::cpu
