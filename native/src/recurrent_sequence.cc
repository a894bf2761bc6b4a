// Whole recurrent layers (every time step, forward and backward) through oneDNN's RNN
// primitives: LSTM, the linear-before-reset GRU (Keras's resetAfter form) and the vanilla RNN
// (Keras's SimpleRNN with tanh or relu). Note
// [Whole-sequence recurrent kernels] in src/ops/recurrent-sequence.ts has the operands and the
// output layouts. Keras's kernels are oneDNN's plain layouts as they are: kernel [in, g·u] is
// ldigo with one layer and direction, and the gate orders agree (LSTM i, f, c, o; GRU z, r, h,
// oneDNN's u, r, o). The primitive picks its own weight layouts (`any`; forcing a plain one can
// select a slow path), so weights are reordered in and weight gradients out when they differ.
#include <cstring>

#include "common.h"
#include "dnnl_util.h"

namespace strata {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using md = dnnl::memory::desc;

constexpr Cell kLstm = Cell::kLstm, kGru = Cell::kGru, kRnnTanh = Cell::kRnnTanh, kRnnRelu = Cell::kRnnRelu;

struct Geometry {
  Cell cell;
  int64_t batch, steps, features, units;
  bool vanilla() const { return cell == kRnnTanh || cell == kRnnRelu; }
  int64_t gates() const { return cell == kLstm ? 4 : cell == kGru ? 3 : 1; }
  // The linear-before-reset GRU has a fourth bias: the recurrent one of the candidate gate.
  int64_t bias_gates() const { return vanilla() ? 1 : 4; }
  bool has_c() const { return cell == kLstm; }
  dnnl::algorithm activation() const { return cell == kRnnRelu ? dnnl::algorithm::eltwise_relu : dnnl::algorithm::eltwise_tanh; }
};

// The user-side (plain) descriptors of every operand.
struct Descs {
  md x, state, w, r, bias, y;
  explicit Descs(const Geometry& g)
      : x({g.steps, g.batch, g.features}, dt::f32, tag::ntc),
        state({1, 1, g.batch, g.units}, dt::f32, tag::ldnc),
        w({1, 1, g.features, g.gates(), g.units}, dt::f32, tag::ldigo),
        r({1, 1, g.units, g.gates(), g.units}, dt::f32, tag::ldigo),
        bias({1, 1, g.bias_gates(), g.units}, dt::f32, tag::ldgo),
        y({g.steps, g.batch, g.units}, dt::f32, tag::ntc) {}
};

md any_layout(const md& plain) { return md(plain.dims(), dt::f32, tag::any); }

constexpr auto kLeftToRight = dnnl::rnn_direction::unidirectional_left2right;

// The primitive descriptors of one cell kind, built from the same operand descriptors.
dnnl::primitive_desc forward_pd(dnnl::prop_kind kind, const Geometry& g, const Descs& d) {
  auto& eng = cpu_engine();
  if (g.cell == kLstm) {
    dnnl::lstm_forward::desc desc(kind, kLeftToRight, d.x, d.state, d.state, any_layout(d.w), any_layout(d.r), d.bias, d.y, d.state,
                                  d.state);
    return dnnl::lstm_forward::primitive_desc(desc, eng);
  }
  if (g.vanilla()) {
    dnnl::vanilla_rnn_forward::desc desc(kind, g.activation(), kLeftToRight, d.x, d.state, any_layout(d.w), any_layout(d.r), d.bias, d.y,
                                         d.state);
    return dnnl::vanilla_rnn_forward::primitive_desc(desc, eng);
  }
  dnnl::lbr_gru_forward::desc desc(kind, kLeftToRight, d.x, d.state, any_layout(d.w), any_layout(d.r), d.bias, d.y, d.state);
  return dnnl::lbr_gru_forward::primitive_desc(desc, eng);
}

// The backward primitive; its hint is a fresh forward-training descriptor of the right C++ type.
dnnl::primitive_desc backward_pd(const Geometry& g, const Descs& d) {
  auto& eng = cpu_engine();
  const md w = any_layout(d.w), r = any_layout(d.r);
  const auto train = dnnl::prop_kind::forward_training;
  if (g.cell == kLstm) {
    dnnl::lstm_forward::primitive_desc hint(
        dnnl::lstm_forward::desc(train, kLeftToRight, d.x, d.state, d.state, w, r, d.bias, d.y, d.state, d.state), eng);
    dnnl::lstm_backward::desc desc(dnnl::prop_kind::backward, kLeftToRight, d.x, d.state, d.state, w, r, d.bias, d.y, d.state, d.state,
                                   d.x, d.state, d.state, w, r, d.bias, d.y, d.state, d.state);
    return dnnl::lstm_backward::primitive_desc(desc, eng, hint);
  }
  if (g.vanilla()) {
    dnnl::vanilla_rnn_forward::primitive_desc hint(
        dnnl::vanilla_rnn_forward::desc(train, g.activation(), kLeftToRight, d.x, d.state, w, r, d.bias, d.y, d.state), eng);
    dnnl::vanilla_rnn_backward::desc desc(dnnl::prop_kind::backward, g.activation(), kLeftToRight, d.x, d.state, w, r, d.bias, d.y, d.state,
                                          d.x, d.state, w, r, d.bias, d.y, d.state);
    return dnnl::vanilla_rnn_backward::primitive_desc(desc, eng, hint);
  }
  dnnl::lbr_gru_forward::primitive_desc hint(dnnl::lbr_gru_forward::desc(train, kLeftToRight, d.x, d.state, w, r, d.bias, d.y, d.state), eng);
  dnnl::lbr_gru_backward::desc desc(dnnl::prop_kind::backward, kLeftToRight, d.x, d.state, w, r, d.bias, d.y, d.state, d.x, d.state,
                                    w, r, d.bias, d.y, d.state);
  return dnnl::lbr_gru_backward::primitive_desc(desc, eng, hint);
}

struct Entry {
  dnnl::primitive_desc train_pd, infer_pd;
  dnnl::primitive train, infer;
  bool has_backward = false;
  dnnl::primitive_desc bwd_pd;
  dnnl::primitive bwd;
};

std::shared_ptr<Entry> entry_for(const Geometry& g) {
  return primitive_cache().get<Entry>(
      [&] {
        const Descs d(g);
        auto train_pd = forward_pd(dnnl::prop_kind::forward_training, g, d);
        auto infer_pd = forward_pd(dnnl::prop_kind::forward_inference, g, d);
        return Entry{train_pd, infer_pd, dnnl::primitive(train_pd), dnnl::primitive(infer_pd), false, {}, {}};
      },
      g.cell, g.batch, g.steps, g.features, g.units);
}

void ensure_backward(Entry& e, const Geometry& g) {
  if (e.has_backward) return;
  e.bwd_pd = backward_pd(g, Descs(g));
  e.bwd = dnnl::primitive(e.bwd_pd);
  e.has_backward = true;
}

md query_md(const dnnl::primitive_desc& pd, int arg) { return pd.query_md(dnnl::query::exec_arg_md, arg); }

// A memory of layout `want` holding the plain data at `data`: the data itself when the layouts
// agree, else a reordered copy.
dnnl::memory in_layout(const md& want, const md& plain, void* data) {
  auto& eng = cpu_engine();
  dnnl::memory user(plain, eng, data);
  if (want == plain) return user;
  dnnl::memory m(want, eng);
  dnnl::reorder(user, m).execute(cpu_stream(), user, m);
  return m;
}

Geometry geometry_of(const SequenceArgs& s) { return {s.cell, s.batch, s.steps, s.features, s.units}; }

// The operands both kernels take: x, h0, [c0,] kernel, recurrentKernel, bias, then `extra` more
// (the gradient's forward output and its gradient).
struct Operands {
  void *x, *h0, *c0, *w, *r, *bias;
  size_t next;  // the index of the operand after them
};

Operands read_operands(Napi::Env env, const std::vector<Buffer*>& ops, const Geometry& g, size_t extra) {
  const size_t want = (g.has_c() ? 6 : 5) + extra;
  if (ops.size() != want) throw Napi::TypeError::New(env, "recurrent sequence kernel: expected " + std::to_string(want) + " operands, received " + std::to_string(ops.size()));
  Operands o{};
  size_t at = 0;
  o.x = ops[at++]->data;
  o.h0 = ops[at++]->data;
  o.c0 = g.has_c() ? ops[at++]->data : nullptr;
  o.w = ops[at++]->data;
  o.r = ops[at++]->data;
  o.bias = ops[at++]->data;
  o.next = at;
  return o;
}

// The arguments forward and backward share: the operands (weights in the primitive's layouts),
// the output sequence y with cT after it (LSTM), and the last h.
std::unordered_map<int, dnnl::memory> shared_args(const Operands& o, const Geometry& g, const Descs& d, const dnnl::primitive_desc& pd,
                                                  float* y, const dnnl::memory& h_last) {
  auto& eng = cpu_engine();
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC_LAYER, dnnl::memory(d.x, eng, o.x)},
      {DNNL_ARG_SRC_ITER, dnnl::memory(d.state, eng, o.h0)},
      {DNNL_ARG_WEIGHTS_LAYER, in_layout(query_md(pd, DNNL_ARG_WEIGHTS_LAYER), d.w, o.w)},
      {DNNL_ARG_WEIGHTS_ITER, in_layout(query_md(pd, DNNL_ARG_WEIGHTS_ITER), d.r, o.r)},
      {DNNL_ARG_BIAS, dnnl::memory(d.bias, eng, o.bias)},
      {DNNL_ARG_DST_LAYER, dnnl::memory(d.y, eng, y)},
      {DNNL_ARG_DST_ITER, h_last},
  };
  if (g.has_c()) {
    args.emplace(DNNL_ARG_SRC_ITER_C, dnnl::memory(d.state, eng, o.c0));
    args.emplace(DNNL_ARG_DST_ITER_C, dnnl::memory(d.state, eng, y + g.batch * g.steps * g.units));
  }
  return args;
}

