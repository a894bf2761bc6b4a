// Reductions over any set of axes (native/calls.mjs's Reduce codes), and argMax/argMin along one axis.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "common.h"

namespace strata {
namespace {

// Note [Reducing one run of axes]
// Most reductions fold one contiguous run of axes (size-1 axes aside): a row sum (trailing),
// a bias gradient [N, H, W, C] -> [C] (leading), a global average pool's sum over H and W of
// NHWC (middle). The input is then [outer, mid, inner] and each output slot (o, i) folds
// x[o, 0, i], x[o, 1, i], ... in that order, which is the order the generic per-element walk
// visits them in too, so the result is the same to the bit: only the loop nest changes, the
// accumulation (double, int64 for int32 sums) and its order do not. With inner > 1 a chunk of
// inner slots is accumulated side by side, a whole row of x at a time, which vectorizes; work
// splits over outer x chunks of inner.
struct Run {
  int64_t outer = 1, mid = 1, inner = 1;
};

// The [outer, mid, inner] view of reducing `reduced` over shape xs, or false when the reduced
// axes of size > 1 are not one contiguous run.
bool one_run(const Shape& xs, const std::vector<bool>& reduced, Run* run) {
  enum { kBefore, kInside, kAfter } where = kBefore;
  for (size_t i = 0; i < xs.size(); i++) {
    if (xs[i] == 1) continue;
    if (reduced[i]) {
      if (where == kAfter) return false;
      where = kInside;
      run->mid *= xs[i];
    } else {
      if (where == kInside) where = kAfter;
      (where == kBefore ? run->outer : run->inner) *= xs[i];
    }
  }
  return true;
}

// The folds, as types so that reduce_run can tell a sum apart (its float32 loop is cloned); the
// per-element walk over axes that are not one run uses them too.
struct Add {
  template <typename A, typename T>
  A operator()(A a, T v) const { return a + static_cast<A>(v); }
};
struct Mul {
  template <typename A, typename T>
  A operator()(A a, T v) const { return a * static_cast<A>(v); }
};
// NaN wins, as in the generic path (and NumPy's max/min).
struct Max {
  template <typename A, typename T>
  A operator()(A a, T v) const {
    const A w = static_cast<A>(v);
    return (w > a || w != w) ? w : a;
  }
};
struct Min {
  template <typename A, typename T>
  A operator()(A a, T v) const {
    const A w = static_cast<A>(v);
    return (w < a || w != w) ? w : a;
  }
};

constexpr int64_t kParallelElements = 1 << 16;
// Inner slots accumulated together: 2 KiB of doubles, which stay in L1 across the rows.
constexpr int64_t kInnerChunk = 256;

// acc[i] += x[m * stride + i] for m < mid, i < len: the float32 sum's inner loop (STRATA_CLONES).
STRATA_CLONES void add_rows_f32(const float* __restrict x, double* __restrict acc, int64_t mid, int64_t stride, int64_t len) {
  for (int64_t m = 0; m < mid; m++) {
    const float* row = x + m * stride;
    for (int64_t i = 0; i < len; i++) acc[i] += row[i];
  }
}

// Folds each [mid] column of x viewed as [outer, mid, inner] into acc[o * inner + i], starting
// from `init`, with acc = step(acc, x) in the order of m (Note [Reducing one run of axes]).
template <typename T, typename A, typename Step>
void reduce_run(const T* x, const Run& r, A init, Step step, A* acc) {
  const bool parallel = r.outer * r.mid * r.inner > kParallelElements;
  if (r.inner == 1) {
    parallel_for(r.outer, parallel && r.outer > 1, [&](int64_t o) {
      const T* col = x + o * r.mid;
      A a = init;
      for (int64_t m = 0; m < r.mid; m++) a = step(a, col[m]);
      acc[o] = a;
    });
    return;
  }
  const int64_t chunks = (r.inner + kInnerChunk - 1) / kInnerChunk;
  parallel_for(r.outer * chunks, parallel && r.outer * chunks > 1, [&](int64_t u) {
    const int64_t o = u / chunks, i0 = u % chunks * kInnerChunk, len = std::min(kInnerChunk, r.inner - i0);
    A* a = acc + o * r.inner + i0;
    const T* first = x + o * r.mid * r.inner + i0;
    for (int64_t i = 0; i < len; i++) a[i] = init;
    if constexpr (std::is_same_v<T, float> && std::is_same_v<A, double> && std::is_same_v<Step, Add>) {
      add_rows_f32(first, a, r.mid, r.inner, len);
    } else {
      for (int64_t m = 0; m < r.mid; m++) {
        const T* row = first + m * r.inner;
        for (int64_t i = 0; i < len; i++) a[i] = step(a[i], row[i]);
      }
    }
  });
}

// An int32 sum accumulated exactly in int64 (Note [int32 reductions] in
// src/backend/reference/reduce.ts): double is exact only to 2^53, which 2^22 values near 2^31
// pass. The result goes to `acc` as a double, exact whenever it fits in int32.
void sum_int32(const int32_t* x, const Shape& xs, const Shape& out_strides, const Run* run, std::vector<double>& acc) {
  const int64_t m = static_cast<int64_t>(acc.size());
  std::vector<int64_t> sums(m, 0);
  if (run) {
    reduce_run(x, *run, int64_t{0}, Add{}, sums.data());
  } else {
    for_each_offset2(xs, out_strides, out_strides, [&](int64_t i, int64_t o, int64_t) { sums[o] += x[i]; });
  }
  for (int64_t o = 0; o < m; o++) acc[o] = static_cast<double>(sums[o]);
}

}  // namespace

// reduce: folds each input element into the output slot named by
// its kept coordinates, accumulating in double (float32 sums keep their precision). An int32 sum
// or product whose result leaves the int32 range is refused: a RangeError carrying the output's
// flat `index` and the exact `value`, which src/backend/native turns into a DtypeError.
Napi::Value calls::reduce(Napi::Env env, const ReduceArgs& args) {
  const Reduce op = args.op;
  Buffer* xb = args.x;
  const Shape& xs = args.x_shape;
  const Shape& axes = args.axes;
  const DType d = args.dtype;
  std::vector<bool> reduced(xs.size(), false);
  for (const int64_t a : axes) reduced[a] = true;
  Shape kept;
  for (size_t i = 0; i < xs.size(); i++)
    if (!reduced[i]) kept.push_back(xs[i]);
  const Shape kept_strides = strides_of(kept);
  Shape out_strides(xs.size(), 0);
  for (size_t i = 0, k = 0; i < xs.size(); i++)
    if (!reduced[i]) out_strides[i] = kept_strides[k++];
  const int64_t m = size_of(kept);
  const double init = op == Reduce::kSum ? 0 : op == Reduce::kProd ? 1 : op == Reduce::kMax ? -INFINITY : INFINITY;
  std::vector<double> acc(m, init);
  Run run;
  const bool is_run = m > 0 && one_run(xs, reduced, &run);
  dispatch_dtype(d, [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(xb->data);
    if constexpr (std::is_same_v<T, int32_t>) {
      if (op == Reduce::kSum) return sum_int32(x, xs, out_strides, is_run ? &run : nullptr, acc);
    }
    // One fold per op, for the run and the per-element walk alike.
    const auto fold = [&](auto step) {
      if (is_run) return reduce_run(x, run, init, step, acc.data());
      for_each_offset2(xs, out_strides, out_strides, [&](int64_t i, int64_t o, int64_t) { acc[o] = step(acc[o], x[i]); });
    };
    switch (op) {
      case Reduce::kSum: return fold(Add{});
      case Reduce::kProd: return fold(Mul{});
      case Reduce::kMax: return fold(Max{});
      case Reduce::kMin: return fold(Min{});
    }
  });
  if (d == DType::kInt32 && (op == Reduce::kSum || op == Reduce::kProd)) {
    for (int64_t o = 0; o < m; o++) {
      // A product of integers that overflowed to ±inf before meeting a zero factor is 0, not NaN.
      if (op == Reduce::kProd && acc[o] != acc[o]) acc[o] = 0;
      if (!(acc[o] >= -2147483648.0 && acc[o] <= 2147483647.0)) {
        Napi::Error err = Napi::RangeError::New(env, "reduce: the int32 result overflows");
        err.Set("index", Napi::Number::New(env, static_cast<double>(o)));
        err.Set("value", Napi::Number::New(env, acc[o]));
        throw err;
      }
    }
  }
  Buffer* yb;
  Napi::Value out = new_buffer(env, m * dtype_size(d), &yb);
  dispatch_dtype(d, [&](auto tag) {
    using T = decltype(tag);
    T* y = static_cast<T*>(yb->data);
    for (int64_t o = 0; o < m; o++) y[o] = static_cast<T>(acc[o]);
  });
  return out;
}

// argReduce → int32: the first extreme wins; NaN counts as extreme.
Napi::Value calls::argReduce(Napi::Env env, const ArgReduceArgs& args) {
  const bool is_max = args.is_max;
  Buffer* xb = args.x;
  const Shape& xs = args.x_shape;
  const int axis = static_cast<int>(args.axis);
  const DType d = args.dtype;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; i++) outer *= xs[i];
  for (size_t i = axis + 1; i < xs.size(); i++) inner *= xs[i];
  const int64_t n = xs[axis];
  Buffer* yb;
  Napi::Value out = new_buffer(env, outer * inner * 4, &yb);
  int32_t* y = static_cast<int32_t*>(yb->data);
  dispatch_dtype(d, [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(xb->data);
    for (int64_t o = 0; o < outer; o++) {
      for (int64_t i = 0; i < inner; i++) {
        const int64_t base = o * n * inner + i;
        double best = static_cast<double>(x[base]);
        int32_t at = 0;
        for (int64_t j = 1; j < n && best == best; j++) {
          const double v = static_cast<double>(x[base + j * inner]);
          if ((is_max ? v > best : v < best) || v != v) {
            best = v;
            at = static_cast<int32_t>(j);
          }
        }
        y[o * inner + i] = at;
      }
    }
  });
  return out;
}

}  // namespace strata
