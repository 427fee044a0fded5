// GGUF writer: encodes metadata eagerly, lays out aligned tensor data, streams it to a sink.
#include "gguf/writer.h"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

namespace rf::gguf {
namespace {

static_assert(std::endian::native == std::endian::little, "GGUF is written little-endian");

// Bytes of one element of a fixed-size value type; 0 for strings and arrays.
size_t element_size(ValueType t) {
  switch (t) {
    case ValueType::kU8: case ValueType::kI8: case ValueType::kBool: return 1;
    case ValueType::kU16: case ValueType::kI16: return 2;
    case ValueType::kU32: case ValueType::kI32: case ValueType::kF32: return 4;
    case ValueType::kU64: case ValueType::kI64: case ValueType::kF64: return 8;
    case ValueType::kString: case ValueType::kArray: return 0;
  }
  RF_CHECK(false && "unknown ValueType");
  __builtin_unreachable();
}

uint64_t align_up(uint64_t n, uint64_t align) { return (n + align - 1) / align * align; }

}  // namespace

Writer::Writer(uint32_t version) : version_(version) { RF_CHECK(version == 2 || version == 3); }

void Writer::put_bytes(const void* p, size_t n) {
  const size_t at = kv_bytes_.size();
  kv_bytes_.resize(at + n);
  if (n != 0) std::memcpy(kv_bytes_.data() + at, p, n);
}

void Writer::put_string(std::string_view s) {
  put_u64(s.size());
  put_bytes(s.data(), s.size());
}

void Writer::begin_kv(std::string_view key, ValueType type) {
  RF_CHECK(keys_.emplace(key).second && "duplicate metadata key");
  put_string(key);
  put_u32(static_cast<uint32_t>(type));
  ++n_kv_;
}

void Writer::add_scalar(std::string_view key, ValueType type, const void* v, size_t size) {
  RF_CHECK(element_size(type) == size);
  begin_kv(key, type);
  put_bytes(v, size);
  if (key == "general.alignment") {
    uint64_t raw = 0;
    std::memcpy(&raw, v, size);
    const bool is_signed = type == ValueType::kI8 || type == ValueType::kI16 ||
                           type == ValueType::kI32 || type == ValueType::kI64;
    RF_CHECK(type != ValueType::kF32 && type != ValueType::kF64 && type != ValueType::kBool &&
             "general.alignment must be an integer");
    // A negative signed value sign-extends to a huge number and fails the power-of-two check.
    if (is_signed && size < 8 && (raw >> (size * 8 - 1)) != 0) raw = ~uint64_t{0};
    RF_CHECK(raw != 0 && std::has_single_bit(raw) && "general.alignment must be a power of two");
    alignment_ = raw;
  }
}

void Writer::add_u8(std::string_view key, uint8_t v) { add_scalar(key, ValueType::kU8, &v, 1); }
void Writer::add_i8(std::string_view key, int8_t v) { add_scalar(key, ValueType::kI8, &v, 1); }
void Writer::add_u16(std::string_view key, uint16_t v) { add_scalar(key, ValueType::kU16, &v, 2); }
void Writer::add_i16(std::string_view key, int16_t v) { add_scalar(key, ValueType::kI16, &v, 2); }
void Writer::add_u32(std::string_view key, uint32_t v) { add_scalar(key, ValueType::kU32, &v, 4); }
void Writer::add_i32(std::string_view key, int32_t v) { add_scalar(key, ValueType::kI32, &v, 4); }
void Writer::add_u64(std::string_view key, uint64_t v) { add_scalar(key, ValueType::kU64, &v, 8); }
void Writer::add_i64(std::string_view key, int64_t v) { add_scalar(key, ValueType::kI64, &v, 8); }
void Writer::add_f32(std::string_view key, float v) { add_scalar(key, ValueType::kF32, &v, 4); }
void Writer::add_f64(std::string_view key, double v) { add_scalar(key, ValueType::kF64, &v, 8); }

void Writer::add_bool(std::string_view key, bool v) {
  const uint8_t b = v ? 1 : 0;
  add_scalar(key, ValueType::kBool, &b, 1);
}

void Writer::add_string(std::string_view key, std::string_view v) {
  begin_kv(key, ValueType::kString);
  put_string(v);
}

void Writer::add_numeric_array(std::string_view key, ValueType type, const void* data, size_t count,
                               size_t elem_size) {
  RF_CHECK(element_size(type) == elem_size);
  begin_kv(key, ValueType::kArray);
  put_u32(static_cast<uint32_t>(type));
  put_u64(count);
  put_bytes(data, count * elem_size);
}

void Writer::add_array(std::string_view key, std::span<const bool> values) {
  begin_kv(key, ValueType::kArray);
  put_u32(static_cast<uint32_t>(ValueType::kBool));
  put_u64(values.size());
  for (bool b : values) kv_bytes_.push_back(b ? 1 : 0);
}

void Writer::add_array(std::string_view key, std::span<const std::string> values) {
  begin_kv(key, ValueType::kArray);
  put_u32(static_cast<uint32_t>(ValueType::kString));
  put_u64(values.size());
  for (const std::string& s : values) put_string(s);
}

void Writer::add_array(std::string_view key, std::span<const std::string_view> values) {
  begin_kv(key, ValueType::kArray);
  put_u32(static_cast<uint32_t>(ValueType::kString));
  put_u64(values.size());
  for (std::string_view s : values) put_string(s);
}

void Writer::add_array(std::string_view key, const Array& array) {
  begin_kv(key, ValueType::kArray);
  put_array_body(array);
}

void Writer::put_array_body(const Array& array) {
  put_u32(static_cast<uint32_t>(array.type));
  put_u64(array.count);
  if (array.type == ValueType::kString) {
    RF_CHECK(array.strings.size() == array.count);
    for (std::string_view s : array.strings) put_string(s);
  } else if (array.type == ValueType::kArray) {
    RF_CHECK(array.arrays.size() == array.count);
    for (const Array& a : array.arrays) put_array_body(a);
  } else {
    RF_CHECK(array.count == 0 || array.data != nullptr);
    put_bytes(array.data, array.count * element_size(array.type));
  }
}

void Writer::add_value(std::string_view key, const Value& value) {
  switch (value.type) {
    case ValueType::kU8: return add_u8(key, static_cast<uint8_t>(value.u));
    case ValueType::kI8: return add_i8(key, static_cast<int8_t>(value.i));
    case ValueType::kU16: return add_u16(key, static_cast<uint16_t>(value.u));
    case ValueType::kI16: return add_i16(key, static_cast<int16_t>(value.i));
    case ValueType::kU32: return add_u32(key, static_cast<uint32_t>(value.u));
    case ValueType::kI32: return add_i32(key, static_cast<int32_t>(value.i));
    case ValueType::kU64: return add_u64(key, value.u);
    case ValueType::kI64: return add_i64(key, value.i);
    case ValueType::kF32: return add_f32(key, static_cast<float>(value.f));
    case ValueType::kF64: return add_f64(key, value.f);
    case ValueType::kBool: return add_bool(key, value.u != 0);
    case ValueType::kString: return add_string(key, value.str);
    case ValueType::kArray: return add_array(key, value.arr);
  }
  RF_CHECK(false && "unknown ValueType");
}

Writer::PendingTensor& Writer::add_tensor_info(std::string_view name, DType type,
                                               std::span<const int64_t> ne) {
  RF_CHECK(tensor_names_.emplace(name).second && "duplicate tensor name");
  RF_CHECK(!ne.empty() && ne.size() <= static_cast<size_t>(kMaxDims));
  const DTypeInfo& info = dtype_info(type);
  uint64_t n_elements = 1;
  for (int64_t d : ne) {
    RF_CHECK(d >= 0);
    RF_CHECK(d == 0 || n_elements <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) /
                                          static_cast<uint64_t>(d));
    n_elements *= static_cast<uint64_t>(d);
  }
  RF_CHECK(ne[0] % info.block_size == 0 && "row is not a whole number of blocks");
  PendingTensor& t = tensors_.emplace_back();
  t.name = std::string(name);
  t.type = type;
  t.ne.assign(ne.begin(), ne.end());
  t.n_bytes = n_elements / info.block_size * info.block_bytes;
  return t;
}

