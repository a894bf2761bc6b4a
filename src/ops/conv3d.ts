import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import { sizeOf } from '../core/shape.js';
import { full, tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, div, mul, pow, square, sub } from './elementwise.js';
import { floatPair } from './conv.js';
import { matmul } from './linalg.js';
import { cumsum } from './scan.js';
import { floating } from './math-extra.js';
import type { TensorInput } from './operand.js';
import { max, sum } from './reduction.js';
import { gather, pad, reshape, scatterAdd, slice, transpose } from './shape-ops.js';

// Note [3-D convolution and pooling as gathers]
// No backend has 3-D kernels, so these ops are the composite the 2-D ops fall back to, in three
// dimensions: the input is padded, its windows are taken with one gather of flat positions
// computed on the host ([batch, windows·taps, channels]), and then a convolution is one matmul
// with the flattened filter, a pooling a max or a mean over the taps. The transposed
// convolution is the adjoint of the same map: a matmul with the transposed filter, then the
// scatterAdd that inverts the gather. Gradients come from the gather, scatterAdd and matmul rules.
// Layout is TensorFlow's: NDHWC data, filters [kd, kh, kw, in, out].

/** One number for all three spatial axes, or [depth, height, width]. */
export type Triple = number | readonly [number, number, number];
/** 'valid' (windows inside the input) or 'same' (ceil(size / stride) outputs, TensorFlow's padding). */
export type Padding3d = 'valid' | 'same';

/** Options of st.conv3d and st.conv3dTranspose. */
export interface Conv3dOptions {
  /** The step between windows per spatial axis. Default 1. */
  strides?: Triple;
  /** 'valid' (default) or 'same' (TensorFlow's: the odd pixel at the end). */
  padding?: Padding3d;
  /** Spacing between the filter's taps (st.conv3d only). Default 1. */
  dilation?: Triple;
}

/** Options of st.maxPool3d and st.avgPool3d. */
export interface Pool3dOptions {
  /** The window per spatial axis. Default 2. */
  poolSize?: Triple;
  /** The step between windows. Default: poolSize. */
  strides?: Triple;
  /** 'valid' (default) or 'same'. */
  padding?: Padding3d;
}

interface Plan3d {
  out: [number, number, number];
  pads: [number, number][]; // per spatial axis
  padded: [number, number, number];
  /** Flat padded-spatial position of every (window, tap), windows major. */
  positions: Int32Array;
  taps: number;
}

function triple(op: string, name: string, v: Triple | undefined, fallback: number): [number, number, number] {
  const t = v === undefined ? [fallback, fallback, fallback] : typeof v === 'number' ? [v, v, v] : [...v];
  if (t.length !== 3 || t.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ValueError(`${op}: ${name} must be a positive integer or three of them; received ${fmtValue(v)}`);
  }
  return t as [number, number, number];
}

function plan3d(
  op: string,
  spatial: readonly number[],
  kernel: readonly number[],
  strides: readonly number[],
  dilation: readonly number[],
  padding: Padding3d,
): Plan3d {
  checkOneOf(op, 'padding', padding, ['valid', 'same']);
  const out = [0, 0, 0] as [number, number, number],
    pads: [number, number][] = [],
    padded = [0, 0, 0] as [number, number, number];
  for (let d = 0; d < 3; d++) {
    const reach = (kernel[d] - 1) * dilation[d] + 1;
    if (padding === 'valid') {
      if (spatial[d] < reach)
        throw new ShapeError(`${op}: spatial axis ${d} (size ${spatial[d]}) is smaller than the window (${reach}) with 'valid' padding`);
      out[d] = Math.floor((spatial[d] - reach) / strides[d]) + 1;
      pads.push([0, 0]);
    } else {
      out[d] = Math.ceil(spatial[d] / strides[d]);
      const total = Math.max((out[d] - 1) * strides[d] + reach - spatial[d], 0);
      pads.push([Math.floor(total / 2), total - Math.floor(total / 2)]);
    }
    padded[d] = spatial[d] + pads[d][0] + pads[d][1];
  }
  const taps = sizeOf(kernel);
  const positions = new Int32Array(sizeOf(out) * taps);
  let i = 0;
  for (let a = 0; a < out[0]; a++)
    for (let b = 0; b < out[1]; b++)
      for (let c = 0; c < out[2]; c++) {
        for (let p = 0; p < kernel[0]; p++)
          for (let q = 0; q < kernel[1]; q++)
            for (let r = 0; r < kernel[2]; r++) {
              const z = a * strides[0] + p * dilation[0],
                y = b * strides[1] + q * dilation[1],
                x = c * strides[2] + r * dilation[2];
              positions[i++] = (z * padded[1] + y) * padded[2] + x;
            }
      }
  return { out, pads, padded, positions, taps };
}

