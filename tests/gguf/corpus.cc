// Builds the hostile-GGUF corpus byte by byte (the Writer refuses to write most of these).
#include "corpus.h"

#include <cstring>
#include <map>
#include <string_view>

#include "gguf/gguf.h"
#include "gguf/writer.h"
#include "quant/types.h"

namespace rf::gguf::corpus {
namespace {

constexpr uint32_t kStr = static_cast<uint32_t>(ValueType::kString);
constexpr uint32_t kArr = static_cast<uint32_t>(ValueType::kArray);
constexpr uint32_t kU32 = static_cast<uint32_t>(ValueType::kU32);
constexpr uint32_t kI32 = static_cast<uint32_t>(ValueType::kI32);
constexpr uint32_t kF32Type = static_cast<uint32_t>(DType::kF32);
constexpr uint32_t kQ8Type = static_cast<uint32_t>(DType::kQ8_0);

// Appends raw little-endian fields and remembers named positions (for truncation points).
struct Emitter {
  std::vector<uint8_t> b;
  std::map<std::string, size_t> marks;

  Emitter& mark(const std::string& name) {
    marks[name] = b.size();
    return *this;
  }
  Emitter& u32(uint32_t v) { return raw(&v, 4); }
  Emitter& u64(uint64_t v) { return raw(&v, 8); }
  Emitter& raw(const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
    return *this;
  }
  Emitter& str(std::string_view s) { return u64(s.size()).raw(s.data(), s.size()); }
  Emitter& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return u32(kMagic).u32(version).u64(n_tensors).u64(n_kv);
  }
  Emitter& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(kU32).u32(v); }
  Emitter& kv_str(std::string_view key, std::string_view v) { return str(key).u32(kStr).str(v); }
  // Tensor info; `dims` holds ne[0] first.
  Emitter& tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  // Pads to `align` and appends n bytes of a recognisable pattern as tensor data.
  Emitter& data(size_t n, size_t align = kDefaultAlignment) {
    b.resize((b.size() + align - 1) / align * align, 0);
    for (size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(i * 37 + 11));
    return *this;
  }
};

// A valid file with every region the parser walks, placed after a long first value so that
// truncating inside any later region passes the up-front count checks and reaches that region.
Emitter rich_file() {
  Emitter e;
  e.mark("header").header(2, 5);
  e.kv_str("general.name", std::string(64, 'n'));
  e.mark("key_length").u64(8).mark("key").raw("test.u32", 8).mark("value_type").u32(kU32);
  e.mark("value").u32(123456);
  e.str("test.array").u32(kArr).u32(kI32).mark("array_count").u64(5).mark("array_data");
  for (int32_t i = -2; i < 3; ++i) e.raw(&i, 4);
  e.str("test.strings").u32(kArr).u32(kStr).u64(3).str(std::string(40, 'a')).mark("string_length").u64(4);
  e.mark("string_bytes").raw("beta", 4).str("");
  e.kv_str("general.architecture", "llama");
  e.mark("tensor_name").str("t0").mark("tensor_dims").u32(2).mark("tensor_shape").u64(32).u64(2);
  e.mark("tensor_type").u32(kQ8Type).mark("tensor_offset").u64(0);
  e.tensor("t1", {8}, kF32Type, 96).mark("tensor_infos_end");
  e.data(68).mark("second_tensor").data(32);
  return e;
}

std::vector<uint8_t> prefix(const Emitter& e, const std::string& mark, size_t extra) {
  const size_t n = e.marks.at(mark) + extra;
  return {e.b.begin(), e.b.begin() + static_cast<std::ptrdiff_t>(n)};
}

// A file with one metadata value `general.alignment` of the given raw type and bytes.
std::vector<uint8_t> alignment_file(uint32_t type, const void* v, size_t size) {
  Emitter e;
  e.header(1, 1).str("general.alignment").u32(type).raw(v, size);
  e.tensor("t", {4}, kF32Type, 0).data(16, 64);
  return e.b;
}

