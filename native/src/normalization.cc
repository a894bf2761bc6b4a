// Batch and layer normalization over channels-last data, seen as [rows, C] (Note [Fused
// normalization] in src/ops/normalization-fused.ts has the formulas and the primitives).
//
// Hand-written rather than oneDNN: for 2-D "nc" data oneDNN 2.6 picks ncsp_bnorm:any and
// simple_layer_normalization:any, its non-JIT implementations, and its JIT batch norm (nhwc,
// 4-D) keeps statistics in its own layout. These loops are memory-bound: batch norm statistics
// read x once (sums shifted by the first row, in double, so E[x²] - E[x]² does not cancel),
// the normalization reads it once more; layer norm rows are short and stay in L1 between passes.
#include <omp.h>

#include <cmath>
#include <vector>

#include "common.h"

namespace strata {
namespace {

// Below this many elements a pass is a few microseconds: no OpenMP team (Note in common.h).
constexpr int64_t kParallelElements = 1 << 15;

int threads_for(int64_t rows, int64_t cols) {
  if (rows < 2 || rows * cols <= kParallelElements) return 1;
  const int t = omp_get_max_threads();
  return static_cast<int>(rows < t ? rows : t);
}

// Runs f(r0, r1, tid) over `threads` contiguous row blocks.
template <typename F>
void for_row_blocks(int64_t rows, int threads, F&& f) {
  if (threads <= 1) {
    f(int64_t{0}, rows, 0);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num(), n = omp_get_num_threads();
    const int64_t r0 = rows * tid / n, r1 = rows * (tid + 1) / n;
    f(r0, r1, tid);
  }
}

// ---- batch norm: statistics per column (channel) over all rows

// s1[c] += Σ (x - shift), s2[c] += Σ (x - shift)² over rows [0, n).
STRATA_CLONES void column_moments(const float* __restrict x, const float* __restrict shift, int64_t n, int64_t C,
                                double* __restrict s1, double* __restrict s2) {
  for (int64_t r = 0; r < n; r++) {
    const float* xr = x + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) {
      const double d = static_cast<double>(xr[c] - shift[c]);
      s1[c] += d;
      s2[c] += d * d;
    }
  }
}

// s1[c] += Σ dy·(x - mean), s2[c] += Σ dy over rows [0, n).
STRATA_CLONES void column_grad_sums(const float* __restrict x, const float* __restrict dy, const float* __restrict mean,
                                  int64_t n, int64_t C, double* __restrict s1, double* __restrict s2) {
  for (int64_t r = 0; r < n; r++) {
    const float* xr = x + r * C;
    const float* gr = dy + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) {
      s1[c] += static_cast<double>(gr[c] * (xr[c] - mean[c]));
      s2[c] += static_cast<double>(gr[c]);
    }
  }
}

// y = (x - mean)·a + b per column, rows [0, n). Subtracting first keeps large means exact.
STRATA_CLONES void column_affine(const float* __restrict x, const float* __restrict mean, const float* __restrict a,
                               const float* __restrict b, float* __restrict y, int64_t n, int64_t C) {
  for (int64_t r = 0; r < n; r++) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) yr[c] = __builtin_fmaf(xr[c] - mean[c], a[c], b[c]);
  }
}

// dx = a·dy - k·(x - mean) - c0 per column, rows [0, n).
STRATA_CLONES void column_grad_input(const float* __restrict x, const float* __restrict dy, const float* __restrict mean,
                                   const float* __restrict a, const float* __restrict k, const float* __restrict c0,
                                   float* __restrict dx, int64_t n, int64_t C) {
  for (int64_t r = 0; r < n; r++) {
    const float* xr = x + r * C;
    const float* gr = dy + r * C;
    float* out = dx + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) out[c] = a[c] * gr[c] - k[c] * (xr[c] - mean[c]) - c0[c];
  }
}