function rank5(op: string, t: Tensor, name = 'x'): void {
  if (t.rank !== 5) throw new ShapeError(`${op}: ${name} must be NDHWC [batch, depth, height, width, channels]; received ${fmtShape(t.shape)}`);
}

/** The windows of x as [batch, windows, taps, channels], padded with `fill`. */
function windows(x: Tensor, plan: Plan3d, fill: number): Tensor {
  const [n, , , , c] = x.shape;
  const padded = pad(x, [[0, 0], ...plan.pads, [0, 0]], fill);
  const flat = reshape(padded, [n, sizeOf(plan.padded), c]);
  const picked = gather(flat, tensor(plan.positions, [plan.positions.length], 'int32'), 1);
  return reshape(picked, [n, sizeOf(plan.out), plan.taps, c]);
}

/**
 * 3-D convolution: x NDHWC [N, D, H, W, in], filter [kd, kh, kw, in, out] → [N, oD, oH, oW, out]
 * (Note [3-D convolution and pooling as gathers]).
 * @throws ShapeError for mismatched ranks or channels; ValueError for bad options.
 */
export function conv3d(x: TensorInput, filter: TensorInput, options: Conv3dOptions = {}): Tensor {
  const op = 'conv3d';
  checkKeys(op, options, ['strides', 'padding', 'dilation']);
  const [tx, tf] = floatPair(op, x, filter, ['x', 'filter']);
  rank5(op, tx);
  rank5(op, tf, 'filter');
  if (tf.shape[3] !== tx.shape[4])
    throw new ShapeError(`${op}: filter ${fmtShape(tf.shape)} expects ${tf.shape[3]} input channels; x ${fmtShape(tx.shape)} has ${tx.shape[4]}`);
  const plan = plan3d(
    op,
    tx.shape.slice(1, 4),
    tf.shape.slice(0, 3),
    triple(op, 'strides', options.strides, 1),
    triple(op, 'dilation', options.dilation, 1),
    options.padding ?? 'valid',
  );
  const [n, , , , c] = tx.shape,
    outC = tf.shape[4];
  const rows = reshape(windows(tx, plan, 0), [n * sizeOf(plan.out), plan.taps * c]);
  return reshape(matmul(rows, reshape(tf, [plan.taps * c, outC])), [n, ...plan.out, outC]);
}

/**
 * The transposed 3-D convolution: x [N, d, h, w, C] spread over `outputShape` [N, D, H, W, out]
 * with filter [kd, kh, kw, out, C], the adjoint of the conv3d from outputShape to x's shape.
 */
export function conv3dTranspose(
  x: TensorInput,
  filter: TensorInput,
  outputShape: readonly number[],
  options: Omit<Conv3dOptions, 'dilation'> = {},
): Tensor {
  const op = 'conv3dTranspose';
  checkKeys(op, options, ['strides', 'padding']);
  const [tx, tf] = floatPair(op, x, filter, ['x', 'filter']);
  rank5(op, tx);
  rank5(op, tf, 'filter');
  if (outputShape.length !== 5 || outputShape[0] !== tx.shape[0] || outputShape[4] !== tf.shape[3] || tf.shape[4] !== tx.shape[4]) {
    throw new ShapeError(`${op}: outputShape ${fmtValue(outputShape)}, filter ${fmtShape(tf.shape)} and x ${fmtShape(tx.shape)} do not fit together`);
  }
  const plan = plan3d(
    op,
    outputShape.slice(1, 4),
    tf.shape.slice(0, 3),
    triple(op, 'strides', options.strides, 1),
    [1, 1, 1],
    options.padding ?? 'valid',
  );
  if (plan.out.some((d, i) => d !== tx.shape[i + 1])) {
    throw new ShapeError(
      `${op}: a convolution of outputShape ${fmtValue(outputShape)} gives ${fmtShape(plan.out)}, not x's ${fmtShape(tx.shape.slice(1, 4))}`,
    );
  }
  const [n, , , , c] = tx.shape,
    outC = outputShape[4];
  const spread = matmul(reshape(tx, [n * sizeOf(plan.out), c]), transpose(reshape(tf, [plan.taps * outC, c])));
  const summed = scatterAdd(
    reshape(spread, [n, sizeOf(plan.out) * plan.taps, outC]),
    tensor(plan.positions, [plan.positions.length], 'int32'),
    1,
    sizeOf(plan.padded),
  );
  const full = reshape(summed, [n, ...plan.padded, outC]);
  return slice(full, [0, ...plan.pads.map(([before]) => before), 0], [n, ...outputShape.slice(1, 4), outC]);
}

