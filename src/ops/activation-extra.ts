import { ShapeError, fmtShape } from '../core/errors.js';
import { normalizeAxis } from '../core/shape.js';
import { full } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  abs,
  add,
  clip,
  div,
  greater,
  greaterEqual,
  less,
  lessEqual,
  maximum,
  minimum,
  mul,
  sigmoid,
  sqrt,
  square,
  sub,
  tanh,
  where,
} from './elementwise.js';
import { expm1, floating } from './math-extra.js';
import type { TensorInput } from './operand.js';
import { split } from './shape-ops.js';

// The activation functions Keras 3 added in its later releases (keras.ops and keras.activations),
// as ops: elementwise composites with Keras's definitions and defaults.

/** max(x, 0) + alpha * (e^(min(x, 0) / alpha) - 1) (alpha defaults to 1). */
export function celu(x: TensorInput, alpha = 1): Tensor {
  const t = floating('celu', x);
  return add(maximum(t, 0), mul(expm1(div(minimum(t, 0), alpha)), alpha));
}

/** The gated linear unit: x split in two halves a, b along `axis` (default -1), then a * sigmoid(b). */
export function glu(x: TensorInput, axis = -1): Tensor {
  const t = floating('glu', x);
  const a = normalizeAxis('glu', axis, t.rank);
  if (t.shape[a] % 2 !== 0) throw new ShapeError(`glu: axis ${axis} of shape ${fmtShape(t.shape)} must have an even size`);
  const [first, second] = split(t, 2, a);
  return mul(first, sigmoid(second));
}

/** clip(x, -1, 1). */
export const hardTanh = (x: TensorInput): Tensor => clip(floating('hardTanh', x), -1, 1);

/** x where |x| > threshold (default 0.5), else 0. */
export function hardShrink(x: TensorInput, threshold = 0.5): Tensor {
  const t = floating('hardShrink', x);
  return where(greater(abs(t), threshold), t, 0);
}

/** x - threshold above threshold (default 0.5), x + threshold below -threshold, else 0. */
export function softShrink(x: TensorInput, threshold = 0.5): Tensor {
  const t = floating('softShrink', x);
  return where(greater(t, threshold), sub(t, threshold), where(less(t, -threshold), add(t, threshold), 0));
}

/** 0 for x <= -1, (x + 1)^2 / 4 on (-1, 1), x from 1 on: a smooth relu. */
export function sparsePlus(x: TensorInput): Tensor {
  const t = floating('sparsePlus', x);
  return where(lessEqual(t, -1), 0, where(less(t, 1), mul(square(add(t, 1)), 0.25), t));
}

/** 0 for x <= -1, (x + 1) / 2 on (-1, 1), 1 from 1 on. */
export function sparseSigmoid(x: TensorInput): Tensor {
  const t = floating('sparseSigmoid', x);
  return where(lessEqual(t, -1), 0, where(greaterEqual(t, 1), 1, mul(add(t, 1), 0.5)));
}

/** (x + sqrt(x^2 + b)) / 2 (b defaults to 4). */
export function squareplus(x: TensorInput, b = 4): Tensor {
  const t = floating('squareplus', x);
  return mul(add(t, sqrt(add(square(t), b))), 0.5);
}

/** x - tanh(x). */
export const tanhShrink = (x: TensorInput): Tensor => {
  const t = floating('tanhShrink', x);
  return sub(t, tanh(t));
};

/** x where x > threshold, else defaultValue. */
export function threshold(x: TensorInput, thresholdValue: number, defaultValue: number): Tensor {
  const t = floating('threshold', x);
  return where(greater(t, thresholdValue), t, full([], defaultValue, t.dtype));
}
