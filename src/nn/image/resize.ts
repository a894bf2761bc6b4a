// Resizing: tfjs's resizeBilinear / resizeNearestNeighbor (alignCorners, halfPixelCenters),
// cropAndResize, and Keras 3's resize. Resizes are separable: one gather of rows along each
// axis and a blend, so gradients reach the image through gather's rule.

import { ValueError, fmtValue } from '../../core/errors.js';
import { checkKeys, checkOneOf } from '../../core/options.js';
import { add, mul } from '../../ops/elementwise.js';
import type { TensorInput } from '../../ops/operand.js';
import { gather, pad, slice } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { INTERPOLATIONS, aspectCropBox, resizeImages, type Interpolation } from '../image-sampling.js';
import { TapTable, fromBatch, hostInts, hostValues, sizePair, toBatch, toFirst, toLast, dataFormatOf, type ImageDataFormat } from './common.js';

/** Where output index i along one axis reads: neighbours lo and hi and the weight of hi. */
interface AxisSamples {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float64Array;
}

/** TF's source coordinate of output index i for a resize from `from` to `to` pixels. */
function scaleOf(from: number, to: number, alignCorners: boolean): number {
  return alignCorners && to > 1 ? (from - 1) / (to - 1) : from / to;
}

function bilinearSamples(from: number, to: number, alignCorners: boolean, halfPixel: boolean): AxisSamples {
  const scale = scaleOf(from, to, alignCorners);
  const lo = new Int32Array(to),
    hi = new Int32Array(to),
    frac = new Float64Array(to);
  for (let i = 0; i < to; i++) {
    const src = halfPixel ? (i + 0.5) * scale - 0.5 : i * scale;
    // TF clamps both neighbours into the image; a source before the first pixel reads it alone.
    const floor = Math.floor(src);
    lo[i] = Math.min(Math.max(floor, 0), from - 1);
    hi[i] = Math.min(Math.max(Math.ceil(src), 0), from - 1);
    frac[i] = lo[i] === hi[i] ? 0 : src - floor;
  }
  return { lo, hi, frac };
}

function nearestSamples(from: number, to: number, alignCorners: boolean, halfPixel: boolean): AxisSamples {
  const scale = scaleOf(from, to, alignCorners);
  const lo = new Int32Array(to);
  for (let i = 0; i < to; i++) {
    const src = halfPixel ? (i + 0.5) * scale : i * scale;
    // alignCorners rounds (halves up, as tfjs's Math.round); otherwise the pixel the source lies in.
    const k = alignCorners ? Math.round(src) : Math.floor(src);
    lo[i] = Math.max(Math.min(k, from - 1), 0);
  }
  return { lo, hi: lo, frac: new Float64Array(to) };
}

/** Resamples axis 1 (height) or 2 (width) of NHWC images through per-index samples. */
function resampleAxis(x: Tensor, axis: 1 | 2, s: AxisSamples, nearest: boolean): Tensor {
  const to = s.lo.length;
  const lower = gather(x, tensor(s.lo, [to], 'int32'), axis);
  if (nearest) return lower;
  const upper = gather(x, tensor(s.hi, [to], 'int32'), axis);
  const shape = axis === 1 ? [1, to, 1, 1] : [1, 1, to, 1];
  return add(
    mul(
      lower,
      tensor(
        s.frac.map((f) => 1 - f),
        shape,
        x.dtype,
      ),
    ),
    mul(upper, tensor(s.frac, shape, x.dtype)),
  );
}

function tfResize(
  op: string,
  input: TensorInput,
  size: [number, number],
  alignCorners: boolean,
  halfPixelCenters: boolean,
  nearest: boolean,
): Tensor {
  const [height, width] = sizePair(op, 'size', size);
  if (alignCorners && halfPixelCenters) throw new ValueError(`${op}: alignCorners and halfPixelCenters cannot both be true`);
  const { images, single } = toBatch(op, input);
  const [, h, w] = images.shape;
  const samples = nearest ? nearestSamples : bilinearSamples;
  const rows = resampleAxis(images, 1, samples(h, height, alignCorners, halfPixelCenters), nearest);
  return fromBatch(resampleAxis(rows, 2, samples(w, width, alignCorners, halfPixelCenters), nearest), single);
}

