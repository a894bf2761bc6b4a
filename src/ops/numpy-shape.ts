import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { normalizeAxis } from '../core/shape.js';
import { arange, tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { floorDiv, mod } from './arithmetic-extra.js';
import { add, cast, greaterEqual, mul, sub, where } from './elementwise.js';
import { diag } from './linalg-extra.js';
import { floating } from './math-extra.js';
import { asTensor, type TensorInput } from './operand.js';
import { max, min, sum, type Axis } from './reduction.js';
import { reverse } from './indexing.js';
import { concat, gather, pad, reshape, slice, split, squeeze, stack, transpose } from './shape-ops.js';
import { searchSorted } from './sorting.js';

// Shape-building NumPy-style ops of keras.ops (issue 23) as composites: slices, concatenations,
// gathers and broadcasts, so autograd differentiates the float ones through their parts.

/** b appended to a along `axis`; with no axis both are flattened first (NumPy's append). */
export function append(a: TensorInput, b: TensorInput, axis?: number): Tensor {
  const x = asTensor('append', 'x1', a),
    y = asTensor('append', 'x2', b);
  if (axis === undefined) return concat([reshape(x, [x.size]), reshape(y, [y.size])]);
  return concat([x, y], axis);
}

/** A 2-D tensor with the flattened x on its k-th diagonal (k > 0 above the main one). */
export function diagflat(x: TensorInput, k = 0): Tensor {
  if (!Number.isInteger(k)) throw new ValueError(`diagflat: k must be an integer; received ${fmtValue(k)}`);
  const t = asTensor('diagflat', 'x', x);
  const square = diag(reshape(t, [t.size]));
  const a = Math.abs(k);
  return k >= 0
    ? pad(square, [
        [0, a],
        [a, 0],
      ])
    : pad(square, [
        [a, 0],
        [0, a],
      ]);
}

/** The n-th discrete difference along `axis` (default -1): x[1:] - x[:-1], n times. */
export function diff(x: TensorInput, n = 1, axis = -1): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`diff: n must be a non-negative integer; received ${fmtValue(n)}`);
  let t = asTensor('diff', 'x', x);
  const a = normalizeAxis('diff', axis, t.rank);
  for (let i = 0; i < n; i++) {
    const len = t.shape[a];
    if (len === 0) break;
    const part = (start: number) =>
      slice(
        t,
        t.shape.map((_, j) => (j === a ? start : 0)),
        t.shape.map((d, j) => (j === a ? len - 1 : d)),
      );
    t = sub(part(1), part(0));
  }
  return t;
}

/**
 * The index of the bin each x falls in (NumPy's digitize, increasing bins): i with
 * bins[i-1] <= x < bins[i], or bins[i-1] < x <= bins[i] with `right`; int32.
 */
export function digitize(x: TensorInput, bins: TensorInput, right = false): Tensor {
  const t = asTensor('digitize', 'x', x),
    edges = asTensor('digitize', 'bins', bins);
  if (edges.rank !== 1) throw new ShapeError(`digitize: bins must be 1-D; received ${fmtShape(edges.shape)}`);
  if (t.size === 0) return cast(t, 'int32');
  const flat = reshape(cast(t, edges.dtype === 'int32' && t.dtype === 'int32' ? 'int32' : 'float32'), [t.size]);
  const seq = cast(edges, flat.dtype);
  return reshape(searchSorted(seq, flat, right ? 'left' : 'right'), t.shape);
}

/** The Kronecker product: every element of a times the whole of b, in blocks (NumPy's kron). */
export function kron(a: TensorInput, b: TensorInput): Tensor {
  let x = asTensor('kron', 'x1', a),
    y = asTensor('kron', 'x2', b);
  const rank = Math.max(x.rank, y.rank, 1);
  x = reshape(x, [...Array(rank - x.rank).fill(1), ...x.shape]);
  y = reshape(y, [...Array(rank - y.rank).fill(1), ...y.shape]);
  // x[i0, 1, i1, 1, ...] * y[1, j0, 1, j1, ...] -> [i0 * j0, i1 * j1, ...]
  const spread = (t: Tensor, first: boolean) =>
    reshape(
      t,
      t.shape.flatMap((d) => (first ? [d, 1] : [1, d])),
    );
  const product = mul(spread(x, true), spread(y, false));
  return reshape(
    product,
    x.shape.map((d, i) => d * y.shape[i]),
  );
}

/**
 * Each element repeated `repeats` times along `axis` (NumPy's repeat): a count for all, or one per
 * element of that axis; with no axis, x is flattened first.
 */
export function repeat(x: TensorInput, repeats: number | readonly number[], axis?: number): Tensor {
  let t = asTensor('repeat', 'x', x);
  if (axis === undefined) t = reshape(t, [t.size]);
  const a = normalizeAxis('repeat', axis ?? 0, t.rank);
  const n = t.shape[a];
  const counts: number[] =
    typeof repeats === 'number' ? Array(n).fill(repeats) : repeats.length === 1 ? Array(n).fill(repeats[0]) : Array.from(repeats);
  if (counts.length !== n || !counts.every((c) => Number.isInteger(c) && c >= 0)) {
    throw new ValueError(`repeat: repeats must be a non-negative integer or one per element of axis ${a} (${n}); received ${fmtValue(repeats)}`);
  }
  const index = counts.flatMap((c, i) => Array(c).fill(i));
  return gather(t, tensor(index, [index.length], 'int32'), a);
}

