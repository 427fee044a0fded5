// GGUF writer: builds a v3 (or v2) file from metadata and tensors, in memory or streamed to disk.
//
// Metadata is encoded as it is added; tensor data is either copied in (small tensors, tests) or
// produced by a callback at write time, so write() holds one such tensor in memory at a time and a
// multi-gigabyte model is never held twice. Misuse (a duplicate key, a shape that is not whole
// blocks, a wrong byte count) is a caller bug and stops at an RF_CHECK.
#pragma once

#include <cstdint>
#include <functional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "base/result.h"
#include "gguf/gguf.h"
#include "quant/types.h"

namespace rf::gguf {

// Fills `out` (exactly the tensor's byte size) with the tensor's data. Called once per
// serialization (to_bytes() or write()), in tensor order.
using TensorFill = std::function<void(std::span<uint8_t> out)>;

class Writer {
 public:
  explicit Writer(uint32_t version = 3);

  // Scalars. Adding "general.alignment" (any unsigned or signed integer, a power of two) also
  // sets the alignment of the tensor data.
  void add_u8(std::string_view key, uint8_t v);
  void add_i8(std::string_view key, int8_t v);
  void add_u16(std::string_view key, uint16_t v);
  void add_i16(std::string_view key, int16_t v);
  void add_u32(std::string_view key, uint32_t v);
  void add_i32(std::string_view key, int32_t v);
  void add_u64(std::string_view key, uint64_t v);
  void add_i64(std::string_view key, int64_t v);
  void add_f32(std::string_view key, float v);
  void add_f64(std::string_view key, double v);
  void add_bool(std::string_view key, bool v);
  void add_string(std::string_view key, std::string_view v);

  // Arrays of numbers: any contiguous range of uint8_t ... int64_t, float or double (a vector,
  // a span, a std::array); bools and strings have their own overloads.
  template <std::ranges::contiguous_range R>
    requires std::is_arithmetic_v<std::ranges::range_value_t<R>> &&
             (!std::is_same_v<std::ranges::range_value_t<R>, bool>)
  void add_array(std::string_view key, const R& values) {
    using T = std::ranges::range_value_t<R>;
    add_numeric_array(key, value_type_of<T>(), std::ranges::data(values), std::ranges::size(values),
                      sizeof(T));
  }
  void add_array(std::string_view key, std::span<const bool> values);
  void add_array(std::string_view key, std::span<const std::string> values);
  void add_array(std::string_view key, std::span<const std::string_view> values);
  // Any array, nested ones included: one read from a File, or one assembled by hand (Array is a
  // plain view: point `data` at little-endian elements, fill `strings` or `arrays`).
  void add_array(std::string_view key, const Array& array);
  // Any metadata value read from a File (copies key/value pairs between files). Bit-exact except
  // that a scalar f32 signalling NaN comes back quiet (it passes through Value's double).
  void add_value(std::string_view key, const Value& value);

  // A tensor of `type` with shape `ne` (ne[0] innermost, 1 to 4 dims). The bytes are copied.
  void add_tensor(std::string_view name, DType type, std::span<const int64_t> ne,
                  std::span<const uint8_t> bytes);
  // A tensor whose bytes `fill` produces when the file is serialized.
  void add_tensor(std::string_view name, DType type, std::span<const int64_t> ne, TensorFill fill);

  uint64_t alignment() const { return alignment_; }
  size_t n_tensors() const { return tensors_.size(); }

  // The whole file.
  std::vector<uint8_t> to_bytes() const;
  // Streams the file to `path` (through a temporary beside it, renamed on success).
  Status write(const std::string& path) const;

 private:
  struct PendingTensor {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    uint64_t n_bytes = 0;
    std::vector<uint8_t> bytes;     // copied data, or empty when `fill` is set
    TensorFill fill;
  };
  using Sink = std::function<Status(std::span<const uint8_t>)>;

  template <class T>
  static constexpr ValueType value_type_of() {
    if constexpr (std::is_same_v<T, uint8_t>) return ValueType::kU8;
    else if constexpr (std::is_same_v<T, int8_t>) return ValueType::kI8;
    else if constexpr (std::is_same_v<T, uint16_t>) return ValueType::kU16;
    else if constexpr (std::is_same_v<T, int16_t>) return ValueType::kI16;
    else if constexpr (std::is_same_v<T, uint32_t>) return ValueType::kU32;
    else if constexpr (std::is_same_v<T, int32_t>) return ValueType::kI32;
    else if constexpr (std::is_same_v<T, uint64_t>) return ValueType::kU64;
    else if constexpr (std::is_same_v<T, int64_t>) return ValueType::kI64;
    else if constexpr (std::is_same_v<T, float>) return ValueType::kF32;
    else if constexpr (std::is_same_v<T, double>) return ValueType::kF64;
    else static_assert(sizeof(T) == 0, "no GGUF value type for this element type");
  }

  void begin_kv(std::string_view key, ValueType type);
  void add_scalar(std::string_view key, ValueType type, const void* v, size_t size);
  void add_numeric_array(std::string_view key, ValueType type, const void* data, size_t count,
                         size_t elem_size);
  void put_array_body(const Array& array);
  void put_bytes(const void* p, size_t n);
  void put_u32(uint32_t v) { put_bytes(&v, 4); }
  void put_u64(uint64_t v) { put_bytes(&v, 8); }
  void put_string(std::string_view s);
  PendingTensor& add_tensor_info(std::string_view name, DType type, std::span<const int64_t> ne);

  std::vector<uint8_t> header_and_tables() const;
  Status serialize(const Sink& sink) const;

  uint32_t version_;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t n_kv_ = 0;
  std::vector<uint8_t> kv_bytes_;        // encoded key/value pairs, in order
  std::unordered_set<std::string> keys_;
  std::vector<PendingTensor> tensors_;
  std::unordered_set<std::string> tensor_names_;
};

}  // namespace rf::gguf
