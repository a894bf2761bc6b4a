// Softmax and log-softmax along one axis, subtracting the maximum first so exp never overflows,
// and their gradients in one pass per row (Note [Softmax gradients in one pass] in src/ops/softmax-grads.ts).
#include <cmath>

#include "common.h"

// Floating selects vectorize on AVX2 only when FP exceptions may be ignored (nothing here reads them).
#pragma GCC optimize("no-trapping-math")
#include "fast_math.h"

namespace strata {
namespace {

// exp_nonpositive: Note [Vectorizable exp] in fast_math.h.

// Softmax over the last axis: rows of n contiguous values, three vectorized passes per row.
STRATA_CLONES void softmax_rows(const float* __restrict x, float* __restrict y, int64_t rows, int64_t n, bool log) {
#pragma omp parallel for if (rows * n > (1 << 14))
  for (int64_t row = 0; row < rows; row++) {
    const float* xr = x + row * n;
    float* yr = y + row * n;
    // omp simd lets the compiler reorder these reductions into vector lanes (no -ffast-math).
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < n; j++) m = xr[j] > m ? xr[j] : m;
    if (m == -INFINITY) m = 0;
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; j++) {
      const float e = exp_nonpositive(xr[j] - m);
      yr[j] = e;
      s += e;
    }
    if (log) {
      // (x - m) first: it is exact near the maximum, where x - (m + log s) would cancel.
      const float log_s = std::log(s);
      for (int64_t j = 0; j < n; j++) yr[j] = (xr[j] - m) - log_s;
    } else {
      const float inv = 1.0f / s;
      for (int64_t j = 0; j < n; j++) yr[j] *= inv;
    }
  }
}

// A shape seen around one axis: the sizes before it, along it and after it.
struct AroundAxis {
  int64_t outer, n, inner;
};

AroundAxis around_axis(const Shape& shape, int axis) {
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; i++) outer *= shape[i];
  for (size_t i = axis + 1; i < shape.size(); i++) inner *= shape[i];
  return {outer, shape[axis], inner};
}

}  // namespace

Napi::Value calls::softmax(Napi::Env env, const SoftmaxArgs& args) {
  const float* x = data_of<float>(args.x);
  const AroundAxis a = around_axis(args.x_shape, static_cast<int>(args.axis));
  const int64_t outer = a.outer, n = a.n, inner = a.inner;
  const bool log = args.log;
  Buffer* yb;
  Napi::Value out = new_buffer(env, outer * n * inner * 4, &yb);
  float* y = static_cast<float*>(yb->data);
  if (inner == 1) {
    softmax_rows(x, y, outer, n, log);
    return out;
  }
#pragma omp parallel for collapse(2) if (outer * n * inner > (1 << 14))
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      const int64_t base = o * n * inner + i;
      float m = -INFINITY;
      for (int64_t j = 0; j < n; j++) m = std::fmax(m, x[base + j * inner]);
      if (m == -INFINITY) m = 0;
      double s = 0;
      for (int64_t j = 0; j < n; j++) s += std::exp(static_cast<double>(x[base + j * inner] - m));
      const double log_s = std::log(s);
      for (int64_t j = 0; j < n; j++) {
        const double z = x[base + j * inner] - m;
        y[base + j * inner] = static_cast<float>(log ? z - log_s : std::exp(z) / s);
      }
    }
  return out;
}

namespace {

// The gradient of softmax (dx = y·(g - Σ g·y)) or log-softmax (dx = g - exp(y)·Σ g) over rows of n
// contiguous values, y being the forward output.
STRATA_CLONES void softmax_grad_rows(const float* __restrict y, const float* __restrict g, float* __restrict dx, int64_t rows,
                                     int64_t n, bool log) {
#pragma omp parallel for if (rows * n > (1 << 14))
  for (int64_t row = 0; row < rows; row++) {
    const float* yr = y + row * n;
    const float* gr = g + row * n;
    float* dr = dx + row * n;
    float s = 0;
    if (log) {
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < n; j++) s += gr[j];
#pragma omp simd
      for (int64_t j = 0; j < n; j++) dr[j] = gr[j] - exp_nonpositive(yr[j] < 0 ? yr[j] : 0.f) * s;
    } else {
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < n; j++) s += gr[j] * yr[j];
#pragma omp simd
      for (int64_t j = 0; j < n; j++) dr[j] = yr[j] * (gr[j] - s);
    }
  }
}

}  // namespace

