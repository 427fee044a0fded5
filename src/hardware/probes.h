// Internal: the individual probes detect_hardware() combines. Each appends to `notes` instead of failing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hardware/hardware.h"

namespace rf::hw::detail {

using Notes = std::vector<std::string>;

// What the instruction set itself can tell (cpuid on x86, HWCAP/sysctl on arm); no files involved.
CpuFeatures native_cpu_features();
struct CpuIdentity {
  std::string vendor, model_name;  // empty when the ISA has no way to say
};
CpuIdentity native_cpu_identity();
struct CacheSizes {
  uint64_t l1d = 0, l2 = 0, l3 = 0;
};
CacheSizes native_cache_sizes();  // cpuid cache leaves, sysconf or sysctl; zeros when unknown

CpuInfo probe_cpu(const ProbeEnv& env, Notes& notes);
MemoryInfo probe_memory(const ProbeEnv& env, Notes& notes);

// GPUs visible as PCI devices under <sysfs>/class/drm/card*.
std::vector<GpuInfo> probe_drm(const ProbeEnv& env, Notes& notes);
std::vector<GpuInfo> probe_cuda(const DynamicLoader& loader, Notes& notes);
std::vector<GpuInfo> probe_hip(const DynamicLoader& loader, Notes& notes);
std::vector<GpuInfo> probe_apple_gpu(const CpuInfo& cpu);  // empty except on Apple silicon

// "0000:03:00.0" from any "domain:bus:device.function" spelling (CUDA writes an 8-digit domain).
std::string normalize_pci_bus(const std::string& bus_id);

// Shared by the runtime probes: opens the first loadable candidate, else notes why none was.
void* open_first(const DynamicLoader& loader, const std::vector<std::string>& candidates,
                 const std::string& api, Notes& notes);
// "100: no device" from a return code and the runtime's own description (may be null).
std::string describe_code(int code, const char* runtime_text);

// The device count a runtime reported, checked the same way for every runtime: a failed call or
// zero devices is noted and gives 0; an absurd count is noted and capped at kMaxRuntimeDevices.
inline constexpr int kMaxRuntimeDevices = 64;
int checked_device_count(const std::string& api, const std::string& call, int rc, int count,
                         const std::string& rc_text, Notes& notes);

}  // namespace rf::hw::detail
