// Reductions over x seen as [outer, r, inner] -> [outer, inner] (kernels-core.ts merges axes into
// this form, transposing first when the reduced axes are not one block), and argMax/argMin.
// float32 sum and prod accumulate in double, as the reference backend does.
#include "strata.h"

enum { R_SUM, R_PROD, R_MAX, R_MIN };

static double err_value;
EXPORT(reduce_error_value) double reduce_error_value(void) { return err_value; }

static inline v128_t pick_f32x4(int op, v128_t acc, v128_t x) {  // NaN wins, as in NumPy
  v128_t better = op == R_MAX ? wasm_f32x4_gt(x, acc) : wasm_f32x4_lt(x, acc);
  return wasm_v128_bitselect(x, acc, wasm_v128_or(better, wasm_f32x4_ne(x, x)));
}

// float32 over [outer, r, inner]; outputs [o0, o1) of outer.
static void reduce_f32(int op, const float* x, float* y, int64_t o0, int64_t o1, int64_t r, int64_t inner) {
  for (int64_t o = o0; o < o1; o++) {
    const float* xo = x + o * r * inner;
    float* yo = y + o * inner;
    int64_t i = 0;
    if (op == R_SUM || op == R_PROD) {
      const v128_t init = wasm_f64x2_splat(op == R_SUM ? 0.0 : 1.0);
      if (inner == 1) {  // a contiguous row: four double lanes
        v128_t a0 = init, a1 = init;
        int64_t j = 0;
        for (; j + 4 <= r; j += 4) {
          v128_t v = wasm_v128_load(xo + j);
          v128_t lo = wasm_f64x2_promote_low_f32x4(v), hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
          a0 = op == R_SUM ? wasm_f64x2_add(a0, lo) : wasm_f64x2_mul(a0, lo);
          a1 = op == R_SUM ? wasm_f64x2_add(a1, hi) : wasm_f64x2_mul(a1, hi);
        }
        a0 = op == R_SUM ? wasm_f64x2_add(a0, a1) : wasm_f64x2_mul(a0, a1);
        double s = op == R_SUM ? wasm_f64x2_extract_lane(a0, 0) + wasm_f64x2_extract_lane(a0, 1)
                               : wasm_f64x2_extract_lane(a0, 0) * wasm_f64x2_extract_lane(a0, 1);
        for (; j < r; j++) s = op == R_SUM ? s + xo[j] : s * xo[j];
        yo[0] = (float)s;
        continue;
      }
      for (; i + 16 <= inner; i += 16) {  // a cache line of columns at a time down the r rows
        v128_t a[8];
        for (int k = 0; k < 8; k++) a[k] = init;
        for (int64_t j = 0; j < r; j++) {
          const float* row = xo + j * inner + i;
          for (int k = 0; k < 4; k++) {
            v128_t v = wasm_v128_load(row + 4 * k);
            v128_t lo = wasm_f64x2_promote_low_f32x4(v), hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
            a[2 * k] = op == R_SUM ? wasm_f64x2_add(a[2 * k], lo) : wasm_f64x2_mul(a[2 * k], lo);
            a[2 * k + 1] = op == R_SUM ? wasm_f64x2_add(a[2 * k + 1], hi) : wasm_f64x2_mul(a[2 * k + 1], hi);
          }
        }
        for (int k = 0; k < 4; k++) {
          v128_t f0 = wasm_f32x4_demote_f64x2_zero(a[2 * k]), f1 = wasm_f32x4_demote_f64x2_zero(a[2 * k + 1]);
          wasm_v128_store(yo + i + 4 * k, wasm_i32x4_shuffle(f0, f1, 0, 1, 4, 5));
        }
      }
      for (; i + 4 <= inner; i += 4) {  // four columns at a time down the r rows
        v128_t a0 = init, a1 = init;
        for (int64_t j = 0; j < r; j++) {
          v128_t v = wasm_v128_load(xo + j * inner + i);
          v128_t lo = wasm_f64x2_promote_low_f32x4(v), hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
          a0 = op == R_SUM ? wasm_f64x2_add(a0, lo) : wasm_f64x2_mul(a0, lo);
          a1 = op == R_SUM ? wasm_f64x2_add(a1, hi) : wasm_f64x2_mul(a1, hi);
        }
        v128_t f0 = wasm_f32x4_demote_f64x2_zero(a0), f1 = wasm_f32x4_demote_f64x2_zero(a1);
        wasm_v128_store(yo + i, wasm_i32x4_shuffle(f0, f1, 0, 1, 4, 5));
      }
      for (; i < inner; i++) {
        double s = op == R_SUM ? 0.0 : 1.0;
        for (int64_t j = 0; j < r; j++) s = op == R_SUM ? s + xo[j * inner + i] : s * xo[j * inner + i];
        yo[i] = (float)s;
      }
    } else {
      const v128_t init = wasm_f32x4_splat(op == R_MAX ? -__builtin_inff() : __builtin_inff());
      if (inner == 1) {
        v128_t acc = init;
        int64_t j = 0;
        for (; j + 4 <= r; j += 4) acc = pick_f32x4(op, acc, wasm_v128_load(xo + j));
        for (; j < r; j++) acc = pick_f32x4(op, acc, wasm_f32x4_splat(xo[j]));
        acc = pick_f32x4(op, acc, wasm_i32x4_shuffle(acc, acc, 2, 3, 0, 1));
        acc = pick_f32x4(op, acc, wasm_i32x4_shuffle(acc, acc, 1, 0, 3, 2));
        yo[0] = wasm_f32x4_extract_lane(acc, 0);
        continue;
      }
      for (; i + 16 <= inner; i += 16) {
        v128_t a0 = init, a1 = init, a2 = init, a3 = init;
        for (int64_t j = 0; j < r; j++) {
          const float* row = xo + j * inner + i;
          a0 = pick_f32x4(op, a0, wasm_v128_load(row));
          a1 = pick_f32x4(op, a1, wasm_v128_load(row + 4));
          a2 = pick_f32x4(op, a2, wasm_v128_load(row + 8));
          a3 = pick_f32x4(op, a3, wasm_v128_load(row + 12));
        }
        wasm_v128_store(yo + i, a0);
        wasm_v128_store(yo + i + 4, a1);
        wasm_v128_store(yo + i + 8, a2);
        wasm_v128_store(yo + i + 12, a3);
      }
      for (; i + 4 <= inner; i += 4) {
        v128_t acc = init;
        for (int64_t j = 0; j < r; j++) acc = pick_f32x4(op, acc, wasm_v128_load(xo + j * inner + i));
        wasm_v128_store(yo + i, acc);
      }
      for (; i < inner; i++) {
        v128_t acc = init;
        for (int64_t j = 0; j < r; j++) acc = pick_f32x4(op, acc, wasm_f32x4_splat(xo[j * inner + i]));
        yo[i] = wasm_f32x4_extract_lane(acc, 0);
      }
    }
  }
}

