import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { normalizeAxes, sizeOf, stridesOf } from '../core/shape.js';
import { arange, tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast, greater, where } from './elementwise.js';
import { asTensor, requireDtype, type TensorInput } from './operand.js';
import { gather, reshape, scatterAdd, slice } from './shape-ops.js';

// Indexing ops of tfjs and Keras as composites of gather and scatterAdd, whose rules make them
// differentiable in the gathered or scattered values. Integer index tensors are read on the host
// (as gather itself does to check them), so index arithmetic and validation happen in plain
// JavaScript and the backends see one gather or scatter per op.

/** An int32 index tensor and its values on the host. */
function hostIndices(op: string, name: string, indices: TensorInput): { t: Tensor; values: Int32Array } {
  const t = asTensor(op, name, indices, 'int32');
  requireDtype(op, name, t, ['int32']);
  const values = t.hostValues() as Int32Array | undefined;
  if (!values) {
    throw new ValueError(
      `${op}: ${name} must be known on the host, and the '${t.backend.name}' backend computed them on the device: make them with st.tensor(...), or read them first (st.tensor(await t.data(), t.shape, 'int32'))`,
    );
  }
  return { t, values };
}

/** Reverses x along `axis` (a number, a list, or every axis when omitted). */
export function reverse(x: TensorInput, axis?: number | readonly number[]): Tensor {
  let t = asTensor('reverse', 'x', x);
  for (const a of normalizeAxes('reverse', axis, t.rank)) {
    const n = t.shape[a];
    if (n > 1) t = gather(t, arange(n - 1, -1, -1, 'int32'), a);
  }
  return t;
}

/** Flat row numbers of the index tuples in `indices` [..., K] into the first K axes of `shape`. */
function linearIndices(op: string, values: Int32Array, indexShape: readonly number[], shape: readonly number[]): Int32Array {
  const k = indexShape[indexShape.length - 1];
  if (indexShape.length === 0 || k > shape.length) {
    throw new ShapeError(
      `${op}: indices must have shape [..., K] with K <= ${shape.length} (the rank of ${fmtShape(shape)}); received ${fmtShape(indexShape)}`,
    );
  }
  const strides = stridesOf(shape.slice(0, k));
  const rows = values.length / Math.max(k, 1);
  const out = new Int32Array(k === 0 ? sizeOf(indexShape.slice(0, -1)) : rows);
  for (let r = 0; r < out.length; r++) {
    let flat = 0;
    for (let j = 0; j < k; j++) {
      const v = values[r * k + j];
      if (!(v >= 0 && v < shape[j])) {
        throw new ValueError(`${op}: index ${v} of tuple ${r} is out of range for axis ${j} of size ${shape[j]} (shape ${fmtShape(shape)})`);
      }
      flat += v * strides[j];
    }
    out[r] = flat;
  }
  return out;
}

/**
 * Gathers slices of x at index tuples: indices [..., K] name positions in x's first K axes, and the
 * result has shape indices.shape[:-1] + x.shape[K:] (tfjs's gatherND).
 * @throws ValueError for an index out of range; ShapeError when K exceeds x's rank.
 */
export function gatherND(x: TensorInput, indices: TensorInput): Tensor {
  const t = asTensor('gatherND', 'x', x);
  const idx = hostIndices('gatherND', 'indices', indices);
  const flat = linearIndices('gatherND', idx.values, idx.t.shape, t.shape);
  const k = idx.t.shape[idx.t.rank - 1];
  const rows = reshape(t, [sizeOf(t.shape.slice(0, k)), ...t.shape.slice(k)]);
  return gather(rows, tensor(flat, idx.t.shape.slice(0, -1), 'int32'), 0);
}

