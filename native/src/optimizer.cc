// Fused optimizer steps: one pass over a variable, its gradient and its slots instead of the
// eight or so elementwise ops (each a full read and write of memory) the rules take as ops. The
// formulas are Keras 3's and match src/optimizers/*.ts, which are the fallback and the oracle.
// The results go to new buffers (tensors stay immutable); the optimizer assigns them.
#include <algorithm>
#include <cmath>

#include "common.h"

namespace strata {
namespace {

constexpr int64_t kChunk = 1 << 14;

// Runs body(from, to) over chunks of the elements, across threads for large variables.
template <typename F>
void for_elements_chunked(int64_t n, F&& body) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  parallel_for(chunks, chunks > 1 && n > (1 << 16), [&](int64_t c) { body(c * kChunk, std::min(n, (c + 1) * kChunk)); });
}

template <typename F>
void for_elements(int64_t n, F&& body) {
  for_elements_chunked(n, [&](int64_t from, int64_t to) {
#pragma omp simd
    for (int64_t i = from; i < to; i++) body(i);
  });
}

// Each rule is a template over its options, with plain restrict pointers, so every variant is
// a straight loop the compiler vectorizes (sqrt and division included).
struct RmspropArgs {
  const float* w; const float* g; const float* v; const float* m; const float* ag;
  float* w1; float* v1; float* m1; float* ag1;
  float lr, decay, rho, mom, eps, one_minus_rho;
};

// The loops are STRATA_CLONES (common.h): AVX-512 and AVX2+FMA clones give 16 and 8 lanes of sqrt
// and division instead of the baseline's 4, and on a large variable the update is otherwise bound
// by those units.
template <bool CENTERED, bool MOMENTUM>
STRATA_CLONES void rmsprop_range(const RmspropArgs& a, int64_t from, int64_t to) {
  const float* w = a.w; const float* g = a.g; const float* v = a.v;
  const float* m = a.m; const float* ag = a.ag;
  float* w1 = a.w1; float* v1 = a.v1; float* m1 = a.m1; float* ag1 = a.ag1;
#pragma omp simd
  for (int64_t i = from; i < to; i++) {
    const float gi = g[i];
    const float vi = v[i] * a.rho + gi * gi * a.one_minus_rho;
    v1[i] = vi;
    float denominator = vi + a.eps;
    if (CENTERED) {
      const float agi = ag[i] * a.rho + gi * a.one_minus_rho;
      ag1[i] = agi;
      denominator = (vi - agi * agi) + a.eps;
    }
    const float increment = gi * a.lr / std::sqrt(denominator);
    const float wi = w[i] - w[i] * a.decay;
    if (MOMENTUM) {
      const float mi = m[i] * a.mom + increment;
      m1[i] = mi;
      w1[i] = wi - mi;
    } else {
      w1[i] = wi - increment;
    }
  }
}

template <bool CENTERED, bool MOMENTUM>
void rmsprop(const RmspropArgs& a, int64_t n) {
  for_elements_chunked(n, [&](int64_t from, int64_t to) { rmsprop_range<CENTERED, MOMENTUM>(a, from, to); });
}

struct AdamArgs {
  const float* w; const float* g; const float* m; const float* v; const float* vhat;
  float* w1; float* m1; float* v1; float* vhat1;
  float alpha, decay, eps, one_minus_b1, one_minus_b2;
};

template <bool AMSGRAD>
STRATA_CLONES void adam_range(const AdamArgs& a, int64_t from, int64_t to) {
  const float* w = a.w; const float* g = a.g; const float* m = a.m;
  const float* v = a.v; const float* vhat = a.vhat;
  float* w1 = a.w1; float* m1 = a.m1; float* v1 = a.v1; float* vhat1 = a.vhat1;
#pragma omp simd
  for (int64_t i = from; i < to; i++) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * a.one_minus_b1;
    const float vi = v[i] + (gi * gi - v[i]) * a.one_minus_b2;
    m1[i] = mi;
    v1[i] = vi;
    float denominator_v = vi;
    if (AMSGRAD) {
      denominator_v = std::max(vhat[i], vi);
      vhat1[i] = denominator_v;
    }
    const float wi = w[i] - w[i] * a.decay;
    w1[i] = wi - (mi * a.alpha) / (std::sqrt(denominator_v) + a.eps);
  }
}

