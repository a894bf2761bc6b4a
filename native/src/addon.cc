// The native backend's entry point: exports every function of native/calls.mjs (calls.gen.cc),
// and the thread controls and version.
#include <omp.h>

#include <dnnl.hpp>

#include "common.h"
#include "dnnl_util.h"

namespace strata {

// One thread pool: our loops use OpenMP, and Debian's oneDNN is built on the same libgomp, so
// setting the OpenMP thread count governs both.
Napi::Value calls::setNumThreads(Napi::Env env, const SetNumThreadsArgs& args) {
  omp_set_num_threads(static_cast<int>(args.n));
  hold_signals_for_new_threads();  // Note [Signals and oneDNN]
  return env.Undefined();
}

Napi::Value calls::getNumThreads(Napi::Env env, const GetNumThreadsArgs&) { return Napi::Number::New(env, omp_get_max_threads()); }

Napi::Value calls::version(Napi::Env env, const VersionArgs&) {
  const dnnl_version_t* v = dnnl_version();
  return Napi::String::New(env, "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) + ", OpenMP");
}

}  // namespace strata

static Napi::Object InitStrata(Napi::Env env, Napi::Object exports) {
  strata::register_calls(env, exports);
  strata::hold_signals_for_new_threads();  // Note [Signals and oneDNN]
  return exports;
}

NODE_API_MODULE(strata_native, InitStrata)
