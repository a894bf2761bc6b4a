// 2-D convolutions (NHWC activations, [kh, kw, cin, cout] filters) for the wasm backend, as
// im2col + the packed SGEMM of gemm.c.
#include "gemm.h"

// Note [WASM convolution by im2col]
// Seen per output pixel, a convolution is a matrix product: row p of `cols` holds the kh·kw·cin
// input values the filter taps of pixel p read (zeros where a tap falls in the padding), and
//   y      = cols · F            [P, kkc] x [kkc, cout]
//   dcols  = dy · Fᵀ             then col2im adds each column back to the input pixel it came from
//   dF     = colsᵀ · dy          summed over all pixels
// with P = N·OH·OW and kkc = kh·kw·cin, F the filter as [kkc, cout] (its own layout). cols is
// never built whole (it is kh·kw times the input): each thread fills a chunk of rows in its own
// workspace slot (after the GEMM_WS_FLOATS gemm_range packs into) and multiplies it at once, so
// the chunk is still in cache. A 1x1 filter with unit strides and no padding needs no cols at
// all: x itself is [P, cin].
// Threads split what they write, so nothing is summed across threads: forward by pixels; the
// input gradient by images (col2im adds into one image only), or by input channels when there
// are fewer images than threads; the filter gradient by rows of dF (the kkc columns of cols,
// which each thread gathers only its share of); the bias gradient by channels.

typedef struct {
  int n, h, w, c, kh, kw, o, oh, ow, sh, sw, dh, dw, top, left;
} Geo;

static int pointwise(const Geo *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->top == 0 && g->left == 0 && g->oh == g->h && g->ow == g->w;
}

static void range(int64_t size, int unit, int tid, int nt, int *from, int *to) {
  int64_t units = (size + unit - 1) / unit, a, b;
  thread_range(units, tid, nt, &a, &b);
  a *= unit;
  b *= unit;
  *from = (int)(a < size ? a : size);
  *to = (int)(b < size ? b : size);
}

static void copy_floats(float *restrict d, const float *restrict s, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(d + i, wasm_v128_load(s + i));
  for (; i < n; i++) d[i] = s[i];
}

static void zero_floats(float *d, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(d + i, wasm_f32x4_splat(0.0f));
  for (; i < n; i++) d[i] = 0.0f;
}

static void add_floats(float *restrict d, const float *restrict s, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(d + i, wasm_f32x4_add(wasm_v128_load(d + i), wasm_v128_load(s + i)));
  for (; i < n; i++) d[i] += s[i];
}

// Output pixel p as its image's first input element and the window's top-left corner (ih0, iw0),
// so that tap (i, j) reads (ih0 + i·dh, iw0 + j·dw) when that is inside the image.
typedef struct {
  int64_t image;
  int ih0, iw0;
} Pixel;

static Pixel pixel_of(const Geo *g, int p) {
  int per = g->oh * g->ow, n = p / per, rem = p % per, y = rem / g->ow, x = rem % g->ow;
  Pixel px = {(int64_t)n * g->h * g->w * g->c, y * g->sh - g->top, x * g->sw - g->left};
  return px;
}

// The input offset of tap (i, j) of a pixel, or -1 in the padding.
static inline int64_t tap_at(const Geo *g, const Pixel *px, int i, int j) {
  int ih = px->ih0 + i * g->dh, iw = px->iw0 + j * g->dw;
  if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w) return -1;
  return px->image + ((int64_t)ih * g->w + iw) * g->c;
}

