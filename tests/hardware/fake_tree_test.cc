// Detection over fabricated sysfs/procfs trees: full trees, missing files, garbage, and DRM cards.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fake_env.h"
#include "hardware/hardware.h"
#include "hardware/probes.h"

namespace rf::hw {
namespace {

using testing::FakeLoader;
using testing::has_note;
using testing::TempTree;

constexpr uint64_t kGiB = 1ull << 30;

class FakeTreeTest : public ::testing::Test {
 protected:
  ProbeEnv env(std::vector<int> cpus) {
    ProbeEnv e;
    e.sysfs_root = tree.path("sys");
    e.procfs_root = tree.path("proc");
    e.allowed_cpus = std::move(cpus);
    e.loader = no_libraries.loader();
    e.pci_ids_files = {tree.path("pci.ids")};
    return e;
  }
  void add_cpu(int cpu, int package, int core, int die = 0) {
    const std::string t = "sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    tree.write(t + "physical_package_id", std::to_string(package) + "\n");
    tree.write(t + "core_id", std::to_string(core) + "\n");
    tree.write(t + "die_id", std::to_string(die) + "\n");
  }
  void add_cache(int cpu, int index, int level, const std::string& type, const std::string& size) {
    const std::string d = "sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cache/index" +
                          std::to_string(index) + "/";
    tree.write(d + "level", std::to_string(level) + "\n");
    tree.write(d + "type", type + "\n");
    tree.write(d + "size", size + "\n");
  }
  // A DRM card whose device files are given as name -> contents.
  void add_card(const std::string& card, const std::vector<std::pair<std::string, std::string>>& files) {
    tree.mkdir("sys/class/drm/" + card + "/device");
    for (const auto& [name, text] : files) tree.write("sys/class/drm/" + card + "/device/" + name, text);
  }
  TempTree tree;
  FakeLoader no_libraries;
};

TEST_F(FakeTreeTest, FullTreeGivesTopologyCachesMemoryAndModel) {
  // 2 packages x 2 cores x 2 threads; core ids repeat across packages.
  int cpu = 0;
  for (int package = 0; package < 2; ++package) {
    for (int thread = 0; thread < 2; ++thread) {
      for (int core = 0; core < 2; ++core) add_cpu(cpu++, package, core * 4);
    }
  }
  add_cache(0, 0, 1, "Data", "32K");
  add_cache(0, 1, 1, "Instruction", "64K");
  add_cache(0, 2, 2, "Unified", "1280K");
  add_cache(0, 3, 3, "Unified", "30M");
  tree.write("proc/meminfo", "MemTotal:       16384012 kB\nMemFree:  1000 kB\nMemAvailable:   9876544 kB\n");
  tree.write("proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Fake CPU 9000\n");

  const HardwareInfo hw = detect_hardware(env({0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(hw.cpu.logical_cores, 8);
  EXPECT_EQ(hw.cpu.physical_cores, 4);
  EXPECT_EQ(hw.cpu.model_name, "Fake CPU 9000");
  EXPECT_EQ(hw.cpu.l1d_bytes, 32u << 10);
  EXPECT_EQ(hw.cpu.l2_bytes, 1280u << 10);
  EXPECT_EQ(hw.cpu.l3_bytes, 30u << 20);
  EXPECT_EQ(hw.memory.total_bytes, 16384012ull * 1024);
  EXPECT_EQ(hw.memory.available_bytes, 9876544ull * 1024);
  EXPECT_FALSE(has_note(hw, "CPU:"));
  EXPECT_FALSE(has_note(hw, "Memory:"));

  // Affinity limited to two SMT siblings of one core (cpu0 and cpu2 share package 0, core 0).
  const HardwareInfo pinned = detect_hardware(env({0, 2}));
  EXPECT_EQ(pinned.cpu.logical_cores, 2);
  EXPECT_EQ(pinned.cpu.physical_cores, 1);
}

TEST_F(FakeTreeTest, SameCoreIdOnDifferentDiesAreDifferentCores) {
  add_cpu(0, 0, 0, 0);
  add_cpu(1, 0, 0, 1);
  add_cpu(2, 0, 1, 1);
  EXPECT_EQ(detect_hardware(env({0, 1, 2})).cpu.physical_cores, 3);
}

TEST_F(FakeTreeTest, EmptyTreeFallsBackAndNotes) {
  const HardwareInfo hw = detect_hardware(env({0, 1, 2}));
  EXPECT_EQ(hw.cpu.logical_cores, 3);
  EXPECT_EQ(hw.cpu.physical_cores, 3);
  EXPECT_TRUE(has_note(hw, "CPU: topology unreadable for 3 of 3 CPUs"));
  EXPECT_TRUE(has_note(hw, "CPU: no cache sizes in sysfs"));
  EXPECT_TRUE(has_note(hw, "Memory: no MemTotal"));
  EXPECT_TRUE(has_note(hw, "DRM: " + tree.path("sys") + "/class/drm not found"));
  EXPECT_GT(hw.memory.total_bytes, 0u);  // sysconf of the real machine
  EXPECT_LE(hw.memory.available_bytes, hw.memory.total_bytes);
  EXPECT_FALSE(hw.cpu.model_name.empty());
  EXPECT_FALSE(hw.cpu.vendor.empty());
  EXPECT_EQ(hw.tier, Tier::kCpuOnly);
}

TEST_F(FakeTreeTest, GarbageContentsAreIgnored) {
  add_cpu(0, 0, 0);
  tree.write("sys/devices/system/cpu/cpu1/topology/physical_package_id", "banana\n");
  tree.write("sys/devices/system/cpu/cpu1/topology/core_id", "1\n");
  add_cache(0, 0, 1, "Data", "huge");
  add_cache(0, 1, 2, "Unified", "2M");
  tree.write("sys/devices/system/cpu/cpu0/cache/index2/level", "x\n");
  tree.write("proc/meminfo", "MemTotal: lots kB\nMemAvailable: 12 kB\n");
  tree.write("proc/cpuinfo", std::string("\0\xff\xfe garbage", 11));
  add_card("card0", {{"vendor", "0xZZZZ\n"}});

  const HardwareInfo hw = detect_hardware(env({0, 1}));
  EXPECT_EQ(hw.cpu.physical_cores, 2);  // cpu1 unreadable: counted on its own
  EXPECT_TRUE(has_note(hw, "topology unreadable for 1 of 2 CPUs"));
  EXPECT_EQ(hw.cpu.l2_bytes, 2u << 20);
  EXPECT_TRUE(has_note(hw, "Memory: no MemTotal"));
  EXPECT_GT(hw.memory.total_bytes, 0u);
  EXPECT_TRUE(has_note(hw, "DRM: card0 has no PCI vendor id"));
  EXPECT_TRUE(hw.igpus.empty());
}

TEST_F(FakeTreeTest, IntelIgpuIsNamedFromPciIds) {
  add_card("card0", {{"vendor", "0x8086\n"},
                     {"device", "0x46a6\n"},
                     {"uevent", "DRIVER=i915\nPCI_ID=8086:46A6\nPCI_SLOT_NAME=0000:00:02.0\n"},
                     {"boot_vga", "1\n"}});
  tree.mkdir("sys/class/drm/card0-eDP-1");
  tree.mkdir("sys/class/drm/renderD128");
  tree.write("pci.ids",
             "# comment\n1002  Advanced Micro Devices\n\t46a6  Not this vendor\n"
             "8086  Intel Corporation\n\t0042  Other\n\t46a6  Alder Lake-P GT2 [Iris Xe Graphics]\n"
             "\t\t1028 0b0a  Subsystem line\n10de  NVIDIA Corporation\n");
  const HardwareInfo hw = detect_hardware(env({0}));
  ASSERT_EQ(hw.igpus.size(), 1u);
  const GpuInfo& g = hw.igpus[0];
  EXPECT_EQ(g.name, "Iris Xe Graphics");
  EXPECT_EQ(g.vendor, "Intel");
  EXPECT_EQ(g.api, "drm");
  EXPECT_EQ(g.index, 0);
  EXPECT_EQ(g.pci_id, "0x8086:0x46a6");
  EXPECT_EQ(g.pci_bus, "0000:00:02.0");
  EXPECT_TRUE(g.integrated);
  EXPECT_TRUE(hw.dgpus.empty());
  EXPECT_EQ(hw.tier, Tier::kCpuIgpu);
}

TEST_F(FakeTreeTest, CardsByVendorAndMemory) {
  const auto vram = [](uint64_t bytes) { return std::to_string(bytes) + "\n"; };
  add_card("card0", {{"vendor", "0x1a03\n"}, {"device", "0x2000\n"}});  // server BMC VGA
  add_card("card1", {{"vendor", "0x1002\n"},
                     {"device", "0x744c\n"},
                     {"uevent", "PCI_SLOT_NAME=0000:03:00.0\n"},
                     {"product_name", "Radeon RX 7900 XTX\n"},
                     {"mem_info_vram_total", vram(24 * kGiB)}});
  add_card("card2", {{"vendor", "0x1002\n"},
                     {"device", "0x15bf\n"},
                     {"uevent", "PCI_SLOT_NAME=0000:c4:00.0\n"},
                     {"mem_info_vram_total", vram(512u << 20)}});
  add_card("card3", {{"vendor", "0x1002\n"}, {"device", "0x1681\n"}});  // no VRAM file, no address
  add_card("card4", {{"vendor", "0x8086\n"}, {"device", "0x56a0\n"}, {"uevent", "PCI_SLOT_NAME=0000:03:00.0\n"}});
  add_card("card5", {{"vendor", "0x8086\n"}, {"device", "0x56a0\n"}, {"uevent", "PCI_SLOT_NAME=0000:04:00.0\n"}});
  add_card("card10", {{"vendor", "0x10de\n"}, {"device", "0x2684\n"}});

  const HardwareInfo hw = detect_hardware(env({0}));
  EXPECT_TRUE(has_note(hw, "DRM: card0 skipped (vendor 0x1a03"));
  // card4 shares card1's PCI address: one device, listed once.
  ASSERT_EQ(hw.dgpus.size(), 3u);
  EXPECT_EQ(hw.dgpus[0].name, "Radeon RX 7900 XTX");
  EXPECT_EQ(hw.dgpus[0].memory_bytes, 24 * kGiB);
  EXPECT_EQ(hw.dgpus[1].vendor, "Intel");  // Arc: off the root bus
  EXPECT_EQ(hw.dgpus[1].name, "GPU 0x56a0");  // pci.ids absent
  EXPECT_EQ(hw.dgpus[1].index, 5);
  EXPECT_EQ(hw.dgpus[2].vendor, "NVIDIA");
  EXPECT_EQ(hw.dgpus[2].index, 10);
  ASSERT_EQ(hw.igpus.size(), 2u);
  EXPECT_EQ(hw.igpus[0].memory_bytes, 512u << 20);
  EXPECT_EQ(hw.igpus[0].pci_bus, "0000:c4:00.0");
  EXPECT_EQ(hw.igpus[1].pci_id, "0x1002:0x1681");
  EXPECT_EQ(hw.igpus[1].memory_bytes, 0u);
  EXPECT_EQ(hw.tier, Tier::kCpuIgpuDgpu);
}

TEST_F(FakeTreeTest, DrmWithoutComputeGpusSaysSo) {
  add_card("card0", {{"vendor", "0x1af4\n"}});  // virtio
  const HardwareInfo hw = detect_hardware(env({0}));
  EXPECT_TRUE(has_note(hw, "DRM: no Intel, AMD or NVIDIA GPU"));
  EXPECT_EQ(hw.tier, Tier::kCpuOnly);
}

TEST_F(FakeTreeTest, ArmCpuinfoNamesTheCore) {
  tree.write("proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n"
                             "CPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: 0xd0c\n");
  const CpuInfo cpu = detect_hardware(env({0})).cpu;
#if defined(__aarch64__) && !defined(__APPLE__)
  EXPECT_EQ(cpu.vendor, "ARM");
  EXPECT_EQ(cpu.model_name, "Neoverse-N1");
#else
  // On x86 the model name comes from cpuid when cpuinfo has none.
  EXPECT_EQ(cpu.model_name, detail::native_cpu_identity().model_name.empty()
                                ? "Neoverse-N1"
                                : detail::native_cpu_identity().model_name);
#endif
}

}  // namespace
}  // namespace rf::hw
