// CUDA and HIP probes against fake runtimes: every failure path becomes a note, devices land in the right list.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "fake_env.h"
#include "hardware/hardware.h"

namespace rf::hw {
namespace {

using testing::as_symbol;
using testing::FakeLoader;
using testing::has_note;
using testing::TempTree;

struct FakeDevice {
  std::string name;
  uint64_t memory = 0;
  int integrated = 0;
  std::string bus_id;  // empty: the bus-id call fails
};

// One fake runtime's behaviour; the C-style entry points below read it.
struct FakeRuntime {
  int init_rc = 0, count_rc = 0, name_rc = 0, version = 60000000;
  int reported_count = -1;  // -1: devices.size()
  std::vector<FakeDevice> devices;
  int init_calls = 0;
  int count() const { return reported_count >= 0 ? reported_count : static_cast<int>(devices.size()); }
  const FakeDevice* at(int i) const {
    return i >= 0 && i < static_cast<int>(devices.size()) ? &devices[static_cast<size_t>(i)] : nullptr;
  }
};

FakeRuntime g_cuda, g_hip;
constexpr int kCudaHandleOffset = 10;  // CUdevice handles differ from ordinals to catch mix-ups

int copy_string(char* out, int len, const std::string& s) {
  if (len <= 0) return 1;
  std::snprintf(out, static_cast<size_t>(len), "%s", s.c_str());
  return 0;
}

// CUDA driver API.
int cu_init(unsigned) { return ++g_cuda.init_calls, g_cuda.init_rc; }
int cu_count(int* n) { return *n = g_cuda.count(), g_cuda.count_rc; }
int cu_get(int* dev, int ordinal) { return *dev = ordinal + kCudaHandleOffset, 0; }
int cu_name(char* out, int len, int dev) {
  const FakeDevice* d = g_cuda.at(dev - kCudaHandleOffset);
  return d == nullptr || g_cuda.name_rc != 0 ? 1 : copy_string(out, len, d->name);
}
int cu_mem(size_t* bytes, int dev) {
  const FakeDevice* d = g_cuda.at(dev - kCudaHandleOffset);
  return d == nullptr ? 101 : (*bytes = d->memory, 0);
}
int cu_attr(int* v, int attr, int dev) {
  const FakeDevice* d = g_cuda.at(dev - kCudaHandleOffset);
  return d == nullptr || attr != 18 ? 1 : (*v = d->integrated, 0);
}
int cu_bus(char* out, int len, int dev) {
  const FakeDevice* d = g_cuda.at(dev - kCudaHandleOffset);
  return d == nullptr || d->bus_id.empty() ? 1 : copy_string(out, len, d->bus_id);
}

// HIP runtime API.
int hip_init(unsigned) { return ++g_hip.init_calls, g_hip.init_rc; }
int hip_count(int* n) { return *n = g_hip.count(), g_hip.count_rc; }
int hip_name(char* out, int len, int dev) {
  const FakeDevice* d = g_hip.at(dev);
  return d == nullptr || g_hip.name_rc != 0 ? 1 : copy_string(out, len, d->name);
}
int hip_mem(size_t* bytes, int dev) {
  const FakeDevice* d = g_hip.at(dev);
  return d == nullptr ? 101 : (*bytes = d->memory, 0);
}
int hip_attr(int* v, int attr, int dev) {
  const FakeDevice* d = g_hip.at(dev);
  return d == nullptr || attr != 16 ? 1 : (*v = d->integrated, 0);
}
int hip_version(int* v) { return *v = g_hip.version, 0; }
int hip_bus(char* out, int len, int dev) {
  const FakeDevice* d = g_hip.at(dev);
  return d == nullptr || d->bus_id.empty() ? 1 : copy_string(out, len, d->bus_id);
}
const char* hip_error_string(int) { return "fake hip failure"; }

FakeLoader::Symbols cuda_symbols() {
  return {{"cuInit", as_symbol(cu_init)},
          {"cuDeviceGetCount", as_symbol(cu_count)},
          {"cuDeviceGet", as_symbol(cu_get)},
          {"cuDeviceGetName", as_symbol(cu_name)},
          {"cuDeviceTotalMem_v2", as_symbol(cu_mem)},
          {"cuDeviceGetAttribute", as_symbol(cu_attr)},
          {"cuDeviceGetPCIBusId", as_symbol(cu_bus)}};
}

FakeLoader::Symbols hip_symbols() {
  return {{"hipInit", as_symbol(hip_init)},
          {"hipGetDeviceCount", as_symbol(hip_count)},
          {"hipDeviceGetName", as_symbol(hip_name)},
          {"hipDeviceTotalMem", as_symbol(hip_mem)},
          {"hipDeviceGetAttribute", as_symbol(hip_attr)},
          {"hipRuntimeGetVersion", as_symbol(hip_version)},
          {"hipDeviceGetPCIBusId", as_symbol(hip_bus)},
          {"hipGetErrorString", as_symbol(hip_error_string)}};
}

constexpr uint64_t kGiB = 1ull << 30;

class FakeLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_cuda = FakeRuntime{};
    g_hip = FakeRuntime{};
  }
  HardwareInfo detect() {
    ProbeEnv env;
    env.sysfs_root = tree.path("sys");  // empty: no DRM, CPU facts fall back
    env.procfs_root = tree.path("proc");
    env.allowed_cpus = std::vector<int>{0};
    env.pci_ids_files = {};
    env.loader = fake.loader();
    return detect_hardware(env);
  }
  TempTree tree;
  FakeLoader fake;
};