Napi::Value calls::softmaxGrad(Napi::Env env, const SoftmaxGradArgs& args) {
  const float* y = data_of<float>(args.y);
  const float* g = data_of<float>(args.g);
  const AroundAxis a = around_axis(args.shape, static_cast<int>(args.axis));
  const int64_t outer = a.outer, n = a.n, inner = a.inner;
  const bool log = args.log;
  Buffer* db;
  Napi::Value out = new_buffer(env, outer * n * inner * 4, &db);
  float* dx = static_cast<float*>(db->data);
  if (inner == 1) {
    softmax_grad_rows(y, g, dx, outer, n, log);
    return out;
  }
#pragma omp parallel for collapse(2) if (outer * n * inner > (1 << 14))
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      const int64_t base = o * n * inner + i;
      double s = 0;
      for (int64_t j = 0; j < n; j++) s += log ? g[base + j * inner] : static_cast<double>(g[base + j * inner]) * y[base + j * inner];
      for (int64_t j = 0; j < n; j++) {
        const int64_t at = base + j * inner;
        dx[at] = static_cast<float>(log ? g[at] - std::exp(static_cast<double>(y[at])) * s : y[at] * (g[at] - s));
      }
    }
  return out;
}

namespace {

// Softmax cross-entropy against integer labels over rows of c logits (Note [Sparse softmax
// cross-entropy in one pass] in src/ops/sparse-cross-entropy.ts): the loss of each row,
// logsumexp(z) - z[label], or with `g` its gradient g·(softmax(z) - onehot(label)).
STRATA_CLONES void sparse_xent_rows(const float* __restrict z, const int32_t* __restrict labels, const float* __restrict g,
                                    float* __restrict out, int64_t rows, int64_t c) {
#pragma omp parallel for if (rows * c > (1 << 15))
  for (int64_t row = 0; row < rows; row++) {
    const float* zr = z + row * c;
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < c; j++) m = zr[j] > m ? zr[j] : m;
    if (m == -INFINITY) m = 0;
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < c; j++) s += exp_nonpositive(zr[j] - m);
    const int32_t label = labels[row];
    if (g == nullptr) {
      out[row] = std::log(s) + m - zr[label];
      continue;
    }
    float* dr = out + row * c;
    const float scale = g[row] / s;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) dr[j] = exp_nonpositive(zr[j] - m) * scale;
    dr[label] -= g[row];
  }
}

}  // namespace

// sparseSoftmaxCrossEntropy: per-row losses [rows], or with g [rows] the gradient [rows,
// classes]. A label outside [0, classes) is an error, not a zero loss.
Napi::Value calls::sparseSoftmaxCrossEntropy(Napi::Env env, const SparseSoftmaxCrossEntropyArgs& args) {
  const float* z = data_of<float>(args.logits);
  const int32_t* labels = data_of<int32_t>(args.labels);
  const int64_t rows = args.rows, c = args.classes;
  const float* g = args.g ? data_of<float>(args.g) : nullptr;
  for (int64_t row = 0; row < rows; row++) {
    if (labels[row] < 0 || labels[row] >= c) {
      throw Napi::RangeError::New(env, "sparseCategoricalCrossentropy: labels must be class indices in [0, " + std::to_string(c) +
                                                  "); received " + std::to_string(labels[row]) + " at sample " + std::to_string(row));
    }
  }
  Buffer* ob;
  Napi::Value out = new_buffer(env, (g ? rows * c : rows) * 4, &ob);
  sparse_xent_rows(z, labels, g, static_cast<float*>(ob->data), rows, c);
  return out;
}

}  // namespace strata
