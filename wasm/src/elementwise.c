// Elementwise kernels: unary, binary (row pattern and general strided walk), where, reluGrad,
// cast. Op codes follow UNARY_PRIMITIVES and [...ARITHMETIC_PRIMITIVES, ...COMPARISON_PRIMITIVES]
// in src/backend/primitives.ts. float32 takes SIMD loops; int32 and bool go through double like the
// reference backend (int32 results wrap: Note [int32 arithmetic wraps] in native/src/elementwise.cc).
#include "strata.h"

enum { U_NEG, U_ABS, U_EXP, U_LOG, U_SQRT, U_SIGN, U_TANH, U_SIGMOID, U_RELU, U_SIN, U_COS, U_FLOOR, U_CEIL, U_ROUND, U_NOT };
enum { B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAX, B_MIN, B_EQ, B_NE, B_GT, B_GE, B_LT, B_LE, B_AND, B_OR };

static inline double load_d(int dt, const void* p, int64_t i) {
  return dt == DT_F32 ? (double)((const float*)p)[i] : dt == DT_I32 ? (double)((const int32_t*)p)[i] : (double)((const uint8_t*)p)[i];
}
static inline void store_d(int dt, void* p, int64_t i, double v) {
  if (dt == DT_F32)
    ((float*)p)[i] = (float)v;
  else if (dt == DT_I32)
    ((int32_t*)p)[i] = wrap_i32(v);
  else
    ((uint8_t*)p)[i] = (uint8_t)wrap_i32(v);  // as a Uint8Array store (bool ops produce 0 or 1)
}

// ---- unary --------------------------------------------------------------------------------------
static inline v128_t unary_f32x4(int op, v128_t x) {
  const v128_t zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f);
  switch (op) {
    case U_NEG: return wasm_f32x4_neg(x);
    case U_ABS: return wasm_f32x4_abs(x);
    case U_EXP: return v_exp(x);
    case U_LOG: return v_log(x);
    case U_SQRT: return wasm_f32x4_sqrt(x);
    case U_SIGN: {  // keeps 0 and NaN
      v128_t y = wasm_v128_bitselect(one, x, wasm_f32x4_gt(x, zero));
      return wasm_v128_bitselect(wasm_f32x4_splat(-1.0f), y, wasm_f32x4_lt(x, zero));
    }
    case U_TANH: return v_tanh(x);
    case U_SIGMOID: return v_sigmoid(x);
    case U_RELU: return wasm_v128_bitselect(x, zero, wasm_v128_or(wasm_f32x4_gt(x, zero), wasm_f32x4_ne(x, x)));
    case U_SIN: return v_sin(x);
    case U_COS: return v_cos(x);
    case U_FLOOR: return wasm_f32x4_floor(x);
    case U_CEIL: return wasm_f32x4_ceil(x);
    case U_ROUND: return wasm_f32x4_nearest(x);  // halves to even, as NumPy
    default: return wasm_v128_and(wasm_f32x4_eq(x, zero), one);  // logicalNot
  }
}

static inline double unary_d(int op, double x) {
  switch (op) {
    case U_NEG: return -x;
    case U_ABS: return sd_abs(x);
    case U_SIGN: return x > 0 ? 1 : x < 0 ? -1 : x;
    case U_RELU: return x > 0 ? x : (x == x ? 0 : x);
    case U_FLOOR: return sd_floor(x);
    case U_CEIL: return __builtin_ceil(x);
    case U_ROUND: return sd_rint(x);
    case U_NOT: return x != 0 ? 0 : 1;
    case U_SQRT: return __builtin_sqrt(x);
    default: return x;  // exp, log, ... on integers: ops/ casts to float first
  }
}

// The large-argument lanes of sin and cos (|x| >= 2^20, ±Infinity) by the scalar reduction.
static void fix_large_sincos(int op, const float* x, float* y, int64_t from, int64_t to) {
  for (int64_t i = from; i < to; i++) {
    const float v = x[i];
    if (sf_abs(v) >= 1048576.0f) y[i] = op == U_SIN ? s_sinf(v) : s_cosf(v);
  }
}

