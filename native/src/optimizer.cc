// Fused optimizer steps: one pass over a variable, its gradient and its slots instead of the
// eight or so elementwise ops (each a full read and write of memory) the rules take as ops. The
// formulas are Keras 3's and match src/optimizers/*.ts, which are the fallback and the oracle.
// The results go to new buffers (tensors stay immutable); the optimizer assigns them.
#include <algorithm>
#include <cmath>

#include "common.h"

namespace strata {
namespace {

enum Kind { kSgd = 0, kRmsprop = 1, kAdam = 2 };
constexpr int64_t kChunk = 1 << 14;

// Runs body(i) for every element, chunked across threads for large variables.
template <typename F>
void for_elements(int64_t n, F&& body) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  parallel_for(chunks, chunks > 1 && n > (1 << 16), [&](int64_t c) {
    const int64_t to = std::min(n, (c + 1) * kChunk);
    for (int64_t i = c * kChunk; i < to; i++) body(i);
  });
}

// optimizerUpdate(kind, variable, grad, slots[], n, params[]) -> [variable', slots'...]
// params: sgd [lr, decay, momentum, nesterov]; rmsprop [lr, decay, rho, momentum, epsilon,
// centered]; adam [alpha, decay, beta1, beta2, epsilon, amsgrad]. Slot order as FusedUpdate.
Napi::Value OptimizerUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int kind = info[0].As<Napi::Number>().Int32Value();
  const float* w = data_of<float>(info[1]);
  const float* g = data_of<float>(info[2]);
  auto slot_handles = info[3].As<Napi::Array>();
  const int64_t n = info[4].As<Napi::Number>().Int64Value();
  auto params_arr = info[5].As<Napi::Array>();
  std::vector<double> p(params_arr.Length());
  for (uint32_t i = 0; i < params_arr.Length(); i++) p[i] = params_arr.Get(i).As<Napi::Number>().DoubleValue();
  const uint32_t k = slot_handles.Length();
  std::vector<const float*> in(k);
  for (uint32_t i = 0; i < k; i++) in[i] = data_of<float>(slot_handles.Get(i));
  auto result = Napi::Array::New(env, k + 1);
  Buffer* wb;
  result.Set(0u, new_buffer(env, n * 4, &wb));
  float* w1 = static_cast<float*>(wb->data);
  std::vector<float*> out(k);
  for (uint32_t i = 0; i < k; i++) {
    Buffer* b;
    result.Set(i + 1, new_buffer(env, n * 4, &b));
    out[i] = static_cast<float*>(b->data);
  }
  const float lr = static_cast<float>(p[0]), decay = static_cast<float>(p[1]);
  if (kind == kSgd) {
    const float mom = static_cast<float>(p[2]);
    const bool nesterov = p[3] != 0;
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
  } else if (kind == kRmsprop) {
    const float rho = static_cast<float>(p[2]), mom = static_cast<float>(p[3]), eps = static_cast<float>(p[4]);
    const bool centered = p[5] != 0, has_mom = mom > 0;
    const int m_at = has_mom ? 1 : -1, ag_at = centered ? (has_mom ? 2 : 1) : -1;
    for_elements(n, [&](int64_t i) {
      const float gi = g[i];
      const float v = in[0][i] * rho + gi * gi * (1 - rho);
      out[0][i] = v;
      float denominator = v + eps;
      if (ag_at >= 0) {
        const float ag = in[ag_at][i] * rho + gi * (1 - rho);
        out[ag_at][i] = ag;
        denominator = (v - ag * ag) + eps;
      }
      const float increment = gi * lr / std::sqrt(denominator);
      const float wi = w[i] - w[i] * decay;
      if (m_at >= 0) {
        const float m = in[m_at][i] * mom + increment;
        out[m_at][i] = m;
        w1[i] = wi - m;
      } else {
        w1[i] = wi - increment;
      }
    });
  } else if (kind == kAdam) {
    const float b1 = static_cast<float>(p[2]), b2 = static_cast<float>(p[3]), eps = static_cast<float>(p[4]);
    const bool amsgrad = p[5] != 0;
    for_elements(n, [&](int64_t i) {
      const float gi = g[i];
      const float m = in[0][i] + (gi - in[0][i]) * (1 - b1);
      const float v = in[1][i] + (gi * gi - in[1][i]) * (1 - b2);
      out[0][i] = m;
      out[1][i] = v;
      float denominator_v = v;
      if (amsgrad) {
        denominator_v = std::max(in[2][i], v);
        out[2][i] = denominator_v;
      }
      const float wi = w[i] - w[i] * decay;
      w1[i] = wi - (m * lr) / (std::sqrt(denominator_v) + eps);
    });
  } else {
    throw Napi::Error::New(env, "native backend: unknown optimizer kind " + std::to_string(kind));
  }
  return result;
}

}  // namespace

void init_optimizer(Napi::Env env, Napi::Object exports) { exports.Set("optimizerUpdate", Napi::Function::New(env, OptimizerUpdate)); }

}  // namespace strata
