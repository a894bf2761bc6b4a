import { isFloat } from '../core/dtype.js';
import { DtypeError, ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { arange } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { abs, add, cast, div, equal, exp, greater, less, log, maximum, mul, neg, pow, rsqrt, sqrt, square, sub, where } from './elementwise.js';
import { floating, floatingPair } from './math-extra.js';
import { oneHot } from './nn.js';
import { asTensor, type TensorInput } from './operand.js';
import { max, mean, min, prod, sum } from './reduction.js';
import { expandDims, reshape, stopGradient } from './shape-ops.js';
import { erf } from './special.js';

// keras.ops functions of its nn, math and image groups that Strata lacked (issue 23), as
// composites with Keras 3's definitions: multi_hot, normalize (as l2Normalize), cdist, erfinv,
// psnr and segment_max / segment_min / segment_prod.

/**
 * Keras's multi_hot: integer class ids [..., k] (or [k]) become [..., numClasses] with 1 at every
 * class that occurs (the one-hot rows of the ids, reduced by max over the id axis). float32 unless `dtype`.
 */
export function multiHot(inputs: TensorInput, numClasses: number, dtype: 'float32' | 'int32' = 'float32'): Tensor {
  const ids = asTensor('multiHot', 'inputs', inputs, 'int32');
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new ValueError(`multiHot: numClasses must be a positive integer; received ${fmtValue(numClasses)}`);
  if (ids.rank === 0) throw new ShapeError('multiHot: inputs must have rank >= 1; received a scalar');
  const hot = oneHot(cast(ids, 'int32'), numClasses, { dtype: 'int32' });
  return cast(max(hot, ids.rank > 1 ? 1 : 0), dtype);
}

/** Options of `st.l2Normalize`. */
export interface L2NormalizeOptions {
  /** The axis the vectors lie along. Default -1. */
  axis?: number;
  /** The norm's order p (an integer >= 1). Default 2. */
  order?: number;
  /** The smallest norm divided by (Keras: 1e-7). */
  epsilon?: number;
}

/**
 * x divided by its p-norm along `axis` (Keras's keras.ops.normalize): for p = 2,
 * x / sqrt(max(sum(x²), ε²)); otherwise x / max(||x||_p, ε). A zero vector stays zero with finite gradients.
 */
export function l2Normalize(x: TensorInput, options: L2NormalizeOptions = {}): Tensor {
  checkKeys('l2Normalize', options, ['axis', 'order', 'epsilon']);
  const { axis = -1, order = 2, epsilon = 1e-7 } = options;
  if (!Number.isInteger(order) || order < 1) throw new ValueError(`l2Normalize: order must be an integer >= 1; received ${fmtValue(order)}`);
  let t = floating('l2Normalize', x);
  if (t.rank === 0) t = reshape(t, [1]);
  if (order === 2) return mul(t, rsqrt(maximum(sum(square(t), axis, true), epsilon * epsilon)));
  const norm = order === 1 ? sum(abs(t), axis, true) : pow(sum(pow(abs(t), order), axis, true), 1 / order);
  return div(t, maximum(norm, epsilon));
}

/**
 * Pairwise p-norm distances between the rows of x1 [..., P, M] and x2 [..., R, M]: [..., P, R]
 * (Keras's cdist, PyTorch's). p > 0 or Infinity; distances of 0 have zero gradients.
 */
export function cdist(x1: TensorInput, x2: TensorInput, p = 2): Tensor {
  const a = floating('cdist', x1, 'x1'),
    b = floating('cdist', x2, 'x2');
  if (a.rank < 2 || b.rank < 2 || a.shape[a.rank - 1] !== b.shape[b.rank - 1]) {
    throw new ShapeError(`cdist: x1 [..., P, M] and x2 [..., R, M] must share M; received ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  if (!(p > 0)) throw new ValueError(`cdist: p must be > 0 (or Infinity); received ${fmtValue(p)}`);
  const d = abs(sub(expandDims(a, -2), expandDims(b, -3)));
  if (p === Infinity) return max(d, -1);
  if (p === 1) return sum(d, -1);
  const s = sum(p === 2 ? square(d) : pow(d, p), -1);
  // The root of 0 has an infinite slope: a stand-in 1 keeps zero distances' gradients at 0.
  const positive = greater(s, 0);
  const root = p === 2 ? sqrt(where(positive, s, 1)) : pow(where(positive, s, 1), 1 / p);
  return where(positive, root, 0);
}

/**
 * The inverse error function on (-1, 1) (±Infinity at ±1, NaN outside): Giles's (2010) polynomial
 * first guess, then Newton steps on st.erf until float64 accuracy. The gradient is
 * √π/2 · e^(y²) at the result y (carried by a last Newton step whose starting point is a constant).
 */
export function erfinv(x: TensorInput): Tensor {
  const t = floating('erfinv', x);
  const fixed = stopGradient(t);
  // Giles's single-precision approximation, on values away from ±1 (the log would be infinite).
  const inside = less(abs(fixed), 1);
  const safe = where(inside, fixed, 0);
  const w = neg(log(mul(sub(1, safe), add(1, safe))));
  const central = polynomial(
    sub(w, 2.5),
    [2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 2.1858087e-4, -1.25372503e-3, -4.17768164e-3, 2.46640727e-1, 1.50140941],
  );
  const tail = polynomial(
    sub(sqrt(w), 3),
    [-2.00214257e-4, 1.00950558e-4, 1.34934322e-3, -3.67342844e-3, 5.73950773e-3, -7.6224613e-3, 9.43887047e-3, 1.00167406, 2.83297682],
  );
  let y = mul(where(less(w, 5), central, tail), safe);
  const slope = (v: Tensor) => mul(exp(neg(square(v))), 2 / Math.sqrt(Math.PI));
  for (let i = 0; i < 2; i++) y = sub(y, div(sub(erf(y), safe), slope(y)));
  // One more step from the (constant) converged y: its value is y, its derivative in x is 1 / erf'(y).
  const start = stopGradient(y);
  const result = sub(start, div(sub(erf(start), where(inside, t, 0)), slope(start)));
  const edge = where(equal(fixed, 1), Infinity, where(equal(fixed, -1), -Infinity, NaN));
  return where(inside, result, edge);
}

/** Horner's rule: c[0] w^(n-1) + ... + c[n-1]. */
function polynomial(w: Tensor, coefficients: readonly number[]): Tensor {
  let p: Tensor = mul(w, 0);
  p = add(p, coefficients[0]);
  for (const c of coefficients.slice(1)) p = add(mul(p, w), c);
  return p;
}

/**
 * The peak signal-to-noise ratio of two images (Keras's psnr): 20 log10(maxVal) - 10 log10(mse),
 * mse over every element; +Infinity for identical inputs.
 */
export function psnr(x1: TensorInput, x2: TensorInput, maxVal: number): Tensor {
  const [a, b] = floatingPair('psnr', x1, x2);
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`psnr: x1 and x2 must have the same shape; received ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  if (!(maxVal > 0)) throw new ValueError(`psnr: maxVal must be > 0; received ${fmtValue(maxVal)}`);
  const mse = mean(square(sub(a, b)));
  return sub(20 * Math.log10(maxVal), mul(div(log(mse), Math.LN10), 10));
}

type SegmentReduce = 'max' | 'min' | 'prod';

function segmentReduce(op: string, data: TensorInput, segmentIds: TensorInput, numSegments: number | undefined, kind: SegmentReduce): Tensor {
  const t = asTensor(op, 'data', data);
  const ids = asTensor(op, 'segmentIds', segmentIds, 'int32');
  if (ids.dtype !== 'int32') throw new DtypeError(`${op}: segmentIds must be int32; received dtype ${ids.dtype}`);
  if (ids.rank !== 1 || t.rank < 1 || ids.shape[0] !== t.shape[0]) {
    throw new ShapeError(`${op}: segmentIds must be 1-D with one id per row of data; received ${fmtShape(ids.shape)} for data ${fmtShape(t.shape)}`);
  }
  let n = numSegments;
  if (n === undefined) {
    // Keras's default: one more than the largest id, which needs the ids on the host: a read, or
    // the copy a GPU backend kept of ids it uploaded (only ids computed on the GPU have none).
    const values = ids.hostValues();
    if (!values) {
      throw new ValueError(
        `${op}: give numSegments: segmentIds were computed on the '${ids.backend.name}' backend, which reads asynchronously only, and the default is read from them`,
      );
    }
    n = values.length ? Math.max(...values) + 1 : 0;
  }
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`${op}: numSegments must be a non-negative integer; received ${fmtValue(numSegments)}`);
  const rest = t.shape.slice(1);
  // [segments, rows, 1...]: which rows each segment holds; ids out of range belong to none.
  const member = reshape(equal(reshape(arange(0, n, 1, 'int32'), [n, 1]), reshape(ids, [1, ids.shape[0]])), [n, ids.shape[0], ...rest.map(() => 1)]);
  const rows = expandDims(isFloat(t.dtype) || kind !== 'prod' ? t : cast(t, 'int32'), 0);
  const identity = kind === 'max' ? -Infinity : kind === 'min' ? Infinity : 1;
  const fill = !isFloat(t.dtype) && kind !== 'prod' ? (kind === 'max' ? -2147483648 : 2147483647) : identity;
  const spread = where(member, rows, fill);
  return kind === 'max' ? max(spread, 1) : kind === 'min' ? min(spread, 1) : prod(spread, 1);
}

/**
 * The maximum of the rows of `data` in each segment (Keras's segment_max): [numSegments, ...];
 * numSegments defaults to max(segmentIds) + 1; an empty segment gives -Infinity (int32: its smallest value).
 */
export const segmentMax = (data: TensorInput, segmentIds: TensorInput, numSegments?: number): Tensor =>
  segmentReduce('segmentMax', data, segmentIds, numSegments, 'max');
/** The minimum of each segment's rows (Keras's segment_min); an empty segment gives +Infinity (int32: its largest value). */
export const segmentMin = (data: TensorInput, segmentIds: TensorInput, numSegments?: number): Tensor =>
  segmentReduce('segmentMin', data, segmentIds, numSegments, 'min');
/** The product of each segment's rows (Keras's segment_prod); an empty segment gives 1. */
export const segmentProd = (data: TensorInput, segmentIds: TensorInput, numSegments?: number): Tensor =>
  segmentReduce('segmentProd', data, segmentIds, numSegments, 'prod');
