// Depthwise 2-D convolution and its two gradients as oneDNN grouped convolutions: one group per
// input channel, depthMultiplier outputs per group. Activations stay NHWC; the filter, stored
// [kh, kw, C, dm] (Keras's layout), is oneDNN's grouped "hwigo" with one input per group. As in
// conv.cc, the primitive picks its own weight layout (`any`) and the filter is reordered into it:
// a plain weight layout would send oneDNN to its slow reference implementation.
#include "common.h"
#include "dnnl_util.h"

namespace strata {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;
using md = dnnl::memory::desc;

enum Kind { kForward = 0, kBackpropInput = 1, kBackpropFilter = 2 };

struct DwGeometry {
  dims x, w, y, strides, dilation, pad_l, pad_r;
};

struct DwEntry {
  dnnl::primitive prim;
  md weights_md;       // the layout the primitive wants for (diff) weights
  md user_weights_md;  // hwigo = [kh, kw, C, dm]
  dnnl::reorder weights_reorder;  // user -> primitive (forward, backprop input) or back (backprop filter)
  bool needs_reorder;
};

PrimitiveCache<DwEntry>& dw_cache() {
  static PrimitiveCache<DwEntry> cache;
  return cache;
}

// Arguments shared by Dw and DwImpl, read from info[first...]:
// xShape [N, H, W, C], filterShape [kh, kw, C, dm], strides, dilation, pads [t, b, l, r], outH, outW.
struct DwArgs {
  Shape xs, fs, st, dil, pads;
  int64_t oh, ow;

  DwGeometry geometry() const {
    // oneDNN dims are logical: x NCHW, weights {G, OC/G, IC/G, KH, KW}, whatever the memory
    // layout; dilation counts the skipped pixels, so Strata's dilation minus one.
    return {{xs[0], xs[3], xs[1], xs[2]}, {fs[2], fs[3], 1, fs[0], fs[1]}, {xs[0], fs[2] * fs[3], oh, ow},
            {st[0], st[1]}, {dil[0] - 1, dil[1] - 1}, {pads[0], pads[2]}, {pads[1], pads[3]}};
  }
  std::string key(int kind) const {
    return cache_key("dw", kind, xs[0], xs[1], xs[2], xs[3], fs[0], fs[1], fs[2], fs[3], st[0], st[1], dil[0], dil[1], pads[0], pads[1],
                     pads[2], pads[3]);
  }
};

DwArgs read_args(const Napi::CallbackInfo& info, int first) {
  return {get_shape(info[first]),     get_shape(info[first + 1]), get_shape(info[first + 2]),
          get_shape(info[first + 3]), get_shape(info[first + 4]), info[first + 5].As<Napi::Number>().Int64Value(),
          info[first + 6].As<Napi::Number>().Int64Value()};
}

DwEntry make_entry(int kind, const DwGeometry& g) {
  const md x_md(g.x, dt::f32, tag::nhwc), y_md(g.y, dt::f32, tag::nhwc);
  const md any_w(g.w, dt::f32, tag::any), user_w(g.w, dt::f32, tag::hwigo);
  auto& eng = cpu_engine();
  // The gradients' primitive descriptors take the forward one as a hint.
  dnnl::convolution_forward::desc fwd_d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, x_md, any_w, y_md,
                                        g.strides, g.dilation, g.pad_l, g.pad_r);
  dnnl::convolution_forward::primitive_desc fwd_pd(fwd_d, eng);
  DwEntry e{{}, {}, user_w, {}, false};
  if (kind == kForward) {
    e.prim = dnnl::convolution_forward(fwd_pd);
    e.weights_md = fwd_pd.weights_desc();
  } else if (kind == kBackpropInput) {
    dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, x_md, any_w, y_md, g.strides, g.dilation, g.pad_l,
                                            g.pad_r);
    dnnl::convolution_backward_data::primitive_desc pd(d, eng, fwd_pd);
    e.prim = dnnl::convolution_backward_data(pd);
    e.weights_md = pd.weights_desc();
  } else {
    dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, x_md, any_w, y_md, g.strides, g.dilation,
                                               g.pad_l, g.pad_r);
    dnnl::convolution_backward_weights::primitive_desc pd(d, eng, fwd_pd);
    e.prim = dnnl::convolution_backward_weights(pd);
    e.weights_md = pd.diff_weights_desc();
  }
  // Compare descriptors rather than assume: the layout picked for one kind may differ from another's.
  e.needs_reorder = e.weights_md != user_w;
  if (e.needs_reorder) {
    e.weights_reorder = kind == kBackpropFilter ? dnnl::reorder(dnnl::reorder::primitive_desc(eng, e.weights_md, eng, user_w))
                                                : dnnl::reorder(dnnl::reorder::primitive_desc(eng, user_w, eng, e.weights_md));
  }
  return e;
}