void add_truncations(std::vector<CorpusEntry>& out) {
  const Emitter rich = rich_file();
  struct Cut {
    const char* name;
    const char* mark;
    size_t extra;
    std::vector<std::string> expect;
  };
  const std::vector<Cut> cuts = {
      {"trunc_magic", "header", 3, {"too short"}},
      {"trunc_version", "header", 6, {"truncated", "version"}},
      {"trunc_tensor_count", "header", 12, {"truncated", "tensor count"}},
      {"trunc_kv_count", "header", 20, {"truncated", "metadata count"}},
      {"trunc_key_length", "key_length", 5, {"truncated", "metadata key"}},
      {"trunc_key", "key", 3, {"metadata key", "beyond the end"}},
      {"trunc_value_type", "value_type", 2, {"truncated", "value type"}},
      {"trunc_value", "value", 2, {"truncated", "metadata value"}},
      {"trunc_array_count", "array_count", 4, {"truncated", "array length"}},
      {"trunc_array_data", "array_data", 6, {"test.array", "beyond the end"}},
      {"trunc_string_array_length", "string_length", 3, {"truncated", "array string"}},
      {"trunc_string_array_bytes", "string_bytes", 2, {"array string", "beyond the end"}},
      {"trunc_tensor_name", "tensor_name", 9, {"tensor name", "beyond the end"}},
      {"trunc_tensor_dims", "tensor_dims", 2, {"truncated", "dimension count"}},
      {"trunc_tensor_shape", "tensor_shape", 12, {"truncated", "tensor shape"}},
      {"trunc_tensor_type", "tensor_type", 1, {"truncated", "tensor type"}},
      {"trunc_tensor_offset", "tensor_offset", 7, {"truncated", "tensor offset"}},
      {"trunc_before_data", "tensor_infos_end", 1, {"truncated", "data section"}},
      {"trunc_tensor_data", "tensor_infos_end", 40, {"t0", "past the end"}},
      {"trunc_last_tensor_data", "second_tensor", 31, {"t1", "past the end"}},
  };
  for (const Cut& c : cuts) out.push_back({std::string(c.name) + ".gguf", prefix(rich, c.mark, c.extra), c.expect});
}

void add_header_cases(std::vector<CorpusEntry>& out) {
  Emitter bad_magic;
  bad_magic.raw("GGML", 4).u32(3).u64(0).u64(0);
  out.push_back({"bad_magic.gguf", bad_magic.b, {"magic"}});
  out.push_back({"empty.gguf", {}, {"empty"}});
  for (uint32_t version : {0u, 1u, 4u, 0x03000000u}) {
    Emitter e;
    e.header(0, 1, version).kv_str("general.architecture", "llama");
    out.push_back({"version_" + std::to_string(version) + ".gguf", e.b, {"version"}});
  }
  Emitter huge_kv;
  huge_kv.header(0, uint64_t{1} << 62).kv_u32("a", 1);
  out.push_back({"huge_kv_count.gguf", huge_kv.b, {"metadata count", "beyond"}});
  Emitter huge_tensors;
  huge_tensors.header(~uint64_t{0}, 0).tensor("t", {4}, kF32Type, 0);
  out.push_back({"huge_tensor_count.gguf", huge_tensors.b, {"tensor count", "beyond"}});
}

