import { checkKeys } from '../core/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { BaseCallback, type Logs } from './callback.js';
import { booleanOption, finiteNumber, nonEmptyString, nonNegativeInteger, verbosity } from './check-options.js';
import { MonitorReader, resolveMode, type MonitorMode } from './monitor.js';
import { printMessage } from './output.js';

/** Options of `st.callbacks.earlyStopping`. */
export interface EarlyStoppingOptions {
  /** The logged quantity to watch. Default 'val_loss'. */
  monitor?: string;
  /** A change smaller than this (in absolute value) is no improvement. Default 0. */
  minDelta?: number;
  /** Epochs without improvement before stopping. Default 0. */
  patience?: number;
  /** 1 prints a line when training stops and when weights are restored. Default 0. */
  verbose?: 0 | 1;
  /** 'min', 'max', or 'auto' (from the monitor's name: accuracy-like is max, the rest min). */
  mode?: MonitorMode;
  /** Training stops unless the monitor beats this within `patience` epochs. */
  baseline?: number;
  /** At the end of training, put back the weights of the best epoch. Default false. */
  restoreBestWeights?: boolean;
  /** Epochs to wait before watching at all (a warm-up). Default 0. */
  startFromEpoch?: number;
}

const OP = 'earlyStopping';
const KEYS = ['monitor', 'minDelta', 'patience', 'verbose', 'mode', 'baseline', 'restoreBestWeights', 'startFromEpoch'];

/**
 * Stops training when the monitored quantity has stopped improving, with Keras 3's rules: the
 * first watched epoch is always the best so far; an epoch improves when it beats the best by more
 * than minDelta; `wait` counts epochs since the last improvement that also beat the baseline, and
 * training stops once wait >= patience (never at epoch 0). With restoreBestWeights, the best
 * epoch's weights are put back at the end of training whether or not it stopped early.
 */
export class EarlyStopping extends BaseCallback {
  /** The logged quantity watched. */
  readonly monitor: string;
  /** The smallest change that counts as an improvement. */
  readonly minDelta: number;
  /** Epochs without improvement tolerated. */
  readonly patience: number;
  /** Whether messages are printed. */
  readonly verbose: number;
  /** Whether lower or higher is better (resolved from 'auto'). */
  readonly mode: 'min' | 'max';
  /** The value to beat, if any. */
  readonly baseline: number | undefined;
  /** Whether the best epoch's weights are restored at the end. */
  readonly restoreBestWeights: boolean;
  /** Epochs ignored at the start. */
  readonly startFromEpoch: number;

  /** The epoch (0-based) at which training was stopped; 0 when it ran to the end. */
  stoppedEpoch = 0;
  /** The best monitored value seen, and its epoch (0-based). */
  best: number | undefined;
  /** The epoch (0-based) of the best value. */
  bestEpoch = 0;
  /** Epochs since the last improvement. */
  wait = 0;
  private bestWeights: Tensor[] | undefined;
  private readonly reader: MonitorReader;

  constructor(options: EarlyStoppingOptions = {}) {
    super();
    checkKeys(OP, options, KEYS);
    this.monitor = nonEmptyString(OP, 'monitor', options.monitor ?? 'val_loss');
    this.minDelta = Math.abs(finiteNumber(OP, 'minDelta', options.minDelta ?? 0));
    this.patience = nonNegativeInteger(OP, 'patience', options.patience ?? 0);
    this.verbose = verbosity(OP, options.verbose ?? 0);
    this.mode = resolveMode(OP, this.monitor, options.mode ?? 'auto');
    this.baseline = options.baseline === undefined || options.baseline === null ? undefined : finiteNumber(OP, 'baseline', options.baseline);
    this.restoreBestWeights = booleanOption(OP, 'restoreBestWeights', options.restoreBestWeights ?? false);
    this.startFromEpoch = nonNegativeInteger(OP, 'startFromEpoch', options.startFromEpoch ?? 0);
    this.reader = new MonitorReader(
      (available) => `${OP}: early stopping is conditioned on metric '${this.monitor}', which is not available; available metrics are: ${available}`,
      this.monitor,
    );
  }

  /** Resets the state, so one instance can serve several fit calls. */
  onTrainBegin(): void {
    // Reset, so one instance can serve several fit calls.
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = undefined;
    this.bestWeights = undefined;
    this.bestEpoch = 0;
  }

  /**
   * Compares the monitored value with the best so far and sets `model.stopTraining` when patience
   * runs out.
   */
  onEpochEnd(epoch: number, logs?: Logs): void {
    const current = this.reader.read(logs);
    if (current === undefined || epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && this.bestWeights === undefined) {
      // Nothing better has been seen yet, so these weights are the best so far.
      this.bestWeights = this.model.getWeights();
      this.bestEpoch = epoch;
    }
    this.wait += 1;
    if (this.isImprovement(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = this.model.getWeights();
      // Patience restarts only for an epoch that beats both the best so far and the baseline.
      if (this.baseline === undefined || this.isImprovement(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
    }
  }

  /** Restores the best weights if asked to. */
  onTrainEnd(): void {
    if (this.stoppedEpoch > 0 && this.verbose > 0) printMessage(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.restoreBestWeights && this.bestWeights !== undefined) {
      if (this.verbose > 0) printMessage(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      this.model.setWeights(this.bestWeights);
    }
  }

  private isImprovement(value: number, reference: number | undefined): boolean {
    if (reference === undefined) return true;
    return this.mode === 'min' ? value + this.minDelta < reference : value - this.minDelta > reference;
  }
}
