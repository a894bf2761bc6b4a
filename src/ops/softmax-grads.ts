import type { Tensor } from '../tensor/tensor.js';
import { exp, mul, neg, sub } from './elementwise.js';
import { sum } from './reduction.js';
import { hasKernel, runPrimitive } from './run.js';

// Note [Softmax gradients in one pass]
// The gradient of y = softmax(x) along an axis is dx = y·(g - Σ g·y), and of y = logSoftmax(x)
// dx = g - exp(y)·Σ g. As ops that is four passes over the input's size (a product, a sum, a
// difference, a product); in attention, whose score tensors [batch·heads, T, T] are the largest
// of the model, they took about as long as the attention matmuls. The optional primitives
// softmaxGrad and logSoftmaxGrad (y, g) → dx do it in one pass per row; these functions run
// them where the backend has them and the ops otherwise. Their own VJP rules (second
// derivatives, written with ops below) follow from the same formulas:
//   softmax:    d/dg = softmaxGrad(y, G);   d/dy = G·(g - Σ g·y) - g·Σ G·y
//   logSoftmax: d/dg = G - Σ G·exp(y);      d/dy = -G·exp(y)·Σ g

/** d softmax / d x, given the output y and the upstream gradient g. */
export function softmaxBackward(y: Tensor, g: Tensor, axis: number): Tensor {
  if (hasKernel('softmaxGrad', y)) return runPrimitive('softmaxGrad', [y, g], { axis }, y.shape, y.dtype);
  return mul(y, sub(g, sum(mul(g, y), axis, true)));
}

/** d logSoftmax / d x, given the output y and the upstream gradient g. */
export function logSoftmaxBackward(y: Tensor, g: Tensor, axis: number): Tensor {
  if (hasKernel('logSoftmaxGrad', y)) return runPrimitive('logSoftmaxGrad', [y, g], { axis }, y.shape, y.dtype);
  return sub(g, mul(exp(y), sum(g, axis, true)));
}

/** The VJP of softmaxGrad(y, g) for an upstream G: [d/dy, d/dg]. */
export function softmaxGradVjp(y: Tensor, g: Tensor, G: Tensor, axis: number): [Tensor, Tensor] {
  const dy = sub(mul(G, sub(g, sum(mul(g, y), axis, true))), mul(g, sum(mul(G, y), axis, true)));
  return [dy, softmaxBackward(y, G, axis)];
}

/** The VJP of logSoftmaxGrad(y, g) for an upstream G: [d/dy, d/dg]. */
export function logSoftmaxGradVjp(y: Tensor, g: Tensor, G: Tensor, axis: number): [Tensor, Tensor] {
  const p = exp(y);
  return [neg(mul(mul(G, p), sum(g, axis, true))), sub(G, sum(mul(G, p), axis, true))];
}
