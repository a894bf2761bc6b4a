// Data movement: transpose, broadcastTo, slice, pad, concat, gather, scatterAdd. All copy through
// strides; element size is all that matters, so each kernel works on raw bytes of 1 or 4.
#include <cstring>

#include "common.h"

namespace strata {
namespace {

template <typename F>
void by_width(DType d, F&& f) {
  if (dtype_size(d) == 1) f(uint8_t{});
  else f(uint32_t{});
}

// strided(x, outShape, strides, base, dtype): out[o] = x[base + offset(o)]; transpose, broadcast and slice.
Napi::Value Strided(const Napi::CallbackInfo& info) {
  Buffer* xb = get_buffer(info[0]);
  const Shape os = get_shape(info[1]);
  const Shape strides = get_shape(info[2]);
  const int64_t base = info[3].As<Napi::Number>().Int64Value();
  const DType d = get_dtype(info[4]);
  Buffer* yb;
  Napi::Value out = new_buffer(info.Env(), size_of(os) * dtype_size(d), &yb);
  // A block that is contiguous in the input (a batch sliced off the leading axis) is one copy.
  if (strides == strides_of(os)) {
    std::memcpy(yb->data, static_cast<const uint8_t*>(xb->data) + base * dtype_size(d), size_of(os) * dtype_size(d));
    return out;
  }
  by_width(d, [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(xb->data) + base;
    T* y = static_cast<T*>(yb->data);
    for_each_offset2(os, strides, strides, [&](int64_t o, int64_t i, int64_t) { y[o] = x[i]; });
  });
  return out;
}

// pad(x, xShape, outShape, before, value, dtype)
Napi::Value Pad(const Napi::CallbackInfo& info) {
  Buffer* xb = get_buffer(info[0]);
  const Shape xs = get_shape(info[1]);
  const Shape os = get_shape(info[2]);
  const Shape before = get_shape(info[3]);
  const double value = info[4].As<Napi::Number>().DoubleValue();
  const DType d = get_dtype(info[5]);
  const int64_t n = size_of(os);
  Buffer* yb;
  Napi::Value out = new_buffer(info.Env(), n * dtype_size(d), &yb);
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

// concat(handles[], rowBytes[], outer, outRowBytes): each input contributes a contiguous row per outer index.
Napi::Value Concat(const Napi::CallbackInfo& info) {
  auto handles = info[0].As<Napi::Array>();
  const Shape rows = get_shape(info[1]);
  const int64_t outer = info[2].As<Napi::Number>().Int64Value();
  const int64_t out_row = info[3].As<Napi::Number>().Int64Value();
  Buffer* yb;
  Napi::Value out = new_buffer(info.Env(), outer * out_row, &yb);
  uint8_t* y = static_cast<uint8_t*>(yb->data);
  int64_t col = 0;
  for (uint32_t k = 0; k < handles.Length(); k++) {
    const uint8_t* x = static_cast<const uint8_t*>(get_buffer(handles.Get(k))->data);
    for (int64_t o = 0; o < outer; o++) std::memcpy(y + o * out_row + col, x + o * rows[k], rows[k]);
    col += rows[k];
  }
  return out;
}

// gather(x, indices, count, outer, dim, inner, dtype): indices are validated by ops/.
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Buffer* xb = get_buffer(info[0]);
  const int32_t* idx = data_of<int32_t>(info[1]);
  const int64_t count = info[2].As<Napi::Number>().Int64Value();
  const int64_t outer = info[3].As<Napi::Number>().Int64Value();
  const int64_t dim = info[4].As<Napi::Number>().Int64Value();
  const int64_t inner = info[5].As<Napi::Number>().Int64Value();
  const DType d = get_dtype(info[6]);
  const size_t w = dtype_size(d);
  Buffer* yb;
  Napi::Value out = new_buffer(info.Env(), outer * count * inner * w, &yb);
  const uint8_t* x = static_cast<const uint8_t*>(xb->data);
  uint8_t* y = static_cast<uint8_t*>(yb->data);
#pragma omp parallel for collapse(2) if (outer * count * inner > (1 << 16))
  for (int64_t o = 0; o < outer; o++)
    for (int64_t c = 0; c < count; c++)
      std::memcpy(y + (o * count + c) * inner * w, x + (o * dim + idx[c]) * inner * w, inner * w);
  return out;
}

// scatterAdd(updates, indices, count, outer, size, inner, dtype)
Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  Buffer* ub = get_buffer(info[0]);
  const int32_t* idx = data_of<int32_t>(info[1]);
  const int64_t count = info[2].As<Napi::Number>().Int64Value();
  const int64_t outer = info[3].As<Napi::Number>().Int64Value();
  const int64_t size = info[4].As<Napi::Number>().Int64Value();
  const int64_t inner = info[5].As<Napi::Number>().Int64Value();
  const DType d = get_dtype(info[6]);
  Buffer* yb;
  Napi::Value out = new_buffer(info.Env(), outer * size * inner * dtype_size(d), &yb, true);
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

}  // namespace

void init_movement(Napi::Env env, Napi::Object exports) {
  exports.Set("strided", Napi::Function::New(env, Strided));
  exports.Set("pad", Napi::Function::New(env, Pad));
  exports.Set("concat", Napi::Function::New(env, Concat));
  exports.Set("gather", Napi::Function::New(env, Gather));
  exports.Set("scatterAdd", Napi::Function::New(env, ScatterAdd));
}

}  // namespace strata
