// GGUF reader: a bounds-checked, zero-copy view of a GGUF v2/v3 file (mmap'd or in memory).
//
// Every count, length, offset and shape is checked against the bytes actually present before it
// is used, so a truncated or hostile file yields an Error naming the problem, never a crash.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "quant/types.h"

namespace rf::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;

enum class ValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};
std::string_view value_type_name(ValueType t);

// An array value. Numeric elements stay in the file (little-endian, possibly unaligned) and are
// read through the accessors; strings are views into the file; nested arrays are parsed.
struct Array {
  ValueType type = ValueType::kU8;
  uint64_t count = 0;
  const uint8_t* data = nullptr;           // numeric/bool elements
  std::vector<std::string_view> strings;   // type == kString
  std::vector<Array> arrays;               // type == kArray

  // Element i of a numeric array converted to the requested kind (any integer or float type).
  int64_t int_at(uint64_t i) const;
  double float_at(uint64_t i) const;
  bool is_numeric() const;
};

struct Value {
  ValueType type = ValueType::kU8;
  uint64_t u = 0;      // unsigned integers and bool
  int64_t i = 0;       // signed integers (also set for unsigned ones that fit)
  double f = 0.0;      // floats (also set for all integers)
  std::string_view str;
  Array arr;
};

struct KeyValue {
  std::string_view key;
  Value value;
};

struct TensorInfo {
  std::string_view name;
  int n_dims = 0;
  int64_t ne[kMaxDims] = {1, 1, 1, 1};  // ne[0] is the contiguous (innermost) dimension
  DType type = DType::kF32;
  uint64_t offset = 0;                  // from the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;        // points into the file
};

class File {
 public:
  // Maps the file read-only and parses it. The File owns the mapping.
  static Result<File> open(const std::string& path);
  // Parses bytes the caller keeps alive (tests, fuzzing).
  static Result<File> parse(std::span<const uint8_t> bytes);

  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  ~File();

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  std::span<const uint8_t> bytes() const { return bytes_; }
  uint64_t data_offset() const { return data_offset_; }

  const std::vector<KeyValue>& metadata() const { return kv_; }
  const Value* find(std::string_view key) const;
  // Typed lookups: nullopt when absent or of an incompatible type.
  std::optional<std::string_view> get_string(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;     // any integer type
  std::optional<double> get_float(std::string_view key) const;    // any integer or float type
  std::optional<bool> get_bool(std::string_view key) const;
  const Array* get_array(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;

 private:
  File() = default;
  struct Mapping;
  std::unique_ptr<Mapping> mapping_;
  std::span<const uint8_t> bytes_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<KeyValue> kv_;
  std::vector<TensorInfo> tensors_;

  friend class Parser;
};

}  // namespace rf::gguf
