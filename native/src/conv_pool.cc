// A convolution with few input channels, its bias and ReLU, and the max pooling after it, in one
// kernel each way (Note [Convolution and pooling in one pass] in src/ops/conv-pool.ts).
//
// The first block of an image network reads 1 or 3 channels and writes 32 or more: its
// convolution is a few FLOPs per output value, so the time goes to memory, writing the
// convolution's output and reading it back for the pooling, and in the backward pass writing
// the pooling's gradient at full size and reading it back for the filter's. Here each image's
// convolution output lives only in a thread-local buffer that stays in cache: the forward pass
// pools it at once (keeping each window's winner with the output, as maxPool does), and the
// backward pass accumulates the filter and bias gradients straight from the pooled gradient and
// the winners.
#include <omp.h>

#include <cmath>
#include <vector>

#include "common.h"

namespace strata {
namespace {

struct ConvPoolGeometry {
  int64_t n, h, w, c;           // input, NHWC
  int64_t kh, kw, co;           // filter [kh, kw, c, co]
  int64_t sh, sw, dh, dw, top, left;  // convolution strides, dilation and padding
  int64_t oh, ow;               // convolution output
  int64_t ph, pw, psh, psw, ptop, pleft;  // pooling window, strides and padding
  int64_t poh, pow;             // pooled output
};

// Pads are (top, bottom, left, right).
ConvPoolGeometry geometry_of(const ConvGeometryArgs& c, const PoolWindowArgs& p) {
  const Shape &xs = c.x_shape, &fs = c.filter_shape, &st = c.strides, &dil = c.dilation, &pads = c.pads;
  const Shape &pool = p.pool_size, &pst = p.pool_strides, &ppads = p.pool_pads;
  return {xs[0], xs[1], xs[2], xs[3], fs[0], fs[1], fs[3], st[0], st[1], dil[0], dil[1], pads[0], pads[2],
          c.out_h, c.out_w, pool[0], pool[1], pst[0], pst[1], ppads[0], ppads[2], p.pooled_h, p.pooled_w};
}

// Channels go in blocks of L lanes: 16 (one AVX-512 register, two AVX2 ones) when the filter
// count is a multiple of 16, else 1. The lane loops have that constant trip count, so each
// compiles to a few vector instructions and the accumulators stay in registers.

// Window [h0, h1) x [w0, w1) of pooled pixel (i, j), clipped to the convolution's output.
struct PoolWindow {
  int64_t h0, h1, w0, w1;
};
__attribute__((always_inline)) inline PoolWindow pool_window(const ConvPoolGeometry& g, int64_t i, int64_t j) {
  const int64_t hs = i * g.psh - g.ptop, ws = j * g.psw - g.pleft;
  return {std::max<int64_t>(hs, 0), std::min(hs + g.ph, g.oh), std::max<int64_t>(ws, 0), std::min(ws + g.pw, g.ow)};
}

// Where each tap of the filter reads, relative to the input pixel under an output pixel's window
// corner: taps in filter order (kh, kw, c), so tap t's weights are the row f + t·co.
std::vector<int64_t> tap_offsets(const ConvPoolGeometry& g) {
  std::vector<int64_t> off;
  for (int64_t a = 0; a < g.kh; a++)
    for (int64_t e = 0; e < g.kw; e++)
      for (int64_t c = 0; c < g.c; c++) off.push_back((a * g.dh * g.w + e * g.dw) * g.c + c);
  return off;
}

// Whether every tap of output pixel (i, j) is inside the image (no padding to check), and
// where its window's corner is in x.
__attribute__((always_inline)) inline bool interior(const ConvPoolGeometry& g, int64_t i, int64_t j) {
  const int64_t ih = i * g.sh - g.top, iw = j * g.sw - g.left;
  return ih >= 0 && ih + (g.kh - 1) * g.dh < g.h && iw >= 0 && iw + (g.kw - 1) * g.dw < g.w;
}
__attribute__((always_inline)) inline const float* corner(const ConvPoolGeometry& g, const float* x, int64_t i, int64_t j) {
  return x + ((i * g.sh - g.top) * g.w + j * g.sw - g.left) * g.c;
}

// One tap's input value for output pixel (i, j), zero where it falls in the padding.
__attribute__((always_inline)) inline float tap_value(const ConvPoolGeometry& g, const float* x, int64_t i, int64_t j, int64_t t) {
  const int64_t c = t % g.c, e = (t / g.c) % g.kw, a = t / (g.c * g.kw);
  const int64_t ih = i * g.sh + a * g.dh - g.top, iw = j * g.sw + e * g.dw - g.left;
  return ih < 0 || ih >= g.h || iw < 0 || iw >= g.w ? 0.f : x[(ih * g.w + iw) * g.c + c];
}

// z[oh, ow, :] = relu(b + Σ x·f) for one image into `z` [oh, ow, co]; padding reads as zero.
// The ReLU is st.relu's (NaN stays NaN, -0 becomes 0). P neighbouring pixels of a row
// go together, so that P independent accumulators hide the multiply-add latency and each weight
// row is loaded once for all of them (the last group of a row repeats its last pixel).
template <int L, bool kNoPadding>
__attribute__((always_inline)) inline void conv_relu_image(const ConvPoolGeometry& g, const int64_t* __restrict off,
                                                           const float* __restrict x, const float* __restrict f,
                                                           const float* __restrict b, float* __restrict z) {
  constexpr int P = 8;
  const int64_t taps = g.kh * g.kw * g.c;
  for (int64_t i = 0; i < g.oh; i++)
    for (int64_t j0 = 0; j0 < g.ow; j0 += P) {
      int64_t js[P];
      bool inside = true;
      for (int p = 0; p < P; p++) {
        js[p] = std::min(j0 + p, g.ow - 1);
        inside = inside && (kNoPadding || interior(g, i, js[p]));
      }
      for (int64_t o = 0; o < g.co; o += L) {
        float acc[P][L];
        for (int p = 0; p < P; p++)
#pragma omp simd
          for (int l = 0; l < L; l++) acc[p][l] = b[o + l];
        if (inside) {
          const float* xs[P];
          for (int p = 0; p < P; p++) xs[p] = corner(g, x, i, js[p]);
          for (int64_t t = 0; t < taps; t++) {
            const float* ft = f + t * g.co + o;
            for (int p = 0; p < P; p++) {
              const float v = xs[p][off[t]];
#pragma omp simd
              for (int l = 0; l < L; l++) acc[p][l] += v * ft[l];
            }
          }
        } else if (!kNoPadding) {
          for (int64_t t = 0; t < taps; t++) {
            const float* ft = f + t * g.co + o;
            for (int p = 0; p < P; p++) {
              const float v = tap_value(g, x, i, js[p], t);
#pragma omp simd
              for (int l = 0; l < L; l++) acc[p][l] += v * ft[l];
            }
          }
        }
        for (int p = 0; p < P && j0 + p < g.ow; p++) {
          float* zo = z + (i * g.ow + j0 + p) * g.co + o;
#pragma omp simd
          for (int l = 0; l < L; l++) zo[l] = ((acc[p][l] > 0.f) | (acc[p][l] != acc[p][l])) ? acc[p][l] : 0.f;
        }
      }
    }
}

// Pools one image's z into y [poh, pow, co], winners as pixel indices of z (maxPool's rule: the
// first NaN, else the first strict maximum in row-major window order).
template <int L>
__attribute__((always_inline)) inline void pool_image(const ConvPoolGeometry& g, const float* __restrict z,
                                                      float* __restrict y, int32_t* __restrict winners) {
  for (int64_t i = 0; i < g.poh; i++)
    for (int64_t j = 0; j < g.pow; j++) {
      const PoolWindow w = pool_window(g, i, j);
      for (int64_t o = 0; o < g.co; o += L) {
        float m[L];
        int32_t win[L];
#pragma omp simd
        for (int l = 0; l < L; l++) {
          m[l] = -INFINITY;
          win[l] = static_cast<int32_t>(w.h0 * g.ow + w.w0);
        }
        for (int64_t ih = w.h0; ih < w.h1; ih++)
          for (int64_t iw = w.w0; iw < w.w1; iw++) {
            const float* zt = z + (ih * g.ow + iw) * g.co + o;
            const int32_t pixel = static_cast<int32_t>(ih * g.ow + iw);
#pragma omp simd
            for (int l = 0; l < L; l++) {
              const bool better = (m[l] == m[l]) & !(zt[l] <= m[l]);  // v > m, or v NaN while m is not
              m[l] = better ? zt[l] : m[l];
              win[l] = better ? pixel : win[l];
            }
          }
        const int64_t at = (i * g.pow + j) * g.co + o;
#pragma omp simd
        for (int l = 0; l < L; l++) y[at + l] = m[l];
        if (winners)
#pragma omp simd
          for (int l = 0; l < L; l++) winners[at + l] = win[l];
      }
    }
}

// One image's contribution to the filter and bias gradients, straight from the pooled side:
// each pooled value's gradient (where it is positive: the ReLU's mask) belongs to its window's
// winner, so for every pixel q of the window the lanes whose winner is q take x under each tap
// at q times that gradient. Overlapping windows add, as the gradient of a sum does. T taps go
// together, their sums in registers for the whole image (past the last tap, the last one again,
// its sum dropped).
template <int L, bool kNoPadding>
__attribute__((always_inline)) inline void filter_bias_grad_image(const ConvPoolGeometry& g, const int64_t* __restrict off,
                                                                  const float* __restrict x, const float* __restrict y,
                                                                  const float* __restrict dy, const int32_t* __restrict winners,
                                                                  float* __restrict df, float* __restrict db) {
  constexpr int T = 9;
  const int64_t taps = g.kh * g.kw * g.c;
  for (int64_t o = 0; o < g.co; o += L)
    for (int64_t t0 = 0; t0 < taps; t0 += T) {
      int64_t ts[T], offs[T];
      for (int t = 0; t < T; t++) {
        ts[t] = std::min(t0 + t, taps - 1);
        offs[t] = off[ts[t]];
      }
      float acc[T][L] = {};
      float bias[L] = {};
      for (int64_t i = 0; i < g.poh; i++)
        for (int64_t j = 0; j < g.pow; j++) {
          const PoolWindow w = pool_window(g, i, j);
          const int64_t at = (i * g.pow + j) * g.co + o;
          float grad[L];
#pragma omp simd
          for (int l = 0; l < L; l++) {
            grad[l] = y[at + l] > 0.f ? dy[at + l] : 0.f;
            bias[l] += grad[l];
          }
          for (int64_t ih = w.h0; ih < w.h1; ih++)
            for (int64_t iw = w.w0; iw < w.w1; iw++) {
              const int32_t pixel = static_cast<int32_t>(ih * g.ow + iw);
              float gq[L];
#pragma omp simd
              for (int l = 0; l < L; l++) gq[l] = winners[at + l] == pixel ? grad[l] : 0.f;
              if (kNoPadding || interior(g, ih, iw)) {
                const float* xc = corner(g, x, ih, iw);
                for (int t = 0; t < T; t++) {
                  const float v = xc[offs[t]];
#pragma omp simd
                  for (int l = 0; l < L; l++) acc[t][l] += v * gq[l];
                }
              } else {
                for (int t = 0; t < T; t++) {
                  const float v = tap_value(g, x, ih, iw, ts[t]);
#pragma omp simd
                  for (int l = 0; l < L; l++) acc[t][l] += v * gq[l];
                }
              }
            }
        }
      for (int t = 0; t < T && t0 + t < taps; t++)
#pragma omp simd
        for (int l = 0; l < L; l++) df[(t0 + t) * g.co + o + l] += acc[t][l];
      if (t0 == 0)
#pragma omp simd
        for (int l = 0; l < L; l++) db[o + l] += bias[l];
    }
}

// Whether every tap of every output pixel is inside the image: the loops then need no bounds
// checks ('valid' padding), which keeps their accumulators in registers.
bool no_padding(const ConvPoolGeometry& g) {
  return g.top == 0 && g.left == 0 && (g.oh - 1) * g.sh + (g.kh - 1) * g.dh < g.h && (g.ow - 1) * g.sw + (g.kw - 1) * g.dw < g.w;
}

// The per-image work, in the widest instruction set the CPU has (the templates above inline into
// each clone), with 16-float lanes when the filter count is a multiple of 16.
STRATA_CLONES void forward_image(const ConvPoolGeometry& g, const int64_t* off, const float* x, const float* f,
                                    const float* b, float* z, float* y, int32_t* winners) {
  if (g.co % 16 == 0) {
    if (no_padding(g))
      conv_relu_image<16, true>(g, off, x, f, b, z);
    else
      conv_relu_image<16, false>(g, off, x, f, b, z);
    pool_image<16>(g, z, y, winners);
  } else {
    conv_relu_image<1, false>(g, off, x, f, b, z);
    pool_image<1>(g, z, y, winners);
  }
}

STRATA_CLONES void backward_image(const ConvPoolGeometry& g, const int64_t* off, const float* x, const float* y,
                                     const float* dy, const int32_t* winners, float* df, float* db) {
  if (g.co % 16 == 0 && no_padding(g))
    filter_bias_grad_image<16, true>(g, off, x, y, dy, winners, df, db);
  else if (g.co % 16 == 0)
    filter_bias_grad_image<16, false>(g, off, x, y, dy, winners, df, db);
  else
    filter_bias_grad_image<1, false>(g, off, x, y, dy, winners, df, db);
}

// Images split into one contiguous block per thread (fixed for a thread count, so sums repeat).
template <typename F>
void for_image_blocks(int64_t n, F&& f) {
  const int threads = static_cast<int>(std::min<int64_t>(n, omp_get_max_threads()));
  if (threads <= 1) {
    f(int64_t{0}, n, 0);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num(), t = omp_get_num_threads();
    f(n * tid / t, n * (tid + 1) / t, tid);
  }
}

}  // namespace

// convReluMaxPool → the pooled [n, poh, pow, co]; with keepIndices the winners ride on the
// output buffer (Buffer::attachment) as maxPool keeps them.
Napi::Value calls::convReluMaxPool(Napi::Env env, const ConvReluMaxPoolArgs& args) {
  const float* x = data_of<float>(args.x);
  const float* f = data_of<float>(args.filter);
  const float* b = data_of<float>(args.bias);
  const ConvPoolGeometry g = geometry_of(args.conv_geometry, args.pool_window);
  const bool keep = args.keep_indices;
  const std::vector<int64_t> off = tap_offsets(g);
  const int64_t pooled = g.poh * g.pow * g.co;
  Buffer* yb;
  Napi::Value out = new_buffer(env, g.n * pooled * 4, &yb);
  float* y = static_cast<float*>(yb->data);
  if (keep) yb->attachment = new_attachment(g.n * pooled * sizeof(int32_t));
  int32_t* winners = keep ? static_cast<int32_t*>(yb->attachment->data) : nullptr;
  for_image_blocks(g.n, [&](int64_t first, int64_t last, int) {
    std::vector<float> z(g.oh * g.ow * g.co);
    for (int64_t k = first; k < last; k++)
      forward_image(g, off.data(), x + k * g.h * g.w * g.c, f, b, z.data(), y + k * pooled, winners ? winners + k * pooled : nullptr);
  });
  return out;
}

// convReluMaxPoolGrad → flat [dfilter (kh·kw·c·co) | dbias (co)]. y is the
// forward output with its winners; dy reaches each window's winner where y > 0 (the ReLU's mask:
// a window's maximum is positive exactly when its winner's ReLU passed it).
Napi::Value calls::convReluMaxPoolGrad(Napi::Env env, const ConvReluMaxPoolGradArgs& args) {
  const float* x = data_of<float>(args.x);
  const float* dy = data_of<float>(args.dy);
  const Buffer* yb = args.y;
  if (!yb->attachment) throw Napi::Error::New(env, "convReluMaxPoolGrad: the forward output kept no winners (keepIndices was off)");
  const float* y = static_cast<const float*>(yb->data);
  const int32_t* winners = static_cast<const int32_t*>(yb->attachment->data);
  const ConvPoolGeometry g = geometry_of(args.conv_geometry, args.pool_window);
  const int64_t pooled = g.poh * g.pow * g.co, fsize = g.kh * g.kw * g.c * g.co;
  const std::vector<int64_t> off = tap_offsets(g);
  Buffer* ob;
  Napi::Value out = new_buffer(env, (fsize + g.co) * 4, &ob);
  float* grads = static_cast<float*>(ob->data);
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(g.n, omp_get_max_threads())));
  std::vector<float> partial(threads * (fsize + g.co), 0.f);
  for_image_blocks(g.n, [&](int64_t first, int64_t last, int tid) {
    float* df = partial.data() + tid * (fsize + g.co);
    float* db = df + fsize;
    for (int64_t k = first; k < last; k++)
      backward_image(g, off.data(), x + k * g.h * g.w * g.c, y + k * pooled, dy + k * pooled, winners + k * pooled, df, db);
  });
  for (int64_t i = 0; i < fsize + g.co; i++) {
    float s = 0.f;
    for (int t = 0; t < threads; t++) s += partial[t * (fsize + g.co) + i];
    grads[i] = s;
  }
  return out;
}

}  // namespace strata
