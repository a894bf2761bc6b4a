// Data movement: transpose, broadcastTo, slice, pad, concat, gather, scatterAdd. All copy through
// strides; element size is all that matters, so each kernel works on raw bytes of 1 or 4.
#include <cstring>

#include "common.h"
#include "strided_copy.h"

namespace strata {

// strided: out[o] = x[base + offset(o)]; transpose, broadcast and slice (Note [Strided copy
// paths] in strided_copy.cc).
Napi::Value calls::strided(Napi::Env env, const StridedArgs& args) {
  const size_t width = dtype_size(args.dtype);
  Buffer* yb;
  Napi::Value out = new_buffer(env, size_of(args.out_shape) * width, &yb);
  strided_copy(static_cast<const uint8_t*>(args.x->data) + args.base * width, yb->data, args.out_shape, args.strides, width);
  return out;
}

Napi::Value calls::pad(Napi::Env env, const PadArgs& args) {
  Buffer* xb = args.x;
  const Shape& xs = args.x_shape;
  const Shape& os = args.out_shape;
  const Shape& before = args.before;
  const double value = args.value;
  const DType d = args.dtype;
  const int64_t n = size_of(os);
  Buffer* yb;
  Napi::Value out = new_buffer(env, n * dtype_size(d), &yb);
  const Shape ost = strides_of(os);
  int64_t base = 0;
  for (size_t i = 0; i < os.size(); i++) base += before[i] * ost[i];
  dispatch_dtype(d, [&](auto tag) {
    using T = decltype(tag);
    T* y = static_cast<T*>(yb->data);
    const T v = static_cast<T>(value);
    for (int64_t i = 0; i < n; i++) y[i] = v;
    const T* x = static_cast<const T*>(xb->data);
    for_each_offset2(xs, ost, ost, [&](int64_t i, int64_t o, int64_t) { y[base + o] = x[i]; });
  });
  return out;
}

// concat: each input contributes a contiguous row per outer index.
Napi::Value calls::concat(Napi::Env env, const ConcatArgs& args) {
  const Shape& rows = args.row_bytes;
  const int64_t outer = args.outer;
  const int64_t out_row = args.out_row_bytes;
  Buffer* yb;
  Napi::Value out = new_buffer(env, outer * out_row, &yb);
  uint8_t* y = static_cast<uint8_t*>(yb->data);
  int64_t col = 0;
  for (size_t k = 0; k < args.parts.size(); k++) {
    const uint8_t* x = static_cast<const uint8_t*>(args.parts[k]->data);
    for (int64_t o = 0; o < outer; o++) std::memcpy(y + o * out_row + col, x + o * rows[k], rows[k]);
    col += rows[k];
  }
  return out;
}

// gather: indices are validated by ops/.
Napi::Value calls::gather(Napi::Env env, const GatherArgs& args) {
  Buffer* xb = args.x;
  const int32_t* idx = data_of<int32_t>(args.indices);
  const int64_t count = args.count, outer = args.outer, dim = args.dim, inner = args.inner;
  const DType d = args.dtype;
  const size_t w = dtype_size(d);
  Buffer* yb;
  Napi::Value out = new_buffer(env, outer * count * inner * w, &yb);
  const uint8_t* x = static_cast<const uint8_t*>(xb->data);
  uint8_t* y = static_cast<uint8_t*>(yb->data);
#pragma omp parallel for collapse(2) if (outer * count * inner > (1 << 16))
  for (int64_t o = 0; o < outer; o++)
    for (int64_t c = 0; c < count; c++)
      std::memcpy(y + (o * count + c) * inner * w, x + (o * dim + idx[c]) * inner * w, inner * w);
  return out;
}

Napi::Value calls::scatterAdd(Napi::Env env, const ScatterAddArgs& args) {
  Buffer* ub = args.updates;
  const int32_t* idx = data_of<int32_t>(args.indices);
  const int64_t count = args.count, outer = args.outer, size = args.size, inner = args.inner;
  const DType d = args.dtype;
  Buffer* yb;
  Napi::Value out = new_buffer(env, outer * size * inner * dtype_size(d), &yb, true);
  dispatch_dtype(d, [&](auto tag) {
    using T = decltype(tag);
    const T* u = static_cast<const T*>(ub->data);
    T* y = static_cast<T*>(yb->data);
    // Parallel over the outer index only: repeated indices write the same rows within one o.
#pragma omp parallel for if (outer > 1 && outer * count * inner > (1 << 16))
    for (int64_t o = 0; o < outer; o++)
      for (int64_t c = 0; c < count; c++) {
        T* dst = y + (o * size + idx[c]) * inner;
        const T* src = u + (o * count + c) * inner;
        for (int64_t i = 0; i < inner; i++) dst[i] += src[i];
      }
  });
  return out;
}

}  // namespace strata
