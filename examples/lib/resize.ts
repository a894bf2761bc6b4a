// Host-side image resizing for the super-resolution example's baselines: bicubic interpolation
// with Keys' cubic convolution kernel (R. Keys 1981, "Cubic convolution interpolation for digital
// image processing", a = -0.5, the choice that makes it third-order accurate: it reproduces
// quadratics exactly) and nearest neighbour. Pixel centres are aligned as in TensorFlow's
// resize with half_pixel_centers (output pixel i samples the input at (i + 0.5) / scale - 0.5);
// taps outside the image repeat the edge pixel.

/** Keys' cubic convolution kernel W(x) with parameter a (default -0.5). */
export function keysKernel(x: number, a = -0.5): number {
  const t = Math.abs(x);
  if (t <= 1) return (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1;
  if (t < 2) return a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a;
  return 0;
}

/** For each output index along an axis: the four input indices (edge-clamped) and their weights. */
export function cubicTaps(inLen: number, outLen: number, a = -0.5): { index: Int32Array; weight: Float64Array } {
  const index = new Int32Array(outLen * 4),
    weight = new Float64Array(outLen * 4);
  const scale = outLen / inLen;
  for (let o = 0; o < outLen; o++) {
    const src = (o + 0.5) / scale - 0.5;
    const base = Math.floor(src);
    for (let k = 0; k < 4; k++) {
      const i = base - 1 + k;
      index[o * 4 + k] = Math.min(Math.max(i, 0), inLen - 1);
      weight[o * 4 + k] = keysKernel(src - i, a);
    }
  }
  return { index, weight };
}

/**
 * Resizes a batch of single-channel images [n, h, w] (row-major in `pixels`) to [n, outH, outW]
 * with bicubic interpolation, separably: rows first, then columns. Values are not clipped (the
 * kernel's negative lobes overshoot at edges); clip afterwards if the range matters.
 */
export function bicubicResize(pixels: ArrayLike<number>, n: number, h: number, w: number, outH: number, outW: number, a = -0.5): Float32Array {
  const rows = cubicTaps(h, outH, a),
    cols = cubicTaps(w, outW, a);
  const out = new Float32Array(n * outH * outW);
  const across = new Float64Array(h * outW); // one image resized along its columns
  for (let img = 0; img < n; img++) {
    const src = img * h * w;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < outW; x++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += cols.weight[x * 4 + k] * pixels[src + y * w + cols.index[x * 4 + k]];
        across[y * outW + x] = v;
      }
    }
    const dst = img * outH * outW;
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += rows.weight[y * 4 + k] * across[rows.index[y * 4 + k] * outW + x];
        out[dst + y * outW + x] = v;
      }
    }
  }
  return out;
}

/** Nearest-neighbour upscaling of [n, h, w] images by an integer factor (each pixel becomes a block). */
export function nearestUpscale(pixels: ArrayLike<number>, n: number, h: number, w: number, factor: number): Float32Array {
  const outH = h * factor,
    outW = w * factor;
  const out = new Float32Array(n * outH * outW);
  for (let img = 0; img < n; img++) {
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        out[img * outH * outW + y * outW + x] = pixels[img * h * w + Math.floor(y / factor) * w + Math.floor(x / factor)];
      }
    }
  }
  return out;
}

/** Peak signal-to-noise ratio in dB of each image of `estimate` against `truth` (values in [0, 1]). */
export function psnrPerImage(estimate: ArrayLike<number>, truth: ArrayLike<number>, n: number): number[] {
  const size = truth.length / n;
  return Array.from({ length: n }, (_, img) => {
    let se = 0;
    for (let i = img * size; i < (img + 1) * size; i++) {
      const d = Math.min(Math.max(estimate[i], 0), 1) - truth[i];
      se += d * d;
    }
    return 10 * Math.log10(1 / Math.max(se / size, 1e-10));
  });
}
