// The epoch loop: epochs of batches through the step, with callbacks, validation, the position
// a checkpoint records and an exact resume from it (Note [Exact resume]), and the passes of
// evaluation. One loop for every backend and data source.

import type { CallbackList } from '../callbacks/callback-list.js';
import type { Logs } from '../callbacks/callback.js';
import { ValueError } from '../core/errors.js';
import { getRngState, randomPermutation, setRngState } from '../core/rng.js';
import { arrayBatches, type Batch } from './batch-source.js';
import { ArrayData } from './data-adapter.js';
import { classWeightsToSampleWeights } from './sample-weights.js';
import { validationBatches, type FitData } from './fit-data.js';
import type { TrainStep } from './train-step.js';
import type { TrainingPosition } from './training-args.js';

/**
 * Lets the event loop run (timers for the progress bar, a Ctrl-C handler) every so often in a long
 * loop. setTimeout rather than Node's setImmediate, so the loop runs in a page too; its minimum
 * delay (about 1 ms) every 100 ms costs at most 1 %.
 */
export class Yielder {
  private last = performance.now();
  async maybeYield(): Promise<void> {
    if (performance.now() - this.last < 100) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.last = performance.now();
  }
}

/** fit's options after checking: what the loop needs of them. */
export interface LoopOptions {
  epochs: number;
  initialEpoch: number;
  batchSize: number;
  validationBatchSize: number;
  shuffle: boolean;
  onNonFinite: 'error' | 'continue';
  resume: TrainingPosition | undefined;
}

/** Mean losses over `seen` samples from running sums laid out as the step's values are. */
const means = (sums: readonly number[], seen: number): [number, number[]] => [sums[0] / seen, sums.slice(1).map((s) => s / seen)];

/** The batches of one training epoch: shuffled arrays (from a resume point), or the Dataset's next epoch. */
function epochBatches(data: FitData, options: LoopOptions, resuming: TrainingPosition | undefined): Iterable<Batch> | AsyncIterable<Batch> {
  if (!(data.train instanceof ArrayData)) return data.train.epoch();
  const order = options.shuffle ? randomPermutation(data.train.size) : undefined;
  if (resuming) setRngState(resuming.rng);
  return arrayBatches(data.train, options.batchSize, order, resuming ? resuming.batch : 0);
}

/**
 * Trains `options.epochs` epochs. After every batch `onPosition` receives where training stands
 * (what a checkpoint saves); a callback setting the model's stopTraining ends the loop after the
 * current batch.
 */
export async function runEpochs(
  step: TrainStep,
  data: FitData,
  options: LoopOptions,
  callbacks: CallbackList,
  onPosition: (p: TrainingPosition) => void,
): Promise<void> {
  const { model } = step;
  const { resume } = options;
  const steps = data.train instanceof ArrayData ? data.train.batchCount(options.batchSize) : (data.train.steps ?? NaN);
  const yielder = new Yielder();
  const sumsLength = step.outputs.length > 1 ? step.outputs.length + 1 : 1;
  model.stopTraining = false;
  let epochLogs: Logs = {};
  await callbacks.onTrainBegin();
  for (let epoch = options.initialEpoch; epoch < options.epochs && !model.stopTraining; epoch++) {
    await callbacks.onEpochBegin(epoch);
    step.resetMetrics();
    // Note [Exact resume]: the shuffle is drawn from the stream's state at the epoch's start,
    // then the stream continues from where the interrupted run stopped (dropout draws).
    const resuming = resume && epoch === resume.epoch && resume.batch > 0 ? resume : undefined;
    if (resuming) setRngState(resuming.rngAtEpochStart);
    else if (resume && epoch === resume.epoch) setRngState(resume.rng);
    const rngAtEpochStart = getRngState();
    const batches = epochBatches(data, options, resuming);
    let seen = 0;
    let sums = new Array<number>(sumsLength).fill(0);
    if (resuming?.epochSoFar) ({ seen, lossSums: sums } = step.restoreEpoch(resuming.epochSoFar));
    let b = resuming ? resuming.batch : 0;
    for await (const batch of batches) {
      if (callbacks.has('onBatchBegin')) await callbacks.onBatchBegin(b, { batch: b, size: batch.size });
      let weights = batch.weights;
      if (data.classTable) {
        if (weights) throw new ValueError('fit: the dataset yields sample weights and classWeight was given; use one or the other (as Keras)');
        weights = classWeightsToSampleWeights('fit (classWeight)', batch.ys[0], data.classTable);
      }
      const values = step.train(batch.xs, batch.ys, weights);
      if (batch.owned) [...batch.xs, ...batch.ys, ...(weights ? [weights] : [])].forEach((t) => t.dispose());
      if (!Number.isFinite(values[0]) && options.onNonFinite === 'error') {
        throw new ValueError(
          `fit: the loss became ${values[0]} at epoch ${epoch + 1}, batch ${b + 1} (lower the learning rate, check the data, or pass onNonFinite: 'continue')`,
        );
      }
      values.forEach((v, i) => (sums[i] += v * batch.size));
      seen += batch.size;
      b++;
      const position: TrainingPosition =
        b < steps
          ? { epoch, batch: b, rngAtEpochStart, rng: getRngState() }
          : { epoch: epoch + 1, batch: 0, rngAtEpochStart: getRngState(), rng: getRngState() };
      onPosition(position);
      if (callbacks.has('onBatchEnd')) await callbacks.onBatchEnd(b - 1, step.logs(...means(sums, seen)));
      await yielder.maybeYield();
      if (model.stopTraining) {
        // Stopped inside an epoch: what it has accumulated, so a resume logs the whole epoch.
        if (b < steps) onPosition({ ...position, epochSoFar: step.epochSoFar(seen, [...sums]) });
        break;
      }
    }
    if (seen === 0) throw new ValueError(`fit: epoch ${epoch + 1} had no batches (an empty dataset?)`);
    epochLogs = step.logs(...means(sums, seen));
    if (data.validation) {
      const val = await evaluatePass(step, validationBatches(data.validation, options.validationBatchSize), callbacks, yielder);
      for (const [k, v] of Object.entries(val)) epochLogs[`val_${k}`] = v;
    }
    await callbacks.onEpochEnd(epoch, epochLogs);
  }
  await callbacks.onTrainEnd(epochLogs);
}

/** Loss and metrics over batches in inference mode, averaged over samples. */
export async function evaluatePass(
  step: TrainStep,
  batches: Iterable<Batch> | AsyncIterable<Batch>,
  callbacks: CallbackList | undefined,
  yielder?: Yielder,
): Promise<Logs> {
  step.resetMetrics();
  let seen = 0,
    b = 0;
  const sums = new Array<number>(step.outputs.length > 1 ? step.outputs.length + 1 : 1).fill(0);
  await callbacks?.onTestBegin();
  for await (const batch of batches) {
    if (callbacks?.has('onTestBatchBegin')) await callbacks.onTestBatchBegin(b, { batch: b, size: batch.size });
    step.test(batch.xs, batch.ys, batch.weights).forEach((v, i) => (sums[i] += v * batch.size));
    if (batch.owned) [...batch.xs, ...batch.ys, ...(batch.weights ? [batch.weights] : [])].forEach((t) => t.dispose());
    seen += batch.size;
    if (callbacks?.has('onTestBatchEnd')) await callbacks.onTestBatchEnd(b, step.logs(...means(sums, seen)));
    b++;
    await yielder?.maybeYield();
  }
  if (seen === 0) throw new ValueError('evaluate: no samples');
  const logs = step.logs(...means(sums, seen));
  await callbacks?.onTestEnd(logs);
  return logs;
}