/** x rotated by 90 degrees k times in the plane of `axes` (NumPy's rot90: from the first axis towards the second). */
export function rot90(x: TensorInput, k = 1, axes: readonly [number, number] = [0, 1]): Tensor {
  const t = asTensor('rot90', 'x', x);
  if (!Number.isInteger(k)) throw new ValueError(`rot90: k must be an integer; received ${fmtValue(k)}`);
  if (t.rank < 2) throw new ShapeError(`rot90: x must have rank >= 2; received ${fmtShape(t.shape)}`);
  const a0 = normalizeAxis('rot90', axes[0], t.rank),
    a1 = normalizeAxis('rot90', axes[1], t.rank);
  if (a0 === a1) throw new ValueError(`rot90: the two axes must differ; received ${fmtValue(axes)}`);
  const turns = ((k % 4) + 4) % 4;
  const perm = t.shape.map((_, i) => (i === a0 ? a1 : i === a1 ? a0 : i));
  if (turns === 0) return t;
  if (turns === 2) return reverse(t, [a0, a1]);
  if (turns === 1) return transpose(reverse(t, a1), perm);
  return reverse(transpose(t, perm), a1);
}

/** An n x m matrix of ones on and below the k-th diagonal, zeros above (NumPy's tri). */
export function tri(n: number, m = n, k = 0, dtype: 'float32' | 'float64' | 'int32' = 'float32'): Tensor {
  for (const [name, v] of [
    ['n', n],
    ['m', m],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ValueError(`tri: ${name} must be a non-negative integer; received ${fmtValue(v)}`);
  }
  const rows = reshape(arange(0, n, 1, 'int32'), [n, 1]),
    cols = reshape(arange(0, m, 1, 'int32'), [1, m]);
  return cast(greaterEqual(add(rows, k), cols), dtype);
}

/**
 * The Vandermonde matrix of a vector x: columns x^(N-1), ..., x, 1 (or increasing powers with
 * `increasing`); N defaults to x's length. Powers are repeated products, so x = 0 has finite gradients.
 */
export function vander(x: TensorInput, n?: number, increasing = false): Tensor {
  const t = floating('vander', x);
  if (t.rank !== 1) throw new ShapeError(`vander: x must be 1-D; received ${fmtShape(t.shape)}`);
  const cols = n ?? t.shape[0];
  if (!Number.isInteger(cols) || cols < 0) throw new ValueError(`vander: N must be a non-negative integer; received ${fmtValue(n)}`);
  const powers: Tensor[] = [];
  for (let j = 0; j < cols; j++) powers.push(j === 0 ? add(mul(t, 0), 1) : mul(powers[j - 1], t));
  if (!increasing) powers.reverse();
  return cols === 0 ? reshape(t, [t.shape[0], 0]) : stack(powers, 1);
}

/**
 * The cross product of vectors of 3 (or 2) components along `axis` (default -1); two 2-vectors give
 * the z component only, as NumPy does. Inputs broadcast.
 */
export function cross(a: TensorInput, b: TensorInput, axis = -1): Tensor {
  const x = floating('cross', a, 'x1'),
    y = floating('cross', b, 'x2');
  const ax = normalizeAxis('cross', axis, x.rank),
    ay = normalizeAxis('cross', axis, y.rank);
  const nx = x.shape[ax],
    ny = y.shape[ay];
  if (![2, 3].includes(nx) || ![2, 3].includes(ny)) {
    throw new ShapeError(`cross: the vectors must have 2 or 3 components along axis ${axis}; received ${fmtShape(x.shape)} and ${fmtShape(y.shape)}`);
  }
  const parts = (t: Tensor, a: number, n: number) => {
    const p = split(t, n, a).map((s) => squeeze(s, a));
    return n === 3 ? p : [...p, mul(p[0], 0)];
  };
  const [a0, a1, a2] = parts(x, ax, nx),
    [b0, b1, b2] = parts(y, ay, ny);
  const z = sub(mul(a0, b1), mul(a1, b0));
  if (nx === 2 && ny === 2) return z;
  const out = stack([sub(mul(a1, b2), mul(a2, b1)), sub(mul(a2, b0), mul(a0, b2)), z], -1);
  const rank = out.rank;
  const target = normalizeAxis('cross', axis, rank);
  return target === rank - 1 ? out : transpose(out, moveLast(rank, target));
}

function moveLast(rank: number, target: number): number[] {
  const order: number[] = [];
  for (let i = 0, src = 0; i < rank; i++) order.push(i === target ? rank - 1 : src++);
  return order;
}

/**
 * The integral of y along `axis` (default -1) by the trapezoid rule, at sample points `x` (same
 * length along the axis, or broadcasting) or a spacing `dx` (default 1).
 */
export function trapezoid(y: TensorInput, x?: TensorInput | null, dx = 1, axis = -1): Tensor {
  const t = floating('trapezoid', y, 'y');
  const a = normalizeAxis('trapezoid', axis, t.rank);
  const n = t.shape[a];
  if (n < 2) return mul(sum(t, a), 0);
  const part = (v: Tensor, start: number) =>
    slice(
      v,
      v.shape.map((_, j) => (j === a ? start : 0)),
      v.shape.map((d, j) => (j === a ? n - 1 : d)),
    );
  const heights = mul(add(part(t, 1), part(t, 0)), 0.5);
  if (x === undefined || x === null) return mul(sum(heights, a), dx);
  let xs = cast(asTensor('trapezoid', 'x', x), t.dtype);
  if (xs.rank === 1 && t.rank > 1)
    xs = reshape(
      xs,
      t.shape.map((d, j) => (j === a ? d : 1)),
    );
  return sum(mul(heights, diff(xs, 1, xs.rank === 1 ? 0 : a)), a);
}

/** The first choice whose condition holds, element by element, else `defaultValue` (NumPy's select). */
export function select(condlist: readonly TensorInput[], choicelist: readonly TensorInput[], defaultValue: TensorInput = 0): Tensor {
  if (condlist.length !== choicelist.length || condlist.length === 0) {
    throw new ValueError(`select: condlist and choicelist must be non-empty and of one length; received ${condlist.length} and ${choicelist.length}`);
  }
  let out = asTensor('select', 'default', defaultValue);
  for (let i = condlist.length - 1; i >= 0; i--) {
    out = where(cast(asTensor('select', `condlist[${i}]`, condlist[i]), 'bool'), asTensor('select', `choicelist[${i}]`, choicelist[i]), out);
  }
  return out;
}

/** Flat indices as coordinates in an array of `shape` (NumPy's unravel_index, C order): one int32 tensor per axis. */
export function unravelIndex(indices: TensorInput, shape: readonly number[]): Tensor[] {
  const idx = asTensor('unravelIndex', 'indices', indices, 'int32');
  if (idx.dtype !== 'int32') throw new ValueError(`unravelIndex: indices must be int32; received dtype ${idx.dtype}`);
  if (!shape.every((d) => Number.isInteger(d) && d > 0))
    throw new ValueError(`unravelIndex: shape must hold positive integers; received ${fmtValue(shape)}`);
  const out: Tensor[] = [];
  let rest = idx;
  for (let i = shape.length - 1; i >= 0; i--) {
    out.unshift(mod(rest, shape[i]));
    rest = floorDiv(rest, shape[i]);
  }
  return out;
}

/** max - min along `axis` (all axes by default): NumPy's ptp ("peak to peak"). */
export function ptp(x: TensorInput, axis?: Axis, keepDims = false): Tensor {
  const t = asTensor('ptp', 'x', x);
  return sub(max(t, axis, keepDims), min(t, axis, keepDims));
}

/** Options of `st.logspace` and `st.geomspace`. */
export interface SpaceOptions {
  /** Whether `stop` is the last sample. Default true. */
  endpoint?: boolean;
  /** The base of logspace. Default 10. */
  base?: number;
  /** The result's dtype. Default float32. */
  dtype?: 'float32' | 'float64';
}

function spaced(op: string, start: number, stop: number, num: number, endpoint: boolean): number[] {
  if (!Number.isInteger(num) || num < 0) throw new ValueError(`${op}: num must be a non-negative integer; received ${fmtValue(num)}`);
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  return Array.from({ length: num }, (_, i) => (endpoint && i === num - 1 && num > 1 ? stop : start + i * step));
}

/** base^t for `num` (default 50) evenly spaced t from start to stop (NumPy's logspace). */
export function logspace(start: number, stop: number, num = 50, options: SpaceOptions = {}): Tensor {
  const { endpoint = true, base = 10, dtype = 'float32' } = options;
  const values = spaced('logspace', start, stop, num, endpoint).map((t) => base ** t);
  return tensor(values, [values.length], dtype);
}

/** `num` (default 50) samples from start to stop evenly spaced on a log scale, ends exact (NumPy's geomspace). */
export function geomspace(start: number, stop: number, num = 50, options: Omit<SpaceOptions, 'base'> = {}): Tensor {
  if (start === 0 || stop === 0 || Math.sign(start) !== Math.sign(stop)) {
    throw new ValueError(`geomspace: start and stop must be non-zero and of one sign; received ${fmtValue(start)} and ${fmtValue(stop)}`);
  }
  const { endpoint = true, dtype = 'float32' } = options;
  const s = Math.sign(start);
  const values = spaced('geomspace', Math.log10(Math.abs(start)), Math.log10(Math.abs(stop)), num, endpoint).map((t) => s * 10 ** t);
  if (num > 0) values[0] = start;
  if (num > 1 && endpoint) values[num - 1] = stop;
  return tensor(values, [values.length], dtype);
}
