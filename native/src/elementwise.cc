// Elementwise kernels: unary, binary with broadcasting, where and cast. Op codes are native/calls.mjs's
// Unary and Binary enums.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "abs_bound.h"
#include "common.h"

// As in recurrent.cc: lets the compiler blend both sides of fast_math.h's selects on AVX2
// (Strata never unmasks floating-point exceptions, so no result changes).
#pragma GCC optimize("no-trapping-math")
#include "fast_math.h"

namespace strata {
namespace {

constexpr int64_t kParallelThreshold = 1 << 15;

template <typename T>
inline T sigmoid(T x) {
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  T e = std::exp(x);
  return e / (T(1) + e);
}

// Hot loops are STRATA_CLONES (common.h): AVX-512, AVX2 and baseline clones chosen at load time.

// tanh and sigmoid through fast_math.h's vectorizable forms (a few ulp, as the fused recurrent
// cells use): libm's tanhf is a scalar call per element, several times slower.
STRATA_CLONES void tanh_f32(const float* __restrict x, float* __restrict y, int64_t from, int64_t to) {
  for (int64_t i = from; i < to; i++) y[i] = tanh_fast(x[i]);
}

STRATA_CLONES void sigmoid_f32(const float* __restrict x, float* __restrict y, int64_t from, int64_t to) {
  for (int64_t i = from; i < to; i++) y[i] = sigmoid_fast(x[i]);
}

// exp for any x from the non-positive one (Note [Vectorizable exp]): e^x itself for x <= 0, and
// (1 / e^(-x/2))² above, where halving keeps e^(-x/2) a normal float up to the overflow at 88.7.
// Relative error under 3e-7 over [-80, 88] (a few ulp; up to 3e-6 within 1.5 of either end);
// +inf stays +inf, NaN stays NaN, and below -87.3 the result is 0, not a subnormal.
STRATA_CLONES void exp_f32(const float* __restrict x, float* __restrict y, int64_t from, int64_t to) {
  for (int64_t i = from; i < to; i++) {
    const float v = x[i];
    const float below = exp_nonpositive(v > 0.f ? 0.f : v);  // NaN passes through
    const float root = 1.0f / exp_nonpositive(v > 0.f ? -0.5f * v : 0.f);
    y[i] = v > 0.f ? root * root : below;
  }
}

// Runs f(from, to) over chunks of n elements, across threads when there are several.
template <typename F>
void by_chunks(int64_t n, F&& f) {
  const int64_t chunks = (n + kParallelThreshold - 1) / kParallelThreshold;
  parallel_for(chunks, chunks > 1, [&](int64_t c) { f(c * kParallelThreshold, std::min(n, (c + 1) * kParallelThreshold)); });
}

// NaN stays NaN, -0 becomes +0 (x > 0 ? x : 0, except NaN); x and y may be the same array.
// The loop sits inside the clone, written with non-short-circuit operators, so it compiles to
// compares and a blend: an element lambda handed to parallel_for stayed an out-of-line call per
// element (65 us for 32K floats, as long as the matmul producing them took).
STRATA_CLONES void relu_range(const float* x, float* y, int64_t from, int64_t to) {
#pragma omp simd
  for (int64_t i = from; i < to; i++) {
    const float v = x[i];
    y[i] = ((v > 0.f) | (v != v)) ? v : 0.f;
  }
}

void relu_f32(const float* x, float* y, int64_t n) {
  by_chunks(n, [&](int64_t from, int64_t to) { relu_range(x, y, from, to); });
}

// Branch-free and vectorized: with a branch, random signs cost a misprediction per element.
STRATA_CLONES void relu_grad_f32(const float* __restrict x, const float* __restrict g, float* __restrict y, int64_t n) {
  const int64_t chunks = (n + kParallelThreshold - 1) / kParallelThreshold;
  parallel_for(chunks, chunks > 1, [&](int64_t c) {
    const int64_t from = c * kParallelThreshold, to = std::min(n, from + kParallelThreshold);
    // Both operands are loaded unconditionally: a load only under the condition becomes a
    // masked load, which is microcoded and slow on AMD processors.
    for (int64_t i = from; i < to; i++) {
      const float xv = x[i], gv = g[i];
      y[i] = xv > 0.f ? gv : 0.f;
    }
  });
}

// Note [int32 arithmetic wraps] (the policy: Note [int32 holds what it is given, or refuses] in
// src/core/dtype.ts). Elementwise int32 results wrap modulo 2^32, as NumPy's and PyTorch's
// integer arrays do and as the reference backend's Int32Array store does. A plain
// static_cast<int32_t>(double) out of range is undefined behaviour (x86 gives -2^31), so results
// computed in double are wrapped the way JavaScript's ToInt32 wraps them; add, sub and mul of two
// int32 are computed in int64, exact, then wrapped.
inline int32_t wrap_int32(double v) {
  if (!(v == v) || std::isinf(v)) return 0;
  const double m = std::fmod(std::trunc(v), 4294967296.0);  // exact, in (-2^32, 2^32)
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<int64_t>(m)));
}

