import type { ReducePrimitive } from '../backend/primitives.js';
import { arithmeticType, floatType } from '../core/dtype.js';
import { ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { normalizeAxes, normalizeAxis, reducedShape, sizeOf } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast, div, mul, sub } from './elementwise.js';
import { asTensor, type TensorInput } from './operand.js';
import { runPrimitive } from './run.js';
import { reshape } from './shape-ops.js';

/** One axis or several; negative axes count from the end. */
export type Axis = number | readonly number[];

function reduce(op: ReducePrimitive, x: TensorInput, axis: Axis | undefined, keepDims: boolean): Tensor {
  let t = asTensor(op, 'x', x);
  const axes = normalizeAxes(op, axis, t.rank);
  if ((op === 'max' || op === 'min') && axes.some((a) => t.shape[a] === 0)) {
    throw new ValueError(`${op}: cannot reduce over an empty axis; shape is ${fmtShape(t.shape)}, axis ${fmtValue(axis)}`);
  }
  t = cast(t, arithmeticType(t.dtype));
  const y = axes.length === 0 ? t : runPrimitive(op, [t], { axes }, reducedShape(t.shape, axes, false), t.dtype);
  return keepDims ? reshape(y, reducedShape(t.shape, axes, true)) : y;
}

/**
 * Sum over `axis` (all axes by default); bool sums count trues as int32.
 * `keepDims` keeps the reduced axes as size 1. Also a method: `x.sum(axis)`.
 * @throws ValueError for an axis out of range.
 * @example
 * ```ts
 * const x = st.tensor([[1, 2], [3, 4]]);
 * console.log(await st.sum(x).array(), await st.sum(x, 0).array(), x.sum(-1, true).shape); // 10 [4, 6] [2, 1]
 * ```
 */
export const sum = (x: TensorInput, axis?: Axis, keepDims = false) => reduce('sum', x, axis, keepDims);
/**
 * Product over `axis` (all axes by default).
 * @throws ValueError for an axis out of range; DtypeError when an int32 product overflows.
 */
export const prod = (x: TensorInput, axis?: Axis, keepDims = false) => reduce('prod', x, axis, keepDims);
/**
 * Maximum over `axis` (all axes by default).
 * @throws ValueError for an axis out of range or an empty axis.
 */
export const max = (x: TensorInput, axis?: Axis, keepDims = false) => reduce('max', x, axis, keepDims);
/**
 * Minimum over `axis` (all axes by default).
 * @throws ValueError for an axis out of range or an empty axis.
 */
export const min = (x: TensorInput, axis?: Axis, keepDims = false) => reduce('min', x, axis, keepDims);

/**
 * Mean over `axis` (all axes by default); integer inputs give float32.
 * @throws ValueError for an axis out of range.
 */
export function mean(x: TensorInput, axis?: Axis, keepDims = false): Tensor {
  const t = asTensor('mean', 'x', x);
  const axes = normalizeAxes('mean', axis, t.rank);
  const count = sizeOf(axes.map((a) => t.shape[a]));
  return div(sum(cast(t, floatType(t.dtype)), axes, keepDims), count);
}

/** Mean and (population) variance over `axis`, as used by normalization layers. */
export function moments(
  x: TensorInput,
  axis?: Axis,
  keepDims = false,
): {
  /** The mean over `axis`. */
  mean: Tensor;
  /** The population variance (divided by n) over `axis`. */
  variance: Tensor;
} {
  const t = asTensor('moments', 'x', x);
  const m = mean(t, axis, true);
  const centered = sub(t, m);
  const variance = mean(mul(centered, centered), axis, keepDims);
  return { mean: keepDims ? m : reshape(m, variance.shape), variance };
}

function argReduce(op: 'argMax' | 'argMin', x: TensorInput, axis: number | undefined, keepDims: boolean): Tensor {
  let t = asTensor(op, 'x', x);
  if (axis !== undefined && typeof axis !== 'number') throw new ValueError(`${op}: axis must be a single number; received ${fmtValue(axis)}`);
  if (axis === undefined) {
    // Like NumPy: without an axis, the index into the flattened tensor.
    const flat = reshape(t, [t.size]);
    const y = argReduce(op, flat, 0, false);
    return keepDims
      ? reshape(
          y,
          t.shape.map(() => 1),
        )
      : y;
  }
  if (t.rank === 0) t = reshape(t, [1]);
  const a = normalizeAxis(op, axis, t.rank);
  if (t.shape[a] === 0) throw new ValueError(`${op}: cannot reduce over an empty axis; shape is ${fmtShape(t.shape)}`);
  const y = runPrimitive(op, [t], { axis: a }, reducedShape(t.shape, [a], false), 'int32');
  return keepDims ? reshape(y, reducedShape(t.shape, [a], true)) : y;
}

/**
 * The int32 index of the largest value along `axis` (without one: into the flattened tensor, as
 * NumPy); the first index on ties.
 * @throws ValueError for an axis out of range or an empty axis.
 */
export const argMax = (x: TensorInput, axis?: number, keepDims = false) => argReduce('argMax', x, axis, keepDims);
/**
 * The int32 index of the smallest value along `axis` (without one: into the flattened tensor).
 * @throws ValueError for an axis out of range or an empty axis.
 */
export const argMin = (x: TensorInput, axis?: number, keepDims = false) => argReduce('argMin', x, axis, keepDims);
