// 2-D convolution and its two gradients through oneDNN, dense or depthwise. Activations stay
// NHWC (the public layout); the filter, stored [kh, kw, in, out] (oneDNN's "hwio"), is reordered
// into whatever layout the primitive picked (`any`): forcing a plain weight layout makes oneDNN
// fall back to its slow reference implementation. A depthwise convolution is a grouped one with
// one group per input channel and depthMultiplier outputs per group: its filter [kh, kw, C, dm]
// (Keras's layout) is oneDNN's grouped "hwigo" with one input per group.
//
// Note [Winograd for 3x3 convolutions]
// oneDNN 2.6's Winograd F(4x4, 3x3) kernels do about a quarter of the multiplications of a direct
// 3x3 convolution. Measured here at 2 threads, batch 64 (forward / filter gradient, ms):
// 32->64 channels on 13x13 valid 1.35/1.61 direct vs 0.72/0.88; 32->32 on 26x26 3.19/3.55 vs
// 1.73/1.60; 128->128 on 8x8 'same' 4.53/5.15 vs 2.44/2.02. They lose where the 4x4 output tiles
// are mostly padding or the whole output is small: 5x5 outputs (tiles 39 % used) 0.81-0.94x,
// forwards of few output pixels: 64->128 on 3x3 outputs at batch 32 0.92-0.97x (at batch 64
// 1.19-1.27x), 64->64 on 4x4 at batch 16 0.88x, batch 1 at 11x11 0.47x; the filter gradient
// still gains at those sizes (1.6-1.7x at batch 32 and 16, 1.07x at batch 1). Inside a whole
// training step the forward pass's gain did not hold, though: the Keras-book convnet's step took
// 6.4-6.7 ms with a direct forward against 6.9-7.2 ms with Winograd at 2 threads (1 thread:
// 10.8-11.2 against 11.0-12.3 ms; alternating runs, 2026-12-07), and inference at batch 500 was
// the same either way (about 27,000 images/s): the blocked copies of x and y cost more on the
// step's cold data than the multiplications saved. So only the filter gradient uses Winograd,
// for a dense 3x3 filter with stride 1, no dilation, channel counts multiples of 16, tiles at
// least half used and at least 256 output pixels (use_winograd); the forward pass and the input
// gradient stay direct.
// oneDNN 2.6 has these kernels for AVX-512 CPUs only; elsewhere, or for a shape they refuse,
// make_entry falls back to the direct kernels. Winograd needs oneDNN's blocked layout
// (nChw16c), so x and dy are reordered in and y out, through blocks taken from the caching
// allocator for the call (16-30 us for the convnet's layer, against 0.6 ms saved each way).
// Its results differ from the direct kernel's by float32 rounding (about 1e-6 of the output's
// scale); a NaN or infinity in the input reaches every output of the 4x4 tiles whose input
// tile holds it, not only those whose window covers it.
#include <cfloat>
#include <cstring>
#include <memory>
#include <new>

#include "abs_bound.h"
#include "common.h"
#include "dnnl_util.h"
#include "weight_cache.h"

