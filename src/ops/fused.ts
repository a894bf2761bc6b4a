import type { FusedActivation } from '../backend/primitives.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import { Tensor } from '../tensor/tensor.js';
import { checkNhwc } from './conv-geometry.js';
import { conv2d, planConv2d, type Conv2dOptions } from './conv.js';
import { add, cast, relu } from './elementwise.js';
import { asTensor, requireFloat, type TensorInput } from './operand.js';
import { hasKernel, runPrimitive } from './run.js';
import { promoteTypes } from '../core/dtype.js';

export interface FusedConv2dArgs extends Conv2dOptions {
  x: TensorInput;
  filter: TensorInput;
  /** Per output channel, shape [outChannels]. */
  bias?: TensorInput;
  activation?: FusedActivation;
}

const FUSED_CONV_KEYS = ['x', 'filter', 'bias', 'activation', 'strides', 'padding', 'dilation'];

/**
 * activation(conv2d(x, filter) + bias), as tfjs's tf.fused.conv2d: one kernel where the backend
 * has one (the bias and ReLU ride along as oneDNN post-ops), else the three ops it stands for,
 * which are also its test oracle. The gradient is the same either way.
 */
export function fusedConv2d(args: FusedConv2dArgs): Tensor {
  checkKeys('fused.conv2d', args, FUSED_CONV_KEYS);
  const { x, filter, bias, activation = 'linear', ...options } = args;
  checkOneOf('fused.conv2d', 'activation', activation, ['linear', 'relu'] as const);
  let tx = asTensor('fused.conv2d', 'x', x), tf = asTensor('fused.conv2d', 'filter', filter);
  requireFloat('fused.conv2d', tx);
  requireFloat('fused.conv2d', tf);
  const dtype = promoteTypes(tx.dtype, tf.dtype);
  tx = cast(tx, dtype);
  tf = cast(tf, dtype);
  const tb = bias === undefined ? undefined : cast(asTensor('fused.conv2d', 'bias', bias), dtype);
  if (tb && (tb.rank !== 1 || tb.shape[0] !== tf.shape[3])) {
    throw new ShapeError(`fused.conv2d: bias must have shape [${tf.shape[3]}] (one per output channel); received ${fmtShape(tb.shape)}`);
  }
  checkNhwc('fused.conv2d', tx);
  if (tb && hasKernel('fusedConv2d', tx)) {
    const plan = planConv2d('fused.conv2d', tx.shape, tf.shape, options);
    return runPrimitive('fusedConv2d', [tx, tf, tb], { ...plan.attrs, activation }, plan.outShape, dtype);
  }
  return fusedConv2dComposite(tx, tf, tb, activation, options);
}

/** The unfused ops: the fallback and the oracle the fused kernels are tested against. */
export function fusedConv2dComposite(x: Tensor, filter: Tensor, bias: Tensor | undefined, activation: FusedActivation, options: Conv2dOptions): Tensor {
  let y = conv2d(x, filter, options);
  if (bias) y = add(y, bias);
  return activation === 'relu' ? relu(y) : y;
}

export const fused = { conv2d: fusedConv2d };
