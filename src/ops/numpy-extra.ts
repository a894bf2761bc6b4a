import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { broadcastShapes, normalizeAxis, sizeOf, stridesOf } from '../core/shape.js';
import { arange, tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  abs,
  add,
  cast,
  ceil,
  div,
  equal,
  exp,
  floor,
  greater,
  greaterEqual,
  less,
  lessEqual,
  log,
  logicalAnd,
  logicalNot,
  maximum,
  mul,
  neg,
  sqrt,
  square,
  sub,
  where,
} from './elementwise.js';
import { floating, floatingPair, log1pAccurate } from './math-extra.js';
import { asTensor, requireDtype, type TensorInput } from './operand.js';
import { mean, sum, type Axis } from './reduction.js';
import { broadcastTo, gather, reshape, split, squeeze, transpose } from './shape-ops.js';

// NumPy-style ops of keras.ops (and all/any/unstack, which tfjs has too) as short composites.

/** True where every element along `axis` (all axes by default) is non-zero (true for an empty axis). */
export function all(x: TensorInput, axis?: Axis, keepDims = false): Tensor {
  const t = asTensor('all', 'x', x);
  return equal(sum(cast(logicalNot(t), 'int32'), axis, keepDims), 0);
}

/** True where some element along `axis` (all axes by default) is non-zero. */
export function any(x: TensorInput, axis?: Axis, keepDims = false): Tensor {
  const t = asTensor('any', 'x', x);
  return greater(sum(cast(cast(t, 'bool'), 'int32'), axis, keepDims), 0);
}

/** The number of non-zero elements along `axis` (all axes by default), int32. */
export function countNonzero(x: TensorInput, axis?: Axis): Tensor {
  return sum(cast(cast(asTensor('countNonzero', 'x', x), 'bool'), 'int32'), axis);
}

/** The slices of x along `axis`, each without that axis (tfjs's unstack). */
export function unstack(x: TensorInput, axis = 0): Tensor[] {
  const t = asTensor('unstack', 'x', x);
  const a = normalizeAxis('unstack', axis, t.rank);
  return split(t, t.shape[a], a).map((s) => squeeze(s, a));
}

/** Base-2 logarithm. */
export const log2 = (x: TensorInput): Tensor => div(log(floating('log2', x)), Math.LN2);
/** Base-10 logarithm. */
export const log10 = (x: TensorInput): Tensor => div(log(floating('log10', x)), Math.LN10);
/** 2^x. */
export const exp2 = (x: TensorInput): Tensor => exp(mul(floating('exp2', x), Math.LN2));

/** Rounds toward zero, keeping the dtype (integers pass through). */
export function trunc(x: TensorInput): Tensor {
  const t = asTensor('trunc', 'x', x);
  return where(less(t, 0), ceil(t), floor(t));
}

/** The population variance (divided by n) along `axis` (all axes by default). */
export function variance(x: TensorInput, axis?: Axis, keepDims = false): Tensor {
  const t = floating('variance', x);
  return mean(square(sub(t, mean(t, axis, true))), axis, keepDims);
}

/** The population standard deviation along `axis` (all axes by default). */
export const std = (x: TensorInput, axis?: Axis, keepDims = false): Tensor => sqrt(variance(x, axis, keepDims));

/** log(e^a + e^b) without overflow, with broadcasting. */
export function logaddexp(a: TensorInput, b: TensorInput): Tensor {
  const [ta, tb] = floatingPair('logaddexp', a, b);
  // Equal arguments (±Infinity included) give a + log 2 directly: a - b would be NaN for infinities.
  const same = equal(ta, tb);
  const spread = neg(abs(sub(where(same, 0, ta), where(same, 0, tb))));
  return where(same, add(ta, Math.LN2), add(maximum(ta, tb), log1pAccurate(exp(spread))));
}

/** sqrt(a^2 + b^2) elementwise, scaled by the larger magnitude so it overflows only when the result does. */
export function hypot(a: TensorInput, b: TensorInput): Tensor {
  const [ta, tb] = floatingPair('hypot', a, b);
  const m = maximum(abs(ta), abs(tb));
  const safe = where(greater(m, 0), m, 1);
  const scaled = mul(safe, sqrt(add(square(div(ta, safe)), square(div(tb, safe)))));
  return where(greater(m, 0), scaled, 0);
}

