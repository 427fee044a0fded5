// What the ISA reports about the CPU: cpuid + xgetbv on x86, HWCAP (Linux) or sysctl (macOS) on arm64.
#include <unistd.h>

#include <cstring>

#include "hardware/probes.h"
#include "hardware/text_file.h"

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

namespace rf::hw::detail {
namespace {

#if defined(__APPLE__)
[[maybe_unused]] uint64_t sysctl_u64(const char* name) {
  uint64_t v = 0;
  size_t size = sizeof v;
  if (sysctlbyname(name, &v, &size, nullptr, 0) != 0) return 0;
  // Some keys are 32-bit; on little-endian the low bytes are already in place.
  return size == sizeof(uint32_t) ? (v & 0xffffffffu) : v;
}

[[maybe_unused]] std::string sysctl_string(const char* name) {
  char buf[256] = {};
  size_t size = sizeof buf - 1;
  if (sysctlbyname(name, buf, &size, nullptr, 0) != 0) return {};
  return buf;
}
#endif

#if defined(__x86_64__)
struct Regs {
  uint32_t a = 0, b = 0, c = 0, d = 0;
};

// Zeros when the leaf is beyond the CPU's maximum (__get_cpuid_count checks that).
Regs cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  Regs r;
  if (!__get_cpuid_count(leaf, subleaf, &r.a, &r.b, &r.c, &r.d)) return {};
  return r;
}

bool bit(uint32_t reg, int n) { return ((reg >> n) & 1u) != 0; }

// XCR0: which register states the OS saves on context switch (only valid when OSXSAVE is set).
uint64_t xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

std::string vendor_string() {
  const Regs r = cpuid(0);
  char v[13] = {};
  std::memcpy(v + 0, &r.b, 4);
  std::memcpy(v + 4, &r.d, 4);
  std::memcpy(v + 8, &r.c, 4);
  return v;
}

// Deterministic cache parameters: leaf 4 on Intel, 0x8000001D on AMD/Hygon (same register layout).
CacheSizes cpuid_caches() {
  const std::string vendor = vendor_string();
  uint32_t leaf = 4;
  if (vendor == "AuthenticAMD" || vendor == "HygonGenuine") {
    if (!bit(cpuid(0x80000001).c, 22)) return {};  // TOPOEXT: leaf 0x8000001D exists
    leaf = 0x8000001D;
  } else if (vendor != "GenuineIntel") {
    return {};
  }
  CacheSizes out;
  for (uint32_t sub = 0; sub < 16; ++sub) {
    const Regs r = cpuid(leaf, sub);
    const uint32_t type = r.a & 0x1f;  // 0 none, 1 data, 2 instruction, 3 unified
    if (type == 0) break;
    const uint32_t level = (r.a >> 5) & 0x7;
    const uint64_t ways = ((r.b >> 22) & 0x3ff) + 1, partitions = ((r.b >> 12) & 0x3ff) + 1;
    const uint64_t line = (r.b & 0xfff) + 1, sets = static_cast<uint64_t>(r.c) + 1;
    const uint64_t bytes = ways * partitions * line * sets;
    if (level == 1 && type == 1) out.l1d = bytes;
    if (level == 2 && type != 2) out.l2 = bytes;
    if (level == 3 && type != 2) out.l3 = bytes;
  }
  return out;
}
#endif

}  // namespace

CpuFeatures native_cpu_features() {
  CpuFeatures f;
#if defined(__x86_64__)
  const Regs l1 = cpuid(1), l7 = cpuid(7, 0), l7s1 = cpuid(7, 1);
  const uint64_t xcr0 = bit(l1.c, 27) ? xgetbv0() : 0;  // OSXSAVE
  const bool os_avx = (xcr0 & 0x6) == 0x6;               // XMM + YMM state
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask + ZMM_Hi256 + Hi16_ZMM
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;       // XTILECFG + XTILEDATA
  f.sse42 = bit(l1.c, 20);
  f.avx = os_avx && bit(l1.c, 28);
  f.fma = f.avx && bit(l1.c, 12);
  f.f16c = f.avx && bit(l1.c, 29);
  f.avx2 = f.avx && bit(l7.b, 5);
  f.avx512f = os_avx512 && bit(l7.b, 16);
  f.avx512bw = f.avx512f && bit(l7.b, 30);
  f.avx512vl = f.avx512f && bit(l7.b, 31);
  f.avx512vnni = f.avx512f && bit(l7.c, 11);
  f.avx512bf16 = f.avx512f && bit(l7s1.a, 5);
  // Linux additionally wants arch_prctl(ARCH_REQ_XCOMP_PERM) per process before the first tile use.
  f.amx = os_amx && bit(l7.d, 24) && (bit(l7.d, 25) || bit(l7.d, 22));
#elif defined(__aarch64__) && defined(__linux__)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  constexpr unsigned long kAsimd = 1ul << 1, kAsimdDp = 1ul << 20, kSve = 1ul << 22;  // asm/hwcap.h
  f.neon = (hwcap & kAsimd) != 0;
  f.dotprod = (hwcap & kAsimdDp) != 0;
  f.sve = (hwcap & kSve) != 0;
#elif defined(__aarch64__) && defined(__APPLE__)
  f.neon = sysctl_u64("hw.optional.AdvSIMD") != 0 || sysctl_u64("hw.optional.neon") != 0;
  f.dotprod = sysctl_u64("hw.optional.arm.FEAT_DotProd") != 0;
#endif
  return f;
}

CpuIdentity native_cpu_identity() {
  CpuIdentity id;
#if defined(__x86_64__)
  const std::string raw = vendor_string();
  id.vendor = raw == "GenuineIntel" ? "Intel" : raw == "AuthenticAMD" ? "AMD" : raw;
  if (cpuid(0x80000000).a >= 0x80000004) {
    char brand[49] = {};
    for (uint32_t i = 0; i < 3; ++i) {
      const Regs r = cpuid(0x80000002 + i);
      std::memcpy(brand + 16 * i + 0, &r.a, 4);
      std::memcpy(brand + 16 * i + 4, &r.b, 4);
      std::memcpy(brand + 16 * i + 8, &r.c, 4);
      std::memcpy(brand + 16 * i + 12, &r.d, 4);
    }
    id.model_name = std::string(trim(brand));
  }
#elif defined(__APPLE__)
  id.vendor = "Apple";
  id.model_name = sysctl_string("machdep.cpu.brand_string");
#endif
  return id;
}

CacheSizes native_cache_sizes() {
#if defined(__x86_64__)
  return cpuid_caches();
#elif defined(__APPLE__)
  return {sysctl_u64("hw.l1dcachesize"), sysctl_u64("hw.l2cachesize"), sysctl_u64("hw.l3cachesize")};
#elif defined(_SC_LEVEL1_DCACHE_SIZE)
  const auto size = [](int name) {
    const long v = sysconf(name);
    return v > 0 ? static_cast<uint64_t>(v) : uint64_t{0};
  };
  return {size(_SC_LEVEL1_DCACHE_SIZE), size(_SC_LEVEL2_CACHE_SIZE), size(_SC_LEVEL3_CACHE_SIZE)};
#else
  return {};
#endif
}

}  // namespace rf::hw::detail
