import { normalizeAxes } from '../core/shape.js';
import { checkKeys } from '../core/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, cast, mul, rsqrt, sub } from './elementwise.js';
import { asTensor, requireFloat, type TensorInput } from './operand.js';
import { moments, type Axis } from './reduction.js';
import { floatType } from '../core/dtype.js';
import { ShapeError } from '../core/errors.js';
import { reshape } from './shape-ops.js';
import { channelOperand, fusedBatchNormApply, fusedBatchNormTraining, fusedLayerNorm } from './normalization-fused.js';

// Normalization as composites of core ops: their gradients (through the mean and variance too)
// come from the primitives' rules. For channels-last float32 data a backend's fused kernels take
// over (Note [Fused normalization] in normalization-fused.ts); the composites stay their
// fallback and oracle.

/**
 * (x - mean) / sqrt(variance + epsilon) * scale + offset, all broadcasting against x: tfjs's
 * tf.batchNorm. The statistics come from the caller (a batch's moments while training, moving
 * averages at inference).
 */
export function batchNorm(
  x: TensorInput,
  mean: TensorInput,
  variance: TensorInput,
  offset?: TensorInput,
  scale?: TensorInput,
  varianceEpsilon = 1e-3,
): Tensor {
  const t = asTensor('batchNorm', 'x', x);
  requireFloat('batchNorm', t);
  const operand = (name: string, v: TensorInput | undefined) => (v === undefined ? undefined : asTensor('batchNorm', name, v));
  // Mean and variance take x's dtype; scale and offset promote as in any product and sum.
  const [m, v] = [cast(operand('mean', mean)!, t.dtype), cast(operand('variance', variance)!, t.dtype)];
  const [o, s] = [operand('offset', offset), operand('scale', scale)];
  return fusedBatchNormApply(t, m, v, o, s, varianceEpsilon) ?? batchNormComposite(t, m, v, o, s, varianceEpsilon);
}

/** batchNorm as separate ops, for any broadcasting: the fallback and the oracle. */
export function batchNormComposite(
  x: Tensor,
  mean: Tensor,
  variance: Tensor,
  offset: Tensor | undefined,
  scale: Tensor | undefined,
  varianceEpsilon: number,
): Tensor {
  const inv = rsqrt(add(variance, varianceEpsilon));
  let y = mul(sub(x, mean), scale === undefined ? inv : mul(inv, scale));
  if (offset !== undefined) y = add(y, offset);
  return y;
}

/** Options of `st.batchNormTraining`. */
export interface BatchNormTrainingOptions {
  /** Multiplies the normalized values, shape [C] (Keras's gamma). */
  scale?: TensorInput;
  /** Added last, shape [C] (Keras's beta). */
  offset?: TensorInput;
  /** Added to the variance (Keras's default, 1e-3). */
  epsilon?: number;
}

/**
 * Batch normalization as a training step computes it, channels last: statistics over every axis
 * but the last, y = (x - mean)/√(variance + ε)·scale + offset, and the batch's mean and biased
 * variance ([C] each) for the moving averages. Gradients flow through the statistics.
 */
export function batchNormTraining(
  x: TensorInput,
  options: BatchNormTrainingOptions = {},
): {
  /** The normalized, scaled and offset values, x's shape. */
  y: Tensor;
  /** The batch mean per channel, [C]. */
  mean: Tensor;
  /** The batch's population variance per channel, [C]. */
  variance: Tensor;
} {
  checkKeys('batchNormTraining', options, ['scale', 'offset', 'epsilon']);
  const t = asTensor('batchNormTraining', 'x', x);
  requireFloat('batchNormTraining', t);
  if (t.rank < 2)
    throw new ShapeError(`batchNormTraining: x must have rank >= 2 (batch axes, then channels); received shape [${t.shape.join(', ')}]`);
  const operand = (name: 'scale' | 'offset') => {
    const v = options[name];
    return channelOperand('batchNormTraining', name, v === undefined ? undefined : cast(asTensor('batchNormTraining', name, v), t.dtype), t);
  };
  const [scale, offset] = [operand('scale'), operand('offset')];
  const epsilon = options.epsilon ?? 1e-3;
  return fusedBatchNormTraining(t, scale, offset, epsilon) ?? batchNormTrainingComposite(t, scale, offset, epsilon);
}

/** batchNormTraining as moments and batchNorm's ops: the fallback and the oracle. */
export function batchNormTrainingComposite(x: Tensor, scale: Tensor | undefined, offset: Tensor | undefined, epsilon: number) {
  const channels = x.shape[x.rank - 1];
  const { mean, variance } = moments(
    x,
    x.shape.slice(0, -1).map((_, i) => i),
    true,
  );
  const y = batchNormComposite(x, mean, variance, offset, scale, epsilon);
  return { y, mean: reshape(mean, [channels]), variance: reshape(variance, [channels]) };
}

/** Options of `st.normalize` and `st.layerNorm`. */
export interface NormalizeOptions {
  /** Axes the statistics are taken over (default: the last). */
  axis?: Axis;
  /** Added to the variance before the square root. Default 1e-3. */
  epsilon?: number;
  /** Multiplies the normalized values (Keras's gamma). */
  scale?: TensorInput;
  /** Added last (Keras's beta). */
  offset?: TensorInput;
}

/**
 * Normalizes x over `axis` with its own mean and (population) variance: layer normalization
 * over the feature axes, instance normalization over the spatial axes, group normalization
 * after a reshape. Keras's epsilon default, 1e-3.
 */
export function normalize(x: TensorInput, options: NormalizeOptions = {}): Tensor {
  checkKeys('normalize', options, ['axis', 'epsilon', 'scale', 'offset']);
  let t = asTensor('normalize', 'x', x);
  t = cast(t, floatType(t.dtype));
  const axes = normalizeAxes('normalize', options.axis ?? -1, t.rank);
  const operand = (name: 'scale' | 'offset') => {
    const v = options[name];
    return v === undefined ? undefined : asTensor('normalize', name, v);
  };
  const [scale, offset] = [operand('scale'), operand('offset')];
  const epsilon = options.epsilon ?? 1e-3;
  const lastAxisOnly = axes.length === 1 && axes[0] === t.rank - 1;
  return (lastAxisOnly ? fusedLayerNorm(t, scale, offset, epsilon) : undefined) ?? normalizeComposite(t, axes, scale, offset, epsilon);
}

/** normalize as moments and batchNorm's ops: the fallback and the oracle. */
export function normalizeComposite(x: Tensor, axes: number[], scale: Tensor | undefined, offset: Tensor | undefined, epsilon: number): Tensor {
  const { mean, variance } = moments(x, axes, true);
  return batchNormComposite(x, mean, variance, offset, scale, epsilon);
}

/** Layer normalization over the last axis (or `axis`), as Keras's LayerNormalization computes it. */
export const layerNorm = (x: TensorInput, options: NormalizeOptions = {}) => normalize(x, options);
