// Legacy-quant gemm (q4_0, q8_0, q4_1, q5_0, q5_1 x q8 activations) on a 2048 x 5632 weight matrix
// (TinyLlama's ffn_down shape), against this machine's roofs measured in the same run: memory read
// bandwidth and the int8 dot peak.
//
// Decode (1 token, weights streamed from 256 MB of copies, far beyond the L3) reports weight GB/s;
// prefill (64 tokens) reports GOP/s (2 per multiply-add). Each level's kernel runs on one thread (CPU
// time); cpu::matmul runs on /threads:1 (CPU time) and on every CPU (wall time); see
// common/bench_util.h.
#include "common/bench_util.h"

namespace rf {
namespace {

const int kRegistered = [] {
  constexpr DType kTypes[] = {DType::kQ4_0, DType::kQ8_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1};
  constexpr bench::GemmCase kCases[] = {{"decode", 1, true}, {"prefill", 64, false}};
  bench::register_gemm(kTypes, kCases);
  return 0;
}();

}  // namespace
}  // namespace rf
