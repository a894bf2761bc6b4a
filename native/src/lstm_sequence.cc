// A whole LSTM layer (every time step, forward and backward) through oneDNN's LSTM primitive:
// Note [Whole-sequence LSTM] in src/ops/lstm-sequence.ts has the operands and output layouts.
// Keras's weights are oneDNN's plain layouts as they are: kernel [in, 4u] is ldigo with one
// layer and direction, the bias [4u] is ldgo, and both order the gates i, f, c, o. The
// primitive picks its own weight layouts (`any`; forcing a plain one can select a slow path),
// so weights are reordered in and weight gradients reordered out when they differ.
#include <cstring>

#include "common.h"
#include "dnnl_util.h"

namespace strata {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using md = dnnl::memory::desc;

struct LstmGeometry {
  int64_t batch, steps, features, units;
};

// The user-side (plain) descriptors of every operand.
struct LstmDescs {
  md x, state, w, r, bias, y;
  explicit LstmDescs(const LstmGeometry& g)
      : x({g.steps, g.batch, g.features}, dt::f32, tag::ntc),
        state({1, 1, g.batch, g.units}, dt::f32, tag::ldnc),
        w({1, 1, g.features, 4, g.units}, dt::f32, tag::ldigo),
        r({1, 1, g.units, 4, g.units}, dt::f32, tag::ldigo),
        bias({1, 1, 4, g.units}, dt::f32, tag::ldgo),
        y({g.steps, g.batch, g.units}, dt::f32, tag::ntc) {}
};

md any_weights(const md& plain) { return md(plain.dims(), dt::f32, tag::any); }

// Copies `from` into a memory of layout `want`, or wraps it when the layouts already agree.
dnnl::memory in_layout(const md& want, const md& plain, void* data) {
  auto& eng = cpu_engine();
  dnnl::memory user(plain, eng, data);
  if (want == plain) return user;
  dnnl::memory m(want, eng);
  dnnl::reorder(user, m).execute(cpu_stream(), user, m);
  return m;
}

struct LstmEntry {
  dnnl::lstm_forward::primitive_desc train_pd, infer_pd;
  dnnl::lstm_forward train, infer;
  bool has_backward = false;
  dnnl::lstm_backward::primitive_desc bwd_pd;
  dnnl::lstm_backward bwd;
};

PrimitiveCache<LstmEntry>& lstm_cache() {
  static PrimitiveCache<LstmEntry> cache;
  return cache;
}

dnnl::lstm_forward::primitive_desc forward_pd(dnnl::prop_kind kind, const LstmDescs& d) {
  dnnl::lstm_forward::desc desc(kind, dnnl::rnn_direction::unidirectional_left2right, d.x, d.state, d.state, any_weights(d.w),
                                any_weights(d.r), d.bias, d.y, d.state, d.state);
  return dnnl::lstm_forward::primitive_desc(desc, cpu_engine());
}

LstmEntry& entry_for(const LstmGeometry& g) {
  return lstm_cache().get(cache_key("lstm", g.batch, g.steps, g.features, g.units), [&] {
    const LstmDescs d(g);
    auto train_pd = forward_pd(dnnl::prop_kind::forward_training, d);
    auto infer_pd = forward_pd(dnnl::prop_kind::forward_inference, d);
    return LstmEntry{train_pd, infer_pd, dnnl::lstm_forward(train_pd), dnnl::lstm_forward(infer_pd), false, {}, {}};
  });
}

void ensure_backward(LstmEntry& e, const LstmGeometry& g) {
  if (e.has_backward) return;
  const LstmDescs d(g);
  dnnl::lstm_backward::desc desc(dnnl::prop_kind::backward, dnnl::rnn_direction::unidirectional_left2right, d.x, d.state, d.state,
                                 any_weights(d.w), any_weights(d.r), d.bias, d.y, d.state, d.state, d.x, d.state, d.state,
                                 any_weights(d.w), any_weights(d.r), d.bias, d.y, d.state, d.state);
  e.bwd_pd = dnnl::lstm_backward::primitive_desc(desc, cpu_engine(), e.train_pd);
  e.bwd = dnnl::lstm_backward(e.bwd_pd);
  e.has_backward = true;
}

// oneDNN reports failures as dnnl::error, which would abort the process if it left the addon.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* op, F&& f) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(info.Env(), std::string(op) + ": oneDNN failed (" + e.what() + ")");
  }
}

