// The real dlopen-based DynamicLoader plus helpers shared by the CUDA and HIP probes.
#include <dlfcn.h>

#include <cstdio>

#include "hardware/probes.h"
#include "hardware/text_file.h"

namespace rf::hw {

DynamicLoader DynamicLoader::system() {
  DynamicLoader l;
  l.open = [](const std::string& name) -> void* {
    return dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  };
  l.symbol = [](void* handle, const char* name) -> void* { return dlsym(handle, name); };
  l.close = [](void* handle) { dlclose(handle); };
  l.last_error = []() -> std::string {
    const char* e = dlerror();
    return e != nullptr ? e : "";
  };
  return l;
}

namespace detail {

void* open_first(const DynamicLoader& loader, const std::vector<std::string>& candidates,
                 const std::string& api, Notes& notes) {
  if (!loader.open) {
    notes.push_back(api + ": no library loader");
    return nullptr;
  }
  // A library that exists but cannot load (missing dependency, wrong arch) says more than "not found".
  std::string load_error;
  for (const std::string& name : candidates) {
    if (void* handle = loader.open(name)) return handle;
    const std::string e = loader.last_error ? loader.last_error() : std::string{};
    if (load_error.empty() && !e.empty() && e.find("No such file") == std::string::npos) load_error = e;
  }
  notes.push_back(api + ": " + candidates.front() +
                  (load_error.empty() ? " not found" : " failed to load (" + load_error + ")"));
  return nullptr;
}

std::string describe_code(int code, const char* runtime_text) {
  // CUDA and HIP share these codes; others are described by the runtime itself when it can.
  const char* text = nullptr;
  switch (code) {
    case 3: text = "not initialized"; break;
    case 35: text = "insufficient driver"; break;
    case 100: text = "no device"; break;
    case 101: text = "invalid device"; break;
    case 999: text = "unknown error"; break;
    default: text = runtime_text != nullptr ? runtime_text : "error"; break;
  }
  return std::to_string(code) + ": " + text;
}

std::string normalize_pci_bus(const std::string& bus_id) {
  // Strictly "hex:hex:hex.hex"; sscanf's %x would also swallow "0x" prefixes and trailing junk.
  const std::string_view s = trim(bus_id);
  const size_t c1 = s.find(':'), c2 = s.find(':', c1 + 1), dot = s.find('.', c2 + 1);
  if (c1 == std::string_view::npos || c2 == std::string_view::npos || dot == std::string_view::npos) return {};
  const auto field = [](std::string_view f) -> std::optional<uint64_t> {
    if (f.empty() || f.size() > 8 || f.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) {
      return std::nullopt;
    }
    return parse_u64("0x" + std::string(f));
  };
  const auto domain = field(s.substr(0, c1)), bus = field(s.substr(c1 + 1, c2 - c1 - 1));
  const auto device = field(s.substr(c2 + 1, dot - c2 - 1)), function = field(s.substr(dot + 1));
  if (!domain || !bus || !device || !function || *bus > 0xff || *device > 0x1f || *function > 0x7) return {};
  char out[32];
  std::snprintf(out, sizeof out, "%04llx:%02llx:%02llx.%llx", static_cast<unsigned long long>(*domain),
                static_cast<unsigned long long>(*bus), static_cast<unsigned long long>(*device),
                static_cast<unsigned long long>(*function));
  return out;
}

}  // namespace detail
namespace detail {

int checked_device_count(const std::string& api, const std::string& call, int rc, int count,
                         const std::string& rc_text, Notes& notes) {
  if (rc != 0) {
    notes.push_back(api + ": " + call + " failed (" + rc_text + ")");
    return 0;
  }
  if (count <= 0) {
    notes.push_back(api + ": no devices");
    return 0;
  }
  if (count > kMaxRuntimeDevices) {
    notes.push_back(api + ": " + call + " reported " + std::to_string(count) + " devices; probing " +
                    std::to_string(kMaxRuntimeDevices));
    return kMaxRuntimeDevices;
  }
  return count;
}

}  // namespace detail
}  // namespace rf::hw
