// Colour conversions: tfjs's rgbToGrayscale and Keras 3's rgb_to_grayscale, rgb_to_hsv and
// hsv_to_rgb, as elementwise compositions of existing ops (so gradients come from their rules).

import { isFloat } from '../../core/dtype.js';
import { DtypeError, ShapeError, fmtShape } from '../../core/errors.js';
import { checkKeys } from '../../core/options.js';
import { abs, add, cast, clip, div, equal, floor, greater, less, maximum, minimum, mul, sub, where } from '../../ops/elementwise.js';
import { asTensor, type TensorInput } from '../../ops/operand.js';
import { sum } from '../../ops/reduction.js';
import { concat, split } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { dataFormatOf, type ImageDataFormat } from './common.js';

/** ITU-R 601 luma weights, as TF's and Keras's rgb_to_grayscale. */
const LUMA = [0.2989, 0.587, 0.114];

/** The channel axis of RGB images, checked to hold 3 channels. */
function channelAxis(op: string, x: Tensor, dataFormat: ImageDataFormat): number {
  const axis = dataFormat === 'channels_first' ? x.rank - 3 : x.rank - 1;
  if (x.rank < (dataFormat === 'channels_first' ? 3 : 2) || x.shape[axis] !== 3)
    throw new ShapeError(`${op}: images must have 3 channels on axis ${axis} (${dataFormat}); received shape ${fmtShape(x.shape)}`);
  return axis;
}

/** Options of the Keras colour conversions. */
export interface ColorOptions {
  /** 'channels_last' (default) or 'channels_first'. */
  dataFormat?: ImageDataFormat;
}

/**
 * Luma of RGB images: 0.2989 R + 0.5870 G + 0.1140 B, keeping a channel axis of size 1 (tfjs's
 * `tf.image.rgbToGrayscale`, Keras's `rgb_to_grayscale`). Integer images are converted in float
 * and cast back, as both do. Differentiable for float images.
 */
export function rgbToGrayscale(images: TensorInput, options: ColorOptions = {}): Tensor {
  const op = 'image.rgbToGrayscale';
  checkKeys(op, options, ['dataFormat']);
  const x = asTensor(op, 'images', images);
  const axis = channelAxis(op, x, dataFormatOf(op, options.dataFormat));
  const dtype = isFloat(x.dtype) ? x.dtype : 'float32';
  const shape = x.shape.map((_, k) => (k === axis ? 3 : 1));
  const gray = sum(mul(cast(x, dtype), tensor(LUMA, shape, dtype)), axis, true);
  return isFloat(x.dtype) ? gray : cast(gray, x.dtype);
}

function floatImages(op: string, images: TensorInput, options: ColorOptions): { x: Tensor; axis: number } {
  checkKeys(op, options, ['dataFormat']);
  const x = asTensor(op, 'images', images);
  if (!isFloat(x.dtype)) throw new DtypeError(`${op}: images must be float (values in [0, 1]); received ${x.dtype}`);
  return { x, axis: channelAxis(op, x, dataFormatOf(op, options.dataFormat)) };
}

/**
 * RGB to HSV for float images with values in [0, 1] (Keras 3's `rgb_to_hsv`, TF's definition):
 * V = max, S = (max − min)/max (0 where max is 0), H in [0, 1) from the channel that is largest
 * (R before G before B on ties), 0 for greys. Differentiable where the max and min are unique.
 */
export function rgbToHsv(images: TensorInput, options: ColorOptions = {}): Tensor {
  const { x, axis } = floatImages('image.rgbToHsv', images, options);
  const [r, g, b] = split(x, 3, axis);
  const value = maximum(maximum(r, g), b);
  const range = sub(value, minimum(minimum(r, g), b));
  const hasValue = greater(value, 0),
    hasRange = greater(range, 0);
  const saturation = where(hasValue, div(range, where(hasValue, value, 1)), 0);
  const norm = div(1, mul(6, where(hasRange, range, 1)));
  let hue = where(equal(value, g), add(mul(norm, sub(b, r)), 2 / 6), add(mul(norm, sub(r, g)), 4 / 6));
  hue = where(equal(value, r), mul(norm, sub(g, b)), hue);
  hue = where(hasRange, hue, 0);
  hue = add(hue, cast(less(hue, 0), x.dtype));
  return concat([hue, saturation, value], axis);
}

/**
 * HSV to RGB for float images (Keras 3's `hsv_to_rgb`, TF's definition): each channel is
 * V·(1 − S + S·f(6H)) with f the clipped triangle of that channel's hue sector.
 */
export function hsvToRgb(images: TensorInput, options: ColorOptions = {}): Tensor {
  const { x, axis } = floatImages('image.hsvToRgb', images, options);
  const [h, s, v] = split(x, 3, axis);
  // Hue wraps around: Keras takes it modulo 1.
  const dh = mul(sub(h, floor(h)), 6);
  const dr = clip(sub(abs(sub(dh, 3)), 1), 0, 1),
    dg = clip(sub(2, abs(sub(dh, 2))), 0, 1),
    db = clip(sub(2, abs(sub(dh, 4))), 0, 1);
  const grey = sub(1, s);
  const channel = (d: Tensor) => mul(v, add(grey, mul(s, d)));
  return concat([channel(dr), channel(dg), channel(db)], axis);
}
