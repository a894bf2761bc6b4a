import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkOneOf } from '../core/options.js';
import { normalizeAxis, sizeOf } from '../core/shape.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, cast, less, logicalNot } from './elementwise.js';
import { asTensor, type TensorInput } from './operand.js';
import { sum } from './reduction.js';
import { hasKernel, runPrimitive } from './run.js';
import { gather, reshape, slice, transpose } from './shape-ops.js';

// Note [Sorting on the host]
// There is no sort primitive. The ops here order indices in plain JavaScript from the values read
// back from the backend (an integer result has no gradient anyway), and values are then taken
// with one gather, whose rule sends gradients back to the elements that were picked: topk's
// values, sort's and unique's are differentiable. NaN sorts above +Infinity, ties keep their
// original order (the lower index first), as in tfjs and NumPy's stable sorts.
//   A backend that reads only asynchronously (webgpu) cannot hand its values to the host here, so
// it orders the rows itself with the argsortRows primitive, in the same order (Note [Bitonic
// argsort on the GPU]); the values are taken with a gather of device-computed indices, and
// searchSorted counts the sequence's entries before each value with a comparison and a sum.
// The CPU backends keep the host path.

/** Whether x's rows are ordered on its backend: it cannot read synchronously, and has the kernel. */
const onDevice = (x: Tensor): boolean => x.backend.readSync === false && hasKernel('argsortRows', x);

/** Each row's sorting permutation, on the device: int32 [rows, n]. */
function deviceOrder(moved: Tensor, rows: number, n: number, descending: boolean): Tensor {
  return runPrimitive('argsortRows', [reshape(moved, [rows, n])], { descending }, [rows, n], 'int32');
}

/** takeRows with the order ([rows, k]) on the device: each row's offset added there, then one gather. */
function takeRowsOnDevice(moved: Tensor, order: Tensor, rows: number, n: number, k: number): Tensor {
  const offsets = tensor(
    Int32Array.from({ length: rows }, (_, r) => r * n),
    [rows, 1],
    'int32',
  );
  return reshape(gather(reshape(moved, [rows * n]), reshape(add(order, offsets), [rows * k]), 0), [rows, k]);
}

/** -1, 0 or 1 as a sorts before, with or after b in ascending order, NaN above everything. */
function compareValues(a: number, b: number): number {
  if (a < b || (b !== b && a === a)) return -1;
  if (a > b || (a !== a && b === b)) return 1;
  return 0;
}

/** A comparator of indices into `values`: ascending or descending by value, ties by index. */
const byValue = (values: ArrayLike<number>, descending: boolean) => (i: number, j: number) =>
  (descending ? compareValues(values[j], values[i]) : compareValues(values[i], values[j])) || i - j;

/** x with `axis` moved last and seen as [rows, n], and how to put a [rows, k] result back. */
function rowsAlong(x: Tensor, axis: number) {
  const perm = x.shape
    .map((_, i) => i)
    .filter((i) => i !== axis)
    .concat(axis);
  const moved = transpose(x, perm);
  const n = x.shape[axis],
    rows = sizeOf(moved.shape.slice(0, -1));
  const back = (y: Tensor, k: number) => {
    const shaped = reshape(y, [...moved.shape.slice(0, -1), k]);
    return transpose(
      shaped,
      perm.map((_, i) => perm.indexOf(i)),
    );
  };
  return { moved, n, rows, back };
}

/** Picks, per row of `moved` ([..., n]), the entries at `order` ([rows, k] flattened): one gather of the flat tensor. */
function takeRows(moved: Tensor, order: Int32Array, rows: number, n: number, k: number): Tensor {
  const flat = Int32Array.from(order, (v, i) => Math.floor(i / k) * n + v);
  return reshape(gather(reshape(moved, [rows * n]), tensor(flat, [rows * k], 'int32'), 0), [rows, k]);
}

/** What st.topk returns. */
export interface TopK {
  /** The k largest entries of each row, largest first. */
  values: Tensor;
  /** Their positions in the last axis, int32. */
  indices: Tensor;
}

