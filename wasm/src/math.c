// Transcendental functions without libm. The float32 ones are 4-lane SIMD polynomials with a
// maximum relative error of a few ulp (test/wasm-backend.test.ts checks them against Math.*
// over wide ranges, denormals, ±Infinity and NaN); pow is scalar double precision, so its
// float32 result rounds like the reference backend's Math.pow.
#include "strata.h"

#define F4(c) wasm_f32x4_splat(c)

// 2^k as a double, for k in [-1022, 1023] (no ldexp without libm).
static inline double pow2d(int k) {
  union { uint64_t u; double d; } v = {(uint64_t)(k + 1023) << 52};
  return v.d;
}
#define D2(c) wasm_f64x2_splat(c)

// 2^n for integer lanes n in [-126, 127].
static inline v128_t pow2i(v128_t n) { return wasm_i32x4_shl(wasm_i32x4_add(n, wasm_i32x4_splat(127)), 23); }

// e^x: x = n ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), e^r by its Taylor polynomial of
// degree 7 (truncation 6e-9), then 2^n in two halves so that results near the overflow and in the
// subnormal range are scaled without an intermediate overflow or double rounding. Clamping x to
// [-104, 89] keeps n in range and lets the scaling itself produce 0 and +Infinity.
v128_t v_exp(v128_t x) {
  // pmin/pmax are single instructions (min/max with NaN semantics are not); a NaN x stays NaN.
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, F4(-104.0f)), F4(89.0f));
  // n = round(x / ln2) by the 1.5 * 2^23 trick: the sum's low mantissa bits are n itself, so no
  // float-int conversion is needed (|n| < 2^22).
  const v128_t magic = F4(12582912.0f);
  v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, F4(1.44269504088896341f)), magic);
  v128_t n = wasm_f32x4_sub(t, magic);
  v128_t ni = wasm_i32x4_sub(t, magic);
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, F4(0.693145751953125f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, F4(1.428606765330187045e-06f)));
  v128_t p = F4(1.0f / 5040);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.0f / 720));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.0f / 120));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.0f / 24));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.0f / 6));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(0.5f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.0f));
  v128_t n1 = wasm_i32x4_shr(ni, 1), n2 = wasm_i32x4_sub(ni, n1);
  return wasm_f32x4_mul(wasm_f32x4_mul(p, pow2i(n1)), pow2i(n2));
}

// log x: x = 2^e m with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.172,
// by the odd series to s^9 (truncation 7e-10). Subnormals are scaled by 2^23 first.
v128_t v_log(v128_t x) {
  v128_t sub = wasm_f32x4_lt(x, F4(1.17549435e-38f));
  v128_t xs = wasm_v128_bitselect(wasm_f32x4_mul(x, F4(8388608.0f)), x, sub);
  v128_t bits = xs;
  v128_t e = wasm_i32x4_sub(wasm_u32x4_shr(bits, 23), wasm_i32x4_splat(127));
  e = wasm_i32x4_sub(e, wasm_v128_and(sub, wasm_i32x4_splat(23)));
  v128_t m = wasm_v128_or(wasm_v128_and(bits, wasm_i32x4_splat(0x007fffff)), wasm_i32x4_splat(0x3f800000));
  v128_t big = wasm_f32x4_gt(m, F4(1.41421356f));
  m = wasm_v128_bitselect(wasm_f32x4_mul(m, F4(0.5f)), m, big);
  e = wasm_i32x4_sub(e, big);  // big lanes are -1: e + 1
  v128_t f = wasm_f32x4_sub(m, F4(1.0f));
  v128_t s = wasm_f32x4_div(f, wasm_f32x4_add(f, F4(2.0f)));
  v128_t s2 = wasm_f32x4_mul(s, s);
  v128_t p = F4(2.0f / 9);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), F4(2.0f / 7));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), F4(2.0f / 5));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), F4(2.0f / 3));
  v128_t lm = wasm_f32x4_add(wasm_f32x4_add(s, s), wasm_f32x4_mul(wasm_f32x4_mul(p, s2), s));
  v128_t ef = wasm_f32x4_convert_i32x4(e);
  v128_t y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(ef, F4(1.428606765330187045e-06f)), lm), wasm_f32x4_mul(ef, F4(0.693145751953125f)));
  // Special values: log 0 = -Infinity, log of a negative = NaN, log Infinity = Infinity, NaN stays.
  y = wasm_v128_bitselect(F4(-__builtin_inff()), y, wasm_f32x4_eq(x, F4(0.0f)));
  y = wasm_v128_bitselect(F4(__builtin_nanf("")), y, wasm_f32x4_lt(x, F4(0.0f)));
  y = wasm_v128_bitselect(x, y, wasm_v128_or(wasm_f32x4_ne(x, x), wasm_f32x4_eq(x, F4(__builtin_inff()))));
  return y;
}

