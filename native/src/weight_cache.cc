// Note [Reordered filters kept] (weight_cache.h).
#include "weight_cache.h"

#include <atomic>
#include <list>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "dnnl_util.h"

namespace strata {
namespace {

// Big enough for the filters of a ResNet-50 (100 MB) with room for another network beside it.
constexpr int64_t kCapacityBytes = int64_t{512} << 20;

struct Copy {
  uint64_t stamp;
  dnnl::memory::desc layout;
  Buffer* block;  // from the caching allocator (new_cache_block)
};

class FilterCache {
 public:
  // The kept copy of (stamp, layout), most recently used from now on, or nullptr.
  Buffer* find(uint64_t stamp, const dnnl::memory::desc& layout) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto range = by_stamp_.equal_range(stamp);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second->layout == layout) {
        lru_.splice(lru_.begin(), lru_, it->second);
        hits_++;
        return it->second->block;
      }
    }
    misses_++;
    return nullptr;
  }

  void insert(uint64_t stamp, const dnnl::memory::desc& layout, Buffer* block) {
    std::vector<Buffer*> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      lru_.push_front({stamp, layout, block});
      by_stamp_.emplace(stamp, lru_.begin());
      bytes_ += static_cast<int64_t>(block->bytes);
      while (bytes_ > kCapacityBytes && lru_.size() > 1) dropped.push_back(unlink(std::prev(lru_.end())));
    }
    release(dropped);
  }

  void forget(uint64_t stamp) {
    std::vector<Buffer*> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (by_stamp_.count(stamp) == 0) return;
      std::vector<std::list<Copy>::iterator> doomed;
      const auto range = by_stamp_.equal_range(stamp);
      for (auto it = range.first; it != range.second; ++it) doomed.push_back(it->second);
      for (auto it : doomed) dropped.push_back(unlink(it));
    }
    release(dropped);
  }

  ReorderedFilterStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {static_cast<int64_t>(lru_.size()), bytes_, hits_, misses_};
  }

 private:
  // Removes one copy from both indexes (lock held); its block is freed by the caller, outside
  // the lock, because freeing a buffer calls forget() for the block's own stamp.
  Buffer* unlink(std::list<Copy>::iterator it) {
    const auto range = by_stamp_.equal_range(it->stamp);
    for (auto s = range.first; s != range.second; ++s) {
      if (s->second == it) {
        by_stamp_.erase(s);
        break;
      }
    }
    Buffer* block = it->block;
    bytes_ -= static_cast<int64_t>(block->bytes);
    lru_.erase(it);
    return block;
  }

  static void release(const std::vector<Buffer*>& blocks) {
    for (Buffer* b : blocks) {
      free_buffer_data(b);
      delete b;
    }
  }

  std::mutex mutex_;
  std::list<Copy> lru_;  // most recently used first
  std::unordered_multimap<uint64_t, std::list<Copy>::iterator> by_stamp_;
  int64_t bytes_ = 0, hits_ = 0, misses_ = 0;
};

FilterCache& cache() {
  static FilterCache* c = new FilterCache();  // never destroyed: buffers may be freed at exit
  return *c;
}

}  // namespace

dnnl::memory reordered_filter(Buffer* b, const dnnl::memory::desc& user, const dnnl::memory::desc& want, const dnnl::reorder& reorder,
                              dnnl::memory& scratch) {
  auto& eng = cpu_engine();
  if (Buffer* kept = cache().find(b->stamp, want)) return dnnl::memory(want, eng, kept->data);
  dnnl::memory source(user, eng, b->data);
  const int64_t bytes = static_cast<int64_t>(want.get_size());
  if (bytes > kCapacityBytes) {
    scratch = dnnl::memory(want, eng);
    reorder.execute(cpu_stream(), source, scratch);
    return scratch;
  }
  Buffer* block = new_cache_block(static_cast<size_t>(bytes));
  dnnl::memory copy(want, eng, block->data);
  try {
    reorder.execute(cpu_stream(), source, copy);
    cpu_stream().wait();
  } catch (...) {
    free_buffer_data(block);
    delete block;
    throw;
  }
  cache().insert(b->stamp, want, block);
  return copy;
}

void forget_reordered(uint64_t stamp) { cache().forget(stamp); }

ReorderedFilterStats reordered_filter_stats() { return cache().stats(); }

}  // namespace strata
