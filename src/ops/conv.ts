import type { Conv2dAttrs } from '../backend/primitives.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { geometry2d, pair, checkNhwc, type Padding, type Pair } from './conv-geometry.js';
import { add, cast } from './elementwise.js';
import { matmul } from './linalg.js';
import { asTensor, requireFloat, type TensorInput } from './operand.js';
import { extractPatches, foldPatches, type Windows } from './patches.js';
import { hasKernel, runPrimitive } from './run.js';
import { broadcastTo, reshape, slice } from './shape-ops.js';
import { sum } from './reduction.js';
import { promoteTypes } from '../core/dtype.js';

/** Options of `st.conv2d` and its gradients. */
export interface Conv2dOptions {
  /** The step between windows. Default 1. */
  strides?: Pair;
  /** 'valid' (default) or 'same'. */
  padding?: Padding;
  /** Spacing between the filter's taps. Default 1. */
  dilation?: Pair;
}

const CONV_KEYS = ['strides', 'padding', 'dilation'];

/** Resolved convolution geometry: the kernel attributes plus the window description for composites. */
export interface ConvPlan {
  attrs: Conv2dAttrs;
  windows: Windows;
  outShape: number[];
}

export function planConv2d(op: string, xShape: readonly number[], filterShape: readonly number[], options: Conv2dOptions): ConvPlan {
  checkKeys(op, options, CONV_KEYS);
  if (filterShape.length !== 4) {
    throw new ShapeError(`${op}: filter must be [kh, kw, inChannels, outChannels]; received shape ${fmtShape(filterShape)}`);
  }
  if (xShape[3] !== filterShape[2]) {
    throw new ShapeError(
      `${op}: input channels differ: x is ${fmtShape(xShape)} (${xShape[3]} channels), filter is ${fmtShape(filterShape)} (expects ${filterShape[2]})`,
    );
  }
  const strides = pair(op, 'strides', options.strides, 1);
  const dilation = pair(op, 'dilation', options.dilation, 1);
  const g = geometry2d(op, xShape, [filterShape[0], filterShape[1]], strides, dilation, options.padding ?? 'valid');
  return planFromAttrs(xShape, filterShape, { strides, dilation, pads: g.pads });
}

/** The plan for explicit kernel attributes (what gradient rules have in hand). */
export function planFromAttrs(xShape: readonly number[], filterShape: readonly number[], attrs: Conv2dAttrs): ConvPlan {
  const kernel: [number, number] = [filterShape[0], filterShape[1]];
  const { strides, dilation, pads } = attrs;
  const outH = Math.floor((xShape[1] + pads.top + pads.bottom - (kernel[0] - 1) * dilation[0] - 1) / strides[0]) + 1;
  const outW = Math.floor((xShape[2] + pads.left + pads.right - (kernel[1] - 1) * dilation[1] - 1) / strides[1]) + 1;
  return {
    attrs,
    windows: { kernel, strides, dilation, pads, outH, outW },
    outShape: [xShape[0], outH, outW, filterShape[3]],
  };
}

/** The composite convolution: patches times the flattened filter (fallback and test oracle). */
export function conv2dComposite(x: Tensor, filter: Tensor, plan: ConvPlan): Tensor {
  const [kh, kw, c, o] = filter.shape;
  const cols = reshape(extractPatches(x, plan.windows), [-1, kh * kw * c]);
  return reshape(matmul(cols, reshape(filter, [kh * kw * c, o])), plan.outShape);
}

/** Two operands as tensors of one floating dtype (the promotion of theirs); names for errors. */
export function floatPair(op: string, a: TensorInput, b: TensorInput, names: [string, string]): [Tensor, Tensor] {
  let ta = asTensor(op, names[0], a),
    tb = asTensor(op, names[1], b);
  requireFloat(op, ta);
  requireFloat(op, tb);
  const dtype = promoteTypes(ta.dtype, tb.dtype);
  ta = cast(ta, dtype);
  tb = cast(tb, dtype);
  return [ta, tb];
}

/**
 * 2-D convolution (cross-correlation, as in every DL framework): x NHWC [batch, height, width,
 * in], filter [kh, kw, in, out]; the result is [batch, outHeight, outWidth, out]. 'same' padding
 * follows TensorFlow (the odd pixel at the bottom/right).
 * @throws ShapeError for inputs not of rank 4, mismatched channels, or an input smaller than the
 * filter with 'valid' padding; ValueError for bad strides, dilation or padding.
 * @example
 * ```ts
 * const y = st.conv2d(st.ones([1, 5, 5, 1]), st.ones([3, 3, 1, 2]), { padding: 'same' });
 * console.log(y.shape); // [1, 5, 5, 2]
 * ```
 */
export function conv2d(x: TensorInput, filter: TensorInput, options: Conv2dOptions = {}): Tensor {
  const [tx, tf] = floatPair('conv2d', x, filter, ['x', 'filter']);
  checkNhwc('conv2d', tx);
  return conv2dPlanned(tx, tf, planConv2d('conv2d', tx.shape, tf.shape, options));
}

export function conv2dPlanned(x: Tensor, filter: Tensor, plan: ConvPlan): Tensor {
  if (!hasKernel('conv2d', x)) return conv2dComposite(x, filter, plan);
  return runPrimitive('conv2d', [x, filter], plan.attrs, plan.outShape, x.dtype);
}

