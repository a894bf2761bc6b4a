import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { asTensor, type TensorInput } from '../ops/operand.js';
import { noGrad, record } from '../tensor/tape.js';
import { Tensor } from '../tensor/tensor.js';

// Note [Custom gradients]
// st.customGrad(f) runs f's forward computation without recording it and puts one node on the
// tape for the whole of it: the node's inputs are f's tensor arguments and its rule is the
// user's gradFunc. So backward() never sees the ops inside f (their own gradients may be
// unstable or undefined, which is the point), and with createGraph the ops gradFunc runs are
// recorded like any rule's, so a user rule written with differentiable ops has second
// derivatives. Tensors f reads from its closure get no gradient through it (as in tfjs): pass
// them as arguments.

/** Keeps tensors from the forward pass for gradFunc (tfjs's GradSaveFunc). */
export type GradSaveFunc = (save: Tensor[]) => void;

/** What the function given to st.customGrad returns. */
export interface CustomGradResult {
  /** The forward value. */
  value: Tensor;
  /**
   * The gradient of each argument given the output's gradient `dy` and the tensors passed to
   * `save`: one tensor (one argument) or one per argument, each of its argument's shape (null
   * for an argument without a gradient).
   */
  gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor | (Tensor | null)[];
}

/**
 * A function with a gradient of your own (tfjs's tf.customGrad, Keras 3's ops.custom_gradient):
 * `f(...args, save)` returns `{value, gradFunc}`, and the returned function computes `value`
 * with one tape node whose gradient is `gradFunc` (Note [Custom gradients]). Use it for
 * numerically stable gradients, gradient clipping or straight-through estimators.
 * @throws ValueError when f does not return {value, gradFunc}; ShapeError when gradFunc returns
 * the wrong number of gradients or a gradient of the wrong shape.
 * @example
 * ```ts
 * // log(1 + e^x) whose gradient stays finite where e^x overflows.
 * const log1pexp = st.customGrad((x: st.Tensor) => ({
 *   value: st.log1p(st.exp(x)),
 *   gradFunc: (dy) => dy.mul(st.sigmoid(x)),
 * }));
 * const x = st.variable(st.tensor([100]));
 * log1pexp(x).sum().backward();
 * console.log(await x.grad!.data()); // [1]
 * ```
 */
export function customGrad(f: (...args: never[]) => CustomGradResult): (...xs: TensorInput[]) => Tensor {
  const run = f as unknown as (...args: (Tensor | GradSaveFunc)[]) => CustomGradResult;
  return (...xs: TensorInput[]) => {
    const inputs = xs.map((x, i) => asTensor('customGrad', `x${i}`, x));
    let saved: Tensor[] = [];
    const save: GradSaveFunc = (tensors) => {
      saved = tensors;
    };
    const result = noGrad(() => run(...inputs, save));
    if (!result || !(result.value instanceof Tensor) || typeof result.gradFunc !== 'function') {
      throw new ValueError('customGrad: the function must return {value: Tensor, gradFunc: (dy, saved) => gradients}');
    }
    const { value, gradFunc } = result;
    // A new tensor on the value's storage: value may be one of the inputs, which must stay a leaf.
    const out = new Tensor(value.storage, value.shape, value.dtype, value.backend);
    const vjp = (dy: object) => {
      const raw = gradFunc(dy as Tensor, saved);
      const grads = raw instanceof Tensor ? [raw] : raw;
      if (!Array.isArray(grads) || grads.length !== inputs.length) {
        throw new ShapeError(
          `customGrad: gradFunc must return ${inputs.length} gradient(s), one per argument; received ${Array.isArray(grads) ? grads.length : typeof grads}`,
        );
      }
      grads.forEach((g, i) => {
        if (g !== null && !(g instanceof Tensor && shapesEqual(g.shape, inputs[i].shape))) {
          const got = g instanceof Tensor ? `shape ${fmtShape(g.shape)}` : typeof g;
          throw new ShapeError(
            `customGrad: the gradient of argument ${i} must have its shape ${fmtShape(inputs[i].shape)}; gradFunc returned ${got}`,
          );
        }
      });
      return grads;
    };
    record(out, 'customGrad', inputs, { vjp });
    return out;
  };
}
