import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { normalizeAxis } from '../core/shape.js';
import { arange, tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, cast, clip, div, floor, greaterEqual, lessEqual, logicalAnd, mul, sqrt, sub, where } from './elementwise.js';
import { matmul } from './linalg.js';
import { floating } from './math-extra.js';
import { diagonal } from './numpy-extra.js';
import { oneHot } from './nn.js';
import { asTensor, type TensorInput } from './operand.js';
import { max, mean, min, sum } from './reduction.js';
import { gather, pad, reshape, transpose } from './shape-ops.js';
import { argsort } from './sorting.js';

// More keras.ops NumPy-style functions (issue 23): slice_update, corrcoef, correlate, histogram,
// argpartition and einops's rearrange, as composites of the existing ops.

/**
 * x with the block starting at `startIndices` replaced by `updates` (Keras's slice_update);
 * differentiable in both (the block's gradient goes to updates, the rest to x).
 */
export function sliceUpdate(x: TensorInput, startIndices: readonly number[], updates: TensorInput): Tensor {
  const t = asTensor('sliceUpdate', 'inputs', x),
    u = asTensor('sliceUpdate', 'updates', updates);
  const fits =
    startIndices.length === t.rank &&
    u.rank === t.rank &&
    startIndices.every((s, i) => Number.isInteger(s) && s >= 0 && s + u.shape[i] <= t.shape[i]);
  if (!fits) {
    throw new ShapeError(
      `sliceUpdate: updates ${fmtShape(u.shape)} at ${fmtValue(startIndices)} must lie inside inputs ${fmtShape(t.shape)} (one start per axis)`,
    );
  }
  const paddings = startIndices.map((s, i) => [s, t.shape[i] - s - u.shape[i]] as [number, number]);
  const inside = pad(tensor(new Array(u.size).fill(1), u.shape, 'int32'), paddings);
  return where(cast(inside, 'bool'), pad(cast(u, t.dtype), paddings), t);
}

/**
 * Pearson correlation coefficients of the rows of x (variables; columns are observations), as
 * NumPy's corrcoef: cov / sqrt(diag ⊗ diag), clipped to [-1, 1]. A 1-D x is one variable.
 */
export function corrcoef(x: TensorInput): Tensor {
  let t = floating('corrcoef', x);
  const vector = t.rank === 1;
  if (vector) t = reshape(t, [1, t.shape[0]]);
  if (t.rank !== 2) throw new ShapeError(`corrcoef: x must be 1-D or 2-D; received ${fmtShape(t.shape)}`);
  const centred = sub(t, mean(t, 1, true));
  const cov = matmul(centred, centred, false, true);
  const d = sqrt(diagonal(cov));
  const n = d.shape[0];
  const r = div(cov, mul(reshape(d, [n, 1]), reshape(d, [1, n])));
  const out = clip(r, -1, 1);
  return vector ? reshape(out, []) : out;
}

/** The output length of correlate's modes. */
export type CorrelateMode = 'valid' | 'same' | 'full';

/**
 * The cross-correlation of two 1-D sequences (NumPy's correlate): c[k] = sum_n a[n + k] v[n] over
 * the overlap that `mode` keeps ('valid' by default: where v lies inside a).
 */
export function correlate(a: TensorInput, v: TensorInput, mode: CorrelateMode = 'valid'): Tensor {
  let x = floating('correlate', a, 'x1'),
    w = floating('correlate', v, 'x2');
  if (x.rank !== 1 || w.rank !== 1 || x.size === 0 || w.size === 0) {
    throw new ShapeError(`correlate: x1 and x2 must be non-empty 1-D tensors; received ${fmtShape(x.shape)} and ${fmtShape(w.shape)}`);
  }
  if (!['valid', 'same', 'full'].includes(mode))
    throw new ValueError(`correlate: mode must be 'valid', 'same' or 'full'; received ${fmtValue(mode)}`);
  // NumPy swaps the inputs when v is longer and reverses the result.
  const swapped = w.size > x.size;
  if (swapped) [x, w] = [w, x];
  const n = x.size,
    m = w.size;
  const left = mode === 'full' ? m - 1 : mode === 'same' ? Math.floor(m / 2) : 0;
  const length = mode === 'full' ? n + m - 1 : mode === 'same' ? n : n - m + 1;
  const right = length + m - 1 - n - left;
  const padded = pad(x, [[left, right]]);
  const windows = Array.from({ length: length * m }, (_, i) => Math.floor(i / m) + (i % m));
  const rows = reshape(gather(padded, tensor(windows, [windows.length], 'int32')), [length, m]);
  let out = reshape(matmul(rows, reshape(w, [m, 1])), [length]);
  if (swapped)
    out = gather(
      out,
      tensor(
        Array.from({ length }, (_, i) => length - 1 - i),
        [length],
        'int32',
      ),
    );
  return out;
}

/** The counts and bin edges of `histogram`. */
export interface Histogram {
  /** int32 counts per bin. */
  counts: Tensor;
  /** The bins + 1 edges (float). */
  edges: Tensor;
}

/**
 * Counts of x's values in `bins` (default 10) equal bins over `range` (default [min(x), max(x)]),
 * NumPy's histogram: each bin is half-open except the last, which holds its right edge; values
 * outside the range are not counted.
 */