/**
 * Bilinear resize of [H, W, C] or [N, H, W, C] images to `size` = [height, width] (tfjs's
 * `tf.image.resizeBilinear`). By default output pixel i reads source i·in/out; `alignCorners`
 * maps the corner pixels onto each other (scale (in − 1)/(out − 1)); `halfPixelCenters` reads
 * (i + 0.5)·in/out − 0.5 (TF 2's `tf.image.resize`, PyTorch's align_corners=False).
 * Differentiable with respect to the images.
 */
export function resizeBilinear(images: TensorInput, size: [number, number], alignCorners = false, halfPixelCenters = false): Tensor {
  return tfResize('image.resizeBilinear', images, size, alignCorners, halfPixelCenters, false);
}

/**
 * Nearest-neighbour resize (tfjs's `tf.image.resizeNearestNeighbor`): the source pixel is
 * floor(i·in/out), or round((in − 1)/(out − 1)·i) with `alignCorners`, or floor((i + 0.5)·in/out)
 * with `halfPixelCenters`. Differentiable with respect to the images (each output pixel is a copy).
 */
export function resizeNearestNeighbor(images: TensorInput, size: [number, number], alignCorners = false, halfPixelCenters = false): Tensor {
  return tfResize('image.resizeNearestNeighbor', images, size, alignCorners, halfPixelCenters, true);
}

/**
 * Crops boxes out of a batch of images and resizes each to `cropSize` (tfjs's
 * `tf.image.cropAndResize`). `boxes` [numBoxes, 4] holds normalized [y1, x1, y2, x2] (1 is the
 * last pixel; y1 > y2 flips the crop); `boxInd` [numBoxes] the image of each box. Samples outside
 * the image take `extrapolationValue`. Returns [numBoxes, cropHeight, cropWidth, C].
 * Differentiable with respect to the image (boxes are read on the host, so they have no gradient
 * and must be readable synchronously: arrays, or tensors on a CPU backend).
 */
export function cropAndResize(
  image: TensorInput,
  boxes: TensorInput,
  boxInd: TensorInput,
  cropSize: [number, number],
  method: 'bilinear' | 'nearest' = 'bilinear',
  extrapolationValue = 0,
): Tensor {
  const op = 'image.cropAndResize';
  const { images, single } = toBatch(op, image, 'image');
  if (single) throw new ValueError(`${op}: image must have rank 4 ([batch, height, width, channels])`);
  const [ch, cw] = sizePair(op, 'cropSize', cropSize);
  checkOneOf(op, 'method', method, ['bilinear', 'nearest']);
  const { values: b, rows: numBoxes } = hostValues(op, 'boxes', boxes, 4);
  const ind = hostInts(op, 'boxInd', boxInd, numBoxes);
  const [n, h, w, c] = images.shape;
  const bilinear = method === 'bilinear';
  const table = new TapTable(bilinear ? 4 : 1, numBoxes * ch * cw, h, w);
  // The source row (column) of output index i: spread evenly between the box's edges, or the
  // box's centre for a crop one pixel high (wide).
  const along = (lo: number, hi: number, len: number, out: number, i: number) =>
    out > 1 ? lo * (len - 1) + (i * (hi - lo) * (len - 1)) / (out - 1) : 0.5 * (lo + hi) * (len - 1);
  for (let k = 0; k < numBoxes; k++) {
    const [y1, x1, y2, x2] = b.subarray(4 * k, 4 * k + 4);
    const img = ind[k];
    if (img < 0 || img >= n) throw new ValueError(`${op}: boxInd[${k}] must be in [0, ${n}); received ${img}`);
    for (let i = 0; i < ch; i++) {
      const y = along(y1, y2, h, ch, i);
      for (let j = 0; j < cw; j++) {
        const p = (k * ch + i) * cw + j;
        const x = along(x1, x2, w, cw, j);
        if (y < 0 || y > h - 1 || x < 0 || x > w - 1) {
          table.putFill(p);
        } else if (!bilinear) {
          table.put(0, p, img, Math.round(y), Math.round(x), 1);
        } else {
          const t = Math.floor(y),
            l = Math.floor(x);
          const fy = y - t,
            fx = x - l;
          // Ceil, not floor + 1: a source on the last row (column) reads it alone.
          const bt = Math.ceil(y),
            r = Math.ceil(x);
          table.put(0, p, img, t, l, (1 - fy) * (1 - fx));
          table.put(1, p, img, t, r, (1 - fy) * fx);
          table.put(2, p, img, bt, l, fy * (1 - fx));
          table.put(3, p, img, bt, r, fy * fx);
        }
      }
    }
  }
  return table.sample(images, [numBoxes, ch, cw, c], extrapolationValue);
}

