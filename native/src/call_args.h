// The argument readers of the generated call wrappers (calls.gen.cc, Note [One table for the
// native calling convention] in native/calls.mjs): the same for every table, so written here once
// instead of generated. Each checks what it reads and throws a JavaScript error that the wrapper
// reports with the function and argument it was reading.
#pragma once

#include <string>
#include <vector>

#include "common.h"

namespace strata {

template <typename E>
inline E read_enum(const Napi::Value& v, int32_t count, const char* name) {
  const int32_t code = v.As<Napi::Number>().Int32Value();
  if (code < 0 || code >= count) throw Napi::RangeError::New(v.Env(), std::string("not a ") + name + " code: " + std::to_string(code));
  return static_cast<E>(code);
}

// A handle passed through: checked to be one of ours, not dereferenced (release() accepts
// storage that was already freed).
inline Napi::Value read_handle(const Napi::Value& v) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), "a storage handle was expected");
  return v;
}

inline std::vector<Napi::Value> read_handles(const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  std::vector<Napi::Value> out(arr.Length());
  for (uint32_t i = 0; i < out.size(); i++) out[i] = read_handle(arr.Get(i));
  return out;
}

inline std::vector<Buffer*> read_tensors(const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  std::vector<Buffer*> out(arr.Length());
  for (uint32_t i = 0; i < out.size(); i++) out[i] = get_buffer(arr.Get(i));
  return out;
}

inline Shape read_ints(const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  Shape out(arr.Length());
  for (uint32_t i = 0; i < out.size(); i++) out[i] = arr.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

inline std::vector<double> read_doubles(const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  std::vector<double> out(arr.Length());
  for (uint32_t i = 0; i < out.size(); i++) out[i] = arr.Get(i).As<Napi::Number>().DoubleValue();
  return out;
}

inline Napi::TypedArray read_typed_array(const Napi::Value& v) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), "a typed array was expected");
  return v.As<Napi::TypedArray>();
}

inline void check_count(const Napi::CallbackInfo& info, const char* fn, size_t least, size_t most) {
  const size_t n = info.Length();
  if (n >= least && n <= most) return;
  const std::string want = least == most ? std::to_string(least) : std::to_string(least) + " to " + std::to_string(most);
  throw Napi::TypeError::New(info.Env(), std::string("native ") + fn + ": expected " + want + " arguments, received " + std::to_string(n));
}

// A wrong argument is reported with the function and the argument it was read for.
[[noreturn]] inline void rethrow_for(const Napi::CallbackInfo& info, const char* fn, const char* arg, const Napi::Error& e) {
  throw Napi::TypeError::New(info.Env(), std::string("native ") + fn + ", argument " + arg + ": " + e.Message());
}

}  // namespace strata
