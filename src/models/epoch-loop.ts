// The epoch loop: epochs of batches through the step, with callbacks, validation, the position
// a checkpoint records and an exact resume from it (Note [Exact resume]), and the passes of
// evaluation. One loop for every backend and data source.

import type { CallbackList } from '../callbacks/callback-list.js';
import type { Logs } from '../callbacks/callback.js';
import { ValueError } from '../core/errors.js';
import { getRngState, randomPermutation, setRngState } from '../core/rng.js';
import { arrayBatches, type Batch } from './batch-source.js';
import { ArrayData } from './data-adapter.js';
import { classWeightsOnBackend } from './sample-weights.js';
import type { DistributedFit, ShardBatch } from './distributed-fit.js';
import { checkDatasetBatch, validationBatches, type FitData } from './fit-data.js';
import { RunningLosses, type NonFiniteHandler } from './running-losses.js';
import type { TrainStep } from './train-step.js';
import type { TrainingPosition } from './training-args.js';

// Note [Reading values without stalling]
// On a GPU, reading a value back (t.dataSync(), t.item()) waits until every kernel queued before
// it has run: one read per step empties the queue every step, and the GPU idles while JavaScript
// prepares the next one. So the trainer reads only when someone needs the numbers:
// - Tensors: `await t.data()` / `await t.array()` are the portable reads; a backend without
//   synchronous reads (`readSync: false`) makes dataSync(), arraySync() and item() throw a
//   ValueError naming them, and implements `downloadAsync` (backend/backend.ts).
// - A step returns its loss values as tensors (aliases of the scalars, kept past disposeGraph);
//   RunningLosses (running-losses.ts) holds them and reads all waiting ones in one download.
//   Metrics accumulate on the backend too (Note [Streaming metrics] in metrics/metric.ts) and
//   are read by `await metric.settle()`. Both add up in float64 on the host, as before.
// - The loop reads (settle) when logs are due: at the end of an epoch or a pass (History,
//   validation, EarlyStopping and the rest see numbers, as in Keras); after a batch when a
//   callback with batch hooks takes logs: any user callback (its `logs` are numbers), but the
//   progress bar only when its redraw is due, a few times per second (CallbackList.batchEnd);
//   when training stops inside an epoch (the checkpoint's sums); and every READ_EVERY batches,
//   which bounds what waits on the backend and how late a non-finite loss is noticed. A read
//   checks every waiting batch's loss in order, so `onNonFinite: 'error'` still names the batch
//   where the loss went bad (training has run on for at most READ_EVERY batches by then).
// - Labels and data are checked once per data source, not per step (Note [Label checks without
//   host reads] in ops/losses.ts), and batches are gathered with indices that are not read back.
// On a CPU backend these reads cost what they cost before (a download of a few numbers), only
// less often.
const READ_EVERY = 64;

// Note [Yielding to the page]
// fit is async and lets the event loop run every YIELD_EVERY_MS of training, not every step: a
// page repaints and its Stop button's handler runs (setting model.stopTraining, which the loop
// checks after every step, so training stops at the end of the current step), the progress
// bar's timers fire, a Ctrl-C handler runs. It takes a task, not a microtask (which would run
// before the page gets a turn): Node's setImmediate, a MessageChannel message in a page (a
// nested setTimeout is clamped to 4 ms in browsers and 1 ms in Node), setTimeout elsewhere.
// Measured in Node on a busy 2-core host: a yield costs about 6 µs with setImmediate (4 µs with
// a MessageChannel, 1.8 ms with setTimeout(0)); once every 16 ms that is 0.04 %.
const YIELD_EVERY_MS = 16;

type Scheduler = (resume: () => void) => void;

interface Port {
  onmessage: ((event: unknown) => void) | null;
  postMessage(message: unknown): void;
}

/** Runs `resume` as a new task, as soon as the platform allows (Note [Yielding to the page]). */
function taskScheduler(): Scheduler {
  const g = globalThis as unknown as { setImmediate?: (f: () => void) => unknown; MessageChannel?: new () => { port1: Port; port2: Port } };
  if (typeof g.setImmediate === 'function') return (resume) => void g.setImmediate!(resume);
  if (typeof g.MessageChannel === 'function') {
    const channel = new g.MessageChannel();
    const waiting: (() => void)[] = [];
    channel.port1.onmessage = () => waiting.shift()?.();
    return (resume) => {
      waiting.push(resume);
      channel.port2.postMessage(null);
    };
  }
  return (resume) => void setTimeout(resume, 0);
}

