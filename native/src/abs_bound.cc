// Note [Activation inside the convolution] (abs_bound.h).
#include "abs_bound.h"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

namespace strata {
namespace {

constexpr float kInfinity = std::numeric_limits<float>::infinity();
constexpr int64_t kChunk = 1 << 15;  // floats per task, as elementwise.cc's kParallelThreshold
constexpr int64_t kMaxTerms = int64_t{1} << 22;  // the proof's bound on K

std::atomic<int64_t> fused_activations{0};

// max |v| over x[from, to), +infinity when any is NaN or infinite. `a <= FLT_MAX` is false for
// NaN, so a NaN counts as infinite instead of vanishing in a max (max(m, NaN) may return m).
STRATA_CLONES float max_abs_range(const float* x, int64_t from, int64_t to) {
  float m = 0.f;
#pragma omp simd reduction(max : m)
  for (int64_t i = from; i < to; i++) {
    const float a = std::fabs(x[i]);
    const float c = a <= FLT_MAX ? a : kInfinity;
    m = c > m ? c : m;
  }
  return m;
}

float max_abs(const float* x, int64_t n) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  if (chunks <= 1) return max_abs_range(x, 0, n);
  std::vector<float> partial(static_cast<size_t>(chunks));
  parallel_for(chunks, true, [&](int64_t c) { partial[c] = max_abs_range(x, c * kChunk, std::min(n, (c + 1) * kChunk)); });
  return *std::max_element(partial.begin(), partial.end());
}

}  // namespace

bool has_abs_bound(const Buffer* b) { return b->abs_bound_stamp == b->stamp; }

void remember_abs_bound(Buffer* b, float bound) {
  b->abs_bound = bound;
  b->abs_bound_stamp = b->stamp;
}

float abs_bound(Buffer* b) {
  if (!has_abs_bound(b)) remember_abs_bound(b, max_abs(static_cast<const float*>(b->data), static_cast<int64_t>(b->bytes / sizeof(float))));
  return b->abs_bound;
}

bool conv_output_is_finite(Buffer* x, Buffer* w, Buffer* bias, int64_t k, size_t y_bytes, float* y_bound) {
  if (k > kMaxTerms) return false;
  if (x->bytes > y_bytes && !has_abs_bound(x)) return false;  // a pass over x would cost more than it saves
  // The filter and bias first: cheap, and usually cached; a NaN there spares the pass over x.
  const double wb = abs_bound(w), bb = bias ? abs_bound(bias) : 0.0;
  if (!(wb <= FLT_MAX && bb <= FLT_MAX)) return false;
  const double xb = abs_bound(x);
  if (!(xb <= FLT_MAX)) return false;
  const double s = static_cast<double>(k) * xb * wb + bb;  // in double: cannot overflow
  if (!(s < FLT_MAX / 2)) return false;
  *y_bound = static_cast<float>(s * 1.3);
  return true;
}

void carry_bound_through_conv(Buffer* x, Buffer* w, Buffer* bias, int64_t k, Buffer* y) {
  if (!has_abs_bound(x)) return;
  float y_bound;
  // y_bytes = x's: the pass over x can never be chosen, and x's bound is known anyway.
  if (conv_output_is_finite(x, w, bias, k, x->bytes, &y_bound)) remember_abs_bound(y, y_bound);
}

void carry_bound_through_add(const Buffer* a, const Buffer* b, Buffer* y) {
  if (!has_abs_bound(a) || !has_abs_bound(b)) return;
  const double sum = sum_bound(a->abs_bound, b->abs_bound);
  remember_abs_bound(y, sum <= FLT_MAX ? static_cast<float>(sum) : kInfinity);
}

void count_fused_activation() { fused_activations++; }
int64_t fused_activation_count() { return fused_activations.load(); }

}  // namespace strata
