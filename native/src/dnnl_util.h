// One oneDNN engine and stream for the process, and a cache of primitives keyed by shape and
// attributes: creating a primitive costs 0.15-0.8 ms, far more than running a small one.
#pragma once

#include <dnnl.hpp>
#include <signal.h>

#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>

namespace strata {

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

// Note [Signals and oneDNN]
// oneDNN's JIT kernels are corrupted by a signal handler running on top of them (seen with
// Node's --cpu-prof, whose SIGPROF sampling made plain matmuls abort with heap corruption).
// Signals are therefore held while a primitive runs and delivered right after. OpenMP worker
// threads created inside the first region inherit the blocked mask, so they never take them.
class SignalGuard {
 public:
  SignalGuard() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved_);
  }
  ~SignalGuard() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  sigset_t saved_;
};

template <typename... Parts>
std::string cache_key(const Parts&... parts) {
  std::ostringstream os;
  ((os << parts << ','), ...);
  return os.str();
}

// A small typed cache: get(key) builds the entry with make() the first time.
template <typename Entry>
class PrimitiveCache {
 public:
  template <typename Make>
  Entry& get(const std::string& key, Make&& make) {
    auto it = entries_.find(key);
    if (it == entries_.end()) it = entries_.emplace(key, std::make_unique<Entry>(make())).first;
    return *it->second;
  }

 private:
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace strata