// A double result stored as O: int32 wraps (above); float and bool convert as before.
template <typename O>
inline O store(double v) {
  if constexpr (std::is_same_v<O, int32_t>) {
    return wrap_int32(v);
  } else {
    return static_cast<O>(v);
  }
}

template <typename T>
double unary_value(Unary op, T v) {
  const double x = static_cast<double>(v);
  switch (op) {
    case Unary::kNeg: return -x;
    case Unary::kAbs: return std::fabs(x);
    case Unary::kExp: return std::exp(x);
    case Unary::kLog: return std::log(x);
    case Unary::kSqrt: return std::sqrt(x);
    case Unary::kSign: return x > 0 ? 1 : x < 0 ? -1 : x;
    case Unary::kTanh: return std::tanh(x);
    case Unary::kSigmoid: return sigmoid(x);
    case Unary::kRelu: return x > 0 ? x : (x == x ? 0 : x);
    case Unary::kSin: return std::sin(x);
    case Unary::kCos: return std::cos(x);
    case Unary::kFloor: return std::floor(x);
    case Unary::kCeil: return std::ceil(x);
    case Unary::kRound: return std::nearbyint(x);  // ties to even, as NumPy
    case Unary::kLogicalNot: return x != 0 ? 0 : 1;
  }
  return x;
}

// Float32 transcendental ops computed in float (vectorizable by the compiler) rather than double.
// The element loop runs inside each chunk's body, where f inlines (as the element body of
// parallel_for it stayed a call per element).
template <typename F>
void map_f32(const float* x, float* y, int64_t n, F f) {
  constexpr int64_t chunk = kParallelThreshold / 8;
  const int64_t chunks = (n + chunk - 1) / chunk;
  parallel_for(chunks, chunks > 1, [&](int64_t c) {
    const int64_t to = std::min(n, (c + 1) * chunk);
    for (int64_t i = c * chunk; i < to; i++) y[i] = f(x[i]);
  });
}

}  // namespace

Napi::Value calls::unary(Napi::Env env, const UnaryArgs& args) {
  const Unary op = args.op;
  const DType d = args.dtype;
  Buffer* xb = args.x;
  const int64_t n = static_cast<int64_t>(xb->bytes / dtype_size(d));
  Buffer* yb;
  Napi::Value out = new_buffer(env, xb->bytes, &yb);
  if (d == DType::kFloat32) {
    const float* x = static_cast<const float*>(xb->data);
    float* y = static_cast<float*>(yb->data);
    switch (op) {
      case Unary::kRelu: relu_f32(x, y, n); return out;
      case Unary::kNeg: map_f32(x, y, n, [](float v) { return -v; }); return out;
      case Unary::kAbs: map_f32(x, y, n, [](float v) { return std::fabs(v); }); return out;
      case Unary::kExp: by_chunks(n, [&](int64_t from, int64_t to) { exp_f32(x, y, from, to); }); return out;
      case Unary::kLog: map_f32(x, y, n, [](float v) { return std::log(v); }); return out;
      case Unary::kSqrt: map_f32(x, y, n, [](float v) { return std::sqrt(v); }); return out;
      case Unary::kTanh: by_chunks(n, [&](int64_t from, int64_t to) { tanh_f32(x, y, from, to); }); return out;
      case Unary::kSigmoid: by_chunks(n, [&](int64_t from, int64_t to) { sigmoid_f32(x, y, from, to); }); return out;
      default: break;
    }
  }
  dispatch_dtype(d, [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(xb->data);
    T* y = static_cast<T*>(yb->data);
    parallel_for(n, n > kParallelThreshold / 8, [&](int64_t i) { y[i] = store<T>(unary_value(op, x[i])); });
  });
  return out;
}