// One loop per op, so the op's switch is outside the element loop. The tail goes through a splat.
#define MAP_F32(expr)                                                                            \
  do {                                                                                           \
    int64_t i = from;                                                                            \
    for (; i + 4 <= to; i += 4) {                                                                \
      const v128_t v = wasm_v128_load(xs + i);                                                   \
      wasm_v128_store(ys + i, expr);                                                             \
    }                                                                                            \
    for (; i < to; i++) {                                                                        \
      const v128_t v = wasm_f32x4_splat(xs[i]);                                                  \
      ys[i] = wasm_f32x4_extract_lane(expr, 0);                                                  \
    }                                                                                            \
  } while (0)

static void unary_f32(int op, const float* xs, float* ys, int64_t from, int64_t to) {
  switch (op) {
    case U_NEG: MAP_F32(wasm_f32x4_neg(v)); break;
    case U_ABS: MAP_F32(wasm_f32x4_abs(v)); break;
    case U_EXP: MAP_F32(v_exp(v)); break;
    case U_LOG: MAP_F32(v_log(v)); break;
    case U_SQRT: MAP_F32(wasm_f32x4_sqrt(v)); break;
    case U_TANH: MAP_F32(v_tanh(v)); break;
    case U_SIGMOID: MAP_F32(v_sigmoid(v)); break;
    case U_FLOOR: MAP_F32(wasm_f32x4_floor(v)); break;
    case U_CEIL: MAP_F32(wasm_f32x4_ceil(v)); break;
    case U_ROUND: MAP_F32(wasm_f32x4_nearest(v)); break;
    case U_SIN:
    case U_COS: {
      int64_t i = from;
      const v128_t big = wasm_f32x4_splat(1048576.0f);
      for (; i + 4 <= to; i += 4) {
        const v128_t v = wasm_v128_load(xs + i);
        wasm_v128_store(ys + i, op == U_SIN ? v_sin(v) : v_cos(v));
        if (wasm_v128_any_true(wasm_f32x4_ge(wasm_f32x4_abs(v), big))) fix_large_sincos(op, xs, ys, i, i + 4);
      }
      const int64_t tail = i;
      for (; i < to; i++) ys[i] = wasm_f32x4_extract_lane(op == U_SIN ? v_sin(wasm_f32x4_splat(xs[i])) : v_cos(wasm_f32x4_splat(xs[i])), 0);
      fix_large_sincos(op, xs, ys, tail, to);
      break;
    }
    default: MAP_F32(unary_f32x4(op, v)); break;  // sign, relu, logicalNot
  }
}

EXPORT(unary) void unary(int op, int dt, const void* x, void* y, int n, int tid, int nthreads) {
  int64_t from, to;
  thread_range(n, tid, nthreads, &from, &to);
  if (dt == DT_F32) {
    unary_f32(op, x, y, from, to);
    return;
  }
  for (int64_t i = from; i < to; i++) store_d(dt, y, i, unary_d(op, load_d(dt, x, i)));
}

// ---- binary -------------------------------------------------------------------------------------
static inline double binary_d(int op, double a, double b) {
  switch (op) {
    case B_ADD: return a + b;
    case B_SUB: return a - b;
    case B_MUL: return a * b;
    case B_DIV: return a / b;
    case B_POW: return d_pow(a, b);
    case B_MAX: return (a >= b || a != a) ? a : b;  // NaN propagates, as in NumPy
    case B_MIN: return (a <= b || a != a) ? a : b;
    case B_EQ: return a == b;
    case B_NE: return a != b;
    case B_GT: return a > b;
    case B_GE: return a >= b;
    case B_LT: return a < b;
    case B_LE: return a <= b;
    case B_AND: return a != 0 && b != 0;
    default: return a != 0 || b != 0;
  }
}

static inline v128_t binary_f32x4(int op, v128_t a, v128_t b) {
  switch (op) {
    case B_ADD: return wasm_f32x4_add(a, b);
    case B_SUB: return wasm_f32x4_sub(a, b);
    case B_MUL: return wasm_f32x4_mul(a, b);
    case B_DIV: return wasm_f32x4_div(a, b);
    case B_MAX: return wasm_v128_bitselect(a, b, wasm_v128_or(wasm_f32x4_ge(a, b), wasm_f32x4_ne(a, a)));
    default: return wasm_v128_bitselect(a, b, wasm_v128_or(wasm_f32x4_le(a, b), wasm_f32x4_ne(a, a)));
  }
}

