// Tensor element types (ggml's numbering, as stored in GGUF) and their block geometry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rf {

// Values are GGUF/ggml type ids; they are part of the file format and never change.
enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kBF16 = 30,
};

struct DTypeInfo {
  DType type;
  std::string_view name;   // ggml's spelling: "f32", "q4_K", ...
  uint32_t block_size;     // elements per block (1 for plain types)
  uint32_t block_bytes;    // bytes per block
  bool can_dequantize;     // a reference dequantizer exists (tensors of this type can be used as weights)
};

// Geometry of a type id read from a file; nullopt for ids we do not know (reject the file).
std::optional<DTypeInfo> dtype_info(uint32_t type_id);
const DTypeInfo& dtype_info(DType type);
std::string_view dtype_name(DType type);

// Bytes of one row of `n` elements; nullopt when n is not a whole number of blocks.
std::optional<uint64_t> row_bytes(DType type, uint64_t n);

}  // namespace rf
