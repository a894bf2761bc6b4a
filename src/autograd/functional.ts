import { ValueError, fmtShape } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import { asTensor, type TensorInput } from '../ops/operand.js';
import { zerosLike } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { backpropagate } from './backward.js';
import { isGradEnabled } from '../tensor/tape.js';

/**
 * A trainable tensor: a leaf of the tape whose gradient `backward()` accumulates in `.grad`
 * (PyTorch's `requires_grad=True` tensor). It shares `initial`'s storage until an optimizer or
 * `assign()` gives it new values. `{trainable: false}` makes a plain leaf that records nothing.
 * @throws ValueError for an int32 or bool tensor that is to be trainable.
 * @example
 * ```ts
 * const w = st.variable(st.randomNormal([3, 2]));
 * st.tensor([[1, 2, 3]]).matmul(w).square().sum().backward();
 * console.log(w.grad?.shape); // [3, 2]
 * ```
 */
export function variable(initial: TensorInput, options: { trainable?: boolean } = {}): Tensor {
  const t = asTensor('variable', 'initial', initial);
  const v = new Tensor(t.storage, t.shape, t.dtype, t.backend);
  const trainable = options.trainable ?? true;
  if (trainable && !isFloat(t.dtype)) {
    throw new ValueError(
      `variable: only floating tensors can require grad; received ${t.dtype} of shape ${fmtShape(t.shape)} (pass {trainable: false})`,
    );
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
 * Gradients of a scalar function with respect to each argument, without touching `.grad`
 * (JAX's value_and_grad). `st.valueAndGrad(f)(...xs)` returns `f(...xs)` and one gradient per
 * argument, of its shape (zeros for an argument the value does not depend on).
 * While grad mode is on the gradient computation is recorded, so grad(grad(f)) and gradient
 * penalties differentiate through it.
 * @throws ValueError when `f` does not return a one-element tensor, or an argument is not floating.
 * @example
 * ```ts
 * const f = (a: st.Tensor, b: st.Tensor) => a.mul(b).sum();
 * const { value, grads } = st.valueAndGrad(f)(st.tensor([1, 2]), st.tensor([3, 4]));
 * console.log(await value.array(), await grads[0].array()); // 11 [3, 4]
 * ```
 */
export function valueAndGrad(f: (...xs: Tensor[]) => Tensor) {
  return (
    ...xs: TensorInput[]
  ): {
    /** `f(...xs)`. */
    value: Tensor;
    /** d value / d xs[i], one per argument. */
    grads: Tensor[];
  } => {
    const sources = xs.map(source);
    const value = scalarOutput('valueAndGrad', f(...sources));
    if (!value.requiresGrad) return { value, grads: sources.map((s) => zerosLike(s)) };
    const wanted = new Set(sources);
    const grads = backpropagate(value, undefined, isGradEnabled(), 'valueAndGrad', (t) => wanted.has(t));
    return { value, grads: sources.map((s) => grads.get(s) ?? zerosLike(s)) };
  };
}

/**
 * The gradient of a scalar function of one tensor: `st.grad(f)(x)` has x's shape. Nest it for
 * higher derivatives. See {@link valueAndGrad} for several arguments.
 * @throws ValueError when `f` does not return a one-element tensor, or x is not floating.
 * @example
 * ```ts
 * const dSquare = st.grad((x) => x.square().sum());
 * console.log(await dSquare(st.tensor([1, 2, 3])).array()); // [2, 4, 6]
 * const d2 = st.grad((x) => st.grad((u) => st.tanh(u).sum())(x).sum()); // tanh''
 * console.log(await d2(st.tensor([0.5])).array());
 * ```
 */
export function grad(f: (x: Tensor) => Tensor) {
  return (x: TensorInput): Tensor => valueAndGrad((t) => f(t))(x).grads[0];
}
