// Reductions over any set of axes (native/calls.mjs's Reduce codes), and argMax/argMin along one axis.
#include <cmath>
#include <limits>
#include <type_traits>

#include "common.h"

namespace strata {
namespace {

// An int32 sum accumulated exactly in int64 (Note [int32 reductions] in
// src/backend/reference/reduce.ts): double is exact only to 2^53, which 2^22 values near 2^31
// pass. The result goes to `acc` as a double, exact whenever it fits in int32.
void sum_int32(const int32_t* x, const Shape& xs, const Shape& out_strides, bool trailing, std::vector<double>& acc) {
  const int64_t m = static_cast<int64_t>(acc.size()), n = size_of(xs);
  if (trailing && m > 0) {
    const int64_t row = n / m;
    parallel_for(m, n > (1 << 16), [&](int64_t o) {
      int64_t s = 0;
      for (int64_t j = 0; j < row; j++) s += x[o * row + j];
      acc[o] = static_cast<double>(s);
    });
    return;
  }
  std::vector<int64_t> sums(m, 0);
  for_each_offset2(xs, out_strides, out_strides, [&](int64_t i, int64_t o, int64_t) { sums[o] += x[i]; });
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
  bool trailing = true;
  for (size_t i = 0; i < xs.size(); i++)
    if (reduced[i] && i < xs.size() - axes.size()) trailing = false;
  dispatch_dtype(d, [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(xb->data);
    if constexpr (std::is_same_v<T, int32_t>) {
      if (op == Reduce::kSum) return sum_int32(x, xs, out_strides, trailing, acc);
    }
    // Fast path: reducing the trailing axes of a row-major tensor is a sum of contiguous rows.
    const int64_t n = size_of(xs);
    if (trailing && op == Reduce::kSum && m > 0) {
      const int64_t row = n / m;
      parallel_for(m, n > (1 << 16), [&](int64_t o) {
        double s = 0;
        for (int64_t j = 0; j < row; j++) s += x[o * row + j];
        acc[o] = s;
      });
      return;
    }
    // Reducing the leading axes (a bias gradient: [N, H, W, C] -> [C]) adds whole rows.
    bool leading = true;
    for (size_t i = 0; i < axes.size(); i++)
      if (!reduced[i]) leading = false;
    if (leading && op == Reduce::kSum && m > 0) {
      const int64_t rows = n / m;
      for (int64_t r = 0; r < rows; r++) {
        const T* row = x + r * m;
        for (int64_t o = 0; o < m; o++) acc[o] += row[o];
      }
      return;
    }
    for_each_offset2(xs, out_strides, out_strides, [&](int64_t i, int64_t o, int64_t) {
      const double v = static_cast<double>(x[i]);
      double& a = acc[o];
      switch (op) {
        case Reduce::kSum: a += v; break;
        case Reduce::kProd: a *= v; break;
        case Reduce::kMax: if (v > a || v != v) a = v; break;
        case Reduce::kMin: if (v < a || v != v) a = v; break;
      }
    });
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
