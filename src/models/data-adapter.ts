import { DtypeError, ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { noGrad } from '../tensor/tape.js';
import { fmtIndex, isFloat } from '../core/dtype.js';
import { abs, cast } from '../ops/elementwise.js';
import { asTensor, type TensorInput } from '../ops/operand.js';
import { max } from '../ops/reduction.js';
import { checkedLabelBound, markCheckedLabels } from '../ops/losses.js';
import { runPrimitive } from '../ops/run.js';
import { slice } from '../ops/shape-ops.js';
import { tensor } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';

/** Model inputs: one tensor, or a list for a model with several inputs. */
export type XInput = TensorInput | Tensor[];
/** Targets: one tensor, or a list for a model with several outputs. */
export type YInput = TensorInput | Tensor[];

/** One tensor, or a list of tensors (never a nested number array mistaken for a list). */
export function toTensorList(op: string, what: string, x: XInput): Tensor[] {
  if (Array.isArray(x) && x.length > 0 && x.every((t) => t instanceof Tensor)) return x as Tensor[];
  return [asTensor(op, what, x as TensorInput)];
}

/**
 * Refuses NaN and ±Infinity in training data, naming the first bad value's index. Once per data
 * source, read without blocking (Note [Reading values without stalling] in epoch-loop.ts).
 */
export async function assertFinite(op: string, what: string, t: Tensor): Promise<void> {
  if (!isFloat(t.dtype) || t.size === 0) return;
  // The largest |x| is finite exactly when every value is (max keeps NaN), so one reduction
  // tells. Not sum(x * 0): a GPU shader compiler may fold x * 0 to 0 (SwiftShader does), as WGSL
  // lets it assume no NaN or Infinity. The dataset-sized temporary is freed at once rather than
  // left to the garbage collector.
  const magnitudes = noGrad(() => abs(t));
  const probe = noGrad(() => max(magnitudes));
  magnitudes.dispose();
  const finite = Number.isFinite((await probe.data())[0]);
  probe.dispose();
  if (finite) return;
  const values = Array.from(await t.data());
  const bad = values.filter((v) => !Number.isFinite(v)).length;
  const i = values.findIndex((v) => !Number.isFinite(v));
  const index: number[] = [];
  let rest = i;
  for (let d = t.rank - 1; d >= 0; d--) {
    index.unshift(rest % t.shape[d]);
    rest = Math.floor(rest / t.shape[d]);
  }
  throw new ValueError(`${op}: ${what} contains ${bad} non-finite value(s); the first is ${values[i]} at index [${index.join(', ')}]`);
}

/**
 * The labels of a sparse categorical loss, checked once for the whole dataset where fit adapts
 * its arrays (or batch by batch for a Dataset): whole numbers in [0, classes) (`classes` when the
 * model's output shape is known), returned as int32 and recorded as checked, so the loss reads
 * nothing in the training loop (Note [Label checks without host reads] in ops/losses.ts); a
 * fractional label (1.5) would otherwise be truncated into another class without a word.
 */
export async function checkSparseLabels(op: string, what: string, y: Tensor, classes: number | undefined): Promise<Tensor> {
  const values = await y.data();
  let max = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && (classes === undefined || v < classes))) {
      const expected = classes === undefined ? 'class indices (non-negative integers)' : `class indices in [0, ${classes})`;
      throw new ValueError(
        `${op}: ${what} must hold ${expected} for sparseCategoricalCrossentropy; received ${fmtValue(v)} at index ${fmtIndex(i, y.shape)}`,
      );
    }
    if (v > max) max = v;
  }
  const labels = isFloat(y.dtype) ? noGrad(() => cast(y, 'int32')) : y;
  markCheckedLabels(labels, classes ?? max + 1);
  return labels;
}

/**
 * In-memory arrays cut into batches along axis 0: every input and target must have the same
 * number of samples. A batch is gathered by index, so shuffling costs no copy of the dataset.
 * Optional per-sample weights travel with them (same indices, same validation split).
 */
export class ArrayData {
  readonly size: number;

  constructor(
    op: string,
    readonly xs: Tensor[],
    readonly ys: Tensor[],
    readonly weights?: Tensor,
  ) {
    const all = [
      ...xs.map((t, i) => ({ t, what: `x[${i}]` })),
      ...ys.map((t, i) => ({ t, what: `y[${i}]` })),
      ...(weights ? [{ t: weights, what: 'sampleWeight' }] : []),
    ];
    for (const { t, what } of all) {
      if (t.rank === 0) throw new ShapeError(`${op}: ${what} must have a batch axis; received a scalar`);
    }
    this.size = all[0].t.shape[0];
    const other = all.find(({ t }) => t.shape[0] !== this.size);
    if (other) {
      throw new ShapeError(
        `${op}: every input and target needs the same number of samples (axis 0); ${all.map(({ t, what }) => `${what} is ${fmtShape(t.shape)}`).join(', ')}`,
      );
    }
    for (const { t, what } of all) if (t.dtype === 'bool') throw new DtypeError(`${op}: ${what} is bool; cast it to a number type`);
  }

  /** The first part (for training) and the last `fraction` (for validation), as Keras's validation_split. */
  split(fraction: number): [ArrayData, ArrayData] {
    const at = Math.floor(this.size * (1 - fraction)); // Keras rounds the training part down
    const part = (begin: number, size: number) => (t: Tensor) => {
      const piece = slice(t, [begin], [size]);
      const bound = checkedLabelBound(t);
      if (bound !== undefined) markCheckedLabels(piece, bound);
      return piece;
    };
    const piece = (begin: number, size: number) => {
      const cut = part(begin, size);
      return new ArrayData('validationSplit', this.xs.map(cut), this.ys.map(cut), this.weights && cut(this.weights));
    };
    return [piece(0, at), piece(at, this.size - at)];
  }

  batchCount(batchSize: number): number {
    return Math.ceil(this.size / batchSize);
  }

  /** Batch `b`, taken in `order` (a permutation) when given. The caller owns (and may dispose) the result. */
  batch(b: number, batchSize: number, order?: Int32Array): { xs: Tensor[]; ys: Tensor[]; weights?: Tensor; size: number } {
    const start = b * batchSize;
    const size = Math.min(batchSize, this.size - start);
    if (!order && start === 0 && size === this.size) return { xs: this.xs, ys: this.ys, weights: this.weights, size };
    return this.rows(order ? order.subarray(start, start + size) : Int32Array.from({ length: size }, (_, i) => start + i));
  }

  /** The samples at `ids` (in range: the caller's own indices), as a batch the caller owns. */
  rows(ids: Int32Array): { xs: Tensor[]; ys: Tensor[]; weights?: Tensor; size: number } {
    const size = ids.length;
    const idx = tensor(ids, [size], 'int32');
    // A batch is data: no gradient flows back into the dataset, so the index is free to go. The
    // indices are ours and in range, so the gather primitive runs without ops' check, which
    // would read them back from the backend every step.
    const take = (t: Tensor) => {
      const rows = noGrad(() => runPrimitive('gather', [t, idx], { axis: 0 }, [size, ...t.shape.slice(1)], t.dtype));
      const bound = checkedLabelBound(t);
      if (bound !== undefined) markCheckedLabels(rows, bound);
      return rows;
    };
    const batch = { xs: this.xs.map(take), ys: this.ys.map(take), weights: this.weights && take(this.weights), size };
    idx.dispose();
    return batch;
  }
}

export function checkBatchSize(op: string, batchSize: unknown): number {
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new ValueError(`${op}: batchSize must be a positive integer; received ${fmtValue(batchSize)}`);
  }
  return batchSize;
}
