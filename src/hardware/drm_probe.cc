// DRM probe: GPUs that the kernel exposes as PCI devices under <sysfs>/class/drm/cardN, no runtime needed.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

#include "hardware/probes.h"
#include "hardware/text_file.h"

namespace rf::hw::detail {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kIntel = 0x8086, kAmd = 0x1002, kNvidia = 0x10de;

// Card numbers of "cardN" entries; connectors ("card0-DP-1") and render nodes are skipped.
std::vector<int> card_numbers(const fs::path& drm) {
  std::vector<int> cards;
  std::error_code ec;
  for (auto it = fs::directory_iterator(drm, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= 4 || name.rfind("card", 0) != 0) continue;
    const auto n = parse_u64(std::string_view(name).substr(4));
    if (n && *n < 4096 && name.find_first_not_of("0123456789", 4) == std::string::npos) {
      cards.push_back(static_cast<int>(*n));
    }
  }
  std::sort(cards.begin(), cards.end());
  return cards;
}

// "Alder Lake-P GT2 [Iris Xe Graphics]" -> "Iris Xe Graphics": the bracket holds the marketing name.
std::string marketing_name(std::string_view full) {
  full = trim(full);
  const size_t open = full.rfind('[');
  if (!full.empty() && full.back() == ']' && open != std::string_view::npos && open + 2 < full.size()) {
    return std::string(full.substr(open + 1, full.size() - open - 2));
  }
  return std::string(full);
}

// Device name from a pci.ids database: vendor lines "8086  Intel", device lines "\t46a6  Name".
std::string pci_ids_name(const std::string& db, uint64_t vendor, uint64_t device) {
  bool in_vendor = false;
  std::string_view text = db;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line[0] == '#') continue;
    if (line[0] != '\t') {
      if (in_vendor) return {};  // past our vendor's block
      in_vendor = line.size() > 6 && parse_u64("0x" + std::string(line.substr(0, 4))) == vendor;
    } else if (in_vendor && line.size() > 7 && line[1] != '\t' &&
               parse_u64("0x" + std::string(line.substr(1, 4))) == device) {
      return marketing_name(line.substr(5));
    }
  }
  return {};
}

// Loaded on first use: most machines have no GPU to name.
class PciNames {
 public:
  explicit PciNames(const std::vector<std::string>& files) : files_(files) {}
  std::string lookup(uint64_t vendor, uint64_t device) {
    if (!loaded_) {
      loaded_ = true;
      for (const std::string& f : files_) {
        if (auto text = read_text(f, 16u << 20)) {
          db_ = std::move(*text);
          break;
        }
      }
    }
    return pci_ids_name(db_, vendor, device);
  }

 private:
  const std::vector<std::string>& files_;
  std::string db_;
  bool loaded_ = false;
};

std::string hex4(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%04llx", static_cast<unsigned long long>(v));
  return buf;
}

// The PCI address from uevent, else from where the sysfs "device" link points.
std::string pci_bus_of(const fs::path& dev, const std::string& uevent) {
  if (auto slot = find_value(uevent, "PCI_SLOT_NAME", '=')) return normalize_pci_bus(*slot);
  std::error_code ec;
  const fs::path target = fs::canonical(dev, ec);
  return ec ? std::string{} : normalize_pci_bus(target.filename().string());
}

bool on_root_bus(const std::string& pci_bus) {  // "0000:00:02.0"
  return pci_bus.size() >= 7 && pci_bus.compare(5, 2, "00") == 0;
}

}  // namespace

std::vector<GpuInfo> probe_drm(const ProbeEnv& env, Notes& notes) {
  std::vector<GpuInfo> gpus;
  const fs::path drm = env.sysfs_root + "/class/drm";
  std::error_code ec;
  if (!fs::is_directory(drm, ec)) {
    notes.push_back("DRM: " + drm.string() + " not found");
    return gpus;
  }
  PciNames names(env.pci_ids_files);
  std::set<std::string> seen_buses;
  for (const int card : card_numbers(drm)) {
    const std::string card_name = "card" + std::to_string(card);
    const fs::path dev = drm / card_name / "device";
    const auto vendor = read_u64((dev / "vendor").string());
    if (!vendor) {
      notes.push_back("DRM: " + card_name + " has no PCI vendor id; skipped");
      continue;
    }
    if (*vendor != kIntel && *vendor != kAmd && *vendor != kNvidia) {
      notes.push_back("DRM: " + card_name + " skipped (vendor " + hex4(*vendor) + " is not a compute GPU)");
      continue;
    }
    const std::string uevent = read_text((dev / "uevent").string(), 4096).value_or("");
    GpuInfo gpu;
    gpu.api = "drm";
    gpu.index = card;
    gpu.pci_bus = pci_bus_of(dev, uevent);
    if (!gpu.pci_bus.empty() && !seen_buses.insert(gpu.pci_bus).second) continue;
    const auto device = read_u64((dev / "device").string());
    if (device) gpu.pci_id = hex4(*vendor) + ":" + hex4(*device);

    if (*vendor == kIntel) {
      // Intel iGPUs always sit on the root bus (00:02.0); Arc cards hang off a PCIe port.
      gpu.vendor = "Intel";
      gpu.integrated = gpu.pci_bus.empty() || on_root_bus(gpu.pci_bus);
    } else if (*vendor == kAmd) {
      // amdgpu reports dedicated VRAM; an APU's is a small BIOS carve-out. boot_vga only marks the
      // primary display adapter (true for a desktop's only dGPU too), so it decides nothing.
      gpu.vendor = "AMD";
      const auto vram = read_u64((dev / "mem_info_vram_total").string());
      gpu.memory_bytes = vram.value_or(0);
      gpu.integrated = !vram || *vram < kIntegratedMemoryLimit;
    } else {
      gpu.vendor = "NVIDIA";  // memory is only known to the driver API
    }

    gpu.name = std::string(trim(read_text((dev / "product_name").string(), 256).value_or("")));
    if (gpu.name.empty() && device) gpu.name = names.lookup(*vendor, *device);
    if (gpu.name.empty()) gpu.name = device ? "GPU " + hex4(*device) : "GPU";
    gpus.push_back(std::move(gpu));
  }
  if (gpus.empty()) notes.emplace_back("DRM: no Intel, AMD or NVIDIA GPU");
  return gpus;
}

}  // namespace rf::hw::detail
