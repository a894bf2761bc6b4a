import { normalizeAxes } from '../core/shape.js';
import { checkKeys } from '../core/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, cast, mul, rsqrt, sub } from './elementwise.js';
import { asTensor, requireFloat, type TensorInput } from './operand.js';
import { moments, type Axis } from './reduction.js';
import { floatType } from '../core/dtype.js';

// Normalization as composites of core ops: their gradients (through the mean and variance too)
// come from the primitives' rules. A fused native kernel can take over later without changing
// these signatures; these stay its fallback and oracle.

/**
 * (x - mean) / sqrt(variance + epsilon) * scale + offset, all broadcasting against x: tfjs's
 * tf.batchNorm. The statistics come from the caller (a batch's moments while training, moving
 * averages at inference).
 */
export function batchNorm(
  x: TensorInput, mean: TensorInput, variance: TensorInput,
  offset?: TensorInput, scale?: TensorInput, varianceEpsilon = 1e-3,
): Tensor {
  const t = asTensor('batchNorm', 'x', x);
  requireFloat('batchNorm', t);
  const inv = rsqrt(add(cast(asTensor('batchNorm', 'variance', variance), t.dtype), varianceEpsilon));
  let y = mul(sub(t, cast(asTensor('batchNorm', 'mean', mean), t.dtype)), scale === undefined ? inv : mul(inv, scale));
  if (offset !== undefined) y = add(y, offset);
  return y;
}

export interface NormalizeOptions {
  /** Axes the statistics are taken over (default: the last). */
  axis?: Axis;
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
  const { mean, variance } = moments(t, axes, true);
  return batchNorm(t, mean, variance, options.offset, options.scale, options.epsilon ?? 1e-3);
}

/** Layer normalization over the last axis (or `axis`), as Keras's LayerNormalization computes it. */
export const layerNorm = (x: TensorInput, options: NormalizeOptions = {}) => normalize(x, options);

