// What the page knows about each run: the server's summary (status, files, settings) and the
// points of every logged quantity, built up record by record from the run's event stream.
import type { BatchRecord, EndRecord, EpochRecord, LiveRecord, RunConfig, RunSummary } from '../../node/serve/live-records.js';

/** One quantity's points, in step order: x as fractional epochs and as steps, and the values. */
export interface Series {
  epoch: number[];
  step: number[];
  y: number[];
}

export interface RunData {
  name: string;
  color: string;
  summary: RunSummary | undefined;
  /** The settings from the log's start records (a resumed run's later ones win), else the summary's. */
  logConfig: RunConfig | undefined;
  series: Map<string, Series>;
  firstStart: number | undefined;
  /** Seconds spent in epochs: the sum over epoch records (one cut by Ctrl-C and its resumed rest both count). */
  trainSeconds: number;
  lastBatch: BatchRecord | undefined;
  lastEpoch: EpochRecord | undefined;
  test: Record<string, number> | undefined;
  end: EndRecord | undefined;
  /** The last record: is the log over (an end record last) or still going? */
  last: LiveRecord | undefined;
  records: number;
  /** The stream replayed everything the file held. */
  caughtUp: boolean;
}

// Ten colours that stay apart from each other on white, also for the common colour blindnesses.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#ff9da7', '#6b6ecf'];
let colours = 0;

export function newRun(name: string): RunData {
  const run = { name, color: PALETTE[colours++ % PALETTE.length], summary: undefined } as RunData;
  resetRun(run);
  return run;
}

/** Forgets the run's records (the server starts its stream over). */
export function resetRun(run: RunData): void {
  Object.assign(run, {
    logConfig: undefined,
    series: new Map(),
    firstStart: undefined,
    trainSeconds: 0,
    lastBatch: undefined,
    lastEpoch: undefined,
    test: undefined,
    end: undefined,
    last: undefined,
    records: 0,
    caughtUp: false,
  });
}

export function config(run: RunData): RunConfig {
  return run.logConfig ?? run.summary?.config ?? {};
}

/**
 * Adds a point. Points stay in step order: one at the step of the last replaces it (an epoch's
 * end logs the same step as its last batch), and one before it drops those after (a run resumed
 * from an earlier checkpoint goes over those steps again).
 */
function addPoint(run: RunData, key: string, epoch: number, step: number, y: number): void {
  let s = run.series.get(key);
  if (!s) run.series.set(key, (s = { epoch: [], step: [], y: [] }));
  let n = s.step.length;
  while (n > 0 && s.step[n - 1] >= step) n--;
  s.epoch.length = s.step.length = s.y.length = n;
  s.epoch.push(epoch);
  s.step.push(step);
  s.y.push(y);
}

/** Epochs done at a record, fractional: its step over the steps per epoch (an epoch cut short by Ctrl-C ends early). */
function epochs(run: RunData, record: BatchRecord | EpochRecord): number {
  const steps = config(run).stepsPerEpoch;
  if (typeof steps === 'number' && steps > 0) return record.step / steps;
  return record.type === 'batch' ? record.epoch + 0.5 : record.epoch + 1;
}

export function ingest(run: RunData, record: LiveRecord): void {
  run.records++;
  run.last = record;
  switch (record.type) {
    case 'start':
      run.firstStart ??= record.time;
      run.logConfig = { ...run.logConfig, ...record.config };
      run.end = undefined;
      break;
    case 'batch':
      for (const [key, y] of Object.entries(record.logs)) addPoint(run, key, epochs(run, record), record.step, y);
      run.lastBatch = record;
      break;
    case 'epoch':
      for (const [key, y] of Object.entries(record.logs)) addPoint(run, key, epochs(run, record), record.step, y);
      run.lastEpoch = record;
      run.trainSeconds += record.seconds ?? 0;
      break;
    case 'test':
      run.test = record.logs;
      break;
    case 'end':
      run.end = record;
      break;
  }
}

/** The log of a finished stream: its last record is an end. */
export const logEnded = (run: RunData) => run.last?.type === 'end';

/** The quantities to chart, the usual four first (always, so the layout does not jump), then the others. */
export function chartKeys(runs: readonly RunData[]): string[] {
  const main = ['loss', 'accuracy', 'val_loss', 'val_accuracy'];
  const others = new Set<string>();
  for (const run of runs) for (const key of run.series.keys()) if (!main.includes(key)) others.add(key);
  return [...main, ...[...others].sort()];
}
