// HIP probe through libamdhip64 opened with dlopen; our own typedefs, no HIP headers.
#include "hardware/probes.h"
#include "hardware/runtime_symbols.h"

namespace rf::hw::detail {
namespace {

// hipError_t is an int-sized enum; devices are plain int ordinals.
using HipInit = int (*)(unsigned flags);
using HipGetDeviceCount = int (*)(int* count);
using HipDeviceGetName = int (*)(char* name, int len, int device);
using HipDeviceTotalMem = int (*)(size_t* bytes, int device);
using HipDeviceGetAttribute = int (*)(int* value, int attribute, int device);
using HipRuntimeGetVersion = int (*)(int* version);
using HipDeviceGetPciBusId = int (*)(char* bus_id, int len, int device);
using HipGetErrorString = const char* (*)(int code);

// hipDeviceAttributeIntegrated in the enum layout HIP has used since 5.0 (version 50000000);
// older runtimes numbered the enum differently, so there only the memory rule applies.
constexpr int kAttributeIntegrated = 16;
constexpr int kFirstVersionWithLayout = 50000000;

}  // namespace

std::vector<GpuInfo> probe_hip(const DynamicLoader& loader, Notes& notes) {
  std::vector<GpuInfo> gpus;
  void* lib = open_first(loader,
                         {"libamdhip64.so", "libamdhip64.so.6", "libamdhip64.so.5",
                          "/opt/rocm/lib/libamdhip64.so"},
                         "HIP", notes);
  if (lib == nullptr) return gpus;

  RuntimeSymbols syms(loader, lib, "HIP", "libamdhip64.so");
  const auto get_count = syms.required<HipGetDeviceCount>("hipGetDeviceCount");
  const auto get_name = syms.required<HipDeviceGetName>("hipDeviceGetName");
  const auto total_mem = syms.required<HipDeviceTotalMem>("hipDeviceTotalMem");
  const auto init = syms.optional<HipInit>("hipInit");
  const auto get_attribute = syms.optional<HipDeviceGetAttribute>("hipDeviceGetAttribute");
  const auto get_version = syms.optional<HipRuntimeGetVersion>("hipRuntimeGetVersion");
  const auto get_bus_id = syms.optional<HipDeviceGetPciBusId>("hipDeviceGetPCIBusId");
  const auto error_string = syms.optional<HipGetErrorString>("hipGetErrorString");
  if (!syms.all_required_found(notes)) return gpus;  // closes the library

  const auto describe = [&](int rc) {
    return describe_code(rc, error_string != nullptr ? error_string(rc) : nullptr);
  };
  // From here on the library stays loaded: the runtime starts threads that must not be unmapped.
  if (init != nullptr) {
    if (const int rc = init(0); rc != 0) {
      notes.push_back("HIP: hipInit failed (" + describe(rc) + ")");
      return gpus;
    }
  }
  int count = 0;
  const int count_rc = get_count(&count);
  count = checked_device_count("HIP", "hipGetDeviceCount", count_rc, count, count_rc != 0 ? describe(count_rc) : "", notes);
  if (count == 0) return gpus;
  int version = 0;
  const bool attribute_usable = get_attribute != nullptr && get_version != nullptr &&
                                get_version(&version) == 0 && version >= kFirstVersionWithLayout;
  for (int device = 0; device < count; ++device) {
    GpuInfo gpu;
    gpu.vendor = "AMD";
    gpu.api = "hip";
    gpu.index = device;
    char name[256] = {};
    if (get_name(name, sizeof name - 1, device) == 0 && name[0] != '\0') {
      gpu.name = name;
    } else {
      gpu.name = "HIP device " + std::to_string(device);
    }
    size_t bytes = 0;
    if (const int rc = total_mem(&bytes, device); rc == 0) {
      gpu.memory_bytes = bytes;
    } else {
      notes.push_back("HIP: hipDeviceTotalMem(" + std::to_string(device) + ") failed (" + describe(rc) + ")");
    }
    int integrated = 0;
    if (!attribute_usable || get_attribute(&integrated, kAttributeIntegrated, device) != 0) integrated = 0;
    gpu.integrated =
        integrated != 0 || (gpu.memory_bytes > 0 && gpu.memory_bytes < kIntegratedMemoryLimit);
    char bus_id[64] = {};
    if (get_bus_id != nullptr && get_bus_id(bus_id, sizeof bus_id - 1, device) == 0) {
      gpu.pci_bus = normalize_pci_bus(bus_id);
    }
    gpus.push_back(std::move(gpu));
  }
  return gpus;
}

}  // namespace rf::hw::detail
