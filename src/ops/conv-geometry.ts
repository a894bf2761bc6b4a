import type { Pads2d } from '../backend/primitives.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * How a window meets the border: 'valid' keeps only windows inside the input, 'same' pads so
 * that the output has ceil(input / stride) positions (TensorFlow's rule, extra pixel at the end).
 * @inline
 */
export type Padding = 'valid' | 'same';
/**
 * One number for both spatial axes, or [height, width].
 * @inline
 */
export type Pair = number | readonly [number, number];

export function pair(op: string, name: string, v: Pair | undefined, fallback: number): [number, number] {
  const p = v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!Array.isArray(v) && typeof v !== 'number' && v !== undefined) {
    throw new ValueError(`${op}: ${name} must be a number or a pair of numbers; received ${fmtValue(v)}`);
  }
  if (p.some((x) => !Number.isInteger(x) || x < 1)) {
    throw new ValueError(`${op}: ${name} must be positive integers; received ${fmtValue(v)}`);
  }
  return p as [number, number];
}

/**
 * Output size and padding along one spatial axis, following TensorFlow: 'same' gives
 * ceil(n / s) outputs with total padding max((out - 1) * s + k_eff - n, 0), the odd pixel
 * going after (bottom/right); 'valid' uses no padding.
 */
function axisGeometry(op: string, n: number, k: number, s: number, d: number, padding: Padding, shape: readonly number[]) {
  const kEff = (k - 1) * d + 1;
  if (padding === 'same') {
    const out = Math.ceil(n / s);
    const total = Math.max((out - 1) * s + kEff - n, 0);
    const before = Math.floor(total / 2);
    return { out, before, after: total - before };
  }
  if (n < kEff) {
    throw new ShapeError(`${op}: with 'valid' padding the input ${fmtShape(shape)} is smaller than the window (${kEff} pixels incl. dilation)`);
  }
  return { out: Math.floor((n - kEff) / s) + 1, before: 0, after: 0 };
}

export interface Geometry2d {
  outH: number;
  outW: number;
  pads: Pads2d;
}

export function geometry2d(
  op: string,
  inputShape: readonly number[],
  kernel: [number, number],
  strides: [number, number],
  dilation: [number, number],
  padding: Padding,
): Geometry2d {
  if (padding !== 'valid' && padding !== 'same') {
    throw new ValueError(`${op}: padding must be 'valid' or 'same'; received ${fmtValue(padding)}`);
  }
  const h = axisGeometry(op, inputShape[1], kernel[0], strides[0], dilation[0], padding, inputShape);
  const w = axisGeometry(op, inputShape[2], kernel[1], strides[1], dilation[1], padding, inputShape);
  return { outH: h.out, outW: w.out, pads: { top: h.before, bottom: h.after, left: w.before, right: w.after } };
}

/**
 * Note [Patches as a gather]
 * The composite convolution and pooling read each window of a padded NHWC image through one
 * gather on the flattened spatial axis: index (oh*sh + kh*dh) * Wp + (ow*sw + kw*dw) for every
 * output pixel and tap, in (oh, ow, kh, kw) order. Gather's gradient (scatterAdd) then gives
 * the composite its backward pass with no code of its own.
 */
export function patchIndices(
  paddedW: number,
  outH: number,
  outW: number,
  kernel: [number, number],
  strides: [number, number],
  dilation: [number, number],
): Tensor {
  const [kh, kw] = kernel,
    [sh, sw] = strides,
    [dh, dw] = dilation;
  const idx = new Int32Array(outH * outW * kh * kw);
  let n = 0;
  for (let i = 0; i < outH; i++)
    for (let j = 0; j < outW; j++)
      for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) idx[n++] = (i * sh + p * dh) * paddedW + (j * sw + q * dw);
  return tensor(idx, [idx.length], 'int32');
}

export function checkNhwc(op: string, x: Tensor): void {
  if (x.rank !== 4) throw new ShapeError(`${op}: x must be NHWC of rank 4; received shape ${fmtShape(x.shape)}`);
}