TEST_F(FakeLoaderTest, MissingLibrariesAreNotesAndCpuTier) {
  const HardwareInfo hw = detect();
  EXPECT_TRUE(has_note(hw, "CUDA: libcuda.so.1 not found"));
  EXPECT_TRUE(has_note(hw, "HIP: libamdhip64.so not found"));
  EXPECT_TRUE(hw.igpus.empty());
  EXPECT_TRUE(hw.dgpus.empty());
  EXPECT_EQ(hw.tier, Tier::kCpuOnly);
  // Every candidate name was tried before giving up.
  EXPECT_NE(std::find(fake.opened.begin(), fake.opened.end(), "libcuda.so"), fake.opened.end());
  EXPECT_NE(std::find(fake.opened.begin(), fake.opened.end(), "/opt/rocm/lib/libamdhip64.so"),
            fake.opened.end());
}

TEST_F(FakeLoaderTest, LibraryThatFailsToLoadSaysWhy) {
  fake.set_open_error("libcuda.so.1: wrong ELF class: ELFCLASS32");
  const HardwareInfo hw = detect();
  EXPECT_TRUE(has_note(hw, "CUDA: libcuda.so.1 failed to load (libcuda.so.1: wrong ELF class: ELFCLASS32)"));
}

TEST_F(FakeLoaderTest, MissingRequiredSymbolClosesLibraryWithoutCalls) {
  auto syms = cuda_symbols();
  syms.erase("cuDeviceTotalMem_v2");
  fake.add_library("libcuda.so.1", syms);
  const HardwareInfo hw = detect();
  EXPECT_TRUE(has_note(hw, "CUDA: libcuda.so.1 lacks cuDeviceTotalMem_v2"));
  EXPECT_EQ(fake.closes, 1);
  EXPECT_EQ(g_cuda.init_calls, 0);
  EXPECT_EQ(hw.tier, Tier::kCpuOnly);
}

TEST_F(FakeLoaderTest, InitFailureIsNotedAndLibraryStaysLoaded) {
  g_cuda.init_rc = 100;
  g_cuda.devices = {{"NVIDIA Never Seen", 24 * kGiB, 0, ""}};
  fake.add_library("libcuda.so.1", cuda_symbols());
  const HardwareInfo hw = detect();
  EXPECT_TRUE(has_note(hw, "CUDA: cuInit failed (100: no device)"));
  EXPECT_EQ(g_cuda.init_calls, 1);
  EXPECT_EQ(fake.closes, 0);
  EXPECT_TRUE(hw.dgpus.empty());
}

TEST_F(FakeLoaderTest, CountFailureIsNoted) {
  g_cuda.count_rc = 3;
  fake.add_library("libcuda.so.1", cuda_symbols());
  const HardwareInfo hw = detect();
  EXPECT_TRUE(has_note(hw, "CUDA: cuDeviceGetCount failed (3: not initialized)"));
  EXPECT_TRUE(hw.dgpus.empty());
}

TEST_F(FakeLoaderTest, ZeroDevicesIsNoted) {
  fake.add_library("libcuda.so.1", cuda_symbols());
  fake.add_library("libamdhip64.so", hip_symbols());
  const HardwareInfo hw = detect();
  EXPECT_TRUE(has_note(hw, "CUDA: no devices"));
  EXPECT_TRUE(has_note(hw, "HIP: no devices"));
  EXPECT_EQ(hw.tier, Tier::kCpuOnly);
}

