// Keras 3's rms_normalization (Zhang and Sennrich 2019), a composite: its gradient comes from the
// primitives' rules.
import { floatType } from '../core/dtype.js';
import { checkKeys } from '../core/options.js';
import { normalizeAxes } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, cast, mul, rsqrt, square } from './elementwise.js';
import { asTensor, type TensorInput } from './operand.js';
import { mean, type Axis } from './reduction.js';

/** Options of `st.rmsNormalization`. */
export interface RmsNormalizationOptions {
  /** Multiplies the normalized values, broadcast against x (the RMSNormalization layer's scale). Default 1. */
  scale?: TensorInput;
  /** The axis or axes the mean square is taken over. Default -1. */
  axis?: Axis;
  /** Added to the mean square before the root. Default 1e-7 (Keras's backend epsilon). */
  epsilon?: number;
}

/**
 * x · rsqrt(mean(x², axis) + epsilon) · scale (Keras 3's `keras.ops.rms_normalization`): each
 * vector along `axis` is divided by its root mean square, without centring it first as layer
 * normalization does. Integer inputs give float32.
 * @throws ValueError for an axis out of range or an unknown option.
 * @example
 * ```ts
 * console.log(await st.rmsNormalization(st.tensor([[3, 4]])).array()); // ≈ [[0.8485, 1.1314]]
 * ```
 */
export function rmsNormalization(x: TensorInput, options: RmsNormalizationOptions = {}): Tensor {
  checkKeys('rmsNormalization', options, ['scale', 'axis', 'epsilon']);
  let t = asTensor('rmsNormalization', 'x', x);
  t = cast(t, floatType(t.dtype));
  const axes = normalizeAxes('rmsNormalization', options.axis ?? -1, t.rank);
  const y = mul(t, rsqrt(add(mean(square(t), axes, true), options.epsilon ?? 1e-7)));
  return options.scale === undefined ? y : mul(y, asTensor('rmsNormalization', 'scale', options.scale));
}