// Loops over the taps (i, j) of a pixel in filter order as t = i·kw + j with `at` their input
// offset (-1 in the padding): nested loops, so no division per tap.
#define FOR_TAPS(g, px, t, at)                                                                                                       \
  for (int t##_i = 0, t = 0; t##_i < (g)->kh; t##_i++)                                                                            \
    for (int t##_j = 0; t##_j < (g)->kw; t##_j++, t++)                                                                            \
      for (int64_t at = tap_at(g, px, t##_i, t##_j), t##_once = 1; t##_once; t##_once = 0)

// Rows [p0, p0 + rows) of cols, columns [q0, q1) only, into dst (leading dimension q1 - q0).
static void im2col(const Geo *g, const float *x, int p0, int rows, int q0, int q1, float *dst) {
  int ld = q1 - q0, c = g->c, taps = g->kh * g->kw;
  for (int r = 0; r < rows; r++) {
    float *row = dst + (size_t)r * ld;
    Pixel px = pixel_of(g, p0 + r);
    if (c == 1 && q0 == 0 && q1 == taps) {
      // One channel: a tap is one value, no copy loop.
      FOR_TAPS(g, &px, t, at) row[t] = at < 0 ? 0.0f : x[at];
      continue;
    }
    FOR_TAPS(g, &px, t, at) {
      if ((t + 1) * c <= q0 || t * c >= q1) continue;
      int lo = t * c > q0 ? t * c : q0, hi = (t + 1) * c < q1 ? (t + 1) * c : q1;
      if (at < 0)
        zero_floats(row + lo - q0, hi - lo);
      else
        copy_floats(row + lo - q0, x + at + (lo - t * c), hi - lo);
    }
  }
}

// dx += col2im(dcols) for rows [p0, p0 + rows) (leading dimension kkc), channels [c0, c1).
static void col2im(const Geo *g, const float *dcols, int p0, int rows, int c0, int c1, float *dx) {
  int taps = g->kh * g->kw, kkc = taps * g->c;
  for (int r = 0; r < rows; r++) {
    Pixel px = pixel_of(g, p0 + r);
    const float *src = dcols + (size_t)r * kkc;
    FOR_TAPS(g, &px, t, at) {
      if (at < 0) continue;
      if (c1 - c0 == 1)
        dx[at + c0] += src[t * g->c + c0];
      else
        add_floats(dx + at + c0, src + t * g->c + c0, c1 - c0);
    }
  }
}

// Pixels per chunk of cols that fit a slot of slotFloats (at least one).
static int chunk_rows(int64_t slotFloats, int width) {
  int64_t rows = (slotFloats - GEMM_WS_FLOATS) / (width > 0 ? width : 1);
  return rows < 1 ? 1 : rows > (1 << 20) ? (1 << 20) : (int)rows;
}

#define GEO_PARAMS                                                                                                                   \
  int n, int h, int w, int c, int kh, int kw, int o, int oh, int ow, int sh, int sw, int dh, int dw, int top, int left
#define GEO_INIT {n, h, w, c, kh, kw, o, oh, ow, sh, sw, dh, dw, top, left}

// A thin input (kkc <= CONV_DIRECT_KKC, the first layer of an image network: 3x3 over 1 or 3
// channels) makes im2col + SGEMM a poor fit: k steps of 9 or 27 leave the micro-kernel mostly
// loading and storing its tile, and the copy into cols costs as much as the products. Directly,
// each output pixel's kkc inputs are gathered into registers' reach (a local row) and multiplied
// into 16 output channels at a time, two pixels sharing each load of the filter (kkc x o floats,
// in L1), with the bias and ReLU applied before the one store.
#define CONV_DIRECT_KKC 32

static inline v128_t conv_finish(v128_t acc, const float *bias, int relu) {
  if (bias) acc = wasm_f32x4_add(acc, wasm_v128_load(bias));
  return relu ? wasm_f32x4_pmax(acc, wasm_f32x4_splat(0.0f)) : acc;
}

static void conv_direct(const Geo *g, const float *x, const float *f, const float *bias, int relu, float *y, int p0, int p1) {
  int kkc = g->kh * g->kw * g->c, o = g->o, ov = o / 16 * 16;
  float rows[2][CONV_DIRECT_KKC];
  for (int p = p0; p < p1; p += 2) {
    int two = p + 1 < p1;
    for (int r = 0; r <= two; r++) im2col(g, x, p + r, 1, 0, kkc, rows[r]);
    if (!two)
      for (int q = 0; q < kkc; q++) rows[1][q] = 0.0f;
    float *y0 = y + (size_t)p * o, *y1 = y0 + o;
    int j = 0;
    for (; j < ov; j += 16) {
      v128_t z = wasm_f32x4_splat(0.0f), a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
      for (int q = 0; q < kkc; q++) {
        const float *fq = f + (size_t)q * o + j;
        v128_t f0 = wasm_v128_load(fq), f1 = wasm_v128_load(fq + 4), f2 = wasm_v128_load(fq + 8), f3 = wasm_v128_load(fq + 12);
        v128_t s = wasm_f32x4_splat(rows[0][q]), t = wasm_f32x4_splat(rows[1][q]);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(s, f0));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(s, f1));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(s, f2));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(s, f3));
        b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(t, f0));
        b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(t, f1));
        b2 = wasm_f32x4_add(b2, wasm_f32x4_mul(t, f2));
        b3 = wasm_f32x4_add(b3, wasm_f32x4_mul(t, f3));
      }
      const float *bj = bias ? bias + j : 0;
      wasm_v128_store(y0 + j, conv_finish(a0, bj, relu));
      wasm_v128_store(y0 + j + 4, conv_finish(a1, bj ? bj + 4 : 0, relu));
      wasm_v128_store(y0 + j + 8, conv_finish(a2, bj ? bj + 8 : 0, relu));
      wasm_v128_store(y0 + j + 12, conv_finish(a3, bj ? bj + 12 : 0, relu));
      if (two) {
        wasm_v128_store(y1 + j, conv_finish(b0, bj, relu));
        wasm_v128_store(y1 + j + 4, conv_finish(b1, bj ? bj + 4 : 0, relu));
        wasm_v128_store(y1 + j + 8, conv_finish(b2, bj ? bj + 8 : 0, relu));
        wasm_v128_store(y1 + j + 12, conv_finish(b3, bj ? bj + 12 : 0, relu));
      }
    }
    // The last o % 16 channels, one at a time (as the reference: the sum, then the bias, then the ReLU).
    for (; j < o; j++)
      for (int r = 0; r <= two; r++) {
        float acc = 0.0f;
        for (int q = 0; q < kkc; q++) acc += rows[r][q] * f[(size_t)q * o + j];
        if (bias) acc += bias[j];
        y[(size_t)(p + r) * o + j] = relu && acc < 0 ? 0.0f : acc;
      }
  }
}

