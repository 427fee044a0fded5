// Memory probe: MemTotal/MemAvailable from /proc/meminfo, else sysconf page counts (or sysctl on macOS).
#include <unistd.h>

#include "hardware/probes.h"
#include "hardware/text_file.h"

#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

namespace rf::hw::detail {
namespace {

// "24684092 kB" -> bytes.
std::optional<uint64_t> meminfo_bytes(const std::string& text, std::string_view key) {
  const auto value = find_value(text, key, ':');
  if (!value) return std::nullopt;
  std::string_view v = *value;
  uint64_t scale = 1;
  if (v.size() > 2 && v.substr(v.size() - 2) == "kB") {
    v.remove_suffix(2);
    scale = 1024;
  }
  const auto n = parse_u64(v);
  if (!n || *n > UINT64_MAX / scale) return std::nullopt;
  return *n * scale;
}

MemoryInfo os_memory() {
  MemoryInfo m;
  const long page = sysconf(_SC_PAGESIZE);
  const long pages = sysconf(_SC_PHYS_PAGES);
  if (page > 0 && pages > 0) m.total_bytes = static_cast<uint64_t>(page) * static_cast<uint64_t>(pages);
#if defined(_SC_AVPHYS_PAGES)
  const long free_pages = sysconf(_SC_AVPHYS_PAGES);
  if (page > 0 && free_pages > 0) {
    m.available_bytes = static_cast<uint64_t>(page) * static_cast<uint64_t>(free_pages);
  }
#endif
#if defined(__APPLE__)
  uint64_t size = 0;
  size_t len = sizeof size;
  if (m.total_bytes == 0 && sysctlbyname("hw.memsize", &size, &len, nullptr, 0) == 0) m.total_bytes = size;
#endif
  return m;
}

}  // namespace

MemoryInfo probe_memory(const ProbeEnv& env, Notes& notes) {
  MemoryInfo m;
  const std::string text = read_text(env.procfs_root + "/meminfo").value_or("");
  m.total_bytes = meminfo_bytes(text, "MemTotal").value_or(0);
  m.available_bytes = meminfo_bytes(text, "MemAvailable").value_or(0);
  if (m.total_bytes == 0 || m.available_bytes == 0) {
    const MemoryInfo os = os_memory();
    if (m.total_bytes == 0) {
      notes.emplace_back("Memory: no MemTotal in " + env.procfs_root + "/meminfo; asked sysconf");
      m.total_bytes = os.total_bytes;
    }
    // Kernels before 3.14 lack MemAvailable; free pages undercount (page cache is reclaimable).
    if (m.available_bytes == 0) m.available_bytes = os.available_bytes;
  }
  if (m.available_bytes > m.total_bytes) m.available_bytes = m.total_bytes;
  return m;
}

}  // namespace rf::hw::detail