// Per-thread double partial sums (two arrays of C), added up in thread order afterwards so the
// result does not depend on scheduling.
struct ColumnPartials {
  int threads;
  int64_t C;
  std::vector<double> sums;
  ColumnPartials(int threads, int64_t C) : threads(threads), C(C), sums(static_cast<size_t>(threads) * 2 * C, 0.0) {}
  double* first(int tid) { return sums.data() + static_cast<size_t>(tid) * 2 * C; }
  double* second(int tid) { return first(tid) + C; }
  void total(std::vector<double>& s1, std::vector<double>& s2) const {
    s1.assign(C, 0.0);
    s2.assign(C, 0.0);
    for (int t = 0; t < threads; t++) {
      const double* p = sums.data() + static_cast<size_t>(t) * 2 * C;
      for (int64_t c = 0; c < C; c++) {
        s1[c] += p[c];
        s2[c] += p[C + c];
      }
    }
  }
};

// A float pointer into a buffer at an element offset (the packed [2, C] statistics).
const float* f32_at(const Buffer* b, int64_t offset = 0) { return data_of<float>(b) + offset; }

float* new_f32(Napi::Env env, int64_t n, Napi::Value* handle) {
  Buffer* b;
  *handle = new_buffer(env, static_cast<size_t>(n) * 4, &b);
  return static_cast<float*>(b->data);
}

}  // namespace

// batchNormStats → [2, C]: mean, then the biased variance.
Napi::Value calls::batchNormStats(Napi::Env env, const BatchNormStatsArgs& args) {
  const float* x = f32_at(args.x);
  const int64_t rows = args.rows, C = args.channels;
  Napi::Value out;
  float* y = new_f32(env, 2 * C, &out);
  const int threads = threads_for(rows, C);
  ColumnPartials partials(threads, C);
  for_row_blocks(rows, threads, [&](int64_t r0, int64_t r1, int tid) {
    column_moments(x + r0 * C, x, r1 - r0, C, partials.first(tid), partials.second(tid));
  });
  std::vector<double> s1, s2;
  partials.total(s1, s2);
  for (int64_t c = 0; c < C; c++) {
    const double m = s1[c] / rows, var = s2[c] / rows - m * m;
    y[c] = static_cast<float>(x[c] + m);
    y[C + c] = static_cast<float>(var > 0 ? var : 0.0);
  }
  return out;
}

// batchNormApply → y; mean and variance are read from their offsets (the packed statistics).
Napi::Value calls::batchNormApply(Napi::Env env, const BatchNormApplyArgs& args) {
  const float* x = f32_at(args.x);
  const float* mean = f32_at(args.mean, args.mean_offset);
  const float* var = f32_at(args.variance, args.variance_offset);
  const float* gamma = f32_at(args.gamma);
  const float* beta = f32_at(args.beta);
  const int64_t rows = args.rows, C = args.channels;
  const double eps = args.epsilon;
  std::vector<float> a(C);
  for (int64_t c = 0; c < C; c++) a[c] = static_cast<float>(gamma[c] / std::sqrt(static_cast<double>(var[c]) + eps));
  Napi::Value out;
  float* y = new_f32(env, rows * C, &out);
  for_row_blocks(rows, threads_for(rows, C), [&](int64_t r0, int64_t r1, int) {
    column_affine(x + r0 * C, mean, a.data(), beta, y + r0 * C, r1 - r0, C);
  });
  return out;
}

