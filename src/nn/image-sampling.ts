// Image resampling for the preprocessing and augmentation layers, as tensor ops.
//
// Note [Sampling by gather]
// Every geometric layer (flip, crop, rotation, translation, zoom, resize) moves pixels: each
// output pixel is a weighted sum of at most four input pixels. The host computes, per call, only
// the *indices* and *weights* (O(pixels), from a handful of random numbers per image); the pixel
// data never leaves the backend: one `gather` of rows of x viewed as [N·H·W, C], a multiply by
// the weights and a sum over the taps. So the layers run on every backend, and gradients reach
// the input through gather's rule (a scatterAdd) with no code of ours.
//
// Coordinates follow Keras 3: pixel centres at integers, and an affine map per image from output
// (x, y) to input (a0·x + a1·y + a2, b0·x + b1·y + b2) (Keras's transform rows without the
// projective terms). Bilinear interpolation reads the four integer neighbours and maps each one
// into the image by the fill mode (Keras's JAX/NumPy/torch backends do this per neighbour; TF's
// ImageProjectiveTransform maps the continuous coordinate instead, which only differs for 'wrap'
// in the strip between the last and the first pixel).

import { ValueError } from '../core/errors.js';
import { add, mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduction.js';
import { gather, reshape } from '../ops/shape-ops.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
// One rule for where samples outside the image come from (Keras's fill modes), shared with the
// data pipeline's host-side augmentation.
import { fillIndex } from '../data/image-pixels.js';
import type { FillMode } from '../data/image-types.js';

export { fillIndex, type FillMode };
/** @inline */
export type Interpolation = 'bilinear' | 'nearest';
export const FILL_MODES: readonly FillMode[] = ['reflect', 'wrap', 'constant', 'nearest'];
export const INTERPOLATIONS: readonly Interpolation[] = ['bilinear', 'nearest'];

/** One image's map from output pixel (x, y) to input coordinates: [a0, a1, a2, b0, b1, b2]. */
export type AffineRow = readonly [number, number, number, number, number, number];

export interface SampleOptions {
  fillMode: FillMode;
  interpolation: Interpolation;
  /** The value of outside pixels with fillMode 'constant'. */
  fillValue: number;
}

/** Round half to even, as NumPy's and JAX's round (Keras's nearest interpolation). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Rearranges pixels by a flat index per output pixel into x viewed as [N·H·W, C]: exact (no arithmetic). */
export function gatherPixels(x: Tensor, rows: Int32Array, outShape: readonly number[]): Tensor {
  const [n, h, w, c] = x.shape;
  const flat = reshape(x, [n * h * w, c]);
  return reshape(gather(flat, tensor(rows, [rows.length], 'int32')), outShape);
}

/**
 * Samples each image of x [N, H, W, C] through its affine row (output (x, y) ← input
 * (a0x + a1y + a2, b0x + b1y + b2)), with bilinear or nearest interpolation and Keras's fill
 * modes. The output has the input's shape. See Note [Sampling by gather].
 */
export function transformImages(x: Tensor, transforms: readonly AffineRow[], options: SampleOptions): Tensor {
  const [n, h, w, c] = x.shape;
  if (transforms.length !== n) throw new ValueError(`transformImages: expected ${n} transforms (one per image); received ${transforms.length}`);
  const pixels = n * h * w;
  const taps = options.interpolation === 'bilinear' ? 4 : 1;
  const t: Taps = {
    rows: new Int32Array(taps * pixels),
    weights: new Float64Array(taps * pixels),
    outside: options.fillMode === 'constant' ? new Float64Array(pixels) : null,
    h,
    w,
    mode: options.fillMode,
  };
  for (let b = 0; b < n; b++) {
    const [a0, a1, a2, b0, b1, b2] = transforms[b];
    const base = b * h * w;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const p = base + i * w + j;
        const sx = a0 * j + a1 * i + a2,
          sy = b0 * j + b1 * i + b2;
        if (taps === 1) {
          putTap(t, p, p, base, roundHalfEven(sy), roundHalfEven(sx), 1);
          continue;
        }
        const y0 = Math.floor(sy),
          x0 = Math.floor(sx);
        const fy = sy - y0,
          fx = sx - x0;
        putTap(t, p, p, base, y0, x0, (1 - fy) * (1 - fx));
        putTap(t, pixels + p, p, base, y0, x0 + 1, (1 - fy) * fx);
        putTap(t, 2 * pixels + p, p, base, y0 + 1, x0, fy * (1 - fx));
        putTap(t, 3 * pixels + p, p, base, y0 + 1, x0 + 1, fy * fx);
      }
    }
  }

  const flat = reshape(x, [pixels, c]);
  const taken = reshape(gather(flat, tensor(t.rows, [t.rows.length], 'int32')), [taps, pixels, c]);
  let out = sum(mul(taken, tensor(t.weights, [taps, pixels, 1], x.dtype)), 0);
  if (t.outside && options.fillValue !== 0 && t.outside.some((v) => v !== 0)) {
    out = add(
      out,
      tensor(
        t.outside.map((v) => v * options.fillValue),
        [pixels, 1],
        x.dtype,
      ),
    );
  }
  return reshape(out, [n, h, w, c]);
}