template <bool AMSGRAD>
void adam(const AdamArgs& a, int64_t n) {
  for_elements_chunked(n, [&](int64_t from, int64_t to) { adam_range<AMSGRAD>(a, from, to); });
}

// The rules without momentum-style options, each over its slots (Keras 3's formulas, as
// src/optimizers/adaptive.ts): a = accumulator(s), w1 = w - w·decay - step.
struct SimpleArgs {
  const float* w; const float* g; const float* s0; const float* s1;
  float* w1; float* s0_1; float* s1_1;
  float lr, decay, eps;
  float rho, one_minus_rho;     // Adadelta
  float one_minus_beta1, beta2;  // Adamax
};

// Adagrad: acc += g²; w -= lr·g / √(acc + ε).
STRATA_CLONES void adagrad_range(const SimpleArgs& a, int64_t from, int64_t to) {
  const float* w = a.w; const float* g = a.g; const float* acc = a.s0;
  float* w1 = a.w1; float* acc1 = a.s0_1;
#pragma omp simd
  for (int64_t i = from; i < to; i++) {
    const float gi = g[i], ai = acc[i] + gi * gi;
    acc1[i] = ai;
    w1[i] = (w[i] - w[i] * a.decay) - gi * a.lr / std::sqrt(ai + a.eps);
  }
}

// Adadelta: A = ρA + (1-ρ)g²; δ = -√(D + ε)·g / √(A + ε); D = ρD + (1-ρ)δ²; w += lr·δ.
STRATA_CLONES void adadelta_range(const SimpleArgs& a, int64_t from, int64_t to) {
  const float* w = a.w; const float* g = a.g;
  const float* acc_g = a.s0; const float* acc_d = a.s1;
  float* w1 = a.w1; float* acc_g1 = a.s0_1; float* acc_d1 = a.s1_1;
#pragma omp simd
  for (int64_t i = from; i < to; i++) {
    const float gi = g[i];
    const float ag = acc_g[i] * a.rho + gi * gi * a.one_minus_rho;
    const float delta = -std::sqrt(acc_d[i] + a.eps) * gi / std::sqrt(ag + a.eps);
    acc_g1[i] = ag;
    acc_d1[i] = acc_d[i] * a.rho + delta * delta * a.one_minus_rho;
    w1[i] = (w[i] - w[i] * a.decay) + delta * a.lr;
  }
}

// Adamax: m += (g - m)(1 - β1); u = max(β2·u, |g|); w -= lr·m / (u + ε), lr already divided by
// 1 - β1^t.
STRATA_CLONES void adamax_range(const SimpleArgs& a, int64_t from, int64_t to) {
  const float* w = a.w; const float* g = a.g; const float* m = a.s0; const float* u = a.s1;
  float* w1 = a.w1; float* m1 = a.s0_1; float* u1 = a.s1_1;
#pragma omp simd
  for (int64_t i = from; i < to; i++) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * a.one_minus_beta1;
    const float scaled = u[i] * a.beta2, ag = std::fabs(gi);
    const float ui = scaled > ag ? scaled : ag;
    m1[i] = mi;
    u1[i] = ui;
    w1[i] = (w[i] - w[i] * a.decay) - mi * a.lr / (ui + a.eps);
  }
}

// Where an update writes a tensor's new values: over the old ones when that tensor is the
// storage's only owner (Note [Updates in place] in src/optimizers/optimizer.ts; the same handle
// is returned), else into a fresh buffer. Every loop here reads and writes element i only, so
// writing over its input is safe; they carry no __restrict for that reason and `omp simd` keeps
// them vectorized.
Napi::Value update_target(Napi::Env env, const Napi::Value& handle, int64_t n, float** dst) {
  Buffer* b = get_buffer(handle);
  if (b->owners == 1) {
    restamp(b);  // Note [Reordered filters kept] (weight_cache.h)
    *dst = static_cast<float*>(b->data);
    return handle;
  }
  Buffer* fresh;
  Napi::Value v = new_buffer(env, n * 4, &fresh);
  *dst = static_cast<float*>(fresh->data);
  return v;
}

}  // namespace

