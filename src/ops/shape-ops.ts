import { fitsInt32, int32RangeError, promoteTypes } from '../core/dtype.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { broadcastShapes, broadcastedAxes, checkShape, normalizeAxis, shapesEqual, sizeOf } from '../core/shape.js';
import { tensor } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { add, cast, less, where } from './elementwise.js';
import { asTensor, requireDtype, type TensorInput } from './operand.js';
import { runPrimitive } from './run.js';

/**
 * Reshapes to `shape`; one dimension may be -1 and is inferred. Shares storage with x (no copy).
 * @throws ShapeError when the sizes do not match.
 * @example
 * ```ts
 * console.log(st.reshape(st.arange(6), [2, -1]).shape); // [2, 3]
 * ```
 */
export function reshape(x: TensorInput, shape: readonly number[]): Tensor {
  const t = asTensor('reshape', 'x', x);
  if (!Array.isArray(shape)) throw new ShapeError(`reshape: shape must be an array; received ${fmtValue(shape)}`);
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new ShapeError(`reshape: shape may hold non-negative integers and at most one -1; received ${fmtShape(shape)}`);
  }
  const known = sizeOf(shape.filter((d) => d !== -1));
  let out = shape.slice();
  if (unknown === 1) {
    if (known === 0 || t.size % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape a tensor of shape ${fmtShape(t.shape)} (${t.size} values) to ${fmtShape(shape)}`);
    }
    out = shape.map((d) => (d === -1 ? t.size / known : d));
  }
  if (sizeOf(out) !== t.size) {
    throw new ShapeError(
      `reshape: cannot reshape a tensor of shape ${fmtShape(t.shape)} (${t.size} values) to ${fmtShape(shape)} (${sizeOf(out)} values)`,
    );
  }
  if (shapesEqual(out, t.shape)) return t;
  return runPrimitive('reshape', [t], { shape: out }, out, t.dtype);
}

/** Permutes dimensions; the default reverses them. */
export function transpose(x: TensorInput, perm?: readonly number[]): Tensor {
  const t = asTensor('transpose', 'x', x);
  const p = perm ? perm.map((a) => normalizeAxis('transpose', a, t.rank)) : t.shape.map((_, i) => t.rank - 1 - i);
  if (p.length !== t.rank || new Set(p).size !== t.rank) {
    throw new ShapeError(`transpose: perm must be a permutation of the ${t.rank} axes of shape ${fmtShape(t.shape)}; received ${fmtValue(perm)}`);
  }
  if (p.every((a, i) => a === i)) return t;
  return runPrimitive(
    'transpose',
    [t],
    { perm: p },
    p.map((a) => t.shape[a]),
    t.dtype,
  );
}

/**
 * Repeats x along axes of size 1 (and new leading axes) to reach `shape`, as NumPy broadcasting does.
 * @throws ShapeError when x does not broadcast to `shape`.
 */
export function broadcastTo(x: TensorInput, shape: readonly number[]): Tensor {
  const t = asTensor('broadcastTo', 'x', x);
  const target = checkShape('broadcastTo', shape as number[]);
  const result = broadcastShapes('broadcastTo', t.shape, target);
  if (!shapesEqual(result, target)) {
    throw new ShapeError(`broadcastTo: a tensor of shape ${fmtShape(t.shape)} cannot be broadcast to ${fmtShape(target)}`);
  }
  if (shapesEqual(t.shape, target)) return t;
  return runPrimitive('broadcastTo', [t], { shape: target }, target, t.dtype);
}

/** Sums a broadcast result back to `shape` (the gradient of broadcasting). */
export function sumToShape(x: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  const axes = broadcastedAxes(shape, x.shape);
  const summed = axes.length
    ? runPrimitive(
        'sum',
        [x],
        { axes },
        x.shape.filter((_, i) => !axes.includes(i)),
        x.dtype,
      )
    : x;
  return reshape(summed, shape);
}

/**
 * Inserts an axis of size 1 at `axis` (negative counts from the end; default 0).
 * @throws ValueError for an axis out of range.
 */
export function expandDims(x: TensorInput, axis = 0): Tensor {
  const t = asTensor('expandDims', 'x', x);
  const a = normalizeAxis('expandDims', axis, t.rank + 1);
  const shape = t.shape.slice();
  shape.splice(a, 0, 1);
  return reshape(t, shape);
}

/** Removes size-1 dimensions (only `axis` when given, which must have size 1). */
export function squeeze(x: TensorInput, axis?: number | readonly number[]): Tensor {
  const t = asTensor('squeeze', 'x', x);
  if (axis === undefined)
    return reshape(
      t,
      t.shape.filter((d) => d !== 1),
    );
  const axes = (typeof axis === 'number' ? [axis] : axis).map((a) => normalizeAxis('squeeze', a, t.rank));
  for (const a of axes) {
    if (t.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} has size ${t.shape[a]}, expected 1; shape is ${fmtShape(t.shape)}`);
  }
  return reshape(
    t,
    t.shape.filter((_, i) => !axes.includes(i)),
  );
}