static inline double load_d(int dt, const void* p, int64_t i) {
  return dt == DT_I32 ? (double)((const int32_t*)p)[i] : (double)((const uint8_t*)p)[i];
}

// Returns -1, or the first output index whose int32 sum or product leaves the int32 range (Note
// [int32 reductions] in src/backend/reference/reduce.ts; its value is reduce_error_value()).
EXPORT(reduce)
int reduce(int op, int dt, const void* x, void* y, int outer, int r, int inner, int tid, int nthreads) {
  int64_t o0, o1;
  thread_range(outer, tid, nthreads, &o0, &o1);
  if (dt == DT_F32) {
    reduce_f32(op, x, y, o0, o1, r, inner);
    return -1;
  }
  for (int64_t o = o0; o < o1; o++) {
    for (int64_t i = 0; i < inner; i++) {
      const int64_t base = o * (int64_t)r * inner + i;
      double acc;
      if (op == R_SUM && dt == DT_I32) {  // exact in int64
        int64_t s = 0;
        for (int64_t j = 0; j < r; j++) s += ((const int32_t*)x)[base + j * inner];
        acc = (double)s;
      } else {
        acc = op == R_SUM ? 0 : op == R_PROD ? 1 : op == R_MAX ? -__builtin_inf() : __builtin_inf();
        for (int64_t j = 0; j < r; j++) {
          const double v = load_d(dt, x, base + j * inner);
          acc = op == R_SUM ? acc + v : op == R_PROD ? acc * v : op == R_MAX ? (v > acc ? v : acc) : (v < acc ? v : acc);
        }
        if (op == R_PROD && acc != acc) acc = 0;  // ±Infinity times a zero factor
      }
      const int64_t at = o * inner + i;
      if (dt == DT_I32 && op > R_PROD) {  // max and min cannot overflow (an empty one stores 0, as an Int32Array does)
        ((int32_t*)y)[at] = wrap_i32(acc);
      } else if (dt == DT_I32) {
        if (!(acc > -2147483649.0 && acc < 2147483648.0)) {
          err_value = acc;
          return (int)at;
        }
        ((int32_t*)y)[at] = (int32_t)acc;
      } else {
        ((uint8_t*)y)[at] = (uint8_t)acc;
      }
    }
  }
  return -1;
}

// argMax (is_max) / argMin along the middle axis of [outer, n, inner] -> int32 [outer, inner]; the
// first occurrence wins ties and NaN counts as the extreme.
EXPORT(arg_reduce)
void arg_reduce(int is_max, int dt, const void* x, int32_t* y, int outer, int n, int inner, int tid, int nthreads) {
  int64_t o0, o1;
  thread_range(outer, tid, nthreads, &o0, &o1);
  for (int64_t o = o0; o < o1; o++) {
    for (int64_t i = 0; i < inner; i++) {
      const int64_t base = o * (int64_t)n * inner + i;
      double best = dt == DT_F32 ? ((const float*)x)[base] : load_d(dt, x, base);
      int32_t at = 0;
      for (int64_t j = 1; j < n && best == best; j++) {
        const double v = dt == DT_F32 ? ((const float*)x)[base + j * inner] : load_d(dt, x, base + j * inner);
        if ((is_max ? v > best : v < best) || v != v) {
          best = v;
          at = (int32_t)j;
        }
      }
      y[o * inner + i] = at;
    }
  }
}