LstmGeometry geometry(const Napi::CallbackInfo& info, int at) {
  auto n = [&](int i) { return info[at + i].As<Napi::Number>().Int64Value(); };
  return {n(0), n(1), n(2), n(3)};
}

// lstmSequence(x, h0, c0, kernel, recurrentKernel, bias, batch, steps, features, units, training)
//   → [y (batch·steps·units) | cT (batch·units)]; in training the primitive's workspace rides on
//   the output buffer (Buffer::attachment) for lstmSequenceGrad.
Napi::Value LstmSequence(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const LstmGeometry g = geometry(info, 6);
  const bool training = info[10].As<Napi::Boolean>().Value();
  LstmEntry& e = entry_for(g);
  const auto& pd = training ? e.train_pd : e.infer_pd;
  const LstmDescs d(g);
  auto& eng = cpu_engine();
  const int64_t y_elems = g.batch * g.steps * g.units;
  Buffer* ob;
  Napi::Value out = new_buffer(env, (y_elems + g.batch * g.units) * 4, &ob);
  float* y = static_cast<float*>(ob->data);
  SignalGuard hold;  // Note [Signals and oneDNN]
  dnnl::memory w = in_layout(pd.weights_layer_desc(), d.w, get_buffer(info[3])->data);
  dnnl::memory r = in_layout(pd.weights_iter_desc(), d.r, get_buffer(info[4])->data);
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC_LAYER, dnnl::memory(d.x, eng, get_buffer(info[0])->data)},
      {DNNL_ARG_SRC_ITER, dnnl::memory(d.state, eng, get_buffer(info[1])->data)},
      {DNNL_ARG_SRC_ITER_C, dnnl::memory(d.state, eng, get_buffer(info[2])->data)},
      {DNNL_ARG_WEIGHTS_LAYER, w},
      {DNNL_ARG_WEIGHTS_ITER, r},
      {DNNL_ARG_BIAS, dnnl::memory(d.bias, eng, get_buffer(info[5])->data)},
      {DNNL_ARG_DST_LAYER, dnnl::memory(d.y, eng, y)},
      {DNNL_ARG_DST_ITER, dnnl::memory(d.state, eng)},  // the last h: already the output's last step
      {DNNL_ARG_DST_ITER_C, dnnl::memory(d.state, eng, y + y_elems)},
  };
  if (training) {
    const md ws = pd.workspace_desc();
    ob->attachment = new_attachment(ws.get_size());
    args.emplace(DNNL_ARG_WORKSPACE, dnnl::memory(ws, eng, ob->attachment->data));
  }
  (training ? e.train : e.infer).execute(cpu_stream(), args);
  cpu_stream().wait();
  return out;
}