namespace strata {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;
using md = dnnl::memory::desc;

// ConvKind (native/calls.mjs): kBiasForward adds a per-channel bias; kBiasReluForward then
// applies st.relu's ReLU (kBiasRelu6Forward st.relu6's min(relu, 6)): inside oneDNN as a post-op
// when the output provably holds no NaN, else in a pass of our own over the output (oneDNN 2.6's
// relu and clip post-ops turn NaN into 0, where st.relu and the reference backend keep it; Note
// [Activation inside the convolution] in abs_bound.h). kBackpropFilterBias also sums dy into the
// bias gradient in the same pass over dy.
using Kind = ConvKind;
constexpr Kind kForward = Kind::kForward, kBackpropInput = Kind::kBackpropInput, kBackpropFilter = Kind::kBackpropFilter,
               kBiasForward = Kind::kBiasForward, kBiasReluForward = Kind::kBiasReluForward, kBackpropFilterBias = Kind::kBackpropFilterBias,
               kBiasRelu6Forward = Kind::kBiasRelu6Forward;

bool has_bias(Kind kind) { return kind == kBiasForward || kind == kBiasReluForward || kind == kBiasRelu6Forward; }
bool is_forward(Kind kind) { return kind == kForward || has_bias(kind); }
bool has_activation(Kind kind) { return kind == kBiasReluForward || kind == kBiasRelu6Forward; }

struct ConvGeometry {
  dims x, w, y, strides, dilation, pad_l, pad_r;
  tag user_weights;  // hwio, or hwigo for depthwise
};

// oneDNN dims are logical (x NCHW; weights OIHW, or {G, OC/G, IC/G, KH, KW} grouped) whatever the
// memory layout; its dilation counts the skipped pixels, so Strata's dilation minus one. Pads are
// [top, bottom, left, right].
ConvGeometry geometry_of(const ConvGeometryArgs& a, bool depthwise) {
  const Shape &xs = a.x_shape, &fs = a.filter_shape, &st = a.strides, &dil = a.dilation, &pads = a.pads;
  const int64_t oh = a.out_h, ow = a.out_w;
  const dims w = depthwise ? dims{fs[2], fs[3], 1, fs[0], fs[1]} : dims{fs[3], fs[2], fs[0], fs[1]};
  const int64_t out_channels = depthwise ? fs[2] * fs[3] : fs[3];
  return {{xs[0], xs[3], xs[1], xs[2]}, w, {xs[0], out_channels, oh, ow}, {st[0], st[1]}, {dil[0] - 1, dil[1] - 1},
          {pads[0], pads[2]}, {pads[1], pads[3]}, depthwise ? tag::hwigo : tag::hwio};
}

struct ConvEntry {
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::primitive prim;
  md weights_md;       // the layout the primitive wants for (diff) weights
  md user_weights_md;  // hwio or hwigo
  dnnl::reorder weights_reorder;  // user -> primitive (forward, backprop input) or back (backprop filter)
  bool needs_reorder;
  // Built with post-ops (the activation, Note [Activation inside the convolution] in
  // abs_bound.h, and / or a residual add, Note [A residual add inside the convolution]) and
  // usable as such: oneDNN picked the same JIT kernel as without them.
  bool post_ops_inside = false;
  // Winograd (Note [Winograd for 3x3 convolutions]): the primitive's blocked layouts of x and
  // y (or dy), and the reorders from NHWC into them (y: out of it, for the forward).
  bool blocked = false;
  md x_blocked, y_blocked;
  dnnl::reorder x_in, y_reorder;
};

// A block from the caching allocator for the length of one call: counted in st.memory() while
// it lives and kept for reuse afterwards like any freed buffer (the blocked copies of x and y).
class Scratch {
 public:
  explicit Scratch(const md& desc) : b_(new_attachment(desc.get_size())), mem_(desc, cpu_engine(), b_->data) {}
  ~Scratch() {
    free_buffer_data(b_);
    delete b_;
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  dnnl::memory& mem() { return mem_; }

 private:
  Buffer* b_;
  dnnl::memory mem_;
};

// Note [Winograd for 3x3 convolutions]: which convolutions are worth it.
bool use_winograd(Kind kind, const ConvGeometry& g) {
  if (kind != kBackpropFilter && kind != kBackpropFilterBias) return false;
  if (g.user_weights != tag::hwio) return false;
  const bool shape_ok = g.w[2] == 3 && g.w[3] == 3 && g.strides[0] == 1 && g.strides[1] == 1 && g.dilation[0] == 0 &&
                        g.dilation[1] == 0 && g.x[1] % 16 == 0 && g.y[1] % 16 == 0;
  if (!shape_ok) return false;
  const int64_t oh = g.y[2], ow = g.y[3];
  const int64_t tiled = ((oh + 3) / 4 * 4) * ((ow + 3) / 4 * 4);
  return 2 * oh * ow >= tiled && g.y[0] * oh * ow >= 256;
}

// Note [A residual add inside the convolution]
// A residual network adds a block's input to the output of its last convolution (ResNet's
// Add before the Relu, MobileNetV2's linear bottleneck): run apart, that Add is one more pass
// reading two tensors and writing a third, plus an op's dispatch. A forward convolution given an
// `addend` of y's shape computes y = act(conv(x, w) + bias + addend) itself: y is first filled
// with a copy of the addend and oneDNN's sum post-op adds the convolution to it in registers,
// after the bias and before the activation, the order the separate ops use, so the values are
// the same bit for bit (float addition being commutative, either Add operand may be the
// convolution). (A binary add post-op would read the addend directly, but oneDNN 2.6's brgconv
// kernels refuse one of the output's full shape and the primitive falls back to jit_1x1, whose
// NHWC fused paths gave wrong values before.) As with the activation, the post-op primitive is
// used only when oneDNN picked the same JIT kernel as for the plain one (the same sums);
// otherwise the plain primitive runs and the add is a pass of its own over y before the
// activation's. The activation may still ride inside only when the sum is provably finite: the
// bound on conv + bias plus the addend's bound (Note [Activation inside the convolution] in
// abs_bound.h). Measured on imported networks at batch 1, 2 threads, folded and unfolded models
// alternating in one process (2026-12-07): MobileNetV2 (10 Adds) 6.61-7.09 against 6.75-7.25
// ms, ResNet-18 (8 Adds, each with its Relu) 12.01-12.39 against 12.41-12.68 ms, outputs
// identical.

// The post-ops of a forward pass: the residual add, then the activation's relu or clip(0, 6).
dnnl::primitive_attr post_ops_attr(Kind kind, const ConvGeometry& g, bool addend, bool activation) {
  dnnl::post_ops ops;
  if (addend) ops.append_sum(1.f);
  if (activation && kind == kBiasReluForward) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  else if (activation) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, 6.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  return attr;
}

// Builds the primitive of `kind` with algorithm `alg`; x and y are NHWC for the direct kernels
// and `any` (the primitive's blocked choice) for Winograd. `attr` carries a forward pass's
// activation post-op.
ConvEntry make_entry_with(Kind kind, const ConvGeometry& g, dnnl::algorithm alg, const dnnl::primitive_attr& attr = {}) {
  const tag act = alg == dnnl::algorithm::convolution_winograd ? tag::any : tag::nhwc;
  const md x_md(g.x, dt::f32, act), y_md(g.y, dt::f32, act);
  const md any_w(g.w, dt::f32, tag::any), user_w(g.w, dt::f32, g.user_weights);
  auto& eng = cpu_engine();
  dnnl::convolution_forward::desc fwd_d(dnnl::prop_kind::forward_training, alg, x_md, any_w, y_md, g.strides, g.dilation, g.pad_l,
                                        g.pad_r);
  dnnl::convolution_forward::primitive_desc fwd_pd(fwd_d, eng);
  const md bias_md({g.y[1]}, dt::f32, tag::a);
  if (has_bias(kind) || kind == kBackpropFilterBias) {
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, alg, x_md, any_w, bias_md, y_md, g.strides, g.dilation,
                                      g.pad_l, g.pad_r);
    fwd_pd = dnnl::convolution_forward::primitive_desc(d, attr, eng);
  }
  ConvEntry e{fwd_pd, {}, {}, user_w, {}, false};
  md prim_x, prim_y;  // the layouts the primitive settled on for x and y (or dy)
  if (is_forward(kind)) {
    e.prim = dnnl::convolution_forward(fwd_pd);
    e.weights_md = fwd_pd.weights_desc();
    prim_x = fwd_pd.src_desc();
    prim_y = fwd_pd.dst_desc();
  } else if (kind == kBackpropInput) {
    dnnl::convolution_backward_data::desc d(alg, x_md, any_w, y_md, g.strides, g.dilation, g.pad_l, g.pad_r);
    dnnl::convolution_backward_data::primitive_desc pd(d, eng, fwd_pd);
    e.prim = dnnl::convolution_backward_data(pd);
    e.weights_md = pd.weights_desc();
    prim_x = pd.diff_src_desc();
    prim_y = pd.diff_dst_desc();
  } else {
    dnnl::convolution_backward_weights::desc d =
        kind == kBackpropFilterBias
            ? dnnl::convolution_backward_weights::desc(alg, x_md, any_w, bias_md, y_md, g.strides, g.dilation, g.pad_l, g.pad_r)
            : dnnl::convolution_backward_weights::desc(alg, x_md, any_w, y_md, g.strides, g.dilation, g.pad_l, g.pad_r);
    dnnl::convolution_backward_weights::primitive_desc pd(d, eng, fwd_pd);
    e.prim = dnnl::convolution_backward_weights(pd);
    e.weights_md = pd.diff_weights_desc();
    prim_x = pd.src_desc();
    prim_y = pd.diff_dst_desc();
  }
  const md nhwc_x(g.x, dt::f32, tag::nhwc), nhwc_y(g.y, dt::f32, tag::nhwc);
  e.blocked = prim_x != nhwc_x || prim_y != nhwc_y;
  if (e.blocked) {
    e.x_blocked = prim_x;
    e.y_blocked = prim_y;
    e.x_in = dnnl::reorder(dnnl::reorder::primitive_desc(eng, nhwc_x, eng, prim_x));
    e.y_reorder = is_forward(kind) ? dnnl::reorder(dnnl::reorder::primitive_desc(eng, prim_y, eng, nhwc_y))
                          : dnnl::reorder(dnnl::reorder::primitive_desc(eng, nhwc_y, eng, prim_y));
  }
  // Compare descriptors rather than assume: each kind may pick its own weight layout.
  e.needs_reorder = e.weights_md != user_w;
  if (e.needs_reorder) {
    e.weights_reorder = kind == kBackpropFilter || kind == kBackpropFilterBias ? dnnl::reorder(dnnl::reorder::primitive_desc(eng, e.weights_md, eng, user_w))
                                                : dnnl::reorder(dnnl::reorder::primitive_desc(eng, user_w, eng, e.weights_md));
  }
  return e;
}

// The implementation oneDNN chose for a primitive (e.g. "brgconv:avx512_core").
std::string impl_of(const dnnl::primitive& prim) {
  const char* impl = nullptr;
  dnnl_primitive_desc_query(prim.get_primitive_desc(), dnnl_query_impl_info_str, 0, &impl);
  return impl ? impl : "unknown";
}

// Note [Activation inside the convolution]: the post-op runs on a JIT kernel's registers (a
// reference kernel keeps -0), and on the very kernel that runs without it, so the sums match.
bool same_jit_kernel(const dnnl::primitive& with_post_op, const dnnl::primitive& plain) {
  const std::string impl = impl_of(with_post_op);
  const bool jit = impl.rfind("jit", 0) == 0 || impl.rfind("brg", 0) == 0 || impl.rfind("brdgmm", 0) == 0;
  return jit && impl == impl_of(plain);
}

// Winograd where it pays (Note [Winograd for 3x3 convolutions]) and this oneDNN build has it,
// the direct kernels otherwise; with `activation_inside` or `addend`, the direct forward pass
// with them as post-ops (post_ops_inside says whether that is usable).
ConvEntry make_entry(Kind kind, const ConvGeometry& g, bool activation_inside = false, bool addend = false) {
  if (activation_inside || addend) {
    ConvEntry e = make_entry_with(kind, g, dnnl::algorithm::convolution_direct, post_ops_attr(kind, g, addend, activation_inside));
    e.post_ops_inside = same_jit_kernel(e.prim, make_entry_with(kind, g, dnnl::algorithm::convolution_direct).prim);
    return e;
  }
  if (use_winograd(kind, g)) {
    try {
      ConvEntry e = make_entry_with(kind, g, dnnl::algorithm::convolution_winograd);
      if (impl_of(e.prim).find("wino") != std::string::npos) return e;
    } catch (const dnnl::error&) {
      // No Winograd kernel for this shape or CPU: the direct one below.
    }
  }
  return make_entry_with(kind, g, dnnl::algorithm::convolution_direct);
}

// The entry for a convolution of `kind` over this geometry, from the primitive cache; with
// `activation_inside` or `addend`, the one built with those post-ops (keyed apart).
std::shared_ptr<ConvEntry> entry_for(Kind kind, const ConvGeometryArgs& a, const ConvGeometry& g, bool depthwise,
                                     bool activation_inside = false, bool addend = false) {
  const Shape &xs = a.x_shape, &fs = a.filter_shape, &st = a.strides, &dil = a.dilation, &pads = a.pads;
  return primitive_cache().get<ConvEntry>([&] { return make_entry(kind, g, activation_inside, addend); }, kind, depthwise,
                                          activation_inside, addend, xs[0], xs[1], xs[2], xs[3], fs[0], fs[1], fs[2], fs[3], st[0],
                                          st[1], dil[0], dil[1], pads[0], pads[1], pads[2], pads[3]);
}

// K of Note [Activation inside the convolution]: the products summed into one output.
int64_t terms_per_output(const ConvGeometryArgs& a, bool depthwise) {
  const Shape& fs = a.filter_shape;
  return fs[0] * fs[1] * (depthwise ? 1 : fs[2]);
}

// For an activation kind: whether its output, conv + bias (+ addend), provably holds no NaN
// (Note [Activation inside the convolution] in abs_bound.h), with *y_bound a bound on it before
// the activation.
bool activation_provably_finite(Kind kind, Buffer* x, Buffer* filter, Buffer* bias, Buffer* addend, const ConvGeometryArgs& a,
                                const ConvGeometry& g, bool depthwise, float* y_bound) {
  if (!has_activation(kind) || !bias) return false;
  const size_t y_bytes = static_cast<size_t>(g.y[0] * g.y[1] * g.y[2] * g.y[3]) * sizeof(float);
  if (!conv_output_is_finite(x, filter, bias, terms_per_output(a, depthwise), y_bytes, y_bound)) return false;
  if (!addend) return true;
  // One more rounding per output (Note [Bounds carried through linear layers]).
  const double sum = sum_bound(*y_bound, abs_bound(addend));
  if (!(sum < FLT_MAX / 2)) return false;
  *y_bound = static_cast<float>(sum);
  return true;
}

// The forward entry with post-ops, when a convolution has any to take and oneDNN runs them on
// the plain kernel; else nullptr (the plain entry and passes of our own).
std::shared_ptr<ConvEntry> post_ops_entry(Kind kind, const ConvGeometryArgs& a, const ConvGeometry& g, bool depthwise,
                                          bool activation_inside, bool addend) {
  if (!activation_inside && !addend) return nullptr;
  auto entry = entry_for(kind, a, g, depthwise, activation_inside, addend);
  // The sum post-op reads y as the addend's copy: never a blocked scratch (direct kernels keep NHWC).
  return entry->post_ops_inside && !entry->blocked ? entry : nullptr;
}

// Forward a = x, b = filter → y; backprop input a = dy, b = filter → dx; backprop filter a = x,
// b = dy → dfilter in the user layout; `bias` for the bias kinds' forward passes, `addend` (of
// y's shape) for a residual add (Note [A residual add inside the convolution]).
Napi::Value run_conv(Napi::Env env, Kind kind, Buffer* ab, Buffer* bb, const ConvGeometryArgs& geometry, Buffer* bias, bool depthwise,
                     Buffer* addend = nullptr) {
  const ConvGeometry g = geometry_of(geometry, depthwise);
  // A bias kind's primitive was built with a bias input: one call site must not send the other
  // an empty pointer (the depthwise call's bias is optional in the calling convention).
  if (has_bias(kind) && !bias) throw Napi::Error::New(env, "conv2d: this kind takes a bias");
  if (addend && !has_bias(kind)) throw Napi::Error::New(env, "conv2d: an addend needs a forward kind with a bias");
  const md x_md(g.x, dt::f32, tag::nhwc), y_md(g.y, dt::f32, tag::nhwc);
  if (addend && addend->bytes < y_md.get_size()) throw Napi::Error::New(env, "conv2d: the addend is smaller than the output");
  float y_bound = 0;
  const bool activation_wanted_inside = activation_provably_finite(kind, ab, bb, bias, addend, geometry, g, depthwise, &y_bound);
  auto entry = post_ops_entry(kind, geometry, g, depthwise, activation_wanted_inside, addend != nullptr);
  const bool activation_inside = entry && activation_wanted_inside;
  const bool addend_inside = entry && addend;
  if (!entry) entry = entry_for(kind, geometry, g, depthwise);
  ConvEntry& e = *entry;
  auto& eng = cpu_engine();
  auto& s = cpu_stream();
  const bool forward = is_forward(kind);
  const bool filter_grad = kind == kBackpropFilter || kind == kBackpropFilterBias;
  const md& out_md = forward ? y_md : kind == kBackpropInput ? x_md : e.user_weights_md;
  // [dfilter | dbias] side by side for kBackpropFilterBias.
  const size_t bias_bytes = kind == kBackpropFilterBias ? static_cast<size_t>(g.y[1]) * sizeof(float) : 0;
  Buffer* yb;
  Napi::Value out = new_buffer(env, out_md.get_size() + bias_bytes, &yb);
  SignalGuard hold;  // Note [Signals and oneDNN]
  // Winograd (a forward pass or a filter gradient, so a = x): blocked x and y (or dy), held until
  // s.wait().
  std::unique_ptr<Scratch> x_blocked, y_blocked;
  if (e.blocked) {
    x_blocked = std::make_unique<Scratch>(e.x_blocked);
    y_blocked = std::make_unique<Scratch>(e.y_blocked);
    dnnl::memory x_mem(x_md, eng, ab->data);
    e.x_in.execute(s, x_mem, x_blocked->mem());
  }
  if (filter_grad) {
    dnnl::memory x_mem(x_md, eng, ab->data), dy_mem(y_md, eng, bb->data), user_dw(e.user_weights_md, eng, yb->data);
    if (e.blocked) {
      e.y_reorder.execute(s, dy_mem, y_blocked->mem());
      x_mem = x_blocked->mem();
      dy_mem = y_blocked->mem();
    }
    dnnl::memory dw = e.needs_reorder ? dnnl::memory(e.weights_md, eng) : user_dw;
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, x_mem}, {DNNL_ARG_DIFF_DST, dy_mem}, {DNNL_ARG_DIFF_WEIGHTS, dw}};
    if (bias_bytes) {
      args.emplace(DNNL_ARG_DIFF_BIAS, dnnl::memory(md({g.y[1]}, dt::f32, tag::a), eng, static_cast<char*>(yb->data) + out_md.get_size()));
    }
    e.prim.execute(s, args);
    if (e.needs_reorder) e.weights_reorder.execute(s, dw, user_dw);
  } else {
    // The filter in the primitive's layout, reordered once per filter contents (Note
    // [Reordered filters kept] in weight_cache.h); `scratch` holds a copy too big to keep.
    dnnl::memory scratch;
    dnnl::memory w = e.needs_reorder ? reordered_filter(bb, e.user_weights_md, e.weights_md, e.weights_reorder, scratch)
                                     : dnnl::memory(e.user_weights_md, eng, bb->data);
    if (forward) {
      dnnl::memory x_mem(x_md, eng, ab->data), y_mem(y_md, eng, yb->data);
      std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, e.blocked ? x_blocked->mem() : x_mem},
                                                 {DNNL_ARG_WEIGHTS, w},
                                                 {DNNL_ARG_DST, e.blocked ? y_blocked->mem() : y_mem}};
      if (kind != kForward) {
        args.emplace(DNNL_ARG_BIAS, dnnl::memory(md({g.y[1]}, dt::f32, tag::a), eng, bias->data));
      }
      if (addend_inside) std::memcpy(yb->data, addend->data, y_md.get_size());
      e.prim.execute(s, args);
      if (e.blocked) e.y_reorder.execute(s, y_blocked->mem(), y_mem);
      const int64_t n = static_cast<int64_t>(y_md.get_size() / sizeof(float));
      if (addend && !addend_inside) {
        s.wait();
        add_in_place(static_cast<float*>(yb->data), static_cast<const float*>(addend->data), n);
      }
      if (activation_inside) {
        // Note [Activation inside the convolution]: the next layer reads this bound, not y.
        remember_abs_bound(yb, kind == kBiasRelu6Forward ? 6.f : y_bound);
        count_fused_activation();
      } else if (!has_activation(kind)) {
        // Note [Bounds carried through linear layers] (direct kernels: the forward never runs
        // Winograd); with an addend, only when its bound is known too.
        if (!e.blocked && (!addend || has_abs_bound(addend))) {
          carry_bound_through_conv(ab, bb, bias, terms_per_output(geometry, depthwise), yb);
          if (addend) carry_bound_through_add(yb, addend, yb);
        }
      } else {
        s.wait();
        if (kind == kBiasReluForward) relu_in_place(static_cast<float*>(yb->data), n);
        else relu6_in_place(static_cast<float*>(yb->data), n);
      }
    } else {
      dnnl::memory dy_mem(y_md, eng, ab->data), dx_mem(x_md, eng, yb->data);
      e.prim.execute(s, {{DNNL_ARG_DIFF_DST, dy_mem}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, dx_mem}});
    }
  }
  s.wait();
  return out;
}

