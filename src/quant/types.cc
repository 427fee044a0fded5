// The table of element types: block sizes and bytes exactly as ggml lays them out.
#include "quant/types.h"

#include <array>

#include "base/check.h"
#include "quant/blocks.h"

namespace rf {
namespace {

constexpr std::array kTypes = {
    DTypeInfo{DType::kF32, "f32", 1, 4, true},
    DTypeInfo{DType::kF16, "f16", 1, 2, true},
    DTypeInfo{DType::kQ4_0, "q4_0", 32, 18, true},
    DTypeInfo{DType::kQ4_1, "q4_1", 32, 20, true},
    DTypeInfo{DType::kQ5_0, "q5_0", 32, 22, true},
    DTypeInfo{DType::kQ5_1, "q5_1", 32, 24, true},
    DTypeInfo{DType::kQ8_0, "q8_0", 32, 34, true},
    DTypeInfo{DType::kQ8_1, "q8_1", 32, 36, false},
    DTypeInfo{DType::kQ2_K, "q2_K", 256, 84, false},
    DTypeInfo{DType::kQ3_K, "q3_K", 256, 110, false},
    DTypeInfo{DType::kQ4_K, "q4_K", 256, 144, true},
    DTypeInfo{DType::kQ5_K, "q5_K", 256, 176, true},
    DTypeInfo{DType::kQ6_K, "q6_K", 256, 210, true},
    DTypeInfo{DType::kQ8_K, "q8_K", 256, 292, true},
    DTypeInfo{DType::kI8, "i8", 1, 1, false},
    DTypeInfo{DType::kI16, "i16", 1, 2, false},
    DTypeInfo{DType::kI32, "i32", 1, 4, false},
    DTypeInfo{DType::kI64, "i64", 1, 8, false},
    DTypeInfo{DType::kF64, "f64", 1, 8, false},
    DTypeInfo{DType::kBF16, "bf16", 1, 2, true},
};

// The table and the block structs must agree: a mismatch would misread every tensor of that type.
constexpr bool table_matches(DType type, uint32_t block_size, uint32_t block_bytes) {
  for (const DTypeInfo& t : kTypes) {
    if (t.type == type) return t.block_size == block_size && t.block_bytes == block_bytes;
  }
  return false;
}
static_assert(table_matches(DType::kQ4_0, kBlockSize, sizeof(BlockQ4_0)));
static_assert(table_matches(DType::kQ4_1, kBlockSize, sizeof(BlockQ4_1)));
static_assert(table_matches(DType::kQ5_0, kBlockSize, sizeof(BlockQ5_0)));
static_assert(table_matches(DType::kQ5_1, kBlockSize, sizeof(BlockQ5_1)));
static_assert(table_matches(DType::kQ8_0, kBlockSize, sizeof(BlockQ8_0)));
static_assert(table_matches(DType::kQ4_K, kSuperBlockSize, sizeof(BlockQ4_K)));
static_assert(table_matches(DType::kQ5_K, kSuperBlockSize, sizeof(BlockQ5_K)));
static_assert(table_matches(DType::kQ6_K, kSuperBlockSize, sizeof(BlockQ6_K)));
static_assert(table_matches(DType::kQ8_K, kSuperBlockSize, sizeof(BlockQ8_K)));

}  // namespace

std::optional<DTypeInfo> dtype_info(uint32_t type_id) {
  for (const DTypeInfo& t : kTypes) {
    if (static_cast<uint32_t>(t.type) == type_id) return t;
  }
  return std::nullopt;
}

const DTypeInfo& dtype_info(DType type) {
  for (const DTypeInfo& t : kTypes) {
    if (t.type == type) return t;
  }
  RF_CHECK(false && "DType missing from kTypes");
  __builtin_unreachable();
}

std::string_view dtype_name(DType type) { return dtype_info(type).name; }

std::optional<uint64_t> row_bytes(DType type, uint64_t n) {
  const DTypeInfo& t = dtype_info(type);
  if (n % t.block_size != 0) return std::nullopt;
  return n / t.block_size * t.block_bytes;
}

}  // namespace rf
