// Batch and layer normalization over channels-last data seen as [rows, C], as
// native/src/normalization.cc (Note [Fused normalization] in src/ops/normalization-fused.ts has
// the formulas): sums in double, batch statistics shifted by the first row so E[x²] - E[x]² does
// not cancel, (x - mean) subtracted before scaling.
//
// Column sums (batch statistics, the dγ/dβ sums) are split between threads by channel blocks of
// NORM_BLOCK: a thread walks every row but only its channels, so each sum is made by one thread in
// row order and the result does not depend on the thread count (no partials to add up). Row-wise
// passes (normalizing, the input gradients, layer norm) are split by rows.
#include "strata.h"

#define NORM_BLOCK 32

static inline v128_t lo64(v128_t v) { return wasm_f64x2_promote_low_f32x4(v); }
static inline v128_t hi64(v128_t v) { return wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1)); }

// Channel blocks [*b0, *b1) of this thread.
static void blocks_of(int C, int tid, int nt, int *b0, int *b1) {
  int64_t a, b;
  thread_range((C + NORM_BLOCK - 1) / NORM_BLOCK, tid, nt, &a, &b);
  *b0 = (int)a;
  *b1 = (int)b;
}

// For channels [c0, c0 + n) (n <= NORM_BLOCK), over all rows: s1 = Σ u, s2 = Σ v with
// kind 0: u = x - x[0], v = u²   (batch statistics)
// kind 1: u = dy·(x - mean), v = dy   (batch norm gradient sums)
// kind 2: u = dy·x̂ with the row statistics rs (mean, inv per row), v = dy   (layer norm's)
static void column_sums(int kind, const float *x, const float *dy, const float *mean, const float *rs, int rows, int C, int c0, int n, double *s1,
                        double *s2) {
  v128_t a1[NORM_BLOCK / 2], a2[NORM_BLOCK / 2];
  for (int i = 0; i < NORM_BLOCK / 2; i++) a1[i] = a2[i] = wasm_f64x2_splat(0.0);
  int nv = n / 4 * 4;
  const float *shift = kind == 0 ? x : mean;
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * C + c0, *gr = dy ? dy + (size_t)r * C + c0 : 0;
    v128_t rm = wasm_f32x4_splat(rs ? rs[2 * r] : 0.0f), ri = wasm_f32x4_splat(rs ? rs[2 * r + 1] : 0.0f);
    for (int c = 0; c < nv; c += 4) {
      v128_t xv = wasm_v128_load(xr + c), u, v;
      if (kind == 2) {
        v = wasm_v128_load(gr + c);
        u = wasm_f32x4_mul(v, wasm_f32x4_mul(wasm_f32x4_sub(xv, rm), ri));
      } else {
        v128_t d = wasm_f32x4_sub(xv, wasm_v128_load(shift + c0 + c));
        if (kind == 0) {
          u = d;
          v = wasm_f32x4_splat(0.0f);
        } else {
          v = wasm_v128_load(gr + c);
          u = wasm_f32x4_mul(v, d);
        }
      }
      a1[c / 2] = wasm_f64x2_add(a1[c / 2], lo64(u));
      a1[c / 2 + 1] = wasm_f64x2_add(a1[c / 2 + 1], hi64(u));
      if (kind == 0) {
        v128_t dl = lo64(u), dh = hi64(u);
        a2[c / 2] = wasm_f64x2_add(a2[c / 2], wasm_f64x2_mul(dl, dl));
        a2[c / 2 + 1] = wasm_f64x2_add(a2[c / 2 + 1], wasm_f64x2_mul(dh, dh));
      } else {
        a2[c / 2] = wasm_f64x2_add(a2[c / 2], lo64(v));
        a2[c / 2 + 1] = wasm_f64x2_add(a2[c / 2 + 1], hi64(v));
      }
    }
    for (int c = nv; c < n; c++) {
      float u, v;
      if (kind == 2) {
        v = gr[c];
        u = v * ((xr[c] - rs[2 * r]) * rs[2 * r + 1]);
      } else if (kind == 0) {
        u = xr[c] - shift[c0 + c];
        v = 0;
      } else {
        v = gr[c];
        u = v * (xr[c] - shift[c0 + c]);
      }
      s1[c] = (r ? s1[c] : 0.0) + u;
      s2[c] = (r ? s2[c] : 0.0) + (kind == 0 ? (double)u * u : v);
    }
  }
  for (int c = 0; c < nv; c += 2) {
    s1[c] = wasm_f64x2_extract_lane(a1[c / 2], 0);
    s1[c + 1] = wasm_f64x2_extract_lane(a1[c / 2], 1);
    s2[c] = wasm_f64x2_extract_lane(a2[c / 2], 0);
    s2[c + 1] = wasm_f64x2_extract_lane(a2[c / 2], 1);
  }
  if (rows == 0)
    for (int c = nv; c < n; c++) s1[c] = s2[c] = 0.0;
}

