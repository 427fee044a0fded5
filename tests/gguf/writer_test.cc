// Writer → File::parse round trips: every value type, arrays (nested, empty, strings), tensors, alignment.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>

#include "gguf/gguf.h"
#include "gguf/writer.h"

namespace rf::gguf {
namespace {

File parse_ok(const std::vector<uint8_t>& bytes) {
  auto f = File::parse(bytes);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  return std::move(f).value();
}

// Recursive equality of two arrays, elements compared by their stored bytes.
void expect_array_eq(const Array& a, const Array& b, const std::string& where) {
  ASSERT_EQ(a.type, b.type) << where;
  ASSERT_EQ(a.count, b.count) << where;
  if (a.type == ValueType::kString) {
    ASSERT_EQ(a.strings, b.strings) << where;
  } else if (a.type == ValueType::kArray) {
    for (uint64_t i = 0; i < a.count; ++i) {
      expect_array_eq(a.arrays[i], b.arrays[i], where + "[" + std::to_string(i) + "]");
    }
  } else {
    for (uint64_t i = 0; i < a.count; ++i) EXPECT_EQ(a.float_at(i), b.float_at(i)) << where << "[" << i << "]";
  }
}

TEST(GgufWriter, ScalarsRoundTripAtTheirLimits) {
  Writer w;
  w.add_u8("u8", std::numeric_limits<uint8_t>::max());
  w.add_i8("i8", std::numeric_limits<int8_t>::min());
  w.add_u16("u16", std::numeric_limits<uint16_t>::max());
  w.add_i16("i16", std::numeric_limits<int16_t>::min());
  w.add_u32("u32", std::numeric_limits<uint32_t>::max());
  w.add_i32("i32", std::numeric_limits<int32_t>::min());
  w.add_u64("u64", std::numeric_limits<uint64_t>::max());
  w.add_i64("i64", std::numeric_limits<int64_t>::min());
  w.add_f32("f32", -3.25e-7f);
  w.add_f64("f64", 6.02214076e23);
  w.add_bool("yes", true);
  w.add_bool("no", false);
  w.add_string("s", std::string("nul\0inside", 10));
  w.add_string("empty", "");
  const File f = parse_ok(w.to_bytes());

  ASSERT_EQ(f.metadata().size(), 14u);
  EXPECT_EQ(f.metadata()[0].key, "u8");  // order is kept
  EXPECT_EQ(f.find("u8")->type, ValueType::kU8);
  EXPECT_EQ(f.get_int("u8"), 255);
  EXPECT_EQ(f.get_int("i8"), -128);
  EXPECT_EQ(f.get_int("u16"), 65535);
  EXPECT_EQ(f.get_int("i16"), -32768);
  EXPECT_EQ(f.get_int("u32"), 4294967295);
  EXPECT_EQ(f.get_int("i32"), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(f.find("u64")->u, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(f.get_int("i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f.get_float("f32"), static_cast<double>(-3.25e-7f));
  EXPECT_EQ(f.get_float("f64"), 6.02214076e23);
  EXPECT_EQ(f.get_bool("yes"), true);
  EXPECT_EQ(f.get_bool("no"), false);
  EXPECT_EQ(f.get_string("s"), std::string_view("nul\0inside", 10));
  EXPECT_EQ(f.get_string("empty"), "");
  for (const KeyValue& kv : f.metadata()) {
    EXPECT_EQ(value_type_name(kv.value.type), kv.key == "yes" || kv.key == "no" ? "bool"
                                              : kv.key == "s" || kv.key == "empty" ? "string"
                                                                                   : kv.key)
        << kv.key;
  }
}

template <class T>
std::vector<T> random_values(std::mt19937_64& rng, size_t n) {
  std::vector<T> v(n);
  for (T& x : v) {
    if constexpr (std::is_floating_point_v<T>) {
      x = static_cast<T>(std::uniform_real_distribution<double>(-1e6, 1e6)(rng));
    } else {
      x = static_cast<T>(rng());
    }
  }
  return v;
}

std::string array_key(size_t n) {
  std::string key = "array.";
  key += std::to_string(n);
  return key;
}

template <class T>
void check_numeric_arrays(ValueType type) {
  std::mt19937_64 rng(static_cast<uint64_t>(type) + 99);
  Writer w;
  const size_t lengths[] = {0, 1, 37, 1000};
  std::vector<std::vector<T>> written;
  for (size_t n : lengths) {
    written.push_back(random_values<T>(rng, n));
    w.add_array(array_key(n), written.back());
  }
  const File f = parse_ok(w.to_bytes());
  for (size_t k = 0; k < std::size(lengths); ++k) {
    const Array* a = f.get_array(array_key(lengths[k]));
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(a->type, type);
    ASSERT_EQ(a->count, lengths[k]);
    for (size_t i = 0; i < lengths[k]; ++i) {
      const T want = written[k][i];
      if constexpr (std::is_floating_point_v<T>) {
        ASSERT_EQ(a->float_at(i), static_cast<double>(want)) << i;
      } else if constexpr (std::is_same_v<T, uint64_t>) {
        // int_at cannot hold values above INT64_MAX: compare the raw little-endian bytes.
        uint64_t got = 0;
        std::memcpy(&got, a->data + i * 8, 8);
        ASSERT_EQ(got, want) << i;
      } else {
        ASSERT_EQ(a->int_at(i), static_cast<int64_t>(want)) << i;
      }
    }
  }
}

TEST(GgufWriter, NumericArraysOfEveryTypeRoundTrip) {
  check_numeric_arrays<uint8_t>(ValueType::kU8);
  check_numeric_arrays<int8_t>(ValueType::kI8);
  check_numeric_arrays<uint16_t>(ValueType::kU16);
  check_numeric_arrays<int16_t>(ValueType::kI16);
  check_numeric_arrays<uint32_t>(ValueType::kU32);
  check_numeric_arrays<int32_t>(ValueType::kI32);
  check_numeric_arrays<uint64_t>(ValueType::kU64);
  check_numeric_arrays<int64_t>(ValueType::kI64);
  check_numeric_arrays<float>(ValueType::kF32);
  check_numeric_arrays<double>(ValueType::kF64);
}

TEST(GgufWriter, FloatElementsReadAsIntegersTruncateAndSaturate) {
  const double values[] = {1e30, -1e30, std::nan(""), 2.7, -2.7, 9223372036854775808.0,
                           -9223372036854775808.0, std::numeric_limits<double>::infinity()};
  Writer w;
  w.add_array("f64", values);
  const File f = parse_ok(w.to_bytes());
  const Array* a = f.get_array("f64");
  ASSERT_NE(a, nullptr);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  const int64_t want[] = {kMax, kMin, 0, 2, -2, kMax, kMin, kMax};
  for (size_t i = 0; i < std::size(want); ++i) EXPECT_EQ(a->int_at(i), want[i]) << i;
}

TEST(GgufWriter, BoolAndStringArraysRoundTrip) {
  std::mt19937_64 rng(7);
  const bool bools[] = {true, false, false, true, true};
  std::vector<std::string> strings = {"", "\xe2\x96\x81the", std::string("a\0b", 3), std::string(1000, 'x')};
  for (int i = 0; i < 50; ++i) strings.push_back(std::to_string(rng()));
  const std::vector<std::string_view> views = {"one", "", "three"};
  Writer w;
  w.add_array("bools", std::span<const bool>(bools));
  w.add_array("strings", strings);
  w.add_array("views", std::span<const std::string_view>(views));
  w.add_array("no_strings", std::vector<std::string>{});
  const File f = parse_ok(w.to_bytes());

  const Array* b = f.get_array("bools");
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->type, ValueType::kBool);
  ASSERT_EQ(b->count, std::size(bools));
  for (size_t i = 0; i < std::size(bools); ++i) EXPECT_EQ(b->int_at(i), bools[i] ? 1 : 0);
  const Array* s = f.get_array("strings");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->count, strings.size());
  for (size_t i = 0; i < strings.size(); ++i) EXPECT_EQ(s->strings[i], strings[i]);
  const Array* v = f.get_array("views");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(std::vector<std::string_view>(v->strings), views);
  const Array* none = f.get_array("no_strings");
  ASSERT_NE(none, nullptr);
  EXPECT_EQ(none->type, ValueType::kString);
  EXPECT_EQ(none->count, 0u);
}

TEST(GgufWriter, NestedArraysRoundTrip) {
  const int16_t shorts[] = {-5, 7, 300};
  const double doubles[] = {0.5, -1e-300};
  Array leaf_shorts{ValueType::kI16, 3, reinterpret_cast<const uint8_t*>(shorts), {}, {}};
  Array leaf_doubles{ValueType::kF64, 2, reinterpret_cast<const uint8_t*>(doubles), {}, {}};
  Array leaf_strings{ValueType::kString, 2, nullptr, {"x", ""}, {}};
  Array empty_u32{ValueType::kU32, 0, nullptr, {}, {}};
  Array empty_nested{ValueType::kArray, 0, nullptr, {}, {}};
  Array middle{ValueType::kArray, 3, nullptr, {}, {leaf_shorts, leaf_doubles, empty_u32}};
  Array middle2{ValueType::kArray, 2, nullptr, {}, {leaf_strings, empty_nested}};
  Array top{ValueType::kArray, 2, nullptr, {}, {middle, middle2}};
  Writer w;
  w.add_array("nested", top);
  w.add_array("empty_nested", empty_nested);
  const File f = parse_ok(w.to_bytes());
  const Array* got = f.get_array("nested");
  ASSERT_NE(got, nullptr);
  expect_array_eq(*got, top, "nested");
  ASSERT_NE(f.get_array("empty_nested"), nullptr);
  expect_array_eq(*f.get_array("empty_nested"), empty_nested, "empty_nested");
}

struct TensorCase {
  const char* name;
  DType type;
  std::vector<int64_t> ne;
  bool use_fill;
};

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> b(n);
  for (uint8_t& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// Writes the cases with `alignment` (0: leave the default) and checks every tensor reads back.
void check_tensors(uint64_t alignment, uint32_t version) {
  const std::vector<TensorCase> cases = {
      {"f32_vec", DType::kF32, {7}, false},
      {"f16_mat", DType::kF16, {5, 3}, true},
      {"bf16_4d", DType::kBF16, {3, 2, 2, 2}, false},
      {"q8_0", DType::kQ8_0, {64, 3}, true},
      {"q4_0", DType::kQ4_0, {96, 1, 2}, false},
      {"q4_k", DType::kQ4_K, {256, 2}, true},
      {"q6_k", DType::kQ6_K, {512, 3}, false},
      {"empty", DType::kF32, {0, 4}, false},
      {"i32", DType::kI32, {9}, true},
  };
  std::mt19937_64 rng(alignment * 31 + version);
  Writer w(version);
  w.add_string("general.architecture", "llama");
  if (alignment != 0) w.add_u32("general.alignment", static_cast<uint32_t>(alignment));
  std::vector<std::vector<uint8_t>> data;
  for (const TensorCase& c : cases) {
    uint64_t n = 1;
    for (int64_t d : c.ne) n *= static_cast<uint64_t>(d);
    const auto bytes = row_bytes(c.type, n);
    ASSERT_TRUE(bytes.has_value()) << c.name;
    data.push_back(random_bytes(rng, *bytes));
    if (c.use_fill) {
      const std::vector<uint8_t> src = data.back();
      w.add_tensor(c.name, c.type, c.ne, [src](std::span<uint8_t> out) {
        ASSERT_EQ(out.size(), src.size());
        std::memcpy(out.data(), src.data(), src.size());
      });
    } else {
      w.add_tensor(c.name, c.type, c.ne, data.back());
    }
  }
  const uint64_t align = alignment != 0 ? alignment : kDefaultAlignment;
  EXPECT_EQ(w.alignment(), align);
  const std::vector<uint8_t> bytes = w.to_bytes();
  const File f = parse_ok(bytes);
  EXPECT_EQ(f.version(), version);
  EXPECT_EQ(f.alignment(), align);
  EXPECT_EQ(f.data_offset() % align, 0u);
  EXPECT_EQ(bytes.size() % align, 0u);
  ASSERT_EQ(f.tensors().size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const TensorCase& c = cases[i];
    const TensorInfo& t = f.tensors()[i];
    EXPECT_EQ(t.name, c.name);
    EXPECT_EQ(f.find_tensor(c.name), &t);
    EXPECT_EQ(t.type, c.type);
    ASSERT_EQ(t.n_dims, static_cast<int>(c.ne.size()));
    for (int d = 0; d < kMaxDims; ++d) {
      EXPECT_EQ(t.ne[d], d < t.n_dims ? c.ne[static_cast<size_t>(d)] : 1) << c.name << " dim " << d;
    }
    EXPECT_EQ(t.offset % align, 0u) << c.name;
    ASSERT_EQ(t.n_bytes, data[i].size()) << c.name;
    EXPECT_EQ(0, std::memcmp(t.data, data[i].data(), data[i].size())) << c.name;
  }
}

TEST(GgufWriter, TensorsRoundTripWithDefaultAlignment) { check_tensors(0, 3); }
TEST(GgufWriter, TensorsRoundTripWithCustomAlignments) {
  for (uint64_t a : {1, 8, 64, 4096}) {
    SCOPED_TRACE(a);
    check_tensors(a, 3);
  }
}
TEST(GgufWriter, Version2FilesParse) { check_tensors(16, 2); }

TEST(GgufWriter, CopyingEveryValueAndTensorReproducesTheBytes) {
  std::mt19937_64 rng(3);
  Writer w;
  w.add_u32("general.alignment", 128);
  w.add_string("general.architecture", "qwen2");
  w.add_array("ids", random_values<int32_t>(rng, 17));
  const std::vector<std::string> merges = {"a b", "\xc4\xa0 t"};
  w.add_array("merges", merges);
  const uint64_t deep_vals[] = {1, 2};
  Array deep{ValueType::kArray, 1, nullptr, {},
             {Array{ValueType::kArray, 1, nullptr, {},
                    {Array{ValueType::kU64, 2, reinterpret_cast<const uint8_t*>(deep_vals), {}, {}}}}}};
  w.add_array("deep", deep);
  w.add_i8("small", -3);
  w.add_f64("big", 1e100);
  w.add_bool("flag", true);
  const int64_t shape[] = {32, 5};
  w.add_tensor("w", DType::kQ8_0, shape, random_bytes(rng, 5 * 34));
  const int64_t vec[] = {33};
  w.add_tensor("b", DType::kF32, vec, random_bytes(rng, 33 * 4));
  const std::vector<uint8_t> original = w.to_bytes();
  const File f = parse_ok(original);

  Writer copy;
  for (const KeyValue& kv : f.metadata()) copy.add_value(kv.key, kv.value);
  for (const TensorInfo& t : f.tensors()) {
    copy.add_tensor(t.name, t.type, std::span<const int64_t>(t.ne, static_cast<size_t>(t.n_dims)),
                    std::span<const uint8_t>(t.data, t.n_bytes));
  }
  EXPECT_EQ(copy.alignment(), 128u);
  EXPECT_EQ(copy.to_bytes(), original);
}

TEST(GgufWriter, WriteStreamsTheSameBytesToAFile) {
  std::mt19937_64 rng(11);
  Writer w;
  w.add_string("general.architecture", "llama");
  const int64_t shape[] = {64, 9};
  int fills = 0;
  const std::vector<uint8_t> src = random_bytes(rng, 9 * 64 * 2);
  w.add_tensor("f16", DType::kF16, shape, [&](std::span<uint8_t> out) {
    ++fills;
    std::memcpy(out.data(), src.data(), out.size());
  });
  const std::string path = ::testing::TempDir() + "gguf_writer_" + std::to_string(getpid()) + ".gguf";
  ASSERT_TRUE(w.write(path).ok());
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(on_disk, w.to_bytes());
  EXPECT_EQ(fills, 2);  // once per serialization
  auto f = File::open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(0, std::memcmp(f->find_tensor("f16")->data, src.data(), src.size()));
  std::remove(path.c_str());
}

TEST(GgufWriter, WriteReportsAPathItCannotCreate) {
  Writer w;
  w.add_u32("x", 1);
  const Status st = w.write("/nonexistent-dir/x.gguf");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("cannot create"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace rf::gguf