/** Flattens the axes from startAxis to endAxis (all of them by default) into one. */
export function flatten(x: TensorInput, startAxis = 0, endAxis = -1): Tensor {
  const t = asTensor('flatten', 'x', x);
  if (t.rank === 0) return reshape(t, [1]);
  const s = normalizeAxis('flatten', startAxis, t.rank),
    e = normalizeAxis('flatten', endAxis, t.rank);
  if (s > e) throw new ValueError(`flatten: startAxis (${startAxis}) must not come after endAxis (${endAxis})`);
  return reshape(t, [...t.shape.slice(0, s), sizeOf(t.shape.slice(s, e + 1)), ...t.shape.slice(e + 1)]);
}

/**
 * Joins tensors along an existing axis (default 0); the other sizes must agree.
 * @throws ValueError for an empty list or an axis out of range; ShapeError when other sizes differ.
 */
export function concat(xs: readonly TensorInput[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ValueError('concat: expected a non-empty array of tensors');
  const ts = xs.map((x, i) => asTensor('concat', `xs[${i}]`, x));
  const rank = ts[0].rank;
  if (rank === 0) throw new ShapeError('concat: cannot concatenate scalars; use stack');
  const a = normalizeAxis('concat', axis, rank);
  for (const [i, t] of ts.entries()) {
    if (t.rank !== rank || t.shape.some((d, k) => k !== a && d !== ts[0].shape[k])) {
      throw new ShapeError(
        `concat: all tensors must match except along axis ${a}: xs[0] is ${fmtShape(ts[0].shape)}, xs[${i}] is ${fmtShape(t.shape)}`,
      );
    }
  }
  if (ts.length === 1) return ts[0];
  const dtype = ts.map((t) => t.dtype).reduce(promoteTypes);
  const shape = ts[0].shape.slice();
  shape[a] = ts.reduce((s, t) => s + t.shape[a], 0);
  return runPrimitive(
    'concat',
    ts.map((t) => cast(t, dtype)),
    { axis: a },
    shape,
    dtype,
  );
}

/**
 * Joins tensors of one shape along a new axis (default 0).
 * @throws ValueError for an empty list; ShapeError when the shapes differ.
 */
export function stack(xs: readonly TensorInput[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ValueError('stack: expected a non-empty array of tensors');
  const ts = xs.map((x, i) => asTensor('stack', `xs[${i}]`, x));
  for (const [i, t] of ts.entries()) {
    if (!shapesEqual(t.shape, ts[0].shape)) {
      throw new ShapeError(`stack: all tensors must have one shape: xs[0] is ${fmtShape(ts[0].shape)}, xs[${i}] is ${fmtShape(t.shape)}`);
    }
  }
  const a = normalizeAxis('stack', axis, ts[0].rank + 1);
  return concat(
    ts.map((t) => expandDims(t, a)),
    a,
  );
}

/** Extracts a block: `size[i] = -1` runs to the end of axis i. */
export function slice(x: TensorInput, begin: number | readonly number[], size?: number | readonly number[]): Tensor {
  const t = asTensor('slice', 'x', x);
  const b = typeof begin === 'number' ? [begin] : begin.slice();
  const s = size === undefined ? b.map(() => -1) : typeof size === 'number' ? [size] : size.slice();
  while (b.length < t.rank) b.push(0);
  while (s.length < t.rank) s.push(-1);
  if (b.length !== t.rank || s.length !== t.rank) {
    throw new ShapeError(
      `slice: begin and size need ${t.rank} entries for shape ${fmtShape(t.shape)}; received begin ${fmtValue(begin)}, size ${fmtValue(size)}`,
    );
  }
  const out = s.map((d, i) => (d === -1 ? t.shape[i] - b[i] : d));
  for (let i = 0; i < t.rank; i++) {
    if (!Number.isInteger(b[i]) || b[i] < 0 || !Number.isInteger(out[i]) || out[i] < 0 || b[i] + out[i] > t.shape[i]) {
      throw new ShapeError(`slice: begin ${fmtShape(b)} with size ${fmtShape(s)} is out of bounds for shape ${fmtShape(t.shape)}`);
    }
  }
  if (shapesEqual(out, t.shape)) return t;
  return runPrimitive('slice', [t], { begin: b, size: out }, out, t.dtype);
}

/** Splits along `axis` into `n` equal parts or parts of the given sizes (one may be -1). */
export function split(x: TensorInput, numOrSizes: number | readonly number[], axis = 0): Tensor[] {
  const t = asTensor('split', 'x', x);
  const a = normalizeAxis('split', axis, t.rank);
  const dim = t.shape[a];
  let sizes: number[];
  if (typeof numOrSizes === 'number') {
    if (!Number.isInteger(numOrSizes) || numOrSizes <= 0 || dim % numOrSizes !== 0) {
      throw new ShapeError(`split: axis ${a} of shape ${fmtShape(t.shape)} (size ${dim}) cannot be split into ${numOrSizes} equal parts`);
    }
    sizes = new Array(numOrSizes).fill(dim / numOrSizes);
  } else {
    sizes = numOrSizes.slice();
    const known = sizes.filter((d) => d !== -1).reduce((p, d) => p + d, 0);
    const free = sizes.indexOf(-1);
    if (free >= 0) sizes[free] = dim - known;
    if (sizes.reduce((p, d) => p + d, 0) !== dim || sizes.some((d) => d < 0)) {
      throw new ShapeError(`split: sizes ${fmtValue(numOrSizes)} do not add up to ${dim}, the size of axis ${a} of ${fmtShape(t.shape)}`);
    }
  }
  let offset = 0;
  return sizes.map((d) => {
    const begin = t.shape.map((_, i) => (i === a ? offset : 0));
    const size = t.shape.map((n, i) => (i === a ? d : n));
    offset += d;
    return slice(t, begin, size);
  });
}

/** Pads with a constant: paddings[i] = [before, after] for axis i. */
export function pad(x: TensorInput, paddings: readonly (readonly [number, number])[], constantValue = 0): Tensor {
  const t = asTensor('pad', 'x', x);
  if (
    !Array.isArray(paddings) ||
    paddings.length !== t.rank ||
    paddings.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0))
  ) {
    throw new ShapeError(
      `pad: paddings must be ${t.rank} pairs of non-negative integers for shape ${fmtShape(t.shape)}; received ${fmtValue(paddings)}`,
    );
  }
  // The constant is written into the tensor's own dtype: for int32 it must fit (Note [int32 holds
  // what it is given, or refuses] in core/dtype.ts).
  if (t.dtype === 'int32' && !fitsInt32(constantValue)) throw int32RangeError('pad', constantValue);
  if (paddings.every(([a, b]) => a === 0 && b === 0)) return t;
  const out = t.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  const p = paddings.map(([a, b]) => [a, b] as [number, number]);
  return runPrimitive('pad', [t], { paddings: p, value: constantValue }, out, t.dtype);
}

