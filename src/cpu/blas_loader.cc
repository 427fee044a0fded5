// Finds BLAS libraries with dlopen, calls their sgemm through one signature, applies ROCMFORGE_BLAS.
#include <dlfcn.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "base/check.h"
#include "base/log.h"
#include "cpu/blas.h"

namespace rf::cpu {
namespace {

// CBLAS enum values (cblas.h): CblasRowMajor, CblasNoTrans, CblasTrans.
constexpr int kCblasRowMajor = 101;
constexpr int kCblasNoTrans = 111;
constexpr int kCblasTrans = 112;
// BLIS trans_t: BLIS_NO_TRANSPOSE.
constexpr int kBliNoTranspose = 0;

constexpr const char* kOpenBlasFiles[] = {"libopenblas.so.0", "libopenblas.so"};
constexpr const char* kBlisFiles[] = {"libblis.so.4", "libblis.so"};
constexpr const char* kDnnlFiles[] = {"libdnnl.so.3", "libdnnl.so.2"};
constexpr BlasLibrary kKnown[] = {
    {"openblas", kOpenBlasFiles},
    {"blis", kBlisFiles},
    {"dnnl", kDnnlFiles},
};

// dlsym hands out object pointers; POSIX guarantees they convert to function pointers.
template <class F>
F symbol(void* lib, const char* name) {
  static_assert(sizeof(F) == sizeof(void*));
  void* p = dlsym(lib, name);
  F f = nullptr;
  std::memcpy(&f, &p, sizeof f);
  return f;
}

// Serializes every call into a back end: thread counts are process-wide settings of the library.
std::mutex& blas_call_mutex() {
  static std::mutex m;
  return m;
}

// A tiny product right after loading, so one-time set-up (BLIS's context, oneDNN's JIT kernels)
// does not land in the chooser's first measurement.
void warm_up(const BlasBackend& backend) {
  constexpr int64_t kN = 64;
  std::vector<float> a(kN * kN, 1.0f), c(kN * kN);
  backend.sgemm(1, {kN, kN, kN, a.data(), kN, a.data(), kN, c.data(), kN});
}

}  // namespace

void BlasBackend::sgemm(int n_threads, const SgemmArgs& g) const {
  RF_CHECK(n_threads >= 1 && g.m >= 0 && g.n >= 0 && g.k >= 0);
  const std::lock_guard<std::mutex> lock(blas_call_mutex());
  if (set_threads != nullptr) set_threads(n_threads);
  if (set_threads_dim != nullptr) set_threads_dim(n_threads);
  if (dnnl_sgemm != nullptr) {
    RF_CHECK(dnnl_sgemm('N', 'T', g.m, g.n, g.k, 1.0f, g.a, g.lda, g.b, g.ldb, 0.0f, g.c, g.ldc) == 0);
  } else if (cblas_sgemm != nullptr) {
    const auto narrow = [](int64_t v) {
      RF_CHECK(v <= INT_MAX);
      return static_cast<int>(v);
    };
    cblas_sgemm(kCblasRowMajor, kCblasNoTrans, kCblasTrans, narrow(g.m), narrow(g.n), narrow(g.k), 1.0f, g.a,
                narrow(g.lda), g.b, narrow(g.ldb), 0.0f, g.c, narrow(g.ldc));
  } else {
    // General strides express B^T without a transpose flag: element (p, j) of B^T is b[j * ldb + p].
    RF_CHECK(bli_sgemm != nullptr);
    const float one = 1.0f, zero = 0.0f;
    bli_sgemm(kBliNoTranspose, kBliNoTranspose, g.m, g.n, g.k, &one, g.a, g.lda, 1, g.b, 1, g.ldb, &zero, g.c,
              g.ldc, 1);
  }
}

std::span<const BlasLibrary> known_blas_libraries() { return kKnown; }

std::optional<BlasBackend> load_blas(const BlasLibrary& library) {
  for (const char* file : library.files) {
    void* lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) continue;
    BlasBackend b;
    b.name = std::string(library.name);
    b.dnnl_sgemm = symbol<DnnlSgemmFn>(lib, "dnnl_sgemm");
    if (b.dnnl_sgemm == nullptr) b.cblas_sgemm = symbol<CblasSgemmFn>(lib, "cblas_sgemm");
    if (b.dnnl_sgemm == nullptr && b.cblas_sgemm == nullptr) b.bli_sgemm = symbol<BliSgemmFn>(lib, "bli_sgemm");
    if (b.dnnl_sgemm == nullptr && b.cblas_sgemm == nullptr && b.bli_sgemm == nullptr) {
      dlclose(lib);  // nothing in it was called yet, so unloading is safe
      continue;
    }
    // dlsym also searches the library's dependencies: oneDNN's OpenMP runtime has omp_set_num_threads.
    b.set_threads = symbol<SetThreadsFn>(lib, "openblas_set_num_threads");
    if (b.set_threads == nullptr) b.set_threads_dim = symbol<SetThreadsDimFn>(lib, "bli_thread_set_num_threads");
    if (b.set_threads == nullptr && b.set_threads_dim == nullptr) {
      b.set_threads = symbol<SetThreadsFn>(lib, "omp_set_num_threads");
    }
    // BLIS names the sub-configuration (kernel set) it picked for this CPU.
    const auto arch_id = symbol<int (*)()>(lib, "bli_arch_query_id");
    const auto arch_name = symbol<const char* (*)(int)>(lib, "bli_arch_string");
    if (arch_id != nullptr && arch_name != nullptr) {
      const char* arch = arch_name(arch_id());
      b.generic = arch != nullptr && std::strcmp(arch, "generic") == 0;
    }
    warm_up(b);
    return b;
  }
  return std::nullopt;
}

