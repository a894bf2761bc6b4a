// The gradient of a scalar function of a model's output with respect to the model's input: what
// saliency maps and adversarial examples (FGSM) are made of. Training differentiates the loss by
// the weights; here the weights stay fixed and the input is the variable.
import { valueAndGrad } from '../autograd/functional.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import { Model } from '../models/model.js';
import { asTensor, type TensorInput } from '../ops/operand.js';
import { Tensor } from '../tensor/tensor.js';

/** Checks that `model` is a model with one input and one output, and `x` a floating batch of that input's rank. */
export function checkModelInput(op: string, model: unknown, x: TensorInput): { model: Model; x: Tensor } {
  if (!(model instanceof Model)) throw new ValueError(`${op}: expected a model (st.model or st.sequential); received ${fmtValue(model)}`);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ValueError(
      `${op}: expected a model with one input and one output; '${model.name}' has ${model.inputs.length} inputs and ${model.outputs.length} outputs`,
    );
  }
  const t = asTensor(op, 'x', x);
  if (!isFloat(t.dtype))
    throw new ValueError(`${op}: x must be a floating tensor (the model's input); received ${t.dtype} of shape ${fmtShape(t.shape)}`);
  const expected = model.inputs[0].shape;
  const fits = t.rank === expected.length && expected.every((d, i) => i === 0 || d === null || d === t.shape[i]);
  if (!fits) {
    throw new ShapeError(
      `${op}: x must be a batch of the model's input, shape [${expected.map((d) => d ?? 'null').join(', ')}]; received ${fmtShape(t.shape)}`,
    );
  }
  return { model, x: t };
}

/**
 * The gradient of `lossFn(model(x))` with respect to the input `x`, of x's shape: how each input
 * value would change the loss. The model runs in inference mode (dropout off, batch
 * normalization on its moving statistics), as it does when it is attacked or explained.
 * `lossFn` takes the model's output and returns a one-element tensor; for a batch, a loss that
 * adds up (or averages) per-example terms gives each example the gradient of its own term.
 *
 * This is what adversarial examples are made from: FGSM moves x by ε·sign(gradient of the
 * training loss); `st.vis.saliency` is the size of the gradient of one class score.
 * @throws ValueError for a model with several inputs or outputs, a lossFn that does not return
 * a one-element tensor; ShapeError for x of another shape than the model's input.
 * @example
 * ```ts
 * const grad = st.vis.inputGradient(model, images, (probs) =>
 *   st.losses.sparseCategoricalCrossentropy(labels, probs));
 * const adversarial = st.clip(images.add(grad.sign().mul(0.1)), 0, 1); // FGSM, ε = 0.1
 * ```
 */
export function inputGradient(model: Model, x: TensorInput, lossFn: (output: Tensor) => Tensor): Tensor {
  const op = 'inputGradient';
  const checked = checkModelInput(op, model, x);
  if (typeof lossFn !== 'function') throw new ValueError(`${op}: lossFn must be a function of the model's output; received ${fmtValue(lossFn)}`);
  const objective = (input: Tensor): Tensor => {
    const loss = lossFn(checked.model.apply(input, { training: false }) as Tensor);
    if (!(loss instanceof Tensor) || loss.size !== 1) {
      const got = loss instanceof Tensor ? `a tensor of shape ${fmtShape(loss.shape)}` : fmtValue(loss);
      throw new ValueError(`${op}: lossFn must return a one-element tensor (reduce the loss, e.g. with st.mean); received ${got}`);
    }
    return loss;
  };
  return valueAndGrad(objective)(checked.x).grads[0];
}
