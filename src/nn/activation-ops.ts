import type { Tensor } from '../tensor/tensor.js';
import { greater, mul, where } from '../ops/elementwise.js';
import { floating } from '../ops/math-extra.js';
import { erfc } from '../ops/special.js';
import type { TensorInput } from '../ops/operand.js';
import * as A from './activations.js';

// The activations as top-level ops (st.elu, st.leakyRelu, ...), the way tfjs and keras.ops offer
// them: any tensor input, the parameters as plain arguments. They call st.activations.* (gelu
// aside), so a model and a hand-written loop compute the same numbers.

/** x for x > 0, alpha * (e^x - 1) otherwise (alpha defaults to 1). */
export const elu = (x: TensorInput, alpha = 1): Tensor => A.elu(floating('elu', x), { alpha });
/** scale * elu(x, alpha) with the self-normalizing constants of Klambauer et al. */
export const selu = (x: TensorInput): Tensor => A.selu(floating('selu', x));
/** min(max(x, 0), 6). */
export const relu6 = (x: TensorInput): Tensor => A.relu6(floating('relu6', x));
/** x for x > 0, alpha * x otherwise (tfjs's default alpha 0.2). */
export const leakyRelu = (x: TensorInput, alpha = 0.2): Tensor => A.leakyRelu(floating('leakyRelu', x), { negativeSlope: alpha });
/** log(sigmoid(x)), finite for every x. */
export const logSigmoid = (x: TensorInput): Tensor => A.logSigmoid(floating('logSigmoid', x));
/**
 * x * Phi(x), exact by default; `approximate` takes the tanh form (keras.ops.gelu defaults to it).
 * The exact form uses st.erfc, accurate to float64, where st.activations.gelu uses a cheaper erfc
 * of float32 accuracy (the two agree to 1e-7 relative).
 */
export function gelu(x: TensorInput, approximate = false): Tensor {
  const t = floating('gelu', x);
  if (approximate) return A.gelu(t, { approximate });
  return mul(mul(t, 0.5), erfc(mul(t, -Math.SQRT1_2)));
}
/** x * sigmoid(x). */
export const silu = (x: TensorInput): Tensor => A.silu(floating('silu', x));
/** Keras's other name for silu. */
export const swish = silu;
/** x / (1 + |x|). */
export const softsign = (x: TensorInput): Tensor => A.softsign(floating('softsign', x));
/** relu6(x + 3) / 6, Keras 3's piecewise-linear sigmoid. */
export const hardSigmoid = (x: TensorInput): Tensor => A.hardSigmoid(floating('hardSigmoid', x));
/** x * hardSigmoid(x). */
export const hardSilu = (x: TensorInput): Tensor => A.hardSilu(floating('hardSilu', x));
/** Keras's other name for hardSilu. */
export const hardSwish = hardSilu;

/**
 * x for x > 0, alpha * x otherwise, with `alpha` a tensor broadcast against x (a learned slope per
 * channel, as tfjs's prelu); differentiable in both.
 */
export function prelu(x: TensorInput, alpha: TensorInput): Tensor {
  const t = floating('prelu', x);
  return where(greater(t, 0), t, mul(t, floating('prelu', alpha, 'alpha')));
}