// rnnSequence → [y (batch·steps·units) | cT (batch·units), LSTM only]. In training the
// primitive's workspace rides on the output buffer (Buffer::attachment) for rnnSequenceGrad.
Napi::Value rnn_sequence(Napi::Env env, const RnnSequenceArgs& call) {
  const Geometry g = geometry_of(call.sequence);
  const bool training = call.training;
  const Operands o = read_operands(env, call.operands, g, 0);
  const auto entry = entry_for(g);
  Entry& e = *entry;
  const auto& pd = training ? e.train_pd : e.infer_pd;
  const Descs d(g);
  auto& eng = cpu_engine();
  const int64_t y_elems = g.batch * g.steps * g.units, state = g.batch * g.units;
  Buffer* ob;
  Napi::Value out = new_buffer(env, (y_elems + (g.has_c() ? state : 0)) * 4, &ob);
  SignalGuard hold;  // Note [Signals and oneDNN]
  // The last h goes to scratch memory: it is already the output's last step.
  auto args = shared_args(o, g, d, pd, static_cast<float*>(ob->data), dnnl::memory(d.state, eng));
  if (training) {
    const md ws = query_md(pd, DNNL_ARG_WORKSPACE);
    ob->attachment = new_attachment(ws.get_size());
    args.emplace(DNNL_ARG_WORKSPACE, dnnl::memory(ws, eng, ob->attachment->data));
  }
  (training ? e.train : e.infer).execute(cpu_stream(), args);
  cpu_stream().wait();
  return out;
}

