// Softmax and log-softmax along one axis, subtracting the maximum first so exp never overflows.
#include <cmath>

#include "common.h"

namespace strata {
namespace {

// softmax(x, xShape, axis, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const float* x = data_of<float>(info[0]);
  const Shape xs = get_shape(info[1]);
  const int axis = info[2].As<Napi::Number>().Int32Value();
  const bool log = info[3].As<Napi::Boolean>().Value();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; i++) outer *= xs[i];
  for (size_t i = axis + 1; i < xs.size(); i++) inner *= xs[i];
  const int64_t n = xs[axis];
  Buffer* yb;
  Napi::Value out = new_buffer(info.Env(), outer * n * inner * 4, &yb);
  float* y = static_cast<float*>(yb->data);
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

}  // namespace

void init_softmax(Napi::Env env, Napi::Object exports) { exports.Set("softmax", Napi::Function::New(env, Softmax)); }

}  // namespace strata