void add_metadata_cases(std::vector<CorpusEntry>& out) {
  Emitter str_len;
  str_len.header(0, 1).str("general.name").u32(kStr).u64(uint64_t{1} << 63).raw("abc", 3);
  out.push_back({"string_length_beyond_file.gguf", str_len.b, {"metadata string", "beyond the end"}});
  Emitter key_len;
  key_len.header(0, 1).u64(~uint64_t{0}).raw("general.name", 12).u32(kU32).u32(1);
  out.push_back({"key_length_beyond_file.gguf", key_len.b, {"metadata key", "beyond the end"}});
  Emitter long_key;
  long_key.header(0, 1).str(std::string(70000, 'k')).u32(kU32).u32(1);
  out.push_back({"key_too_long.gguf", long_key.b, {"metadata key", "limit"}});
  Emitter huge_array;
  huge_array.header(0, 1).str("a").u32(kArr).u32(kU32).u64(uint64_t{1} << 61).u32(7).u32(8);
  out.push_back({"huge_array_count.gguf", huge_array.b, {"array of", "beyond the end"}});
  Emitter huge_str_array;
  huge_str_array.header(0, 1).str("a").u32(kArr).u32(kStr).u64(~uint64_t{0} / 2).str("x");
  out.push_back({"huge_string_array_count.gguf", huge_str_array.b, {"array of", "beyond the end"}});
  Emitter huge_inner;  // an array of one array that claims 2^40 elements
  huge_inner.header(0, 1).str("a").u32(kArr).u32(kArr).u64(1).u32(kU32).u64(uint64_t{1} << 40);
  out.push_back({"huge_nested_array_count.gguf", huge_inner.b, {"array of", "beyond the end"}});
  Emitter bomb;  // 1,000 arrays each holding one array
  bomb.header(0, 1).str("bomb").u32(kArr);
  for (int i = 0; i < 1000; ++i) bomb.u32(kArr).u64(1);
  bomb.u32(kU32).u64(0);
  out.push_back({"array_nesting_bomb.gguf", bomb.b, {"nests arrays deeper"}});
  Emitter unknown;
  unknown.header(0, 1).str("a").u32(13).u32(0);
  out.push_back({"unknown_value_type.gguf", unknown.b, {"unknown value type", "13"}});
  Emitter unknown_elem;
  unknown_elem.header(0, 1).str("a").u32(kArr).u32(0xffffffffu).u64(1).u32(0);
  out.push_back({"unknown_array_element_type.gguf", unknown_elem.b, {"unknown value type"}});
  Emitter dup;
  dup.header(0, 2).kv_u32("general.file_type", 1).kv_u32("general.file_type", 2);
  out.push_back({"duplicate_key.gguf", dup.b, {"duplicate", "general.file_type"}});

  const uint32_t zero = 0, three = 3, huge = 1u << 30;
  const int32_t negative = -32;
  out.push_back({"alignment_0.gguf", alignment_file(kU32, &zero, 4), {"alignment", "found 0"}});
  out.push_back({"alignment_3.gguf", alignment_file(kU32, &three, 4), {"alignment", "found 3"}});
  out.push_back({"alignment_huge.gguf", alignment_file(kU32, &huge, 4), {"alignment"}});
  out.push_back({"alignment_negative.gguf", alignment_file(kI32, &negative, 4), {"alignment", "found -32"}});
  Emitter align_str;
  align_str.header(0, 1).kv_str("general.alignment", "32");
  out.push_back({"alignment_string.gguf", align_str.b, {"alignment", "found a string"}});
}

void add_tensor_cases(std::vector<CorpusEntry>& out) {
  auto one_tensor = [](std::vector<uint64_t> dims, uint32_t type, uint64_t offset, size_t data) {
    Emitter e;
    e.header(1, 0).tensor("t", std::move(dims), type, offset).data(data);
    return e.b;
  };
  out.push_back({"unknown_tensor_type_4.gguf", one_tensor({32}, 4, 0, 64), {"unknown type id 4"}});
  out.push_back({"unknown_tensor_type_huge.gguf", one_tensor({32}, 1000000, 0, 64), {"unknown type id"}});
  out.push_back({"zero_dims.gguf", one_tensor({}, kF32Type, 0, 64), {"0 dimensions"}});
  out.push_back({"five_dims.gguf", one_tensor({1, 1, 1, 1, 1}, kF32Type, 0, 64), {"5 dimensions"}});
  out.push_back({"dimension_too_large.gguf", one_tensor({uint64_t{1} << 41}, kF32Type, 0, 64),
                 {"dimension", "beyond any real model"}});
  out.push_back({"shape_product_overflow.gguf",
                 one_tensor({uint64_t{1} << 40, uint64_t{1} << 40}, kF32Type, 0, 64), {"overflows"}});
  out.push_back({"shape_product_overflow_4d.gguf",
                 one_tensor({1 << 16, 1 << 16, 1 << 16, 1 << 16}, kF32Type, 0, 64), {"overflows"}});
  out.push_back({"row_not_whole_blocks.gguf", one_tensor({33, 2}, kQ8Type, 0, 128),
                 {"not a whole number", "q8_0"}});
  out.push_back({"data_past_end.gguf", one_tensor({64}, kF32Type, 0, 200), {"past the end"}});
  out.push_back({"offset_past_end.gguf", one_tensor({8}, kF32Type, uint64_t{1} << 63, 64),
                 {"past the end"}});
  out.push_back({"offset_wraps.gguf", one_tensor({8}, kF32Type, ~uint64_t{0} - 31, 64), {"past the end"}});
  out.push_back({"misaligned_offset.gguf", one_tensor({4}, kF32Type, 8, 64),
                 {"not a multiple of the alignment"}});

  Emitter dup;
  dup.header(2, 0).tensor("w", {4}, kF32Type, 0).tensor("w", {4}, kF32Type, 32).data(64);
  out.push_back({"duplicate_tensor_name.gguf", dup.b, {"duplicate tensor name", "w"}});
  Emitter overlap;
  overlap.header(3, 0).tensor("a", {16}, kF32Type, 0).tensor("b", {16}, kF32Type, 128);
  overlap.tensor("c", {4}, kF32Type, 32).data(192);
  out.push_back({"overlapping_tensors.gguf", overlap.b, {"overlap", "'a'", "'c'"}});
  Emitter same;
  same.header(2, 0).tensor("a", {8}, kF32Type, 0).tensor("b", {8}, kF32Type, 0).data(32);
  out.push_back({"same_offset_tensors.gguf", same.b, {"overlap"}});
}