/** Row and column numbers of the last two axes of `x`, as [rows, 1] and [1, cols] int32 tensors. */
function grid(op: string, x: Tensor): [Tensor, Tensor] {
  if (x.rank < 2) throw new ShapeError(`${op}: x must have rank >= 2; received shape ${fmtShape(x.shape)}`);
  const [n, m] = x.shape.slice(-2);
  return [reshape(arange(0, n, 1, 'int32'), [n, 1]), reshape(arange(0, m, 1, 'int32'), [1, m])];
}

/** x with the entries above diagonal `k` of its last two axes set to 0. */
export function tril(x: TensorInput, k = 0): Tensor {
  const t = asTensor('tril', 'x', x);
  const [rows, cols] = grid('tril', t);
  return cast(where(lessEqual(sub(cols, rows), k), t, 0), t.dtype);
}

/** x with the entries below diagonal `k` of its last two axes set to 0. */
export function triu(x: TensorInput, k = 0): Tensor {
  const t = asTensor('triu', 'x', x);
  const [rows, cols] = grid('triu', t);
  return cast(where(lessEqual(sub(cols, rows), k - 1), 0, t), t.dtype);
}

/** The diagonal `offset` of the matrices on axes axis1 and axis2, as a new last axis (NumPy's diagonal). */
export function diagonal(x: TensorInput, offset = 0, axis1 = 0, axis2 = 1): Tensor {
  const t = asTensor('diagonal', 'x', x);
  const a1 = normalizeAxis('diagonal', axis1, t.rank),
    a2 = normalizeAxis('diagonal', axis2, t.rank);
  if (a1 === a2) throw new ValueError(`diagonal: axis1 and axis2 must differ; received ${axis1} and ${axis2}`);
  const rest = t.shape.map((_, i) => i).filter((i) => i !== a1 && i !== a2);
  const [n, m] = [t.shape[a1], t.shape[a2]];
  const first = Math.max(0, -offset),
    count = Math.max(0, Math.min(n, m - offset) - first);
  const picks = Array.from({ length: count }, (_, j) => (first + j) * m + first + j + offset);
  const flat = reshape(transpose(t, [...rest, a1, a2]), [...rest.map((i) => t.shape[i]), n * m]);
  return gather(flat, tensor(picks, [count], 'int32'), rest.length);
}

/** The sum of diagonal `offset` of the matrices on axes axis1 and axis2. */
export const trace = (x: TensorInput, offset = 0, axis1 = 0, axis2 = 1): Tensor => sum(diagonal(x, offset, axis1, axis2), -1);

/** x with axes axis1 and axis2 exchanged. */
export function swapaxes(x: TensorInput, axis1: number, axis2: number): Tensor {
  const t = asTensor('swapaxes', 'x', x);
  const a = normalizeAxis('swapaxes', axis1, t.rank),
    b = normalizeAxis('swapaxes', axis2, t.rank);
  const perm = t.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return transpose(t, perm);
}

/** x with the axes `source` moved to positions `destination`, the others keeping their order (NumPy's moveaxis). */
export function moveaxis(x: TensorInput, source: number | readonly number[], destination: number | readonly number[]): Tensor {
  const t = asTensor('moveaxis', 'x', x);
  const list = (axes: number | readonly number[]) => (typeof axes === 'number' ? [axes] : [...axes]).map((a) => normalizeAxis('moveaxis', a, t.rank));
  const fromList = list(source),
    toList = list(destination);
  if (fromList.length !== toList.length)
    throw new ValueError(`moveaxis: source and destination must have one length; received ${fmtValue(source)} and ${fmtValue(destination)}`);
  const perm = new Array<number>(t.rank).fill(-1);
  fromList.forEach((a, i) => (perm[toList[i]] = a));
  const others = t.shape.map((_, i) => i).filter((i) => !fromList.includes(i));
  for (let i = 0, k = 0; i < t.rank; i++) if (perm[i] < 0) perm[i] = others[k++];
  return transpose(t, perm);
}

