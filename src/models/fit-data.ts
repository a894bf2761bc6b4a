// Data adaptation for fit and evaluate: what the caller passed (arrays or a Dataset, a
// validation split or validation data, sample or class weights) checked once and turned into
// batch sources the epoch loop can iterate (Keras's data adapters).

import { ValueError, fmtValue } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { TensorInput } from '../ops/operand.js';
import { arrayBatches, DatasetEpochs, isDataset, type Batch } from './batch-source.js';
import { ArrayData, assertFinite, checkBatchSize, checkSparseLabels, toTensorList, type XInput, type YInput } from './data-adapter.js';
import { checkSampleWeight, checkWeightsFinite, classWeightsToSampleWeights, classWeightTable } from './sample-weights.js';
import type { OutputSpec, TrainableModel } from './train-step.js';
import type { FitArgs } from './training-args.js';

export type BatchSource = ArrayData | DatasetEpochs;

/** The batches of one pass over evaluation data, unshuffled. */
export function validationBatches(source: BatchSource, batchSize: number): Iterable<Batch> | AsyncIterable<Batch> {
  return source instanceof ArrayData ? arrayBatches(source, batchSize, undefined, 0) : source.epoch();
}

/**
 * Arrays as an ArrayData: every input and weight finite, sparse labels checked and made int32,
 * all once per data source and read without blocking, so the training loop reads none of them
 * (Note [Label checks without host reads] in ops/losses.ts).
 */
export async function adaptArrays(
  op: string,
  model: TrainableModel,
  outputs: readonly OutputSpec[],
  x: XInput,
  y: YInput,
  sampleWeight?: TensorInput,
): Promise<ArrayData> {
  const xs = toTensorList(op, 'x', x);
  const ys = [...toTensorList(op, 'y', y)]; // a copy: checked labels replace entries of the caller's list
  for (const [i, t] of xs.entries()) await assertFinite(op, xs.length > 1 ? `x[${i}]` : 'x', t);
  for (const [i, t] of ys.entries()) await assertFinite(op, ys.length > 1 ? `y[${i}]` : 'y', t);
  for (const [i, t] of ys.entries()) {
    if (!outputs[i]?.sparseLabels) continue;
    const classes = model.outputs[i]?.shape.at(-1);
    ys[i] = await checkSparseLabels(op, ys.length > 1 ? `y[${i}]` : 'y', t, typeof classes === 'number' ? classes : undefined);
  }
  const samples = xs[0]?.rank ? xs[0].shape[0] : 0;
  const weights = sampleWeight === undefined ? undefined : checkSampleWeight(op, sampleWeight, samples);
  if (weights) await checkWeightsFinite(op, weights);
  return new ArrayData(op, xs, ys, weights);
}

/** What fit trains and validates on, and the class weights still to apply to a Dataset's batches. */
export interface FitData {
  train: BatchSource;
  validation: BatchSource | undefined;
  /** Class weights by class index, for a Dataset's batches (arrays already carry them as sample weights). */
  classTable: Float64Array | undefined;
}

/** Checks fit's data options together and builds the training and validation sources. */
export async function adaptFitData(
  model: TrainableModel,
  outputs: readonly OutputSpec[],
  x: XInput | Dataset<unknown>,
  y: YInput | undefined,
  args: FitArgs,
): Promise<FitData> {
  const split = args.validationSplit ?? 0;
  if (typeof split !== 'number' || !(split >= 0 && split < 1))
    throw new ValueError(`fit: validationSplit must be a number in [0, 1); received ${fmtValue(split)}`);
  if (split > 0 && args.validationData) throw new ValueError('fit: give validationSplit or validationData, not both');
  if (args.stepsPerEpoch !== undefined) checkBatchSize('fit (stepsPerEpoch)', args.stepsPerEpoch);
  // Note [Sample and class weights]: class weights become per-sample weights of the training data.
  const classTable = args.classWeight === undefined ? undefined : classWeightTable('fit', args.classWeight);
  if (classTable && args.sampleWeight !== undefined)
    throw new ValueError('fit: give sampleWeight or classWeight, not both (as Keras); fold the class weights into sampleWeight');
  if (classTable && outputs.length > 1)
    throw new ValueError(
      `fit: classWeight needs a single-output model; this one has ${outputs.length} outputs (${outputs.map((o) => o.name).join(', ')}); pass sampleWeight instead`,
    );

  let train: BatchSource;
  let validation: BatchSource | undefined;
  if (isDataset(x)) {
    if (y !== undefined) throw new ValueError('fit: a Dataset already holds the targets; call fit(dataset, options)');
    if (split > 0) throw new ValueError('fit: validationSplit needs arrays; with a Dataset pass validationData');
    if (args.resumeFrom) throw new ValueError('fit: resumeFrom works with arrays only');
    if (args.sampleWeight !== undefined)
      throw new ValueError(
        'fit: with a Dataset, sample weights come from its elements ([x, y, sampleWeight] or {xs, ys, sampleWeight}); received the sampleWeight option',
      );
    train = new DatasetEpochs('fit', x, args.stepsPerEpoch);
  } else {
    if (y === undefined) throw new ValueError('fit: targets y are required with array inputs');
    if (args.stepsPerEpoch !== undefined) throw new ValueError('fit: stepsPerEpoch applies to Datasets; with arrays the batch size sets the steps');
    let arrays = await adaptArrays('fit', model, outputs, x, y, args.sampleWeight);
    if (split > 0) {
      const all = arrays.size;
      [arrays, validation] = arrays.split(split);
      if (arrays.size === 0 || validation.size === 0) {
        throw new ValueError(
          `fit: ${all} samples cannot be split into a training and a validation set with validationSplit ${split}; give more data or another fraction`,
        );
      }
    }
    if (arrays.size === 0) throw new ValueError('fit: no training samples');
    if (classTable)
      arrays = new ArrayData('fit', arrays.xs, arrays.ys, await classWeightsToSampleWeights('fit (classWeight)', arrays.ys[0], classTable));
    train = arrays;
  }
  if (args.validationData) {
    const vd = args.validationData;
    if (isDataset(vd)) validation = new DatasetEpochs('fit (validationData)', vd, undefined);
    else {
      const [vx, vy, vw] = Array.isArray(vd) ? vd : [vd.x, vd.y, vd.sampleWeight];
      validation = await adaptArrays('fit (validationData)', model, outputs, vx, vy, vw);
    }
  }
  return { train, validation, classTable: train instanceof ArrayData ? undefined : classTable };
}

/**
 * A Dataset batch's sparse labels and sample weights, checked as they come where reading them
 * is cheap (a backend that reads synchronously: a download of one number per sample), and at
 * the first batch of a pass elsewhere (Note [Label checks without host reads] in
 * ops/losses.ts). Checked labels replace the batch's own (the batch owns both).
 */
export async function checkDatasetBatch(
  op: string,
  model: TrainableModel,
  outputs: readonly OutputSpec[],
  batch: Batch,
  first: boolean,
): Promise<void> {
  const probe = batch.xs[0];
  if (!first && probe.backend.readSync === false) return;
  for (const [i, t] of batch.ys.entries()) {
    if (!outputs[i]?.sparseLabels) continue;
    const classes = model.outputs[i]?.shape.at(-1);
    const checked = await checkSparseLabels(op, batch.ys.length > 1 ? `y[${i}]` : 'y', t, typeof classes === 'number' ? classes : undefined);
    if (checked !== t && batch.owned) t.dispose();
    batch.ys[i] = checked;
  }
  if (batch.weights) await checkWeightsFinite(`${op} (dataset sampleWeight)`, batch.weights);
}