// batchNormGradSums → [2, C]: Σ dy·x̂ (dgamma), then Σ dy (dbeta).
Napi::Value calls::batchNormGradSums(Napi::Env env, const BatchNormGradSumsArgs& args) {
  const float* x = f32_at(args.x);
  const int64_t rows = args.rows, C = args.channels;
  const float* mean = f32_at(args.stats);
  const float* var = mean + C;
  const float* dy = f32_at(args.dy);
  const double eps = args.epsilon;
  const int threads = threads_for(rows, C);
  ColumnPartials partials(threads, C);
  for_row_blocks(rows, threads, [&](int64_t r0, int64_t r1, int tid) {
    column_grad_sums(x + r0 * C, dy + r0 * C, mean, r1 - r0, C, partials.first(tid), partials.second(tid));
  });
  std::vector<double> s1, s2;
  partials.total(s1, s2);
  Napi::Value out;
  float* y = new_f32(env, 2 * C, &out);
  for (int64_t c = 0; c < C; c++) {
    y[c] = static_cast<float>(s1[c] / std::sqrt(static_cast<double>(var[c]) + eps));
    y[C + c] = static_cast<float>(s2[c]);
  }
  return out;
}

// batchNormGradInput → dx, with the dependence
// through the batch statistics: γ·inv·(dy - S2/R - x̂·S1/R), S1 = Σ dy·x̂, S2 = Σ dy.
Napi::Value calls::batchNormGradInput(Napi::Env env, const BatchNormGradInputArgs& args) {
  const float* x = f32_at(args.x);
  const float* gamma = f32_at(args.gamma);
  const int64_t rows = args.rows, C = args.channels;
  const float* mean = f32_at(args.stats);
  const float* var = mean + C;
  const float* dy = f32_at(args.dy);
  const float* sums = f32_at(args.sums);
  const double eps = args.epsilon;
  std::vector<float> a(C), k(C), c0(C);
  for (int64_t c = 0; c < C; c++) {
    const double inv = 1.0 / std::sqrt(static_cast<double>(var[c]) + eps), ga = gamma[c] * inv;
    a[c] = static_cast<float>(ga);
    k[c] = static_cast<float>(ga * inv * sums[c] / rows);
    c0[c] = static_cast<float>(ga * sums[C + c] / rows);
  }
  Napi::Value out;
  float* dx = new_f32(env, rows * C, &out);
  for_row_blocks(rows, threads_for(rows, C), [&](int64_t r0, int64_t r1, int) {
    column_grad_input(x + r0 * C, dy + r0 * C, mean, a.data(), k.data(), c0.data(), dx + r0 * C, r1 - r0, C);
  });
  return out;
}

// ---- layer norm: statistics per row over its C values

namespace {

struct RowStats {
  float mean, inv;
};

// Two passes over a row that sits in L1; the sums in double, so long rows stay exact. Inlined
// into each caller's clone (a call through the clone resolver per row would cost more).
inline __attribute__((always_inline)) RowStats row_stats(const float* __restrict x, int64_t C, double eps) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t c = 0; c < C; c++) s += x[c];
  const float mean = static_cast<float>(s / C);
  double q = 0;
#pragma omp simd reduction(+ : q)
  for (int64_t c = 0; c < C; c++) {
    const double d = x[c] - mean;
    q += d * d;
  }
  return {mean, static_cast<float>(1.0 / std::sqrt(q / C + eps))};
}

STRATA_CLONES void layer_norm_rows(const float* __restrict x, const float* __restrict gamma, const float* __restrict beta,
                                 float* __restrict y, int64_t n, int64_t C, double eps) {
  for (int64_t r = 0; r < n; r++) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    const RowStats st = row_stats(xr, C, eps);
#pragma omp simd
    for (int64_t c = 0; c < C; c++) yr[c] = __builtin_fmaf((xr[c] - st.mean) * st.inv, gamma[c], beta[c]);
  }
}

STRATA_CLONES void layer_norm_grad_sums_rows(const float* __restrict x, const float* __restrict dy, int64_t n, int64_t C,
                                           double eps, double* __restrict s1, double* __restrict s2) {
  for (int64_t r = 0; r < n; r++) {
    const float* xr = x + r * C;
    const float* gr = dy + r * C;
    const RowStats st = row_stats(xr, C, eps);
#pragma omp simd
    for (int64_t c = 0; c < C; c++) {
      s1[c] += static_cast<double>(gr[c] * ((xr[c] - st.mean) * st.inv));
      s2[c] += static_cast<double>(gr[c]);
    }
  }
}

