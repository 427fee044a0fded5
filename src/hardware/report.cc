// Renders HardwareInfo as the start-up summary line, a detailed multi-line text, and JSON.
#include "hardware/report.h"

#include <cstdio>

namespace rf::hw {
namespace {

std::string gib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / static_cast<double>(1ull << 30));
  return buf;
}

std::string cache_size(uint64_t bytes) {
  if (bytes == 0) return "unknown";
  if (bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " B";
}

// CUDA and most HIP names already start with the vendor ("NVIDIA H100 80GB HBM3"); DRM names do not.
std::string label(const GpuInfo& g) {
  return g.name.rfind(g.vendor, 0) == 0 ? g.name : g.vendor + " " + g.name;
}

std::string memory_words(const GpuInfo& g) {
  if (g.memory_bytes > 0) return gib(g.memory_bytes);
  return g.integrated ? "shared memory" : "memory unknown";
}

std::string gpu_list(const std::vector<GpuInfo>& gpus, const char* kind) {
  if (gpus.empty()) return std::string(" + no ") + kind;
  std::string out;
  for (const GpuInfo& g : gpus) {
    out += std::string(" + ") + kind + " " + label(g) + " (" + memory_words(g) + ", " + g.api + ")";
  }
  return out;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

nlohmann::json gpu_json(const GpuInfo& g) {
  return {{"name", g.name},         {"vendor", g.vendor},
          {"api", g.api},           {"index", g.index},
          {"memory_bytes", g.memory_bytes}, {"integrated", g.integrated},
          {"pci_id", g.pci_id},     {"pci_bus", g.pci_bus}};
}

}  // namespace

std::string simd_summary(const CpuFeatures& f) {
  std::string out;
  const auto add = [&out](bool present, const char* word) {
    if (!present) return;
    if (!out.empty()) out += ' ';
    out += word;
  };
  if (f.avx512f) {
    add(true, "AVX-512");
    add(f.avx512vnni, "VNNI");
    add(f.avx512bf16, "BF16");
    add(f.amx, "AMX");
  } else if (f.avx2) {
    add(true, "AVX2");
    add(f.fma, "FMA");
  } else if (f.avx) {
    add(true, "AVX");
  } else if (f.sse42) {
    add(true, "SSE4.2");
  } else if (f.neon) {
    add(true, "NEON");
    add(f.dotprod, "DOTPROD");
    add(f.sve, "SVE");
  }
  return out.empty() ? "scalar" : out;
}

std::string summary_line(const HardwareInfo& hw) {
  const int cores = hw.cpu.physical_cores;
  return "Detected: CPU (" + std::to_string(cores) + (cores == 1 ? " core, " : " cores, ") +
         simd_summary(hw.cpu.features) + ", " + gib(hw.memory.total_bytes) + ")" +
         gpu_list(hw.igpus, "iGPU") + gpu_list(hw.dgpus, "dGPU");
}

std::string details_text(const HardwareInfo& hw) {
  const CpuInfo& c = hw.cpu;
  const std::vector<std::string> simd = c.simd();
  std::string out;
  out += "CPU:     " + c.model_name + " (" + c.vendor + ", " + c.arch + ")\n";
  out += "Cores:   " + std::to_string(c.physical_cores) + " physical, " + std::to_string(c.logical_cores) +
         " logical\n";
  out += "SIMD:    " + (simd.empty() ? std::string("none") : join(simd, " ")) + "\n";
  out += "Caches:  L1d " + cache_size(c.l1d_bytes) + ", L2 " + cache_size(c.l2_bytes) + ", L3 " +
         cache_size(c.l3_bytes) + "\n";
  out += "Memory:  " + gib(hw.memory.total_bytes) + " total, " + gib(hw.memory.available_bytes) +
         " available\n";
  const auto gpus = [&out](const std::vector<GpuInfo>& list, const char* kind) {
    if (list.empty()) out += std::string(kind) + ":    none\n";
    for (const GpuInfo& g : list) {
      out += std::string(kind) + ":    " + label(g) + " (" + memory_words(g) + ", " + g.api + " #" +
             std::to_string(g.index);
      if (!g.pci_bus.empty()) out += ", " + g.pci_bus;
      if (!g.pci_id.empty()) out += ", " + g.pci_id;
      out += ")\n";
    }
  };
  gpus(hw.igpus, "iGPU");
  gpus(hw.dgpus, "dGPU");
  out += "Tier:    " + std::string(tier_name(hw.tier)) + "\n";
  if (!hw.notes.empty()) out += "Notes:\n";
  for (const std::string& n : hw.notes) out += "  - " + n + "\n";
  return out;
}

nlohmann::json to_json(const HardwareInfo& hw) {
  const CpuInfo& c = hw.cpu;
  nlohmann::json j;
  j["cpu"] = {{"arch", c.arch},
              {"vendor", c.vendor},
              {"model_name", c.model_name},
              {"physical_cores", c.physical_cores},
              {"logical_cores", c.logical_cores},
              {"simd", c.simd()},
              {"l1d_bytes", c.l1d_bytes},
              {"l2_bytes", c.l2_bytes},
              {"l3_bytes", c.l3_bytes}};
  j["memory"] = {{"total_bytes", hw.memory.total_bytes}, {"available_bytes", hw.memory.available_bytes}};
  j["igpu"] = nlohmann::json::array();
  for (const GpuInfo& g : hw.igpus) j["igpu"].push_back(gpu_json(g));
  j["dgpu"] = nlohmann::json::array();
  for (const GpuInfo& g : hw.dgpus) j["dgpu"].push_back(gpu_json(g));
  j["tier"] = std::string(tier_name(hw.tier));
  j["notes"] = hw.notes;
  return j;
}

}  // namespace rf::hw
