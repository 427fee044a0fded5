// Detection on the machine running the tests: sane counts, and features that agree with other sources.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>

#include "fake_env.h"
#include "hardware/hardware.h"
#include "hardware/probes.h"
#include "hardware/report.h"

namespace rf::hw {
namespace {

// The kernel's own feature list (it hides features whose register state it does not enable):
// "flags" on x86, "Features" on arm64.
std::set<std::string> proc_cpu_flags(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      return {std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
    }
  }
  return {};
}

TEST(RealMachineTest, CountsAndMemoryAreSane) {
  const HardwareInfo hw = detect_hardware();
  EXPECT_GE(hw.cpu.physical_cores, 1);
  EXPECT_GE(hw.cpu.logical_cores, hw.cpu.physical_cores);
  EXPECT_GT(hw.memory.total_bytes, 0u);
  EXPECT_GT(hw.memory.available_bytes, 0u);
  EXPECT_LE(hw.memory.available_bytes, hw.memory.total_bytes);
  EXPECT_FALSE(hw.cpu.model_name.empty());
  EXPECT_FALSE(hw.cpu.vendor.empty());
  EXPECT_EQ(hw.tier == Tier::kCpuOnly, hw.igpus.empty() && hw.dgpus.empty());
  // The banner always renders.
  EXPECT_EQ(summary_line(hw).rfind("Detected: CPU (", 0), 0u);
}

#if defined(__linux__)
TEST(RealMachineTest, LogicalCoresMatchAffinityAndMemoryMatchesSysconf) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  const HardwareInfo hw = detect_hardware();
  EXPECT_EQ(hw.cpu.logical_cores, CPU_COUNT(&set));

  // sysconf reads the same kernel counter as MemTotal, in pages.
  const double pages = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  EXPECT_NEAR(static_cast<double>(hw.memory.total_bytes), pages, pages * 0.01);
}
#endif

#if defined(__x86_64__)
bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(RealMachineTest, X86FeaturesAgreeWithCompilerAndKernel) {
  __builtin_cpu_init();
  const CpuInfo cpu = detect_hardware().cpu;
  const std::vector<std::string> simd = cpu.simd();
  EXPECT_EQ(cpu.arch, "x86_64");
  EXPECT_EQ(contains(simd, "SSE4.2"), __builtin_cpu_supports("sse4.2") != 0);
  EXPECT_EQ(contains(simd, "AVX"), __builtin_cpu_supports("avx") != 0);
  EXPECT_EQ(contains(simd, "AVX2"), __builtin_cpu_supports("avx2") != 0);
  EXPECT_EQ(contains(simd, "FMA"), __builtin_cpu_supports("fma") != 0);
  EXPECT_EQ(contains(simd, "AVX-512F"), __builtin_cpu_supports("avx512f") != 0);
  EXPECT_EQ(contains(simd, "AVX-512BW"), __builtin_cpu_supports("avx512bw") != 0);
  EXPECT_EQ(contains(simd, "AVX-512VL"), __builtin_cpu_supports("avx512vl") != 0);

  const std::set<std::string> flags = proc_cpu_flags("flags");
  if (flags.empty()) GTEST_SKIP() << "no flags line in /proc/cpuinfo";
  EXPECT_EQ(cpu.features.f16c, flags.count("f16c") == 1);
  EXPECT_EQ(cpu.features.avx512f, flags.count("avx512f") == 1);
  EXPECT_EQ(cpu.features.avx512vnni, flags.count("avx512_vnni") == 1);
  EXPECT_EQ(cpu.features.avx512bf16, flags.count("avx512_bf16") == 1);
  EXPECT_EQ(cpu.features.amx, flags.count("amx_tile") == 1 &&
                                  (flags.count("amx_int8") == 1 || flags.count("amx_bf16") == 1));
  EXPECT_FALSE(cpu.features.neon);
}

// sysfs cache sizes on x86 are the kernel's reading of the same cpuid leaves we decode as a fallback.
TEST(RealMachineTest, CpuidCacheLeavesMatchSysfs) {
  const detail::CacheSizes native = detail::native_cache_sizes();
  const CpuInfo cpu = detect_hardware().cpu;
  if (native.l1d == 0) GTEST_SKIP() << "cpuid has no deterministic cache leaf here";
  EXPECT_EQ(native.l1d, cpu.l1d_bytes);
  EXPECT_EQ(native.l2, cpu.l2_bytes);
  EXPECT_EQ(native.l3, cpu.l3_bytes);
}
#endif

#if defined(__aarch64__) && defined(__linux__)
TEST(RealMachineTest, ArmFeaturesAgreeWithKernel) {
  const CpuInfo cpu = detect_hardware().cpu;
  const std::set<std::string> flags = proc_cpu_flags("Features");
  EXPECT_EQ(cpu.arch, "aarch64");
  // Under user-mode emulation /proc/cpuinfo is the host's, with no Features line.
  if (flags.empty()) GTEST_SKIP() << "no Features line in /proc/cpuinfo";
  EXPECT_EQ(cpu.features.neon, flags.count("asimd") == 1);
  EXPECT_EQ(cpu.features.dotprod, flags.count("asimddp") == 1);
  EXPECT_EQ(cpu.features.sve, flags.count("sve") == 1);
}
#endif

TEST(RealMachineTest, SystemLoaderReportsMissingThings) {
  const DynamicLoader loader = DynamicLoader::system();
  EXPECT_EQ(loader.open("librocmforge_does_not_exist.so.7"), nullptr);
  EXPECT_NE(loader.last_error().find("librocmforge_does_not_exist"), std::string::npos);
#if defined(__linux__)
  void* libc = loader.open("libc.so.6");
  ASSERT_NE(libc, nullptr);
  EXPECT_NE(loader.symbol(libc, "strlen"), nullptr);
  EXPECT_EQ(loader.symbol(libc, "rocmforge_no_such_symbol"), nullptr);
  loader.close(libc);
#endif
}

}  // namespace
}  // namespace rf::hw
