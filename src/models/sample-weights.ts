import { noGrad } from '../tensor/tape.js';
import { isFloat } from '../core/dtype.js';
import { DtypeError, ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { add, cast, div, floor, mul, sub } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { oneHot } from '../ops/nn.js';
import { asTensor, type TensorInput } from '../ops/operand.js';
import { argMax, mean, sum } from '../ops/reduction.js';
import { reshape } from '../ops/shape-ops.js';
import { tensor } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';

// Note [Sample and class weights]
// Keras's weighting, in one place:
// - A sample weight is one number per sample ([N], or [N, 1]; [N, T] weights per-timestep losses
//   of shape [N, T]). It travels with x and y: shuffled and batched by the same indices, and cut
//   by validationSplit with them.
// - classWeight {class: weight} becomes a sample weight from each sample's label (Keras's
//   class_weight_to_sample_weights): the argmax of a one-hot row, else the rounded integer label;
//   classes missing from the map weigh 1. It weights training only (not validation), needs a
//   single output, and cannot be combined with a sample weight (Keras refuses both at once).
// - The weighted loss of a batch is sum(loss_i * w_i) / N: per-sample losses times weights,
//   divided by the number of loss values, not by the sum of weights (Keras's
//   'sum_over_batch_size'). So a zero weight drops a sample's gradient but still counts in N.
// - Metrics listed in compile's `weightedMetrics` receive the weights; plain `metrics` do not
//   (Keras's split between metrics and weighted_metrics).

/** What fit/trainOnBatch accept for classWeight: weights by class index (Keras's {int: float}). */
export type ClassWeight = Record<number, number>;

/** Checks classWeight and returns it as a dense lookup table (index -> weight, 1 where missing). */
export function classWeightTable(op: string, classWeight: unknown): Float64Array {
  if (typeof classWeight !== 'object' || classWeight === null || Array.isArray(classWeight) || classWeight instanceof Tensor) {
    throw new ValueError(`${op}: classWeight must be an object {classIndex: weight}; received ${describeValue(classWeight)}`);
  }
  const entries = Object.entries(classWeight as Record<string, unknown>);
  if (entries.length === 0) throw new ValueError(`${op}: classWeight must name at least one class; received {}`);
  let max = 0;
  for (const [key, weight] of entries) {
    if (!/^(0|[1-9]\d*)$/.test(key))
      throw new ValueError(`${op}: classWeight keys must be class indices (non-negative integers); received key ${fmtValue(key)}`);
    if (typeof weight !== 'number' || !Number.isFinite(weight))
      throw new ValueError(`${op}: classWeight[${key}] must be a finite number; received ${fmtValue(weight)}`);
    max = Math.max(max, Number(key));
  }
  const table = new Float64Array(max + 1).fill(1);
  for (const [key, weight] of entries) table[Number(key)] = weight as number;
  return table;
}

function checkClassWeightLabels(op: string, y: Tensor): void {
  if (y.rank === 0 || y.rank > 2) {
    throw new ShapeError(
      `${op}: classWeight needs labels of shape [samples] (class indices) or [samples, classes] (one-hot); received y of shape ${fmtShape(y.shape)}`,
    );
  }
}

/**
 * Per-sample weights [N] from labels y (Note [Sample and class weights]): one-hot rows [N, C]
 * by their argmax, integer labels [N] or [N, 1] rounded; classes outside the table weigh 1.
 * Reads the labels (once per data source, without blocking).
 */
export async function classWeightsToSampleWeights(op: string, y: Tensor, table: Float64Array): Promise<Tensor> {
  checkClassWeightLabels(op, y);
  const n = y.shape[0];
  const width = y.rank === 2 ? y.shape[1] : 1;
  const v = await y.data();
  const weights = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let label: number;
    if (width > 1) {
      label = 0;
      for (let c = 1; c < width; c++) if (v[i * width + c] > v[i * width + label]) label = c;
    } else {
      label = Math.round(v[i]);
    }
    weights[i] = label >= 0 && label < table.length ? table[label] : 1;
  }
  return tensor(weights, [n], 'float32');
}