// float32 add..minimum (not pow) over n elements; ac, bc are each 1 (contiguous) or 0 (one value).
static void seg_f32(int op, const float* a, int ac, const float* b, int bc, float* y, int64_t n) {
  int64_t i = 0;
  if (ac && bc) {
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, binary_f32x4(op, wasm_v128_load(a + i), wasm_v128_load(b + i)));
  } else if (ac) {
    const v128_t vb = wasm_f32x4_splat(b[0]);
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, binary_f32x4(op, wasm_v128_load(a + i), vb));
  } else if (bc) {
    const v128_t va = wasm_f32x4_splat(a[0]);
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, binary_f32x4(op, va, wasm_v128_load(b + i)));
  }
  for (; i < n; i++) y[i] = wasm_f32x4_extract_lane(binary_f32x4(op, wasm_f32x4_splat(a[i * ac]), wasm_f32x4_splat(b[i * bc])), 0);
}

// Any op and dtypes over n elements read at a + i*ac, b + i*bc (element strides).
static void seg_any(int op, int din, int dout, const void* a, int64_t ao, int ac, const void* b, int64_t bo, int bc, void* y, int64_t yo, int64_t n) {
  if (din == DT_F32 && dout == DT_F32 && op <= B_MIN && op != B_POW && (ac | bc) <= 1 && ac >= 0 && bc >= 0) {
    seg_f32(op, (const float*)a + ao, ac, (const float*)b + bo, bc, (float*)y + yo, n);
    return;
  }
  if (din == DT_I32 && dout == DT_I32 && op <= B_MUL && op != B_DIV) {  // exact, then wrapped
    const int32_t *ai = (const int32_t*)a + ao, *bi = (const int32_t*)b + bo;
    int32_t* yi = (int32_t*)y + yo;
    for (int64_t i = 0; i < n; i++) {
      const uint32_t p = (uint32_t)ai[i * ac], q = (uint32_t)bi[i * bc];
      yi[i] = (int32_t)(op == B_ADD ? p + q : op == B_SUB ? p - q : p * q);
    }
    return;
  }
  if (din == DT_F32 && dout == DT_BOOL) {  // comparisons of floats
    const float *af = (const float*)a + ao, *bf = (const float*)b + bo;
    uint8_t* yb = (uint8_t*)y + yo;
    for (int64_t i = 0; i < n; i++) {
      const float p = af[i * ac], q = bf[i * bc];
      int r;
      switch (op) {
        case B_EQ: r = p == q; break;
        case B_NE: r = p != q; break;
        case B_GT: r = p > q; break;
        case B_GE: r = p >= q; break;
        case B_LT: r = p < q; break;
        case B_LE: r = p <= q; break;
        case B_AND: r = p != 0 && q != 0; break;
        case B_OR: r = p != 0 || q != 0; break;
        default: r = binary_d(op, p, q) != 0;
      }
      yb[i] = (uint8_t)r;
    }
    return;
  }
  for (int64_t i = 0; i < n; i++) store_d(dout, y, yo + i, binary_d(op, load_d(din, a, ao + i * ac), load_d(din, b, bo + i * bc)));
}

// The output as [rows, inner]; operand k is read at r * kRow + j * kCol (0 along a broadcast part).
// Threads split the flat output, so one long row (same shapes) is shared too.
EXPORT(binary_rows)
void binary_rows(int op, int din, int dout, const void* a, const void* b, void* y, int rows, int inner, int aRow, int aCol, int bRow, int bCol,
                 int tid, int nthreads) {
  int64_t from, to;
  thread_range((int64_t)rows * inner, tid, nthreads, &from, &to);
  if (inner == 0) return;
  int64_t r = from / inner, j = from % inner;
  for (int64_t pos = from; pos < to; r++, j = 0) {
    int64_t len = inner - j;
    if (len > to - pos) len = to - pos;
    seg_any(op, din, dout, a, r * aRow + j * aCol, aCol, b, r * bRow + j * bCol, bCol, y, pos, len);
    pos += len;
  }
}

