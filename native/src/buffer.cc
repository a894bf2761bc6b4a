// Storage buffers and their lifetime: see Buffer in common.h.
#include <algorithm>
#include <list>
#include <iterator>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace strata {

size_t dtype_size(DType d) { return d == DType::Bool ? 1 : 4; }

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
// their (page-rounded) size, up to kCacheLimit bytes, and handed out again for the same size.
// When a freed block does not fit, the blocks freed longest ago go back to the system first:
// blocks of sizes the program has stopped using (a benchmark's 2048x2048 products before a small
// model trains) must not hold the cache against the sizes it uses now.
// V8 is told about the memory taken from and given back to the system, not about blocks moving
// in and out of the cache: it sees the real footprint, and a loop that reuses its blocks does
// not keep triggering full garbage collections for memory it already has.
namespace {
constexpr size_t kCacheMinBytes = 64 << 10;
constexpr size_t kCacheLimit = size_t(256) << 20;

struct CachedBlock {
  size_t size;
  void* p;
};
std::mutex cache_mutex;
std::list<CachedBlock> cached_lru;  // most recently freed first
std::unordered_map<size_t, std::vector<std::list<CachedBlock>::iterator>> cached_by_size;
size_t cached_bytes = 0;
int64_t cache_hits = 0, cache_misses = 0;

size_t block_size(size_t bytes) {
  if (bytes >= kCacheMinBytes) return (bytes + 4095) & ~size_t(4095);
  return bytes == 0 ? 64 : ((bytes + 63) / 64) * 64;
}

// A block of `size` bytes; `fresh` says whether it came from the system rather than the cache.
void* take_block(size_t size, bool* fresh) {
  *fresh = false;
  if (size >= kCacheMinBytes) {
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto it = cached_by_size.find(size);
    if (it != cached_by_size.end() && !it->second.empty()) {
      const auto block = it->second.back();  // the most recently freed of this size: warmest
      it->second.pop_back();
      void* p = block->p;
      cached_lru.erase(block);
      cached_bytes -= size;
      cache_hits++;
      return p;
    }
    cache_misses++;
  }
  *fresh = true;
  return std::aligned_alloc(64, size);
}

// Keeps the block for reuse (evicting the least recently freed ones beyond the limit) or frees
// it; returns how many bytes went back to the system.
int64_t give_block(void* p, size_t size) {
  if (size < kCacheMinBytes || size > kCacheLimit) {
    std::free(p);
    return static_cast<int64_t>(size);
  }
  std::lock_guard<std::mutex> lock(cache_mutex);
  cached_lru.push_front({size, p});
  cached_by_size[size].push_back(cached_lru.begin());
  cached_bytes += size;
  int64_t released = 0;
  while (cached_bytes > kCacheLimit) {
    const auto oldest = std::prev(cached_lru.end());
    auto& same_size = cached_by_size[oldest->size];
    same_size.erase(std::find(same_size.begin(), same_size.end(), oldest));
    std::free(oldest->p);
    released += static_cast<int64_t>(oldest->size);
    cached_bytes -= oldest->size;
    cached_lru.erase(oldest);
  }
  return released;
}
}  // namespace

void free_buffer_data(Buffer* b) {
  if (b->attachment) {
    free_buffer_data(b->attachment);
    delete b->attachment;
    b->attachment = nullptr;
  }
  if (!b->data) return;
  unreported -= give_block(b->data, block_size(b->bytes));
  b->data = nullptr;
  memory_stats().bytes -= static_cast<int64_t>(b->bytes);
  memory_stats().buffers -= 1;
}

namespace {
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
  if (zero) std::memset(b->data, 0, rounded);
  b->bytes = bytes;
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

Buffer* get_buffer(const Napi::Value& v) {
  Buffer* b = v.As<Napi::External<Buffer>>().Data();
  if (!b->data) throw Napi::Error::New(v.Env(), "native backend: storage used after it was released");
  return b;
}

Shape get_shape(const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  Shape s(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) s[i] = arr.Get(i).As<Napi::Number>().Int64Value();
  return s;
}

std::vector<int32_t> get_ints(const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  std::vector<int32_t> s(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) s[i] = arr.Get(i).As<Napi::Number>().Int32Value();
  return s;
}

DType get_dtype(const Napi::Value& v) { return static_cast<DType>(v.As<Napi::Number>().Int32Value()); }

namespace {

// upload(typedArray, dtype): copies values already converted to the dtype's array type.
Napi::Value Upload(const Napi::CallbackInfo& info) {
  auto arr = info[0].As<Napi::TypedArray>();
  Buffer* b;
  Napi::Value h = new_buffer(info.Env(), arr.ByteLength(), &b);
  std::memcpy(b->data, static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset(), arr.ByteLength());
  return h;
}

// download(handle, dtype, size): a fresh TypedArray with a copy of the first `size` elements.
Napi::Value Download(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buffer* b = get_buffer(info[0]);
  DType d = get_dtype(info[1]);
  const size_t n = static_cast<size_t>(info[2].As<Napi::Number>().Int64Value());
  auto ab = Napi::ArrayBuffer::New(env, n * dtype_size(d));
  std::memcpy(ab.Data(), b->data, n * dtype_size(d));
  switch (d) {
    case DType::Float32: return Napi::Float32Array::New(env, n, ab, 0);
    case DType::Int32: return Napi::Int32Array::New(env, n, ab, 0);
    default: return Napi::Uint8Array::New(env, n, ab, 0);
  }
}

Napi::Value Retain(const Napi::CallbackInfo& info) {
  get_buffer(info[0])->owners++;
  return info.Env().Undefined();
}

// release(handle): one owner fewer; the memory goes with the last owner.
Napi::Value Release(const Napi::CallbackInfo& info) {
  Buffer* b = info[0].As<Napi::External<Buffer>>().Data();
  if (b->data && --b->owners <= 0) free_buffer_data(b);
  return info.Env().Undefined();
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  o.Set("bytes", Napi::Number::New(info.Env(), static_cast<double>(memory_stats().bytes.load())));
  o.Set("buffers", Napi::Number::New(info.Env(), static_cast<double>(memory_stats().buffers.load())));
  std::lock_guard<std::mutex> lock(cache_mutex);
  o.Set("cachedBytes", Napi::Number::New(info.Env(), static_cast<double>(cached_bytes)));
  o.Set("cacheHits", Napi::Number::New(info.Env(), static_cast<double>(cache_hits)));
  o.Set("cacheMisses", Napi::Number::New(info.Env(), static_cast<double>(cache_misses)));
  return o;
}

}  // namespace

void init_buffers(Napi::Env env, Napi::Object exports) {
  exports.Set("upload", Napi::Function::New(env, Upload));
  exports.Set("download", Napi::Function::New(env, Download));
  exports.Set("retain", Napi::Function::New(env, Retain));
  exports.Set("release", Napi::Function::New(env, Release));
  exports.Set("memory", Napi::Function::New(env, Memory));
}

}  // namespace strata