TEST_F(FakeLoaderTest, SmallCudaDeviceIsIntegrated) {
  g_cuda.devices = {{"NVIDIA Small", 2 * kGiB, 0, "00000000:02:00.0"}};
  fake.add_library("libcuda.so.1", cuda_symbols());
  const HardwareInfo hw = detect();
  ASSERT_EQ(hw.igpus.size(), 1u);
  EXPECT_TRUE(hw.dgpus.empty());
  EXPECT_EQ(hw.igpus[0].memory_bytes, 2 * kGiB);
  EXPECT_TRUE(hw.igpus[0].integrated);
  EXPECT_EQ(hw.tier, Tier::kCpuIgpu);
}

TEST_F(FakeLoaderTest, BigCudaDeviceIsDiscrete) {
  g_cuda.devices = {{"NVIDIA Big 24GB", 24 * kGiB, 0, "00000000:01:00.0"},
                    {"NVIDIA Second", 48 * kGiB, 0, ""}};
  fake.add_library("libcuda.so.1", cuda_symbols());
  const HardwareInfo hw = detect();
  ASSERT_EQ(hw.dgpus.size(), 2u);
  const GpuInfo& g = hw.dgpus[0];
  EXPECT_EQ(g.name, "NVIDIA Big 24GB");
  EXPECT_EQ(g.vendor, "NVIDIA");
  EXPECT_EQ(g.api, "cuda");
  EXPECT_EQ(g.index, 0);
  EXPECT_EQ(g.memory_bytes, 24 * kGiB);
  EXPECT_FALSE(g.integrated);
  EXPECT_EQ(g.pci_bus, "0000:01:00.0");
  EXPECT_EQ(hw.dgpus[1].index, 1);
  EXPECT_EQ(hw.dgpus[1].memory_bytes, 48 * kGiB);
  EXPECT_EQ(hw.dgpus[1].pci_bus, "");
  EXPECT_EQ(hw.tier, Tier::kCpuDgpu);
}

TEST_F(FakeLoaderTest, IntegratedAttributeWinsOverLargeMemory) {
  g_cuda.devices = {{"NVIDIA Jetson-like", 32 * kGiB, 1, ""}};
  fake.add_library("libcuda.so.1", cuda_symbols());
  const HardwareInfo hw = detect();
  ASSERT_EQ(hw.igpus.size(), 1u);
  EXPECT_TRUE(hw.dgpus.empty());
}

TEST_F(FakeLoaderTest, NameFailureFallsBackToOrdinal) {
  g_cuda.name_rc = 1;
  g_cuda.devices = {{"unused", 16 * kGiB, 0, ""}};
  fake.add_library("libcuda.so.1", cuda_symbols());
  const HardwareInfo hw = detect();
  ASSERT_EQ(hw.dgpus.size(), 1u);
  EXPECT_EQ(hw.dgpus[0].name, "CUDA device 0");
}

TEST_F(FakeLoaderTest, AbsurdDeviceCountIsCapped) {
  g_cuda.reported_count = 5000;  // only one device actually answers
  g_cuda.devices = {{"NVIDIA Real", 8 * kGiB, 0, ""}};
  fake.add_library("libcuda.so.1", cuda_symbols());
  const HardwareInfo hw = detect();
  EXPECT_TRUE(has_note(hw, "reported 5000 devices; probing 64"));
  // Devices past the first fail their memory query: listed with unknown memory, noted.
  EXPECT_EQ(hw.dgpus.size() + hw.igpus.size(), 64u);
  EXPECT_TRUE(has_note(hw, "CUDA: cuDeviceTotalMem(1) failed (101: invalid device)"));
}

TEST_F(FakeLoaderTest, HipInitAndCountFailures) {
  g_hip.init_rc = 100;
  fake.add_library("libamdhip64.so", hip_symbols());
  EXPECT_TRUE(has_note(detect(), "HIP: hipInit failed (100: no device)"));

  g_hip.init_rc = 0;
  g_hip.count_rc = 217;  // not in our table: the runtime's own description is used
  EXPECT_TRUE(has_note(detect(), "HIP: hipGetDeviceCount failed (217: fake hip failure)"));
}

TEST_F(FakeLoaderTest, HipMissingSymbolListsAllMissing) {
  auto syms = hip_symbols();
  syms.erase("hipDeviceGetName");
  syms.erase("hipGetDeviceCount");
  fake.add_library("libamdhip64.so.6", syms);  // found through a later candidate name
  const HardwareInfo hw = detect();
  EXPECT_TRUE(has_note(hw, "HIP: libamdhip64.so lacks hipGetDeviceCount, hipDeviceGetName"));
  EXPECT_EQ(fake.closes, 1);
  EXPECT_EQ(g_hip.init_calls, 0);
}