// Valid seeds for the fuzzer (and a check that the corpus test can tell valid from hostile).
void add_valid_cases(std::vector<CorpusEntry>& out) {
  out.push_back({"valid_rich.gguf", rich_file().b, {}});

  Writer w;
  w.add_string("general.architecture", "llama");
  w.add_u8("v.u8", 200);
  w.add_i8("v.i8", -100);
  w.add_u16("v.u16", 60000);
  w.add_i16("v.i16", -30000);
  w.add_i32("v.i32", -2000000000);
  w.add_u64("v.u64", uint64_t{1} << 60);
  w.add_i64("v.i64", -(int64_t{1} << 60));
  w.add_f32("v.f32", 0.25f);
  w.add_f64("v.f64", -1.5e300);
  w.add_bool("v.bool", true);
  w.add_u32("general.alignment", 64);
  const std::vector<std::string> strings = {"a", "", "\xe2\x96\x81hello"};
  w.add_array("v.strings", strings);
  const std::vector<float> floats = {1.0f, -2.0f, 3.5f};
  w.add_array("v.floats", floats);
  const int32_t inner_a[] = {1, 2, 3};
  Array nested{ValueType::kArray, 2, nullptr, {}, {}};
  nested.arrays.push_back({ValueType::kI32, 3, reinterpret_cast<const uint8_t*>(inner_a), {}, {}});
  nested.arrays.push_back({ValueType::kString, 1, nullptr, {"x"}, {}});
  w.add_array("v.nested", nested);
  const int64_t q8_shape[] = {64, 2};
  std::vector<uint8_t> q8(2 * 2 * 34);
  for (size_t i = 0; i < q8.size(); ++i) q8[i] = static_cast<uint8_t>(i * 7);
  w.add_tensor("q8", DType::kQ8_0, q8_shape, q8);
  const int64_t f16_shape[] = {3, 2, 1};
  std::vector<uint8_t> f16(12, 0x3c);
  w.add_tensor("f16", DType::kF16, f16_shape, f16);
  out.push_back({"valid_writer_all_types.gguf", w.to_bytes(), {}});

  Writer v2(2);
  v2.add_string("general.architecture", "qwen2");
  const int64_t shape[] = {4};
  const float ones[] = {1, 1, 1, 1};
  v2.add_tensor("one", DType::kF32, shape, {reinterpret_cast<const uint8_t*>(ones), sizeof(ones)});
  out.push_back({"valid_v2.gguf", v2.to_bytes(), {}});

  // Empty tensors take no bytes, so sharing an offset with a real tensor is no overlap.
  Emitter empty_inside;
  empty_inside.header(3, 0).tensor("a", {8}, kF32Type, 0).tensor("empty", {0, 3}, kF32Type, 0);
  empty_inside.tensor("empty2", {32, 0}, kQ8Type, 32).data(32);
  out.push_back({"valid_empty_tensors_share_offsets.gguf", empty_inside.b, {}});
}

}  // namespace

std::vector<CorpusEntry> make_corpus() {
  std::vector<CorpusEntry> out;
  add_header_cases(out);
  add_truncations(out);
  add_metadata_cases(out);
  add_tensor_cases(out);
  add_valid_cases(out);
  return out;
}

}  // namespace rf::gguf::corpus
