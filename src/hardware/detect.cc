// detect_hardware(): runs every probe, merges GPUs seen by both a runtime and DRM, and sets the tier.
#include <algorithm>

#include "hardware/probes.h"

namespace rf::hw {

std::string_view tier_name(Tier tier) {
  switch (tier) {
    case Tier::kCpuOnly: return "cpu";
    case Tier::kCpuIgpu: return "cpu+igpu";
    case Tier::kCpuDgpu: return "cpu+dgpu";
    case Tier::kCpuIgpuDgpu: return "cpu+igpu+dgpu";
  }
  return "cpu";
}

namespace detail {
namespace {

// The runtime's entry wins over DRM's: it knows memory and whether the device is usable. A DRM card is
// dropped when its PCI address matches a runtime device, or, when the runtime gave no address, when a
// runtime device of the same vendor and kind is still unmatched.
std::vector<GpuInfo> merge(std::vector<GpuInfo> runtime, const std::vector<GpuInfo>& drm) {
  std::vector<bool> matched(runtime.size(), false);
  std::vector<GpuInfo> kept;
  for (const GpuInfo& card : drm) {
    auto same = [&](size_t i) { return !card.pci_bus.empty() && runtime[i].pci_bus == card.pci_bus; };
    auto like = [&](size_t i) {
      return runtime[i].pci_bus.empty() && runtime[i].vendor == card.vendor &&
             runtime[i].integrated == card.integrated;
    };
    size_t hit = runtime.size();
    for (size_t i = 0; i < runtime.size() && hit == runtime.size(); ++i) {
      if (!matched[i] && same(i)) hit = i;
    }
    for (size_t i = 0; i < runtime.size() && hit == runtime.size(); ++i) {
      if (!matched[i] && like(i)) hit = i;
    }
    if (hit == runtime.size()) {
      kept.push_back(card);
      continue;
    }
    matched[hit] = true;
    if (runtime[hit].pci_id.empty()) runtime[hit].pci_id = card.pci_id;
  }
  runtime.insert(runtime.end(), kept.begin(), kept.end());
  return runtime;
}

Tier tier_of(const HardwareInfo& hw) {
  if (hw.igpus.empty()) return hw.dgpus.empty() ? Tier::kCpuOnly : Tier::kCpuDgpu;
  return hw.dgpus.empty() ? Tier::kCpuIgpu : Tier::kCpuIgpuDgpu;
}

}  // namespace

std::vector<GpuInfo> probe_apple_gpu(const CpuInfo& cpu) {
  std::vector<GpuInfo> gpus;
#if defined(__APPLE__) && defined(__aarch64__)
  // Apple silicon always carries a unified-memory GPU; naming it after the SoC needs no Metal call.
  GpuInfo gpu;
  gpu.name = cpu.model_name + " GPU";
  gpu.vendor = "Apple";
  gpu.api = "metal";
  gpu.integrated = true;
  gpus.push_back(std::move(gpu));
#else
  (void)cpu;
#endif
  return gpus;
}

}  // namespace detail

HardwareInfo detect_hardware(const ProbeEnv& env) {
  HardwareInfo hw;
  hw.cpu = detail::probe_cpu(env, hw.notes);
  hw.memory = detail::probe_memory(env, hw.notes);

  std::vector<GpuInfo> runtime;
  if (env.probe_cuda) {
    for (GpuInfo& g : detail::probe_cuda(env.loader, hw.notes)) runtime.push_back(std::move(g));
  }
  if (env.probe_hip) {
    for (GpuInfo& g : detail::probe_hip(env.loader, hw.notes)) runtime.push_back(std::move(g));
  }
  for (GpuInfo& g : detail::probe_apple_gpu(hw.cpu)) runtime.push_back(std::move(g));
#if defined(__linux__)
  const std::vector<GpuInfo> drm = detail::probe_drm(env, hw.notes);
#else
  const std::vector<GpuInfo> drm;
#endif
  for (GpuInfo& g : detail::merge(std::move(runtime), drm)) {
    (g.integrated ? hw.igpus : hw.dgpus).push_back(std::move(g));
  }
  hw.tier = detail::tier_of(hw);
  return hw;
}

HardwareInfo detect_hardware() { return detect_hardware(ProbeEnv{}); }

}  // namespace rf::hw