TEST_F(FakeLoaderTest, HipDevicesSplitByMemoryAndAttribute) {
  g_hip.devices = {{"AMD Radeon RX 7900 XTX", 24 * kGiB, 0, "0000:03:00.0"},
                   {"AMD Radeon 780M", 2 * kGiB, 0, ""},
                   {"AMD Radeon 8060S", 96 * kGiB, 1, ""}};
  fake.add_library("libamdhip64.so", hip_symbols());
  const HardwareInfo hw = detect();
  ASSERT_EQ(hw.dgpus.size(), 1u);
  ASSERT_EQ(hw.igpus.size(), 2u);
  EXPECT_EQ(hw.dgpus[0].name, "AMD Radeon RX 7900 XTX");
  EXPECT_EQ(hw.dgpus[0].api, "hip");
  EXPECT_EQ(hw.dgpus[0].pci_bus, "0000:03:00.0");
  EXPECT_EQ(hw.igpus[0].memory_bytes, 2 * kGiB);
  EXPECT_EQ(hw.igpus[1].index, 2);
  EXPECT_EQ(hw.tier, Tier::kCpuIgpuDgpu);
}

TEST_F(FakeLoaderTest, OldHipAttributeLayoutIsIgnored) {
  g_hip.version = 40200000;  // before HIP 5 the enum value 16 meant something else
  g_hip.devices = {{"AMD Old", 16 * kGiB, 1, ""}};
  fake.add_library("libamdhip64.so", hip_symbols());
  const HardwareInfo hw = detect();
  EXPECT_EQ(hw.dgpus.size(), 1u);
  EXPECT_TRUE(hw.igpus.empty());
}

TEST_F(FakeLoaderTest, DisabledProbesOpenNothing) {
  ProbeEnv env;
  env.sysfs_root = tree.path("sys");
  env.procfs_root = tree.path("proc");
  env.allowed_cpus = std::vector<int>{0};
  env.loader = fake.loader();
  env.probe_cuda = false;
  env.probe_hip = false;
  const HardwareInfo hw = detect_hardware(env);
  EXPECT_TRUE(fake.opened.empty());
  EXPECT_FALSE(has_note(hw, "CUDA"));
}

// A runtime device and the DRM card for the same PCI address become one entry, the runtime's.
TEST_F(FakeLoaderTest, RuntimeAndDrmEntriesMerge) {
  const std::string card = "sys/class/drm/card1/device/";
  tree.write(card + "vendor", "0x1002\n");
  tree.write(card + "device", "0x744c\n");
  tree.write(card + "uevent", "DRIVER=amdgpu\nPCI_SLOT_NAME=0000:03:00.0\n");
  tree.write(card + "mem_info_vram_total", std::to_string(24 * kGiB) + "\n");
  const std::string other = "sys/class/drm/card2/device/";  // a second card HIP does not report
  tree.write(other + "vendor", "0x1002\n");
  tree.write(other + "device", "0x7480\n");
  tree.write(other + "uevent", "PCI_SLOT_NAME=0000:07:00.0\n");
  tree.write(other + "mem_info_vram_total", std::to_string(8 * kGiB) + "\n");
  g_hip.devices = {{"AMD Radeon RX 7900 XTX", 24 * kGiB, 0, "0000:03:00.0"}};
  fake.add_library("libamdhip64.so", hip_symbols());
  const HardwareInfo hw = detect();
  ASSERT_EQ(hw.dgpus.size(), 2u);
  EXPECT_EQ(hw.dgpus[0].api, "hip");
  EXPECT_EQ(hw.dgpus[0].pci_id, "0x1002:0x744c");  // filled in from DRM
  EXPECT_EQ(hw.dgpus[1].api, "drm");
  EXPECT_EQ(hw.dgpus[1].pci_bus, "0000:07:00.0");
}

// Without a bus id from the runtime, one DRM card of the same vendor and kind is taken as the same device.
TEST_F(FakeLoaderTest, RuntimeWithoutBusIdStillMerges) {
  const std::string card = "sys/class/drm/card0/device/";
  tree.write(card + "vendor", "0x10de\n");
  tree.write(card + "device", "0x2330\n");
  tree.write(card + "uevent", "PCI_SLOT_NAME=0000:01:00.0\n");
  g_cuda.devices = {{"NVIDIA H100 80GB HBM3", 80 * kGiB, 0, ""}};
  fake.add_library("libcuda.so.1", cuda_symbols());
  const HardwareInfo hw = detect();
  ASSERT_EQ(hw.dgpus.size(), 1u);
  EXPECT_EQ(hw.dgpus[0].api, "cuda");
  EXPECT_EQ(hw.dgpus[0].pci_id, "0x10de:0x2330");
}

}  // namespace
}  // namespace rf::hw