/** The index and weight tables of a resampling, filled tap by tap. */
interface Taps {
  rows: Int32Array;
  weights: Float64Array;
  /** Per output pixel, the weight of taps that fell outside the image ('constant' only). */
  outside: Float64Array | null;
  h: number;
  w: number;
  mode: FillMode;
}

/** Records tap `at` of output pixel p: input pixel (yi, xi) of the image starting at row `base`. */
function putTap(t: Taps, at: number, p: number, base: number, yi: number, xi: number, weight: number): void {
  const r = fillIndex(yi, t.h, t.mode),
    q = fillIndex(xi, t.w, t.mode);
  if (r < 0 || q < 0) {
    // Gather any valid row; its weight moves to the fill value.
    t.rows[at] = base;
    t.outside![p] += weight;
  } else {
    t.rows[at] = base + r * t.w + q;
    t.weights[at] = weight;
  }
}

/** Source positions along one axis for a resize from `from` to `to` pixels (TF's half-pixel centres). */
function axisSamples(from: number, to: number, interpolation: Interpolation): { lo: Int32Array; hi: Int32Array; frac: Float64Array } {
  const lo = new Int32Array(to),
    hi = new Int32Array(to),
    frac = new Float64Array(to);
  const scale = from / to;
  for (let i = 0; i < to; i++) {
    if (interpolation === 'nearest') {
      // TF's nearest with half-pixel centres: floor((i + 0.5)·scale), clamped to the last pixel.
      lo[i] = hi[i] = Math.min(Math.floor((i + 0.5) * scale), from - 1);
      continue;
    }
    // Bilinear: (i + 0.5)·scale − 0.5, clamped into the image (TF clamps the two neighbours).
    const src = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), from - 1);
    lo[i] = Math.floor(src);
    hi[i] = Math.min(lo[i] + 1, from - 1);
    frac[i] = src - lo[i];
  }
  return { lo, hi, frac };
}

/** Resizes along one spatial axis (1 = height, 2 = width) of [N, H, W, C]. */
function resizeAxis(x: Tensor, axis: 1 | 2, to: number, interpolation: Interpolation): Tensor {
  const from = x.shape[axis];
  if (from === to) return x;
  const { lo, hi, frac } = axisSamples(from, to, interpolation);
  const lower = gather(x, tensor(lo, [to], 'int32'), axis);
  if (interpolation === 'nearest') return lower;
  const upper = gather(x, tensor(hi, [to], 'int32'), axis);
  const shape = axis === 1 ? [1, to, 1, 1] : [1, 1, to, 1];
  const f = tensor(frac, shape, x.dtype);
  const g = tensor(
    frac.map((v) => 1 - v),
    shape,
    x.dtype,
  );
  return add(mul(lower, g), mul(upper, f));
}

/**
 * Resizes [N, H, W, C] to [N, height, width, C] as TF's resize without antialiasing (Keras 3's
 * default): bilinear or nearest with half-pixel centres. Separable, so two small gathers.
 */
export function resizeImages(x: Tensor, height: number, width: number, interpolation: Interpolation): Tensor {
  return resizeAxis(resizeAxis(x, 1, height, interpolation), 2, width, interpolation);
}

/**
 * The largest centred window of an H x W image with the aspect ratio of height x width (Keras's
 * crop_to_aspect_ratio and smart_resize): [top, left, cropHeight, cropWidth].
 */
export function aspectCropBox(h: number, w: number, height: number, width: number): [number, number, number, number] {
  const ch = Math.max(Math.min(h, Math.trunc((w * height) / width)), 1);
  const cw = Math.max(Math.min(w, Math.trunc((h * width) / height)), 1);
  return [Math.trunc((h - ch) / 2), Math.trunc((w - cw) / 2), ch, cw];
}
