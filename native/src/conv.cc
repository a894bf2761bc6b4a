// 2-D convolution and its two gradients through oneDNN. Activations stay NHWC (the public
// layout); the filter, stored [kh, kw, in, out] (oneDNN's "hwio"), is reordered into whatever
// layout the primitive picked (`any`): forcing a plain weight layout makes oneDNN fall back to
// its slow reference implementation.
#include <cstring>

#include "common.h"
#include "dnnl_util.h"

namespace strata {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;
using md = dnnl::memory::desc;

// kBiasForward adds a per-channel bias and, optionally, a ReLU as a oneDNN post-op.
enum Kind { kForward = 0, kBackpropInput = 1, kBackpropFilter = 2, kBiasForward = 3, kBiasReluForward = 4 };

struct ConvGeometry {
  dims x, w, y, strides, dilation, pad_l, pad_r;
};

struct ConvEntry {
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::primitive prim;
  md weights_md;       // the layout the primitive wants for (diff) weights
  md user_weights_md;  // hwio
  dnnl::reorder weights_reorder;  // user -> primitive (forward, backprop input) or back (backprop filter)
  bool needs_reorder;
};

PrimitiveCache<ConvEntry>& conv_cache() {
  static PrimitiveCache<ConvEntry> cache;
  return cache;
}

ConvEntry make_entry(int kind, const ConvGeometry& g) {
  const md x_md(g.x, dt::f32, tag::nhwc), y_md(g.y, dt::f32, tag::nhwc);
  const md any_w(g.w, dt::f32, tag::any), user_w(g.w, dt::f32, tag::hwio);
  auto& eng = cpu_engine();
  dnnl::convolution_forward::desc fwd_d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, x_md, any_w,
                                        y_md, g.strides, g.dilation, g.pad_l, g.pad_r);
  dnnl::convolution_forward::primitive_desc fwd_pd(fwd_d, eng);
  if (kind == kBiasForward || kind == kBiasReluForward) {
    const md bias_md({g.w[0]}, dt::f32, tag::a);
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, x_md, any_w, bias_md,
                                      y_md, g.strides, g.dilation, g.pad_l, g.pad_r);
    dnnl::primitive_attr attr;
    if (kind == kBiasReluForward) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);  // 2.6: scale first
      attr.set_post_ops(ops);
    }
    fwd_pd = dnnl::convolution_forward::primitive_desc(d, attr, eng);
  }
  ConvEntry e{fwd_pd, {}, {}, user_w, {}, false};
  if (kind == kForward || kind == kBiasForward || kind == kBiasReluForward) {
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
  e.needs_reorder = e.weights_md != user_w;
  if (e.needs_reorder) {
    e.weights_reorder = kind == kBackpropFilter ? dnnl::reorder(dnnl::reorder::primitive_desc(eng, e.weights_md, eng, user_w))
                                                : dnnl::reorder(dnnl::reorder::primitive_desc(eng, user_w, eng, e.weights_md));
  }
  return e;
}

// conv(kind, a, b, xShape, filterShape, strides, dilation, pads[top, bottom, left, right], outH, outW[, bias])
Napi::Value Conv(const Napi::CallbackInfo& info) {
  const int kind = info[0].As<Napi::Number>().Int32Value();
  Buffer* ab = get_buffer(info[1]);
  Buffer* bb = get_buffer(info[2]);
  const Shape xs = get_shape(info[3]), fs = get_shape(info[4]);
  const Shape st = get_shape(info[5]), dil = get_shape(info[6]), pads = get_shape(info[7]);
  const int64_t oh = info[8].As<Napi::Number>().Int64Value(), ow = info[9].As<Napi::Number>().Int64Value();
  // oneDNN dims are logical NCHW / OIHW whatever the memory layout; dilation counts skipped pixels.
  ConvGeometry g{{xs[0], xs[3], xs[1], xs[2]}, {fs[3], fs[2], fs[0], fs[1]}, {xs[0], fs[3], oh, ow},
                 {st[0], st[1]}, {dil[0] - 1, dil[1] - 1}, {pads[0], pads[2]}, {pads[1], pads[3]}};
  ConvEntry& e = conv_cache().get(cache_key("conv", kind, xs[0], xs[1], xs[2], xs[3], fs[0], fs[1], fs[2], fs[3], st[0], st[1], dil[0],
                                            dil[1], pads[0], pads[1], pads[2], pads[3]),
                                  [&] { return make_entry(kind, g); });
  auto& eng = cpu_engine();
  auto& s = cpu_stream();
  const bool forward = kind == kForward || kind == kBiasForward || kind == kBiasReluForward;
  const int64_t out_elems = forward ? size_of(Shape{xs[0], oh, ow, fs[3]}) : kind == kBackpropInput ? size_of(xs) : size_of(fs);
  Buffer* yb;
  Napi::Value out = new_buffer(info.Env(), out_elems * 4, &yb);
  const md x_md(g.x, dt::f32, tag::nhwc), y_md(g.y, dt::f32, tag::nhwc);
  SignalGuard hold;  // Note [Signals and oneDNN]
  if (kind == kBackpropFilter) {
    dnnl::memory x_mem(x_md, eng, ab->data), dy_mem(y_md, eng, bb->data), user_dw(e.user_weights_md, eng, yb->data);
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
      dnnl::memory x_mem(x_md, eng, ab->data), y_mem(y_md, eng, yb->data);
      e.prim.execute(s, {{DNNL_ARG_SRC, x_mem}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y_mem}});
    } else if (forward) {
      dnnl::memory x_mem(x_md, eng, ab->data), y_mem(y_md, eng, yb->data);
      dnnl::memory bias_mem(md({fs[3]}, dt::f32, tag::a), eng, get_buffer(info[10])->data);
      e.prim.execute(s, {{DNNL_ARG_SRC, x_mem}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, bias_mem}, {DNNL_ARG_DST, y_mem}});
    } else {
      dnnl::memory dy_mem(y_md, eng, ab->data), dx_mem(x_md, eng, yb->data);
      e.prim.execute(s, {{DNNL_ARG_DIFF_DST, dy_mem}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, dx_mem}});
    }
  }
  s.wait();
  return out;
}

// convImpl(kind, ...same geometry...) -> the implementation oneDNN chose (e.g. "brgconv:avx512_core"),
// so tests and the benchmark can check nothing fell back to the slow "ref" kernels.
Napi::Value ConvImpl(const Napi::CallbackInfo& info) {
  const int kind = info[0].As<Napi::Number>().Int32Value();
  const Shape xs = get_shape(info[1]), fs = get_shape(info[2]);
  const Shape st = get_shape(info[3]), dil = get_shape(info[4]), pads = get_shape(info[5]);
  const int64_t oh = info[6].As<Napi::Number>().Int64Value(), ow = info[7].As<Napi::Number>().Int64Value();
  ConvGeometry g{{xs[0], xs[3], xs[1], xs[2]}, {fs[3], fs[2], fs[0], fs[1]}, {xs[0], fs[3], oh, ow},
                 {st[0], st[1]}, {dil[0] - 1, dil[1] - 1}, {pads[0], pads[2]}, {pads[1], pads[3]}};
  ConvEntry e = make_entry(kind, g);
  const char* impl = nullptr;
  dnnl_primitive_desc_query(e.prim.get_primitive_desc(), dnnl_query_impl_info_str, 0, &impl);
  return Napi::String::New(info.Env(), impl ? impl : "unknown");
}

}  // namespace

void init_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv", Napi::Function::New(env, Conv));
  exports.Set("convImpl", Napi::Function::New(env, ConvImpl));
}

}  // namespace strata
