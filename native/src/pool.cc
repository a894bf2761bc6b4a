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

}  // namespace

// maxPool: with keepIndices (the
// forward pass of a recorded graph) the winner of each output, as its pixel index ih·w + iw in
// the image, rides on the output buffer (Buffer::attachment) for maxPoolGrad, which then need
// not read x again (Note [Max pooling keeps its winners]).
Napi::Value calls::maxPool(Napi::Env env, const MaxPoolArgs& args) {
  const float* x = data_of<float>(args.x);
  const PoolGeometry g = geometry_of(args.pool_geometry);
  const bool keep = args.keep_indices;
  Buffer* yb;
  Napi::Value out = new_buffer(env, g.n * g.oh * g.ow * g.c * 4, &yb);
  float* y = static_cast<float*>(yb->data);
  if (keep) yb->attachment = new_attachment(g.n * g.oh * g.ow * g.c * sizeof(int32_t));
  int32_t* winners = keep ? static_cast<int32_t*>(yb->attachment->data) : nullptr;
  for_each_pooled_pixel(g, y, [&](int64_t b, const Window& w, float* yo) {
    for (int64_t k = 0; k < g.c; k++) yo[k] = -INFINITY;
    if (!winners) {
      for (int64_t ih = w.h0; ih < w.h1; ih++)
        for (int64_t iw = w.w0; iw < w.w1; iw++) {
          const float* xt = x + ((b * g.h + ih) * g.w + iw) * g.c;
          for (int64_t k = 0; k < g.c; k++) yo[k] = max_nan(yo[k], xt[k]);
        }
      return;
    }
    // The same choice as max_nan (the first NaN, else the first strict maximum), with its index.
    int32_t* __restrict wo = winners + (yo - y);
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
  });
  return out;
}

// maxPoolGrad: dy goes to the first
// maximum of each window (in row-major tap order), as in the reference backend; with reluMasked
// only where that maximum is positive (Note [Gradients already masked by a ReLU] in
// src/ops/relu-masked-grads.ts).
Napi::Value calls::maxPoolGrad(Napi::Env env, const MaxPoolGradArgs& args) {
  const float* dy = data_of<float>(args.dy);
  const PoolGeometry g = geometry_of(args.pool_geometry);
  const bool relu_masked = args.relu_masked;
  Buffer* yb;
  Napi::Value out = new_buffer(env, g.n * g.h * g.w * g.c * 4, &yb, true);
  float* dx = static_cast<float*>(yb->data);
  // The forward output, when given and it kept its winners: scatter dy to them directly.
  const Buffer* fwd = args.y;
  if (fwd && fwd->attachment) {
    const int32_t* winners = static_cast<const int32_t*>(fwd->attachment->data);
    const float* y = static_cast<const float*>(fwd->data);
    parallel_for(g.n, g.n > 1 && g.n * g.h * g.w * g.c > (1 << 15), [&](int64_t b) {
      float* dxb = dx + b * g.h * g.w * g.c;
      const int64_t first = b * g.oh * g.ow * g.c, last = first + g.oh * g.ow * g.c;
      for (int64_t o = first; o < last; o += g.c)
        for (int64_t k = 0; k < g.c; k++) dxb[winners[o + k] * g.c + k] += relu_masked && !(y[o + k] > 0) ? 0.f : dy[o + k];
    });
    return out;
  }
  const float* x = data_of<float>(args.x);
  // Overlapping windows add into the same pixels, so each image is one serial task.
  parallel_for(g.n, g.n > 1 && g.n * g.h * g.w * g.c > (1 << 15), [&](int64_t b) {
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
