// The native backend's entry point: registers every kernel family and the thread controls.
#include <omp.h>

#include <dnnl.hpp>

#include "common.h"

namespace strata {
namespace {

// One thread pool: our loops use OpenMP, and Debian's oneDNN is built on the same libgomp, so
// setting the OpenMP thread count governs both.
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  omp_set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), omp_get_max_threads()); }

Napi::Value Version(const Napi::CallbackInfo& info) {
  const dnnl_version_t* v = dnnl_version();
  return Napi::String::New(info.Env(), "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                           std::to_string(v->patch) + ", OpenMP");
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  init_buffers(env, exports);
  init_elementwise(env, exports);
  init_reduce(env, exports);
  init_movement(env, exports);
  init_matmul(env, exports);
  init_conv(env, exports);
  init_pool(env, exports);
  init_softmax(env, exports);
  init_random(env, exports);
  init_optimizer(env, exports);
  init_recurrent(env, exports);
  init_recurrent_sequence(env, exports);
  init_normalization(env, exports);
  init_conv_pool(env, exports);
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("version", Napi::Function::New(env, Version));
  return exports;
}

}  // namespace strata

static Napi::Object InitStrata(Napi::Env env, Napi::Object exports) { return strata::Init(env, exports); }

NODE_API_MODULE(strata_native, InitStrata)
