// exp and friends on 16 floats for the AVX-512 files only (internal linkage: never shared across ISAs).
#pragma once

#include <immintrin.h>

namespace rf::cpu {
namespace {

// e^x: n = round(x log2 e), r = x - n ln 2 (two-part ln 2, so r is exact to ~1 ulp), a degree-7
// polynomial for e^r on |r| <= ln2/2 (Cephes' expf coefficients), then scalef by 2^n, which also
// handles overflow (inf) and underflow (subnormals, then 0). Relative error <= 2e-7 (measured 1.2e-7) where the
// result is a normal float. -inf and NaN give 0 (softmax rows of masked positions).
inline __m512 exp16(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));  // NaN -> -104 (max returns the second operand)
  x = _mm512_min_ps(x, _mm512_set1_ps(88.8f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

// Mask of the first n (< 16) lanes.
inline __mmask16 first_lanes(int64_t n) { return static_cast<__mmask16>((1u << n) - 1); }

}  // namespace
}  // namespace rf::cpu
