// Softmax and log-softmax along one axis, subtracting the maximum first so exp never overflows.
#include <cmath>

#include "common.h"

namespace strata {
namespace {

#define STRATA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// Note [Vectorizable exp]
// std::exp is a library call per element and does not vectorize without -ffast-math. Softmax
// spends most of its time there, so the rows below use this exp: Cody-Waite range reduction
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

// Softmax over the last axis: rows of n contiguous values, three vectorized passes per row.
STRATA_CLONES void softmax_rows(const float* __restrict x, float* __restrict y, int64_t rows, int64_t n, bool log) {
#pragma omp parallel for if (rows * n > (1 << 14))
  for (int64_t row = 0; row < rows; row++) {
    const float* xr = x + row * n;
    float* yr = y + row * n;
    // omp simd lets the compiler reorder these reductions into vector lanes (no -ffast-math).
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < n; j++) m = xr[j] > m ? xr[j] : m;
    if (m == -INFINITY) m = 0;
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; j++) {
      const float e = exp_nonpositive(xr[j] - m);
      yr[j] = e;
      s += e;
    }
    if (log) {
      // (x - m) first: it is exact near the maximum, where x - (m + log s) would cancel.
      const float log_s = std::log(s);
      for (int64_t j = 0; j < n; j++) yr[j] = (xr[j] - m) - log_s;
    } else {
      const float inv = 1.0f / s;
      for (int64_t j = 0; j < n; j++) yr[j] *= inv;
    }
  }
}

// softmax(x, xShape, axis, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const float* x = data_of<float>(info[0]);
  const Shape xs = get_shape(info[1]);
  const int axis = info[2].As<Napi::Number>().Int32Value();
  const bool log = info[3].As<Napi::Boolean>().Value();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; i++) outer *= xs[i];
  for (size_t i = axis + 1; i < xs.size(); i++) inner *= xs[i];
  const int64_t n = xs[axis];
  Buffer* yb;
  Napi::Value out = new_buffer(info.Env(), outer * n * inner * 4, &yb);
  float* y = static_cast<float*>(yb->data);
  if (inner == 1) {
    softmax_rows(x, y, outer, n, log);
    return out;
  }
#pragma omp parallel for collapse(2) if (outer * n * inner > (1 << 14))
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      const int64_t base = o * n * inner + i;
      float m = -INFINITY;
      for (int64_t j = 0; j < n; j++) m = std::fmax(m, x[base + j * inner]);
      if (m == -INFINITY) m = 0;
      double s = 0;
      for (int64_t j = 0; j < n; j++) s += std::exp(static_cast<double>(x[base + j * inner] - m));
      const double log_s = std::log(s);
      for (int64_t j = 0; j < n; j++) {
        const double z = x[base + j * inner] - m;
        y[base + j * inner] = static_cast<float>(log ? z - log_s : std::exp(z) / s);
      }
    }
  return out;
}

}  // namespace

void init_softmax(Napi::Env env, Napi::Object exports) { exports.Set("softmax", Napi::Function::New(env, Softmax)); }

}  // namespace strata