/** What st.unique returns. */
export interface UniqueResult {
  /** The distinct values (or slices), in order of first appearance. */
  values: Tensor;
  /** For each element (or slice) of x, the int32 position of its value in `values`. */
  indices: Tensor;
}

/**
 * The k largest entries of each row (the last axis) and their int32 indices, largest first
 * (tfjs's topk; Note [Sorting on the host]). The values carry gradients.
 * @throws ValueError unless 0 <= k <= the last axis' size.
 */
export function topk(x: TensorInput, k = 1, sorted = true): TopK {
  void sorted; // the results always come sorted, which satisfies both settings
  const t = asTensor('topk', 'x', x);
  if (t.rank === 0) throw new ShapeError('topk: x must have rank >= 1; received a scalar');
  const n = t.shape[t.rank - 1],
    rows = t.size / Math.max(n, 1);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new ValueError(`topk: k must be an integer in [0, ${n}]; received ${fmtValue(k)}`);
  const outShape = [...t.shape.slice(0, -1), k];
  if (onDevice(t)) {
    const order = deviceOrder(t, rows, n, true);
    const first = k === n ? order : slice(order, [0, 0], [rows, k]);
    return { values: reshape(takeRowsOnDevice(t, first, rows, n, k), outShape), indices: reshape(first, outShape) };
  }
  const values = t.dataSync();
  const order = new Int32Array(rows * k);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * n, (r + 1) * n);
    const sortedIdx = idx.slice().sort(byValue(row, true));
    for (let j = 0; j < k; j++) order[r * k + j] = sortedIdx[j];
  }
  return {
    values: reshape(takeRows(t, order, rows, n, k), outShape),
    indices: tensor(order, outShape, 'int32'),
  };
}

function sortOrder(op: string, x: TensorInput, axis: number, descending: boolean) {
  const t = asTensor(op, 'x', x);
  if (t.rank === 0) throw new ShapeError(`${op}: x must have rank >= 1; received a scalar`);
  const a = normalizeAxis(op, axis, t.rank);
  const { moved, n, rows, back } = rowsAlong(t, a);
  if (onDevice(moved)) {
    const order = deviceOrder(moved, rows, n, descending);
    return { moved, n, back, order, values: () => takeRowsOnDevice(moved, order, rows, n, n) };
  }
  const values = moved.dataSync();
  const order = new Int32Array(rows * n);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let r = 0; r < rows; r++) {
    const sortedIdx = idx.slice().sort(byValue(values.subarray(r * n, (r + 1) * n), descending));
    order.set(sortedIdx, r * n);
  }
  return { moved, n, back, order: tensor(order, [rows, n], 'int32'), values: () => takeRows(moved, order, rows, n, n) };
}

/** The values of x sorted along `axis` (default -1), ascending unless `descending`; stable, NaN last. */
export function sort(x: TensorInput, axis = -1, descending = false): Tensor {
  const { n, back, values } = sortOrder('sort', x, axis, descending);
  return back(values(), n);
}

/** The int32 indices that sort x along `axis` (default -1), ascending unless `descending`; stable. */
export function argsort(x: TensorInput, axis = -1, descending = false): Tensor {
  const { n, back, order } = sortOrder('argsort', x, axis, descending);
  return back(order, n);
}

/**
 * The distinct slices of x along `axis` (default 0) in order of first appearance, and for each
 * slice of x the int32 index of its value in that list (tfjs's unique). NaN never equals NaN,
 * so each NaN is its own value, as in TensorFlow.
 */
