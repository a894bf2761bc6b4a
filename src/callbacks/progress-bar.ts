import { checkKeys } from '../core/options.js';
import { platform, type LiveBar } from '../core/platform.js';
import { BaseCallback, type Logs } from './callback.js';
import { verbosity } from './check-options.js';
import { clearLiveLine, formatDuration, formatLogValue, setLiveLine, type LiveLine } from './output.js';

/**
 * Where the bar writes: Node's standard output (in a page, the console) or anything that writes
 * text like it, a terminal when `isTTY` is true. Declared by shape, not as a Node stream type, so
 * a user's project needs no @types/node to use Strata's types.
 */
export interface ProgressStream {
  /** Writes text. */
  write(chunk: string): unknown;
  /** True for a terminal: the bar is then drawn live. */
  isTTY?: boolean;
  /** The terminal's width, to fit the bar. */
  columns?: number;
}

/** Options of `st.callbacks.progressBar` (fit's `verbose` option makes one for you). */
export interface ProgressBarOptions {
  /** 1: a live bar on a terminal (one line per epoch elsewhere); 2: one line per epoch. Default 1. */
  verbose?: 1 | 2;
  /** Default Node's standard output, console.log line by line in a page. */
  stream?: ProgressStream;
  /** A clock in milliseconds, for tests. Default performance.now. */
  clock?: () => number;
}

const BAR_WIDTH = 20;

/** `loss: 0.2351 - accuracy: 0.9301 - ...`, in the order the trainer logged them. */
export function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .map(([k, v]) => `${k}: ${formatLogValue(v)}`)
    .join(' - ');
}

/**
 * Training progress, as Keras's verbose modes: with verbose 1 on a terminal, a live line per
 * epoch (`Epoch e/E [=====>....] step/steps - elapsed - ETA - samples/s - loss ...`) drawn with
 * cli-progress and replaced when the epoch ends by one plain line with every log, validation
 * included: `Epoch 1/5 - 12.3s - 938/938 - loss: 0.2351 - accuracy: 0.9301 - val_loss: ...`.
 * With verbose 2, or when the stream is not a terminal (logs, CI), only the plain lines are
 * written: no carriage returns.
 */
export class ProgressBar extends BaseCallback implements LiveLine {
  /** 1: a live bar on terminals; 2: one line per epoch. */
  readonly verbose: 1 | 2;
  /** Where the bar writes. */
  readonly stream: ProgressStream;
  private readonly clock: () => number;
  private epoch = 0;
  private epochStart = 0;
  private stepsDone = 0;
  private batchLogs: Logs = {};
  private bar: LiveBar | undefined;
  /** A message interrupted the live bar; it is redrawn at the next batch (Note [Messages and the live bar]). */
  private suspended = false;
  /** Inside fit: validation passes draw nothing (Keras shows evaluate's bar only outside fit). */
  private inFit = false;
  /** Drawing an evaluate pass (no epoch in the line). */
  private testing = false;

  constructor(options: ProgressBarOptions = {}) {
    super();
    checkKeys('progressBar', options, ['verbose', 'stream', 'clock']);
    this.verbose = verbosity('progressBar', options.verbose ?? 1, [1, 2]) as 1 | 2;
    this.stream = options.stream ?? platform().stdout();
    this.clock = options.clock ?? (() => performance.now());
  }

  /** True when this bar draws a live line (verbose 1 on a terminal; a page has none). */
  get live(): boolean {
    return this.verbose === 1 && this.stream.isTTY === true && platform().liveBar !== undefined;
  }

  /** Starts a run. */
  onTrainBegin(): void {
    this.inFit = true;
  }

  /** Starts the epoch's line. */
  onEpochBegin(epoch: number): void {
    this.finishBar();
    this.epoch = epoch;
    this.epochStart = this.clock();
    this.stepsDone = 0;
    this.batchLogs = {};
    if (this.live) this.startBar();
  }

  /** Advances the live bar. */
  onBatchEnd(batch: number, logs?: Logs): void {
    this.stepsDone = batch + 1;
    this.batchLogs = { ...(logs ?? {}) };
    if (!this.live) return;
    if (this.suspended || !this.bar) this.startBar();
    this.bar!.update(this.stepsDone);
  }

  /** Writes the epoch's line with every log. */
  onEpochEnd(epoch: number, logs?: Logs): void {
    this.finishBar();
    this.stream.write(`${this.epochLine(epoch, logs ?? {})}\n`);
  }

