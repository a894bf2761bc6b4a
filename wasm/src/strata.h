// Shared helpers of the wasm backend's kernels (scripts/build-wasm.mjs compiles every wasm/src/*.c
// into one module; no libc, so the few things we need are here).
#ifndef STRATA_H
#define STRATA_H

#include <stdint.h>
#include <stddef.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

// Dtype codes, as src/backend/wasm/kernels-core.ts passes them.
enum { DT_F32 = 0, DT_I32 = 1, DT_BOOL = 2 };

// The [from, to) share of n items for thread tid of nthreads (contiguous blocks).
static inline void thread_range(int64_t n, int tid, int nthreads, int64_t* from, int64_t* to) {
  const int64_t per = n / nthreads, extra = n % nthreads;
  *from = tid * per + (tid < extra ? tid : extra);
  *to = *from + per + (tid < extra ? 1 : 0);
}

// clang lowers these to single wasm instructions (no libm needed).
static inline float sf_abs(float x) { return __builtin_fabsf(x); }
static inline float sf_sqrt(float x) { return __builtin_sqrtf(x); }
static inline float sf_floor(float x) { return __builtin_floorf(x); }
static inline float sf_ceil(float x) { return __builtin_ceilf(x); }
static inline float sf_rint(float x) { return __builtin_rintf(x); }  // ties to even (f32.nearest)
static inline double sd_abs(double x) { return __builtin_fabs(x); }
static inline double sd_floor(double x) { return __builtin_floor(x); }
static inline double sd_trunc(double x) { return __builtin_trunc(x); }
static inline double sd_rint(double x) { return __builtin_rint(x); }
static inline int sd_isnan(double x) { return x != x; }

// JavaScript's ToInt32: what an Int32Array store does to a double (Note [int32 arithmetic wraps]
// in native/src/elementwise.cc): NaN and ±Infinity become 0, the rest wraps modulo 2^32.
static inline int32_t wrap_i32(double v) {
  if (!(v == v) || v == __builtin_inf() || v == -__builtin_inf()) return 0;
  double t = sd_trunc(v);
  if (t >= -2147483648.0 && t <= 2147483647.0) return (int32_t)t;
  double m = t - 4294967296.0 * sd_floor(t / 4294967296.0);  // [0, 2^32), exact for |t| < 2^53
  if (m >= 4294967296.0) m -= 4294967296.0;
  return (int32_t)(uint32_t)m;
}

// math.c: float32 vector transcendental functions (max relative error ~2 ulp) and double scalar pow.
v128_t v_exp(v128_t x);
v128_t v_log(v128_t x);
v128_t v_tanh(v128_t x);
v128_t v_sigmoid(v128_t x);
v128_t v_sin(v128_t x);
v128_t v_cos(v128_t x);
float s_sinf(float x);
float s_cosf(float x);
double d_pow(double a, double b);

#endif