namespace {

template <typename T>
inline double binary_value(Binary op, T av, T bv) {
  const double a = static_cast<double>(av), b = static_cast<double>(bv);
  switch (op) {
    case Binary::kAdd: return a + b;
    case Binary::kSub: return a - b;
    case Binary::kMul: return a * b;
    case Binary::kDiv: return a / b;
    case Binary::kPow: return std::pow(a, b);
    case Binary::kMaximum: return (a >= b || a != a) ? a : b;
    case Binary::kMinimum: return (a <= b || a != a) ? a : b;
    case Binary::kEqual: return a == b;
    case Binary::kNotEqual: return a != b;
    case Binary::kGreater: return a > b;
    case Binary::kGreaterEqual: return a >= b;
    case Binary::kLess: return a < b;
    case Binary::kLessEqual: return a <= b;
    case Binary::kLogicalAnd: return a != 0 && b != 0;
    case Binary::kLogicalOr: return a != 0 || b != 0;
  }
  return 0;
}

// Applies op to a[ia], b[ib] for every output element o given by `walk`.
template <typename Walk>
void run_binary(Binary op, const Buffer* ab, const Buffer* bb, Buffer* yb, DType in, DType outd, Walk&& walk) {
  dispatch_dtype(in, [&](auto tag) {
    using T = decltype(tag);
    const T* a = static_cast<const T*>(ab->data);
    const T* b = static_cast<const T*>(bb->data);
    dispatch_dtype(outd, [&](auto otag) {
      using O = decltype(otag);
      O* y = static_cast<O*>(yb->data);
      if constexpr (std::is_same_v<T, int32_t> && std::is_same_v<O, int32_t>) {
        if (op == Binary::kAdd || op == Binary::kSub || op == Binary::kMul) {  // Note [int32 arithmetic wraps]
          walk([&](int64_t o, int64_t ia, int64_t ib) {
            const int64_t p = a[ia], q = b[ib];
            const int64_t r = op == Binary::kAdd ? p + q : op == Binary::kSub ? p - q : p * q;
            y[o] = static_cast<int32_t>(static_cast<uint32_t>(r));
          });
          return;
        }
      }
      walk([&](int64_t o, int64_t ia, int64_t ib) { y[o] = store<O>(binary_value(op, a[ia], b[ib])); });
    });
  });
}

// The output viewed as [rows, inner]; each operand is read at r * row + j * col, where row and
// col are 0 along a broadcast part. This covers same shapes, scalars, a bias broadcast over
// leading axes ([N, C] + [C]) and a per-row value ([N, C] - [N, 1]) without shapes or odometers.
struct RowWalk {
  int64_t rows, inner, a_row, a_col, b_row, b_col;
  template <typename F>
  void operator()(F&& f) const {
    parallel_for(rows, rows * inner > kParallelThreshold / 4 && rows > 1, [&](int64_t r) {
      const int64_t o = r * inner, ia = r * a_row, ib = r * b_row;
      for (int64_t j = 0; j < inner; j++) f(o + j, ia + j * a_col, ib + j * b_col);
    });
  }
};

struct BroadcastWalk {
  const Shape& out;
  Shape sa, sb;
  template <typename F>
  void operator()(F&& f) const { for_each_offset2(out, sa, sb, f); }
};

// Float32 binary kernels over the [rows, inner] view, chunked so that a single long row (same
// shapes, a scalar operand) also splits across threads. The four stride cases get their own
// loops so the compiler vectorizes each.
constexpr int64_t kChunk = 1 << 14;

template <typename O, typename F>
void rows_f32(const RowWalk& w, const float* a, const float* b, O* y, F f) {
  const int64_t chunks_per_row = (w.inner + kChunk - 1) / kChunk;
  const int64_t tasks = w.rows * chunks_per_row;
  parallel_for(tasks, tasks > 1 && w.rows * w.inner > kParallelThreshold, [&](int64_t t) {
    const int64_t r = t / chunks_per_row, from = (t % chunks_per_row) * kChunk;
    const int64_t to = std::min(w.inner, from + kChunk);
    const float* ar = a + r * w.a_row;
    const float* br = b + r * w.b_row;
    O* yr = y + r * w.inner;
    if (w.a_col == 1 && w.b_col == 1) {
      for (int64_t j = from; j < to; j++) yr[j] = f(ar[j], br[j]);
    } else if (w.a_col == 1) {
      const float s = br[0];
      for (int64_t j = from; j < to; j++) yr[j] = f(ar[j], s);
    } else if (w.b_col == 1) {
      const float s = ar[0];
      for (int64_t j = from; j < to; j++) yr[j] = f(s, br[j]);
    } else {
      const O v = f(ar[0], br[0]);
      for (int64_t j = from; j < to; j++) yr[j] = v;
    }
  });
}

// Returns false for ops without a float32 fast path (the generic kernel then runs).
bool binary_rows_f32(Binary op, const RowWalk& w, const float* a, const float* b, void* out) {
  float* y = static_cast<float*>(out);
  uint8_t* m = static_cast<uint8_t*>(out);
  switch (op) {
    case Binary::kAdd: rows_f32(w, a, b, y, [](float p, float q) { return p + q; }); return true;
    case Binary::kSub: rows_f32(w, a, b, y, [](float p, float q) { return p - q; }); return true;
    case Binary::kMul: rows_f32(w, a, b, y, [](float p, float q) { return p * q; }); return true;
    case Binary::kDiv: rows_f32(w, a, b, y, [](float p, float q) { return p / q; }); return true;
    case Binary::kMaximum: rows_f32(w, a, b, y, [](float p, float q) { return ((p >= q) | (p != p)) ? p : q; }); return true;
    case Binary::kMinimum: rows_f32(w, a, b, y, [](float p, float q) { return ((p <= q) | (p != p)) ? p : q; }); return true;
    case Binary::kEqual: rows_f32(w, a, b, m, [](float p, float q) -> uint8_t { return p == q; }); return true;
    case Binary::kNotEqual: rows_f32(w, a, b, m, [](float p, float q) -> uint8_t { return p != q; }); return true;
    case Binary::kGreater: rows_f32(w, a, b, m, [](float p, float q) -> uint8_t { return p > q; }); return true;
    case Binary::kGreaterEqual: rows_f32(w, a, b, m, [](float p, float q) -> uint8_t { return p >= q; }); return true;
    case Binary::kLess: rows_f32(w, a, b, m, [](float p, float q) -> uint8_t { return p < q; }); return true;
    case Binary::kLessEqual: rows_f32(w, a, b, m, [](float p, float q) -> uint8_t { return p <= q; }); return true;
    default: return false;
  }
}

}  // namespace

