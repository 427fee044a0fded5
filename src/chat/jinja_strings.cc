// Python str methods for the interpreter: case mapping (ASCII), strip, replace, split.
#include <algorithm>

#include "chat/jinja_ops.h"

namespace rf::jinja {
namespace {

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

}  // namespace

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_upper(c);
  return out;
}

// Python's title(): a letter after a letter is lowered, any other letter is raised.
std::string py_title(std::string_view s) {
  std::string out(s);
  bool prev_alpha = false;
  for (char& c : out) {
    c = prev_alpha ? to_lower(c) : to_upper(c);
    prev_alpha = is_ascii_alpha(c);
  }
  return out;
}

std::string py_capitalize(std::string_view s) {
  std::string out = ascii_lower(s);
  if (!out.empty()) out[0] = to_upper(out[0]);
  return out;
}

std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right) {
  auto strip_char = [&](size_t at) {
    if (chars == nullptr) return is_ascii_space(s[at]);
    return chars->find(s[at]) != std::string::npos;
  };
  size_t begin = 0;
  size_t end = s.size();
  const bool multibyte = chars != nullptr && std::any_of(chars->begin(), chars->end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0x80) != 0;
  });
  if (multibyte) {
    // Multi-byte characters to strip: compare whole characters.
    const std::vector<size_t> at = char_offsets(s);
    const std::vector<size_t> set_at = char_offsets(*chars);
    auto in_set = [&](size_t i) {
      const std::string_view ch = s.substr(at[i], at[i + 1] - at[i]);
      for (size_t j = 0; j + 1 < set_at.size(); ++j) {
        if (std::string_view(*chars).substr(set_at[j], set_at[j + 1] - set_at[j]) == ch) return true;
      }
      return false;
    };
    size_t first = 0;
    size_t last = at.size() - 1;
    while (left && first < last && in_set(first)) ++first;
    while (right && last > first && in_set(last - 1)) --last;
    return std::string(s.substr(at[first], at[last] - at[first]));
  }
  while (left && begin < end && strip_char(begin)) ++begin;
  while (right && end > begin && strip_char(end - 1)) --end;
  return std::string(s.substr(begin, end - begin));
}

std::string py_replace(std::string_view s, std::string_view from, std::string_view to, int64_t count, Budget& budget) {
  std::string out;
  auto add = [&](std::string_view piece) {
    out += piece;
    budget.check_size(out.size());
  };
  if (from.empty()) {  // Python inserts `to` before every character and at the end
    const std::vector<size_t> at = char_offsets(s);
    for (size_t i = 0; i + 1 < at.size(); ++i) {
      if (count < 0 || static_cast<int64_t>(i) < count) add(to);
      add(s.substr(at[i], at[i + 1] - at[i]));
    }
    if (count < 0 || static_cast<int64_t>(at.size() - 1) < count) add(to);
    budget.step(out.size());
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    add(s.substr(pos, hit - pos));
    add(to);
    pos = hit + from.size();
    ++done;
  }
  add(s.substr(pos));
  budget.step(out.size());
  return out;
}

List py_split(std::string_view s, const std::string* sep, int64_t max_split, Budget& budget) {
  List out;
  budget.step(s.size());
  if (sep != nullptr) {
    if (sep->empty()) fail("split(): empty separator");
    size_t pos = 0;
    while (max_split < 0 || static_cast<int64_t>(out.size()) < max_split) {
      const size_t hit = s.find(*sep, pos);
      if (hit == std::string_view::npos) break;
      out.emplace_back(s.substr(pos, hit - pos));
      pos = hit + sep->size();
    }
    out.emplace_back(s.substr(pos));
    return out;
  }
  size_t pos = 0;
  while (true) {
    while (pos < s.size() && is_ascii_space(s[pos])) ++pos;
    if (pos == s.size()) break;
    if (max_split >= 0 && static_cast<int64_t>(out.size()) == max_split) {
      out.emplace_back(s.substr(pos));  // Python keeps the remainder's trailing whitespace
      break;
    }
    size_t end = pos;
    while (end < s.size() && !is_ascii_space(s[end])) ++end;
    out.emplace_back(s.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

}  // namespace rf::jinja
