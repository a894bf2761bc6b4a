// Softmax and log-softmax along one axis, their gradients in one pass per row (Note [Softmax
// gradients in one pass] in src/ops/softmax-grads.ts), and sparse softmax cross-entropy, as
// native/src/softmax.cc. The maximum is subtracted first so exp never overflows (an all -inf row
// subtracts 0). Along the last axis a row is contiguous and the lanes run along it; along an
// inner axis (inner > 1) the lanes run across `inner` neighbouring rows instead, which are
// contiguous too, so both cases are vectorized without a transpose.
#include "strata.h"

// Up to 4 floats into a vector (missing lanes `fill`), and back.
static inline v128_t load_part(const float *p, int n, float fill) {
  if (n == 4) return wasm_v128_load(p);
  float t[4] = {fill, fill, fill, fill};
  for (int i = 0; i < n; i++) t[i] = p[i];
  return wasm_v128_load(t);
}
static inline void store_part(float *p, v128_t v, int n) {
  if (n == 4) {
    wasm_v128_store(p, v);
    return;
  }
  float t[4];
  wasm_v128_store(t, v);
  for (int i = 0; i < n; i++) p[i] = t[i];
}
static inline float hsum(v128_t v) {
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1);
}
static inline float hmax(v128_t v) {
  v = wasm_f32x4_max(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_f32x4_max(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(v, 0);
}

static void softmax_strip(const float *x, float *y, int n, int inner, int lanes, int log) {
  // inner == 1: one row, vectors along it; else `lanes` rows side by side, one vector per j.
  int along = inner == 1;
  int steps = along ? (n + 3) / 4 : n, step = along ? 4 : inner;
  v128_t m = wasm_f32x4_splat(-__builtin_inff());
  for (int s = 0; s < steps; s++) {
    int cnt = along ? (n - 4 * s < 4 ? n - 4 * s : 4) : lanes;
    m = wasm_f32x4_max(m, load_part(x + (size_t)s * step, cnt, -__builtin_inff()));
  }
  if (along) m = wasm_f32x4_splat(hmax(m));
  m = wasm_v128_bitselect(wasm_f32x4_splat(0.0f), m, wasm_f32x4_eq(m, wasm_f32x4_splat(-__builtin_inff())));
  v128_t sum = wasm_f32x4_splat(0.0f);
  for (int s = 0; s < steps; s++) {
    int cnt = along ? (n - 4 * s < 4 ? n - 4 * s : 4) : lanes;
    v128_t e = v_exp(wasm_f32x4_sub(load_part(x + (size_t)s * step, cnt, -__builtin_inff()), m));
    sum = wasm_f32x4_add(sum, e);
    if (!log) store_part(y + (size_t)s * step, e, cnt);
  }
  if (along) sum = wasm_f32x4_splat(hsum(sum));
  v128_t k = log ? v_log(sum) : wasm_f32x4_div(wasm_f32x4_splat(1.0f), sum);
  for (int s = 0; s < steps; s++) {
    int cnt = along ? (n - 4 * s < 4 ? n - 4 * s : 4) : lanes;
    float *yp = y + (size_t)s * step;
    // log: (x - m) first, exact near the maximum where x - (m + log s) would cancel.
    v128_t v = log ? wasm_f32x4_sub(wasm_f32x4_sub(load_part(x + (size_t)s * step, cnt, 0.0f), m), k) : wasm_f32x4_mul(load_part(yp, cnt, 0.0f), k);
    store_part(yp, v, cnt);
  }
}

// Work items: each row when inner == 1, else each group of 4 neighbouring inner positions.
static int64_t items(int64_t outer, int inner) { return inner == 1 ? outer : outer * ((inner + 3) / 4); }
static void item(int64_t it, int n, int inner, int64_t *base, int *lanes) {
  if (inner == 1) {
    *base = it * n;
    *lanes = 1;
    return;
  }
  int64_t groups = (inner + 3) / 4, o = it / groups;
  int i = (int)(it % groups) * 4;
  *base = o * n * inner + i;
  *lanes = inner - i < 4 ? inner - i : 4;
}

/** y = softmax or log-softmax of x [outer, n, inner] along n. */
EXPORT(softmax_axis)
void softmax_axis(const float *x, float *y, int outer, int n, int inner, int log, int tid, int nthreads) {
  int64_t a, b;
  thread_range(items(outer, inner), tid, nthreads, &a, &b);
  for (int64_t it = a; it < b; it++) {
    int64_t base;
    int lanes;
    item(it, n, inner, &base, &lanes);
    softmax_strip(x + base, y + base, n, inner, lanes, log);
  }
}

/** dx = y·(g - Σ g·y) (softmax) or g - exp(y)·Σ g (log-softmax), y the forward output, along n. */
EXPORT(softmax_grad_axis)
void softmax_grad_axis(const float *y, const float *g, float *dx, int outer, int n, int inner, int log, int tid, int nthreads) {
  int64_t a, b;
  thread_range(items(outer, inner), tid, nthreads, &a, &b);
  for (int64_t it = a; it < b; it++) {
    int64_t base;
    int lanes;
    item(it, n, inner, &base, &lanes);
    int along = inner == 1;
    int steps = along ? (n + 3) / 4 : n, step = along ? 4 : inner;
    v128_t s = wasm_f32x4_splat(0.0f);
    for (int k = 0; k < steps; k++) {
      int cnt = along ? (n - 4 * k < 4 ? n - 4 * k : 4) : lanes;
      v128_t gv = load_part(g + base + (size_t)k * step, cnt, 0.0f);
      s = wasm_f32x4_add(s, log ? gv : wasm_f32x4_mul(gv, load_part(y + base + (size_t)k * step, cnt, 0.0f)));
    }
    if (along) s = wasm_f32x4_splat(hsum(s));
    for (int k = 0; k < steps; k++) {
      int cnt = along ? (n - 4 * k < 4 ? n - 4 * k : 4) : lanes;
      size_t at = base + (size_t)k * step;
      v128_t yv = load_part(y + at, cnt, 0.0f), gv = load_part(g + at, cnt, 0.0f);
      // log-softmax outputs are <= 0; min guards exp against a rounding above 0.
      v128_t d = log ? wasm_f32x4_sub(gv, wasm_f32x4_mul(v_exp(wasm_f32x4_pmin(yv, wasm_f32x4_splat(0.0f))), s)) : wasm_f32x4_mul(yv, wasm_f32x4_sub(gv, s));
      store_part(dx + at, d, cnt);
    }
  }
}

/**
 * Rows of c logits z with int32 labels (checked in range by the caller): the loss
 * logsumexp(z) - z[label] per row into out [rows], or with g [rows] the gradient
 * g·(softmax(z) - onehot(label)) into out [rows, c].
 */
EXPORT(sparse_xent)
void sparse_xent(const float *z, const int32_t *labels, const float *g, float *out, int rows, int c, int tid, int nthreads) {
  int64_t a, b;
  thread_range(rows, tid, nthreads, &a, &b);
  for (int64_t r = a; r < b; r++) {
    const float *zr = z + r * c;
    v128_t mv = wasm_f32x4_splat(-__builtin_inff());
    for (int j = 0; j < c; j += 4) mv = wasm_f32x4_max(mv, load_part(zr + j, c - j < 4 ? c - j : 4, -__builtin_inff()));
    float m = hmax(mv);
    if (m == -__builtin_inff()) m = 0.0f;
    v128_t ms = wasm_f32x4_splat(m), sv = wasm_f32x4_splat(0.0f);
    for (int j = 0; j < c; j += 4) sv = wasm_f32x4_add(sv, v_exp(wasm_f32x4_sub(load_part(zr + j, c - j < 4 ? c - j : 4, -__builtin_inff()), ms)));
    float s = hsum(sv);
    int label = labels[r];
    if (!g) {
      out[r] = wasm_f32x4_extract_lane(v_log(wasm_f32x4_splat(s)), 0) + m - zr[label];
      continue;
    }
    float *dr = out + r * c;
    v128_t scale = wasm_f32x4_splat(g[r] / s);
    for (int j = 0; j < c; j += 4) {
      int cnt = c - j < 4 ? c - j : 4;
      store_part(dr + j, wasm_f32x4_mul(v_exp(wasm_f32x4_sub(load_part(zr + j, cnt, 0.0f), ms)), scale), cnt);
    }
    dr[label] -= g[r];
  }
}
