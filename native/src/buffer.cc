// Storage buffers and their lifetime: see Buffer in common.h.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <list>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "abs_bound.h"
#include "common.h"
#include "dnnl_util.h"
#include "weight_cache.h"

namespace strata {

size_t dtype_size(DType d) { return d == DType::kBool ? 1 : 4; }

int64_t size_of(const Shape& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

Shape strides_of(const Shape& shape) {
  Shape s(shape.size());
  int64_t acc = 1;
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

Shape broadcast_strides(const Shape& in, const Shape& out) {
  Shape own = strides_of(in);
  Shape s(out.size(), 0);
  const size_t offset = out.size() - in.size();
  for (size_t i = offset; i < out.size(); i++) s[i] = in[i - offset] == 1 ? 0 : own[i - offset];
  return s;
}

MemoryStats& memory_stats() {
  static MemoryStats stats;
  return stats;
}

namespace {
// V8 is told about native memory in steps of 1 MiB: calling into it for every small buffer
// costs more than the kernels that make them, and its GC heuristics need only the magnitude.
// Frees only record their change here, because they run inside a garbage collection, where
// calling back into V8 is fatal; the next allocation reports the net change.
constexpr int64_t kReportStep = 1 << 20;
int64_t unreported = 0;

void report_allocation(Napi::Env env, int64_t bytes) {
  unreported += bytes;
  if (unreported >= kReportStep || unreported <= -kReportStep) {
    // Take the value first: the call may collect garbage, and the frees it runs add to it.
    const int64_t delta = unreported;
    unreported = 0;
    Napi::MemoryManagement::AdjustExternalMemory(env, delta);
  }
}
}  // namespace

// Note [Caching allocator]
// A training step allocates the same large temporaries every time. Memory fresh from the
// system costs a page fault per 4 KiB on first touch, which made a big elementwise op up to
// 8x slower than on reused memory. Freed blocks of 64 KiB or more are therefore kept, keyed by
// their (page-rounded) size, and handed out again for the same size. Blocks of a size the
// program stopped asking for must not stay, nor hold the cache against the sizes it uses now:
// - the cache holds at most as many bytes as the program's large blocks recently peaked at (up to
//   256 MiB), or as the last step (the time between two gradient computations' ends, or two
//   predict batches) asked for in large blocks (up to cache_limit()), whichever is more, and at
//   least kCacheFloor; the blocks freed longest ago go first. A steady loop keeps what its steps
//   and the collections of its dead tensors free, which is what it takes again; a peak is
//   forgotten once the program has allocated as much again, so after a phase with larger
//   tensors the cache shrinks to what the program holds now. The step's demand counts because
//   blocks are kept by exact size: a forward pass that frees each activation as soon as it is
//   read holds little at once but asks for many sizes (an imported MobileNetV2 at batch 32:
//   about 360 MB in use at the peak, 1.5 GB asked for per pass, all of it faulted in afresh
//   when the cache was held to the peak; 343 ms per pass against 146 ms).
// - at the end of every gradient computation (allocatorStep(), from the backend's
//   afterBackward), the blocks of sizes that none of the last kStaleSteps computations asked
//   for go back: after an evaluation at batch 500, a training loop at batch 64 gives its blocks
//   back within a few steps, however little it allocates per step. A size is "asked for" when
//   a request of that size comes, whether the cache had a block or not.
// Blocks of 64 KiB or more come from mmap and go back with munmap, not through malloc: glibc
// kept freed blocks of up to 32 MiB in its heap, resident, so half a GiB freed by Strata still
// counted in the process's RSS.
// V8 is told about the memory taken from and given back to the system, not about blocks moving
// in and out of the cache: it sees the real footprint, and a loop that reuses its blocks does
// not keep triggering full garbage collections for memory it already has. (Telling it the bytes
// tensors hold instead made V8 collect during every large forward pass: an imported MobileNetV2
// at batch 32 took 236 ms a pass instead of 160.) Hence the peak rule's own ceiling: a cache
// that kept growing with a synchronous loop's pile of dead tensors meant external memory V8
// kept under pressure, and then the finalizers of collected tensors waited for the event loop,
// so that loop's explicit collections freed nothing (Note [Collecting dead tensors between
// steps]).
namespace {
constexpr size_t kCacheMinBytes = 64 << 10;
constexpr size_t kCacheFloor = size_t(32) << 20;
// The ceiling is a sixteenth of the machine's memory, from 256 MiB to 2 GiB: a network whose
// forward pass holds a few hundred MB of activations at once (MobileNetV2 at batch 32: blocks of
// up to 154 MB) must be able to keep them, or every pass faults in 600 MB of fresh pages.
size_t cache_limit() {
  static const size_t limit = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    const size_t sixteenth = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) / 16 : 0;
    return std::min(size_t(2) << 30, std::max(size_t(256) << 20, sixteenth));
  }();
  return limit;
}
constexpr uint64_t kStaleSteps = 8;
constexpr size_t kMaxSizeClasses = 4096;

struct CachedBlock {
  size_t size;
  void* p;
};
// The blocks of one size, and the step count when that size was last asked for.
struct SizeClass {
  std::vector<std::list<CachedBlock>::iterator> blocks;
  uint64_t asked_at = 0;
};
std::mutex cache_mutex;
std::list<CachedBlock> cached_lru;  // most recently freed first
std::unordered_map<size_t, SizeClass> cached_by_size;
size_t cached_bytes = 0;
int64_t cache_hits = 0, cache_misses = 0, cache_releases = 0;
uint64_t steps = 0;

// The recent peak of large blocks in use, over two windows of allocated bytes: a window closes
// once the peak has been allocated in it, and the peak is that of the open window and the one
// before, so a peak is forgotten after one to two times its size has been allocated since.
size_t large_in_use = 0, window_bytes = 0, peak_open = 0, peak_closed = 0;

size_t recent_peak() { return std::max(peak_open, peak_closed); }

void note_large_allocation(size_t size) {
  large_in_use += size;
  window_bytes += size;
  peak_open = std::max(peak_open, large_in_use);
  if (window_bytes >= recent_peak()) {
    peak_closed = peak_open;
    peak_open = large_in_use;
    window_bytes = 0;
  }
}

// Large bytes asked for since the last gradient computation ended, and during the one before.
size_t demand_open = 0, demand_last_step = 0;

// The peak rule keeps the old 256 MiB ceiling; only a step's demand may go beyond it (see the
// Note: a synchronous loop whose dead tensors pile up peaks high without asking for more sizes).
constexpr size_t kPeakCeiling = size_t(256) << 20;
size_t cache_allowance() {
  return std::max({kCacheFloor, std::min(kPeakCeiling, recent_peak()), std::min(cache_limit(), demand_last_step)});
}

size_t block_size(size_t bytes) {
  if (bytes >= kCacheMinBytes) return (bytes + 4095) & ~size_t(4095);
  return bytes == 0 ? 64 : ((bytes + 63) / 64) * 64;
}

void* map_block(size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// Takes `block` out of the cache (the caller holds the lock) and returns it.
CachedBlock uncache(std::list<CachedBlock>::iterator block) {
  const CachedBlock b = *block;
  auto& same_size = cached_by_size[b.size].blocks;
  same_size.erase(std::find(same_size.begin(), same_size.end(), block));
  cached_lru.erase(block);
  cached_bytes -= b.size;
  return b;
}

int64_t unmap_all(const std::vector<CachedBlock>& blocks) {
  int64_t released = 0;
  for (const auto& b : blocks) {
    munmap(b.p, b.size);
    released += static_cast<int64_t>(b.size);
  }
  return released;
}

// A block of `size` bytes; `fresh` says whether it came from the system rather than the cache
// (fresh large blocks are zero-filled by the kernel).
void* take_block(size_t size, bool* fresh) {
  *fresh = false;
  if (size >= kCacheMinBytes) {
    {
      std::lock_guard<std::mutex> lock(cache_mutex);
      note_large_allocation(size);
      demand_open += size;
      SizeClass& cls = cached_by_size[size];
      cls.asked_at = steps;
      if (!cls.blocks.empty()) {
        const auto block = cls.blocks.back();  // the most recently freed of this size: warmest
        cls.blocks.pop_back();
        void* p = block->p;
        cached_lru.erase(block);
        cached_bytes -= size;
        cache_hits++;
        return p;
      }
      cache_misses++;
      // Without gradient computations no size is ever stale: forget empty sizes past a bound.
      if (cached_by_size.size() > kMaxSizeClasses) {
        for (auto it = cached_by_size.begin(); it != cached_by_size.end();) it = it->second.blocks.empty() ? cached_by_size.erase(it) : std::next(it);
      }
    }
    *fresh = true;
    void* p = map_block(size);
    if (!p) {
      std::lock_guard<std::mutex> lock(cache_mutex);
      large_in_use -= size;
    }
    return p;
  }
  *fresh = true;
  return std::aligned_alloc(64, size);
}

// Keeps the block for reuse (evicting the least recently freed ones beyond the allowance) or
// frees it; returns how many bytes went back to the system.
int64_t give_block(void* p, size_t size) {
  if (size < kCacheMinBytes) {
    std::free(p);
    return static_cast<int64_t>(size);
  }
  std::vector<CachedBlock> unmap;
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    large_in_use -= size;
    const size_t allowance = cache_allowance();
    if (size > allowance) {
      unmap.push_back({size, p});
    } else {
      cached_lru.push_front({size, p});
      cached_by_size[size].blocks.push_back(cached_lru.begin());
      cached_bytes += size;
      while (cached_bytes > allowance) unmap.push_back(uncache(std::prev(cached_lru.end())));
    }
    cache_releases += static_cast<int64_t>(unmap.size());
  }
  return unmap_all(unmap);
}

// The end of a gradient computation: gives back the blocks of sizes not asked for lately.
int64_t end_step() {
  std::vector<CachedBlock> unmap;
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    steps++;
    demand_last_step = demand_open;
    demand_open = 0;
    for (auto it = cached_by_size.begin(); it != cached_by_size.end();) {
      SizeClass& cls = it->second;
      if (steps - cls.asked_at < kStaleSteps) {
        ++it;
        continue;
      }
      while (!cls.blocks.empty()) unmap.push_back(uncache(cls.blocks.back()));
      it = cached_by_size.erase(it);
    }
    cache_releases += static_cast<int64_t>(unmap.size());
  }
  return unmap_all(unmap);
}
}  // namespace

