// GGUF parsing: a cursor over untrusted bytes; every read is checked against what remains.
#include "gguf/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <limits>
#include <unordered_set>

namespace rf::gguf {

// An mmap'd region, unmapped on destruction.
struct File::Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr != nullptr) munmap(addr, size);
  }
};

namespace {

constexpr int kMaxArrayDepth = 8;          // nested arrays deeper than this are hostile, not useful
constexpr uint64_t kMaxKeyLength = 65536;  // keys are short dotted names
constexpr uint64_t kMaxDimension = uint64_t{1} << 40;
// Counts from the file are only bounded by its size; reserving more than this up front could
// ask for several times the file's size in memory before a single entry is read.
constexpr uint64_t kMaxReserve = 4096;

// Size of one element of a fixed-size value type; 0 for strings and arrays.
uint64_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::kU8: case ValueType::kI8: case ValueType::kBool: return 1;
    case ValueType::kU16: case ValueType::kI16: return 2;
    case ValueType::kU32: case ValueType::kI32: case ValueType::kF32: return 4;
    case ValueType::kU64: case ValueType::kI64: case ValueType::kF64: return 8;
    case ValueType::kString: case ValueType::kArray: return 0;
  }
  return 0;
}

bool known_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::kF64); }

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Widens the fixed-size scalar at p into all of Value's numeric fields.
void decode_scalar(ValueType t, const uint8_t* p, Value& v) {
  switch (t) {
    case ValueType::kU8: v.u = load<uint8_t>(p); break;
    case ValueType::kU16: v.u = load<uint16_t>(p); break;
    case ValueType::kU32: v.u = load<uint32_t>(p); break;
    case ValueType::kU64: v.u = load<uint64_t>(p); break;
    case ValueType::kBool: v.u = load<uint8_t>(p) != 0; break;
    case ValueType::kI8: v.i = load<int8_t>(p); break;
    case ValueType::kI16: v.i = load<int16_t>(p); break;
    case ValueType::kI32: v.i = load<int32_t>(p); break;
    case ValueType::kI64: v.i = load<int64_t>(p); break;
    case ValueType::kF32: v.f = load<float>(p); return;
    case ValueType::kF64: v.f = load<double>(p); return;
    default: return;
  }
  const bool is_signed = t == ValueType::kI8 || t == ValueType::kI16 || t == ValueType::kI32 ||
                         t == ValueType::kI64;
  if (is_signed) {
    v.u = v.i >= 0 ? static_cast<uint64_t>(v.i) : 0;
    v.f = static_cast<double>(v.i);
  } else {
    v.i = v.u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? static_cast<int64_t>(v.u) : 0;
    v.f = static_cast<double>(v.u);
  }
}

bool is_integer_type(ValueType t) {
  return t != ValueType::kF32 && t != ValueType::kF64 && t != ValueType::kBool &&
         t != ValueType::kString && t != ValueType::kArray;
}

}  // namespace

