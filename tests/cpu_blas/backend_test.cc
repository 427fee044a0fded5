// The BLAS loader, ROCMFORGE_BLAS's selection, and each back end's f32/f16 products against double.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/log.h"
#include "cpu/blas.h"
#include "cpu_blas/product_check.h"

namespace rf::cpu {
namespace {

// Every known library that loads here, whether or not ROCMFORGE_BLAS=auto would use it.
const std::vector<BlasBackend>& loaded() {
  static const std::vector<BlasBackend> all = [] {
    std::vector<BlasBackend> found;
    for (const BlasLibrary& library : known_blas_libraries()) {
      if (std::optional<BlasBackend> b = load_blas(library)) found.push_back(std::move(*b));
    }
    return found;
  }();
  return all;
}

std::string known_names() {
  std::string names;
  for (const BlasLibrary& library : known_blas_libraries()) names += std::string(names.empty() ? "" : ", ") + std::string(library.name);
  return names;
}

TEST(BlasLoader, MissingLibraryIsNotFoundWithoutError) {
  constexpr const char* kFiles[] = {"librocmforge_no_such_blas.so.7", "/nonexistent/libblas.so"};
  EXPECT_FALSE(load_blas({"bogus", kFiles}).has_value());
  // A library that loads but has no sgemm is not a back end either.
  constexpr const char* kMath[] = {"libm.so.6"};
  EXPECT_FALSE(load_blas({"libm", kMath}).has_value());
}

TEST(BlasLoader, SettingSelectsBackends) {
  std::vector<BlasBackend> found(3);
  found[0].name = "openblas";
  found[1].name = "blis";
  found[1].generic = true;  // left out unless asked for by name
  found[2].name = "dnnl";
  std::vector<std::string> warnings;
  set_log_sink([&](LogLevel level, std::string_view msg) {
    if (level == LogLevel::kWarn) warnings.emplace_back(msg);
  });
  const auto names = [&](std::string_view setting) {
    std::string out;
    for (const BlasBackend& b : select_blas(setting, found)) out += (out.empty() ? "" : ",") + b.name;
    return out;
  };
  EXPECT_EQ(names("off"), "");
  EXPECT_EQ(names("auto"), "openblas,dnnl");
  EXPECT_EQ(names(""), "openblas,dnnl");
  EXPECT_EQ(names("dnnl"), "dnnl");
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(names("blis"), "blis");
  EXPECT_TRUE(warnings.empty());
  found.erase(found.begin() + 1);
  EXPECT_EQ(names("blis"), "");  // known but not found
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("not found"), std::string::npos) << warnings[0];
  EXPECT_EQ(names("mkl"), "openblas,dnnl");  // unknown: a warning, then auto
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[1].find("ROCMFORGE_BLAS='mkl'"), std::string::npos) << warnings[1];
  set_log_sink(nullptr);
}

// f32 and f16 weights, awkward shapes, 1 and 2 threads, against double.
void expect_products_match(const BlasBackend& backend) {
  ThreadPool one(1), two(2);
  for (const DType type : {DType::kF32, DType::kF16}) {
    for (const int64_t rows : {int64_t{1}, int64_t{17}, int64_t{67}}) {
      for (const int64_t cols : {int64_t{32}, int64_t{96}, int64_t{544}}) {
        const test::Weights w = test::random_weights(type, rows, cols, static_cast<uint32_t>(rows * 1000 + cols));
        for (const int64_t n_tokens : {int64_t{32}, int64_t{33}, int64_t{100}}) {
          const std::vector<float> x = test::random_floats(n_tokens * cols, static_cast<uint32_t>(n_tokens));
          ThreadPool& pool = (rows + cols + n_tokens) % 2 == 0 ? one : two;
          SCOPED_TRACE(testing::Message() << backend.name << " " << dtype_name(type) << " rows " << rows << " cols "
                                          << cols << " tokens " << n_tokens << " threads " << pool.size());
          AlignedBuffer<uint8_t> scratch(matmul_scratch_bytes(n_tokens, cols));
          std::vector<float> y(static_cast<size_t>(rows * n_tokens), std::nanf(""));
          blas_matmul(pool, backend, w.view, x.data(), n_tokens, y.data(), scratch.span());
          EXPECT_EQ(test::check_product(w, x, n_tokens, y), "");
        }
      }
    }
  }
}

TEST(BlasBackends, ProductsMatchDoubleReference) {
  if (loaded().empty()) GTEST_SKIP() << "no BLAS library found (looked for " << known_names() << ")";
  for (const BlasBackend& backend : loaded()) expect_products_match(backend);
}

// BLIS built without its CBLAS layer is called through bli_sgemm with general strides; Debian's
// exports both, so this takes bli_sgemm by hand.
TEST(BlasBackends, BlisTypedApiMatchesDoubleReference) {
  void* lib = dlopen("libblis.so.4", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) GTEST_SKIP() << "libblis.so.4 not found";
  BlasBackend blis;
  blis.name = "blis-typed";
  void* gemm = dlsym(lib, "bli_sgemm");
  void* threads = dlsym(lib, "bli_thread_set_num_threads");
  ASSERT_NE(gemm, nullptr);
  ASSERT_NE(threads, nullptr);
  std::memcpy(&blis.bli_sgemm, &gemm, sizeof gemm);
  std::memcpy(&blis.set_threads_dim, &threads, sizeof threads);
  expect_products_match(blis);
}

// f16 weights with more rows than one panel: the smallest scratch matmul asks for holds
// kBlasPanelRows rows, so 300 rows run as three panels (the last one short).
TEST(BlasBackends, F16PanelsCoverEveryRow) {
  if (loaded().empty()) GTEST_SKIP() << "no BLAS library found (looked for " << known_names() << ")";
  const int64_t rows = 300, cols = 96, n_tokens = 32;
  ASSERT_LT(matmul_scratch_bytes(n_tokens, cols), static_cast<uint64_t>(2 * kBlasPanelRows * cols) * sizeof(float));
  const test::Weights w = test::random_weights(DType::kF16, rows, cols, 3);
  const std::vector<float> x = test::random_floats(n_tokens * cols, 4);
  ThreadPool pool(2);
  for (const BlasBackend& backend : loaded()) {
    SCOPED_TRACE(backend.name);
    AlignedBuffer<uint8_t> scratch(matmul_scratch_bytes(n_tokens, cols));
    std::vector<float> y(static_cast<size_t>(rows * n_tokens), std::nanf(""));
    blas_matmul(pool, backend, w.view, x.data(), n_tokens, y.data(), scratch.span());
    EXPECT_EQ(test::check_product(w, x, n_tokens, y), "");
  }
}

}  // namespace
}  // namespace rf::cpu