  /** Stops the live bar. */
  onTrainEnd(): void {
    this.finishBar();
    this.inFit = false;
  }

  /** evaluate's bar: the same live line without an epoch, then one line with the results. */
  onTestBegin(): void {
    if (this.inFit) return;
    this.finishBar();
    this.testing = true;
    this.epochStart = this.clock();
    this.stepsDone = 0;
    this.batchLogs = {};
    if (this.live) this.startBar();
  }

  /** Advances the bar of a standalone evaluate. */
  onTestBatchEnd(batch: number, logs?: Logs): void {
    if (!this.inFit) this.onBatchEnd(batch, logs);
  }

  /** Writes evaluate's result line (outside fit). */
  onTestEnd(logs?: Logs): void {
    if (this.inFit) return;
    this.finishBar();
    this.stream.write(`${this.testLine(logs ?? {})}\n`);
    this.testing = false;
  }

  /** Clears the live line so a message can be printed; the bar comes back at the next batch. */
  suspend(): void {
    if (!this.bar) return;
    this.bar.stop();
    this.bar = undefined;
    this.suspended = true;
  }

  /** The plain line written when an epoch ends. */
  epochLine(epoch: number, logs: Logs): string {
    const steps = this.params?.steps;
    const done = this.stepsDone > 0 ? this.stepsDone : (steps ?? 0);
    const parts = [
      `Epoch ${epoch + 1}/${this.params?.epochs ?? '?'}`,
      formatDuration(this.elapsedSeconds()),
      validCount(steps) ? `${done}/${steps}` : `${done}`,
    ];
    const metrics = formatLogs(logs);
    if (metrics) parts.push(metrics);
    return parts.join(' - ');
  }

  /** The plain line written when evaluate ends: `938/938 - 1.2s - loss: ... - accuracy: ...`. */
  testLine(logs: Logs): string {
    const steps = this.params?.steps;
    const parts = [validCount(steps) ? `${this.stepsDone}/${steps}` : `${this.stepsDone}`, formatDuration(this.elapsedSeconds())];
    const metrics = formatLogs(logs);
    if (metrics) parts.push(metrics);
    return parts.join(' - ');
  }

  /** The live line: progress, timing and the running batch logs. */
  liveLine(): string {
    const steps = this.params?.steps;
    const elapsed = this.elapsedSeconds();
    const parts: string[] = [];
    let head = this.testing ? '' : `Epoch ${this.epoch + 1}/${this.params?.epochs ?? '?'} `;
    if (validCount(steps)) {
      const filled = Math.min(BAR_WIDTH, Math.floor((BAR_WIDTH * this.stepsDone) / steps));
      const arrow = filled < BAR_WIDTH && this.stepsDone > 0 ? '>' : '';
      head += `[${'='.repeat(filled)}${arrow}${'.'.repeat(BAR_WIDTH - filled - arrow.length)}] ${this.stepsDone}/${steps}`;
    } else {
      head += `${this.stepsDone}`;
    }
    parts.push(head, formatDuration(elapsed));
    if (validCount(steps) && this.stepsDone > 0 && this.stepsDone < steps)
      parts.push(`ETA ${formatDuration((elapsed / this.stepsDone) * (steps - this.stepsDone))}`);
    // Loss and metrics before the rate: a narrow terminal cuts the end of the line.
    const metrics = formatLogs(this.batchLogs);
    if (metrics) parts.push(metrics);
    const rate = this.samplesDone() / elapsed;
    if (this.stepsDone > 0 && elapsed > 0 && Number.isFinite(rate)) parts.push(`${rate >= 100 ? Math.round(rate) : rate.toPrecision(3)} samples/s`);
    return parts.join(' - ');
  }

  private samplesDone(): number {
    const { batchSize = 0, samples = Infinity } = this.params ?? {};
    return Math.min(this.stepsDone * batchSize, samples);
  }

  private elapsedSeconds(): number {
    return Math.max(0, (this.clock() - this.epochStart) / 1000);
  }

  private startBar(): void {
    this.bar = platform().liveBar!({ stream: this.stream, line: () => this.liveLine() });
    this.suspended = false;
    setLiveLine(this);
    this.bar.start(validCount(this.params?.steps) ? this.params!.steps : 0, this.stepsDone);
  }

  private finishBar(): void {
    this.suspended = false;
    clearLiveLine(this);
    if (!this.bar) return;
    this.bar.stop();
    this.bar = undefined;
  }
}

const validCount = (n: number | undefined): n is number => typeof n === 'number' && Number.isFinite(n) && n > 0;