/** Options of `st.image.resize` (Keras 3's keras.ops.image.resize). */
export interface ResizeOptions {
  /** 'bilinear' (default) or 'nearest', with half-pixel centres and no antialiasing. */
  interpolation?: Interpolation;
  /** Cut the largest centred window of the target aspect ratio first, so nothing is stretched. */
  cropToAspectRatio?: boolean;
  /** Pad (centred, with fillValue) to the target aspect ratio first, so nothing is stretched. */
  padToAspectRatio?: boolean;
  /** The value of the padding of padToAspectRatio (default 0). */
  fillValue?: number;
  /** 'channels_last' (default) or 'channels_first'. */
  dataFormat?: ImageDataFormat;
}

/**
 * Resizes images to `size` = [height, width] as Keras 3's `keras.ops.image.resize` (TF's
 * resize: half-pixel centres, no antialiasing), through the preprocessing layers' resampler.
 * Accepts [H, W, C] or [N, H, W, C] (or channels-first with dataFormat). Differentiable.
 */
export function resize(images: TensorInput, size: [number, number], options: ResizeOptions = {}): Tensor {
  const op = 'image.resize';
  checkKeys(op, options, ['interpolation', 'cropToAspectRatio', 'padToAspectRatio', 'fillValue', 'dataFormat']);
  const [height, width] = sizePair(op, 'size', size);
  const interpolation = checkOneOf(op, 'interpolation', options.interpolation ?? 'bilinear', INTERPOLATIONS);
  const dataFormat = dataFormatOf(op, options.dataFormat);
  if (options.cropToAspectRatio && options.padToAspectRatio)
    throw new ValueError(`${op}: cropToAspectRatio and padToAspectRatio cannot both be true`);
  const fillValue = options.fillValue ?? 0;
  if (typeof fillValue !== 'number') throw new ValueError(`${op}: fillValue must be a number; received ${fmtValue(fillValue)}`);
  const { images: batch, single } = toBatch(op, dataFormat === 'channels_first' ? toLast(op, images) : images);
  let x = batch;
  const [n, h, w, c] = x.shape;
  if (options.cropToAspectRatio) {
    const [top, left, chh, cww] = aspectCropBox(h, w, height, width);
    if (chh !== h || cww !== w) x = slice(x, [0, top, left, 0], [n, chh, cww, c]);
  } else if (options.padToAspectRatio) {
    const ph = Math.max(h, Math.trunc((w * height) / width)),
      pw = Math.max(w, Math.trunc((h * width) / height));
    const top = Math.trunc((ph - h) / 2),
      left = Math.trunc((pw - w) / 2);
    // Keras pads the same amount on both sides (an odd surplus loses its last row or column).
    if (ph !== h || pw !== w)
      x = pad(
        x,
        [
          [0, 0],
          [top, top],
          [left, left],
          [0, 0],
        ],
        fillValue,
      );
  }
  const out = fromBatch(resizeImages(x, height, width, interpolation), single);
  return dataFormat === 'channels_first' ? toFirst(out) : out;
}
