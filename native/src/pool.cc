// Max and average pooling over NHWC windows and their gradients. The innermost loop runs over
// channels, contiguous in NHWC. Windows never read padding: max pooling ignores padded pixels
// and average pooling divides by the number of real pixels (TensorFlow's behaviour); the max
// gradient goes to the first maximum of each window, as in the reference backend.
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"

namespace strata {
namespace {

struct PoolGeometry {
  int64_t n, h, w, c, oh, ow, ph, pw, sh, sw, top, left;
};

// Pads are [top, bottom, left, right].
PoolGeometry geometry_of(const PoolGeometryArgs& a) {
  const Shape &xs = a.x_shape, &pool = a.pool_size, &st = a.strides, &pads = a.pads;
  return {xs[0], xs[1], xs[2], xs[3], a.out_h, a.out_w, pool[0], pool[1], st[0], st[1], pads[0], pads[2]};
}

// The window of output pixel (i, j) clipped to the image: rows [h0, h1), columns [w0, w1).
struct Window {
  int64_t h0, h1, w0, w1;
};

inline Window window_at(const PoolGeometry& g, int64_t i, int64_t j) {
  const int64_t hs = i * g.sh - g.top, ws = j * g.sw - g.left;
  return {std::max<int64_t>(hs, 0), std::min(hs + g.ph, g.h), std::max<int64_t>(ws, 0), std::min(ws + g.pw, g.w)};
}

// NaN-propagating maximum without branches, so the channel loops vectorize.
inline float max_nan(float m, float v) { return (m != m) ? m : ((v > m || v != v) ? v : m); }

// The forward passes: f(image, window, output row) for every pooled pixel, rows across threads.
template <typename F>
void for_each_pooled_pixel(const PoolGeometry& g, float* y, F&& f) {
  parallel_for(g.n * g.oh, g.n * g.oh * g.ow * g.c > (1 << 15), [&](int64_t row) {
    const int64_t b = row / g.oh, i = row % g.oh;
    for (int64_t j = 0; j < g.ow; j++) f(b, window_at(g, i, j), y + ((b * g.oh + i) * g.ow + j) * g.c);
  });
}

// The max of each window of output row (b, i), NaN-propagating (max_nan); with `winners`, also
// the winning pixel ih*w + iw of each output (the first NaN, else the first strict maximum, as
// max_nan picks). Cloned for wide vectors: the channel loops select without branches.
STRATA_CLONES void max_pool_row(const PoolGeometry& g, const float* __restrict x, int64_t b, int64_t i, float* __restrict yrow,
                                int32_t* __restrict wrow) {
  for (int64_t j = 0; j < g.ow; j++) {
    const Window w = window_at(g, i, j);
    float* __restrict yo = yrow + j * g.c;
    for (int64_t k = 0; k < g.c; k++) yo[k] = -INFINITY;
    if (!wrow) {
      for (int64_t ih = w.h0; ih < w.h1; ih++)
        for (int64_t iw = w.w0; iw < w.w1; iw++) {
          const float* __restrict xt = x + ((b * g.h + ih) * g.w + iw) * g.c;
          for (int64_t k = 0; k < g.c; k++) yo[k] = max_nan(yo[k], xt[k]);
        }
      continue;
    }
    int32_t* __restrict wo = wrow + j * g.c;
    for (int64_t k = 0; k < g.c; k++) wo[k] = static_cast<int32_t>(w.h0 * g.w + w.w0);
    for (int64_t ih = w.h0; ih < w.h1; ih++)
      for (int64_t iw = w.w0; iw < w.w1; iw++) {
        const float* __restrict xt = x + ((b * g.h + ih) * g.w + iw) * g.c;
        const int32_t pixel = static_cast<int32_t>(ih * g.w + iw);
        for (int64_t k = 0; k < g.c; k++) {
          const float v = xt[k], m = yo[k];
          const bool better = (v > m) | ((v != v) & (m == m));
          yo[k] = better ? v : m;
          wo[k] = better ? pixel : wo[k];
        }
      }
  }
}

// Note [Max pooling gradient without a scatter]
// With its winners kept, the gradient of a max pool is dy scattered to them, into a dx zeroed
// first. When windows do not overlap (strides at least the pool size, the usual 2x2 / 2 pool),
// every input pixel lies in at most one window, so dx can instead be written once, in order:
// output row i owns a band of input rows (from its window's first row to the next window's), and
// each pixel of the band is dy where it won its window and 0 elsewhere, gaps and edges included.
// That skips the zero fill and the scattered read-modify-writes: for the Keras-book convnet's
// second pool ([64, 11, 11, 64], 2 threads, AMD EPYC host, old and new builds alternating in a
// training step) the gradient took 0.27-0.35 ms the old way and 0.07-0.09 ms this way, and the
// forward pass 0.12-0.17 ms before its loops were cloned for AVX-512 and 0.08-0.10 ms after.
inline bool windows_overlap(const PoolGeometry& g) { return g.sh < g.ph || g.sw < g.pw; }

// The first input row of output row i's band: 0 for the first row, else its window's first row.
inline int64_t band_start(const PoolGeometry& g, int64_t i) { return i == 0 ? 0 : std::clamp<int64_t>(i * g.sh - g.top, 0, g.h); }

// dx over the band of output row (b, i) (Note [Max pooling gradient without a scatter]).
STRATA_CLONES void max_pool_grad_band(const PoolGeometry& g, const float* __restrict dy, const float* __restrict y,
                                      const int32_t* __restrict winners, bool relu_masked, int64_t b, int64_t i, float* __restrict dx) {
  const int64_t r0 = band_start(g, i), r1 = i + 1 == g.oh ? g.h : band_start(g, i + 1);
  const int64_t wh0 = i * g.sh - g.top;  // rows [wh0, wh0 + ph) are the window's
  const int64_t orow = (b * g.oh + i) * g.ow;
  for (int64_t ih = r0; ih < r1; ih++) {
    float* __restrict dxr = dx + (b * g.h + ih) * g.w * g.c;
    const bool in_window_rows = ih >= wh0 && ih < wh0 + g.ph;
    for (int64_t iw = 0; iw < g.w; iw++) {
      float* __restrict d = dxr + iw * g.c;
      // The window whose columns hold iw, if any (stride >= pool: at most one).
      const int64_t shifted = iw + g.left;
      const int64_t j = shifted / g.sw;
      const bool covered = in_window_rows && j < g.ow && shifted - j * g.sw < g.pw;
      if (!covered) {
        for (int64_t k = 0; k < g.c; k++) d[k] = 0.f;
        continue;
      }
      const int64_t o = (orow + j) * g.c;
      const int32_t pixel = static_cast<int32_t>(ih * g.w + iw);
      const int32_t* __restrict wo = winners + o;
      const float* __restrict dyo = dy + o;
      const float* __restrict yo = y + o;
      for (int64_t k = 0; k < g.c; k++) {
        const bool pass = (wo[k] == pixel) & !(relu_masked & !(yo[k] > 0));
        d[k] = pass ? dyo[k] : 0.f;
      }
    }
  }
}

}  // namespace

// maxPool: with keepIndices (the forward pass of a recorded graph) the winner of each output, as
// its pixel index ih·w + iw in the image, rides on the output buffer (Buffer::attachment) for
// maxPoolGrad, which then need not read x again (Note [Max pooling keeps its winners] in
// src/ops/pool.ts).
Napi::Value calls::maxPool(Napi::Env env, const MaxPoolArgs& args) {
  const float* x = data_of<float>(args.x);
  const PoolGeometry g = geometry_of(args.pool_geometry);
  const bool keep = args.keep_indices;
  Buffer* yb;
  Napi::Value out = new_buffer(env, g.n * g.oh * g.ow * g.c * 4, &yb);
  float* y = static_cast<float*>(yb->data);
  if (keep) yb->attachment = new_attachment(g.n * g.oh * g.ow * g.c * sizeof(int32_t));
  int32_t* winners = keep ? static_cast<int32_t*>(yb->attachment->data) : nullptr;
  const int64_t row = g.ow * g.c;
  parallel_for(g.n * g.oh, g.n * g.oh * row > (1 << 15), [&](int64_t r) {
    max_pool_row(g, x, r / g.oh, r % g.oh, y + r * row, winners ? winners + r * row : nullptr);
  });
  return out;
}

// maxPoolGrad: dy goes to the first maximum of each window (in row-major tap order), as in the
// reference backend; with reluMasked only where that maximum is positive (Note [Gradients already
// masked by a ReLU] in src/ops/relu-masked-grads.ts).
Napi::Value calls::maxPoolGrad(Napi::Env env, const MaxPoolGradArgs& args) {
  const float* dy = data_of<float>(args.dy);
  const PoolGeometry g = geometry_of(args.pool_geometry);
  const bool relu_masked = args.relu_masked;
  // The forward output, when given and it kept its winners: dy goes to them directly.
  const Buffer* fwd = args.y;
  const bool winners_kept = fwd && fwd->attachment;
  const bool written_once = winners_kept && !windows_overlap(g);
  Buffer* yb;
  Napi::Value out = new_buffer(env, g.n * g.h * g.w * g.c * 4, &yb, !written_once);
  float* dx = static_cast<float*>(yb->data);
  const bool big = g.n * g.h * g.w * g.c > (1 << 15);
  const int32_t* winners = winners_kept ? static_cast<const int32_t*>(fwd->attachment->data) : nullptr;
  const float* y = winners_kept ? static_cast<const float*>(fwd->data) : nullptr;
  if (written_once) {
    parallel_for(g.n * g.oh, big, [&](int64_t r) { max_pool_grad_band(g, dy, y, winners, relu_masked, r / g.oh, r % g.oh, dx); });
    return out;
  }
  if (winners_kept) {
    parallel_for(g.n, g.n > 1 && big, [&](int64_t b) {
      float* dxb = dx + b * g.h * g.w * g.c;
      const int64_t first = b * g.oh * g.ow * g.c, last = first + g.oh * g.ow * g.c;
      for (int64_t o = first; o < last; o += g.c)
        for (int64_t k = 0; k < g.c; k++) dxb[winners[o + k] * g.c + k] += relu_masked && !(y[o + k] > 0) ? 0.f : dy[o + k];
    });
    return out;
  }
  const float* x = data_of<float>(args.x);
  // Overlapping windows add into the same pixels, so each image is one serial task.
  parallel_for(g.n, g.n > 1 && big, [&](int64_t b) {
    std::vector<float> best_v(g.c);
    std::vector<int32_t> arg_v(g.c);
    float* __restrict best = best_v.data();
    int32_t* __restrict arg = arg_v.data();
    for (int64_t i = 0; i < g.oh; i++)
      for (int64_t j = 0; j < g.ow; j++) {
        const Window w = window_at(g, i, j);
        for (int64_t k = 0; k < g.c; k++) {
          best[k] = -INFINITY;
          arg[k] = 0;
        }
        // The winning tap per channel as a small integer, selected without branches (random
        // data would mispredict every other comparison) so the channel loop vectorizes.
        int32_t tap = 0;
        for (int64_t ih = w.h0; ih < w.h1; ih++)
          for (int64_t iw = w.w0; iw < w.w1; iw++, tap++) {
            const float* __restrict xt = x + ((b * g.h + ih) * g.w + iw) * g.c;
            for (int64_t k = 0; k < g.c; k++) {
              const float v = xt[k], m = best[k];
              const bool better = (v > m) | ((v != v) & (m == m));  // no short-circuit: no branches
              best[k] = better ? v : m;
              arg[k] = better ? tap : arg[k];
            }
          }
        const int64_t width = w.w1 - w.w0;
        const float* dyo = dy + ((b * g.oh + i) * g.ow + j) * g.c;
        for (int64_t k = 0; k < g.c; k++) {
          const int64_t ih = w.h0 + arg[k] / width, iw = w.w0 + arg[k] % width;
          dx[((b * g.h + ih) * g.w + iw) * g.c + k] += relu_masked && !(best[k] > 0) ? 0.f : dyo[k];
        }
      }
  });
  return out;
}

Napi::Value calls::avgPool(Napi::Env env, const AvgPoolArgs& args) {
  const float* x = data_of<float>(args.x);
  const PoolGeometry g = geometry_of(args.pool_geometry);
  Buffer* yb;
  Napi::Value out = new_buffer(env, g.n * g.oh * g.ow * g.c * 4, &yb);
  float* y = static_cast<float*>(yb->data);
  for_each_pooled_pixel(g, y, [&](int64_t b, const Window& w, float* yo) {
    for (int64_t k = 0; k < g.c; k++) yo[k] = 0;
    for (int64_t ih = w.h0; ih < w.h1; ih++)
      for (int64_t iw = w.w0; iw < w.w1; iw++) {
        const float* xt = x + ((b * g.h + ih) * g.w + iw) * g.c;
        for (int64_t k = 0; k < g.c; k++) yo[k] += xt[k];
      }
    const float inv = 1.f / static_cast<float>((w.h1 - w.h0) * (w.w1 - w.w0));
    for (int64_t k = 0; k < g.c; k++) yo[k] *= inv;
  });
  return out;
}

// avgPoolGrad: xShape is the input's shape.
Napi::Value calls::avgPoolGrad(Napi::Env env, const AvgPoolGradArgs& args) {
  const float* dy = data_of<float>(args.dy);
  const PoolGeometry g = geometry_of(args.pool_geometry);
  Buffer* yb;
  Napi::Value out = new_buffer(env, g.n * g.h * g.w * g.c * 4, &yb, true);
  float* dx = static_cast<float*>(yb->data);
  // Overlapping windows add into the same pixels, so each image is one serial task.
  parallel_for(g.n, g.n > 1 && g.n * g.h * g.w * g.c > (1 << 15), [&](int64_t b) {
    for (int64_t i = 0; i < g.oh; i++)
      for (int64_t j = 0; j < g.ow; j++) {
        const Window w = window_at(g, i, j);
        const float inv = 1.f / static_cast<float>((w.h1 - w.h0) * (w.w1 - w.w0));
        const float* src = dy + ((b * g.oh + i) * g.ow + j) * g.c;
        for (int64_t ih = w.h0; ih < w.h1; ih++)
          for (int64_t iw = w.w0; iw < w.w1; iw++) {
            float* dst = dx + ((b * g.h + ih) * g.w + iw) * g.c;
            for (int64_t k = 0; k < g.c; k++) dst[k] += src[k] * inv;
          }
      }
  });
  return out;
}

}  // namespace strata