void Writer::add_tensor(std::string_view name, DType type, std::span<const int64_t> ne,
                        std::span<const uint8_t> bytes) {
  PendingTensor& t = add_tensor_info(name, type, ne);
  RF_CHECK(bytes.size() == t.n_bytes && "tensor byte count does not match its type and shape");
  t.bytes.assign(bytes.begin(), bytes.end());
}

void Writer::add_tensor(std::string_view name, DType type, std::span<const int64_t> ne,
                        TensorFill fill) {
  RF_CHECK(fill != nullptr);
  add_tensor_info(name, type, ne).fill = std::move(fill);
}

// Header, metadata and tensor table, padded so the data section starts aligned.
std::vector<uint8_t> Writer::header_and_tables() const {
  std::vector<uint8_t> out;
  auto put = [&out](const void* p, size_t n) {
    const size_t at = out.size();
    out.resize(at + n);
    if (n != 0) std::memcpy(out.data() + at, p, n);
  };
  auto put_u32 = [&put](uint32_t v) { put(&v, 4); };
  auto put_u64 = [&put](uint64_t v) { put(&v, 8); };
  put_u32(kMagic);
  put_u32(version_);
  put_u64(tensors_.size());
  put_u64(n_kv_);
  put(kv_bytes_.data(), kv_bytes_.size());
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    put_u64(t.name.size());
    put(t.name.data(), t.name.size());
    put_u32(static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) put_u64(static_cast<uint64_t>(d));
    put_u32(static_cast<uint32_t>(t.type));
    put_u64(offset);
    offset += align_up(t.n_bytes, alignment_);
  }
  out.resize(align_up(out.size(), alignment_), 0);
  return out;
}

