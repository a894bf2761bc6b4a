// Batched matmul: oneDNN's matmul for float32 (operand transposes expressed as strides, so no
// copy is made), plain loops for int32.
#include <omp.h>

#include "common.h"
#include "dnnl_util.h"

namespace strata {

namespace {

using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

struct MatmulEntry {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
};

// The primitive for [batch, m, k] x [batch, k, n] (transposes as strides), with a bias [n] when asked.
std::shared_ptr<MatmulEntry> matmul_entry(int64_t batch, int64_t m, int64_t k, int64_t n, bool ta, bool tb, bool bias) {
  return primitive_cache().get<MatmulEntry>(
      [&] {
        const dnnl::memory::desc a_md(dims{batch, m, k}, dt::f32, ta ? dims{m * k, 1, m} : dims{m * k, k, 1});
        const dnnl::memory::desc b_md(dims{batch, k, n}, dt::f32, tb ? dims{k * n, 1, k} : dims{k * n, n, 1});
        const dnnl::memory::desc c_md(dims{batch, m, n}, dt::f32, dims{m * n, n, 1});
        const dnnl::memory::desc bias_md(dims{1, 1, n}, dt::f32, dims{n, n, 1});
        dnnl::matmul::primitive_desc pd(bias ? dnnl::matmul::desc(a_md, b_md, bias_md, c_md) : dnnl::matmul::desc(a_md, b_md, c_md),
                                        cpu_engine());
        return MatmulEntry{pd, dnnl::matmul(pd)};
      },
      batch, m, k, n, ta, tb, bias);
}

// Note [Small products on one thread]
// A product of a few million multiply-adds (an LSTM step's [64, 128] x [128, 512]) takes tens
// of microseconds; splitting it over threads costs more in synchronization than it saves, and
// far more when another process holds the second core. Such products are created and run with
// one OpenMP thread. The decision depends only on the shape, so a cached primitive is always
// used in the mode it was created in (oneDNN fixes its thread count at creation).
// A product whose operand B is large is different: a matrix-vector product over a classifier's
// weights ([1, 1280] x [1280, 1000], 5 MB) is bound by memory bandwidth, which one core does not
// saturate; read cold, it took 0.39 ms on one thread and 0.26 on two.
constexpr int64_t kSmallProduct = int64_t(1) << 23;
constexpr int64_t kLargeOperand = int64_t(1) << 18;  // floats: 1 MiB, more than a core's L2

bool run_on_one_thread(int64_t batch, int64_t m, int64_t k, int64_t n) {
  return batch * m * n * k < kSmallProduct && batch * k * n < kLargeOperand;
}

class OneThreadScope {
 public:
  explicit OneThreadScope(bool active) : active_(active), saved_(active ? omp_get_max_threads() : 0) {
    if (active_) omp_set_num_threads(1);
  }
  ~OneThreadScope() {
    if (active_) omp_set_num_threads(saved_);
  }

 private:
  bool active_;
  int saved_;
};

}  // namespace

Napi::Value calls::matmul(Napi::Env env, const MatmulArgs& args) {
  Buffer* ab = args.a;
  Buffer* bb = args.b;
  const int64_t batch = args.batch, m = args.m, k = args.k, n = args.n;
  const bool ta = args.transpose_a, tb = args.transpose_b;
  const DType d = args.dtype;
  Buffer* yb;
  Napi::Value out = new_buffer(env, batch * m * n * dtype_size(d), &yb, d != DType::kFloat32);
  if (d == DType::kFloat32) {
    if (k == 0) {
      std::fill_n(static_cast<float*>(yb->data), batch * m * n, 0.f);
      return out;
    }
    OneThreadScope one_thread(run_on_one_thread(batch, m, k, n));
    const auto entry = matmul_entry(batch, m, k, n, ta, tb, false);
    const MatmulEntry& e = *entry;
    dnnl::memory a_mem(e.pd.src_desc(), cpu_engine(), ab->data);
    dnnl::memory b_mem(e.pd.weights_desc(), cpu_engine(), bb->data);
    dnnl::memory c_mem(e.pd.dst_desc(), cpu_engine(), yb->data);
    SignalGuard hold;  // Note [Signals and oneDNN]
    e.prim.execute(cpu_stream(), {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
    cpu_stream().wait();
    return out;
  }
  // int32: wrapping arithmetic, i-k-j order.
  const int32_t* a = static_cast<const int32_t*>(ab->data);
  const int32_t* b = static_cast<const int32_t*>(bb->data);
  int32_t* y = static_cast<int32_t*>(yb->data);
  for (int64_t t = 0; t < batch; t++)
    for (int64_t i = 0; i < m; i++)
      for (int64_t p = 0; p < k; p++) {
        const uint32_t av = static_cast<uint32_t>(ta ? a[t * m * k + p * m + i] : a[t * m * k + i * k + p]);
        for (int64_t j = 0; j < n; j++) {
          const uint32_t bv = static_cast<uint32_t>(tb ? b[t * k * n + j * k + p] : b[t * k * n + p * n + j]);
          y[t * m * n + i * n + j] = static_cast<int32_t>(static_cast<uint32_t>(y[t * m * n + i * n + j]) + av * bv);
        }
      }
  return out;
}

// fusedMatmul: activation(a·b + bias)
// as one oneDNN matmul with the bias [n] broadcast over rows (tfjs's fused.matMul; what a dense
// layer with a bias runs), then the ReLU over the output while it is still in cache. Not as a
// oneDNN post-op: in 2.6 that made the brgemm matmul about 25 % slower ([64, 784] x [784, 512]:
// 0.33 against 0.27 ms, where the separate pass takes a few microseconds), and its ReLU turns
// NaN into 0 where st.relu keeps it.
Napi::Value calls::fusedMatmul(Napi::Env env, const FusedMatmulArgs& args) {
  Buffer* ab = args.a;
  Buffer* bb = args.b;
  Buffer* biasb = args.bias;
  const int64_t batch = args.batch, m = args.m, k = args.k, n = args.n;
  Buffer* yb;
  Napi::Value out = new_buffer(env, batch * m * n * 4, &yb);
  OneThreadScope one_thread(run_on_one_thread(batch, m, k, n));
  const auto entry = matmul_entry(batch, m, k, n, args.transpose_a, args.transpose_b, true);
  const MatmulEntry& e = *entry;
  dnnl::memory a_mem(e.pd.src_desc(), cpu_engine(), ab->data);
  dnnl::memory b_mem(e.pd.weights_desc(), cpu_engine(), bb->data);
  dnnl::memory bias_mem(e.pd.bias_desc(), cpu_engine(), biasb->data);
  dnnl::memory c_mem(e.pd.dst_desc(), cpu_engine(), yb->data);
  SignalGuard hold;  // Note [Signals and oneDNN]
  e.prim.execute(cpu_stream(), {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_BIAS, bias_mem}, {DNNL_ARG_DST, c_mem}});
  cpu_stream().wait();
  if (args.relu) relu_in_place(static_cast<float*>(yb->data), batch * m * n);
  return out;
}

}  // namespace strata
