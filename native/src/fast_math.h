// Float math that the compiler can vectorize (no library calls per element) in hot loops built
// for several targets: exp of a nonpositive argument, and the logistic and tanh on top of it.
// The __builtin_fmaf calls are single instructions only where the target has FMA (AVX-512, or
// x86-64-v3 = AVX2 + FMA; plain "avx2" does not imply it), and the selects (c ? a : b) become
// vector blends on AVX2 only with -fno-trapping-math (see native/src/recurrent.cc).
#pragma once

#include <cstdint>

namespace strata {

// Note [Vectorizable exp]
// std::exp is a library call per element and does not vectorize without -ffast-math. Softmax
// spends most of its time there, so its rows (softmax.cc) use this exp: Cody-Waite range reduction
// x = n·ln2 + r with |r| <= ln2/2, Cephes's degree-6 polynomial for e^r (about 1 ulp in float),
// and 2^n built in the exponent bits. Inputs are <= 0 after subtracting the row maximum; below
// -87.3 (where e^x is no longer a normal float), including -inf from masked positions, the
// result is exactly 0, so masked attention weights are exactly 0.
inline float exp_nonpositive(float v) {
  const float x = v < -87.3f ? -87.3f : v;
  // Round to nearest by adding and subtracting 1.5·2^23 (vectorizes, unlike roundf).
  const float n = (__builtin_fmaf(x, 1.44269504088896341f, 12582912.0f)) - 12582912.0f;
  float r = __builtin_fmaf(n, -0.693359375f, x);
  r = __builtin_fmaf(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = __builtin_fmaf(p, r, 1.3981999507e-3f);
  p = __builtin_fmaf(p, r, 8.3334519073e-3f);
  p = __builtin_fmaf(p, r, 4.1665795894e-2f);
  p = __builtin_fmaf(p, r, 1.6666665459e-1f);
  p = __builtin_fmaf(p, r, 5.0000001201e-1f);
  const float e = __builtin_fmaf(p, r * r, r) + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  __builtin_memcpy(&scale, &bits, sizeof scale);
  return v < -87.3f ? 0.0f : e * scale;  // a blend, not a branch
}

// The logistic from e = exp(-|x|) in (0, 1], so exp never overflows: 1 / (1 + e) for x >= 0 and
// e / (1 + e) below, each accurate to a few ulp (no cancellation). Saturates to exactly 0 and 1;
// NaN stays NaN.
inline float sigmoid_fast(float x) {
  const float ax = x < 0 ? -x : x;
  const float e = exp_nonpositive(-ax);
  const float s = 1.0f / (1.0f + e);
  const float y = x >= 0 ? s : e * s;
  return x != x ? x : y;
}

// tanh: for |x| < 0.625 Cephes's odd polynomial x + x³·P(x²) (tanhf's, about 1 ulp, and exact in
// sign and relative error near 0, where the formula below would cancel); above, sign(x)·(1 - e) /
// (1 + e) with e = exp(-2|x|) <= 0.29, so 1 - e loses nothing. Saturates to exactly ±1.
inline float tanh_fast(float x) {
  const float ax = x < 0 ? -x : x;
  const float s = x * x;
  float p = -5.70498872745e-3f;
  p = __builtin_fmaf(p, s, 2.06390887954e-2f);
  p = __builtin_fmaf(p, s, -5.37397155531e-2f);
  p = __builtin_fmaf(p, s, 1.33314422036e-1f);
  p = __builtin_fmaf(p, s, -3.33332819422e-1f);
  const float small = __builtin_fmaf(p * s, x, x);
  const float e = exp_nonpositive(-2.0f * ax);
  const float big = (1.0f - e) / (1.0f + e);
  // tanh is odd: the sign comes from x, which also keeps tanh(-0) = -0.
  const float y = __builtin_copysignf(ax < 0.625f ? small : big, x);
  return x != x ? x : y;
}

}  // namespace strata
