// The pointwise part of one LSTM or GRU step (src/backend/reference/recurrent.ts has the same in
// float64; Note [Fused recurrent cells] in src/ops/recurrent-cells.ts the formulas and layouts):
// 4 units at a time with the SIMD sigmoid and tanh of math.c, rows split across threads.
#include "strata.h"

#define F4(c) wasm_f32x4_splat(c)
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul

// Loads 4 units, or 1 (splat) at a row's tail; stores likewise.
static inline v128_t ld(const float* p, int w) { return w == 4 ? wasm_v128_load(p) : wasm_f32x4_splat(*p); }
static inline void st(float* p, v128_t v, int w) {
  if (w == 4)
    wasm_v128_store(p, v);
  else
    *p = wasm_f32x4_extract_lane(v, 0);
}
static inline v128_t dsig(v128_t s) { return MUL(s, SUB(F4(1.0f), s)); }  // s (1 - s)

// z [B, 4u], cPrev [B, u] -> [B, 2u]: h = o tanh(c), c = f cPrev + i g.
EXPORT(lstm_cell) void lstm_cell(const float* z, const float* cp, float* y, int batch, int u, int tid, int nthreads) {
  int64_t b0, b1;
  thread_range(batch, tid, nthreads, &b0, &b1);
  for (int64_t b = b0; b < b1; b++) {
    const float* zr = z + b * 4 * u;
    float* yr = y + b * 2 * u;
    for (int j = 0, w; j < u; j += w) {
      w = u - j >= 4 ? 4 : 1;
      const v128_t i = v_sigmoid(ld(zr + j, w)), f = v_sigmoid(ld(zr + u + j, w));
      const v128_t g = v_tanh(ld(zr + 2 * u + j, w)), o = v_sigmoid(ld(zr + 3 * u + j, w));
      const v128_t c = ADD(MUL(f, ld(cp + b * u + j, w)), MUL(i, g));
      st(yr + j, MUL(o, v_tanh(c)), w);
      st(yr + u + j, c, w);
    }
  }
}

// z, cPrev, g = [dh | dc] -> [dz (4u) | dcPrev (u)], recomputing the gates.
EXPORT(lstm_cell_grad)
void lstm_cell_grad(const float* z, const float* cp, const float* g, float* y, int batch, int u, int tid, int nthreads) {
  int64_t b0, b1;
  thread_range(batch, tid, nthreads, &b0, &b1);
  for (int64_t b = b0; b < b1; b++) {
    const float *zr = z + b * 4 * u, *gr = g + b * 2 * u;
    float* yr = y + b * 5 * u;
    for (int j = 0, w; j < u; j += w) {
      w = u - j >= 4 ? 4 : 1;
      const v128_t i = v_sigmoid(ld(zr + j, w)), f = v_sigmoid(ld(zr + u + j, w));
      const v128_t gg = v_tanh(ld(zr + 2 * u + j, w)), o = v_sigmoid(ld(zr + 3 * u + j, w));
      const v128_t p = ld(cp + b * u + j, w);
      const v128_t t = v_tanh(ADD(MUL(f, p), MUL(i, gg)));
      const v128_t dh = ld(gr + j, w);
      // The gradient reaching c: from c's own use plus through h = o tanh(c).
      const v128_t dc = ADD(ld(gr + u + j, w), MUL(MUL(dh, o), SUB(F4(1.0f), MUL(t, t))));
      st(yr + j, MUL(MUL(dc, gg), dsig(i)), w);
      st(yr + u + j, MUL(MUL(dc, p), dsig(f)), w);
      st(yr + 2 * u + j, MUL(MUL(dc, i), SUB(F4(1.0f), MUL(gg, gg))), w);
      st(yr + 3 * u + j, MUL(MUL(dh, t), dsig(o)), w);
      st(yr + 4 * u + j, MUL(dc, f), w);
    }
  }
}

// xz, hz [B, 3u], hPrev [B, u] -> h = z hPrev + (1 - z) hh, hh = tanh(xz_h + r hz_h).
EXPORT(gru_cell) void gru_cell(const float* xz, const float* hz, const float* hp, float* y, int batch, int u, int tid, int nthreads) {
  int64_t b0, b1;
  thread_range(batch, tid, nthreads, &b0, &b1);
  for (int64_t b = b0; b < b1; b++) {
    const float *xr = xz + b * 3 * u, *hr = hz + b * 3 * u;
    for (int j = 0, w; j < u; j += w) {
      w = u - j >= 4 ? 4 : 1;
      const v128_t zg = v_sigmoid(ADD(ld(xr + j, w), ld(hr + j, w)));
      const v128_t r = v_sigmoid(ADD(ld(xr + u + j, w), ld(hr + u + j, w)));
      const v128_t hh = v_tanh(ADD(ld(xr + 2 * u + j, w), MUL(r, ld(hr + 2 * u + j, w))));
      st(y + b * u + j, ADD(MUL(zg, ld(hp + b * u + j, w)), MUL(SUB(F4(1.0f), zg), hh)), w);
    }
  }
}

// xz, hz, hPrev, dh [B, u] -> [dxz (3u) | dhz (3u) | dhPrev (u)], recomputing the gates.
EXPORT(gru_cell_grad)
void gru_cell_grad(const float* xz, const float* hz, const float* hp, const float* dy, float* y, int batch, int u, int tid, int nthreads) {
  int64_t b0, b1;
  thread_range(batch, tid, nthreads, &b0, &b1);
  for (int64_t b = b0; b < b1; b++) {
    const float *xr = xz + b * 3 * u, *hr = hz + b * 3 * u;
    float* yr = y + b * 7 * u;
    for (int j = 0, w; j < u; j += w) {
      w = u - j >= 4 ? 4 : 1;
      const v128_t zg = v_sigmoid(ADD(ld(xr + j, w), ld(hr + j, w)));
      const v128_t r = v_sigmoid(ADD(ld(xr + u + j, w), ld(hr + u + j, w)));
      const v128_t hzh = ld(hr + 2 * u + j, w);
      const v128_t hh = v_tanh(ADD(ld(xr + 2 * u + j, w), MUL(r, hzh)));
      const v128_t d = ld(dy + b * u + j, w);
      const v128_t dz = MUL(MUL(d, SUB(ld(hp + b * u + j, w), hh)), dsig(zg));
      const v128_t dn = MUL(MUL(d, SUB(F4(1.0f), zg)), SUB(F4(1.0f), MUL(hh, hh)));
      const v128_t dr = MUL(MUL(dn, hzh), dsig(r));
      st(yr + j, dz, w);
      st(yr + u + j, dr, w);
      st(yr + 2 * u + j, dn, w);
      st(yr + 3 * u + j, dz, w);
      st(yr + 4 * u + j, dr, w);
      st(yr + 5 * u + j, MUL(dn, r), w);
      st(yr + 6 * u + j, MUL(d, zg), w);
    }
  }
}
