// Forgiving text readers for sysfs/procfs (see text_file.h).
#include "hardware/text_file.h"

#include <charconv>
#include <fstream>
#include <limits>

namespace rf::hw::detail {

std::optional<std::string> read_text(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string out;
  char buf[4096];
  while (out.size() < max_bytes && in.read(buf, sizeof buf).gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return std::nullopt;  // e.g. reading a directory
  if (out.size() > max_bytes) out.resize(max_bytes);
  return out;
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\v\f";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  s = trim(s);
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_i64(std::string_view s) {
  s = trim(s);
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  const auto magnitude = parse_u64(s);
  if (!magnitude || *magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return std::nullopt;
  }
  const auto v = static_cast<int64_t>(*magnitude);
  return negative ? -v : v;
}

std::optional<uint64_t> read_u64(const std::string& path) {
  const auto text = read_text(path, 256);
  return text ? parse_u64(*text) : std::nullopt;
}

std::optional<int64_t> read_i64(const std::string& path) {
  const auto text = read_text(path, 256);
  return text ? parse_i64(*text) : std::nullopt;
}

std::optional<std::vector<int>> parse_cpu_list(std::string_view s) {
  constexpr uint64_t kMaxCpu = 1u << 16;  // guards against "0-4000000000" in a corrupt file
  s = trim(s);
  if (s.empty()) return std::nullopt;
  std::vector<int> cpus;
  while (!s.empty()) {
    const size_t comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
    const size_t dash = item.find('-');
    const auto lo = parse_u64(item.substr(0, dash));
    const auto hi = dash == std::string_view::npos ? lo : parse_u64(item.substr(dash + 1));
    if (!lo || !hi || *lo > *hi || *hi >= kMaxCpu) return std::nullopt;
    for (uint64_t c = *lo; c <= *hi; ++c) cpus.push_back(static_cast<int>(c));
  }
  return cpus;
}

std::optional<uint64_t> parse_size_suffix(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  uint64_t scale = 1;
  switch (s.back()) {
    case 'K': case 'k': scale = 1ull << 10; break;
    case 'M': case 'm': scale = 1ull << 20; break;
    case 'G': case 'g': scale = 1ull << 30; break;
    default: break;
  }
  if (scale != 1) s.remove_suffix(1);
  const auto v = parse_u64(s);
  if (!v || *v > std::numeric_limits<uint64_t>::max() / scale) return std::nullopt;
  return *v * scale;
}

std::optional<std::string> find_value(std::string_view text, std::string_view key, char sep) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const size_t at = line.find(sep);
    if (at != std::string_view::npos && trim(line.substr(0, at)) == key) {
      return std::string(trim(line.substr(at + 1)));
    }
  }
  return std::nullopt;
}

}  // namespace rf::hw::detail
