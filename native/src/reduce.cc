// Reductions over any set of axes, and argMax/argMin along one axis. Op codes follow
// REDUCE_PRIMITIVES in src/backend/primitives.ts: sum, prod, max, min.
#include <cmath>
#include <limits>
#include <type_traits>

#include "common.h"

namespace strata {
namespace {

enum Reduce { kSum, kProd, kMax, kMin };

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

// reduce(op, x, xShape, axes, dtype): folds each input element into the output slot named by
// its kept coordinates, accumulating in double (float32 sums keep their precision). An int32 sum
// or product whose result leaves the int32 range is refused: a RangeError carrying the output's
// flat `index` and the exact `value`, which src/backend/native turns into a DtypeError.
Napi::Value ReduceOp(const Napi::CallbackInfo& info) {
  const int op = info[0].As<Napi::Number>().Int32Value();
  Buffer* xb = get_buffer(info[1]);
  const Shape xs = get_shape(info[2]);
  const std::vector<int32_t> axes = get_ints(info[3]);
  const DType d = get_dtype(info[4]);
  std::vector<bool> reduced(xs.size(), false);
  for (int a : axes) reduced[a] = true;
  Shape kept;
  for (size_t i = 0; i < xs.size(); i++)
    if (!reduced[i]) kept.push_back(xs[i]);
  const Shape kept_strides = strides_of(kept);
  Shape out_strides(xs.size(), 0);
  for (size_t i = 0, k = 0; i < xs.size(); i++)
    if (!reduced[i]) out_strides[i] = kept_strides[k++];
  const int64_t m = size_of(kept);
  const double init = op == kSum ? 0 : op == kProd ? 1 : op == kMax ? -INFINITY : INFINITY;
  std::vector<double> acc(m, init);
  bool trailing = true;
  for (size_t i = 0; i < xs.size(); i++)
    if (reduced[i] && i < xs.size() - axes.size()) trailing = false;
  dispatch_dtype(d, [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(xb->data);
    if constexpr (std::is_same_v<T, int32_t>) {
      if (op == kSum) return sum_int32(x, xs, out_strides, trailing, acc);
    }
    // Fast path: reducing the trailing axes of a row-major tensor is a sum of contiguous rows.
    const int64_t n = size_of(xs);
    if (trailing && op == kSum && m > 0) {
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
    if (leading && op == kSum && m > 0) {
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
        case kSum: a += v; break;
        case kProd: a *= v; break;
        case kMax: if (v > a || v != v) a = v; break;
        case kMin: if (v < a || v != v) a = v; break;
      }
    });
  });
  if (d == DType::Int32 && (op == kSum || op == kProd)) {
    for (int64_t o = 0; o < m; o++) {
      // A product of integers that overflowed to ±inf before meeting a zero factor is 0, not NaN.
      if (op == kProd && acc[o] != acc[o]) acc[o] = 0;
      if (!(acc[o] >= -2147483648.0 && acc[o] <= 2147483647.0)) {
        Napi::Error err = Napi::RangeError::New(info.Env(), "reduce: the int32 result overflows");
        err.Set("index", Napi::Number::New(info.Env(), static_cast<double>(o)));
        err.Set("value", Napi::Number::New(info.Env(), acc[o]));
        throw err;
      }
    }
  }
  Buffer* yb;
  Napi::Value out = new_buffer(info.Env(), m * dtype_size(d), &yb);
  dispatch_dtype(d, [&](auto tag) {
    using T = decltype(tag);
    T* y = static_cast<T*>(yb->data);
    for (int64_t o = 0; o < m; o++) y[o] = static_cast<T>(acc[o]);
  });
  return out;
}

// argReduce(isMax, x, xShape, axis, dtype) -> int32: the first extreme wins; NaN counts as extreme.
Napi::Value ArgReduce(const Napi::CallbackInfo& info) {
  const bool is_max = info[0].As<Napi::Boolean>().Value();
  Buffer* xb = get_buffer(info[1]);
  const Shape xs = get_shape(info[2]);
  const int axis = info[3].As<Napi::Number>().Int32Value();
  const DType d = get_dtype(info[4]);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; i++) outer *= xs[i];
  for (size_t i = axis + 1; i < xs.size(); i++) inner *= xs[i];
  const int64_t n = xs[axis];
  Buffer* yb;
  Napi::Value out = new_buffer(info.Env(), outer * inner * 4, &yb);
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

}  // namespace

void init_reduce(Napi::Env env, Napi::Object exports) {
  exports.Set("reduce", Napi::Function::New(env, ReduceOp));
  exports.Set("argReduce", Napi::Function::New(env, ArgReduce));
}

}  // namespace strata
