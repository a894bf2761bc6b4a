import { ValueError, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { BaseCallback, type Logs } from './callback.js';
import { booleanOption, finiteNumber, nonEmptyString, verbosity } from './check-options.js';
import { formatPlaceholders } from './format-placeholders.js';
import { MonitorReader, resolveMode, type MonitorMode } from './monitor.js';
import { fixed5, printMessage } from './output.js';

/** Options of `st.callbacks.modelCheckpoint`. */
export interface ModelCheckpointOptions {
  /**
   * Where to save; may hold placeholders filled from the epoch (1-based), the batch (1-based,
   * when saving every N batches) and the logs: 'ckpt/epoch{epoch:02d}-{val_loss:.4f}'.
   */
  filepath: string;
  /** The logged quantity saveBestOnly compares. Default 'val_loss'. */
  monitor?: string;
  /** 1 prints a line at each save (and each skipped one with saveBestOnly). Default 0. */
  verbose?: 0 | 1;
  /** Save only when the monitored quantity improves on the best seen so far. Default false. */
  saveBestOnly?: boolean;
  /** 'min', 'max', or 'auto' (from the monitor's name: accuracy-like is max, the rest min). */
  mode?: MonitorMode;
  /** 'epoch' (default), or a number of batches between saves. */
  saveFreq?: 'epoch' | number;
  /** With saveBestOnly, the first save needs a value better than this. */
  initialValueThreshold?: number;
}

const OP = 'modelCheckpoint';
const KEYS = ['filepath', 'monitor', 'verbose', 'saveBestOnly', 'mode', 'saveFreq', 'initialValueThreshold'];

/**
 * Saves the model (model.save) at the end of every epoch or every `saveFreq` batches, or only when
 * the monitored quantity improves (Keras 3's ModelCheckpoint). The filepath's placeholders are
 * filled by a small formatter that evaluates nothing (Note [Filepath placeholders]).
 */
export class ModelCheckpoint extends BaseCallback {
  /** The folder path, placeholders included. */
  readonly filepath: string;
  /** The logged quantity saveBestOnly compares. */
  readonly monitor: string;
  /** Whether saves are printed. */
  readonly verbose: number;
  /** Whether only improvements are saved. */
  readonly saveBestOnly: boolean;
  /** Whether lower or higher is better (resolved from 'auto'). */
  readonly mode: 'min' | 'max';
  /** 'epoch', or the number of batches between saves. */
  readonly saveFreq: 'epoch' | number;
  /** The best monitored value saved so far (±Infinity before the first save). */
  best: number;
  /** The paths saved, in order. */
  readonly saved: string[] = [];
  private currentEpoch = 0;
  private lastBatchSeen = 0;
  private batchesSinceSave = 0;
  private readonly reader: MonitorReader;

  constructor(options: ModelCheckpointOptions) {
    super();
    if (options === undefined || options === null || typeof options !== 'object') {
      throw new ValueError(`${OP}: expected an options object with a filepath; received ${fmtValue(options)}`);
    }
    checkKeys(OP, options, KEYS);
    this.filepath = nonEmptyString(OP, 'filepath', options.filepath);
    this.monitor = nonEmptyString(OP, 'monitor', options.monitor ?? 'val_loss');
    this.verbose = verbosity(OP, options.verbose ?? 0);
    this.saveBestOnly = booleanOption(OP, 'saveBestOnly', options.saveBestOnly ?? false);
    this.mode = resolveMode(OP, this.monitor, options.mode ?? 'auto');
    const freq = options.saveFreq ?? 'epoch';
    if (freq !== 'epoch' && !(typeof freq === 'number' && Number.isInteger(freq) && freq > 0)) {
      throw new ValueError(`${OP}: saveFreq must be 'epoch' or a positive integer number of batches; received ${fmtValue(freq)}`);
    }
    this.saveFreq = freq;
    const threshold = options.initialValueThreshold;
    this.best = threshold === undefined ? (this.mode === 'min' ? Infinity : -Infinity) : finiteNumber(OP, 'initialValueThreshold', threshold);
    // Check the placeholders' syntax now, not at the first save: epoch and batch stand in for every name.
    formatPlaceholders(OP, this.filepath.replace(/\{([A-Za-z_][A-Za-z0-9_]*)(?=[:}])/g, '{epoch'), { epoch: 1 });
    this.reader = new MonitorReader(
      (available) => `${OP}: can save the best model only with ${this.monitor} available, skipping; available metrics are: ${available}`,
      this.monitor,
    );
  }

  /** Notes the epoch for the filepath's placeholders. */
  onEpochBegin(epoch: number): void {
    this.currentEpoch = epoch;
  }

  /** Saves every `saveFreq` batches, when saveFreq is a number. */
  async onBatchEnd(batch: number, logs?: Logs): Promise<void> {
    if (this.shouldSaveOnBatch(batch)) await this.save(this.currentEpoch, batch, logs ?? {});
  }

  /** Saves at the end of the epoch, when saveFreq is 'epoch'. */
  async onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    if (this.saveFreq === 'epoch') await this.save(epoch, undefined, logs ?? {});
  }

  /** The path for an epoch (0-based) and optional batch (0-based): placeholders are 1-based, as Keras. */
  filePathFor(epoch: number, batch: number | undefined, logs: Logs): string {
    const values: Record<string, number> = { ...logs, epoch: epoch + 1 };
    if (batch !== undefined && !('batch' in logs)) values.batch = batch + 1;
    return formatPlaceholders(OP, this.filepath, values);
  }

  // Counts batches across epoch boundaries: a batch index that does not grow means a new epoch.
  private shouldSaveOnBatch(batch: number): boolean {
    if (this.saveFreq === 'epoch') return false;
    this.batchesSinceSave += batch <= this.lastBatchSeen ? batch + 1 : batch - this.lastBatchSeen;
    this.lastBatchSeen = batch;
    if (this.batchesSinceSave < this.saveFreq) return false;
    this.batchesSinceSave = 0;
    return true;
  }

  private async save(epoch: number, batch: number | undefined, logs: Logs): Promise<void> {
    const path = this.filePathFor(epoch, batch, logs);
    if (this.saveBestOnly) {
      const current = this.reader.read(logs);
      if (current === undefined) return;
      const improved = this.mode === 'min' ? current < this.best : current > this.best;
      if (!improved) {
        if (this.verbose > 0) printMessage(`Epoch ${epoch + 1}: ${this.monitor} did not improve from ${fixed5(this.best)}`);
        return;
      }
      if (this.verbose > 0)
        printMessage(`Epoch ${epoch + 1}: ${this.monitor} improved from ${fixed5(this.best)} to ${fixed5(current)}, saving model to ${path}`);
      this.best = current;
    } else if (this.verbose > 0) {
      printMessage(`Epoch ${epoch + 1}: saving model to ${path}`);
    }
    await this.model.save(path);
    this.saved.push(path);
  }
}
