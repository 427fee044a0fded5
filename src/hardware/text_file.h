// Small, forgiving readers for sysfs/procfs text: every parser returns nullopt on garbage instead of failing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rf::hw::detail {

// Whole file as text, or nullopt when it cannot be opened. sysfs/procfs files report size 0, so this
// reads until EOF, stopping at max_bytes (cpuinfo on big machines is a few hundred KiB).
std::optional<std::string> read_text(const std::string& path, size_t max_bytes = 4u << 20);

std::string_view trim(std::string_view s);

// The whole trimmed string as a number: decimal, or hex with a 0x prefix. "12abc" -> nullopt.
std::optional<uint64_t> parse_u64(std::string_view s);
std::optional<int64_t> parse_i64(std::string_view s);

// A file holding one number, e.g. sysfs "0x8086\n" or "4294967296\n".
std::optional<uint64_t> read_u64(const std::string& path);
std::optional<int64_t> read_i64(const std::string& path);

// Kernel CPU list "0-3,8,10-11" -> {0,1,2,3,8,10,11}; nullopt on garbage.
std::optional<std::vector<int>> parse_cpu_list(std::string_view s);

// Cache sizes as sysfs writes them: "48K", "1024K", "32M", "512" (bytes).
std::optional<uint64_t> parse_size_suffix(std::string_view s);

// Value after the first "key<sep>" line of a key/value text such as /proc/meminfo ("MemTotal: 123 kB")
// or uevent ("PCI_SLOT_NAME=0000:00:02.0"); whitespace around key and value is ignored.
std::optional<std::string> find_value(std::string_view text, std::string_view key, char sep);

}  // namespace rf::hw::detail