// tanh: the odd Taylor series below 0.55 (terms to x^17, truncation 5e-9); above,
// 1 - 2 / (e^(2|x|) + 1) with the sign put back (e^(2|x|) = Infinity gives 1).
v128_t v_tanh(v128_t x) {
  v128_t a = wasm_f32x4_abs(x);
  v128_t x2 = wasm_f32x4_mul(x, x);
  v128_t p = F4(6404582.0f / 10854718875.0f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), F4(-929569.0f / 638512875.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), F4(21844.0f / 6081075.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), F4(-1382.0f / 155925.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), F4(62.0f / 2835.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), F4(-17.0f / 315.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), F4(2.0f / 15.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), F4(-1.0f / 3.0f));
  v128_t small = wasm_f32x4_add(x, wasm_f32x4_mul(wasm_f32x4_mul(p, x2), x));
  v128_t t = v_exp(wasm_f32x4_add(a, a));
  v128_t large = wasm_f32x4_sub(F4(1.0f), wasm_f32x4_div(F4(2.0f), wasm_f32x4_add(t, F4(1.0f))));
  large = wasm_v128_or(large, wasm_v128_and(x, wasm_i32x4_splat((int32_t)0x80000000)));
  return wasm_v128_bitselect(small, large, wasm_f32x4_lt(a, F4(0.55f)));
}

// sigmoid: never the exponential of a large positive number (as the reference backend).
v128_t v_sigmoid(v128_t x) {
  v128_t e = v_exp(wasm_f32x4_neg(wasm_f32x4_abs(x)));
  v128_t q = wasm_f32x4_div(F4(1.0f), wasm_f32x4_add(F4(1.0f), e));
  return wasm_v128_bitselect(q, wasm_f32x4_mul(e, q), wasm_f32x4_ge(x, F4(0.0f)));
}

// ---- sin and cos --------------------------------------------------------------------------------
// Reduction x = n pi/2 + r in double: below 2^20, n has at most 20 bits, so n times the first 33
// bits of pi/2 is exact and two terms give r to far better than float precision (fdlibm's
// __rem_pio2f). Larger |x| (and non-finite x) take the scalar Payne-Hanek path below.
static const double PIO2_1 = 1.57079631090164184570e+00, PIO2_1T = 1.58932547735281966916e-08;
static const double INVPIO2 = 6.36619772367581382433e-01;

// r in [-pi/4, pi/4]: sin r to r^11 and cos r to r^12 (Taylor; truncation < 2e-9).
static inline v128_t sin_poly(v128_t r) {
  v128_t r2 = wasm_f32x4_mul(r, r);
  v128_t p = F4(-1.0f / 39916800);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r2), F4(1.0f / 362880));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r2), F4(-1.0f / 5040));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r2), F4(1.0f / 120));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r2), F4(-1.0f / 6));
  return wasm_f32x4_add(r, wasm_f32x4_mul(wasm_f32x4_mul(p, r2), r));
}
static inline v128_t cos_poly(v128_t r) {
  v128_t r2 = wasm_f32x4_mul(r, r);
  v128_t p = F4(1.0f / 479001600);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r2), F4(-1.0f / 3628800));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r2), F4(1.0f / 40320));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r2), F4(-1.0f / 720));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r2), F4(1.0f / 24));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r2), F4(-0.5f));
  return wasm_f32x4_add(F4(1.0f), wasm_f32x4_mul(p, r2));
}

// Bits of 2/pi, 24 at a time (enough for any float exponent).
static const uint32_t TWO_OVER_PI[] = {0xA2F983, 0x6E4E44, 0x1529FC, 0x2757D1, 0xF534DD, 0xC0DB62, 0x95993C, 0x439041,
                                       0xFE5163, 0xABDEBB, 0xC561B7, 0x246E3A, 0x424DD2, 0xE00649, 0x2EEA09};