// The implementation oneDNN chose (e.g. "brgconv:avx512_core", "jit_wino_4x3:avx512_core",
// "jit_dw:avx512_core"), so tests and the benchmark can check nothing fell back to the slow
// "ref" kernels.
Napi::Value conv_impl(Napi::Env env, Kind kind, const ConvGeometryArgs& geometry, bool depthwise) {
  return Napi::String::New(env, impl_of(make_entry(kind, geometry_of(geometry, depthwise)).prim));
}

// oneDNN reports failures as dnnl::error, which would end the process; JS gets an Error instead.
template <typename F>
Napi::Value guarded(Napi::Env env, bool depthwise, F&& f) {
  const std::string op = depthwise ? "depthwiseConv2d" : "conv2d";
  try {
    return f();
  } catch (const dnnl::error& err) {
    throw Napi::Error::New(env, op + " (oneDNN): " + err.what());
  } catch (const std::bad_alloc&) {  // a Scratch block (Winograd's blocked copies)
    throw Napi::Error::New(env, op + ": out of memory for a scratch block");
  }
}

}  // namespace

Napi::Value calls::conv(Napi::Env env, const ConvArgs& a) {
  return guarded(env, false, [&] { return run_conv(env, a.kind, a.a, a.b, a.conv_geometry, a.bias, false, a.addend); });
}

Napi::Value calls::convImpl(Napi::Env env, const ConvImplArgs& a) {
  return guarded(env, false, [&] { return conv_impl(env, a.kind, a.conv_geometry, false); });
}

Napi::Value calls::depthwiseConv(Napi::Env env, const DepthwiseConvArgs& a) {
  return guarded(env, true, [&] { return run_conv(env, a.kind, a.a, a.b, a.conv_geometry, a.bias, true); });
}

Napi::Value calls::depthwiseConvImpl(Napi::Env env, const DepthwiseConvImplArgs& a) {
  return guarded(env, true, [&] { return conv_impl(env, a.kind, a.conv_geometry, true); });
}

}  // namespace strata