// optimizerUpdate → [variable', slots'...], slots in FusedUpdate's order; params as the
// Optimizer enum's params in native/calls.mjs (their count is checked when read).
Napi::Value calls::optimizerUpdate(Napi::Env env, const OptimizerUpdateArgs& args) {
  const Optimizer kind = args.kind;
  const float* w = data_of<float>(get_buffer(args.w));
  const float* g = data_of<float>(args.g);
  const int64_t n = args.n;
  const size_t k = args.slots.size();
  std::vector<const float*> in(k);
  for (size_t i = 0; i < k; i++) in[i] = data_of<float>(get_buffer(args.slots[i]));
  auto result = Napi::Array::New(env, k + 1);
  float* w1;
  result.Set(0u, update_target(env, args.w, n, &w1));
  std::vector<float*> out(k);
  for (size_t i = 0; i < k; i++) result.Set(static_cast<uint32_t>(i + 1), update_target(env, args.slots[i], n, &out[i]));
  const auto f = [](double v) { return static_cast<float>(v); };
  switch (kind) {
    case Optimizer::kSgd: {
      const auto p = SgdParams::of(args.params);
      const float lr = f(p.lr), decay = f(p.decay), mom = f(p.momentum);
      const bool nesterov = p.nesterov != 0;
      if (k == 0) {
        for_elements(n, [&](int64_t i) {
          const float wi = w[i] - w[i] * decay;
          w1[i] = wi - g[i] * lr;
        });
      } else {
        const float* m = in[0];
        float* m1 = out[0];
        for_elements(n, [&](int64_t i) {
          const float wi = w[i] - w[i] * decay;
          const float mi = m[i] * mom - g[i] * lr;
          m1[i] = mi;
          w1[i] = nesterov ? (wi + mi * mom) - g[i] * lr : wi + mi;
        });
      }
      break;
    }
    case Optimizer::kRmsprop: {
      const auto p = RmspropParams::of(args.params);
      RmspropArgs a{w, g, in[0], nullptr, nullptr, w1, out[0], nullptr, nullptr, f(p.lr), f(p.decay), f(p.rho),
                    f(p.momentum), f(p.epsilon), f(p.one_minus_rho)};
      const bool centered = p.centered != 0, has_mom = a.mom > 0;
      if (has_mom) a.m = in[1], a.m1 = out[1];
      if (centered) a.ag = in[has_mom ? 2 : 1], a.ag1 = out[has_mom ? 2 : 1];
      if (centered && has_mom) rmsprop<true, true>(a, n);
      else if (centered) rmsprop<true, false>(a, n);
      else if (has_mom) rmsprop<false, true>(a, n);
      else rmsprop<false, false>(a, n);
      break;
    }
    case Optimizer::kAdam: {
      const auto p = AdamParams::of(args.params);
      const bool amsgrad = p.amsgrad != 0;
      const AdamArgs a{w, g, in[0], in[1], amsgrad ? in[2] : nullptr, w1, out[0], out[1], amsgrad ? out[2] : nullptr,
                       f(p.lr), f(p.decay), f(p.epsilon), f(p.one_minus_beta1), f(p.one_minus_beta2)};
      if (amsgrad) adam<true>(a, n);
      else adam<false>(a, n);
      break;
    }
    case Optimizer::kAdagrad:
    case Optimizer::kAdadelta:
    case Optimizer::kAdamax: {
      SimpleArgs a{w, g, in[0], k > 1 ? in[1] : nullptr, w1, out[0], k > 1 ? out[1] : nullptr, 0, 0, 0, 0, 0, 0, 0};
      if (kind == Optimizer::kAdagrad) {
        const auto p = AdagradParams::of(args.params);
        a.lr = f(p.lr), a.decay = f(p.decay), a.eps = f(p.epsilon);
      } else if (kind == Optimizer::kAdadelta) {
        const auto p = AdadeltaParams::of(args.params);
        a.lr = f(p.lr), a.decay = f(p.decay), a.eps = f(p.epsilon), a.rho = f(p.rho), a.one_minus_rho = f(p.one_minus_rho);
      } else {
        const auto p = AdamaxParams::of(args.params);
        a.lr = f(p.lr), a.decay = f(p.decay), a.eps = f(p.epsilon), a.one_minus_beta1 = f(p.one_minus_beta1), a.beta2 = f(p.beta2);
      }
      for_elements_chunked(n, [&](int64_t from, int64_t to) {
        if (kind == Optimizer::kAdagrad) adagrad_range(a, from, to);
        else if (kind == Optimizer::kAdadelta) adadelta_range(a, from, to);
        else adamax_range(a, from, to);
      });
      break;
    }
  }
  return result;
}

}  // namespace strata
