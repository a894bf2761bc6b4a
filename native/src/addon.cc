// The native backend's entry point: exports every function of native/calls.mjs (calls.gen.cc),
// and the thread controls and version.
#include <omp.h>
#include <stdlib.h>

#include <dnnl.hpp>

#include "common.h"
#include "dnnl_util.h"

#ifdef STRATA_LLVM_OPENMP
extern "C" void kmp_set_blocktime(int milliseconds);  // libomp's extension; GCC's omp.h lacks it
#endif

namespace strata {

// Note [Two OpenMP runtimes, one in use]
// Debian's oneDNN is built with GCC's OpenMP and names libgomp, whose fork and join each end in
// a futex system call even when the other threads are spinning. On a VM where system calls trap
// to the hypervisor, that made the fixed cost of a oneDNN call about 12 us (a 1x1 convolution of
// 32 values, two futex calls each), and an imported MobileNetV2 makes 53 such calls per image.
// LLVM's runtime (Debian's libomp5) implements libgomp's entry points (GOMP_parallel, omp_*) and
// its workers wait on flags: the same call costs about 9 us, and MobileNetV2 at batch 1 ran 5 to
// 10 % faster (the two builds alternating, 2026-12-08); training steps, whose kernels are larger,
// did not change measurably. So when libomp is installed the addon links it ahead of oneDNN
// (scripts/detect-openmp.mjs): the dynamic linker resolves oneDNN's OpenMP references in load
// order, so they reach libomp, and libgomp is loaded but never starts a thread. Its workers spin
// KMP_BLOCKTIME after each region, 200 ms by default: that would burn a core long after a
// kernel, taking it from the event loop and from whatever runs next (onnxruntime, in the
// benchmark), so we default it to 1 ms, which still covers the gap between two kernels of one
// pass (set through kmp_set_blocktime, so the process's environment is left alone). A
// KMP_BLOCKTIME the user set is kept.
//
// One thread pool either way: setting the OpenMP thread count governs our loops and oneDNN's.
Napi::Value calls::setNumThreads(Napi::Env env, const SetNumThreadsArgs& args) {
  omp_set_num_threads(static_cast<int>(args.n));
  hold_signals_for_new_threads();  // Note [Signals and oneDNN]
  return env.Undefined();
}

Napi::Value calls::getNumThreads(Napi::Env env, const GetNumThreadsArgs&) { return Napi::Number::New(env, omp_get_max_threads()); }

Napi::Value calls::version(Napi::Env env, const VersionArgs&) {
  const dnnl_version_t* v = dnnl_version();
#ifdef STRATA_LLVM_OPENMP
  const char* runtime = ", OpenMP (LLVM libomp)";
#else
  const char* runtime = ", OpenMP (GNU libgomp)";
#endif
  return Napi::String::New(env, "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) + runtime);
}

}  // namespace strata

static Napi::Object InitStrata(Napi::Env env, Napi::Object exports) {
#ifdef STRATA_LLVM_OPENMP
  // Through libomp's API rather than the environment, which JavaScript and child processes see.
  if (!getenv("KMP_BLOCKTIME")) kmp_set_blocktime(1);  // Note [Two OpenMP runtimes, one in use]
#endif
  strata::register_calls(env, exports);
  strata::hold_signals_for_new_threads();  // Note [Signals and oneDNN]
  return exports;
}

NODE_API_MODULE(strata_native, InitStrata)
