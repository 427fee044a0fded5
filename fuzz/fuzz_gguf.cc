// libFuzzer entry for the GGUF reader: parse, touch every value and tensor byte, and check that
// whatever parses survives a Writer round trip unchanged.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>

#include "gguf/gguf.h"
#include "gguf/writer.h"

namespace {

using rf::gguf::Array;
using rf::gguf::File;
using rf::gguf::ValueType;

// Reads everything an Array exposes so the sanitizers see each access.
uint64_t touch(const Array& a) {
  uint64_t h = a.count;
  if (a.type == ValueType::kString) {
    RF_CHECK(a.strings.size() == a.count);
    for (std::string_view s : a.strings) {
      for (char c : s) h = h * 31 + static_cast<uint8_t>(c);
    }
  } else if (a.type == ValueType::kArray) {
    RF_CHECK(a.arrays.size() == a.count);
    for (const Array& inner : a.arrays) h += touch(inner);
  } else {
    RF_CHECK(a.is_numeric());
    for (uint64_t i = 0; i < a.count; ++i) {
      h += static_cast<uint64_t>(a.int_at(i)) + static_cast<uint64_t>(a.float_at(i) != 0.0);
    }
  }
  return h;
}

// Bitwise equal, or both NaN: a scalar f32 is re-encoded through double, which quiets a
// signalling NaN (arrays are copied byte for byte).
bool same_float(double x, double y) {
  return std::memcmp(&x, &y, sizeof x) == 0 || (std::isnan(x) && std::isnan(y));
}

bool same_array(const Array& a, const Array& b) {
  if (a.type != b.type || a.count != b.count) return false;
  if (a.type == ValueType::kString) return a.strings == b.strings;
  if (a.type == ValueType::kArray) {
    for (uint64_t i = 0; i < a.count; ++i) {
      if (!same_array(a.arrays[i], b.arrays[i])) return false;
    }
    return true;
  }
  if (a.type == ValueType::kBool) {  // bools are normalised to 0/1 when rewritten
    for (uint64_t i = 0; i < a.count; ++i) {
      if ((a.data[i] != 0) != (b.data[i] != 0)) return false;
    }
    return true;
  }
  for (uint64_t i = 0; i < a.count; ++i) {
    if (a.int_at(i) != b.int_at(i)) return false;
    if (!same_float(a.float_at(i), b.float_at(i))) return false;
  }
  return true;
}

// Rewrites a parsed file and checks the copy parses to the same metadata and tensors.
void check_round_trip(const File& f) {
  rf::gguf::Writer w(f.version());
  for (const auto& kv : f.metadata()) w.add_value(kv.key, kv.value);
  for (const auto& t : f.tensors()) {
    w.add_tensor(t.name, t.type, std::span<const int64_t>(t.ne, static_cast<size_t>(t.n_dims)),
                 std::span<const uint8_t>(t.data, t.n_bytes));
  }
  const std::vector<uint8_t> bytes = w.to_bytes();
  auto g = File::parse(bytes);
  RF_CHECK(g.ok());
  RF_CHECK(g->alignment() == f.alignment());
  RF_CHECK(g->metadata().size() == f.metadata().size());
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    const auto& a = f.metadata()[i];
    const auto& b = g->metadata()[i];
    RF_CHECK(a.key == b.key && a.value.type == b.value.type);
    RF_CHECK(a.value.type == ValueType::kBool ? (a.value.u != 0) == (b.value.u != 0) : a.value.u == b.value.u);
    RF_CHECK(a.value.i == b.value.i && a.value.str == b.value.str);
    RF_CHECK(same_float(a.value.f, b.value.f));
    RF_CHECK(same_array(a.value.arr, b.value.arr));
  }
  RF_CHECK(g->tensors().size() == f.tensors().size());
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const auto& a = f.tensors()[i];
    const auto& b = g->tensors()[i];
    RF_CHECK(a.name == b.name && a.type == b.type && a.n_dims == b.n_dims && a.n_bytes == b.n_bytes);
    RF_CHECK(std::memcmp(a.ne, b.ne, sizeof a.ne) == 0);
    RF_CHECK(a.n_bytes == 0 || std::memcmp(a.data, b.data, a.n_bytes) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = File::parse({data, size});
  if (!f.ok()) {
    RF_CHECK(!f.error().message.empty());
    return 0;
  }
  volatile uint64_t sink = 0;
  for (const auto& kv : f->metadata()) {
    uint64_t h = kv.key.size() + kv.value.u + static_cast<uint64_t>(kv.value.i);
    for (char c : kv.value.str) h += static_cast<uint8_t>(c);
    h += touch(kv.value.arr);
    sink = sink + h;
  }
  // The typed lookups scan linearly, so only the first keys and tensors go through them.
  for (size_t k = 0; k < f->metadata().size() && k < 64; ++k) {
    const auto& kv = f->metadata()[k];
    RF_CHECK(f->find(kv.key) == &kv.value);  // keys are unique
    sink = sink + f->get_string(kv.key).has_value() + f->get_int(kv.key).has_value() +
           f->get_float(kv.key).has_value() + f->get_bool(kv.key).has_value() + (f->get_array(kv.key) != nullptr);
  }
  for (size_t k = 0; k < f->tensors().size() && k < 64; ++k) {
    RF_CHECK(f->find_tensor(f->tensors()[k].name) == &f->tensors()[k]);  // names are unique
  }
  for (const auto& t : f->tensors()) {
    RF_CHECK(t.n_bytes == 0 || (t.data >= data && t.data + t.n_bytes <= data + size));
    uint64_t h = 0;
    for (uint64_t i = 0; i < t.n_bytes; ++i) h += t.data[i];
    sink = sink + h;
  }
  check_round_trip(*f);
  return 0;
}
