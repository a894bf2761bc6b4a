// The live log of `strata train` (runs/<run>/live.jsonl), which the dashboard streams while the
// run trains (src/node/serve/live-records.ts describes its records). Each record is appended as
// one whole line, so a reader sees complete lines plus at most one unfinished last line, and a
// crash loses nothing already written.
//
// Batch records carry the logs the trainer hands to batch hooks: the epoch's running loss and
// metrics. Note: `fit` reads them from the backend for any callback with a batch hook (only the
// progress bar is throttled, CallbackList.batchEnd); the CLI's timer callback already has one,
// so this log adds no device reads of its own, and it writes only every `every` batches.
import { appendFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as st from '../index.js';
import { LIVE_LOG, type EndRecord, type LiveRecord, type RunConfig } from '../node/serve/live-records.js';
import type { TrainOptions } from './checkpoint.js';
import type { LabelledData } from './datasets.js';

/** About this many batch records per epoch, whatever its length. */
const POINTS_PER_EPOCH = 200;
/** And one at least this often (ms), so a slow run still moves on the dashboard. */
const AT_LEAST_EVERY_MS = 2000;
/** The file's time is refreshed this often while the run lives: the dashboard takes a log untouched for a minute as a dead run. */
const HEARTBEAT_MS = 5000;

/** JSON for a log object, without the values JSON cannot hold (NaN, Infinity become null otherwise). */
const finiteLogs = (logs: st.Logs | undefined) => Object.fromEntries(Object.entries(logs ?? {}).filter(([, v]) => Number.isFinite(v)));

/** The settings the dashboard shows for a run: what was asked for and what it came to (backend, sizes). */
export function runConfig(
  model: st.Model,
  data: LabelledData,
  o: TrainOptions,
  modelSpec: string,
  counts: { trainSamples: number; validationSamples: number; testSamples: number },
): RunConfig {
  const lr = model.optimizer?.learningRate;
  return {
    model: modelSpec,
    dataset: data.name,
    optimizer: o.optimizer,
    learningRate: typeof lr === 'number' ? lr : 'schedule',
    batchSize: o.batchSize,
    epochs: o.epochs,
    validationSplit: o.validationSplit,
    backend: st.getBackend().name,
    seed: o.seed,
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    ...counts,
    stepsPerEpoch: Math.ceil(counts.trainSamples / o.batchSize),
    parameters: model.countParams(),
    classes: data.classNames.length,
    strata: st.version,
  };
}

export class LiveLog implements st.Callback {
  readonly path: string;
  private steps = 1;
  /** The epoch the batches belong to: the last one begun (fit numbers batches within their epoch). */
  private epoch = 0;
  /** Batches done in it: fewer than `steps` when Ctrl-C stopped it (fit still ends the epoch). */
  private done = 0;
  private every = 1;
  private lastWrite = 0;
  /** wantsLogs' answer for the batch it was asked about. */
  private decided: { batch: number; due: boolean } | undefined;
  private epochStart = 0;
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  /** Starts the log in `dir` with the run's settings: a new file, or (resume) more lines on the old one. */
  constructor(dir: string, config: RunConfig, resumed: boolean) {
    this.path = join(dir, LIVE_LOG);
    const start: LiveRecord = { type: 'start', time: Date.now(), ...(resumed ? { resumed: true } : {}), config };
    this.append(start, !resumed);
    this.heartbeat = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(this.path, now, now);
      } catch {
        // the folder was removed: nothing to keep alive
      }
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  setParams(params: st.TrainingParams): void {
    this.steps = Math.max(1, params.steps);
    this.every = Math.max(1, Math.ceil(this.steps / POINTS_PER_EPOCH));
  }

  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
    this.done = 0;
    this.epochStart = performance.now();
  }

  /**
   * Logs are read (a GPU step waited for) only for the batches that write a line. The answer is
   * kept for that batch's onBatchEnd: asking the clock again there could write a line with the
   * older logs the dispatcher handed over after hearing "no".
   */
  wantsLogs(batch: number): boolean {
    const due = (batch + 1) % this.every === 0 || performance.now() - this.lastWrite >= AT_LEAST_EVERY_MS;
    this.decided = { batch, due };
    return due;
  }

  onBatchEnd(batch: number, logs?: st.Logs): void {
    this.done = batch + 1;
    const due = this.decided?.batch === batch ? this.decided.due : this.wantsLogs(batch);
    this.decided = undefined;
    if (!due) return;
    this.lastWrite = performance.now();
    const epoch = this.epoch;
    this.append({ type: 'batch', time: Date.now(), epoch, batch, step: epoch * this.steps + batch + 1, logs: finiteLogs(logs) });
  }

  onEpochEnd(epoch: number, logs?: st.Logs): void {
    const seconds = (performance.now() - this.epochStart) / 1000;
    const step = epoch * this.steps + (this.done || this.steps);
    this.append({ type: 'epoch', time: Date.now(), epoch, step, seconds, logs: finiteLogs(logs) });
  }

  /** The test split's results. */
  test(logs: st.Logs): void {
    this.append({ type: 'test', time: Date.now(), logs: finiteLogs(logs) });
  }

  /** The last record; the heartbeat stops. */
  end(status: EndRecord['status'], error?: string): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.append({ type: 'end', time: Date.now(), status, ...(error ? { error: error.slice(0, 1000) } : {}) });
  }

  private append(record: LiveRecord, replace = false): void {
    try {
      (replace ? writeFileSync : appendFileSync)(this.path, `${JSON.stringify(record)}\n`);
    } catch {
      // A log that cannot be written must not stop the training it describes.
    }
  }
}