// lstmSequenceGrad(x, h0, c0, kernel, recurrentKernel, bias, out, dOut, batch, steps, features, units)
//   → [dx | dh0 | dc0 | dKernel | dRecurrentKernel | dBias], each flat in its operand's layout.
Napi::Value LstmSequenceGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const LstmGeometry g = geometry(info, 8);
  Buffer* fwd_out = get_buffer(info[6]);
  if (!fwd_out->attachment) {
    throw Napi::Error::New(env, "lstmSequenceGrad: the forward pass ran in inference mode and kept no workspace");
  }
  LstmEntry& e = entry_for(g);
  ensure_backward(e, g);
  const auto& pd = e.bwd_pd;
  const LstmDescs d(g);
  auto& eng = cpu_engine();
  const int64_t y_elems = g.batch * g.steps * g.units, state = g.batch * g.units;
  const int64_t x_elems = g.batch * g.steps * g.features, w_elems = g.features * 4 * g.units, r_elems = g.units * 4 * g.units;
  Buffer* gb;
  Napi::Value out = new_buffer(env, (x_elems + 2 * state + w_elems + r_elems + 4 * g.units) * 4, &gb);
  float* dx = static_cast<float*>(gb->data);
  float* dh0 = dx + x_elems;
  float* dc0 = dh0 + state;
  float* dw = dc0 + state;
  float* dr = dw + w_elems;
  float* db = dr + r_elems;
  float* y = static_cast<float*>(fwd_out->data);
  float* dy = data_of<float>(info[7]);

  // The last h as its own [batch, units] block, and a zero gradient for it: its gradient
  // already arrives through the output sequence's last step.
  dnnl::memory h_last(d.state, eng), dh_last(d.state, eng);
  float* hl = static_cast<float*>(h_last.get_data_handle());
  for (int64_t b = 0; b < g.batch; b++) std::memcpy(hl + b * g.units, y + (b * g.steps + g.steps - 1) * g.units, g.units * sizeof(float));
  std::memset(dh_last.get_data_handle(), 0, state * sizeof(float));

  SignalGuard hold;  // Note [Signals and oneDNN]
  // Weight gradients are accumulated into by the primitive, so they start at zero.
  const bool w_plain = pd.diff_weights_layer_desc() == d.w, r_plain = pd.diff_weights_iter_desc() == d.r;
  dnnl::memory dw_mem = w_plain ? dnnl::memory(d.w, eng, dw) : dnnl::memory(pd.diff_weights_layer_desc(), eng);
  dnnl::memory dr_mem = r_plain ? dnnl::memory(d.r, eng, dr) : dnnl::memory(pd.diff_weights_iter_desc(), eng);
  std::memset(dw_mem.get_data_handle(), 0, pd.diff_weights_layer_desc().get_size());
  std::memset(dr_mem.get_data_handle(), 0, pd.diff_weights_iter_desc().get_size());
  std::memset(db, 0, 4 * g.units * sizeof(float));
  e.bwd.execute(cpu_stream(),
                {
                    {DNNL_ARG_SRC_LAYER, dnnl::memory(d.x, eng, get_buffer(info[0])->data)},
                    {DNNL_ARG_SRC_ITER, dnnl::memory(d.state, eng, get_buffer(info[1])->data)},
                    {DNNL_ARG_SRC_ITER_C, dnnl::memory(d.state, eng, get_buffer(info[2])->data)},
                    {DNNL_ARG_WEIGHTS_LAYER, in_layout(pd.weights_layer_desc(), d.w, get_buffer(info[3])->data)},
                    {DNNL_ARG_WEIGHTS_ITER, in_layout(pd.weights_iter_desc(), d.r, get_buffer(info[4])->data)},
                    {DNNL_ARG_BIAS, dnnl::memory(d.bias, eng, get_buffer(info[5])->data)},
                    {DNNL_ARG_DST_LAYER, dnnl::memory(d.y, eng, y)},
                    {DNNL_ARG_DST_ITER, h_last},
                    {DNNL_ARG_DST_ITER_C, dnnl::memory(d.state, eng, y + y_elems)},
                    {DNNL_ARG_WORKSPACE, dnnl::memory(pd.workspace_desc(), eng, fwd_out->attachment->data)},
                    {DNNL_ARG_DIFF_DST_LAYER, dnnl::memory(d.y, eng, dy)},
                    {DNNL_ARG_DIFF_DST_ITER, dh_last},
                    {DNNL_ARG_DIFF_DST_ITER_C, dnnl::memory(d.state, eng, dy + y_elems)},
                    {DNNL_ARG_DIFF_SRC_LAYER, dnnl::memory(d.x, eng, dx)},
                    {DNNL_ARG_DIFF_SRC_ITER, dnnl::memory(d.state, eng, dh0)},
                    {DNNL_ARG_DIFF_SRC_ITER_C, dnnl::memory(d.state, eng, dc0)},
                    {DNNL_ARG_DIFF_WEIGHTS_LAYER, dw_mem},
                    {DNNL_ARG_DIFF_WEIGHTS_ITER, dr_mem},
                    {DNNL_ARG_DIFF_BIAS, dnnl::memory(d.bias, eng, db)},
                });
  if (!w_plain) {
    dnnl::memory user(d.w, eng, dw);
    dnnl::reorder(dw_mem, user).execute(cpu_stream(), dw_mem, user);
  }
  if (!r_plain) {
    dnnl::memory user(d.r, eng, dr);
    dnnl::reorder(dr_mem, user).execute(cpu_stream(), dr_mem, user);
  }
  cpu_stream().wait();
  return out;
}

}  // namespace

void init_lstm_sequence(Napi::Env env, Napi::Object exports) {
  exports.Set("lstmSequence", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return guarded(info, "lstmSequence", [&] { return LstmSequence(info); }); }));
  exports.Set("lstmSequenceGrad", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return guarded(info, "lstmSequenceGrad", [&] { return LstmSequenceGrad(info); }); }));
}

}  // namespace strata