/** out [2, C]: the mean, then the biased variance, of x [rows, C] per column. */
EXPORT(batch_norm_stats)
void batch_norm_stats(const float *x, float *out, int rows, int C, int tid, int nthreads) {
  int b0, b1;
  blocks_of(C, tid, nthreads, &b0, &b1);
  double s1[NORM_BLOCK], s2[NORM_BLOCK];
  for (int b = b0; b < b1; b++) {
    int c0 = b * NORM_BLOCK, n = C - c0 < NORM_BLOCK ? C - c0 : NORM_BLOCK;
    column_sums(0, x, 0, 0, 0, rows, C, c0, n, s1, s2);
    for (int c = 0; c < n; c++) {
      double m = s1[c] / rows, var = s2[c] / rows - m * m;
      out[c0 + c] = (float)(x[c0 + c] + m);
      out[C + c0 + c] = (float)(var > 0 ? var : 0.0);
    }
  }
}

/** out [2, C]: Σ dy·x̂ (dγ), Σ dy (dβ) per column, with stats [2, C] = mean, variance. */
EXPORT(batch_norm_grad_sums)
void batch_norm_grad_sums(const float *x, const float *stats, const float *dy, float *out, int rows, int C, double eps, int tid, int nthreads) {
  int b0, b1;
  blocks_of(C, tid, nthreads, &b0, &b1);
  double s1[NORM_BLOCK], s2[NORM_BLOCK];
  for (int b = b0; b < b1; b++) {
    int c0 = b * NORM_BLOCK, n = C - c0 < NORM_BLOCK ? C - c0 : NORM_BLOCK;
    column_sums(1, x, dy, stats, 0, rows, C, c0, n, s1, s2);
    for (int c = 0; c < n; c++) {
      out[c0 + c] = (float)(s1[c] / __builtin_sqrt((double)stats[C + c0 + c] + eps));
      out[C + c0 + c] = (float)s2[c];
    }
  }
}

/** out [2, C]: Σ dy·x̂ and Σ dy per column, x̂ from the row statistics rs [rows, 2] (layer_norm_row_stats). */
EXPORT(layer_norm_grad_sums)
void layer_norm_grad_sums(const float *x, const float *dy, const float *rs, float *out, int rows, int C, int tid, int nthreads) {
  int b0, b1;
  blocks_of(C, tid, nthreads, &b0, &b1);
  double s1[NORM_BLOCK], s2[NORM_BLOCK];
  for (int b = b0; b < b1; b++) {
    int c0 = b * NORM_BLOCK, n = C - c0 < NORM_BLOCK ? C - c0 : NORM_BLOCK;
    column_sums(2, x, dy, 0, rs, rows, C, c0, n, s1, s2);
    for (int c = 0; c < n; c++) {
      out[c0 + c] = (float)s1[c];
      out[C + c0 + c] = (float)s2[c];
    }
  }
}