std::string_view value_type_name(ValueType t) {
  static constexpr std::string_view kNames[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                                "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(t);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

bool Array::is_numeric() const { return scalar_size(type) != 0; }

int64_t Array::int_at(uint64_t i) const {
  RF_CHECK(is_numeric() && i < count);
  Value v;
  decode_scalar(type, data + i * scalar_size(type), v);
  if (type != ValueType::kF32 && type != ValueType::kF64) return v.i;
  // Float elements truncate toward zero, saturating (a cast out of range is undefined); NaN is 0.
  constexpr double kTwo63 = 9223372036854775808.0;
  if (std::isnan(v.f)) return 0;
  if (v.f >= kTwo63) return std::numeric_limits<int64_t>::max();
  if (v.f < -kTwo63) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v.f);
}

double Array::float_at(uint64_t i) const {
  RF_CHECK(is_numeric() && i < count);
  Value v;
  decode_scalar(type, data + i * scalar_size(type), v);
  return v.f;
}

// Reads the header, metadata and tensor table of one file into a File.
class Parser {
 public:
  Parser(std::span<const uint8_t> bytes, File& out) : bytes_(bytes), out_(out) {}

  Status parse() {
    uint32_t magic = 0;
    if (!read(magic)) return make_error("file is %zu bytes, too short for a GGUF header", bytes_.size());
    if (magic != kMagic) {
      return make_error("bad magic 0x%08x: not a GGUF file (expected \"GGUF\")", magic);
    }
    uint32_t version = 0;
    if (!read(version)) return truncated("version");
    if (version != 2 && version != 3) {
      return make_error("unsupported GGUF version %u (supported: 2 and 3)", version);
    }
    out_.version_ = version;

    uint64_t n_tensors = 0;
    uint64_t n_kv = 0;
    if (!read(n_tensors)) return truncated("tensor count");
    if (!read(n_kv)) return truncated("metadata count");
    // Each key/value needs at least 12 bytes (key length + type), each tensor at least 24.
    if (n_kv > remaining() / 12) {
      return make_error("metadata count %llu is beyond what the %zu-byte file can hold",
                        static_cast<unsigned long long>(n_kv), bytes_.size());
    }
    if (n_tensors > remaining() / 24) {
      return make_error("tensor count %llu is beyond what the %zu-byte file can hold",
                        static_cast<unsigned long long>(n_tensors), bytes_.size());
    }

    RF_RETURN_IF_ERROR(parse_metadata(n_kv));
    RF_RETURN_IF_ERROR(read_alignment());
    RF_RETURN_IF_ERROR(parse_tensor_infos(n_tensors));
    return place_tensor_data();
  }

 private:
  size_t remaining() const { return bytes_.size() - pos_; }

  template <class T>
  bool read(T& v) {
    if (remaining() < sizeof(T)) return false;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }

  Error truncated(const char* what) const {
    return make_error("truncated file: %s at byte %zu is past the end of the %zu-byte file", what,
                      pos_, bytes_.size());
  }

  Status read_string(std::string_view& s, const char* what, uint64_t max_len) {
    uint64_t len = 0;
    if (!read(len)) return truncated(what);
    if (len > remaining()) {
      return make_error("%s at byte %zu has length %llu, beyond the end of the %zu-byte file", what,
                        pos_ - 8, static_cast<unsigned long long>(len), bytes_.size());
    }
    if (len > max_len) {
      return make_error("%s at byte %zu has length %llu (limit %llu)", what, pos_ - 8,
                        static_cast<unsigned long long>(len), static_cast<unsigned long long>(max_len));
    }
    s = std::string_view(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return {};
  }

  Status read_value_type(ValueType& t, std::string_view key) {
    uint32_t raw = 0;
    if (!read(raw)) return truncated("value type");
    if (!known_value_type(raw)) {
      return make_error("metadata '%.*s' has unknown value type %u", static_cast<int>(key.size()),
                        key.data(), raw);
    }
    t = static_cast<ValueType>(raw);
    return {};
  }

  Status read_array(Array& arr, std::string_view key, int depth) {
    if (depth > kMaxArrayDepth) {
      return make_error("metadata '%.*s' nests arrays deeper than %d", static_cast<int>(key.size()),
                        key.data(), kMaxArrayDepth);
    }
    RF_RETURN_IF_ERROR(read_value_type(arr.type, key));
    if (!read(arr.count)) return truncated("array length");
    const uint64_t elem = scalar_size(arr.type);
    // Strings and arrays take at least 8 bytes each, so counts beyond that are impossible.
    const uint64_t min_elem = elem != 0 ? elem : (arr.type == ValueType::kString ? 8 : 12);
    if (arr.count > remaining() / min_elem) {
      return make_error("metadata '%.*s': array of %llu %.*s elements is beyond the end of the file",
                        static_cast<int>(key.size()), key.data(),
                        static_cast<unsigned long long>(arr.count),
                        static_cast<int>(value_type_name(arr.type).size()),
                        value_type_name(arr.type).data());
    }
    if (elem != 0) {
      arr.data = bytes_.data() + pos_;
      pos_ += arr.count * elem;
    } else if (arr.type == ValueType::kString) {
      // Reserved, not resized: untouched capacity costs no memory if the file turns out short.
      arr.strings.reserve(arr.count);
      for (uint64_t k = 0; k < arr.count; ++k) {
        RF_RETURN_IF_ERROR(read_string(arr.strings.emplace_back(), "array string", remaining()));
      }
    } else {
      // Grown as elements parse: sizing each level by its claimed count would let nested claims
      // multiply (8 levels of "count = file size / 12" took 3 GB for a 64 MB file).
      for (uint64_t k = 0; k < arr.count; ++k) {
        RF_RETURN_IF_ERROR(read_array(arr.arrays.emplace_back(), key, depth + 1));
      }
    }
    return {};
  }

  Status parse_metadata(uint64_t n_kv) {
    std::unordered_set<std::string_view> seen;
    out_.kv_.reserve(std::min<uint64_t>(n_kv, kMaxReserve));
    for (uint64_t k = 0; k < n_kv; ++k) {
      KeyValue kv;
      RF_RETURN_IF_ERROR(read_string(kv.key, "metadata key", kMaxKeyLength));
      if (!seen.insert(kv.key).second) {
        return make_error("duplicate metadata key '%.*s'", static_cast<int>(kv.key.size()), kv.key.data());
      }
      Value& v = kv.value;
      RF_RETURN_IF_ERROR(read_value_type(v.type, kv.key));
      if (v.type == ValueType::kString) {
        RF_RETURN_IF_ERROR(read_string(v.str, "metadata string", remaining()));
      } else if (v.type == ValueType::kArray) {
        RF_RETURN_IF_ERROR(read_array(v.arr, kv.key, 1));
      } else {
        const uint64_t size = scalar_size(v.type);
        if (remaining() < size) return truncated("metadata value");
        decode_scalar(v.type, bytes_.data() + pos_, v);
        pos_ += size;
      }
      out_.kv_.push_back(std::move(kv));
    }
    return {};
  }

  Status read_alignment() {
    const Value* v = out_.find("general.alignment");
    if (v == nullptr) return {};
    if (!is_integer_type(v->type)) {
      return make_error("general.alignment must be an integer power of two, found a %.*s",
                        static_cast<int>(value_type_name(v->type).size()), value_type_name(v->type).data());
    }
    if (v->i < 0) {  // v->u is 0 for negative signed values, so report the signed one
      return make_error("general.alignment must be a power of two up to 1 MiB, found %lld",
                        static_cast<long long>(v->i));
    }
    if (v->u == 0 || (v->u & (v->u - 1)) != 0 || v->u > (1u << 20)) {
      return make_error("general.alignment must be a power of two up to 1 MiB, found %llu",
                        static_cast<unsigned long long>(v->u));
    }
    out_.alignment_ = v->u;
    return {};
  }

  Status parse_tensor_infos(uint64_t n_tensors) {
    std::unordered_set<std::string_view> seen;
    out_.tensors_.reserve(std::min<uint64_t>(n_tensors, kMaxReserve));
    for (uint64_t t = 0; t < n_tensors; ++t) {
      TensorInfo ti;
      RF_RETURN_IF_ERROR(read_string(ti.name, "tensor name", kMaxKeyLength));
      const auto name_len = static_cast<int>(ti.name.size());
      if (!seen.insert(ti.name).second) {
        return make_error("duplicate tensor name '%.*s'", name_len, ti.name.data());
      }
      uint32_t n_dims = 0;
      if (!read(n_dims)) return truncated("tensor dimension count");
      if (n_dims == 0 || n_dims > kMaxDims) {
        return make_error("tensor '%.*s' has %u dimensions (expected 1 to %d)", name_len,
                          ti.name.data(), n_dims, kMaxDims);
      }
      ti.n_dims = static_cast<int>(n_dims);
      uint64_t n_elements = 1;
      for (uint32_t d = 0; d < n_dims; ++d) {
        uint64_t ne = 0;
        if (!read(ne)) return truncated("tensor shape");
        if (ne > kMaxDimension) {
          return make_error("tensor '%.*s' dimension %u is %llu, beyond any real model", name_len,
                            ti.name.data(), d, static_cast<unsigned long long>(ne));
        }
        if (ne != 0 && n_elements > std::numeric_limits<int64_t>::max() / ne) {
          return make_error("tensor '%.*s' shape overflows 64-bit element counts", name_len, ti.name.data());
        }
        n_elements *= ne;
        ti.ne[d] = static_cast<int64_t>(ne);
      }
      ti.n_elements = n_elements;
      uint32_t type_id = 0;
      if (!read(type_id)) return truncated("tensor type");
      const auto info = dtype_info(type_id);
      if (!info) {
        return make_error("tensor '%.*s' has unknown type id %u", name_len, ti.name.data(), type_id);
      }
      ti.type = info->type;
      if (ti.ne[0] % info->block_size != 0) {
        return make_error("tensor '%.*s': row of %lld elements is not a whole number of %.*s blocks of %u",
                          name_len, ti.name.data(), static_cast<long long>(ti.ne[0]),
                          static_cast<int>(info->name.size()), info->name.data(), info->block_size);
      }
      const uint64_t n_blocks = n_elements / info->block_size;
      if (n_blocks > std::numeric_limits<uint64_t>::max() / info->block_bytes) {
        return make_error("tensor '%.*s' byte size overflows", name_len, ti.name.data());
      }
      ti.n_bytes = n_blocks * info->block_bytes;
      if (!read(ti.offset)) return truncated("tensor offset");
      out_.tensors_.push_back(ti);
    }
    return {};
  }

  Status place_tensor_data() {
    const uint64_t align = out_.alignment_;
    const uint64_t data_start = (pos_ + align - 1) / align * align;
    if (data_start > bytes_.size() && !out_.tensors_.empty()) {
      return make_error("truncated file: the tensor data section would start at byte %llu, past the end (%zu bytes)",
                        static_cast<unsigned long long>(data_start), bytes_.size());
    }
    out_.data_offset_ = data_start;
    const uint64_t data_size = data_start <= bytes_.size() ? bytes_.size() - data_start : 0;
    for (TensorInfo& ti : out_.tensors_) {
      const auto name_len = static_cast<int>(ti.name.size());
      if (ti.offset % align != 0) {
        return make_error("tensor '%.*s' offset %llu is not a multiple of the alignment %llu", name_len,
                          ti.name.data(), static_cast<unsigned long long>(ti.offset),
                          static_cast<unsigned long long>(align));
      }
      if (ti.offset > data_size || ti.n_bytes > data_size - ti.offset) {
        return make_error("tensor '%.*s' data (%llu bytes at offset %llu) runs past the end of the file "
                          "(%llu bytes of tensor data present)",
                          name_len, ti.name.data(), static_cast<unsigned long long>(ti.n_bytes),
                          static_cast<unsigned long long>(ti.offset),
                          static_cast<unsigned long long>(data_size));
      }
      ti.data = bytes_.data() + data_start + ti.offset;
    }
    return check_no_overlap();
  }

  // Empty tensors occupy no bytes and may sit anywhere; among the others, sorted by offset, any
  // overlap shows up between neighbours.
  Status check_no_overlap() const {
    std::vector<const TensorInfo*> by_offset;
    by_offset.reserve(out_.tensors_.size());
    for (const TensorInfo& ti : out_.tensors_) {
      if (ti.n_bytes > 0) by_offset.push_back(&ti);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const TensorInfo& a = *by_offset[i - 1];
      const TensorInfo& b = *by_offset[i];
      if (a.offset + a.n_bytes > b.offset) {
        return make_error("tensors '%.*s' and '%.*s' overlap in the file", static_cast<int>(a.name.size()),
                          a.name.data(), static_cast<int>(b.name.size()), b.name.data());
      }
    }
    return {};
  }

  std::span<const uint8_t> bytes_;
  File& out_;
  size_t pos_ = 0;
};

File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
File::~File() = default;

Result<File> File::parse(std::span<const uint8_t> bytes) {
  File file;
  file.bytes_ = bytes;
  Parser parser(bytes, file);
  RF_RETURN_IF_ERROR(parser.parse());
  return file;
}

Result<File> File::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot open '%s': %s", path.c_str(), std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error("'%s' is not a regular file", path.c_str());
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return make_error("'%s' is empty (0 bytes): not a GGUF file", path.c_str());
  }
  void* addr = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (addr == MAP_FAILED) return make_error("cannot map '%s': %s", path.c_str(), std::strerror(errno));
  auto mapping = std::make_unique<Mapping>();
  mapping->addr = addr;
  mapping->size = size;

  auto parsed = parse({static_cast<const uint8_t*>(addr), size});
  if (!parsed.ok()) return make_error("%s: %s", path.c_str(), parsed.error().message.c_str());
  File file = std::move(parsed).value();
  file.mapping_ = std::move(mapping);
  return file;
}

const Value* File::find(std::string_view key) const {
  for (const KeyValue& kv : kv_) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

std::optional<std::string_view> File::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr || v->type != ValueType::kString) return std::nullopt;
  return v->str;
}

std::optional<int64_t> File::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr || !is_integer_type(v->type)) return std::nullopt;
  return v->i;
}

std::optional<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr || !(is_integer_type(v->type) || v->type == ValueType::kF32 || v->type == ValueType::kF64)) {
    return std::nullopt;
  }
  return v->f;
}

std::optional<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr || v->type != ValueType::kBool) return std::nullopt;
  return v->u != 0;
}

const Array* File::get_array(std::string_view key) const {
  const Value* v = find(key);
  return v != nullptr && v->type == ValueType::kArray ? &v->arr : nullptr;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  for (const TensorInfo& ti : tensors_) {
    if (ti.name == name) return &ti;
  }
  return nullptr;
}

}  // namespace rf::gguf