void free_buffer_data(Buffer* b) {
  if (b->data) forget_reordered(b->stamp);
  if (b->attachment) {
    free_buffer_data(b->attachment);
    delete b->attachment;
    b->attachment = nullptr;
  }
  if (!b->data) return;
  unreported -= give_block(b->data, block_size(b->bytes));
  b->data = nullptr;
  if (!b->counted) return;
  memory_stats().bytes -= static_cast<int64_t>(b->bytes);
  memory_stats().buffers -= 1;
}

namespace {
std::atomic<uint64_t> stamps{0};
uint64_t next_stamp() { return ++stamps; }

// A fresh buffer of `bytes` (zero-filled when asked) from the cache or the system, or nullptr
// when out of memory; *fresh_bytes is what was newly taken from the system (0 from the cache).
Buffer* allocate(size_t bytes, bool zero, int64_t* fresh_bytes) {
  auto* b = new Buffer();
  const size_t rounded = block_size(bytes);
  bool fresh;
  b->data = take_block(rounded, &fresh);
  if (!b->data) {
    delete b;
    return nullptr;
  }
  const bool zeroed = fresh && rounded >= kCacheMinBytes;  // fresh from mmap
  if (zero && !zeroed) std::memset(b->data, 0, rounded);
  b->bytes = bytes;
  b->stamp = next_stamp();
  memory_stats().bytes += static_cast<int64_t>(bytes);
  memory_stats().buffers += 1;
  *fresh_bytes = fresh ? static_cast<int64_t>(rounded) : 0;
  return b;
}
}  // namespace

