// 2-D max and average pooling (NHWC) for the wasm backend, as src/backend/reference/pool.ts:
// windows never read padding; max pooling keeps NaN and sends the gradient to the first maximum
// of its window (the first NaN if there is one); average pooling divides by the window's real
// pixels. Channels are the SIMD lanes: each window is walked once for four channels at a time.
#include "strata.h"

typedef struct {
  int n, h, w, c, ph, pw, sh, sw, top, left, oh, ow;
} PoolGeo;

#define POOL_PARAMS int n, int h, int w, int c, int ph, int pw, int sh, int sw, int top, int left, int oh, int ow
#define POOL_INIT {n, h, w, c, ph, pw, sh, sw, top, left, oh, ow}

// The window of output pixel (b, i, j) clipped to the image: rows [*i0, *i1), columns [*j0, *j1).
static void window(const PoolGeo *g, int i, int j, int *i0, int *i1, int *j0, int *j1) {
  int r = i * g->sh - g->top, q = j * g->sw - g->left;
  *i0 = r < 0 ? 0 : r;
  *i1 = r + g->ph < g->h ? r + g->ph : g->h;
  *j0 = q < 0 ? 0 : q;
  *j1 = q + g->pw < g->w ? q + g->pw : g->w;
}

// A thread's share of the output rows (n * oh of them).
static void rows_of(const PoolGeo *g, int tid, int nt, int *r0, int *r1) {
  int64_t a, b;
  thread_range((int64_t)g->n * g->oh, tid, nt, &a, &b);
  *r0 = (int)a;
  *r1 = (int)b;
}

// Gradient kernels add into dx, whose windows overlap: a thread owns whole images, or a range of
// channels of every image when there are fewer images than threads. Its part of dx is zeroed.
static void grad_region(const PoolGeo *g, float *dx, int tid, int nt, int *b0, int *b1, int *c0, int *c1) {
  int64_t a, b;
  if (g->n >= nt) {
    thread_range(g->n, tid, nt, &a, &b);
    *b0 = (int)a, *b1 = (int)b, *c0 = 0, *c1 = g->c;
  } else {
    thread_range(g->c, tid, nt, &a, &b);
    *b0 = 0, *b1 = g->n, *c0 = (int)a, *c1 = (int)b;
  }
  int64_t p0 = (int64_t)*b0 * g->h * g->w, p1 = (int64_t)*b1 * g->h * g->w;
  if (*c0 == 0 && *c1 == g->c) {
    __builtin_memset(dx + p0 * g->c, 0, (size_t)(p1 - p0) * g->c * sizeof(float));  // memory.fill
    return;
  }
  for (int64_t p = p0; p < p1; p++)
    for (int k = *c0; k < *c1; k++) dx[p * g->c + k] = 0.0f;
}

static const float *pixel(const PoolGeo *g, const float *x, int b, int i, int j) { return x + (((int64_t)b * g->h + i) * g->w + j) * g->c; }

/** y [n, oh, ow, c] = the maximum of each window (NaN if the window holds one; -inf if empty). */
EXPORT(max_pool2d)
void max_pool2d(const float *x, float *y, POOL_PARAMS, int tid, int nthreads) {
  PoolGeo g = POOL_INIT;
  int r0, r1;
  rows_of(&g, tid, nthreads, &r0, &r1);
  for (int r = r0; r < r1; r++) {
    int b = r / oh, i = r % oh;
    for (int j = 0; j < ow; j++) {
      int i0, i1, j0, j1;
      window(&g, i, j, &i0, &i1, &j0, &j1);
      float *out = y + (((int64_t)b * oh + i) * ow + j) * c;
      // The output row is the accumulator (in L1): taps outer, channels inner.
      int cv = c / 4 * 4;
      for (int k = 0; k < c; k++) out[k] = -__builtin_inff();
      for (int p = i0; p < i1; p++)
        for (int q = j0; q < j1; q++) {
          const float *v = pixel(&g, x, b, p, q);
          int k = 0;
          for (; k < cv; k += 4) {
            v128_t m = wasm_v128_load(out + k), t = wasm_v128_load(v + k);
            wasm_v128_store(out + k, wasm_v128_bitselect(t, m, wasm_v128_or(wasm_f32x4_gt(t, m), wasm_f32x4_ne(t, t))));
          }
          for (; k < c; k++)
            if (v[k] > out[k] || v[k] != v[k]) out[k] = v[k];
        }
    }
  }
}

