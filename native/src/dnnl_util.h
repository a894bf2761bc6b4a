// One oneDNN engine and stream for the process, and one bounded cache of primitives keyed by
// shape and attributes: creating a primitive costs 0.15-0.8 ms, far more than running a small one.
#pragma once

#include <dnnl.hpp>
#include <omp.h>
#include <signal.h>

#include <cstdint>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace strata {

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

// Note [Signals and oneDNN]
// oneDNN's JIT kernels are corrupted by a signal handler running on top of them (seen with
// Node's --cpu-prof, whose SIGPROF sampling made plain matmuls abort with heap corruption).
// Signals are therefore held while a primitive runs and delivered right after, whenever a
// SIGPROF handler is installed: that of a sampling profiler (V8's, from --cpu-prof or the
// inspector, which installs it while it samples, or a setitimer one), the signal seen to do
// harm. Holding them costs two system calls per kernel, which on a VM whose system calls trap
// to the hypervisor is about 2 us (0.16 ms of MobileNetV2's 5.4 ms at batch 1), so without
// such a handler the kernels run unguarded, and whether one is installed is asked of the
// kernel at most once a millisecond per thread: a profiler started within that millisecond
// may sample one kernel unguarded. OpenMP's worker threads are created with every signal
// blocked (hold_signals_for_new_threads, at load and on setNumThreads), so they never take a
// signal whatever the guard decides.
class SignalGuard {
 public:
  SignalGuard() {
    if (!sampling_profiler_installed()) return;
    active_ = true;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved_);
  }
  ~SignalGuard() {
    if (active_) pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  static bool sampling_profiler_installed();
  bool active_ = false;
  sigset_t saved_;
};

// Runs one OpenMP region of the current thread count with every signal blocked, so that the
// worker threads it creates inherit the blocked mask (Note [Signals and oneDNN]).
void hold_signals_for_new_threads();

// Note [Bounded primitive cache]
// Every new shape (a last partial batch, another sequence length, an evaluation batch size)
// needs its own primitives, and a cache that keeps them all grows for as long as shapes keep
// coming. The cache is therefore one LRU list for all kernel families, bounded by entry count
// (kDefaultPrimitiveCapacity, setPrimitiveCacheCapacity), and oneDNN's own primitive cache,
// which would otherwise keep up to 1024 more behind it, gets the same bound. A training loop
// uses a few dozen entries, so the bound only drops shapes that stopped coming. Entries are
// handed out as shared_ptr, so an entry evicted while a kernel still uses it lives until that
// kernel returns. Keys are a few integers, hashed and compared as such: the string keys built
// per call with an ostringstream cost about a microsecond on every matmul and convolution. The
// OpenMP thread count is part of every key, since oneDNN sizes a primitive's work split for the
// count it was created under and keeps it (a 2-thread convolution went on running on 2 threads
// after st.setNumThreads(1)).
constexpr size_t kDefaultPrimitiveCapacity = 256;

// The entry's type and up to kMax integers: shapes, flags, kinds.
struct CacheKey {
  static constexpr int kMax = 24;
  intptr_t type = 0;
  int n = 0;
  int64_t v[kMax];
  bool operator==(const CacheKey& o) const { return type == o.type && n == o.n && std::memcmp(v, o.v, n * sizeof(int64_t)) == 0; }
};

struct CacheKeyHash {
  size_t operator()(const CacheKey& k) const {
    uint64_t h = static_cast<uint64_t>(k.type);
    for (int i = 0; i < k.n; i++) {
      h = (h ^ static_cast<uint64_t>(k.v[i])) * 0x9E3779B97F4A7C15ull;
      h ^= h >> 29;
    }
    return static_cast<size_t>(h);
  }
};

struct PrimitiveCacheStats {
  size_t entries, capacity;
  int64_t misses, evictions;
};

class PrimitiveCache {
 public:
  PrimitiveCache();
  // The entry of type Entry under `parts` (integers, bools or enums), built with make() on a miss.
  template <typename Entry, typename Make, typename... Parts>
  std::shared_ptr<Entry> get(Make&& make, const Parts&... parts) {
    CacheKey key;
    key.type = type_id<Entry>();
    static_assert(sizeof...(Parts) + 1 <= CacheKey::kMax, "cache key too long");
    // oneDNN fixes a primitive's thread count when it creates it: after st.setNumThreads the
    // kernels made for the old count would keep running on it.
    key.v[key.n++] = omp_get_max_threads();
    ((key.v[key.n++] = static_cast<int64_t>(parts)), ...);
    if (auto hit = find(key)) return std::static_pointer_cast<Entry>(hit);
    // Built outside the lock: oneDNN takes its time, and make() may throw (nothing is kept then).
    std::shared_ptr<Entry> made = std::make_shared<Entry>(make());
    insert(key, made);
    return made;
  }
  void set_capacity(size_t entries);
  PrimitiveCacheStats stats();

 private:
  template <typename Entry>
  static intptr_t type_id() {
    static const char tag = 0;
    return reinterpret_cast<intptr_t>(&tag);
  }
  std::shared_ptr<void> find(const CacheKey& key);
  void insert(const CacheKey& key, std::shared_ptr<void> entry);
  void evict_beyond(size_t capacity);

  struct Slot {
    CacheKey key;
    std::shared_ptr<void> entry;
  };
  std::mutex mutex_;
  std::list<Slot> lru_;  // most recently used first
  std::unordered_map<CacheKey, std::list<Slot>::iterator, CacheKeyHash> index_;
  size_t capacity_ = kDefaultPrimitiveCapacity;
  int64_t misses_ = 0, evictions_ = 0;
};

PrimitiveCache& primitive_cache();

}  // namespace strata
