// Test-side decoders written from the format descriptions, in double, sharing no code with src/quant.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "quant/types.h"

namespace rf::test {

inline double half_value(uint16_t h) {
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  const int e = (h >> 10) & 31;
  const int m = h & 1023;
  if (e == 31) return m != 0 ? std::numeric_limits<double>::quiet_NaN() : sign * INFINITY;
  if (e == 0) return sign * std::ldexp(m, -24);  // subnormal: m * 2^-14 / 2^10
  return sign * std::ldexp(1024 + m, e - 25);     // 1.m * 2^(e-15)
}

inline double bf16_value(uint16_t b) {
  const double sign = (b & 0x8000) ? -1.0 : 1.0;
  const int e = (b >> 7) & 255;
  const int m = b & 127;
  if (e == 255) return m != 0 ? std::numeric_limits<double>::quiet_NaN() : sign * INFINITY;
  if (e == 0) return sign * std::ldexp(m, -133);  // m * 2^-126 / 2^7
  return sign * std::ldexp(128 + m, e - 134);     // 1.m * 2^(e-127)
}

inline uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
inline double half_at(const uint8_t* p) { return half_value(le16(p)); }

// q4_K/q5_K: 12 bytes hold eight 6-bit scales and mins. Bytes 0-3: scales 0-3 in the low 6 bits,
// top 2 bits of scales 4-7 above; bytes 4-7: the same for mins; bytes 8-11: low 4 bits of scale
// 4+k (low nibble) and of min 4+k (high nibble).
inline void k4_scale_min(const uint8_t* s, int sub, int& sc, int& m) {
  if (sub < 4) {
    sc = s[sub] % 64;
    m = s[4 + sub] % 64;
  } else {
    const int k = sub - 4;
    sc = s[8 + k] % 16 + (s[k] / 64) * 16;
    m = s[8 + k] / 16 + (s[4 + k] / 64) * 16;
  }
}

inline int nibble(uint8_t byte, bool high) { return high ? byte / 16 : byte % 16; }

// Value of element i of one block of `type`, exactly (every format's products fit in a double).
inline double reference_element(DType type, const uint8_t* b, int i) {
  switch (type) {
    case DType::kQ4_0:  // d, qs[16]
      return (nibble(b[2 + i % 16], i >= 16) - 8) * half_at(b);
    case DType::kQ4_1:  // d, m, qs[16]
      return nibble(b[4 + i % 16], i >= 16) * half_at(b) + half_at(b + 2);
    case DType::kQ5_0: {  // d, qh[4], qs[16]
      const int q = nibble(b[6 + i % 16], i >= 16) + 16 * static_cast<int>((le32(b + 2) >> i) & 1);
      return (q - 16) * half_at(b);
    }
    case DType::kQ5_1: {  // d, m, qh[4], qs[16]
      const int q = nibble(b[8 + i % 16], i >= 16) + 16 * static_cast<int>((le32(b + 4) >> i) & 1);
      return q * half_at(b) + half_at(b + 2);
    }
    case DType::kQ8_0:  // d, qs[32]
      return static_cast<int8_t>(b[2 + i]) * half_at(b);
    case DType::kQ4_K:    // d, dmin, scales[12], qs[128]
    case DType::kQ5_K: {  // d, dmin, scales[12], qh[32], qs[128]
      const int sub = i / 32;
      int sc, m;
      k4_scale_min(b + 4, sub, sc, m);
      const uint8_t* qs = b + (type == DType::kQ4_K ? 16 : 48);
      int q = nibble(qs[32 * (sub / 2) + i % 32], sub % 2 == 1);
      if (type == DType::kQ5_K) q += 16 * ((b[16 + i % 32] >> sub) & 1);
      return half_at(b) * sc * q - half_at(b + 2) * m;
    }
    case DType::kQ6_K: {  // ql[128], qh[64], scales[16] (int8), d
      const int half = i / 128, g = (i % 128) / 32, l = i % 32;
      const int lo = nibble(b[64 * half + l + 32 * (g % 2)], g >= 2);
      const int hi = (b[128 + 32 * half + l] >> (2 * g)) & 3;
      return half_at(b + 208) * static_cast<int8_t>(b[192 + i / 16]) * (lo + 16 * hi - 32);
    }
    case DType::kQ8_K: {  // float d, qs[256], bsums[16]
      float d;
      std::memcpy(&d, b, sizeof(d));
      return static_cast<double>(d) * static_cast<int8_t>(b[4 + i]);
    }
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

}  // namespace rf::test