/** dx [n, h, w, c]: dy of each window added at its first maximum (only maxima > 0 with reluMasked). */
EXPORT(max_pool2d_grad)
void max_pool2d_grad(const float *x, const float *dy, float *dx, int reluMasked, POOL_PARAMS, int tid, int nthreads) {
  PoolGeo g = POOL_INIT;
  int b0, b1, c0, c1;
  grad_region(&g, dx, tid, nthreads, &b0, &b1, &c0, &c1);
  for (int b = b0; b < b1; b++)
    for (int i = 0; i < oh; i++)
      for (int j = 0; j < ow; j++) {
        int i0, i1, j0, j1;
        window(&g, i, j, &i0, &i1, &j0, &j1);
        if (i0 >= i1 || j0 >= j1) continue;
        const float *g_dy = dy + (((int64_t)b * oh + i) * ow + j) * c;
        int k = c0;
        for (; k + 4 <= c1; k += 4) {
          // Per lane, the winner's maximum and its pixel offset (from the window's first pixel).
          v128_t m = wasm_f32x4_splat(-__builtin_inff()), at = wasm_i32x4_splat((int32_t)((((int64_t)b * h + i0) * w + j0) * c));
          for (int p = i0; p < i1; p++)
            for (int q = j0; q < j1; q++) {
              v128_t v = wasm_v128_load(pixel(&g, x, b, p, q) + k);
              v128_t take = wasm_v128_or(wasm_f32x4_gt(v, m), wasm_v128_and(wasm_f32x4_ne(v, v), wasm_f32x4_eq(m, m)));
              m = wasm_v128_bitselect(v, m, take);
              at = wasm_v128_bitselect(wasm_i32x4_splat((int32_t)((((int64_t)b * h + p) * w + q) * c)), at, take);
            }
          float ms[4], d[4];
          int32_t ats[4];
          wasm_v128_store(ms, m);
          wasm_v128_store(ats, at);
          wasm_v128_store(d, wasm_v128_load(g_dy + k));
          for (int l = 0; l < 4; l++)
            if (!reluMasked || ms[l] > 0) dx[ats[l] + k + l] += d[l];
        }
        for (; k < c1; k++) {
          float m = -__builtin_inff();
          int64_t at = (((int64_t)b * h + i0) * w + j0) * c;
          for (int p = i0; p < i1; p++)
            for (int q = j0; q < j1; q++) {
              float v = pixel(&g, x, b, p, q)[k];
              if (v > m || (v != v && m == m)) {
                m = v;
                at = (((int64_t)b * h + p) * w + q) * c;
              }
            }
          if (!reluMasked || m > 0) dx[at + k] += g_dy[k];
        }
      }
}

/** y [n, oh, ow, c] = the mean of each window's real pixels. */
EXPORT(avg_pool2d)
void avg_pool2d(const float *x, float *y, POOL_PARAMS, int tid, int nthreads) {
  PoolGeo g = POOL_INIT;
  int r0, r1;
  rows_of(&g, tid, nthreads, &r0, &r1);
  for (int r = r0; r < r1; r++) {
    int b = r / oh, i = r % oh;
    for (int j = 0; j < ow; j++) {
      int i0, i1, j0, j1;
      window(&g, i, j, &i0, &i1, &j0, &j1);
      float count = (float)((i1 > i0 ? i1 - i0 : 0) * (j1 > j0 ? j1 - j0 : 0));
      float *out = y + (((int64_t)b * oh + i) * ow + j) * c;
      int cv = c / 4 * 4;
      for (int k = 0; k < c; k++) out[k] = 0.0f;
      for (int p = i0; p < i1; p++)
        for (int q = j0; q < j1; q++) {
          const float *v = pixel(&g, x, b, p, q);
          int k = 0;
          for (; k < cv; k += 4) wasm_v128_store(out + k, wasm_f32x4_add(wasm_v128_load(out + k), wasm_v128_load(v + k)));
          for (; k < c; k++) out[k] += v[k];
        }
      for (int k = 0; k < c; k++) out[k] /= count;
    }
  }
}

/** dx [n, h, w, c]: each window's dy shared equally among its real pixels. */
EXPORT(avg_pool2d_grad)
void avg_pool2d_grad(const float *dy, float *dx, POOL_PARAMS, int tid, int nthreads) {
  PoolGeo g = POOL_INIT;
  int b0, b1, c0, c1;
  grad_region(&g, dx, tid, nthreads, &b0, &b1, &c0, &c1);
  for (int b = b0; b < b1; b++)
    for (int i = 0; i < oh; i++)
      for (int j = 0; j < ow; j++) {
        int i0, i1, j0, j1;
        window(&g, i, j, &i0, &i1, &j0, &j1);
        if (i0 >= i1 || j0 >= j1) continue;
        v128_t count = wasm_f32x4_splat((float)((i1 - i0) * (j1 - j0)));
        const float *d = dy + (((int64_t)b * oh + i) * ow + j) * c;
        for (int p = i0; p < i1; p++)
          for (int q = j0; q < j1; q++) {
            float *t = dx + (((int64_t)b * h + p) * w + q) * c;
            int k = c0;
            for (; k + 4 <= c1; k += 4) wasm_v128_store(t + k, wasm_f32x4_add(wasm_v128_load(t + k), wasm_f32x4_div(wasm_v128_load(d + k), count)));
            for (; k < c1; k++) t[k] += d[k] / ((float)((i1 - i0) * (j1 - j0)));
          }
      }
}