// Channels [c0, c0 + n) of rows [r0, r1): y = (x - mean)·a + b, or with dy:
// y = a·dy - k·(x - mean) - b (batch norm's input gradient); a, b, k indexed from c0.
static void column_affine(const float *x, const float *dy, const float *mean, const float *a, const float *b, const float *k, float *y, int r0, int r1,
                          int C, int c0, int n) {
  int nv = n / 4 * 4;
  mean += c0;
  for (int r = r0; r < r1; r++) {
    const float *xr = x + (size_t)r * C + c0, *gr = dy ? dy + (size_t)r * C + c0 : 0;
    float *yr = y + (size_t)r * C + c0;
    for (int c = 0; c < nv; c += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c)), v;
      if (dy)
        v = wasm_f32x4_sub(wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(a + c), wasm_v128_load(gr + c)), wasm_f32x4_mul(wasm_v128_load(k + c), d)),
                           wasm_v128_load(b + c));
      else
        v = wasm_f32x4_add(wasm_f32x4_mul(d, wasm_v128_load(a + c)), wasm_v128_load(b + c));
      wasm_v128_store(yr + c, v);
    }
    for (int c = nv; c < n; c++) {
      float d = xr[c] - mean[c];
      yr[c] = dy ? a[c] * gr[c] - k[c] * d - b[c] : d * a[c] + b[c];
    }
  }
}

/** y = (x - mean)·γ/√(var + ε) + β, rows split by thread, a block of channels at a time. */
EXPORT(batch_norm_apply)
void batch_norm_apply(const float *x, const float *mean, const float *var, const float *gamma, const float *beta, float *y, int rows, int C, double eps,
                      int tid, int nthreads) {
  int64_t r0, r1;
  thread_range(rows, tid, nthreads, &r0, &r1);
  float a[NORM_BLOCK] __attribute__((aligned(16)));
  for (int c0 = 0; c0 < C; c0 += NORM_BLOCK) {
    int n = C - c0 < NORM_BLOCK ? C - c0 : NORM_BLOCK;
    for (int c = 0; c < n; c++) a[c] = (float)(gamma[c0 + c] / __builtin_sqrt((double)var[c0 + c] + eps));
    column_affine(x, 0, mean, a, beta + c0, 0, y, (int)r0, (int)r1, C, c0, n);
  }
}

/** dx = γ·inv·(dy - Σdy/R - x̂·Σ(dy·x̂)/R) with stats [2, C] and sums [2, C]. */
EXPORT(batch_norm_grad_input)
void batch_norm_grad_input(const float *x, const float *gamma, const float *stats, const float *dy, const float *sums, float *dx, int rows, int C,
                           double eps, int tid, int nthreads) {
  int64_t r0, r1;
  thread_range(rows, tid, nthreads, &r0, &r1);
  float a[NORM_BLOCK] __attribute__((aligned(16))), k[NORM_BLOCK] __attribute__((aligned(16))), d[NORM_BLOCK] __attribute__((aligned(16)));
  for (int c0 = 0; c0 < C; c0 += NORM_BLOCK) {
    int n = C - c0 < NORM_BLOCK ? C - c0 : NORM_BLOCK;
    for (int c = 0; c < n; c++) {
      double inv = 1.0 / __builtin_sqrt((double)stats[C + c0 + c] + eps), ga = gamma[c0 + c] * inv;
      a[c] = (float)ga;
      k[c] = (float)(ga * inv * sums[c0 + c] / rows);
      d[c] = (float)(ga * sums[C + c0 + c] / rows);
    }
    column_affine(x, dy, stats, a, d, k, dx, (int)r0, (int)r1, C, c0, n);
  }
}

