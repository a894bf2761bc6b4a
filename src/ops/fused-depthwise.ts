import type { ConvActivation } from '../backend/primitives.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { floatPair, type Conv2dOptions } from './conv.js';
import { depthwiseConv2dPlanned, fusedDepthwiseConv2dPlanned, planDepthwise } from './depthwise-conv.js';
import { applyActivation, biasOperand } from './fused.js';
import type { TensorInput } from './operand.js';

/** Arguments of `st.fused.depthwiseConv2d`: depthwiseConv2d's options plus the operands, bias and activation. */
export interface FusedDepthwiseConv2dArgs extends Conv2dOptions {
  /** The input, NHWC [batch, height, width, channels]. */
  x: TensorInput;
  /** The kernel, [kh, kw, channels, depthMultiplier]. */
  filter: TensorInput;
  /** Per output channel, shape [channels * depthMultiplier]. */
  bias?: TensorInput;
  /** 'linear' (default), 'relu' or 'relu6' (min(max(x, 0), 6)). */
  activation?: ConvActivation;
}

const KEYS = ['x', 'filter', 'bias', 'activation', 'strides', 'padding', 'dilation'];

/**
 * activation(depthwiseConv2d(x, filter) + bias), as tfjs's tf.fused.depthwiseConv2d: one kernel
 * where the backend has one (native: oneDNN's grouped convolution with its bias, then the
 * activation in the same call), else the ops it stands for, which are also its test oracle. The
 * gradient is the same either way.
 */
export function fusedDepthwiseConv2d(args: FusedDepthwiseConv2dArgs): Tensor {
  checkKeys('fused.depthwiseConv2d', args, KEYS);
  const { x, filter, bias, activation = 'linear', ...options } = args;
  checkOneOf('fused.depthwiseConv2d', 'activation', activation, ['linear', 'relu', 'relu6'] as const);
  const [tx, tf] = floatPair('fused.depthwiseConv2d', x, filter, ['x', 'filter']);
  const plan = planDepthwise(tx, tf, options);
  const channels = plan.outShape[3];
  const tb = biasOperand('fused.depthwiseConv2d', bias, tx.dtype, channels, 'one per output channel');
  if (tb) return fusedDepthwiseConv2dPlanned(tx, tf, tb, activation, plan);
  return applyActivation(depthwiseConv2dPlanned(tx, tf, plan), activation);
}
