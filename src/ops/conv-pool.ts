import type { Conv2dAttrs, Pool2dAttrs } from '../backend/primitives.js';
import { isGradEnabled } from '../tensor/tape.js';
import { checkKeys } from '../core/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkNhwc } from './conv-geometry.js';
import { conv2dPlanned, convBiasGradsPlanned, floatPair, planConv2d, planFromAttrs } from './conv.js';
import { add, relu, reluGrad } from './elementwise.js';
import { biasOperand, fusedConv2d, type FusedConv2dArgs } from './fused.js';
import { maxPool2d, maxPool2dGrad, planPool2d, poolPlanFromAttrs, type Pool2dOptions } from './pool.js';
import { hasKernel, runPrimitive } from './run.js';
import { reshape, slice } from './shape-ops.js';

// Note [Convolution and pooling in one pass]
// The first block of an image network (a convolution over 1 or 3 channels with a ReLU, then
// max pooling) does a handful of multiply-adds per output value and writes 32 or more channels:
// its time is memory traffic. Unfused, the convolution writes its whole output, pooling reads it
// back, and the backward pass writes the pooling's gradient at full size (three zeros in four
// for 2x2 windows) for the filter gradient to read again: four passes over the largest tensor
// of the network, about a fifth of the Keras-book convnet's training step. The conv2dReluMaxPool
// kernel keeps each image's convolution output in a thread-local buffer that stays in cache and
// pools it at once, keeping each window's winner with the output as max pooling does (Note [Max
// pooling keeps its winners]); its gradient kernel accumulates the filter and bias gradients
// straight from the pooled gradient: each pooled value's gradient, where the value is positive
// (the ReLU's mask), belongs to its window's winner, whose input patch it multiplies. Nothing
// of the convolution's size reaches memory either way.
// Only for few input channels (FUSED_POOL_MAX_CHANNELS): with more, the convolution is compute-bound and
// oneDNN's kernels win, so fused.conv2dMaxPool runs fused.conv2d, maxPool2d and then the ReLU
// (on the pooled values, see fusedConv2dMaxPool). The
// gradient kernel gives the filter and bias only; when x needs a gradient too (a saliency map),
// or when the backward pass is itself recorded, the rule goes through the unfused ops, using
// the winners the forward pass kept.

/**
 * Above this many input channels the convolution is compute-bound and oneDNN's kernels run it.
 * Measured training steps of the block (3x3, 32 filters, 2x2 pooling, batch 64, 32x32 images):
 * one pass each way 1.4x faster than the unfused ops with 3 channels, 1.3x with 8, even with 16.
 */
export const FUSED_POOL_MAX_CHANNELS = 8;

/** Arguments of `st.fused.conv2dMaxPool`: those of `st.fused.conv2d` plus the pooling. */
export interface FusedConv2dMaxPoolArgs extends FusedConv2dArgs {
  /** The max pooling after the convolution (default: 2x2 windows, strides 2, 'valid'). */
  pool?: Pool2dOptions;
}

const KEYS = ['x', 'filter', 'bias', 'activation', 'strides', 'padding', 'dilation', 'pool'];

/**
 * maxPool2d(fused.conv2d({x, filter, bias, activation}), pool): one kernel each way for a
 * convolution over few channels with a bias and a ReLU (the first block of an image network,
 * Note [Convolution and pooling in one pass]); otherwise the two ops, which are also its oracle.
 */
export function fusedConv2dMaxPool(args: FusedConv2dMaxPoolArgs): Tensor {
  checkKeys('fused.conv2dMaxPool', args, KEYS);
  const { pool = {}, ...convArgs } = args;
  const { x, filter, bias, activation = 'linear', ...options } = convArgs;
  if (bias !== undefined && activation === 'relu') {
    const [tx, tf] = floatPair('fused.conv2dMaxPool', x, filter, ['x', 'filter']);
    checkNhwc('fused.conv2dMaxPool', tx);
    if (tx.dtype === 'float32' && tx.shape[3] <= FUSED_POOL_MAX_CHANNELS && hasKernel('conv2dReluMaxPool', tx)) {
      const tb = biasOperand('fused.conv2dMaxPool', bias, tx.dtype, tf.shape[3], 'one per output channel')!;
      const conv = planConv2d('fused.conv2dMaxPool', tx.shape, tf.shape, options);
      const pooled = planPool2d('fused.conv2dMaxPool', conv.outShape, pool);
      const keepIndices = isGradEnabled() && (tx.requiresGrad || tf.requiresGrad || tb.requiresGrad);
      const attrs = { ...conv.attrs, pool: pooled.attrs, convOut: [conv.outShape[1], conv.outShape[2]] as [number, number] };
      return runPrimitive('conv2dReluMaxPool', [tx, tf, tb], keepIndices ? { ...attrs, keepIndices } : attrs, pooled.outShape, tx.dtype);
    }
  }
  // Max pooling commutes with the ReLU (both are monotone; NaN stays NaN either way), and the
  // gradients agree too: a window's gradient reaches its maximum only where that maximum is
  // positive. Pooling first applies the ReLU to a quarter of the values (for 2x2 windows) and
  // its gradient mask to a quarter of the gradient, instead of a pass over the convolution's output.
  if (activation === 'relu') return relu(maxPool2d(fusedConv2d({ ...convArgs, activation: 'linear' }), pool));
  return maxPool2d(fusedConv2d(convArgs), pool);
}

type ConvPoolAttrs = Conv2dAttrs & { pool: Pool2dAttrs; convOut: [number, number] };

/**
 * The gradient of conv2dReluMaxPool (y: its output, with the winners) for the inputs in `needs`
 * (x, filter, bias): the gradient kernel when only the filter and bias need one, else the
 * unfused ops (see the Note).
 */
export function conv2dReluMaxPoolBackward(
  x: Tensor,
  f: Tensor,
  b: Tensor,
  y: Tensor,
  g: Tensor,
  attrs: ConvPoolAttrs,
  needs: readonly boolean[],
): (Tensor | null)[] {
  const { pool, convOut: _convOut, ...convAttrs } = attrs;
  if (!needs[0] && !isGradEnabled() && hasKernel('conv2dReluMaxPoolGrad', x)) {
    const filterSize = f.size,
      channels = f.shape[3];
    const both = runPrimitive('conv2dReluMaxPoolGrad', [x, g, y], { ...attrs, filterShape: f.shape.slice() }, [filterSize + channels], x.dtype);
    return [null, needs[1] ? reshape(slice(both, [0], [filterSize]), f.shape) : null, needs[2] ? slice(both, [filterSize], [channels]) : null];
  }
  const plan = planFromAttrs(x.shape, f.shape, convAttrs);
  const z = relu(add(conv2dPlanned(x, f, plan), b));
  // dy to the winners the forward pass kept (y carries them), then the ReLU's mask.
  const dz = reluGrad(z, maxPool2dGrad(z, g, poolPlanFromAttrs(z.shape, pool), false, y));
  return convBiasGradsPlanned(x, f, dz, plan, needs);
}
