import { ValueError, fmtShape } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import { asTensor, type TensorInput } from '../ops/operand.js';
import { zerosLike } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { backpropagate } from './backward.js';
import { isGradEnabled } from '../tensor/tape.js';

/** A trainable tensor: a leaf of the tape whose gradient `backward()` accumulates in `.grad`. */
export function variable(initial: TensorInput, options: { trainable?: boolean } = {}): Tensor {
  const t = asTensor('variable', 'initial', initial);
  const v = new Tensor(t.storage, t.shape, t.dtype, t.backend);
  const trainable = options.trainable ?? true;
  if (trainable && !isFloat(t.dtype)) {
    throw new ValueError(`variable: only floating tensors can require grad; received ${t.dtype} of shape ${fmtShape(t.shape)} (pass {trainable: false})`);
  }
  v.requiresGrad = trainable;
  return v;
}

/** A tape leaf standing for `x` inside grad(): x itself when it is already tracked (nested use). */
function source(x: TensorInput, i: number): Tensor {
  const t = asTensor('grad', `x${i}`, x);
  if (!isFloat(t.dtype)) throw new ValueError(`grad: can only differentiate with respect to floating tensors; argument ${i} is ${t.dtype}`);
  if (t.requiresGrad) return t;
  const leaf = new Tensor(t.storage, t.shape, t.dtype, t.backend);
  leaf.requiresGrad = true;
  return leaf;
}

function scalarOutput(op: string, y: unknown): Tensor {
  if (!(y instanceof Tensor)) throw new ValueError(`${op}: the function must return a Tensor; received ${typeof y}`);
  if (y.size !== 1) throw new ValueError(`${op}: the function must return a scalar; received shape ${fmtShape(y.shape)}`);
  return y;
}

/**
 * Gradients of a scalar function with respect to each argument, without touching `.grad`.
 * While grad mode is on the gradient computation is recorded, so grad(grad(f)) and gradient
 * penalties differentiate through it.
 */
export function valueAndGrad(f: (...xs: Tensor[]) => Tensor) {
  return (...xs: TensorInput[]): { value: Tensor; grads: Tensor[] } => {
    const sources = xs.map(source);
    const value = scalarOutput('valueAndGrad', f(...sources));
    if (!value.requiresGrad) return { value, grads: sources.map((s) => zerosLike(s)) };
    const wanted = new Set(sources);
    const grads = backpropagate(value, undefined, isGradEnabled(), 'valueAndGrad', (t) => wanted.has(t));
    return { value, grads: sources.map((s) => grads.get(s) ?? zerosLike(s)) };
  };
}

/** The gradient of a scalar function of one tensor: st.grad(f)(x) has x's shape. */
export function grad(f: (x: Tensor) => Tensor) {
  return (x: TensorInput): Tensor => valueAndGrad((t) => f(t))(x).grads[0];
}
