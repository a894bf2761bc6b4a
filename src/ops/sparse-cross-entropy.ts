import type { Tensor } from '../tensor/tensor.js';
import { cast, mul, sub } from './elementwise.js';
import { oneHot, softmax } from './nn.js';
import { sum } from './reduction.js';
import { hasKernel, runPrimitive } from './run.js';
import { reshape } from './shape-ops.js';
import { softmaxBackward } from './softmax-grads.js';

// Note [Sparse softmax cross-entropy in one pass]
// sparseCategoricalCrossentropy with fromLogits is -Σ onehot(label)·logSoftmax(z): a log-softmax,
// a one-hot, a product, a sum and a negation forward, as many ops again backward, for a loss
// that is one number per row. Every classifier ends with it, and in a small model's step (the
// 784-512-10 MLP) those ops cost about a tenth of the step. Where the backend has them,
// sparseSoftmaxCrossEntropy computes each row's logsumexp(z) - z[label] in one pass and
// sparseSoftmaxCrossEntropyGrad the gradient g·(softmax(z) - onehot(label)) in another (as
// PyTorch's cross_entropy does). The native kernel also refuses labels outside [0, classes),
// which the composite would silently score as zero loss. Second derivatives go through the
// gradient primitive's rule below, written with ops.

/** Whether the fused loss runs for logits z on their backend. */
export const hasSparseCrossEntropy = (z: Tensor): boolean => z.dtype === 'float32' && hasKernel('sparseSoftmaxCrossEntropy', z);

/** Per-sample losses (labels' shape) for logits [..., C] and int32 labels [...]; callers check hasSparseCrossEntropy. */
export function sparseSoftmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const classes = logits.shape[logits.rank - 1];
  const rows = logits.size / classes;
  const losses = runPrimitive('sparseSoftmaxCrossEntropy', [reshape(logits, [rows, classes]), reshape(labels, [rows])], {}, [rows], logits.dtype);
  return reshape(losses, labels.shape);
}

/** The loss's VJP in the logits: one sparseSoftmaxCrossEntropyGrad call (or the same formula as ops). */
export function sparseSoftmaxCrossEntropyBackward(z: Tensor, labels: Tensor, g: Tensor): Tensor {
  if (hasKernel('sparseSoftmaxCrossEntropyGrad', z)) return runPrimitive('sparseSoftmaxCrossEntropyGrad', [z, labels, g], {}, z.shape, z.dtype);
  return mul(sub(softmax(z, -1), cast(oneHot(labels, z.shape[1], { dtype: 'float32' }), z.dtype)), reshape(g, [z.shape[0], 1]));
}

/** The VJP of sparseSoftmaxCrossEntropyGrad(z, labels, g) for an upstream G [N, C]: [d/dz, null, d/dg]. */
export function sparseSoftmaxCrossEntropyGradVjp(z: Tensor, labels: Tensor, g: Tensor, G: Tensor): [Tensor, null, Tensor] {
  const s = softmax(z, -1);
  const rows: [number, number] = [z.shape[0], 1];
  const dz = mul(softmaxBackward(s, G, 1), reshape(g, rows));
  const dg = sum(mul(G, sub(s, cast(oneHot(labels, z.shape[1], { dtype: 'float32' }), z.dtype))), 1);
  return [dz, null, dg];
}