// depthwiseConv(kind, a, b, xShape, filterShape, strides, dilation, pads, outH, outW):
//   forward: a = x, b = filter -> y; backprop input: a = dy, b = filter -> dx;
//   backprop filter: a = x, b = dy -> dfilter [kh, kw, C, dm].
Napi::Value RunDepthwiseConv(const Napi::CallbackInfo& info) {
  const int kind = info[0].As<Napi::Number>().Int32Value();
  Buffer* ab = get_buffer(info[1]);
  Buffer* bb = get_buffer(info[2]);
  const DwArgs args = read_args(info, 3);
  const DwGeometry g = args.geometry();
  DwEntry& e = dw_cache().get(args.key(kind), [&] { return make_entry(kind, g); });
  auto& eng = cpu_engine();
  auto& s = cpu_stream();
  const Shape& xs = args.xs;
  const Shape& fs = args.fs;
  const int64_t out_elems = kind == kForward ? size_of(Shape{xs[0], args.oh, args.ow, fs[2] * fs[3]}) : kind == kBackpropInput ? size_of(xs) : size_of(fs);
  Buffer* ob;
  Napi::Value out = new_buffer(info.Env(), out_elems * 4, &ob);
  const md x_md(g.x, dt::f32, tag::nhwc), y_md(g.y, dt::f32, tag::nhwc);
  SignalGuard hold;  // Note [Signals and oneDNN]
  if (kind == kBackpropFilter) {
    dnnl::memory x_mem(x_md, eng, ab->data), dy_mem(y_md, eng, bb->data), user_dw(e.user_weights_md, eng, ob->data);
    dnnl::memory dw = e.needs_reorder ? dnnl::memory(e.weights_md, eng) : user_dw;
    e.prim.execute(s, {{DNNL_ARG_SRC, x_mem}, {DNNL_ARG_DIFF_DST, dy_mem}, {DNNL_ARG_DIFF_WEIGHTS, dw}});
    if (e.needs_reorder) e.weights_reorder.execute(s, dw, user_dw);
  } else {
    dnnl::memory user_w(e.user_weights_md, eng, bb->data);
    dnnl::memory w = user_w;
    if (e.needs_reorder) {
      w = dnnl::memory(e.weights_md, eng);
      e.weights_reorder.execute(s, user_w, w);
    }
    if (kind == kForward) {
      dnnl::memory x_mem(x_md, eng, ab->data), y_mem(y_md, eng, ob->data);
      e.prim.execute(s, {{DNNL_ARG_SRC, x_mem}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y_mem}});
    } else {
      dnnl::memory dy_mem(y_md, eng, ab->data), dx_mem(x_md, eng, ob->data);
      e.prim.execute(s, {{DNNL_ARG_DIFF_DST, dy_mem}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, dx_mem}});
    }
  }
  s.wait();
  return out;
}

// oneDNN reports failures as dnnl::error, which would end the process; JS gets an Error instead.
template <typename F>
Napi::Value rethrow_as_js(const Napi::CallbackInfo& info, F&& f) {
  try {
    return f(info);
  } catch (const dnnl::error& err) {
    throw Napi::Error::New(info.Env(), std::string("depthwiseConv2d (oneDNN): ") + err.what());
  }
}

Napi::Value DepthwiseConv(const Napi::CallbackInfo& info) { return rethrow_as_js(info, RunDepthwiseConv); }

// depthwiseConvImpl(kind, ...same geometry...) -> the implementation oneDNN chose (e.g.
// "jit_dw:avx512_core"), so tests and benchmarks can check nothing fell back to "ref".
Napi::Value RunDepthwiseConvImpl(const Napi::CallbackInfo& info) {
  const int kind = info[0].As<Napi::Number>().Int32Value();
  const DwEntry e = make_entry(kind, read_args(info, 1).geometry());
  const char* impl = nullptr;
  dnnl_primitive_desc_query(e.prim.get_primitive_desc(), dnnl_query_impl_info_str, 0, &impl);
  return Napi::String::New(info.Env(), impl ? impl : "unknown");
}

Napi::Value DepthwiseConvImpl(const Napi::CallbackInfo& info) { return rethrow_as_js(info, RunDepthwiseConvImpl); }

}  // namespace

void init_depthwise_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("depthwiseConv", Napi::Function::New(env, DepthwiseConv));
  exports.Set("depthwiseConvImpl", Napi::Function::New(env, DepthwiseConvImpl));
}

}  // namespace strata