/** y [n, oh, ow, o] = act(conv(x, f) + bias); bias [o] or 0. */
EXPORT(conv2d_forward)
void conv2d_forward(const float *x, const float *f, const float *bias, int relu, float *y, GEO_PARAMS, float *ws, int slotFloats, int slots, int tid,
                    int nthreads) {
  Geo g = GEO_INIT;
  int nt = nthreads < slots ? nthreads : slots;
  if (tid >= nt) return;
  ws += (size_t)tid * slotFloats;
  float *cols = ws + GEMM_WS_FLOATS;
  int kkc = kh * kw * c, pixels = n * oh * ow, p0, p1;
  range(pixels, GEMM_MR, tid, nt, &p0, &p1);
  if (pointwise(&g)) {
    if (p0 < p1) gemm_range(x + (size_t)p0 * c, c, 1, f, o, 1, y + (size_t)p0 * o, o, c, 0, p1 - p0, 0, o, bias, relu, 0, ws);
    return;
  }
  if (kkc <= CONV_DIRECT_KKC && o >= 16) {
    conv_direct(&g, x, f, bias, relu, y, p0, p1);
    return;
  }
  int step = chunk_rows(slotFloats, kkc);
  for (int p = p0; p < p1; p += step) {
    int rows = p1 - p < step ? p1 - p : step;
    im2col(&g, x, p, rows, 0, kkc, cols);
    gemm_range(cols, kkc, 1, f, o, 1, y + (size_t)p * o, o, kkc, 0, rows, 0, o, bias, relu, 0, ws);
  }
}