/** updates rows scattered into zeros of `shape` at the index tuples (rows named twice add up). */
function scatterRows(op: string, flat: Int32Array, updates: Tensor, indexShape: readonly number[], shape: readonly number[]): Tensor {
  const k = indexShape[indexShape.length - 1];
  const expected = [...indexShape.slice(0, -1), ...shape.slice(k)];
  if (fmtShape(updates.shape) !== fmtShape(expected)) {
    throw new ShapeError(
      `${op}: updates must have shape ${fmtShape(expected)} for indices ${fmtShape(indexShape)} into ${fmtShape(shape)}; received ${fmtShape(updates.shape)}`,
    );
  }
  const isBool = updates.dtype === 'bool';
  const rows = reshape(isBool ? cast(updates, 'int32') : updates, [flat.length, ...shape.slice(k)]);
  const summed = scatterAdd(rows, tensor(flat, [flat.length], 'int32'), 0, sizeOf(shape.slice(0, k)));
  const y = reshape(summed, shape);
  return isBool ? greater(y, 0) : y;
}

/**
 * Scatters `updates` into zeros of `shape` at the index tuples of `indices` [..., K] (tfjs's
 * scatterND); updates for one position add up.
 */
export function scatterND(indices: TensorInput, updates: TensorInput, shape: readonly number[]): Tensor {
  const idx = hostIndices('scatterND', 'indices', indices);
  const u = asTensor('scatterND', 'updates', updates);
  const flat = linearIndices('scatterND', idx.values, idx.t.shape, shape);
  return scatterRows('scatterND', flat, u, idx.t.shape, shape);
}

/**
 * A copy of `x` with the slices at `indices` [..., K] replaced by `updates` (tfjs's
 * tensorScatterUpdate). When a position is named twice the last update wins. Gradients flow to
 * x where it was kept and to the updates that were written.
 */
export function tensorScatterUpdate(x: TensorInput, indices: TensorInput, updates: TensorInput): Tensor {
  const op = 'tensorScatterUpdate';
  const t = asTensor(op, 'x', x);
  const idx = hostIndices(op, 'indices', indices);
  const u = cast(asTensor(op, 'updates', updates), t.dtype);
  const flat = linearIndices(op, idx.values, idx.t.shape, t.shape);
  // Keep the last update of each position, so no two rows add up.
  const last = new Map<number, number>();
  flat.forEach((f, r) => last.set(f, r));
  const keptRows = Int32Array.from([...last.values()].sort((p, q) => p - q));
  const keptFlat = keptRows.map((r) => flat[r]);
  const k = idx.t.shape[idx.t.rank - 1];
  const rowShape = t.shape.slice(k);
  const rows = gather(reshape(u, [flat.length, ...rowShape]), tensor(keptRows, [keptRows.length], 'int32'), 0);
  const rowIndexShape = [keptRows.length, k];
  const written = scatterRows(op, keptFlat, rows, rowIndexShape, t.shape);
  const hit = scatterRows(
    op,
    keptFlat,
    tensor(new Uint8Array(keptRows.length * sizeOf(rowShape)).fill(1), [keptRows.length, ...rowShape], 'bool'),
    rowIndexShape,
    t.shape,
  );
  return where(hit, written, t);
}

/**
 * Sums the slices of x that share a segment id: segmentIds has the shape of x's leading axes and
 * the result has shape [numSegments, ...the rest of x] (tfjs's unsortedSegmentSum). Negative ids
 * are dropped, as in TensorFlow.
 * @throws ValueError for an id >= numSegments; ShapeError when segmentIds is not a prefix of x's shape.
 */
export function unsortedSegmentSum(x: TensorInput, segmentIds: TensorInput, numSegments: number): Tensor {
  const op = 'unsortedSegmentSum';
  const t = asTensor(op, 'x', x);
  const ids = hostIndices(op, 'segmentIds', segmentIds);
  if (!Number.isInteger(numSegments) || numSegments < 0)
    throw new ValueError(`${op}: numSegments must be a non-negative integer; received ${fmtValue(numSegments)}`);
  const k = ids.t.rank;
  if (fmtShape(t.shape.slice(0, k)) !== fmtShape(ids.t.shape)) {
    throw new ShapeError(`${op}: segmentIds ${fmtShape(ids.t.shape)} must match the leading axes of x ${fmtShape(t.shape)}`);
  }
  const rest = t.shape.slice(k);
  return bucketSum(op, reshape(t, [ids.values.length, ...rest]), ids.values, numSegments);
}