/** Repeats x reps[i] times along axis i (as NumPy's tile); a composite of reshape and broadcast. */
export function tile(x: TensorInput, reps: readonly number[]): Tensor {
  let t = asTensor('tile', 'x', x);
  if (!Array.isArray(reps) || reps.some((r) => !Number.isInteger(r) || r < 0)) {
    throw new ValueError(`tile: reps must be non-negative integers; received ${fmtValue(reps)}`);
  }
  const rank = Math.max(t.rank, reps.length);
  t = reshape(t, [...new Array(rank - t.rank).fill(1), ...t.shape]);
  const r = [...new Array(rank - reps.length).fill(1), ...reps];
  const interleaved = t.shape.flatMap((d) => [1, d]);
  const expanded = broadcastTo(
    reshape(t, interleaved),
    t.shape.flatMap((d, i) => [r[i], d]),
  );
  return reshape(
    expanded,
    t.shape.map((d, i) => d * r[i]),
  );
}

/** Integer indices as an int32 tensor, checked to lie in [-dim, dim) (negatives count from the end). */
function indexTensor(op: string, indices: TensorInput, dim: number): Tensor {
  let idx = asTensor(op, 'indices', indices, 'int32');
  requireDtype(op, 'indices', idx, ['int32']);
  const values = idx.hostValues() as Int32Array | undefined;
  // Indices computed on a GPU are not read back to be checked: negatives are resolved there, and
  // the gather kernel gives 0 for an index still out of range (Note [WebGPU backend]).
  if (!values) return where(less(idx, 0), add(idx, dim), idx);
  let negative = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < -dim || v >= dim) throw new ValueError(`${op}: index ${v} at position ${i} is out of range for an axis of size ${dim}`);
    if (v < 0) negative = true;
  }
  if (negative)
    idx = tensor(
      values.map((v) => (v < 0 ? v + dim : v)),
      idx.shape,
      'int32',
    );
  return idx;
}

