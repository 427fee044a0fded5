// CPU probe: identity, core counts from sysfs topology + affinity, cache sizes; features come from cpu_native.cc.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <set>
#include <tuple>

#include "hardware/probes.h"
#include "hardware/text_file.h"

namespace rf::hw {

std::vector<std::string> CpuInfo::simd() const {
  const std::pair<bool, const char*> table[] = {
      {features.sse42, "SSE4.2"},       {features.avx, "AVX"},
      {features.avx2, "AVX2"},          {features.fma, "FMA"},
      {features.f16c, "F16C"},          {features.avx512f, "AVX-512F"},
      {features.avx512bw, "AVX-512BW"}, {features.avx512vl, "AVX-512VL"},
      {features.avx512vnni, "VNNI"},    {features.avx512bf16, "BF16"},
      {features.amx, "AMX"},            {features.neon, "NEON"},
      {features.dotprod, "DOTPROD"},    {features.sve, "SVE"},
  };
  std::vector<std::string> out;
  for (const auto& [present, name] : table) {
    if (present) out.emplace_back(name);
  }
  return out;
}

namespace detail {
namespace {

std::vector<int> online_cpus(const std::string& cpu_dir) {
  if (const auto text = read_text(cpu_dir + "/online")) {
    if (auto cpus = parse_cpu_list(*text)) return *cpus;
  }
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  std::vector<int> cpus(n > 0 ? static_cast<size_t>(n) : 1u);
  for (size_t i = 0; i < cpus.size(); ++i) cpus[i] = static_cast<int>(i);
  return cpus;
}

// CPUs this process may run on (containers and taskset shrink this below the machine's count).
std::vector<int> allowed_cpus(const ProbeEnv& env, const std::string& cpu_dir, Notes& notes) {
  if (env.allowed_cpus && !env.allowed_cpus->empty()) return *env.allowed_cpus;
#if defined(__linux__)
  for (int capacity = 1024; capacity <= (1 << 16); capacity *= 4) {
    cpu_set_t* set = CPU_ALLOC(capacity);
    if (set == nullptr) break;
    const size_t size = CPU_ALLOC_SIZE(capacity);
    CPU_ZERO_S(size, set);
    if (sched_getaffinity(0, size, set) == 0) {
      std::vector<int> cpus;
      for (int c = 0; c < capacity; ++c) {
        if (CPU_ISSET_S(static_cast<size_t>(c), size, set)) cpus.push_back(c);
      }
      CPU_FREE(set);
      if (!cpus.empty()) return cpus;
      break;
    }
    CPU_FREE(set);
    if (errno != EINVAL) break;  // EINVAL: the kernel's mask is wider than ours; retry bigger
  }
  notes.emplace_back("CPU: sched_getaffinity failed; using all online CPUs");
#endif
  return online_cpus(cpu_dir);
}

// Distinct (package, die, core) triples; a CPU with unreadable topology counts as its own core.
int count_physical(const std::string& cpu_dir, const std::vector<int>& cpus, Notes& notes) {
  std::set<std::tuple<int64_t, int64_t, int64_t>> cores;
  size_t unknown = 0;
  for (const int cpu : cpus) {
    const std::string dir = cpu_dir + "/cpu" + std::to_string(cpu) + "/topology/";
    const auto package = read_i64(dir + "physical_package_id");
    const auto core = read_i64(dir + "core_id");
    if (!package || !core) {
      ++unknown;
      continue;
    }
    cores.emplace(*package, read_i64(dir + "die_id").value_or(0), *core);
  }
  if (unknown > 0) {
    notes.push_back("CPU: topology unreadable for " + std::to_string(unknown) + " of " +
                    std::to_string(cpus.size()) + " CPUs; counted each as its own core");
  }
  return static_cast<int>(cores.size() + unknown);
}

// <cpu_dir>/cpuN/cache/index*/{level,type,size}; zeros for what is missing.
CacheSizes sysfs_caches(const std::string& cpu_dir, int cpu) {
  namespace fs = std::filesystem;
  CacheSizes out;
  std::error_code ec;
  const fs::path dir = cpu_dir + "/cpu" + std::to_string(cpu) + "/cache";
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string path = it->path().string();
    if (it->path().filename().string().rfind("index", 0) != 0) continue;
    const auto level = read_i64(path + "/level");
    const auto type = read_text(path + "/type", 64);
    const auto size_text = read_text(path + "/size", 64);
    const uint64_t size = size_text ? parse_size_suffix(*size_text).value_or(0) : 0;
    if (!level || !type || size == 0) continue;
    const std::string_view kind = trim(*type);
    if (*level == 1 && kind == "Data") out.l1d = std::max(out.l1d, size);
    if (*level == 2 && kind != "Instruction") out.l2 = std::max(out.l2, size);
    if (*level == 3 && kind != "Instruction") out.l3 = std::max(out.l3, size);
  }
  return out;
}

// arm64 /proc/cpuinfo has no model name; the MIDR implementer and part numbers identify the core.
std::string arm_vendor(uint64_t implementer) {
  switch (implementer) {
    case 0x41: return "ARM";
    case 0x46: return "Fujitsu";
    case 0x48: return "HiSilicon";
    case 0x4e: return "NVIDIA";
    case 0x51: return "Qualcomm";
    case 0x61: return "Apple";
    case 0xc0: return "Ampere";
    default: return {};
  }
}

std::string arm_part(uint64_t implementer, uint64_t part) {
  if (implementer != 0x41) return {};
  switch (part) {
    case 0xd03: return "Cortex-A53";
    case 0xd05: return "Cortex-A55";
    case 0xd08: return "Cortex-A72";
    case 0xd0b: return "Cortex-A76";
    case 0xd0c: return "Neoverse-N1";
    case 0xd40: return "Neoverse-V1";
    case 0xd41: return "Cortex-A78";
    case 0xd49: return "Neoverse-N2";
    case 0xd4f: return "Neoverse-V2";
    default: return {};
  }
}

void fill_identity(const std::string& cpuinfo, CpuInfo& cpu) {
  const CpuIdentity native = native_cpu_identity();
  cpu.vendor = native.vendor;
  cpu.model_name = find_value(cpuinfo, "model name", ':').value_or(native.model_name);
  if (cpu.vendor.empty()) cpu.vendor = find_value(cpuinfo, "vendor_id", ':').value_or("");
  const auto implementer = parse_u64(find_value(cpuinfo, "CPU implementer", ':').value_or(""));
  if (implementer && cpu.vendor.empty()) cpu.vendor = arm_vendor(*implementer);
  if (cpu.model_name.empty() && implementer) {
    const std::string part_text = find_value(cpuinfo, "CPU part", ':').value_or("");
    const auto part = parse_u64(part_text);
    const std::string known = part ? arm_part(*implementer, *part) : std::string{};
    cpu.model_name = !known.empty() ? known : part ? "CPU part " + part_text : std::string{};
  }
  if (cpu.vendor.empty()) cpu.vendor = "unknown";
  if (cpu.model_name.empty()) cpu.model_name = "unknown";
}

}  // namespace

CpuInfo probe_cpu(const ProbeEnv& env, Notes& notes) {
  CpuInfo cpu;
#if defined(__x86_64__)
  cpu.arch = "x86_64";
#elif defined(__aarch64__)
  cpu.arch = "aarch64";
#else
  cpu.arch = "unknown";
#endif
  cpu.features = native_cpu_features();
  fill_identity(read_text(env.procfs_root + "/cpuinfo").value_or(""), cpu);

  const std::string cpu_dir = env.sysfs_root + "/devices/system/cpu";
  const std::vector<int> cpus = allowed_cpus(env, cpu_dir, notes);
  cpu.logical_cores = static_cast<int>(cpus.size());
  cpu.physical_cores = count_physical(cpu_dir, cpus, notes);

  const CacheSizes from_sysfs = sysfs_caches(cpu_dir, cpus.front());
  const bool complete = from_sysfs.l1d && from_sysfs.l2 && from_sysfs.l3;
  const CacheSizes native = complete ? CacheSizes{} : native_cache_sizes();
  cpu.l1d_bytes = from_sysfs.l1d ? from_sysfs.l1d : native.l1d;
  cpu.l2_bytes = from_sysfs.l2 ? from_sysfs.l2 : native.l2;
  cpu.l3_bytes = from_sysfs.l3 ? from_sysfs.l3 : native.l3;
  if (!from_sysfs.l1d && !from_sysfs.l2 && !from_sysfs.l3) {
    notes.emplace_back("CPU: no cache sizes in sysfs; asked the CPU instead");
  }
  return cpu;
}

}  // namespace detail
}  // namespace rf::hw