// Bits j..j+23 of 2/pi (bit 1 is the first after the binary point).
static inline double bits24(int j) {
  const int c = (j - 1) / 24, o = (j - 1) % 24;
  const uint64_t w = ((uint64_t)TWO_OVER_PI[c] << 24) | TWO_OVER_PI[c + 1];
  return (double)((w >> (24 - o)) & 0xFFFFFF);
}

// Payne-Hanek for a finite float: x = m 2^e with m < 2^24 an integer, so x 2/pi mod 4 needs only
// the bits of 2/pi from weight 2^(1-e) on; three 24-bit chunks of them times m are exact in double.
static double rem_pio2_large(float xf, int* quadrant) {
  union { float f; uint32_t u; } v = {xf};
  const int exp = (int)((v.u >> 23) & 0xff) - 127;
  const double m = (double)((v.u & 0x7fffff) | 0x800000);
  const int e = exp - 23;
  const int j0 = e - 1 > 1 ? e - 1 : 1;
  const double s0 = pow2d(e - j0 - 23);
  double p0 = m * bits24(j0) * s0;
  p0 -= 4.0 * sd_floor(p0 * 0.25);
  const double p1 = m * bits24(j0 + 24) * s0 * 0x1p-24;
  const double p2 = m * bits24(j0 + 48) * s0 * 0x1p-48;
  const double t = p0 + p1;
  const double n = sd_rint(t);
  const double f = (t - n) + p2;
  *quadrant = ((int)n) & 3;
  if (v.u >> 31) {  // the sign: x = -|x|
    *quadrant = (4 - *quadrant) & 3;
    return -f * 1.57079632679489661923;
  }
  return f * 1.57079632679489661923;
}

static double sin_d(double r) {
  const double r2 = r * r;
  return r + r * r2 * (-1.0 / 6 + r2 * (1.0 / 120 + r2 * (-1.0 / 5040 + r2 * (1.0 / 362880 + r2 * (-1.0 / 39916800 + r2 / 6227020800.0)))));
}
static double cos_d(double r) {
  const double r2 = r * r;
  return 1 + r2 * (-0.5 + r2 * (1.0 / 24 + r2 * (-1.0 / 720 + r2 * (1.0 / 40320 + r2 * (-1.0 / 3628800 + r2 / 479001600.0)))));
}

static float sincos_large(float x, int cosine) {
  if (!(x - x == x - x)) return __builtin_nanf("");  // ±Infinity, NaN
  int q;
  const double r = rem_pio2_large(x, &q);
  q = (q + cosine) & 3;
  const double y = (q & 1) ? cos_d(r) : sin_d(r);
  return (float)((q & 2) ? -y : y);
}
float s_sinf(float x) { return sincos_large(x, 0); }
float s_cosf(float x) { return sincos_large(x, 1); }

// sin (cosine = 0) or cos (cosine = 1) of 4 lanes; lanes at or above 2^20 are redone by the caller.
static inline v128_t v_sincos(v128_t x, int cosine) {
  v128_t lo = wasm_f64x2_promote_low_f32x4(x);
  v128_t hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(x, x, 2, 3, 0, 1));
  v128_t nlo = wasm_f64x2_nearest(wasm_f64x2_mul(lo, D2(INVPIO2)));
  v128_t nhi = wasm_f64x2_nearest(wasm_f64x2_mul(hi, D2(INVPIO2)));
  v128_t rlo = wasm_f64x2_sub(wasm_f64x2_sub(lo, wasm_f64x2_mul(nlo, D2(PIO2_1))), wasm_f64x2_mul(nlo, D2(PIO2_1T)));
  v128_t rhi = wasm_f64x2_sub(wasm_f64x2_sub(hi, wasm_f64x2_mul(nhi, D2(PIO2_1))), wasm_f64x2_mul(nhi, D2(PIO2_1T)));
  v128_t rf = wasm_f32x4_demote_f64x2_zero(rlo);
  v128_t rfh = wasm_f32x4_demote_f64x2_zero(rhi);
  v128_t r = wasm_i32x4_shuffle(rf, rfh, 0, 1, 4, 5);
  v128_t qlo = wasm_i32x4_trunc_sat_f64x2_zero(nlo), qhi = wasm_i32x4_trunc_sat_f64x2_zero(nhi);
  v128_t q = wasm_i32x4_shuffle(qlo, qhi, 0, 1, 4, 5);
  q = wasm_i32x4_add(q, wasm_i32x4_splat(cosine));
  v128_t s = sin_poly(r), c = cos_poly(r);
  v128_t odd = wasm_i32x4_eq(wasm_v128_and(q, wasm_i32x4_splat(1)), wasm_i32x4_splat(1));
  v128_t y = wasm_v128_bitselect(c, s, odd);
  v128_t neg = wasm_i32x4_shl(wasm_v128_and(q, wasm_i32x4_splat(2)), 30);
  return wasm_v128_xor(y, neg);
}
v128_t v_sin(v128_t x) { return v_sincos(x, 0); }
v128_t v_cos(v128_t x) { return v_sincos(x, 1); }