let scheduler: Scheduler | undefined;

/** A promise settled in a new task (Note [Yielding to the page]). */
export function nextTask(): Promise<void> {
  scheduler ??= taskScheduler();
  return new Promise<void>((resolve) => scheduler!(resolve));
}

/** Lets the event loop run every YIELD_EVERY_MS in a long loop (Note [Yielding to the page]). */
export class Yielder {
  private last = performance.now();
  async maybeYield(): Promise<void> {
    if (performance.now() - this.last < YIELD_EVERY_MS) return;
    await nextTask();
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
  /** Set when fit runs data-parallel in an MPI job (distributed-fit.ts). */
  distributed?: DistributedFit;
}

/**
 * The batches of one training epoch: shuffled arrays (from a resume point), or the Dataset's next
 * epoch; in a distributed fit, this rank's shard of them.
 */
function epochBatches(
  data: FitData,
  options: LoopOptions,
  resuming: TrainingPosition | undefined,
  steps: number,
): Iterable<Batch | ShardBatch> | AsyncIterable<Batch | ShardBatch> {
  const dist = options.distributed;
  if (!(data.train instanceof ArrayData)) return dist ? dist.datasetBatches(data.train.epoch(), steps) : data.train.epoch();
  const order = options.shuffle ? randomPermutation(data.train.size) : undefined;
  if (resuming) setRngState(resuming.rng);
  dist?.decorrelate();
  const start = resuming ? resuming.batch : 0;
  return dist ? dist.arrayBatches(data.train, options.batchSize, order, start) : arrayBatches(data.train, options.batchSize, order, start);
}

/**
 * Trains `options.epochs` epochs. After every batch `onPosition` receives where training stands
 * (what a checkpoint saves); a callback or a button handler setting the model's stopTraining
 * ends the loop after the current batch.
 */
export async function runEpochs(
  step: TrainStep,
  data: FitData,
  options: LoopOptions,
  callbacks: CallbackList,
  onPosition: (p: TrainingPosition) => void,
): Promise<void> {
  const { model } = step;
  const { resume, distributed: dist } = options;
  const steps = dist
    ? dist.steps(data.train, options.batchSize)
    : data.train instanceof ArrayData
      ? data.train.batchCount(options.batchSize)
      : (data.train.steps ?? NaN);
  const yielder = new Yielder();
  const width = step.outputs.length > 1 ? step.outputs.length + 1 : 1;
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
    // Every rank shuffles with rank 0's stream (Note [One global batch, split by rank]).
    await dist?.synchronizeStream();
    const rngAtEpochStart = getRngState();
    const batches = epochBatches(data, options, resuming, steps);
    const nonFinite: NonFiniteHandler | undefined =
      options.onNonFinite === 'error'
        ? (value, batch) => {
            throw new ValueError(
              `fit: the loss became ${value} at epoch ${epoch + 1}, batch ${batch + 1} (lower the learning rate, check the data, or pass onNonFinite: 'continue')`,
            );
          }
        : undefined;
    const losses = new RunningLosses(width, nonFinite);
    // A distributed job's saved sums are the job's: one rank takes them back, or they would count N times.
    if (resuming?.epochSoFar && (!dist || dist.rank === 0)) {
      const { seen, lossSums } = step.restoreEpoch(resuming.epochSoFar);
      losses.restore(seen, lossSums);
    }
    // Note [Reading values without stalling]: the running logs, read when someone takes them.
    // In a distributed fit the batch logs are this rank's; `merged` ones are the job's.
    const readLogs = async (merged = false): Promise<Logs> => {
      await losses.settle();
      await step.settleMetrics();
      if (merged) await dist?.mergePass(losses, step);
      return step.logs(...losses.means());
    };
    let b = resuming ? resuming.batch : 0;
    let first = true;
    try {
      for await (const batch of batches) {
        if (callbacks.has('onBatchBegin')) await callbacks.onBatchBegin(b, { batch: b, size: batch.size });
        let weights = batch.weights;
        if (!(data.train instanceof ArrayData)) await checkDatasetBatch('fit', model, step.outputs, batch, first);
        first = false;
        if (data.classTable && batch.size > 0) {
          if (weights) throw new ValueError('fit: the dataset yields sample weights and classWeight was given; use one or the other (as Keras)');
          weights = classWeightsOnBackend('fit (classWeight)', batch.ys[0], data.classTable);
        }
        const values = dist ? await dist.train(step, batch as ShardBatch, weights) : step.train(batch.xs, batch.ys, weights);
        if (batch.owned) [...batch.xs, ...batch.ys, ...(weights ? [weights] : [])].forEach((t) => t.dispose());
        if (batch.size > 0) losses.add(values, batch.size, b);
        b++;
        const position: TrainingPosition =
          b < steps
            ? { epoch, batch: b, rngAtEpochStart, rng: getRngState() }
            : { epoch: epoch + 1, batch: 0, rngAtEpochStart: getRngState(), rng: getRngState() };
        onPosition(position);
        if (losses.waiting >= READ_EVERY) await losses.settle();
        if (callbacks.has('onBatchEnd')) await callbacks.batchEnd('onBatchEnd', b - 1, readLogs);
        await yielder.maybeYield();
        // Every rank stops at the same step, or the others would wait for it forever.
        if (dist) model.stopTraining = await dist.agreeToStop(model.stopTraining);
        if (model.stopTraining) {
          // Stopped inside an epoch: what it has accumulated, so a resume logs the whole epoch.
          if (b < steps) {
            await readLogs(true);
            onPosition({ ...position, epochSoFar: step.epochSoFar(losses.seen, [...losses.sums]) });
          }
          break;
        }
      }
      if (model.stopTraining && b < steps) epochLogs = step.logs(...losses.means());
      else epochLogs = await readLogs(true);
      if (losses.seen === 0) throw new ValueError(`fit: epoch ${epoch + 1} had no batches (an empty dataset?)`);
    } finally {
      losses.dispose();
    }
    await dist?.synchronizeNonTrainable();
    if (data.validation) {
      const val = dist
        ? await evaluatePass(step, dist.validationBatches(data.validation, options.validationBatchSize), callbacks, yielder, undefined, dist)
        : await evaluatePass(step, validationBatches(data.validation, options.validationBatchSize), callbacks, yielder);
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
  checkBatches?: (batch: Batch, first: boolean) => Promise<void>,
  dist?: DistributedFit,
): Promise<Logs> {
  step.resetMetrics();
  let b = 0;
  const losses = new RunningLosses(step.outputs.length > 1 ? step.outputs.length + 1 : 1);
  // In a distributed pass each rank evaluates its shard; `merged` logs are the job's.
  const readLogs = async (merged = false): Promise<Logs> => {
    await losses.settle();
    await step.settleMetrics();
    if (merged) await dist?.mergePass(losses, step);
    return step.logs(...losses.means());
  };
  try {
    await callbacks?.onTestBegin();
    for await (const batch of batches) {
      if (callbacks?.has('onTestBatchBegin')) await callbacks.onTestBatchBegin(b, { batch: b, size: batch.size });
      await checkBatches?.(batch, b === 0);
      losses.add(step.test(batch.xs, batch.ys, batch.weights), batch.size, b);
      if (batch.owned) [...batch.xs, ...batch.ys, ...(batch.weights ? [batch.weights] : [])].forEach((t) => t.dispose());
      if (losses.waiting >= READ_EVERY) await losses.settle();
      if (callbacks?.has('onTestBatchEnd')) await callbacks.batchEnd('onTestBatchEnd', b, readLogs);
      b++;
      await yielder?.maybeYield();
    }
    if (losses.seen === 0 && !dist) throw new ValueError('evaluate: no samples');
    const logs = await readLogs(true);
    if (losses.seen === 0) throw new ValueError('evaluate: no samples');
    await callbacks?.onTestEnd(logs);
    return logs;
  } finally {
    losses.dispose();
  }
}
