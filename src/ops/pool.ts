import type { Pool2dAttrs } from '../backend/primitives.js';
import { ValueError } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { ones } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkNhwc, geometry2d, pair, type Padding, type Pair } from './conv-geometry.js';
import { cast, div, greater, mul } from './elementwise.js';
import { asTensor, type TensorInput } from './operand.js';
import { oneHot } from './nn.js';
import { extractPatches, foldPatches, type Windows } from './patches.js';
import { argMax, max, sum } from './reduction.js';
import { hasKernel, runPrimitive } from './run.js';
import { isGradEnabled } from '../tensor/tape.js';
import { reshape, transpose } from './shape-ops.js';
import { floatType } from '../core/dtype.js';

/** Options of `st.maxPool2d` and `st.avgPool2d` (and of conv2dMaxPool's `pool`). */
export interface Pool2dOptions {
  /** The window's height and width. Default 2. */
  poolSize?: Pair;
  /** The step between windows. Default: poolSize. */
  strides?: Pair;
  /** 'valid' (default) or 'same'. */
  padding?: Padding;
}

export interface PoolPlan {
  attrs: Pool2dAttrs;
  windows: Windows;
  outShape: number[];
}

export function planPool2d(op: string, xShape: readonly number[], options: Pool2dOptions): PoolPlan {
  checkKeys(op, options, ['poolSize', 'strides', 'padding']);
  const poolSize = pair(op, 'poolSize', options.poolSize, 2);
  const strides = pair(op, 'strides', options.strides ?? poolSize, 1);
  const g = geometry2d(op, xShape, poolSize, strides, [1, 1], options.padding ?? 'valid');
  return poolPlanFromAttrs(xShape, { poolSize, strides, pads: g.pads });
}

export function poolPlanFromAttrs(xShape: readonly number[], attrs: Pool2dAttrs): PoolPlan {
  const { poolSize, strides, pads } = attrs;
  const outH = Math.floor((xShape[1] + pads.top + pads.bottom - poolSize[0]) / strides[0]) + 1;
  const outW = Math.floor((xShape[2] + pads.left + pads.right - poolSize[1]) / strides[1]) + 1;
  return {
    attrs,
    windows: { kernel: poolSize, strides, dilation: [1, 1], pads, outH, outW },
    outShape: [xShape[0], outH, outW, xShape[3]],
  };
}

function floatInput(op: string, x: TensorInput): Tensor {
  const t = asTensor(op, 'x', x);
  checkNhwc(op, t);
  return cast(t, floatType(t.dtype));
}

/** Max pooling over NHWC windows; padding never wins a window. */
export function maxPool2d(x: TensorInput, options: Pool2dOptions = {}): Tensor {
  const t = floatInput('maxPool2d', x);
  return maxPool2dPlanned(t, planPool2d('maxPool2d', t.shape, options));
}

// Note [Max pooling keeps its winners]
// Max pooling's gradient sends dy to each window's first maximum. Found again in the backward
// pass, that means reading x once more, the largest tensor of a convnet, when it is long out of
// cache. When the result will be on the tape, the forward kernel may keep the winners with its
// output (keepIndices; native keeps an int32 pixel index per output value), and the gradient
// kernel, given that output as a third operand, scatters dy to them directly (PyTorch's
// max_pool2d_with_indices does the same). Kernels without the option ignore it.

export function maxPool2dPlanned(x: Tensor, plan: PoolPlan): Tensor {
  if (!hasKernel('maxPool2d', x)) return maxPool2dComposite(x, plan);
  const keepIndices = isGradEnabled() && x.requiresGrad;
  return runPrimitive('maxPool2d', [x], keepIndices ? { ...plan.attrs, keepIndices } : plan.attrs, plan.outShape, x.dtype);
}

export function maxPool2dComposite(x: Tensor, plan: PoolPlan): Tensor {
  return reshape(max(extractPatches(x, plan.windows, -Infinity), 2), plan.outShape);
}

/** Average pooling; each window is divided by its number of real (unpadded) pixels. */
export function avgPool2d(x: TensorInput, options: Pool2dOptions = {}): Tensor {
  const t = floatInput('avgPool2d', x);
  return avgPool2dPlanned(t, planPool2d('avgPool2d', t.shape, options));
}