Status Writer::serialize(const Sink& sink) const {
  RF_RETURN_IF_ERROR(sink(header_and_tables()));
  const std::vector<uint8_t> zeros(alignment_, 0);
  std::vector<uint8_t> scratch;  // holds one filled tensor at a time
  for (const PendingTensor& t : tensors_) {
    std::span<const uint8_t> data = t.bytes;
    if (t.fill) {
      scratch.assign(t.n_bytes, 0);
      t.fill(scratch);
      data = scratch;
    }
    RF_RETURN_IF_ERROR(sink(data));
    const uint64_t pad = align_up(t.n_bytes, alignment_) - t.n_bytes;
    RF_RETURN_IF_ERROR(sink(std::span<const uint8_t>(zeros.data(), pad)));
  }
  return {};
}

std::vector<uint8_t> Writer::to_bytes() const {
  std::vector<uint8_t> out;
  const Status st = serialize([&out](std::span<const uint8_t> b) -> Status {
    out.insert(out.end(), b.begin(), b.end());
    return {};
  });
  RF_CHECK(st.ok());
  return out;
}

Status Writer::write(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return make_error("cannot create '%s': %s", tmp.c_str(), std::strerror(errno));
  Status st = serialize([&](std::span<const uint8_t> b) -> Status {
    if (!b.empty() && std::fwrite(b.data(), 1, b.size(), f) != b.size()) {
      return make_error("cannot write '%s': %s", tmp.c_str(), std::strerror(errno));
    }
    return {};
  });
  if (std::fclose(f) != 0 && st.ok()) {
    st = make_error("cannot finish writing '%s': %s", tmp.c_str(), std::strerror(errno));
  }
  if (st.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    st = make_error("cannot rename '%s' to '%s': %s", tmp.c_str(), path.c_str(), std::strerror(errno));
  }
  if (!st.ok()) std::remove(tmp.c_str());
  return st;
}

}  // namespace rf::gguf
