// Random operands and the buffer layout of the float-family kernel tests.
#include "float_data.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "base/aligned_buffer.h"
#include "quant/dequantize.h"
#include "quant/fp16.h"

namespace rf::cpu::test {
namespace {

constexpr uint64_t kPad = 12;  // bytes between rows: keeps every row start off the vector grid

// Random sign, mantissa in [0.5, 1), exponents 2^-4 .. 2^3: products span several binades.
float random_float(std::mt19937& rng) {
  std::uniform_real_distribution<float> mant(0.5f, 1.0f);
  const int exp = static_cast<int>(rng() % 8) - 4;
  const float v = std::ldexp(mant(rng), exp);
  return (rng() & 1) ? -v : v;
}

std::vector<float> decode(DType type, const std::vector<uint8_t>& bytes, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  dequantize_row(type, bytes.data(), out.data(), n);
  return out;
}

}  // namespace

std::vector<uint8_t> encode(DType type, const std::vector<float>& x) {
  const size_t elem = type == DType::kF32 ? 4 : 2;
  std::vector<uint8_t> out(x.size() * elem);
  for (size_t i = 0; i < x.size(); ++i) {
    if (type == DType::kF32) {
      std::memcpy(&out[4 * i], &x[i], 4);
    } else {
      const uint16_t h = type == DType::kF16 ? f32_to_fp16(x[i]) : f32_to_bf16(x[i]);
      std::memcpy(&out[2 * i], &h, 2);
    }
  }
  return out;
}

GemmCase make_case(DType type, int64_t k, int64_t n_rows, int64_t n_cols, uint64_t misalign, uint32_t seed) {
  std::mt19937 rng(seed);
  GemmCase c{type, k, n_rows, n_cols, misalign, {}, {}};
  c.w.resize(static_cast<size_t>(n_rows * k));
  for (float& v : c.w) v = random_float(rng);
  c.w = decode(type, encode(type, c.w), n_rows * k);  // now exact in the weight type
  c.x.resize(static_cast<size_t>(n_cols * k));
  for (float& v : c.x) v = random_float(rng);
  return c;
}

std::vector<float> held_activations(const GemmKernel& kernel, const std::vector<float>& x, int64_t k) {
  const int64_t rows = static_cast<int64_t>(x.size()) / k;
  std::vector<uint8_t> buf(act_row_bytes(kernel.act, k));
  std::vector<float> out(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    kernel.quantize_act(x.data() + r * k, buf.data(), k);
    switch (kernel.act) {
      case ActFormat::kF32: std::memcpy(out.data() + r * k, buf.data(), buf.size()); break;
      case ActFormat::kBF16:
        for (int64_t i = 0; i < k; ++i) {
          uint16_t h;
          std::memcpy(&h, buf.data() + 2 * i, 2);
          out[static_cast<size_t>(r * k + i)] = bf16_to_f32(h);
        }
        break;
      default: ADD_FAILURE() << "not a float-family activation format";
    }
  }
  return out;
}

std::vector<float> run_gemm(const GemmKernel& kernel, const GemmCase& c, const std::vector<float>& x) {
  const uint64_t w_row = row_bytes(c.type, static_cast<uint64_t>(c.k)).value();
  const uint64_t w_stride = w_row + kPad;
  const uint64_t a_row = act_row_bytes(kernel.act, c.k);
  const uint64_t a_stride = a_row + kPad;
  AlignedBuffer<uint8_t> w_buf(c.misalign + w_stride * static_cast<uint64_t>(c.n_rows));
  AlignedBuffer<uint8_t> a_buf(c.misalign + a_stride * static_cast<uint64_t>(c.n_cols));
  std::memset(w_buf.data(), 0xff, w_buf.size());  // padding reads as NaN if a kernel strays
  std::memset(a_buf.data(), 0xff, a_buf.size());
  for (int64_t r = 0; r < c.n_rows; ++r) {
    const std::vector<float> row(c.w.begin() + r * c.k, c.w.begin() + (r + 1) * c.k);
    std::memcpy(w_buf.data() + c.misalign + static_cast<uint64_t>(r) * w_stride, encode(c.type, row).data(), w_row);
  }
  for (int64_t t = 0; t < c.n_cols; ++t) {
    kernel.quantize_act(x.data() + t * c.k, a_buf.data() + c.misalign + static_cast<uint64_t>(t) * a_stride, c.k);
  }
  const int64_t out_stride = c.n_rows + 3;
  std::vector<float> out(static_cast<size_t>(out_stride * c.n_cols + 3), std::numeric_limits<float>::quiet_NaN());
  GemmArgs g;
  g.k = c.k;
  g.w = w_buf.data() + c.misalign;
  g.w_stride = w_stride;
  g.n_rows = c.n_rows;
  g.a = a_buf.data() + c.misalign;
  g.a_stride = a_stride;
  g.n_cols = c.n_cols;
  g.out = out.data();
  g.out_stride = out_stride;
  kernel.gemm(g);

  std::vector<float> result(static_cast<size_t>(c.n_rows * c.n_cols));
  for (int64_t t = 0; t < c.n_cols; ++t) {
    for (int64_t r = 0; r < out_stride; ++r) {
      const float v = out[static_cast<size_t>(t * out_stride + r)];
      if (r < c.n_rows) {
        result[static_cast<size_t>(t * c.n_rows + r)] = v;
      } else {
        EXPECT_TRUE(std::isnan(v)) << "wrote outside the tile at token " << t << " row " << r;
      }
    }
  }
  for (size_t i = static_cast<size_t>(out_stride * c.n_cols); i < out.size(); ++i) EXPECT_TRUE(std::isnan(out[i]));
  return result;
}

std::vector<std::tuple<Isa, DType>> isa_type_params(std::initializer_list<DType> types) {
  std::vector<std::tuple<Isa, DType>> out;
  for (const Isa isa : available_isas()) {
    for (const DType t : types) out.emplace_back(isa, t);
  }
  return out;
}

std::string isa_type_name(const ::testing::TestParamInfo<std::tuple<Isa, DType>>& info) {
  return std::string(isa_name(std::get<0>(info.param))) + "_" + std::string(dtype_name(std::get<1>(info.param)));
}

}  // namespace rf::cpu::test

namespace rf {
void PrintTo(DType type, std::ostream* os) { *os << dtype_name(type); }
namespace cpu {
void PrintTo(Isa isa, std::ostream* os) { *os << isa_name(isa); }
}  // namespace cpu
}  // namespace rf