// ---- pow (double) -------------------------------------------------------------------------------
// fdlibm's log and exp (error < 1 ulp of double), enough for a float32 result to round as
// Math.pow's does; integer exponents multiply by squaring so that int32 powers are exact.
static double d_log(double x) {  // x > 0, finite
  static const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  static const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01, Lg3 = 2.857142874366239149e-01,
                      Lg4 = 2.222219843214978396e-01, Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                      Lg7 = 1.479819860511658591e-01;
  union { double d; uint64_t u; } v = {x};
  int k = 0;
  if (v.u < 0x0010000000000000ULL) {  // subnormal
    v.d *= 0x1p54;
    k -= 54;
  }
  uint32_t hx = (uint32_t)(v.u >> 32);
  k += (int)(hx >> 20) - 1023;
  hx &= 0x000fffff;
  const uint32_t i = (hx + 0x95f64) & 0x100000;
  v.u = ((uint64_t)(hx | (i ^ 0x3ff00000)) << 32) | (v.u & 0xffffffffULL);  // normalize to [sqrt(2)/2, sqrt(2))
  k += (int)(i >> 20);
  const double f = v.d - 1.0;
  const double s = f / (2.0 + f), z = s * s, w = z * z;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6)), t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const double R = t2 + t1, hfsq = 0.5 * f * f, dk = (double)k;
  return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
}

static double d_exp(double x) {
  static const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10, inv_ln2 = 1.44269504088896338700e+00;
  static const double P1 = 1.66666666666666019037e-01, P2 = -2.77777777770155933842e-03, P3 = 6.61375632143793436117e-05,
                      P4 = -1.65339022054652515390e-06, P5 = 4.13813679705723846039e-08;
  if (x != x) return x;
  if (x > 709.782712893384) return __builtin_inf();
  if (x < -745.1332191019412) return 0.0;
  const double kd = sd_rint(x * inv_ln2);
  const int k = (int)kd;
  const double hi = x - kd * ln2_hi, lo = kd * ln2_lo, r = hi - lo;
  const double t = r * r;
  const double c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  const double y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
  // 2^k in two steps, for results near the overflow or in the subnormal range.
  const int k1 = k / 2, k2 = k - k1;
  return y * pow2d(k1) * pow2d(k2);
}

static inline int is_int(double b) { return sd_trunc(b) == b; }
static inline int is_odd_int(double b) { return is_int(b) && sd_abs(b) < 9007199254740992.0 && sd_trunc(b * 0.5) != b * 0.5; }

// Math.pow's special cases (ECMAScript, which differ from C's for |a| = 1 with an infinite b).
double d_pow(double a, double b) {
  if (b != b) return b;
  if (b == 0) return 1.0;
  if (a != a) return a;
  const double inf = __builtin_inf();
  if (b == inf || b == -inf) {
    const double m = sd_abs(a);
    if (m == 1) return __builtin_nan("");
    return (m > 1) == (b > 0) ? inf : 0.0;
  }
  if (a == 0 || a == inf || a == -inf) {
    const int neg = __builtin_signbit(a) && is_odd_int(b);
    const double mag = (a == 0) == (b > 0) ? 0.0 : inf;
    return neg ? -mag : mag;
  }
  double sign = 1.0;
  if (a < 0) {
    if (!is_int(b)) return __builtin_nan("");
    if (is_odd_int(b)) sign = -1.0;
    a = -a;
  }
  if (is_int(b) && sd_abs(b) <= 2147483647.0) {
    uint32_t n = (uint32_t)(int64_t)sd_abs(b);
    double r = 1.0, base = a;
    while (n) {
      if (n & 1) r *= base;
      base *= base;
      n >>= 1;
    }
    return sign * (b < 0 ? 1.0 / r : r);
  }
  return sign * d_exp(b * d_log(a));
}