// binaryRows: the output as [rows, inner], each operand read through RowWalk's strides.
Napi::Value calls::binaryRows(Napi::Env env, const BinaryRowsArgs& args) {
  const Binary op = args.op;
  Buffer* ab = args.a;
  Buffer* bb = args.b;
  const RowWalk walk{args.rows, args.inner, args.a_row, args.a_col, args.b_row, args.b_col};
  const DType in = args.in_dtype, outd = args.out_dtype;
  const int64_t n = walk.rows * walk.inner;
  Buffer* yb;
  Napi::Value out = new_buffer(env, n * dtype_size(outd), &yb);
  if (!(in == DType::kFloat32 && binary_rows_f32(op, walk, static_cast<const float*>(ab->data), static_cast<const float*>(bb->data), yb->data))) {
    run_binary(op, ab, bb, yb, in, outd, walk);
  }
  // Note [Bounds carried through linear layers] in abs_bound.h: a residual Add.
  if ((op == Binary::kAdd || op == Binary::kSub) && in == DType::kFloat32 && outd == DType::kFloat32) carry_bound_through_add(ab, bb, yb);
  return out;
}

// binary: general NumPy broadcasting.
Napi::Value calls::binary(Napi::Env env, const BinaryArgs& args) {
  const Shape& os = args.out_shape;
  const DType outd = args.out_dtype;
  Buffer* yb;
  Napi::Value out = new_buffer(env, size_of(os) * dtype_size(outd), &yb);
  run_binary(args.op, args.a, args.b, yb, args.in_dtype, outd,
             BroadcastWalk{os, broadcast_strides(args.a_shape, os), broadcast_strides(args.b_shape, os)});
  return out;
}

Napi::Value calls::where(Napi::Env env, const WhereArgs& args) {
  const uint8_t* c = data_of<uint8_t>(args.c);
  const Shape& cs = args.c_shape;
  Buffer* ab = args.a;
  const Shape& as = args.a_shape;
  Buffer* bb = args.b;
  const Shape& bs = args.b_shape;
  const Shape& os = args.out_shape;
  const DType d = args.dtype;
  const int64_t n = size_of(os);
  Buffer* yb;
  Napi::Value out = new_buffer(env, n * dtype_size(d), &yb);
  std::vector<uint8_t> pick(n);
  const Shape sc = broadcast_strides(cs, os);
  for_each_offset2(os, sc, sc, [&](int64_t o, int64_t ic, int64_t) { pick[o] = c[ic] != 0; });
  dispatch_dtype(d, [&](auto tag) {
    using T = decltype(tag);
    const T* a = static_cast<const T*>(ab->data);
    const T* b = static_cast<const T*>(bb->data);
    T* y = static_cast<T*>(yb->data);
    for_each_offset2(os, broadcast_strides(as, os), broadcast_strides(bs, os),
                     [&](int64_t o, int64_t ia, int64_t ib) { y[o] = pick[o] ? a[ia] : b[ib]; });
  });
  return out;
}

