import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import { normalizeAxis, reducedShape } from '../core/shape.js';
import { arange, full } from '../tensor/create.js';
import type { DType } from '../core/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { abs, cast, equal, mul, pow, sqrt, square, where } from './elementwise.js';
import { floating } from './math-extra.js';
import { asTensor, type TensorInput } from './operand.js';
import { max, min, sum } from './reduction.js';
import { broadcastTo, reshape } from './shape-ops.js';

/** The norm st.norm computes: 'euclidean' or 'fro', ±Infinity, or a number p. */
export type NormOrder = number | 'euclidean' | 'fro';

function vectorNorm(op: string, x: Tensor, ord: NormOrder, axis: number): Tensor {
  if (ord === 'euclidean' || ord === 'fro' || ord === 2) return sqrt(sum(square(x), axis));
  if (ord === Infinity) return max(abs(x), axis);
  if (ord === -Infinity) return min(abs(x), axis);
  if (ord === 1) return sum(abs(x), axis);
  if (typeof ord === 'number' && Number.isFinite(ord) && ord !== 0) return pow(sum(pow(abs(x), ord), axis), 1 / ord);
  throw new ValueError(`${op}: unsupported vector norm order ${fmtValue(ord)}; expected 'euclidean', 'fro', ±Infinity or a non-zero number`);
}

function matrixNorm(op: string, x: Tensor, ord: NormOrder, [rows, cols]: [number, number]): Tensor {
  // max/min over one axis of the absolute sums over the other, summed axis removed first.
  const extreme = (sumAxis: number, overAxis: number, pick: typeof max) => pick(sum(abs(x), sumAxis), overAxis > sumAxis ? overAxis - 1 : overAxis);
  if (ord === 'euclidean' || ord === 'fro') return sqrt(sum(square(x), [rows, cols]));
  if (ord === 1) return extreme(rows, cols, max);
  if (ord === -1) return extreme(rows, cols, min);
  if (ord === Infinity) return extreme(cols, rows, max);
  if (ord === -Infinity) return extreme(cols, rows, min);
  throw new ValueError(
    `${op}: unsupported matrix norm order ${fmtValue(ord)}; expected 'euclidean', 'fro', ±1 or ±Infinity (the spectral norm needs an SVD, which Strata does not have)`,
  );
}

/**
 * The norm of x (tfjs's norm): without `axis`, the vector norm of all elements; with one axis, the
 * vector norm along it ('euclidean' (default), 1, Infinity, -Infinity or any p); with two axes, a
 * matrix norm ('fro'/'euclidean', 1 and -1 over columns, Infinity and -Infinity over rows).
 * @throws ValueError for an unsupported order.
 */
export function norm(x: TensorInput, ord: NormOrder = 'euclidean', axis?: number | readonly number[] | null, keepDims = false): Tensor {
  const op = 'norm';
  const t = floating(op, x);
  let y: Tensor;
  let axes: number[];
  if (axis === undefined || axis === null) {
    axes = t.shape.map((_, i) => i);
    y = vectorNorm(op, reshape(t, [t.size]), ord, 0);
  } else if (typeof axis === 'number' || axis.length === 1) {
    const a = normalizeAxis(op, typeof axis === 'number' ? axis : axis[0], t.rank);
    axes = [a];
    y = vectorNorm(op, t, ord, a);
  } else if (axis.length === 2) {
    axes = axis.map((a) => normalizeAxis(op, a, t.rank));
    if (axes[0] === axes[1]) throw new ValueError(`${op}: the two axes of a matrix norm must differ; received ${fmtValue(axis)}`);
    y = matrixNorm(op, t, ord, [axes[0], axes[1]]);
  } else {
    throw new ValueError(`${op}: axis must be a number or a pair of numbers; received ${fmtValue(axis)}`);
  }
  return keepDims ? reshape(y, reducedShape(t.shape, axes, true)) : y;
}

/** The Euclidean norm over `axis` (all axes by default; int32 and bool become float32), tfjs's euclideanNorm. */
export function euclideanNorm(x: TensorInput, axis?: number | readonly number[] | null, keepDims = false): Tensor {
  return sqrt(sum(square(floating('euclideanNorm', x)), axis ?? undefined, keepDims));
}

/** The outer product of two vectors: [m] and [n] give [m, n]. */
export function outerProduct(v1: TensorInput, v2: TensorInput): Tensor {
  const a = asTensor('outerProduct', 'v1', v1),
    b = asTensor('outerProduct', 'v2', v2);
  if (a.rank !== 1 || b.rank !== 1) {
    throw new ShapeError(`outerProduct: expected two vectors; received shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  return mul(reshape(a, [a.shape[0], 1]), reshape(b, [1, b.shape[0]]));
}

/**
 * The diagonal tensor of x (tfjs's diag): for x of shape s the result has shape s ++ s, holding x
 * where the two index halves are equal and 0 elsewhere ([a, b] gives [[a, 0], [0, b]]).
 */
export function diag(x: TensorInput): Tensor {
  const t = asTensor('diag', 'x', x);
  if (t.rank === 0) throw new ShapeError('diag: x must have rank >= 1; received a scalar');
  const n = t.size;
  const idx = arange(0, n, 1, 'int32');
  const onDiagonal = equal(reshape(idx, [n, 1]), reshape(idx, [1, n]));
  const spread = where(onDiagonal, broadcastTo(reshape(t, [n, 1]), [n, n]), 0);
  return reshape(cast(spread, t.dtype), [...t.shape, ...t.shape]);
}

/** Options of st.meshgrid. */
export interface MeshgridOptions {
  /** 'xy' (default): outputs of shape [y.size, x.size], Cartesian; 'ij': [x.size, y.size], matrix indexing. */
  indexing?: 'xy' | 'ij';
}

/** Coordinate grids of two vectors (tfjs's meshgrid): both flattened, then broadcast against each other. */
export function meshgrid(x: TensorInput, y: TensorInput, options: MeshgridOptions = {}): [Tensor, Tensor] {
  checkKeys('meshgrid', options, ['indexing']);
  const indexing = checkOneOf('meshgrid', 'indexing', options.indexing ?? 'xy', ['xy', 'ij']);
  const a = asTensor('meshgrid', 'x', x),
    b = asTensor('meshgrid', 'y', y);
  const nx = a.size,
    ny = b.size;
  if (indexing === 'xy') {
    return [broadcastTo(reshape(a, [1, nx]), [ny, nx]), broadcastTo(reshape(b, [ny, 1]), [ny, nx])];
  }
  return [broadcastTo(reshape(a, [nx, 1]), [nx, ny]), broadcastTo(reshape(b, [1, ny]), [nx, ny])];
}

/** A tensor of `shape` filled with `value` (tfjs's fill; st.full with the same arguments). */
export function fill(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  return full(shape, value, dtype);
}
