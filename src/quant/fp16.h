// Exact scalar conversions between f32 and the two 16-bit float formats (IEEE half, bfloat16).
#pragma once

#include <bit>
#include <cstdint>

namespace rf {

// IEEE binary16 -> f32. Exact for every input (subnormals normalized, NaN payload kept).
constexpr float fp16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));  // inf, NaN
  if (exp != 0) return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
  if (mant == 0) return std::bit_cast<float>(sign);  // +-0
  // Subnormal: mant * 2^-24. Shift the leading one up to bit 10, counting the exponent down.
  uint32_t e = 113;  // f32 biased exponent of 2^-14, the half subnormal scale before normalizing
  do {
    mant <<= 1;
    --e;
  } while ((mant & 0x400u) == 0);
  return std::bit_cast<float>(sign | (e << 23) | ((mant & 0x3ffu) << 13));
}

// f32 -> IEEE binary16, round to nearest, ties to even; overflow gives inf, NaN stays a (quiet) NaN.
constexpr uint16_t f32_to_fp16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const auto sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x47800000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 2^16 (incl. inf)
  if (a < 0x33000000u) return sign;                                    // <= 2^-25 rounds to 0
  const uint32_t e = a >> 23;
  uint32_t mant = a & 0x7fffffu;
  uint32_t shift = 13;  // drops f32's 23-bit mantissa to half's 10 bits
  uint32_t h;
  if (e < 113) {
    // Half subnormal: value = full * 2^(e-150) = q * 2^-24, so q = full >> (126 - e).
    mant |= 0x800000u;
    shift = 126 - e;
    h = mant >> shift;
  } else {
    h = ((e - 112) << 10) | (mant >> 13);
  }
  const uint32_t rem = mant & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  // A carry out of the mantissa correctly bumps the exponent (up to inf at 65520).
  if (rem > half || (rem == half && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

// bfloat16 -> f32: bf16 is the top half of an f32, so this is exact by construction.
constexpr float bf16_to_f32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

// f32 -> bfloat16, round to nearest, ties to even; subnormals kept; NaN stays a (quiet) NaN.
constexpr uint16_t f32_to_bf16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

}  // namespace rf
