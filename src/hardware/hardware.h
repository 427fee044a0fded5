// Hardware detection: CPU features/topology/caches, memory, and GPUs found through sysfs or dlopen'ed runtimes.
//
// Detection never fails: a missing GPU, driver, library or file, or a failing call, is a normal answer
// recorded in HardwareInfo::notes. No GPU runtime is linked; CUDA and HIP are probed through dlopen.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rf::hw {

// Instruction-set extensions the CPU has AND the OS has enabled (AVX/AVX-512/AMX state checked via xgetbv).
struct CpuFeatures {
  bool sse42 = false, avx = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false, avx512bf16 = false;
  bool amx = false;  // AMX-TILE plus AMX-INT8 or AMX-BF16, with tile state enabled by the OS
  bool neon = false, dotprod = false, sve = false;
};

struct CpuInfo {
  std::string arch;        // "x86_64" or "aarch64"
  std::string vendor;      // "Intel", "AMD", "ARM", "Apple", ... or the raw vendor string
  std::string model_name;
  int physical_cores = 1;  // distinct (package, core) pairs among the CPUs this process may run on
  int logical_cores = 1;   // CPUs in the process affinity mask
  CpuFeatures features;
  uint64_t l1d_bytes = 0, l2_bytes = 0, l3_bytes = 0;  // 0 = unknown

  // Human names of the present features, in the fixed order
  // SSE4.2 AVX AVX2 FMA F16C AVX-512F AVX-512BW AVX-512VL VNNI BF16 AMX NEON DOTPROD SVE.
  std::vector<std::string> simd() const;
};

struct MemoryInfo {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;
};

struct GpuInfo {
  std::string name;
  std::string vendor;        // "AMD", "NVIDIA", "Intel", "Apple"
  std::string api;           // how it was found: "hip", "cuda", "drm", "metal"
  int index = 0;             // runtime ordinal for hip/cuda, card number for drm
  uint64_t memory_bytes = 0; // dedicated memory; 0 = unknown or shared with the CPU
  bool integrated = false;
  std::string pci_id;        // "0x8086:0x46a6" when known
  std::string pci_bus;       // "0000:03:00.0" when known; used to merge runtime and DRM entries
};

enum class Tier { kCpuOnly, kCpuIgpu, kCpuDgpu, kCpuIgpuDgpu };
std::string_view tier_name(Tier tier);  // "cpu", "cpu+igpu", "cpu+dgpu", "cpu+igpu+dgpu"

struct HardwareInfo {
  CpuInfo cpu;
  MemoryInfo memory;
  std::vector<GpuInfo> igpus, dgpus;
  Tier tier = Tier::kCpuOnly;
  std::vector<std::string> notes;  // why each probe found nothing, or what it skipped
};

// dlopen/dlsym/dlclose as replaceable function objects, so tests can simulate any runtime.
struct DynamicLoader {
  std::function<void*(const std::string& name)> open;  // nullptr = not loadable
  std::function<void*(void* handle, const char* name)> symbol;  // nullptr = missing
  std::function<void(void* handle)> close;
  std::function<std::string()> last_error;  // why the last open failed (may be empty)

  static DynamicLoader system();  // the real dlopen family
};

// Where detection looks. Tests point the roots at a temporary tree and inject a fake loader.
struct ProbeEnv {
  std::string sysfs_root = "/sys";
  std::string procfs_root = "/proc";
  DynamicLoader loader = DynamicLoader::system();
  // CPUs the process may run on; unset = ask sched_getaffinity.
  std::optional<std::vector<int>> allowed_cpus;
  // PCI name databases tried in order to name GPUs found only through DRM.
  std::vector<std::string> pci_ids_files = {"/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids"};
  bool probe_cuda = true;
  bool probe_hip = true;
};

// A device with less dedicated memory than this counts as integrated.
inline constexpr uint64_t kIntegratedMemoryLimit = 4ull << 30;

HardwareInfo detect_hardware();
HardwareInfo detect_hardware(const ProbeEnv& env);

}  // namespace rf::hw
