// Shared plumbing of the native backend: storage buffers, dtype codes and argument reading.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// The enums, argument structs and kernel declarations from native/calls.mjs (Note [One table
// for the native calling convention]).
#include "calls.gen.h"

// Hot float32 loops get AVX-512 / AVX2 / baseline clones chosen at load time, so one build
// runs on any x86-64 machine and still uses the widest vectors available.
#define STRATA_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))

namespace strata {

size_t dtype_size(DType d);

int64_t size_of(const Shape& shape);
Shape strides_of(const Shape& shape);
// Strides for reading `in` as if broadcast to `out` (0 along broadcast dimensions).
Shape broadcast_strides(const Shape& in, const Shape& out);

// A 64-byte-aligned block of memory owned by one or more tensors. `owners` counts the
// tensors sharing it (a reshape shares storage); dispose() releases an owner and the memory
// goes when the last owner releases it or when the garbage collector collects the handle.
struct Buffer {
  void* data = nullptr;
  size_t bytes = 0;
  int32_t owners = 0;
  // A number unique to these contents: given when the buffer is allocated and again whenever a
  // kernel writes into it in place (restamp), so what was derived from it can be told apart from
  // what was derived from earlier values (Note [Reordered filters kept] in weight_cache.h).
  uint64_t stamp = 0;
  // An upper bound on |value| over the contents as float32 (+infinity when they may hold NaN or
  // infinity), valid while abs_bound_stamp equals stamp (Note [Activation inside the
  // convolution] in abs_bound.h). Stamps start at 1, so a fresh buffer has none.
  float abs_bound = 0;
  uint64_t abs_bound_stamp = 0;
  // False for a cache's private block (weight_cache.cc), which st.memory() reports apart from
  // the tensors' storage.
  bool counted = true;
  // State a kernel saves for its gradient kernel and that lives exactly as long as the output
  // (oneDNN's LSTM workspace); freed with the buffer, never seen by JavaScript.
  Buffer* attachment = nullptr;
};

// Process-wide byte and buffer counts for st.memory().
struct MemoryStats {
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> buffers{0};
};
MemoryStats& memory_stats();

// A new JS handle (an External) around a fresh buffer of `bytes`, zero-filled when asked.
Napi::Value new_buffer(Napi::Env env, size_t bytes, Buffer** out, bool zero = false);
// A buffer with no JS handle, for Buffer::attachment (counted in st.memory() like any other).
Buffer* new_attachment(size_t bytes);
// A block for a cache of the native backend's own, from the same caching allocator but left out
// of st.memory()'s tensor counts (the cache reports it).
Buffer* new_cache_block(size_t bytes);
Buffer* get_buffer(const Napi::Value& v);
void free_buffer_data(Buffer* b);

template <typename T>
T* data_of(const Buffer* b) {
  return static_cast<T*>(b->data);
}

// Calls f with a value of the C++ type of dtype d (float, int32_t or uint8_t).
template <typename F>
void dispatch_dtype(DType d, F&& f) {
  switch (d) {
    case DType::kFloat32: f(float{}); break;
    case DType::kInt32: f(int32_t{}); break;
    case DType::kBool: f(uint8_t{}); break;
  }
}

// Walks `out_shape` in row-major order and calls f(out_index, offset_a, offset_b), where the
// offsets read two inputs through strides `sa` and `sb` (an odometer, O(1) per element).
template <typename F>
void for_each_offset2(const Shape& out_shape, const Shape& sa, const Shape& sb, F&& f) {
  const int64_t n = size_of(out_shape);
  if (n == 0) return;
  const size_t rank = out_shape.size();
  if (rank == 0) {
    f(0, 0, 0);
    return;
  }
  const int64_t inner = out_shape[rank - 1];
  const int64_t sai = sa[rank - 1], sbi = sb[rank - 1];
  std::vector<int64_t> idx(rank, 0);
  int64_t oa = 0, ob = 0;
  for (int64_t o = 0; o < n; o += inner) {
    for (int64_t j = 0; j < inner; j++) f(o + j, oa + j * sai, ob + j * sbi);
    for (int d = static_cast<int>(rank) - 2; d >= 0; d--) {
      idx[d]++;
      oa += sa[d];
      ob += sb[d];
      if (idx[d] < out_shape[d]) break;
      oa -= sa[d] * out_shape[d];
      ob -= sb[d] * out_shape[d];
      idx[d] = 0;
    }
  }
}

// Runs f(i) for i in [0, n), on the OpenMP team when `parallel`. An OpenMP region costs about
// a microsecond even with if(false), more than a small op itself, so small work stays serial.
template <typename F>
inline void parallel_for(int64_t n, bool parallel, F&& f) {
  if (parallel) {
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) f(i);
  } else {
    for (int64_t i = 0; i < n; i++) f(i);
  }
}

// y = relu(y) over n floats (NaN stays NaN, as st.relu), vectorized: for kernels that apply a
// ReLU to their own output.
void relu_in_place(float* y, int64_t n);
// y = min(relu(y), 6) over n floats, NaN staying NaN as in relu_in_place (st.relu6).
void relu6_in_place(float* y, int64_t n);
// y += r over n floats, for a convolution whose residual add could not ride inside oneDNN.
void add_in_place(float* y, const float* r, int64_t n);

// A fresh stamp for `b` before a kernel writes its contents in place; what was derived from the
// old contents is dropped (weight_cache.cc).
void restamp(Buffer* b);

}  // namespace strata
