// Fused optimizer steps for the wasm backend: one pass over a variable, its gradient and its
// slots, as native/src/optimizer.cc (Keras 3's formulas, the same as src/optimizers/*.ts, which
// are the fallback and the oracle). An output may be its own input (an update in place, Note
// [Updates in place] in src/optimizers/optimizer.ts): every loop reads and writes element i only,
// so the pointers carry no and `vectorize(assume_safety)` tells clang that the exact
// aliasing is harmless (f32x4 sqrt and div are single wasm instructions).
#include "strata.h"

#define VECTORIZE _Pragma("clang loop vectorize(assume_safety)")

enum { OPT_SGD = 0, OPT_RMSPROP = 1, OPT_ADAM = 2, OPT_ADAGRAD = 3, OPT_ADADELTA = 4, OPT_ADAMAX = 5 };

static void sgd(int64_t a, int64_t b, const float *w, const float *g, const float *m, float *w1, float *m1,
                float lr, float decay, float mom, int nesterov) {
  if (!m) {
    VECTORIZE for (int64_t i = a; i < b; i++) w1[i] = (w[i] - w[i] * decay) - g[i] * lr;
    return;
  }
  VECTORIZE for (int64_t i = a; i < b; i++) {
    float wi = w[i] - w[i] * decay, mi = m[i] * mom - g[i] * lr;
    m1[i] = mi;
    w1[i] = nesterov ? (wi + mi * mom) - g[i] * lr : wi + mi;
  }
}

static void rmsprop(int64_t a, int64_t b, const float *w, const float *g, const float *v, const float *m,
                    const float *ag, float *w1, float *v1, float *m1, float *ag1, float lr, float decay,
                    float rho, float mom, float eps, float omr) {
  VECTORIZE for (int64_t i = a; i < b; i++) {
    float gi = g[i], vi = v[i] * rho + gi * gi * omr, den = vi + eps;
    v1[i] = vi;
    if (ag) {
      float agi = ag[i] * rho + gi * omr;
      ag1[i] = agi;
      den = (vi - agi * agi) + eps;
    }
    float inc = gi * lr / __builtin_sqrtf(den), wi = w[i] - w[i] * decay;
    if (m) {
      float mi = m[i] * mom + inc;
      m1[i] = mi;
      w1[i] = wi - mi;
    } else {
      w1[i] = wi - inc;
    }
  }
}

static void adam(int64_t a, int64_t b, const float *w, const float *g, const float *m, const float *v,
                 const float *vh, float *w1, float *m1, float *v1, float *vh1, float alpha, float decay,
                 float eps, float omb1, float omb2) {
  VECTORIZE for (int64_t i = a; i < b; i++) {
    float gi = g[i], mi = m[i] + (gi - m[i]) * omb1, vi = v[i] + (gi * gi - v[i]) * omb2;
    m1[i] = mi;
    v1[i] = vi;
    float dv = vi;
    if (vh) {
      dv = vh[i] > vi ? vh[i] : vi;
      vh1[i] = dv;
    }
    w1[i] = (w[i] - w[i] * decay) - (mi * alpha) / (__builtin_sqrtf(dv) + eps);
  }
}

static void adagrad(int64_t a, int64_t b, const float *w, const float *g, const float *acc, float *w1,
                    float *acc1, float lr, float decay, float eps) {
  VECTORIZE for (int64_t i = a; i < b; i++) {
    float gi = g[i], ai = acc[i] + gi * gi;
    acc1[i] = ai;
    w1[i] = (w[i] - w[i] * decay) - gi * lr / __builtin_sqrtf(ai + eps);
  }
}

static void adadelta(int64_t a, int64_t b, const float *w, const float *g, const float *ag, const float *ad,
                     float *w1, float *ag1, float *ad1, float lr, float decay, float eps, float rho, float omr) {
  VECTORIZE for (int64_t i = a; i < b; i++) {
    float gi = g[i], agi = ag[i] * rho + gi * gi * omr;
    float delta = -__builtin_sqrtf(ad[i] + eps) * gi / __builtin_sqrtf(agi + eps);
    ag1[i] = agi;
    ad1[i] = ad[i] * rho + delta * delta * omr;
    w1[i] = (w[i] - w[i] * decay) + delta * lr;
  }
}

static void adamax(int64_t a, int64_t b, const float *w, const float *g, const float *m, const float *u,
                   float *w1, float *m1, float *u1, float lr, float decay, float eps, float omb1, float b2) {
  VECTORIZE for (int64_t i = a; i < b; i++) {
    float gi = g[i], mi = m[i] + (gi - m[i]) * omb1, scaled = u[i] * b2, ag = __builtin_fabsf(gi);
    float ui = scaled > ag ? scaled : ag;
    m1[i] = mi;
    u1[i] = ui;
    w1[i] = (w[i] - w[i] * decay) - mi * lr / (ui + eps);
  }
}

/**
 * One step over n elements: w, g and up to three slots s[0..2] in, w1 and o[0..2] out (0 for a
 * slot the rule does not have). p holds the rule's parameters in native's order
 * (OptimizerParams in src/backend/native/calls.gen.ts), as doubles from JavaScript.
 */
EXPORT(optimizer_update)
void optimizer_update(int kind, int n, const float *w, const float *g, const float *s0, const float *s1, const float *s2, float *w1, float *o0,
                      float *o1, float *o2, const double *p, int tid, int nthreads) {
  int64_t a, b;
  thread_range(n, tid, nthreads, &a, &b);
  switch (kind) {
    case OPT_SGD:  // lr, decay, momentum, nesterov
      sgd(a, b, w, g, s0, w1, o0, (float)p[0], (float)p[1], (float)p[2], p[3] != 0);
      break;
    case OPT_RMSPROP: {  // lr, decay, rho, momentum, epsilon, centered, 1 - rho; slots velocity, momentum?, averageGrad?
      int mom = p[3] > 0, centered = p[5] != 0;
      const float *m = mom ? s1 : 0, *ag = centered ? (mom ? s2 : s1) : 0;
      float *m1 = mom ? o1 : 0, *ag1 = centered ? (mom ? o2 : o1) : 0;
      rmsprop(a, b, w, g, s0, m, ag, w1, o0, m1, ag1, (float)p[0], (float)p[1], (float)p[2], (float)p[3], (float)p[4], (float)p[6]);
      break;
    }
    case OPT_ADAM:  // lr, decay, beta1, beta2, epsilon, amsgrad, 1 - beta1, 1 - beta2; slots m, v, vhat?
      adam(a, b, w, g, s0, s1, p[5] != 0 ? s2 : 0, w1, o0, o1, p[5] != 0 ? o2 : 0, (float)p[0], (float)p[1], (float)p[4], (float)p[6], (float)p[7]);
      break;
    case OPT_ADAGRAD:  // lr, decay, epsilon
      adagrad(a, b, w, g, s0, w1, o0, (float)p[0], (float)p[1], (float)p[2]);
      break;
    case OPT_ADADELTA:  // lr, decay, epsilon, rho, 1 - rho
      adadelta(a, b, w, g, s0, s1, w1, o0, o1, (float)p[0], (float)p[1], (float)p[2], (float)p[3], (float)p[4]);
      break;
    case OPT_ADAMAX:  // lr, decay, epsilon, 1 - beta1, beta2
      adamax(a, b, w, g, s0, s1, w1, o0, o1, (float)p[0], (float)p[1], (float)p[2], (float)p[3], (float)p[4]);
      break;
  }
}