// Mean and 1/√(var + ε) of one row, sums in double.
static void row_stats(const float *x, int C, double eps, float *mean, float *inv) {
  v128_t s = wasm_f64x2_splat(0.0);
  int nv = C / 4 * 4, c;
  for (c = 0; c < nv; c += 4) {
    v128_t v = wasm_v128_load(x + c);
    s = wasm_f64x2_add(s, wasm_f64x2_add(lo64(v), hi64(v)));
  }
  double t = wasm_f64x2_extract_lane(s, 0) + wasm_f64x2_extract_lane(s, 1);
  for (; c < C; c++) t += x[c];
  float m = (float)(t / C);
  v128_t q = wasm_f64x2_splat(0.0), mv = wasm_f64x2_splat(m);
  for (c = 0; c < nv; c += 4) {
    v128_t v = wasm_v128_load(x + c), dl = wasm_f64x2_sub(lo64(v), mv), dh = wasm_f64x2_sub(hi64(v), mv);
    q = wasm_f64x2_add(q, wasm_f64x2_add(wasm_f64x2_mul(dl, dl), wasm_f64x2_mul(dh, dh)));
  }
  double u = wasm_f64x2_extract_lane(q, 0) + wasm_f64x2_extract_lane(q, 1);
  for (; c < C; c++) u += ((double)x[c] - m) * ((double)x[c] - m);
  *mean = m;
  *inv = (float)(1.0 / __builtin_sqrt(u / C + eps));
}

/** rs [rows, 2]: each row's mean and 1/√(var + ε). */
EXPORT(layer_norm_row_stats)
void layer_norm_row_stats(const float *x, float *rs, int rows, int C, double eps, int tid, int nthreads) {
  int64_t r0, r1;
  thread_range(rows, tid, nthreads, &r0, &r1);
  for (int64_t r = r0; r < r1; r++) row_stats(x + r * C, C, eps, rs + 2 * r, rs + 2 * r + 1);
}

/** y = (x - mean)·inv·γ + β per row. */
EXPORT(layer_norm)
void layer_norm(const float *x, const float *gamma, const float *beta, float *y, int rows, int C, double eps, int tid, int nthreads) {
  int64_t r0, r1;
  thread_range(rows, tid, nthreads, &r0, &r1);
  int nv = C / 4 * 4;
  for (int64_t r = r0; r < r1; r++) {
    const float *xr = x + r * C;
    float *yr = y + r * C, m, inv;
    row_stats(xr, C, eps, &m, &inv);
    v128_t mv = wasm_f32x4_splat(m), iv = wasm_f32x4_splat(inv);
    for (int c = 0; c < nv; c += 4) {
      v128_t v = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), mv), iv);
      wasm_v128_store(yr + c, wasm_f32x4_add(wasm_f32x4_mul(v, wasm_v128_load(gamma + c)), wasm_v128_load(beta + c)));
    }
    for (int c = nv; c < C; c++) yr[c] = (xr[c] - m) * inv * gamma[c] + beta[c];
  }
}

/** dx = inv·(gd - mean(gd) - x̂·mean(gd·x̂)) with gd = dy·γ, per row. */
EXPORT(layer_norm_grad_input)
void layer_norm_grad_input(const float *x, const float *gamma, const float *dy, float *dx, int rows, int C, double eps, int tid, int nthreads) {
  int64_t r0, r1;
  thread_range(rows, tid, nthreads, &r0, &r1);
  for (int64_t r = r0; r < r1; r++) {
    const float *xr = x + r * C, *gr = dy + r * C;
    float *out = dx + r * C, m, inv;
    row_stats(xr, C, eps, &m, &inv);
    double s = 0, sx = 0;
    for (int c = 0; c < C; c++) {
      float gd = gr[c] * gamma[c];
      s += gd;
      sx += gd * ((xr[c] - m) * inv);
    }
    float m1 = (float)(s / C), m2 = (float)(sx / C);
    for (int c = 0; c < C; c++) {
      float xhat = (xr[c] - m) * inv;
      out[c] = inv * (gr[c] * gamma[c] - m1 - xhat * m2);
    }
  }
}