/** Sums rows into `size` buckets; negative bucket numbers are dropped, and so are those >= size when `dropHigh`. */
function bucketSum(op: string, rows: Tensor, buckets: Int32Array, size: number, dropHigh = false): Tensor {
  let dropped = false;
  const target = buckets.map((b, i) => {
    if (b < 0 || (dropHigh && b >= size)) {
      dropped = true;
      return size;
    }
    if (b >= size) throw new ValueError(`${op}: id ${b} at position ${i} is out of range for ${size} segments`);
    return b;
  });
  const summed = scatterAdd(rows, tensor(target, [target.length], 'int32'), 0, size + (dropped ? 1 : 0));
  return dropped ? slice(summed, 0, [size, ...rows.shape.slice(1)]) : summed;
}

/**
 * Counts each value of the int32 tensor x in [0, size), or sums `weights` (x's shape) by value;
 * values >= size are ignored (tfjs's bincount). The result is [size], int32 without weights.
 * @throws ValueError for a negative value.
 */
export function bincount(x: TensorInput, weights: TensorInput | undefined, size: number): Tensor {
  return counted('bincount', x, weights, size, false);
}

/**
 * bincount of a 1-D x, or of each row of a 2-D x ([rows, size]); with `binaryOutput` each entry is
 * 1 where the value occurs and 0 elsewhere (tfjs's denseBincount).
 */
export function denseBincount(x: TensorInput, weights: TensorInput | undefined, size: number, binaryOutput = false): Tensor {
  return counted('denseBincount', x, weights, size, binaryOutput);
}

function counted(op: string, x: TensorInput, weights: TensorInput | undefined, size: number, binary: boolean): Tensor {
  const values = hostIndices(op, 'x', x);
  if (!Number.isInteger(size) || size < 0) throw new ValueError(`${op}: size must be a non-negative integer; received ${fmtValue(size)}`);
  const rank = values.t.rank;
  if (rank !== 1 && !(rank === 2 && op === 'denseBincount')) {
    throw new ShapeError(`${op}: x must be ${op === 'bincount' ? '1-D' : '1-D or 2-D'}; received shape ${fmtShape(values.t.shape)}`);
  }
  const n = values.values.length;
  const negative = values.values.findIndex((v) => v < 0);
  if (negative >= 0) throw new ValueError(`${op}: values must be non-negative; received ${values.values[negative]} at position ${negative}`);
  let w = weights === undefined ? undefined : asTensor(op, 'weights', weights);
  if (w && w.size === 0) w = undefined;
  if (w && fmtShape(w.shape) !== fmtShape(values.t.shape)) {
    throw new ShapeError(`${op}: weights must have x's shape ${fmtShape(values.t.shape)} (or no elements); received ${fmtShape(w.shape)}`);
  }
  // Each row counts into its own `size` buckets of one flat tensor.
  const rowLength = rank === 2 ? values.t.shape[1] : n;
  const rows = rank === 2 ? values.t.shape[0] : 1;
  const buckets = values.values.map((v, i) => (v < size ? Math.floor(i / Math.max(rowLength, 1)) * size + v : -1));
  const ones = tensor(new Int32Array(n).fill(1), [n], 'int32');
  const summed = bucketSum(op, binary || !w ? ones : reshape(w, [n]), buckets, rows * size, true);
  let y = reshape(summed, rank === 2 ? [rows, size] : [size]);
  if (binary) y = cast(greater(y, 0), w ? w.dtype : 'int32');
  return y;
}
