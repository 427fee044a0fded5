// summary_line / details_text / to_json on fabricated HardwareInfo values.
#include <gtest/gtest.h>

#include <cmath>

#include "hardware/hardware.h"
#include "hardware/report.h"

namespace rf::hw {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

// Bytes that print as the given GiB figure with one decimal.
uint64_t gib(double g) { return static_cast<uint64_t>(std::llround(g * static_cast<double>(kGiB))); }

HardwareInfo zen4_box() {
  HardwareInfo hw;
  hw.cpu.arch = "x86_64";
  hw.cpu.vendor = "AMD";
  hw.cpu.model_name = "AMD EPYC";
  hw.cpu.physical_cores = 2;
  hw.cpu.logical_cores = 4;
  CpuFeatures& f = hw.cpu.features;
  f.sse42 = f.avx = f.avx2 = f.fma = f.f16c = true;
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512vnni = f.avx512bf16 = true;
  hw.cpu.l1d_bytes = 48u << 10;
  hw.cpu.l2_bytes = 1u << 20;
  hw.cpu.l3_bytes = 32u << 20;
  hw.memory = {gib(23.4), gib(20.3)};
  hw.notes = {"HIP: libamdhip64.so not found", "CUDA: cuInit failed (100: no device)"};
  return hw;
}

GpuInfo gpu(std::string name, std::string vendor, std::string api, uint64_t memory, bool integrated) {
  GpuInfo g;
  g.name = std::move(name);
  g.vendor = std::move(vendor);
  g.api = std::move(api);
  g.memory_bytes = memory;
  g.integrated = integrated;
  return g;
}

TEST(ReportTest, SummaryCpuOnly) {
  EXPECT_EQ(summary_line(zen4_box()), "Detected: CPU (2 cores, AVX-512 VNNI BF16, 23.4 GiB) + no iGPU + no dGPU");
}

TEST(ReportTest, SummaryWithGpus) {
  HardwareInfo hw = zen4_box();
  hw.cpu.features.avx512vnni = false;
  hw.cpu.features.amx = true;
  hw.igpus.push_back(gpu("Iris Xe Graphics", "Intel", "drm", 0, true));
  hw.dgpus.push_back(gpu("H100", "NVIDIA", "cuda", 80 * kGiB, false));
  hw.dgpus.push_back(gpu("NVIDIA H100 80GB HBM3", "NVIDIA", "cuda", gib(79.6), false));
  hw.dgpus.push_back(gpu("GPU 0x2684", "NVIDIA", "drm", 0, false));
  EXPECT_EQ(summary_line(hw),
            "Detected: CPU (2 cores, AVX-512 BF16 AMX, 23.4 GiB) + iGPU Intel Iris Xe Graphics (shared memory, drm)"
            " + dGPU NVIDIA H100 (80.0 GiB, cuda) + dGPU NVIDIA H100 80GB HBM3 (79.6 GiB, cuda)"
            " + dGPU NVIDIA GPU 0x2684 (memory unknown, drm)");
}

TEST(ReportTest, SummarySimdLevels) {
  HardwareInfo hw;
  hw.cpu.physical_cores = 1;
  hw.memory.total_bytes = gib(7.8);
  CpuFeatures& f = hw.cpu.features;
  f.sse42 = f.avx = f.avx2 = f.fma = true;
  EXPECT_EQ(summary_line(hw), "Detected: CPU (1 core, AVX2 FMA, 7.8 GiB) + no iGPU + no dGPU");
  f = {};
  f.sse42 = f.avx = true;
  EXPECT_EQ(simd_summary(f), "AVX");
  f = {};
  f.sse42 = true;
  EXPECT_EQ(simd_summary(f), "SSE4.2");
  f = {};
  f.neon = f.dotprod = true;
  EXPECT_EQ(simd_summary(f), "NEON DOTPROD");
  f.sve = true;
  EXPECT_EQ(simd_summary(f), "NEON DOTPROD SVE");
  EXPECT_EQ(simd_summary(CpuFeatures{}), "scalar");
}

TEST(ReportTest, SimdListOrder) {
  CpuInfo cpu;
  cpu.features.sve = cpu.features.avx2 = cpu.features.sse42 = cpu.features.avx512bf16 = true;
  EXPECT_EQ(cpu.simd(), (std::vector<std::string>{"SSE4.2", "AVX2", "BF16", "SVE"}));
}

TEST(ReportTest, TierNames) {
  EXPECT_EQ(tier_name(Tier::kCpuOnly), "cpu");
  EXPECT_EQ(tier_name(Tier::kCpuIgpu), "cpu+igpu");
  EXPECT_EQ(tier_name(Tier::kCpuDgpu), "cpu+dgpu");
  EXPECT_EQ(tier_name(Tier::kCpuIgpuDgpu), "cpu+igpu+dgpu");
}

TEST(ReportTest, DetailsMentionEverything) {
  HardwareInfo hw = zen4_box();
  GpuInfo d = gpu("Radeon RX 7900 XTX", "AMD", "hip", 24 * kGiB, false);
  d.index = 1;
  d.pci_bus = "0000:03:00.0";
  d.pci_id = "0x1002:0x744c";
  hw.dgpus.push_back(d);
  hw.tier = Tier::kCpuDgpu;
  const std::string text = details_text(hw);
  for (const std::string& s : hw.cpu.simd()) EXPECT_NE(text.find(s), std::string::npos) << s;
  for (const std::string& n : hw.notes) EXPECT_NE(text.find("  - " + n + "\n"), std::string::npos) << n;
  EXPECT_NE(text.find("AMD EPYC (AMD, x86_64)"), std::string::npos);
  EXPECT_NE(text.find("2 physical, 4 logical"), std::string::npos);
  EXPECT_NE(text.find("L1d 48 KiB, L2 1 MiB, L3 32 MiB"), std::string::npos);
  EXPECT_NE(text.find("23.4 GiB total, 20.3 GiB available"), std::string::npos);
  EXPECT_NE(text.find("iGPU:    none"), std::string::npos);
  EXPECT_NE(text.find("AMD Radeon RX 7900 XTX (24.0 GiB, hip #1, 0000:03:00.0, 0x1002:0x744c)"),
            std::string::npos);
  EXPECT_NE(text.find("Tier:    cpu+dgpu"), std::string::npos);
}

TEST(ReportTest, JsonHasAllKeys) {
  HardwareInfo hw = zen4_box();
  hw.igpus.push_back(gpu("Iris Xe Graphics", "Intel", "drm", 0, true));
  hw.tier = Tier::kCpuIgpu;
  const nlohmann::json j = to_json(hw);
  for (const char* key : {"arch", "vendor", "model_name", "physical_cores", "logical_cores", "simd", "l1d_bytes",
                          "l2_bytes", "l3_bytes"}) {
    EXPECT_TRUE(j["cpu"].contains(key)) << key;
  }
  EXPECT_EQ(j["cpu"]["physical_cores"], 2);
  EXPECT_EQ(j["cpu"]["simd"].get<std::vector<std::string>>(), hw.cpu.simd());
  EXPECT_EQ(j["cpu"]["l3_bytes"].get<uint64_t>(), hw.cpu.l3_bytes);
  EXPECT_EQ(j["memory"]["total_bytes"].get<uint64_t>(), hw.memory.total_bytes);
  EXPECT_EQ(j["memory"]["available_bytes"].get<uint64_t>(), hw.memory.available_bytes);
  ASSERT_EQ(j["igpu"].size(), 1u);
  EXPECT_EQ(j["igpu"][0]["name"], "Iris Xe Graphics");
  EXPECT_EQ(j["igpu"][0]["integrated"], true);
  for (const char* key : {"vendor", "api", "index", "memory_bytes", "pci_id", "pci_bus"}) {
    EXPECT_TRUE(j["igpu"][0].contains(key)) << key;
  }
  EXPECT_TRUE(j["dgpu"].is_array());
  EXPECT_TRUE(j["dgpu"].empty());
  EXPECT_EQ(j["tier"], "cpu+igpu");
  EXPECT_EQ(j["notes"].get<std::vector<std::string>>(), hw.notes);
}

}  // namespace
}  // namespace rf::hw