/** Takes slices of x along `axis` at `indices`: the result has shape x[:axis] + indices + x[axis+1:]. */
export function gather(x: TensorInput, indices: TensorInput, axis = 0): Tensor {
  const t = asTensor('gather', 'x', x);
  const a = normalizeAxis('gather', axis, t.rank);
  const idx = indexTensor('gather', indices, t.shape[a]);
  const shape = [...t.shape.slice(0, a), ...idx.shape, ...t.shape.slice(a + 1)];
  return runPrimitive('gather', [t, idx], { axis: a }, shape, t.dtype);
}

/** Adds slices of `updates` into a zero tensor whose `axis` has `size` entries (the transpose of gather). */
export function scatterAdd(updates: TensorInput, indices: TensorInput, axis: number, size: number): Tensor {
  const u = asTensor('scatterAdd', 'updates', updates);
  const idx = indexTensor('scatterAdd', indices, size);
  const a = normalizeAxis('scatterAdd', axis, u.rank - idx.rank + 1);
  const lead = u.shape.slice(a, a + idx.rank);
  if (!shapesEqual(lead, idx.shape)) {
    throw new ShapeError(`scatterAdd: updates ${fmtShape(u.shape)} must hold indices ${fmtShape(idx.shape)} at axis ${a}`);
  }
  const shape = [...u.shape.slice(0, a), size, ...u.shape.slice(a + idx.rank)];
  return runPrimitive('scatterAdd', [u, idx], { axis: a, size }, shape, u.dtype);
}

/** A tensor sharing x's storage but cut from the tape: gradients do not flow through it. */
export function stopGradient(x: TensorInput): Tensor {
  const t = asTensor('stopGradient', 'x', x);
  if (!t.requiresGrad) return t;
  return new Tensor(t.storage, t.shape, t.dtype, t.backend);
}