Napi::Value new_buffer(Napi::Env env, size_t bytes, Buffer** out, bool zero) {
  int64_t fresh_bytes;
  Buffer* b = allocate(bytes, zero, &fresh_bytes);
  if (!b) throw Napi::Error::New(env, "native backend: out of memory allocating " + std::to_string(bytes) + " bytes");
  if (fresh_bytes) report_allocation(env, fresh_bytes);
  *out = b;
  // A basic finalizer (it only frees memory and never calls into JavaScript) runs during
  // garbage collection itself; an ordinary one would wait for the event loop to turn, so a
  // synchronous training loop would never get its memory back.
  return Napi::External<Buffer>::New(env, b, [](Napi::BasicEnv, Buffer* buf) {
    free_buffer_data(buf);
    delete buf;
  });
}

Buffer* new_attachment(size_t bytes) {
  int64_t fresh_bytes;
  Buffer* b = allocate(bytes, false, &fresh_bytes);
  if (!b) throw std::bad_alloc();
  // Reported to V8 with the next handle's allocation (no env here, and this runs inside a kernel).
  unreported += fresh_bytes;
  return b;
}

void restamp(Buffer* b) {
  forget_reordered(b->stamp);
  b->stamp = next_stamp();
}

Buffer* new_cache_block(size_t bytes) {
  Buffer* b = new_attachment(bytes);
  b->counted = false;
  memory_stats().bytes -= static_cast<int64_t>(bytes);
  memory_stats().buffers -= 1;
  return b;
}

