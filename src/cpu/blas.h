// Optional BLAS back ends (OpenBLAS, BLIS, oneDNN) for f32/f16 prefill products, found at run time.
//
// Nothing links against a BLAS: blas_backends() dlopens the libraries it knows, and a missing one
// is a normal answer. cpu::matmul asks the per-shape chooser below, for F32/F16 weights and at least
// kMinBlasTokens tokens, whether our kernels or a back end run a product; the chooser decides by
// timing each candidate once on real calls (every such call computes the right result).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/matmul.h"
#include "quant/types.h"
#include "threading/thread_pool.h"

namespace rf::cpu {

// C = A * B^T on row-major floats: C is (m, n) with rows ldc apart, A (m, k) with rows lda apart,
// B (n, k) with rows ldb apart. For a weight product: m = tokens, n = weight rows, k = columns.
struct SgemmArgs {
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int64_t lda = 0;
  const float* b = nullptr;
  int64_t ldb = 0;
  float* c = nullptr;
  int64_t ldc = 0;
};

// Entry points as the libraries export them (CBLAS enums are C ints; BLIS dim_t/inc_t are 64-bit,
// and 64-bit arguments are also right for a BLIS built with 32-bit ones on x86-64 and arm64).
using CblasSgemmFn = void (*)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                              const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc);
using BliSgemmFn = void (*)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float* alpha,
                            const float* a, int64_t rsa, int64_t csa, const float* b, int64_t rsb, int64_t csb,
                            const float* beta, float* c, int64_t rsc, int64_t csc);
using DnnlSgemmFn = int (*)(char trans_a, char trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                            const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                            int64_t ldc);
using SetThreadsFn = void (*)(int n);        // openblas_set_num_threads, omp_set_num_threads
using SetThreadsDimFn = void (*)(int64_t n);  // bli_thread_set_num_threads

// One loaded library: exactly one gemm entry is set; a thread setter may be missing.
struct BlasBackend {
  std::string name;  // "openblas", "blis", "dnnl"
  CblasSgemmFn cblas_sgemm = nullptr;
  BliSgemmFn bli_sgemm = nullptr;
  DnnlSgemmFn dnnl_sgemm = nullptr;
  SetThreadsFn set_threads = nullptr;
  SetThreadsDimFn set_threads_dim = nullptr;
  // BLIS running its portable reference kernels: it has none tuned for this CPU (its "generic"
  // sub-configuration), which made it 4-10x slower than our kernels where measured.
  bool generic = false;

  // Runs the product on n_threads threads (the caller's plus the library's own). BLAS thread
  // settings are process-wide, so calls into all back ends are serialized by one mutex.
  void sgemm(int n_threads, const SgemmArgs& args) const;
};

// Where to look for one library: the back end's name and the file names dlopen tries, in order.
struct BlasLibrary {
  std::string_view name;
  std::span<const char* const> files;
};
// OpenBLAS, BLIS and oneDNN under their Debian/Ubuntu file names.
std::span<const BlasLibrary> known_blas_libraries();

// Opens the first of the library's files that loads and has an sgemm (dnnl_sgemm, else cblas_sgemm,
// else bli_sgemm); std::nullopt when none does, which is not an error. The library stays loaded.
std::optional<BlasBackend> load_blas(const BlasLibrary& library);

// The back ends a ROCMFORGE_BLAS value allows: "off" none, "auto" or "" all of `found` but generic
// ones (timing a back end that cannot win would cost a slow call per shape), a back end's name only
// that one (generic or not; none when it was not found). Any other value: a warning, then "auto".
std::vector<BlasBackend> select_blas(std::string_view setting, std::vector<BlasBackend> found);

// The known libraries that load here, filtered by ROCMFORGE_BLAS. Loaded once, on first use.
std::span<const BlasBackend> blas_backends();

// Prefill products of at least this many tokens may use a back end; decode never does.
inline constexpr int64_t kMinBlasTokens = 32;
// f16 weights are widened to f32 in panels of rows held in the matmul scratch (which the BLAS path
// does not need for activations); matmul_scratch_bytes guarantees room for this many rows.
inline constexpr int64_t kBlasPanelRows = 128;

// y (n_tokens, w.rows) = x (n_tokens, w.cols) * W^T through `backend`, on pool.size() threads.
// F32 weights are used in place; F16 weights are converted panel by panel into `scratch` by the
// pool, then multiplied. scratch: at least min(w.rows, kBlasPanelRows) * w.cols floats.
void blas_matmul(ThreadPool& pool, const BlasBackend& backend, const MatrixView& w, const float* x,
                 int64_t n_tokens, float* y, std::span<uint8_t> scratch);

// The chooser. Candidates: 0 = our kernels, i >= 1 = blas_backends()[i - 1]. Keys are (weight type,
// rows, cols, bit width of n_tokens): times are compared per token, so one decision covers a range
// of prompt chunk sizes and the fixed table stays small. A key's first calls each run a different
// candidate, timed; then the fastest runs for that key from then on.
struct BlasPick {
  int candidate = 0;
  int slot = -1;  // >= 0: this call measures `candidate`; report its time with blas_record
};
// True when the chooser has a say: F32/F16 weights in the file's rows (back ends read rows; repacked
// matrices stay on the kernels they were packed for), n_tokens >= kMinBlasTokens, a back end found.
bool blas_applies(const MatrixView& w, int64_t n_tokens);
// Thread-safe, allocation-free. A full table (more keys than it holds) answers "ours".
BlasPick blas_pick(const MatrixView& w, int64_t n_tokens);
void blas_record(const BlasPick& pick, int64_t n_tokens, double seconds);

// What the chooser knows about a key, for tests and logs: `chosen` is "" while undecided (or for a
// key it has never seen), else "ours" or a back end's name; `measured` counts timed candidates.
struct BlasChoice {
  std::string_view chosen;
  int measured = 0;
};
BlasChoice blas_choice(DType type, int64_t rows, int64_t cols, int64_t n_tokens);

}  // namespace rf::cpu