export function unique(x: TensorInput, axis = 0): UniqueResult {
  const t = asTensor('unique', 'x', x);
  if (t.rank === 0) throw new ShapeError('unique: x must have rank >= 1; received a scalar');
  const a = normalizeAxis('unique', axis, t.rank);
  const moved = transpose(t, [a, ...t.shape.map((_, i) => i).filter((i) => i !== a)]);
  const n = t.shape[a],
    width = n === 0 ? 0 : t.size / n;
  // Host work with no device version: on a backend without synchronous reads it needs values the
  // backend kept on the host (st.tensor's, along axis 0), else a read first.
  const values = moved.hostValues();
  if (!values) {
    throw new ValueError(
      `unique: runs on the host, and the '${t.backend.name}' backend computed x on the device: read it first, st.unique(st.tensor(await x.data(), x.shape, x.dtype), axis)`,
    );
  }
  const firsts: number[] = [];
  const indices = new Int32Array(n);
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const slice = Array.from(values.subarray(i * width, (i + 1) * width));
    // NaN slices never match: a key that includes the position keeps them apart.
    const key = slice.some((v) => v !== v) ? `nan@${i}` : slice.map((v) => (Object.is(v, -0) ? 0 : v)).join(',');
    let at = seen.get(key);
    if (at === undefined) {
      at = firsts.length;
      seen.set(key, at);
      firsts.push(i);
    }
    indices[i] = at;
  }
  return { values: gather(t, tensor(firsts, [firsts.length], 'int32'), a), indices: tensor(indices, [n], 'int32') };
}

/** Which insertion point searchSorted returns among equal values: the first ('left') or past the last ('right'). */
export type Side = 'left' | 'right';

/**
 * For each value, the index at which it would be inserted into the sorted last axis of
 * `sortedSequence` to keep it sorted (tfjs's searchSorted): 'left' gives the first such index
 * (lowerBound), 'right' the last (upperBound). sortedSequence is [n] or [...batch, n], values
 * [m] or [...batch, m] with the same batch; the result is int32 with the shape of values.
 */
export function searchSorted(sortedSequence: TensorInput, values: TensorInput, side: Side = 'left'): Tensor {
  const op = 'searchSorted';
  checkOneOf(op, 'side', side, ['left', 'right']);
  const seq = asTensor(op, 'sortedSequence', sortedSequence),
    v = asTensor(op, 'values', values);
  if (seq.rank === 0 || v.rank === 0)
    throw new ShapeError(`${op}: sortedSequence and values must have rank >= 1; received ${fmtShape(seq.shape)} and ${fmtShape(v.shape)}`);
  const batched = seq.rank > 1;
  if (batched && fmtShape(seq.shape.slice(0, -1)) !== fmtShape(v.shape.slice(0, -1))) {
    throw new ShapeError(`${op}: sortedSequence ${fmtShape(seq.shape)} and values ${fmtShape(v.shape)} must share their leading (batch) axes`);
  }
  const n = seq.shape[seq.rank - 1],
    m = batched ? v.shape[v.rank - 1] : v.size;
  if (seq.backend.readSync === false || v.backend.readSync === false) {
    // On a backend without synchronous reads: the count of entries before each value, by a
    // comparison of every (value, entry) pair, [batch, m, n]; for a sorted row it is the binary
    // search's answer.
    const batch = batched ? sizeOf(seq.shape.slice(0, -1)) : 1;
    const row = reshape(seq, [batch, 1, n]),
      query = reshape(v, [batch, m, 1]);
    const before = side === 'right' ? logicalNot(less(query, row)) : less(row, query);
    return reshape(sum(cast(before, 'int32'), -1), v.shape);
  }
  const s = seq.dataSync(),
    q = v.dataSync();
  const out = new Int32Array(q.length);
  const right = side === 'right';
  for (let i = 0; i < q.length; i++) {
    const base = batched ? Math.floor(i / Math.max(m, 1)) * n : 0;
    const target = q[i];
    let lo = 0,
      hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const before = right ? !(target < s[base + mid]) : s[base + mid] < target;
      if (before) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo;
  }
  return tensor(out, v.shape, 'int32');
}

/** searchSorted with side 'left': the first index where each value could be inserted. */
export const lowerBound = (sortedSequence: TensorInput, values: TensorInput): Tensor => searchSorted(sortedSequence, values, 'left');
/** searchSorted with side 'right': the last index where each value could be inserted. */
export const upperBound = (sortedSequence: TensorInput, values: TensorInput): Tensor => searchSorted(sortedSequence, values, 'right');