std::vector<BlasBackend> select_blas(std::string_view setting, std::vector<BlasBackend> found) {
  if (setting == "off") return {};
  bool known = false;
  for (const BlasLibrary& library : kKnown) known |= library.name == setting;
  if (!known) {
    if (!setting.empty() && setting != "auto") {
      RF_LOG_WARN("ROCMFORGE_BLAS='%.*s' is not one of off, auto, openblas, blis, dnnl; using auto",
                  static_cast<int>(setting.size()), setting.data());
    }
    std::vector<BlasBackend> tuned;
    for (BlasBackend& b : found) {
      if (!b.generic) {
        tuned.push_back(std::move(b));
      } else {
        RF_LOG_INFO("BLAS back end %s left out: no kernels tuned for this CPU (ROCMFORGE_BLAS=%s uses it anyway)",
                    b.name.c_str(), b.name.c_str());
      }
    }
    return tuned;
  }
  std::vector<BlasBackend> only;
  for (BlasBackend& b : found) {
    if (b.name == setting) only.push_back(std::move(b));
  }
  if (only.empty()) {
    RF_LOG_WARN("ROCMFORGE_BLAS='%.*s': that library was not found; no BLAS back end is used",
                static_cast<int>(setting.size()), setting.data());
  }
  return only;
}

std::span<const BlasBackend> blas_backends() {
  static const std::vector<BlasBackend> backends = [] {
    const char* env = std::getenv("ROCMFORGE_BLAS");
    const std::string_view setting = env != nullptr ? env : "";
    bool named = false;
    for (const BlasLibrary& library : kKnown) named |= library.name == setting;
    std::vector<BlasBackend> found;
    if (setting == "off") return found;  // loads nothing
    for (const BlasLibrary& library : kKnown) {
      if (named && library.name != setting) continue;
      if (std::optional<BlasBackend> b = load_blas(library)) found.push_back(std::move(*b));
    }
    return select_blas(setting, std::move(found));
  }();
  return backends;
}

}  // namespace rf::cpu