/**
 * The same weights computed on the backend, for a Dataset's batches (no read per step): a
 * one-hot row of the label against the table, 1 for a label outside it. Integer labels round
 * half up, as Math.round does; float labels must be finite (fit's arrays are checked; a
 * Dataset's NaN label cannot become a class index).
 */
export function classWeightsOnBackend(op: string, y: Tensor, table: Float64Array): Tensor {
  checkClassWeightLabels(op, y);
  return noGrad(() => {
    const width = y.rank === 2 ? y.shape[1] : 1;
    const labels = width > 1 ? argMax(y, -1) : reshape(isFloat(y.dtype) ? cast(floor(add(y, 0.5)), 'int32') : y, [y.shape[0]]);
    const hits = oneHot(labels, table.length, { dtype: 'float32' });
    const inTable = reshape(matmul(hits, tensor(Float32Array.from(table), [table.length, 1], 'float32')), [y.shape[0]]);
    return add(inTable, sub(1, sum(hits, -1)));
  });
}

/** A sample-weight argument as a tensor with one weight per sample, or a ValueError/ShapeError naming what was expected. */
export function checkSampleWeight(op: string, sampleWeight: unknown, samples: number): Tensor {
  let w: Tensor;
  try {
    w = sampleWeight instanceof Tensor ? sampleWeight : asTensor(op, 'sampleWeight', sampleWeight as TensorInput);
  } catch {
    throw new ValueError(
      `${op}: sampleWeight must be a tensor or an array of numbers with one weight per sample; received ${describeValue(sampleWeight)}`,
    );
  }
  if (w.dtype === 'bool') throw new DtypeError(`${op}: sampleWeight must be numeric; received a bool tensor`);
  if (w.rank === 0 || w.shape[0] !== samples) {
    throw new ShapeError(
      `${op}: sampleWeight must have one entry per sample (${samples} samples, shape [${samples}]); received shape ${fmtShape(w.shape)}`,
    );
  }
  return w;
}

/** Refuses a non-finite sample weight, naming it (a read: once per data source). */
export async function checkWeightsFinite(op: string, w: Tensor): Promise<void> {
  if (!isFloat(w.dtype)) return;
  const values = await w.data();
  const bad = Array.from(values).findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new ValueError(`${op}: sampleWeight must be finite; received ${values[bad]} at sample ${bad}`);
}

/**
 * The weighted loss of a batch (Note [Sample and class weights]). `values` are per-sample (or
 * per-timestep) losses; a scalar from a custom loss that reduces by itself is scaled by the mean
 * weight. Without weights this is the plain mean.
 */
export function weightedLoss(op: string, values: Tensor, sampleWeight: Tensor | undefined): Tensor {
  if (sampleWeight === undefined) return values.rank === 0 ? values : mean(values);
  let w = cast(sampleWeight, values.dtype);
  if (values.rank === 0)
    return mul(
      values,
      noGrad(() => mean(w)),
    );
  if (w.rank > values.rank && w.shape[w.rank - 1] === 1) w = reshape(w, w.shape.slice(0, -1));
  while (w.rank < values.rank) w = reshape(w, [...w.shape, 1]);
  const fits = w.rank === values.rank && w.shape.every((d, i) => d === values.shape[i] || d === 1);
  if (!fits) {
    throw new ShapeError(
      `${op}: sampleWeight must broadcast to the per-sample losses; sampleWeight is ${fmtShape(sampleWeight.shape)}, losses are ${fmtShape(values.shape)}`,
    );
  }
  return div(sum(mul(values, w)), values.size);
}

function describeValue(v: unknown): string {
  if (v instanceof Tensor) return `a tensor of shape ${fmtShape(v.shape)}`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return v === null ? 'null' : typeof v;
}