// dx = inv·(gd - mean(gd) - x̂·mean(gd·x̂)) with gd = dy·γ, per row.
STRATA_CLONES void layer_norm_grad_input_rows(const float* __restrict x, const float* __restrict gamma,
                                            const float* __restrict dy, float* __restrict dx, int64_t n, int64_t C,
                                            double eps) {
  for (int64_t r = 0; r < n; r++) {
    const float* xr = x + r * C;
    const float* gr = dy + r * C;
    float* out = dx + r * C;
    const RowStats st = row_stats(xr, C, eps);
    double s = 0, sx = 0;
#pragma omp simd reduction(+ : s, sx)
    for (int64_t c = 0; c < C; c++) {
      const float gd = gr[c] * gamma[c];
      s += gd;
      sx += gd * ((xr[c] - st.mean) * st.inv);
    }
    const float m1 = static_cast<float>(s / C), m2 = static_cast<float>(sx / C);
#pragma omp simd
    for (int64_t c = 0; c < C; c++) {
      const float xhat = (xr[c] - st.mean) * st.inv;
      out[c] = st.inv * (gr[c] * gamma[c] - m1 - xhat * m2);
    }
  }
}

}  // namespace

// layerNorm → y
Napi::Value calls::layerNorm(Napi::Env env, const LayerNormArgs& args) {
  const float* x = f32_at(args.x);
  const float* gamma = f32_at(args.gamma);
  const float* beta = f32_at(args.beta);
  const int64_t rows = args.rows, C = args.channels;
  const double eps = args.epsilon;
  Napi::Value out;
  float* y = new_f32(env, rows * C, &out);
  for_row_blocks(rows, threads_for(rows, C), [&](int64_t r0, int64_t r1, int) {
    layer_norm_rows(x + r0 * C, gamma, beta, y + r0 * C, r1 - r0, C, eps);
  });
  return out;
}

// layerNormGradSums → [2, C]: Σ_rows dy·x̂ (dgamma), then Σ_rows dy (dbeta).
Napi::Value calls::layerNormGradSums(Napi::Env env, const LayerNormGradSumsArgs& args) {
  const float* x = f32_at(args.x);
  const float* dy = f32_at(args.dy);
  const int64_t rows = args.rows, C = args.channels;
  const double eps = args.epsilon;
  const int threads = threads_for(rows, C);
  ColumnPartials partials(threads, C);
  for_row_blocks(rows, threads, [&](int64_t r0, int64_t r1, int tid) {
    layer_norm_grad_sums_rows(x + r0 * C, dy + r0 * C, r1 - r0, C, eps, partials.first(tid), partials.second(tid));
  });
  std::vector<double> s1, s2;
  partials.total(s1, s2);
  Napi::Value out;
  float* y = new_f32(env, 2 * C, &out);
  for (int64_t c = 0; c < C; c++) {
    y[c] = static_cast<float>(s1[c]);
    y[C + c] = static_cast<float>(s2[c]);
  }
  return out;
}

// layerNormGradInput → dx
Napi::Value calls::layerNormGradInput(Napi::Env env, const LayerNormGradInputArgs& args) {
  const float* x = f32_at(args.x);
  const float* gamma = f32_at(args.gamma);
  const float* dy = f32_at(args.dy);
  const int64_t rows = args.rows, C = args.channels;
  const double eps = args.epsilon;
  Napi::Value out;
  float* dx = new_f32(env, rows * C, &out);
  for_row_blocks(rows, threads_for(rows, C), [&](int64_t r0, int64_t r1, int) {
    layer_norm_grad_input_rows(x + r0 * C, gamma, dy + r0 * C, dx + r0 * C, r1 - r0, C, eps);
  });
  return out;
}

}  // namespace strata