function pool3d(op: string, x: TensorInput, options: Pool3dOptions, kind: 'max' | 'avg'): Tensor {
  checkKeys(op, options, ['poolSize', 'strides', 'padding']);
  const t = floating(op, x);
  rank5(op, t);
  const size = triple(op, 'poolSize', options.poolSize, 2);
  const plan = plan3d(op, t.shape.slice(1, 4), size, triple(op, 'strides', options.strides ?? size, 1), [1, 1, 1], options.padding ?? 'valid');
  const [n, , , , c] = t.shape;
  const shape = [n, ...plan.out, c];
  if (kind === 'max') return reshape(max(windows(t, plan, -Infinity), 2), shape);
  // The mean over the real (unpadded) pixels of each window, as TensorFlow's 'same' pooling.
  const counts = sum(windows(full([1, ...t.shape.slice(1, 4), 1], 1, t.dtype), plan, 0), 2);
  return reshape(div(sum(windows(t, plan, 0), 2), counts), shape);
}

/** 3-D max pooling of NDHWC x (padding never wins a window). */
export const maxPool3d = (x: TensorInput, options: Pool3dOptions = {}): Tensor => pool3d('maxPool3d', x, options, 'max');
/** 3-D average pooling of NDHWC x over the real pixels of each window. */
export const avgPool3d = (x: TensorInput, options: Pool3dOptions = {}): Tensor => pool3d('avgPool3d', x, options, 'avg');

/** Options of st.dilation2d. */
export interface Dilation2dOptions {
  /** The step between windows, [height, width] or one number. Default 1. */
  strides?: number | readonly [number, number];
  /** 'valid' (default) or 'same' (padding never wins a window). */
  padding?: Padding3d;
  /** Spacing between the filter's taps. Default 1. */
  dilations?: number | readonly [number, number];
}

/**
 * Grayscale morphological dilation of NHWC x by a filter [kh, kw, C] per channel: each output is
 * the maximum over its window of x + filter (tfjs's dilation2d), as a height-and-width case of
 * Note [3-D convolution and pooling as gathers]; differentiable in x and the filter.
 */
export function dilation2d(x: TensorInput, filter: TensorInput, options: Dilation2dOptions = {}): Tensor {
  const op = 'dilation2d';
  checkKeys(op, options, ['strides', 'padding', 'dilations']);
  const [tx, tf] = floatPair(op, x, filter, ['x', 'filter']);
  if (tx.rank !== 4 || tf.rank !== 3 || tf.shape[2] !== tx.shape[3]) {
    throw new ShapeError(
      `${op}: x must be NHWC and filter [kh, kw, channels] with x's channels; received ${fmtShape(tx.shape)} and ${fmtShape(tf.shape)}`,
    );
  }
  const pair2 = (name: string, v: number | readonly [number, number] | undefined) => {
    const [a, b] = v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : v;
    return triple(op, name, [1, a, b], 1);
  };
  const [n, h, w, c] = tx.shape;
  const plan = plan3d(
    op,
    [1, h, w],
    [1, tf.shape[0], tf.shape[1]],
    pair2('strides', options.strides),
    pair2('dilations', options.dilations),
    options.padding ?? 'valid',
  );
  const x5 = reshape(tx, [n, 1, h, w, c]);
  const scores = add(windows(x5, plan, -Infinity), reshape(tf, [1, 1, plan.taps, c]));
  return reshape(max(scores, 2), [n, plan.out[1], plan.out[2], c]);
}

/**
 * Local response normalization across channels (tfjs's localResponseNormalization): x divided by
 * (bias + alpha * the sum of squares over the channels within depthRadius)^beta, NHWC.
 */
export function localResponseNormalization(x: TensorInput, depthRadius = 5, bias = 1, alpha = 1, beta = 0.5): Tensor {
  const t = floating('localResponseNormalization', x);
  if (t.rank !== 4) throw new ShapeError(`localResponseNormalization: x must be NHWC; received ${fmtShape(t.shape)}`);
  const c = t.shape[3],
    r = depthRadius;
  // The window sums are differences of a cumulative sum over the channels, padded by r + 1 before
  // (the first difference sees zeros) and r after.
  const squares = pad(square(t), [
    [0, 0],
    [0, 0],
    [0, 0],
    [r + 1, r],
  ]);
  const running = cumsum(squares, 3);
  const sums = sub(slice(running, [0, 0, 0, 2 * r + 1], [-1, -1, -1, c]), slice(running, [0, 0, 0, 0], [-1, -1, -1, c]));
  return div(t, pow(add(mul(sums, alpha), bias), beta));
}