export function avgPool2dPlanned(x: Tensor, plan: PoolPlan): Tensor {
  if (!hasKernel('avgPool2d', x)) return avgPool2dComposite(x, plan);
  return runPrimitive('avgPool2d', [x], plan.attrs, plan.outShape, x.dtype);
}

/** How many real (unpadded) pixels each window covers, as [1, P, 1, 1]. */
function windowCounts(inputShape: readonly number[], plan: PoolPlan, dtype: Tensor['dtype']): Tensor {
  return sum(extractPatches(ones([1, inputShape[1], inputShape[2], 1], dtype), plan.windows), 2, true);
}

export function avgPool2dComposite(x: Tensor, plan: PoolPlan): Tensor {
  const counts = windowCounts(x.shape, plan, x.dtype);
  const sums = sum(extractPatches(x, plan.windows), 2, true);
  return reshape(div(sums, counts), plan.outShape);
}

/**
 * The gradient of max pooling: dy goes to the first maximum of each window. With `reluMasked`
 * (a backend kernel only) it goes there only where that maximum is positive, which is the
 * gradient times relu's mask when x is a ReLU output (Note [Gradients already masked by a ReLU]).
 */
export function maxPool2dGrad(x: Tensor, dy: Tensor, plan: PoolPlan, reluMasked = false, y?: Tensor): Tensor {
  if (hasKernel('maxPool2dGrad', x)) {
    // y: the forward output, which may carry the winners (Note [Max pooling keeps its winners]).
    return runPrimitive('maxPool2dGrad', y ? [x, dy, y] : [x, dy], reluMasked ? { ...plan.attrs, reluMasked } : plan.attrs, x.shape, x.dtype);
  }
  if (reluMasked) throw new ValueError('maxPool2dGrad: reluMasked needs a backend kernel');
  const sel = cast(maxPoolSelection(x, plan), dy.dtype);
  const [n, oh, ow, c] = plan.outShape;
  return foldPatches(mul(sel, reshape(dy, [n, oh * ow, 1, c])), plan.windows, x.shape);
}

/** For each pooled pixel, a one-hot over its window marking the (first) maximum of x: [N, P, K, C]. */
export function maxPoolSelection(x: Tensor, plan: PoolPlan): Tensor {
  const taps = plan.windows.kernel[0] * plan.windows.kernel[1];
  const winner = argMax(extractPatches(x, plan.windows, -Infinity), 2); // [N, P, C]
  return transpose(oneHot(winner, taps), [0, 1, 3, 2]);
}

/**
 * Reads g (shaped like x) at each window's maximum: the derivative of maxPool2dGrad with respect
 * to dy (with reluMasked, zero for windows whose maximum is not positive).
 */
export function gatherAtMaxima(x: Tensor, g: Tensor, plan: PoolPlan, reluMasked = false): Tensor {
  const sel = cast(maxPoolSelection(x, plan), g.dtype);
  const gathered = reshape(sum(mul(extractPatches(g, plan.windows), sel), 2), plan.outShape);
  return reluMasked ? mul(gathered, cast(greater(maxPool2dPlanned(x, plan), 0), g.dtype)) : gathered;
}

/** The gradient of average pooling: each window's dy is shared equally among its real pixels. */
export function avgPool2dGrad(dy: Tensor, inputShape: readonly number[], plan: PoolPlan): Tensor {
  if (hasKernel('avgPool2dGrad', dy)) {
    return runPrimitive('avgPool2dGrad', [dy], { ...plan.attrs, inputShape: inputShape.slice() }, inputShape, dy.dtype);
  }
  const [n, oh, ow, c] = plan.outShape;
  const shares = div(reshape(dy, [n, oh * ow, 1, c]), windowCounts(inputShape, plan, dy.dtype));
  const taps = plan.windows.kernel[0] * plan.windows.kernel[1];
  return foldPatches(mul(shares, ones([1, 1, taps, 1], dy.dtype)), plan.windows, inputShape);
}
