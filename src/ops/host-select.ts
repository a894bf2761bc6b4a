import { ShapeError, fmtShape, fmtValue } from '../core/errors.js';
import { normalizeAxis, sizeOf, stridesOf } from '../core/shape.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { asTensor, type TensorInput } from './operand.js';
import { gather, reshape } from './shape-ops.js';
import { topk } from './sorting.js';

// Ops whose result size depends on the values (tfjs's ...Async ops, NumPy's nonzero): the
// positions are found on the host from the values read back, then taken with a gather, which
// carries gradients to the selected elements. tfjs makes these asynchronous so a GPU need not
// stall; Strata's backends compute on the CPU, so they are ordinary synchronous ops here.

/** The elements (or slices from `axis`, default 0) of x where the bool `mask` is true (tfjs's booleanMaskAsync). */
export function booleanMask(x: TensorInput, mask: TensorInput, axis = 0): Tensor {
  const t = asTensor('booleanMask', 'x', x),
    m = asTensor('booleanMask', 'mask', mask, 'bool');
  const a = normalizeAxis('booleanMask', axis, t.rank);
  const span = t.shape.slice(a, a + m.rank);
  if (fmtShape(span) !== fmtShape(m.shape)) {
    throw new ShapeError(`booleanMask: mask ${fmtShape(m.shape)} must match axes ${a}..${a + m.rank - 1} of x ${fmtShape(t.shape)}`);
  }
  const keep: number[] = [];
  m.dataSync().forEach((v, i) => {
    if (v) keep.push(i);
  });
  const merged = reshape(t, [...t.shape.slice(0, a), sizeOf(span), ...t.shape.slice(a + m.rank)]);
  return gather(merged, tensor(keep, [keep.length], 'int32'), a);
}

/** The coordinates of x's non-zero elements, one int32 tensor per axis (NumPy's nonzero). */
export function nonzero(x: TensorInput): Tensor[] {
  const t = asTensor('nonzero', 'x', x);
  const values = t.dataSync(),
    strides = stridesOf(t.shape);
  const coords: number[][] = t.shape.map(() => []);
  for (let i = 0; i < values.length; i++) {
    if (values[i] === 0) continue;
    let rest = i;
    strides.forEach((s, d) => {
      coords[d].push(Math.floor(rest / s));
      rest %= s;
    });
  }
  return coords.map((c) => tensor(c, [c.length], 'int32'));
}

/** The coordinates of x's non-zero elements as rows of an int32 [count, rank] tensor (tfjs's whereAsync). */
export function argwhere(x: TensorInput): Tensor {
  const t = asTensor('argwhere', 'x', x);
  const columns = nonzero(t).map((c) => Array.from(c.dataSync()));
  const count = columns.length ? columns[0].length : t.dataSync()[0] ? 1 : 0;
  return tensor(
    Array.from({ length: count * t.rank }, (_, k) => columns[k % t.rank][Math.floor(k / t.rank)]),
    [count, t.rank],
    'int32',
  );
}

/**
 * Whether each row's target class is among the `k` highest predictions (tfjs's inTopKAsync):
 * predictions [batch, classes], targets [batch] int32 → bool [batch]. Ties count as in the top k
 * only when topk picks them (the lower index first).
 */
export function inTopK(predictions: TensorInput, targets: TensorInput, k = 1): Tensor {
  const p = asTensor('inTopK', 'predictions', predictions),
    t = asTensor('inTopK', 'targets', targets, 'int32');
  if (p.rank !== 2 || t.rank !== 1 || t.shape[0] !== p.shape[0]) {
    throw new ShapeError(`inTopK: predictions must be [batch, classes] and targets [batch]; received ${fmtShape(p.shape)} and ${fmtShape(t.shape)}`);
  }
  const top = topk(p, Math.min(k, p.shape[1])).indices.dataSync(),
    labels = t.dataSync();
  const kk = Math.min(k, p.shape[1]);
  const hit = Array.from(labels, (label, r) => +Array.from(top.subarray(r * kk, (r + 1) * kk)).includes(label));
  return tensor(Uint8Array.from(hit), [labels.length], 'bool');
}

/** What st.setdiff1d returns. */
export interface SetDiff {
  /** The values of x that y does not hold, in x's order. */
  values: Tensor;
  /** Their positions in x, int32. */
  indices: Tensor;
}

/** The values of the 1-D x not in y, in x's order, and their positions in x (tfjs's setdiff1dAsync). */
export function setdiff1d(x: TensorInput, y: TensorInput): SetDiff {
  const tx = asTensor('setdiff1d', 'x', x),
    ty = asTensor('setdiff1d', 'y', y);
  if (tx.rank !== 1 || ty.rank !== 1)
    throw new ShapeError(`setdiff1d: x and y must be 1-D; received ${fmtShape(tx.shape)} and ${fmtShape(ty.shape)}`);
  const drop = new Set(ty.dataSync());
  const kept: number[] = [];
  tx.dataSync().forEach((v, i) => {
    if (!drop.has(v)) kept.push(i);
  });
  const idx = tensor(kept, [kept.length], 'int32');
  return { values: gather(tx, idx, 0), indices: idx };
}

/**
 * x itself when its shape matches `shape` (null or -1 entries match any size); a ShapeError
 * otherwise (tfjs's ensureShape).
 */
export function ensureShape(x: TensorInput, shape: readonly (number | null)[]): Tensor {
  const t = asTensor('ensureShape', 'x', x);
  const ok = shape.length === t.rank && shape.every((d, i) => d === null || d === -1 || d === t.shape[i]);
  if (!ok) throw new ShapeError(`ensureShape: expected shape ${fmtValue(shape)}; received ${fmtShape(t.shape)}`);
  return t;
}
