import type { ConvActivation, FusedActivation } from '../backend/primitives.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkNhwc } from './conv-geometry.js';
import { conv2d, conv2dPlanned, floatPair, planConv2d, type Conv2dOptions, type ConvPlan } from './conv.js';
import { add, cast, minimum, relu } from './elementwise.js';
import { asTensor, type TensorInput } from './operand.js';
import { hasKernel, runPrimitive } from './run.js';
import { matmul } from './linalg.js';

/** Arguments of `st.fused.conv2d`: conv2d's options plus the operands, bias and activation. */
export interface FusedConv2dArgs extends Conv2dOptions {
  /** The input, NHWC [batch, height, width, inChannels]. */
  x: TensorInput;
  /** The kernel, [kh, kw, inChannels, outChannels]. */
  filter: TensorInput;
  /** Per output channel, shape [outChannels]. */
  bias?: TensorInput;
  /** 'linear' (default), 'relu' or 'relu6' (min(max(x, 0), 6)). */
  activation?: ConvActivation;
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
  checkOneOf('fused.conv2d', 'activation', activation, ['linear', 'relu', 'relu6'] as const);
  const [tx, tf] = floatPair('fused.conv2d', x, filter, ['x', 'filter']);
  const dtype = tx.dtype;
  const tb = biasOperand('fused.conv2d', bias, dtype, tf.shape[3], 'one per output channel');
  checkNhwc('fused.conv2d', tx);
  if (tb && hasKernel('fusedConv2d', tx)) {
    const plan = planConv2d('fused.conv2d', tx.shape, tf.shape, options);
    return runPrimitive('fusedConv2d', [tx, tf, tb], { ...plan.attrs, activation }, plan.outShape, dtype);
  }
  return fusedConv2dComposite(tx, tf, tb, activation, options);
}

/**
 * activation(conv2d(x, filter) + bias) for a planned convolution: the backend's fusedConv2d where
 * it has one, else the ops it stands for (as fusedDepthwiseConv2dPlanned for depthwise ones).
 */
export function fusedConv2dPlanned(x: Tensor, filter: Tensor, bias: Tensor, activation: ConvActivation, plan: ConvPlan): Tensor {
  if (hasKernel('fusedConv2d', x)) return runPrimitive('fusedConv2d', [x, filter, bias], { ...plan.attrs, activation }, plan.outShape, x.dtype);
  return applyActivation(add(conv2dPlanned(x, filter, plan), bias), activation);
}

/** The unfused ops: the fallback and the oracle the fused kernels are tested against. */
export function fusedConv2dComposite(
  x: Tensor,
  filter: Tensor,
  bias: Tensor | undefined,
  activation: ConvActivation,
  options: Conv2dOptions,
): Tensor {
  let y = conv2d(x, filter, options);
  if (bias) y = add(y, bias);
  return applyActivation(y, activation);
}

/** Whether a layer's activation (by name) is one a fused convolution applies. */
export const isConvActivation = (name: string): name is ConvActivation => name === 'linear' || name === 'relu' || name === 'relu6';

/** A fused kernel's activation as ops: what the kernels are checked against. */
export function applyActivation(y: Tensor, activation: ConvActivation): Tensor {
  if (activation === 'linear') return y;
  return activation === 'relu6' ? minimum(relu(y), 6) : relu(y);
}

/** Arguments of `st.fused.matMul`. */
export interface FusedMatMulArgs {
  /** The left operand, [M, K] (or batched). */
  a: TensorInput;
  /** The right operand, [K, N] (or batched). */
  b: TensorInput;
  /** Use a's transpose. Default false. */
  transposeA?: boolean;
  /** Use b's transpose. Default false. */
  transposeB?: boolean;
  /** Per output column, shape [N]. */
  bias?: TensorInput;
  /** 'linear' (default) or 'relu'. */
  activation?: FusedActivation;
}

const FUSED_MATMUL_KEYS = ['a', 'b', 'transposeA', 'transposeB', 'bias', 'activation'];

/**
 * activation(matmul(a, b) + bias), as tfjs's tf.fused.matMul: one kernel (the bias and ReLU
 * inside oneDNN's matmul) for 2-D or equally batched 3-D operands with a bias on a backend that
 * has it, else the ops it stands for, which are also its oracle. What a dense layer runs.
 */
export function fusedMatMul(args: FusedMatMulArgs): Tensor {
  checkKeys('fused.matMul', args, FUSED_MATMUL_KEYS);
  const { a, b, bias, activation = 'linear', transposeA = false, transposeB = false } = args;
  checkOneOf('fused.matMul', 'activation', activation, ['linear', 'relu'] as const);
  const [ta, tb] = floatPair('fused.matMul', a, b, ['a', 'b']);
  const dtype = ta.dtype;
  const n = transposeB ? tb.shape[tb.rank - 2] : tb.shape[tb.rank - 1];
  const tbias = biasOperand('fused.matMul', bias, dtype, n, 'one per output column');
  const batched = ta.rank === 3 && tb.rank === 3 && ta.shape[0] === tb.shape[0];
  if (tbias && ((ta.rank === 2 && tb.rank === 2) || batched) && hasKernel('fusedMatMul', ta)) {
    // 2-D operands reach the kernel as they are: a reshaped view of a weight would share its
    // storage, and a shared weight cannot be updated in place (Note [Updates in place] in
    // optimizers/optimizer.ts).
    const r = ta.rank;
    const [m, k] = transposeA ? [ta.shape[r - 1], ta.shape[r - 2]] : [ta.shape[r - 2], ta.shape[r - 1]];
    const kb = transposeB ? tb.shape[r - 1] : tb.shape[r - 2];
    if (k !== kb) throw new ShapeError(`fused.matMul: inner dimensions differ: a is ${fmtShape(ta.shape)}, b is ${fmtShape(tb.shape)}`);
    return runPrimitive('fusedMatMul', [ta, tb, tbias], { transposeA, transposeB, activation }, batched ? [ta.shape[0], m, n] : [m, n], dtype);
  }
  return fusedMatMulComposite(ta, tb, tbias, activation, transposeA, transposeB);
}

/** The unfused ops: the fallback and the oracle the fused kernel is tested against. */
export function fusedMatMulComposite(
  a: Tensor,
  b: Tensor,
  bias: Tensor | undefined,
  activation: FusedActivation,
  transposeA = false,
  transposeB = false,
): Tensor {
  let y = matmul(a, b, transposeA, transposeB);
  if (bias) y = add(y, bias);
  return activation === 'relu' ? relu(y) : y;
}

/** The optional bias of a fused op as a [size] tensor of the op's dtype, or an error naming the shape wanted. */
export function biasOperand(op: string, bias: TensorInput | undefined, dtype: Tensor['dtype'], size: number, what: string): Tensor | undefined {
  if (bias === undefined) return undefined;
  const t = cast(asTensor(op, 'bias', bias), dtype);
  if (t.rank !== 1 || t.shape[0] !== size) throw new ShapeError(`${op}: bias must have shape [${size}] (${what}); received ${fmtShape(t.shape)}`);
  return t;
}
