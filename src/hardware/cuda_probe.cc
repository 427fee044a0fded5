// CUDA probe through the driver API (libcuda.so.1) opened with dlopen; our own typedefs, no CUDA headers.
#include "hardware/probes.h"
#include "hardware/runtime_symbols.h"

namespace rf::hw::detail {
namespace {

// CUresult is an int-sized enum and CUdevice an int in every driver ABI since CUDA 3.2.
using CuInit = int (*)(unsigned flags);
using CuDeviceGetCount = int (*)(int* count);
using CuDeviceGet = int (*)(int* device, int ordinal);
using CuDeviceGetName = int (*)(char* name, int len, int device);
using CuDeviceTotalMem = int (*)(size_t* bytes, int device);
using CuDeviceGetAttribute = int (*)(int* value, int attribute, int device);
using CuDeviceGetPciBusId = int (*)(char* bus_id, int len, int device);
using CuGetErrorString = int (*)(int code, const char** text);

constexpr int kAttributeIntegrated = 18;  // CU_DEVICE_ATTRIBUTE_INTEGRATED

}  // namespace

std::vector<GpuInfo> probe_cuda(const DynamicLoader& loader, Notes& notes) {
  std::vector<GpuInfo> gpus;
  void* lib = open_first(loader, {"libcuda.so.1", "libcuda.so"}, "CUDA", notes);
  if (lib == nullptr) return gpus;

  RuntimeSymbols syms(loader, lib, "CUDA", "libcuda.so.1");
  const auto init = syms.required<CuInit>("cuInit");
  const auto get_count = syms.required<CuDeviceGetCount>("cuDeviceGetCount");
  const auto get_device = syms.required<CuDeviceGet>("cuDeviceGet");
  const auto get_name = syms.required<CuDeviceGetName>("cuDeviceGetName");
  const auto total_mem = syms.required<CuDeviceTotalMem>("cuDeviceTotalMem_v2");
  const auto get_attribute = syms.optional<CuDeviceGetAttribute>("cuDeviceGetAttribute");
  const auto get_bus_id = syms.optional<CuDeviceGetPciBusId>("cuDeviceGetPCIBusId");
  const auto error_string = syms.optional<CuGetErrorString>("cuGetErrorString");
  if (!syms.all_required_found(notes)) return gpus;  // closes the library

  const auto describe = [&](int rc) {
    const char* text = nullptr;
    if (error_string != nullptr && error_string(rc, &text) != 0) text = nullptr;
    return describe_code(rc, text);
  };
  // From here on the library stays loaded: cuInit starts driver threads that must not be unmapped.
  if (const int rc = init(0); rc != 0) {
    notes.push_back("CUDA: cuInit failed (" + describe(rc) + ")");
    return gpus;
  }
  int count = 0;
  const int count_rc = get_count(&count);
  count = checked_device_count("CUDA", "cuDeviceGetCount", count_rc, count, count_rc != 0 ? describe(count_rc) : "", notes);
  if (count == 0) return gpus;
  for (int ordinal = 0; ordinal < count; ++ordinal) {
    int device = 0;
    if (const int rc = get_device(&device, ordinal); rc != 0) {
      notes.push_back("CUDA: cuDeviceGet(" + std::to_string(ordinal) + ") failed (" + describe(rc) + ")");
      continue;
    }
    GpuInfo gpu;
    gpu.vendor = "NVIDIA";
    gpu.api = "cuda";
    gpu.index = ordinal;
    char name[256] = {};
    if (get_name(name, sizeof name - 1, device) == 0 && name[0] != '\0') {
      gpu.name = name;
    } else {
      gpu.name = "CUDA device " + std::to_string(ordinal);
    }
    size_t bytes = 0;
    if (const int rc = total_mem(&bytes, device); rc == 0) {
      gpu.memory_bytes = bytes;
    } else {
      notes.push_back("CUDA: cuDeviceTotalMem(" + std::to_string(ordinal) + ") failed (" + describe(rc) + ")");
    }
    int integrated = 0;
    if (get_attribute == nullptr || get_attribute(&integrated, kAttributeIntegrated, device) != 0) {
      integrated = 0;
    }
    gpu.integrated = integrated != 0 || (gpu.memory_bytes > 0 && gpu.memory_bytes < kIntegratedMemoryLimit);
    char bus_id[64] = {};
    if (get_bus_id != nullptr && get_bus_id(bus_id, sizeof bus_id - 1, device) == 0) {
      gpu.pci_bus = normalize_pci_bus(bus_id);
    }
    gpus.push_back(std::move(gpu));
  }
  return gpus;
}

}  // namespace rf::hw::detail
