import { isGradEnabled } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { hasKernel } from './run.js';
import { maxPool2dGrad, type PoolPlan } from './pool.js';

// Note [Gradients already masked by a ReLU]
// A convolution with a fused ReLU followed by max pooling is the block of every classic convnet.
// Its backward pass runs maxPool2dGrad (dy to each window's maximum) and then reluGrad (zero
// where the convolution's output is not positive): two passes over the largest tensor of the
// network, the second only to zero the windows whose maximum is 0. When the pooled tensor is
// such a ReLU output, the max-pooling rule asks the kernel to route dy only to positive maxima
// instead, which is exactly reluGrad(y, maxPool2dGrad(y, dy)), and records that the result is
// already masked for y; fusedConv2d's rule then skips its reluGrad. Both decisions are local
// and safe:
//  - the masked gradient differs from the true gradient of y only where y is 0, and y's only
//    consumer of gradients is its own fusedConv2d rule, which zeroes those places anyway; so the
//    masking is used only when the caller did not ask for y's own gradient (`wanted`);
//  - fusedConv2d skips reluGrad only when the gradient reaching y is that very tensor: a second
//    consumer of y adds its gradient into a new tensor, which gets the full reluGrad.
// Only while not recording (createGraph off), so a recorded backward pass keeps the plain ops.
const maskedFor = new WeakMap<Tensor, Tensor>();

/** maxPool2d's gradient (y: its forward output), masked by the ReLU that produced x when that is safe (see the Note). */
export function maxPool2dGradMaybeMasked(x: Tensor, dy: Tensor, plan: PoolPlan, xWanted: boolean, y?: Tensor): Tensor {
  const node = x.node;
  const reluOutput = node?.primitive === 'fusedConv2d' && (node.attrs as { activation?: string }).activation === 'relu';
  if (!reluOutput || xWanted || isGradEnabled() || !hasKernel('maxPool2dGrad', x)) return maxPool2dGrad(x, dy, plan, false, y);
  const dx = maxPool2dGrad(x, dy, plan, true, y);
  maskedFor.set(dx, x);
  return dx;
}

/** Whether g, the gradient reaching the ReLU output y, already carries relu's mask for y. */
export const isMaskedFor = (g: Tensor, y: Tensor): boolean => maskedFor.get(g) === y;