/** dx [n, h, w, c] of dy [n, oh, ow, o] through the filter. */
EXPORT(conv2d_backprop_input)
void conv2d_backprop_input(const float *dy, const float *f, float *dx, GEO_PARAMS, float *ws, int slotFloats, int slots, int tid, int nthreads) {
  Geo g = GEO_INIT;
  int nt = nthreads < slots ? nthreads : slots;
  if (tid >= nt) return;
  ws += (size_t)tid * slotFloats;
  float *dcols = ws + GEMM_WS_FLOATS;
  int kkc = kh * kw * c, per = oh * ow, image = h * w * c;
  if (pointwise(&g)) {
    int p0, p1;
    range((int64_t)n * per, GEMM_MR, tid, nt, &p0, &p1);
    if (p0 < p1) gemm_range(dy + (size_t)p0 * o, o, 1, f, 1, o, dx + (size_t)p0 * c, c, o, 0, p1 - p0, 0, c, 0, 0, 0, ws);
    return;
  }
  int step = chunk_rows(slotFloats, kkc);
  if (n >= nt) {
    int i0, i1;
    range(n, 1, tid, nt, &i0, &i1);
    zero_floats(dx + (size_t)i0 * image, (i1 - i0) * image);
    for (int p = i0 * per; p < i1 * per; p += step) {
      int rows = i1 * per - p < step ? i1 * per - p : step;
      gemm_range(dy + (size_t)p * o, o, 1, f, 1, o, dcols, kkc, o, 0, rows, 0, kkc, 0, 0, 0, ws);
      col2im(&g, dcols, p, rows, 0, c, dx);
    }
    return;
  }
  // Fewer images than threads: each thread owns input channels [c0, c1) and computes only the
  // dcols columns of those channels, one filter tap at a time.
  int c0, c1;
  range(c, 1, tid, nt, &c0, &c1);
  if (c0 >= c1) return;
  for (int64_t i = 0; i < (int64_t)n * h * w; i++) zero_floats(dx + i * c + c0, c1 - c0);
  for (int p = 0; p < n * per; p += step) {
    int rows = n * per - p < step ? n * per - p : step;
    for (int t = 0; t < kh * kw; t++) gemm_range(dy + (size_t)p * o, o, 1, f, 1, o, dcols, kkc, o, 0, rows, t * c + c0, t * c + c1, 0, 0, 0, ws);
    col2im(&g, dcols, p, rows, c0, c1, dx);
  }
}

/**
 * df [kh, kw, c, o] = Σ colsᵀ · dy; with withBias, db [o] = Σ dy over pixels right after it
 * (conv2dBackpropFilterBias's flat [dfilter | dbias]).
 */
EXPORT(conv2d_backprop_filter)
void conv2d_backprop_filter(const float *x, const float *dy, float *df, int withBias, GEO_PARAMS, float *ws, int slotFloats, int slots, int tid,
                            int nthreads) {
  Geo g = GEO_INIT;
  int nt = nthreads < slots ? nthreads : slots;
  if (tid >= nt) return;
  ws += (size_t)tid * slotFloats;
  float *cols = ws + GEMM_WS_FLOATS;
  int kkc = kh * kw * c, pixels = n * oh * ow;
  if (withBias) {
    int o0, o1;
    range(o, 1, tid, nt, &o0, &o1);
    float *db = df + (size_t)kkc * o;
    for (int j = o0; j < o1; j++) db[j] = 0.0f;
    for (int p = 0; p < pixels; p++)
      for (int j = o0; j < o1; j++) db[j] += dy[(size_t)p * o + j];
  }
  int r0, r1;
  range(kkc, pointwise(&g) ? GEMM_MR : 1, tid, nt, &r0, &r1);
  if (r0 >= r1) return;
  float *dst = df + (size_t)r0 * o;
  if (pixels == 0) {
    zero_floats(dst, (r1 - r0) * o);
    return;
  }
  if (pointwise(&g)) {
    gemm_range(x + r0, 1, c, dy, o, 1, dst, o, pixels, 0, r1 - r0, 0, o, 0, 0, 0, ws);
    return;
  }
  int width = r1 - r0, step = chunk_rows(slotFloats, width);
  for (int p = 0; p < pixels; p += step) {
    int rows = pixels - p < step ? pixels - p : step;
    im2col(&g, x, p, rows, r0, r1, cols);
    gemm_range(cols, 1, width, dy + (size_t)p * o, o, 1, dst, o, rows, 0, width, 0, o, 0, 0, p > 0, ws);
  }
}

// ---- Depthwise convolution (Note [Depthwise convolution] in src/ops/depthwise-conv.ts): output
// channel q = c·dm + m is input channel c = q / dm convolved with filter[:, :, c, m], so the
// filter [kh, kw, C, dm] is per tap a row of Q = C·dm values in output-channel order. Direct
// loops with the lanes along q: a row of y, dx or df stays in L1 while the taps add into it.

// Q values x[c = q / dm] for q in [q0, q0 + 4): the input channel of each output lane.
static inline v128_t dw_input(const float *x, int q0, int dm) {
  if (dm == 1) return wasm_v128_load(x + q0);
  return wasm_f32x4_make(x[q0 / dm], x[(q0 + 1) / dm], x[(q0 + 2) / dm], x[(q0 + 3) / dm]);
}