/** The gradient of conv2d with respect to its input (also the forward pass of a transposed convolution). */
export function conv2dBackpropInput(dy: TensorInput, filter: TensorInput, inputShape: readonly number[], options: Conv2dOptions = {}): Tensor {
  const [tdy, tf] = floatPair('conv2dBackpropInput', dy, filter, ['dy', 'filter']);
  const plan = planConv2d('conv2dBackpropInput', inputShape, tf.shape, options);
  if (plan.outShape.some((d, i) => d !== tdy.shape[i])) {
    throw new ShapeError(
      `conv2dBackpropInput: dy must have shape ${fmtShape(plan.outShape)} for input ${fmtShape(inputShape)}; received ${fmtShape(tdy.shape)}`,
    );
  }
  return backpropInputPlanned(tdy, tf, inputShape, plan);
}

export function backpropInputPlanned(dy: Tensor, filter: Tensor, inputShape: readonly number[], plan: ConvPlan): Tensor {
  if (hasKernel('conv2dBackpropInput', dy)) {
    return runPrimitive('conv2dBackpropInput', [dy, filter], { ...plan.attrs, inputShape: inputShape.slice() }, inputShape, dy.dtype);
  }
  const [kh, kw, c, o] = filter.shape;
  const cols = matmul(reshape(dy, [-1, o]), reshape(filter, [kh * kw * c, o]), false, true);
  return foldPatches(cols, plan.windows, inputShape);
}

/** The gradient of conv2d with respect to its filter. */
export function conv2dBackpropFilter(x: TensorInput, dy: TensorInput, filterShape: readonly number[], options: Conv2dOptions = {}): Tensor {
  const [tx, tdy] = floatPair('conv2dBackpropFilter', x, dy, ['x', 'dy']);
  checkNhwc('conv2dBackpropFilter', tx);
  const plan = planConv2d('conv2dBackpropFilter', tx.shape, filterShape, options);
  if (plan.outShape.some((d, i) => d !== tdy.shape[i])) {
    throw new ShapeError(`conv2dBackpropFilter: dy must have shape ${fmtShape(plan.outShape)}; received ${fmtShape(tdy.shape)}`);
  }
  return backpropFilterPlanned(tx, tdy, filterShape, plan);
}

/**
 * The filter and bias gradients of a convolution with a bias, from its input x and the gradient
 * dz of its pre-activation output: one kernel (one pass over dz) where the backend has it.
 */
export function backpropFilterAndBiasPlanned(x: Tensor, dz: Tensor, filterShape: readonly number[], plan: ConvPlan): [Tensor, Tensor] {
  if (!hasKernel('conv2dBackpropFilterBias', x)) return [backpropFilterPlanned(x, dz, filterShape, plan), sum(dz, [0, 1, 2])];
  const filterSize = filterShape.reduce((a, b) => a * b, 1),
    channels = filterShape[3];
  const both = runPrimitive(
    'conv2dBackpropFilterBias',
    [x, dz],
    { ...plan.attrs, filterShape: filterShape.slice() },
    [filterSize + channels],
    x.dtype,
  );
  return [reshape(slice(both, [0], [filterSize]), filterShape), slice(both, [filterSize], [channels])];
}

/**
 * The gradients of conv2d(x, f) + bias from dz, the gradient of that sum, for the inputs in
 * `needs` (x, filter, bias): what the rules of fused convolutions share. Filter and bias together
 * read dz once (conv2dBackpropFilterBias where the backend has it).
 */
export function convBiasGradsPlanned(x: Tensor, f: Tensor, dz: Tensor, plan: ConvPlan, needs: readonly boolean[]): (Tensor | null)[] {
  const [needX, needF, needB] = needs;
  const [df, db] = needF && needB ? backpropFilterAndBiasPlanned(x, dz, f.shape, plan) : [null, null];
  return [
    needX ? backpropInputPlanned(dz, f, x.shape, plan) : null,
    df ?? (needF ? backpropFilterPlanned(x, dz, f.shape, plan) : null),
    db ?? (needB ? sum(dz, [0, 1, 2]) : null),
  ];
}

/** The VJP of conv2dBackpropFilterBias for an upstream G = [G_filter | G_bias]: d/dx and d/ddz. */
export function backpropFilterAndBiasVjp(
  x: Tensor,
  dz: Tensor,
  G: Tensor,
  filterShape: readonly number[],
  plan: ConvPlan,
  needs: readonly boolean[],
): [Tensor | null, Tensor | null] {
  const filterSize = filterShape.reduce((a, b) => a * b, 1),
    channels = filterShape[3];
  const gFilter = reshape(slice(G, [0], [filterSize]), filterShape),
    gBias = slice(G, [filterSize], [channels]);
  // <G_filter, dw(x, dz)> = <x, dx(dz, G_filter)> = <conv(x, G_filter), dz>; <G_bias, Σ dz> = <broadcast G_bias, dz>.
  return [
    needs[0] ? backpropInputPlanned(dz, gFilter, x.shape, plan) : null,
    needs[1] ? add(conv2dPlanned(x, gFilter, plan), broadcastTo(gBias, dz.shape)) : null,
  ];
}

export function backpropFilterPlanned(x: Tensor, dy: Tensor, filterShape: readonly number[], plan: ConvPlan): Tensor {
  if (hasKernel('conv2dBackpropFilter', x)) {
    return runPrimitive('conv2dBackpropFilter', [x, dy], { ...plan.attrs, filterShape: filterShape.slice() }, filterShape, x.dtype);
  }
  const [kh, kw, c, o] = filterShape;
  const cols = reshape(extractPatches(x, plan.windows), [-1, kh * kw * c]);
  return reshape(matmul(cols, reshape(dy, [-1, o]), true, false), filterShape);
}
