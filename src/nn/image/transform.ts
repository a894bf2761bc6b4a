// Geometric transforms: tfjs's transform, rotateWithOffset and flipLeftRight, and Keras 3's
// affine_transform. tfjs's follow TensorFlow's ImageProjectiveTransform (the continuous source
// coordinate is mapped into the image by the fill mode, then interpolated, taps outside reading
// the fill value), through the tap table of ./common.ts; Keras's runs the preprocessing layers'
// own sampler (../image-sampling.ts), which maps each neighbour as Keras's backends do.

import { ShapeError, ValueError, fmtShape, fmtValue } from '../../core/errors.js';
import { checkKeys, checkOneOf } from '../../core/options.js';
import { reverse } from '../../ops/indexing.js';
import { asTensor, type TensorInput } from '../../ops/operand.js';
import { reshape } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { FILL_MODES, INTERPOLATIONS, transformImages, type AffineRow, type FillMode, type Interpolation } from '../image-sampling.js';
import { TapTable, dataFormatOf, fromBatch, hostValues, sizePair, toBatch, toFirst, toLast } from './common.js';

/** TF's map of a continuous source coordinate into [0, len − 1] by the fill mode ('constant' leaves it). */
export function mapCoordinate(v: number, len: number, mode: FillMode): number {
  if (mode === 'constant') return v;
  if (mode === 'nearest' || len <= 1) return Math.min(Math.max(v, 0), Math.max(len - 1, 0));
  let x = v;
  if (mode === 'reflect') {
    // Mirror about the image's outer edges (d c b a | a b c d | d c b a), period 2·len.
    const period = 2 * len;
    if (x < 0) {
      x += period * Math.trunc(-x / period);
      x = x < -len ? x + period : -x - 1;
    } else if (x > len - 1) {
      x -= period * Math.trunc(x / period);
      if (x >= len) x = period - x - 1;
    }
  } else if (x < 0) {
    // 'wrap': TF's repeat, stepping by len for every len − 1 outside.
    x += len * (Math.trunc(-x / (len - 1)) + 1);
  } else if (x > len - 1) {
    x -= len * Math.trunc(x / (len - 1));
  }
  return Math.min(Math.max(x, 0), len - 1);
}

/** Options of `st.image.transform` (tfjs's arguments after the transforms). */
export interface TransformOptions {
  /** 'nearest' (tfjs's default) or 'bilinear'. */
  interpolation?: Interpolation;
  /** 'constant' (default, fillValue), 'reflect', 'wrap' or 'nearest'. */
  fillMode?: FillMode;
  /** The value of pixels that fall outside with 'constant' (default 0). */
  fillValue?: number;
  /** [height, width] of the output (default: the input's). */
  outputShape?: [number, number];
}

/**
 * Applies a projective transform per image (tfjs's `tf.image.transform`): `transforms` [1, 8]
 * (shared) or [N, 8] rows [a0, a1, a2, b0, b1, b2, c0, c1] map output (x, y) to input
 * ((a0x + a1y + a2)/k, (b0x + b1y + b2)/k) with k = c0x + c1y + 1. tfjs's positional arguments
 * (interpolation, fillMode, fillValue, outputShape) are accepted as an options object.
 * Differentiable with respect to the images; the transforms are read on the host.
 */
export function transform(images: TensorInput, transforms: TensorInput, options: TransformOptions = {}): Tensor {
  const op = 'image.transform';
  checkKeys(op, options, ['interpolation', 'fillMode', 'fillValue', 'outputShape']);
  const { images: x, single } = toBatch(op, images);
  if (single) throw new ValueError(`${op}: images must have rank 4 ([batch, height, width, channels])`);
  const interpolation = checkOneOf(op, 'interpolation', options.interpolation ?? 'nearest', INTERPOLATIONS);
  const fillMode = checkOneOf(op, 'fillMode', options.fillMode ?? 'constant', FILL_MODES);
  const fillValue = options.fillValue ?? 0;
  if (typeof fillValue !== 'number') throw new ValueError(`${op}: fillValue must be a number; received ${fmtValue(fillValue)}`);
  const [n, h, w, c] = x.shape;
  const [oh, ow] = options.outputShape === undefined ? [h, w] : sizePair(op, 'outputShape', options.outputShape);
  const { values: t, rows } = hostValues(op, 'transforms', transforms, 8);
  if (rows !== 1 && rows !== n) throw new ShapeError(`${op}: transforms must have 1 or ${n} rows (one per image); received ${rows}`);
  const bilinear = interpolation === 'bilinear';
  const table = new TapTable(bilinear ? 4 : 1, n * oh * ow, h, w);
  for (let b = 0; b < n; b++) {
    const [a0, a1, a2, b0, b1, b2, c0, c1] = t.subarray(rows === 1 ? 0 : 8 * b, rows === 1 ? 8 : 8 * b + 8);
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const p = (b * oh + i) * ow + j;
        const k = c0 * j + c1 * i + 1;
        if (k === 0) {
          table.putFill(p);
          continue;
        }
        const sx = mapCoordinate((a0 * j + a1 * i + a2) / k, w, fillMode),
          sy = mapCoordinate((b0 * j + b1 * i + b2) / k, h, fillMode);
        if (!bilinear) {
          table.put(0, p, b, Math.round(sy), Math.round(sx), 1);
          continue;
        }
        const y0 = Math.floor(sy),
          x0 = Math.floor(sx);
        const fy = sy - y0,
          fx = sx - x0;
        table.put(0, p, b, y0, x0, (1 - fy) * (1 - fx));
        table.put(1, p, b, y0, x0 + 1, (1 - fy) * fx);
        table.put(2, p, b, y0 + 1, x0, fy * (1 - fx));
        table.put(3, p, b, y0 + 1, x0 + 1, fy * fx);
      }
    }
  }
  return table.sample(x, [n, oh, ow, c], fillValue);
}