// reluGrad: dy where x > 0, else 0.
Napi::Value calls::reluGrad(Napi::Env env, const ReluGradArgs& args) {
  Buffer* xb = args.x;
  Buffer* gb = args.dy;
  const int64_t n = args.n;
  const DType d = args.dtype;
  Buffer* yb;
  Napi::Value out = new_buffer(env, n * dtype_size(d), &yb);
  if (d == DType::kFloat32) {
    relu_grad_f32(static_cast<const float*>(xb->data), static_cast<const float*>(gb->data), static_cast<float*>(yb->data), n);
    return out;
  }
  dispatch_dtype(d, [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(xb->data);
    const T* g = static_cast<const T*>(gb->data);
    T* y = static_cast<T*>(yb->data);
    for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? g[i] : T(0);
  });
  return out;
}

// cast: to int32 truncates toward zero, to bool is x != 0 (NaN is true).
// A float that int32 cannot hold (out of range, NaN, ±Infinity) is refused as the loop meets it:
// a RangeError carrying its flat `index` and `value`, which src/backend/native turns into the
// same DtypeError the reference backend throws (Note [int32 holds what it is given, or refuses]).
Napi::Value calls::cast(Napi::Env env, const CastArgs& args) {
  Buffer* xb = args.x;
  const DType in = args.in_dtype, outd = args.out_dtype;
  const int64_t n = args.n;
  Buffer* yb;
  Napi::Value out = new_buffer(env, n * dtype_size(outd), &yb);
  int64_t bad = -1;
  dispatch_dtype(in, [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(xb->data);
    dispatch_dtype(outd, [&](auto otag) {
      using O = decltype(otag);
      O* y = static_cast<O*>(yb->data);
      for (int64_t i = 0; i < n; i++) {
        const double v = static_cast<double>(x[i]);
        if (outd == DType::kBool) {
          y[i] = static_cast<O>(v != 0);
        } else if (outd == DType::kInt32) {
          // > -2^31 - 1 and < 2^31: truncation lands in range; false for NaN.
          if (!(v > -2147483649.0 && v < 2147483648.0)) {
            bad = i;
            return;
          }
          y[i] = static_cast<O>(static_cast<int32_t>(v));
        } else {
          y[i] = static_cast<O>(v);
        }
      }
    });
  });
  if (bad >= 0) {
    Napi::Error err = Napi::RangeError::New(env, "cast: value does not fit in int32");
    err.Set("index", Napi::Number::New(env, static_cast<double>(bad)));
    // Only a float32 input can hold such a value (int32 and bool inputs always fit).
    err.Set("value", Napi::Number::New(env, static_cast<double>(static_cast<const float*>(xb->data)[bad])));
    throw err;
  }
  return out;
}

Napi::Value calls::fill(Napi::Env env, const FillArgs& args) {
  const int64_t n = args.n;
  const DType d = args.dtype;
  const double value = args.value;
  Buffer* yb;
  Napi::Value out = new_buffer(env, n * dtype_size(d), &yb, value == 0);
  if (value != 0) {
    dispatch_dtype(d, [&](auto tag) {
      using T = decltype(tag);
      T* y = static_cast<T*>(yb->data);
      const T v = static_cast<T>(value);
      for (int64_t i = 0; i < n; i++) y[i] = v;
    });
  }
  return out;
}


void relu_in_place(float* y, int64_t n) { relu_f32(y, y, n); }

namespace {
// min(max(v, 0), 6) with NaN kept, branch-free like relu_range.
STRATA_CLONES void relu6_range(float* y, int64_t from, int64_t to) {
#pragma omp simd
  for (int64_t i = from; i < to; i++) {
    const float v = y[i];
    const float r = ((v > 0.f) | (v != v)) ? v : 0.f;
    y[i] = v > 6.f ? 6.f : r;
  }
}

STRATA_CLONES void add_range(float* y, const float* r, int64_t from, int64_t to) {
#pragma omp simd
  for (int64_t i = from; i < to; i++) y[i] += r[i];
}
}  // namespace

void relu6_in_place(float* y, int64_t n) {
  by_chunks(n, [&](int64_t from, int64_t to) { relu6_range(y, from, to); });
}

void add_in_place(float* y, const float* r, int64_t n) {
  by_chunks(n, [&](int64_t from, int64_t to) { add_range(y, r, from, to); });
}

}  // namespace strata
