// The process's oneDNN engine and stream, and the bounded primitive cache (Note [Bounded
// primitive cache] in dnnl_util.h).
#include "dnnl_util.h"

#include <omp.h>
#include <time.h>

#include <climits>

#include "common.h"

namespace strata {

// Note [Signals and oneDNN]: a SIGPROF handler, asked of the kernel at most once a millisecond.
bool SignalGuard::sampling_profiler_installed() {
  thread_local int64_t checked_ns = INT64_MIN;
  thread_local bool installed = false;
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  if (checked_ns == INT64_MIN || ns - checked_ns >= 1000000) {
    struct sigaction current;
    installed = sigaction(SIGPROF, nullptr, &current) != 0 ||
                (current.sa_flags & SA_SIGINFO ? current.sa_sigaction != nullptr
                                               : current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN);
    checked_ns = ns;
  }
  return installed;
}

void hold_signals_for_new_threads() {
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &saved);
  // An empty region: the OpenMP runtime starts the team's missing threads at its entry.
#pragma omp parallel
  { asm volatile("" ::: "memory"); }
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

dnnl::engine& cpu_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& cpu_stream() {
  static dnnl::stream s(cpu_engine());
  return s;
}

PrimitiveCache& primitive_cache() {
  static PrimitiveCache cache;
  return cache;
}

PrimitiveCache::PrimitiveCache() { dnnl::set_primitive_cache_capacity(static_cast<int>(capacity_)); }

std::shared_ptr<void> PrimitiveCache::find(const CacheKey& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->entry;
}

void PrimitiveCache::insert(const CacheKey& key, std::shared_ptr<void> entry) {
  std::lock_guard<std::mutex> lock(mutex_);
  misses_++;
  auto it = index_.find(key);
  if (it != index_.end()) {  // another thread built it meanwhile: keep one
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front({key, std::move(entry)});
  index_.emplace(key, lru_.begin());
  evict_beyond(capacity_);
}

void PrimitiveCache::evict_beyond(size_t capacity) {
  while (lru_.size() > capacity) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
    evictions_++;
  }
}

void PrimitiveCache::set_capacity(size_t entries) {
  std::lock_guard<std::mutex> lock(mutex_);
  capacity_ = entries;
  evict_beyond(capacity_);
  dnnl::set_primitive_cache_capacity(static_cast<int>(entries));
}

PrimitiveCacheStats PrimitiveCache::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return {lru_.size(), capacity_, misses_, evictions_};
}

Napi::Value calls::setPrimitiveCacheCapacity(Napi::Env env, const SetPrimitiveCacheCapacityArgs& args) {
  if (args.entries < 1) throw Napi::RangeError::New(env, "setPrimitiveCacheCapacity: the capacity must be at least 1");
  primitive_cache().set_capacity(static_cast<size_t>(args.entries));
  return env.Undefined();
}

}  // namespace strata