/**
 * Rotates each image by `radians` about `center` (tfjs's `tf.image.rotateWithOffset`): output
 * pixel (x, y) copies the input pixel nearest to its position turned about the centre; pixels
 * from outside take `fillValue` (a number, or [r, g, b] with 255 for a fourth channel).
 * `center` is a fraction of the width and height: one number for both (default 0.5) or [x, y].
 * Differentiable with respect to the images.
 */
export function rotateWithOffset(
  image: TensorInput,
  radians: number,
  fillValue: number | readonly [number, number, number] = 0,
  center: number | readonly [number, number] = 0.5,
): Tensor {
  const op = 'image.rotateWithOffset';
  const { images: x, single } = toBatch(op, image, 'image');
  if (single) throw new ValueError(`${op}: image must have rank 4 ([batch, height, width, channels])`);
  if (typeof radians !== 'number' || !Number.isFinite(radians))
    throw new ValueError(`${op}: radians must be a finite number; received ${fmtValue(radians)}`);
  const [n, h, w, c] = x.shape;
  const [fx, fy] = typeof center === 'number' ? [center, center] : center;
  const cx = w * fx,
    cy = h * fy;
  let fill: number | number[];
  if (typeof fillValue === 'number') fill = fillValue;
  else {
    if (fillValue.length !== 3) throw new ValueError(`${op}: fillValue must be a number or [r, g, b]; received ${fmtValue(fillValue)}`);
    fill = Array.from({ length: c }, (_, ch) => (ch === 3 ? 255 : (fillValue[ch] ?? 0)));
  }
  const cos = Math.cos(radians),
    sin = Math.sin(radians);
  const table = new TapTable(1, n * h * w, h, w);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const sx = Math.round((j - cx) * cos - (i - cy) * sin + cx),
          sy = Math.round((j - cx) * sin + (i - cy) * cos + cy);
        table.put(0, (b * h + i) * w + j, b, sy, sx, 1);
      }
    }
  }
  return table.sample(x, x.shape, fill);
}

/** Mirrors each image of [N, H, W, C] left to right (tfjs's `tf.image.flipLeftRight`). */
export function flipLeftRight(image: TensorInput): Tensor {
  const x = asTensor('image.flipLeftRight', 'image', image);
  if (x.rank !== 4)
    throw new ShapeError(`image.flipLeftRight: image must have rank 4 ([batch, height, width, channels]); received shape ${fmtShape(x.shape)}`);
  return reverse(x, 2);
}

/** Options of `st.image.affineTransform` (Keras 3's keras.ops.image.affine_transform). */
export interface AffineTransformOptions {
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** 'constant' (default, fillValue), 'reflect', 'wrap' or 'nearest'. */
  fillMode?: FillMode;
  /** The value of outside pixels with 'constant' (default 0). */
  fillValue?: number;
  /** 'channels_last' (default) or 'channels_first'. */
  dataFormat?: 'channels_last' | 'channels_first';
}

/**
 * Keras 3's `keras.ops.image.affine_transform`: `transform` [8] or [N, 8] rows
 * [a0, a1, a2, b0, b1, b2, c0, c1] map output (x, y) to input (a0x + a1y + a2, b0x + b1y + b2);
 * the projective terms c0, c1 must be 0 (use `st.image.transform` for projective maps). Runs the
 * preprocessing layers' sampler (Keras's fill modes per neighbour). Differentiable in the images.
 */
export function affineTransform(images: TensorInput, transform: TensorInput, options: AffineTransformOptions = {}): Tensor {
  const op = 'image.affineTransform';
  checkKeys(op, options, ['interpolation', 'fillMode', 'fillValue', 'dataFormat']);
  const dataFormat = dataFormatOf(op, options.dataFormat);
  const { images: x, single } = toBatch(op, dataFormat === 'channels_first' ? toLast(op, images) : images);
  const interpolation = checkOneOf(op, 'interpolation', options.interpolation ?? 'bilinear', INTERPOLATIONS);
  const fillMode = checkOneOf(op, 'fillMode', options.fillMode ?? 'constant', FILL_MODES);
  const fillValue = options.fillValue ?? 0;
  if (typeof fillValue !== 'number') throw new ValueError(`${op}: fillValue must be a number; received ${fmtValue(fillValue)}`);
  // One row [8] is shared by every image: as a nested array, or as a tensor of rank 1.
  const given: TensorInput = Array.isArray(transform)
    ? transform.every((v) => typeof v === 'number')
      ? [transform as number[]]
      : transform
    : asTensor(op, 'transform', transform).rank === 1
      ? reshape(transform as Tensor, [1, -1])
      : transform;
  const { values, rows } = hostValues(op, 'transform', given, 8);
  const n = x.shape[0];
  if (rows !== n && rows !== 1) throw new ShapeError(`${op}: transform must have 1 or ${n} rows (one per image); received ${rows}`);
  const maps: AffineRow[] = Array.from({ length: n }, (_, b) => {
    const r = values.subarray(rows === 1 ? 0 : 8 * b, rows === 1 ? 8 : 8 * b + 8);
    if (r[6] !== 0 || r[7] !== 0)
      throw new ValueError(`${op}: the projective terms c0, c1 must be 0; received ${r[6]}, ${r[7]} (st.image.transform takes projective maps)`);
    return [r[0], r[1], r[2], r[3], r[4], r[5]];
  });
  const out = fromBatch(transformImages(x, maps, { interpolation, fillMode, fillValue }), single);
  return dataFormat === 'channels_first' ? toFirst(out) : out;
}