// The general broadcast: out shape and both operands' element strides (0 along broadcast axes)
// as int32 arrays of `rank` entries; walks the output in row-major order a row at a time.
EXPORT(binary_strided)
void binary_strided(int op, int din, int dout, const void* a, const void* b, void* y, int rank, const int32_t* shape, const int32_t* sa,
                    const int32_t* sb, int tid, int nthreads) {
  const int64_t inner = shape[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= shape[d];
  int64_t r0, r1;
  thread_range(rows, tid, nthreads, &r0, &r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t rest = r, ia = 0, ib = 0;
    for (int d = rank - 2; d >= 0; d--) {
      const int64_t k = rest % shape[d];
      rest /= shape[d];
      ia += k * sa[d];
      ib += k * sb[d];
    }
    seg_any(op, din, dout, a, ia, sa[rank - 1], b, ib, sb[rank - 1], y, r * inner, inner);
  }
}

// where(c, a, b) with all three broadcast to the output (strides as above); elem is 1 or 4 bytes.
EXPORT(where_strided)
void where_strided(int elem, const uint8_t* c, const void* a, const void* b, void* y, int rank, const int32_t* shape, const int32_t* sc,
                   const int32_t* sa, const int32_t* sb, int tid, int nthreads) {
  const int64_t inner = rank ? shape[rank - 1] : 1;
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= shape[d];
  const int64_t cI = rank ? sc[rank - 1] : 0, aI = rank ? sa[rank - 1] : 0, bI = rank ? sb[rank - 1] : 0;
  int64_t r0, r1;
  thread_range(rows, tid, nthreads, &r0, &r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t rest = r, ic = 0, ia = 0, ib = 0;
    for (int d = rank - 2; d >= 0; d--) {
      const int64_t k = rest % shape[d];
      rest /= shape[d];
      ic += k * sc[d];
      ia += k * sa[d];
      ib += k * sb[d];
    }
    if (elem == 4) {
      const uint32_t *a4 = a, *b4 = b;
      uint32_t* y4 = (uint32_t*)y + r * inner;
      for (int64_t j = 0; j < inner; j++) y4[j] = c[ic + j * cI] ? a4[ia + j * aI] : b4[ib + j * bI];
    } else {
      const uint8_t *a1 = a, *b1 = b;
      uint8_t* y1 = (uint8_t*)y + r * inner;
      for (int64_t j = 0; j < inner; j++) y1[j] = c[ic + j * cI] ? a1[ia + j * aI] : b1[ib + j * bI];
    }
  }
}

// dy where x > 0, else 0 (x, dy of one shape).
EXPORT(relu_grad) void relu_grad(int dt, const void* x, const void* g, void* y, int n, int tid, int nthreads) {
  int64_t from, to;
  thread_range(n, tid, nthreads, &from, &to);
  if (dt == DT_F32) {
    const float *xs = x, *gs = g;
    float* ys = y;
    int64_t i = from;
    const v128_t zero = wasm_f32x4_splat(0.0f);
    for (; i + 4 <= to; i += 4) wasm_v128_store(ys + i, wasm_v128_and(wasm_v128_load(gs + i), wasm_f32x4_gt(wasm_v128_load(xs + i), zero)));
    for (; i < to; i++) ys[i] = xs[i] > 0 ? gs[i] : 0.0f;
    return;
  }
  for (int64_t i = from; i < to; i++) store_d(dt, y, i, load_d(dt, x, i) > 0 ? load_d(dt, g, i) : 0);
}

// Returns -1, or the index of the first value an int32 cannot hold (float to int32 is refused
// there, not wrapped: Note [int32 holds what it is given, or refuses] in src/core/dtype.ts).
EXPORT(cast) int cast(int din, int dout, const void* x, void* y, int n) {
  if (dout == DT_BOOL) {
    uint8_t* yb = y;
    for (int i = 0; i < n; i++) yb[i] = load_d(din, x, i) != 0;  // NaN is truthy, as in NumPy
    return -1;
  }
  if (dout == DT_I32 && din == DT_F32) {
    const float* xs = x;
    int32_t* yi = y;
    for (int i = 0; i < n; i++) {
      const float v = xs[i];
      if (!((double)v > -2147483649.0 && (double)v < 2147483648.0)) return i;
      yi[i] = (int32_t)v;
    }
    return -1;
  }
  for (int i = 0; i < n; i++) store_d(dout, y, i, load_d(din, x, i));
  return -1;
}
