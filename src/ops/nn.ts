import { floatType } from '../core/dtype.js';
import { normalizeAxis } from '../core/shape.js';
import { checkKeys } from '../core/options.js';
import { arange } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, cast, div, equal, exp, isFinite, log, sub, where } from './elementwise.js';
import { asTensor, requireDtype, type TensorInput } from './operand.js';
import { max, sum, type Axis } from './reduction.js';
import { hasKernel, runPrimitive } from './run.js';
import { expandDims, reshape, stopGradient } from './shape-ops.js';

function floating(op: string, x: TensorInput): Tensor {
  const t = asTensor(op, 'x', x);
  return cast(t, floatType(t.dtype));
}

/**
 * log(sum(exp(x))) without overflow: the maximum is subtracted first. The shift is cut from the
 * tape because the result does not depend on it, so the gradient is exactly softmax(x).
 */
export function logSumExp(x: TensorInput, axis?: Axis, keepDims = false): Tensor {
  const t = floating('logSumExp', x);
  const m = stopGradient(max(t, axis, true));
  const shift = where(isFinite(m), m, 0); // an all -inf slice must not produce -inf - -inf
  const y = add(log(sum(exp(sub(t, shift)), axis, true)), shift);
  return keepDims ? y : reshape(y, max(t, axis, false).shape);
}

/** The composite softmax, the fallback for backends without a softmax kernel (and its test oracle). */
export function softmaxComposite(x: Tensor, axis: number): Tensor {
  const shifted = exp(sub(x, stopGradient(max(x, axis, true))));
  return div(shifted, sum(shifted, axis, true));
}

/**
 * (x - m) - log(sum(exp(x - m))), not x - logSumExp(x): adding m back into the logSumExp and
 * subtracting it again rounds at |m|'s scale, so for large logits the log-probabilities near 0
 * would lose most of their float32 digits. The shift is cut from the tape as in logSumExp.
 */
export function logSoftmaxComposite(x: Tensor, axis: number): Tensor {
  const m = stopGradient(max(x, axis, true));
  const shifted = sub(x, where(isFinite(m), m, 0)); // an all -inf slice must not produce -inf - -inf
  return sub(shifted, log(sum(exp(shifted), axis, true)));
}

/**
 * exp(x) / sum(exp(x)) along `axis` (default the last), computed stably; integer inputs give float32.
 * @throws ValueError for an axis out of range.
 */
export function softmax(x: TensorInput, axis = -1): Tensor {
  const t = floating('softmax', x);
  const a = normalizeAxis('softmax', axis, t.rank);
  if (!hasKernel('softmax', t)) return softmaxComposite(t, a);
  return runPrimitive('softmax', [t], { axis: a }, t.shape, t.dtype);
}

/**
 * log(softmax(x)) along `axis`, computed without overflow (an all -Infinity slice stays -Infinity,
 * not NaN).
 * @throws ValueError for an axis out of range.
 */
export function logSoftmax(x: TensorInput, axis = -1): Tensor {
  const t = floating('logSoftmax', x);
  const a = normalizeAxis('logSoftmax', axis, t.rank);
  if (!hasKernel('logSoftmax', t)) return logSoftmaxComposite(t, a);
  return runPrimitive('logSoftmax', [t], { axis: a }, t.shape, t.dtype);
}

/** Options of `st.oneHot`. */
export interface OneHotOptions {
  /** The value at the index. Default 1. */
  onValue?: number;
  /** The value elsewhere. Default 0. */
  offValue?: number;
  /** Default float32. */
  dtype?: 'float32' | 'int32';
}

/**
 * One-hot rows for int32 class indices: shape indices.shape + [depth]; out-of-range indices give
 * all-off rows.
 * @throws DtypeError for indices that are not int32.
 * @example
 * ```ts
 * console.log(await st.oneHot(st.tensor([0, 2], undefined, 'int32'), 3).array()); // [[1, 0, 0], [0, 0, 1]]
 * ```
 */
export function oneHot(indices: TensorInput, depth: number, options: OneHotOptions = {}): Tensor {
  checkKeys('oneHot', options, ['onValue', 'offValue', 'dtype']);
  const idx = asTensor('oneHot', 'indices', indices, 'int32');
  requireDtype('oneHot', 'indices', idx, ['int32']);
  const { onValue = 1, offValue = 0, dtype = 'float32' } = options;
  const hit = equal(expandDims(idx, -1), arange(0, depth, 1, 'int32'));
  if (onValue === 1 && offValue === 0) return cast(hit, dtype);
  return cast(where(hit, onValue, offValue), dtype);
}
