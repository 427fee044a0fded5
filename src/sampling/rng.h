// Rng: xoshiro256** seeded through splitmix64; identical streams on every platform and standard library.
#pragma once

#include <array>
#include <cstdint>

namespace rf {

// One splitmix64 step: advances *state and returns the mixed output (Vigna's seeding generator).
inline uint64_t splitmix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  // The four state words are consecutive splitmix64 outputs, so no seed yields the all-zero state.
  explicit Rng(uint64_t seed) {
    for (uint64_t& w : s_) w = splitmix64(&seed);
  }
  // Raw state, for reproducing published test vectors. Must not be all zero.
  explicit Rng(const std::array<uint64_t, 4>& state) : s_(state) {}

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits: exact in double, so the same on every platform.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::array<uint64_t, 4> s_;
};

}  // namespace rf