/** y [n, oh, ow, c·dm] = depthwise(x, f); rows of the output split by thread. */
EXPORT(depthwise_forward)
void depthwise_forward(const float *x, const float *f, float *y, int dm, GEO_PARAMS, int tid, int nthreads) {
  Geo g = GEO_INIT;
  int Q = c * dm, qv = Q / 4 * 4;
  int64_t r0, r1;
  thread_range((int64_t)n * oh * ow, tid, nthreads, &r0, &r1);
  for (int64_t p = r0; p < r1; p++) {
    float *yr = y + p * Q;
    zero_floats(yr, Q);
    Pixel px = pixel_of(&g, (int)p);
    FOR_TAPS(&g, &px, t, at) {
      if (at < 0) continue;
      const float *xr = x + at, *fr = f + (size_t)t * Q;
      int q = 0;
      for (; q < qv; q += 4)
        wasm_v128_store(yr + q, wasm_f32x4_add(wasm_v128_load(yr + q), wasm_f32x4_mul(dw_input(xr, q, dm), wasm_v128_load(fr + q))));
      for (; q < Q; q++) yr[q] += xr[q / dm] * fr[q];
    }
  }
}

/** dx [n, h, w, c] of dy [n, oh, ow, c·dm]: by images, or by input channels when n < nthreads. */
EXPORT(depthwise_backprop_input)
void depthwise_backprop_input(const float *dy, const float *f, float *dx, int dm, GEO_PARAMS, int tid, int nthreads) {
  Geo g = GEO_INIT;
  int Q = c * dm, per = oh * ow, i0 = 0, i1 = n, c0 = 0, c1 = c;
  if (n >= nthreads)
    range(n, 1, tid, nthreads, &i0, &i1);
  else
    range(c, 1, tid, nthreads, &c0, &c1);
  if (i0 >= i1 || c0 >= c1) return;
  if (c0 == 0 && c1 == c)
    zero_floats(dx + (size_t)i0 * h * w * c, (i1 - i0) * h * w * c);
  else
    for (int64_t i = (int64_t)i0 * h * w; i < (int64_t)i1 * h * w; i++) zero_floats(dx + i * c + c0, c1 - c0);
  for (int p = i0 * per; p < i1 * per; p++) {
    Pixel px = pixel_of(&g, p);
    const float *gr = dy + (size_t)p * Q;
    FOR_TAPS(&g, &px, t, at) {
      if (at < 0) continue;
      const float *fr = f + (size_t)t * Q;
      float *xr = dx + at;
      if (dm == 1) {
        int k = c0;
        for (; k + 4 <= c1; k += 4)
          wasm_v128_store(xr + k, wasm_f32x4_add(wasm_v128_load(xr + k), wasm_f32x4_mul(wasm_v128_load(gr + k), wasm_v128_load(fr + k))));
        for (; k < c1; k++) xr[k] += gr[k] * fr[k];
      } else {
        for (int k = c0; k < c1; k++) {
          float s = 0.0f;
          for (int m = 0; m < dm; m++) s += gr[k * dm + m] * fr[k * dm + m];
          xr[k] += s;
        }
      }
    }
  }
}

/** df [kh, kw, c, dm] = Σ over pixels of x · dy per tap; output channels split by thread. */
EXPORT(depthwise_backprop_filter)
void depthwise_backprop_filter(const float *x, const float *dy, float *df, int dm, GEO_PARAMS, int tid, int nthreads) {
  Geo g = GEO_INIT;
  int Q = c * dm, taps = kh * kw, q0, q1;
  range(Q, 4, tid, nthreads, &q0, &q1);
  if (q0 >= q1) return;
  for (int t = 0; t < taps; t++) zero_floats(df + (size_t)t * Q + q0, q1 - q0);
  int qv = q0 + (q1 - q0) / 4 * 4;
  for (int p = 0; p < n * oh * ow; p++) {
    Pixel px = pixel_of(&g, p);
    const float *gr = dy + (size_t)p * Q;
    FOR_TAPS(&g, &px, t, at) {
      if (at < 0) continue;
      const float *xr = x + at;
      float *fr = df + (size_t)t * Q;
      int q = q0;
      for (; q < qv; q += 4)
        wasm_v128_store(fr + q, wasm_f32x4_add(wasm_v128_load(fr + q), wasm_f32x4_mul(dw_input(xr, q, dm), wasm_v128_load(gr + q))));
      for (; q < q1; q++) fr[q] += xr[q / dm] * gr[q];
    }
  }
}