// A weight gradient: written in place when the primitive's layout is the plain one, else into
// a primitive-layout buffer that finish() reorders into place. Starts at zero because the
// primitive accumulates into weight gradients.
struct WeightGrad {
  md plain;
  float* dst;
  dnnl::memory mem;
  WeightGrad(const md& want, const md& plain_md, float* d)
      : plain(plain_md), dst(d), mem(want == plain_md ? dnnl::memory(plain_md, cpu_engine(), d) : dnnl::memory(want, cpu_engine())) {
    std::memset(mem.get_data_handle(), 0, want.get_size());
  }
  void finish() {
    if (mem.get_data_handle() == dst) return;
    dnnl::memory user(plain, cpu_engine(), dst);
    dnnl::reorder(mem, user).execute(cpu_stream(), mem, user);
  }
};

// rnnSequenceGrad (operands then the forward output and its gradient) → [dx | dh0 | dc0 (LSTM
// only) | dKernel | dRecurrentKernel | dBias], each flat in its operand's layout.
Napi::Value rnn_sequence_grad(Napi::Env env, const RnnSequenceGradArgs& call) {
  const Geometry g = geometry_of(call.sequence);
  const Operands o = read_operands(env, call.operands, g, 2);
  Buffer* fwd_out = call.operands[o.next];
  float* dy = data_of<float>(call.operands[o.next + 1]);
  if (!fwd_out->attachment) throw Napi::Error::New(env, "rnnSequenceGrad: the forward pass ran in inference mode and kept no workspace");

  const auto entry = entry_for(g);
  Entry& e = *entry;
  ensure_backward(e, g);
  const auto& pd = e.bwd_pd;
  const Descs d(g);
  auto& eng = cpu_engine();
  const int64_t y_elems = g.batch * g.steps * g.units, state = g.batch * g.units;
  const int64_t x_elems = g.batch * g.steps * g.features, w_elems = g.features * g.gates() * g.units;
  const int64_t r_elems = g.units * g.gates() * g.units, b_elems = g.bias_gates() * g.units;
  const int64_t states = g.has_c() ? 2 : 1;
  Buffer* gb;
  Napi::Value out = new_buffer(env, (x_elems + states * state + w_elems + r_elems + b_elems) * 4, &gb);
  float* dx = static_cast<float*>(gb->data);
  float* dh0 = dx + x_elems;
  float* dw = dh0 + states * state;
  float* dr = dw + w_elems;
  float* db = dr + r_elems;
  float* y = static_cast<float*>(fwd_out->data);

  // The last h as its own [batch, units] block, and a zero gradient for it: its gradient
  // already arrives through the output sequence's last step.
  dnnl::memory h_last(d.state, eng), dh_last(d.state, eng);
  float* hl = static_cast<float*>(h_last.get_data_handle());
  for (int64_t b = 0; b < g.batch; b++) std::memcpy(hl + b * g.units, y + (b * g.steps + g.steps - 1) * g.units, g.units * sizeof(float));
  std::memset(dh_last.get_data_handle(), 0, state * sizeof(float));

  SignalGuard hold;  // Note [Signals and oneDNN]
  WeightGrad gw(query_md(pd, DNNL_ARG_DIFF_WEIGHTS_LAYER), d.w, dw), gr(query_md(pd, DNNL_ARG_DIFF_WEIGHTS_ITER), d.r, dr);
  std::memset(db, 0, b_elems * sizeof(float));
  auto args = shared_args(o, g, d, pd, y, h_last);
  args.insert({
      {DNNL_ARG_WORKSPACE, dnnl::memory(query_md(pd, DNNL_ARG_WORKSPACE), eng, fwd_out->attachment->data)},
      {DNNL_ARG_DIFF_DST_LAYER, dnnl::memory(d.y, eng, dy)},
      {DNNL_ARG_DIFF_DST_ITER, dh_last},
      {DNNL_ARG_DIFF_SRC_LAYER, dnnl::memory(d.x, eng, dx)},
      {DNNL_ARG_DIFF_SRC_ITER, dnnl::memory(d.state, eng, dh0)},
      {DNNL_ARG_DIFF_WEIGHTS_LAYER, gw.mem},
      {DNNL_ARG_DIFF_WEIGHTS_ITER, gr.mem},
      {DNNL_ARG_DIFF_BIAS, dnnl::memory(d.bias, eng, db)},
  });
  if (g.has_c()) {
    args.emplace(DNNL_ARG_DIFF_DST_ITER_C, dnnl::memory(d.state, eng, dy + y_elems));
    args.emplace(DNNL_ARG_DIFF_SRC_ITER_C, dnnl::memory(d.state, eng, dh0 + state));
  }
  e.bwd.execute(cpu_stream(), args);
  gw.finish();
  gr.finish();
  cpu_stream().wait();
  return out;
}

// oneDNN's failures (dnnl::error) and a failed workspace allocation would abort the process if
// they left the addon as C++ exceptions; they become JavaScript errors instead.
template <typename F>
Napi::Value guarded(Napi::Env env, F&& f) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(env, std::string("recurrent sequence kernel: oneDNN failed (") + e.what() + ")");
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "recurrent sequence kernel: out of memory for the workspace");
  }
}

}  // namespace

Napi::Value calls::rnnSequence(Napi::Env env, const RnnSequenceArgs& args) {
  return guarded(env, [&] { return rnn_sequence(env, args); });
}

Napi::Value calls::rnnSequenceGrad(Napi::Env env, const RnnSequenceGradArgs& args) {
  return guarded(env, [&] { return rnn_sequence_grad(env, args); });
}

}  // namespace strata