Buffer* get_buffer(const Napi::Value& v) {
  Buffer* b = v.As<Napi::External<Buffer>>().Data();
  if (!b->data) throw Napi::Error::New(v.Env(), "native backend: storage used after it was released");
  return b;
}

// upload(values, dtype): copies values already converted to the dtype's array type.
Napi::Value calls::upload(Napi::Env env, const UploadArgs& args) {
  const Napi::TypedArray& arr = args.values;
  Buffer* b;
  Napi::Value h = new_buffer(env, arr.ByteLength(), &b);
  std::memcpy(b->data, static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset(), arr.ByteLength());
  return h;
}

// download(h, dtype, size): a fresh TypedArray with a copy of the first `size` elements.
Napi::Value calls::download(Napi::Env env, const DownloadArgs& args) {
  const DType d = args.dtype;
  const size_t n = static_cast<size_t>(args.size);
  auto ab = Napi::ArrayBuffer::New(env, n * dtype_size(d));
  std::memcpy(ab.Data(), args.h->data, n * dtype_size(d));
  switch (d) {
    case DType::kFloat32: return Napi::Float32Array::New(env, n, ab, 0);
    case DType::kInt32: return Napi::Int32Array::New(env, n, ab, 0);
    case DType::kBool: break;
  }
  return Napi::Uint8Array::New(env, n, ab, 0);
}

Napi::Value calls::retain(Napi::Env env, const RetainArgs& args) {
  args.h->owners++;
  return env.Undefined();
}

// release(h): one owner fewer; the memory goes with the last owner.
Napi::Value calls::release(Napi::Env env, const ReleaseArgs& args) {
  Buffer* b = args.h.As<Napi::External<Buffer>>().Data();
  if (b->data && --b->owners <= 0) free_buffer_data(b);
  return env.Undefined();
}

// allocatorStep(): the end of a gradient computation (Note [Caching allocator]).
Napi::Value calls::allocatorStep(Napi::Env env, const AllocatorStepArgs&) {
  unreported -= end_step();
  return env.Undefined();
}

// memory(): live storage, the caching allocator's state and the primitive cache's.
Napi::Value calls::heldBytes(Napi::Env env, const HeldBytesArgs&) {
  return Napi::Number::New(env, static_cast<double>(memory_stats().bytes.load()));
}

Napi::Value calls::memory(Napi::Env env, const MemoryArgs&) {
  auto o = Napi::Object::New(env);
  const auto num = [&](const char* key, double v) { o.Set(key, Napi::Number::New(env, v)); };
  num("bytes", static_cast<double>(memory_stats().bytes.load()));
  num("buffers", static_cast<double>(memory_stats().buffers.load()));
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    num("cachedBytes", static_cast<double>(cached_bytes));
    num("cacheLimit", static_cast<double>(cache_limit()));
    num("cacheHits", static_cast<double>(cache_hits));
    num("cacheMisses", static_cast<double>(cache_misses));
    num("cacheReleases", static_cast<double>(cache_releases));
  }
  const ReorderedFilterStats f = reordered_filter_stats();
  num("reorderedFilters", static_cast<double>(f.entries));
  num("reorderedFilterBytes", static_cast<double>(f.bytes));
  num("reorderedFilterHits", static_cast<double>(f.hits));
  num("reorderedFilterMisses", static_cast<double>(f.misses));
  num("fusedActivations", static_cast<double>(fused_activation_count()));  // tests: Note [Activation inside the convolution]
  const PrimitiveCacheStats p = primitive_cache().stats();
  num("primitiveEntries", static_cast<double>(p.entries));
  num("primitiveCapacity", static_cast<double>(p.capacity));
  num("primitiveMisses", static_cast<double>(p.misses));
  num("primitiveEvictions", static_cast<double>(p.evictions));
  return o;
}

}  // namespace strata