export function histogram(x: TensorInput, bins = 10, range?: readonly [number, number]): Histogram {
  const t = floating('histogram', x);
  if (!Number.isInteger(bins) || bins < 1) throw new ValueError(`histogram: bins must be a positive integer; received ${fmtValue(bins)}`);
  if (range !== undefined && !(range.length === 2 && range[0] <= range[1])) {
    throw new ValueError(`histogram: range must be [low, high] with low <= high; received ${fmtValue(range)}`);
  }
  const flat = reshape(t, [t.size]);
  let low: Tensor, high: Tensor;
  if (range) [low, high] = [tensor(range[0], [], t.dtype), tensor(range[1], [], t.dtype)];
  else if (t.size === 0) [low, high] = [tensor(0, [], t.dtype), tensor(1, [], t.dtype)];
  else [low, high] = [min(flat), max(flat)];
  // NumPy widens an empty range by 0.5 on each side.
  const same = lessEqual(high, low);
  [low, high] = [where(same, sub(low, 0.5), low), where(same, add(high, 0.5), high)];
  const width = sub(high, low);
  const edges = add(low, mul(div(cast(arange(0, bins + 1, 1, 'int32'), t.dtype), bins), width));
  const inRange = logicalAnd(greaterEqual(flat, low), lessEqual(flat, high));
  const position = floor(mul(div(sub(flat, low), width), bins));
  const bin = cast(clip(where(inRange, position, -1), -1, bins - 1), 'int32');
  const counts = sum(oneHot(bin, bins, { dtype: 'int32' }), 0);
  return { counts, edges };
}

/**
 * Indices that partition x along `axis` around its kth element (NumPy's argpartition): the
 * element at position kth is the one a sort would put there, smaller ones before it, larger after.
 * Strata returns the full stable argsort, which is one such partition.
 */
export function argpartition(x: TensorInput, kth: number, axis = -1): Tensor {
  const t = asTensor('argpartition', 'x', x);
  const a = normalizeAxis('argpartition', axis, t.rank);
  const n = t.shape[a];
  if (!Number.isInteger(kth) || kth < -n || kth >= n)
    throw new ValueError(`argpartition: kth must be an integer in [${-n}, ${n}); received ${fmtValue(kth)}`);
  return argsort(t, a);
}

/**
 * einops's rearrange (Keras's keras.ops.rearrange): a pattern such as 'b h w c -> b (h w) c' or
 * 'b (h w) c -> b h w c' with axis lengths { h: 4 } for axes split out of a group. Names on the left
 * are the input's axes (parenthesised groups are split), the right side orders and groups them.
 */
export function rearrange(x: TensorInput, pattern: string, axesLengths: Record<string, number> = {}): Tensor {
  const t = asTensor('rearrange', 'tensor', x);
  const sides = pattern.split('->');
  if (sides.length !== 2) throw new ValueError(`rearrange: the pattern must have one '->'; received ${fmtValue(pattern)}`);
  const [left, right] = sides.map((side) => parseSide(side, pattern));
  if (left.length !== t.rank)
    throw new ShapeError(`rearrange: the pattern's left side names ${left.length} axes; the tensor has shape ${fmtShape(t.shape)}`);
  // Lengths of every elementary axis, from the input's shape and the given lengths.
  const lengths = new Map<string, number>(Object.entries(axesLengths));
  left.forEach((group, i) => {
    const unknown = group.filter((name) => !lengths.has(name));
    const known = group.filter((name) => lengths.has(name)).reduce((p, name) => p * lengths.get(name)!, 1);
    if (unknown.length > 1) throw new ValueError(`rearrange: give the lengths of all but one axis of (${group.join(' ')})`);
    if (unknown.length === 1) {
      if (t.shape[i] % known !== 0) throw new ShapeError(`rearrange: axis ${i} of length ${t.shape[i]} cannot be split into (${group.join(' ')})`);
      lengths.set(unknown[0], t.shape[i] / known);
    } else if (known !== t.shape[i]) {
      throw new ShapeError(`rearrange: (${group.join(' ')}) has length ${known}, but axis ${i} has ${t.shape[i]}`);
    }
  });
  const elementary = left.flat();
  const order = right.flat();
  const sorted = (names: string[]) => names.slice().sort().join(' ');
  if (new Set(elementary).size !== elementary.length || sorted(elementary) !== sorted(order)) {
    throw new ValueError(`rearrange: both sides must name the same axes, each once; received ${fmtValue(pattern)}`);
  }
  const split = reshape(
    t,
    elementary.map((name) => lengths.get(name)!),
  );
  const moved = transpose(
    split,
    order.map((name) => elementary.indexOf(name)),
  );
  return reshape(
    moved,
    right.map((group) => group.reduce((p, name) => p * lengths.get(name)!, 1)),
  );
}

/** One side of a rearrange pattern as groups of axis names ('(h w)' is one group of two). */
function parseSide(side: string, pattern: string): string[][] {
  const groups: string[][] = [];
  let current: string[] | undefined;
  for (const token of side.replace(/\(/g, ' ( ').replace(/\)/g, ' ) ').trim().split(/\s+/).filter(Boolean)) {
    if (token === '(') {
      if (current) throw new ValueError(`rearrange: nested parentheses in ${fmtValue(pattern)}`);
      current = [];
    } else if (token === ')') {
      if (!current) throw new ValueError(`rearrange: unbalanced parentheses in ${fmtValue(pattern)}`);
      groups.push(current);
      current = undefined;
    } else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(token)) {
      if (current) current.push(token);
      else groups.push([token]);
    } else {
      throw new ValueError(`rearrange: unsupported token ${fmtValue(token)} in ${fmtValue(pattern)} (names and parentheses only; no '...' or 1)`);
    }
  }
  if (current) throw new ValueError(`rearrange: unbalanced parentheses in ${fmtValue(pattern)}`);
  return groups;
}
