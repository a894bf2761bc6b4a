// The records of a run's live log (runs/<run>/live.jsonl), one JSON object per line, appended by
// `strata train` while it runs and streamed by the server to the dashboard page. Types only (no
// Node imports), so the page can import them too. Log values sit under `logs`, apart from the
// record's own fields, so a metric can never be mistaken for `epoch` or `time`.

/** The log file's name inside a run folder. */
export const LIVE_LOG = 'live.jsonl';

/** The run's settings, as the dashboard's config table shows them. */
export interface RunConfig {
  model?: string;
  dataset?: string;
  optimizer?: string;
  learningRate?: number | string;
  batchSize?: number;
  epochs?: number;
  validationSplit?: number;
  backend?: string;
  seed?: number;
  limit?: number;
  /** Training samples, validation samples, test samples, batches per epoch. */
  trainSamples?: number;
  validationSamples?: number;
  testSamples?: number;
  stepsPerEpoch?: number;
  parameters?: number;
  classes?: number;
  strata?: string;
  [key: string]: unknown;
}

/** The first line, and one more after each `--resume`. `time` is ms since the epoch everywhere. */
export interface StartRecord {
  type: 'start';
  time: number;
  resumed?: boolean;
  config: RunConfig;
}

/** Every few batches: the epoch's running logs (as Keras's progress bar shows them). `step` counts batches from the run's start. */
export interface BatchRecord {
  type: 'batch';
  time: number;
  epoch: number;
  batch: number;
  step: number;
  logs: Record<string, number>;
}

/** An epoch's end, with all its logs, validation included. */
export interface EpochRecord {
  type: 'epoch';
  time: number;
  epoch: number;
  step: number;
  seconds?: number;
  logs: Record<string, number>;
}

/** The test split's results, after training. */
export interface TestRecord {
  type: 'test';
  time: number;
  logs: Record<string, number>;
}

/** The run is over: finished (its pictures are written), interrupted (a checkpoint to resume), or failed. */
export interface EndRecord {
  type: 'end';
  time: number;
  status: 'finished' | 'interrupted' | 'failed';
  error?: string;
}

export type LiveRecord = StartRecord | BatchRecord | EpochRecord | TestRecord | EndRecord;

/** What the runs listing says a run is doing. `stopped`: its log stopped growing without an end (a killed process). */
export type RunStatus = 'training' | 'finished' | 'interrupted' | 'failed' | 'stopped' | 'unknown';

/** One run in GET /api/runs. */
export interface RunSummary {
  name: string;
  files: string[];
  /** The newest file's modification time, ms since the epoch. */
  modified: number;
  /** When it began: its first start record's time, else its oldest file's. The page lists runs by it, newest first. */
  started: number;
  status: RunStatus;
  config: RunConfig;
}
