// The pointwise part of one LSTM or GRU step and its gradient, one pass each (Note [Fused
// recurrent cells] in src/ops/recurrent-cells.ts has the formulas and output layouts). Each
// row of the batch is independent; within a row, gate k of unit j sits at column k·u + j, so
// the loop over units reads each gate block contiguously and vectorizes (fast_math.h).
#include "common.h"

// Two things keep the loops below vectorized on AVX2 machines without AVX-512 (most AMD Zen 1-3
// and Intel client parts): the x86-64-v3 clone has FMA, which plain "avx2" lacks (every fmaf
// would be a libm call), and no-trapping-math lets the compiler evaluate both sides of the
// selects in fast_math.h and blend them (AVX-512 does that with masks anyway). Strata never
// unmasks floating-point exceptions, so no result changes. Set before fast_math.h so that its
// inline functions get the same options as the loops they are inlined into.
#pragma GCC optimize("no-trapping-math")
#include "fast_math.h"

namespace strata {
namespace {

// A unit costs about 3 ns on one AVX-512 core (five exps and divisions), so 16K units are some
// 50 µs of work, well above a thread team's start-up; smaller steps (64 × 128) stay on one thread.
constexpr int64_t kParallelUnits = 1 << 14;

// z [4u], cp [u] → y [2u] = [h | c].
STRATA_CLONES void lstm_row(const float* __restrict z, const float* __restrict cp, float* __restrict y, int64_t u) {
#pragma omp simd
  for (int64_t j = 0; j < u; j++) {
    const float i = sigmoid_fast(z[j]), f = sigmoid_fast(z[u + j]);
    const float g = tanh_fast(z[2 * u + j]), o = sigmoid_fast(z[3 * u + j]);
    const float c = __builtin_fmaf(f, cp[j], i * g);
    y[j] = o * tanh_fast(c);
    y[u + j] = c;
  }
}

// z [4u], cp [u], g [2u] = [dh | dc] → y [5u] = [dz | dcPrev].
STRATA_CLONES void lstm_grad_row(const float* __restrict z, const float* __restrict cp, const float* __restrict g,
                                 float* __restrict y, int64_t u) {
#pragma omp simd
  for (int64_t j = 0; j < u; j++) {
    const float i = sigmoid_fast(z[j]), f = sigmoid_fast(z[u + j]);
    const float gg = tanh_fast(z[2 * u + j]), o = sigmoid_fast(z[3 * u + j]);
    const float p = cp[j];
    const float t = tanh_fast(__builtin_fmaf(f, p, i * gg));
    const float dh = g[j];
    // The gradient reaching c: its own plus the one through h = o·tanh(c).
    const float dc = __builtin_fmaf(dh * o, 1.0f - t * t, g[u + j]);
    y[j] = dc * gg * (i * (1.0f - i));
    y[u + j] = dc * p * (f * (1.0f - f));
    y[2 * u + j] = dc * i * (1.0f - gg * gg);
    y[3 * u + j] = dh * t * (o * (1.0f - o));
    y[4 * u + j] = dc * f;
  }
}

// xz, hz [3u], hp [u] → y [u].
STRATA_CLONES void gru_row(const float* __restrict xz, const float* __restrict hz, const float* __restrict hp,
                           float* __restrict y, int64_t u) {
#pragma omp simd
  for (int64_t j = 0; j < u; j++) {
    const float z = sigmoid_fast(xz[j] + hz[j]);
    const float r = sigmoid_fast(xz[u + j] + hz[u + j]);
    const float hh = tanh_fast(__builtin_fmaf(r, hz[2 * u + j], xz[2 * u + j]));
    y[j] = __builtin_fmaf(z, hp[j] - hh, hh);  // z·hPrev + (1 - z)·hh
  }
}

// xz, hz [3u], hp [u], d [u] → y [7u] = [dxz | dhz | dhPrev].
STRATA_CLONES void gru_grad_row(const float* __restrict xz, const float* __restrict hz, const float* __restrict hp,
                                const float* __restrict d, float* __restrict y, int64_t u) {
#pragma omp simd
  for (int64_t j = 0; j < u; j++) {
    const float z = sigmoid_fast(xz[j] + hz[j]);
    const float r = sigmoid_fast(xz[u + j] + hz[u + j]);
    const float hzh = hz[2 * u + j];
    const float hh = tanh_fast(__builtin_fmaf(r, hzh, xz[2 * u + j]));
    const float dv = d[j];
    const float dz = dv * (hp[j] - hh) * (z * (1.0f - z));
    const float dn = dv * (1.0f - z) * (1.0f - hh * hh);
    const float dr = dn * hzh * (r * (1.0f - r));
    y[j] = dz;
    y[u + j] = dr;
    y[2 * u + j] = dn;
    y[3 * u + j] = dz;
    y[4 * u + j] = dr;
    y[5 * u + j] = dn * r;
    y[6 * u + j] = dv * z;
  }
}

const float* f32(const Buffer* b) { return data_of<float>(b); }

}  // namespace

Napi::Value calls::lstmCell(Napi::Env env, const LstmCellArgs& args) {
  const float* z = f32(args.z);
  const float* cp = f32(args.c_prev);
  const int64_t batch = args.batch, u = args.units;
  Buffer* yb;
  Napi::Value out = new_buffer(env, batch * 2 * u * 4, &yb);
  float* y = static_cast<float*>(yb->data);
  parallel_for(batch, batch > 1 && batch * u > kParallelUnits, [&](int64_t b) { lstm_row(z + b * 4 * u, cp + b * u, y + b * 2 * u, u); });
  return out;
}

Napi::Value calls::lstmCellGrad(Napi::Env env, const LstmCellGradArgs& args) {
  const float* z = f32(args.z);
  const float* cp = f32(args.c_prev);
  const float* g = f32(args.dhc);
  const int64_t batch = args.batch, u = args.units;
  Buffer* yb;
  Napi::Value out = new_buffer(env, batch * 5 * u * 4, &yb);
  float* y = static_cast<float*>(yb->data);
  parallel_for(batch, batch > 1 && batch * u > kParallelUnits,
               [&](int64_t b) { lstm_grad_row(z + b * 4 * u, cp + b * u, g + b * 2 * u, y + b * 5 * u, u); });
  return out;
}

Napi::Value calls::gruCell(Napi::Env env, const GruCellArgs& args) {
  const float* xz = f32(args.xz);
  const float* hz = f32(args.hz);
  const float* hp = f32(args.h_prev);
  const int64_t batch = args.batch, u = args.units;
  Buffer* yb;
  Napi::Value out = new_buffer(env, batch * u * 4, &yb);
  float* y = static_cast<float*>(yb->data);
  parallel_for(batch, batch > 1 && batch * u > kParallelUnits,
               [&](int64_t b) { gru_row(xz + b * 3 * u, hz + b * 3 * u, hp + b * u, y + b * u, u); });
  return out;
}

Napi::Value calls::gruCellGrad(Napi::Env env, const GruCellGradArgs& args) {
  const float* xz = f32(args.xz);
  const float* hz = f32(args.hz);
  const float* hp = f32(args.h_prev);
  const float* d = f32(args.dh);
  const int64_t batch = args.batch, u = args.units;
  Buffer* yb;
  Napi::Value out = new_buffer(env, batch * 7 * u * 4, &yb);
  float* y = static_cast<float*>(yb->data);
  parallel_for(batch, batch > 1 && batch * u > kParallelUnits,
               [&](int64_t b) { gru_grad_row(xz + b * 3 * u, hz + b * 3 * u, hp + b * u, d + b * u, y + b * 7 * u, u); });
  return out;
}

}  // namespace strata