/** x rotated by `shift` places along `axis` (the flattened x without one), as NumPy's roll. */
export function roll(x: TensorInput, shift: number | readonly number[], axis?: number | readonly number[]): Tensor {
  const t = asTensor('roll', 'x', x);
  if (axis === undefined)
    return reshape(roll(reshape(t, [t.size]), typeof shift === 'number' ? shift : shift.reduce((a, b) => a + b, 0), 0), t.shape);
  const axes = typeof axis === 'number' ? [axis] : [...axis];
  const shifts = typeof shift === 'number' ? axes.map(() => shift) : [...shift];
  if (shifts.length !== axes.length)
    throw new ValueError(`roll: shift and axis must have one length; received ${fmtValue(shift)} and ${fmtValue(axis)}`);
  let y = t;
  axes.forEach((a, i) => {
    const ax = normalizeAxis('roll', a, t.rank),
      n = t.shape[ax];
    if (n === 0) return;
    const s = ((shifts[i] % n) + n) % n;
    if (s !== 0)
      y = gather(
        y,
        tensor(
          Array.from({ length: n }, (_, j) => (j - s + n) % n),
          [n],
          'int32',
        ),
        ax,
      );
  });
  return y;
}

/** NumPy's take: st.gather along `axis`, or on the flattened x when `axis` is omitted. */
export function take(x: TensorInput, indices: TensorInput, axis?: number): Tensor {
  const t = asTensor('take', 'x', x);
  return axis === undefined ? gather(reshape(t, [t.size]), indices, 0) : gather(t, indices, axis);
}

/**
 * x's elements at `indices` along `axis` (NumPy's take_along_axis): indices has x's rank and
 * broadcasts against x on the other axes; omitted `axis` means the flattened x and indices.
 */
export function takeAlongAxis(x: TensorInput, indices: TensorInput, axis?: number): Tensor {
  const op = 'takeAlongAxis';
  let t = asTensor(op, 'x', x);
  let idx = asTensor(op, 'indices', indices, 'int32');
  requireDtype(op, 'indices', idx, ['int32']);
  if (axis === undefined) {
    t = reshape(t, [t.size]);
    idx = reshape(idx, [idx.size]);
  }
  const a = normalizeAxis(op, axis ?? 0, t.rank);
  if (idx.rank !== t.rank) throw new ShapeError(`${op}: indices must have x's rank ${t.rank}; received shape ${fmtShape(idx.shape)}`);
  const n = t.shape[a];
  const outShape = broadcastShapes(
    op,
    t.shape.map((d, i) => (i === a ? 1 : d)),
    idx.shape.map((d, i) => (i === a ? 1 : d)),
  );
  outShape[a] = idx.shape[a];
  const xStrides = stridesOf(t.shape),
    outStrides = stridesOf(outShape),
    idxStrides = stridesOf(idx.shape);
  // Per output element: the flat offset of its row in x (every axis but `axis`), and the
  // position of its index in `indices`; neither needs the index values.
  const src = new Int32Array(sizeOf(outShape)),
    at = new Int32Array(src.length);
  for (let o = 0; o < src.length; o++) {
    for (let d = 0, rem = o; d < outShape.length; d++) {
      const c = Math.floor(rem / outStrides[d]);
      rem -= c * outStrides[d];
      at[o] += (idx.shape[d] === 1 ? 0 : c) * idxStrides[d];
      if (d !== a) src[o] += (t.shape[d] === 1 ? 0 : c) * xStrides[d];
    }
  }
  const values = idx.hostValues() as Int32Array | undefined;
  let flat: Tensor;
  if (values) {
    const offsets = new Int32Array(src.length);
    for (let o = 0; o < src.length; o++) {
      let v = values[at[o]];
      if (v < -n || v >= n) throw new ValueError(`${op}: index ${v} is out of range for axis ${a} of size ${n}`);
      if (v < 0) v += n;
      offsets[o] = src[o] + v * xStrides[a];
    }
    flat = tensor(offsets, [offsets.length], 'int32');
  } else {
    // Indices computed on a backend without synchronous reads (an argsort on the GPU): the same
    // arithmetic there, unchecked; an index out of range points past x, where gather gives 0
    // (Note [WebGPU backend]), rather than at another row's element.
    const v = broadcastTo(idx, outShape);
    const wrapped = where(less(v, 0), add(v, n), v);
    const offsets = add(tensor(src, outShape, 'int32'), mul(wrapped, xStrides[a]));
    const inRange = logicalAnd(greaterEqual(v, -n), less(v, n));
    flat = reshape(where(inRange, offsets, t.size), [src.length]);
  }
  return reshape(gather(reshape(t, [t.size]), flat, 0), outShape);
}
