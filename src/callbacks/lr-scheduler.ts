import { ValueError, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { BaseCallback, type CallbackModel, type Logs } from './callback.js';
import { finiteNumber, nonEmptyString, nonNegative, nonNegativeInteger, verbosity } from './check-options.js';
import { MonitorReader, resolveMode, type MonitorMode } from './monitor.js';
import { printMessage } from './output.js';

/**
 * The optimizer whose learning rate a callback sets. Like Keras, a learning rate given as a
 * schedule is refused: the schedule already decides it at every step, and replacing it with a
 * number in the middle of training would silently discard it.
 */
function settableOptimizer(op: string, model: CallbackModel): Optimizer {
  const optimizer = model.optimizer;
  if (!optimizer) throw new ValueError(`${op}: the model has no optimizer; compile the model before fitting with this callback`);
  if (typeof optimizer.learningRate !== 'number') {
    throw new ValueError(
      `${op}: the optimizer's learningRate is a schedule, so a callback cannot set it; give the optimizer a number as learningRate to use this callback`,
    );
  }
  return optimizer;
}

/** A learning rate as Keras's messages print it (Python's str of a float). */
const lrText = (lr: number) => String(lr);

/** A learning rate for an epoch (0-based) given the current one, for `learningRateScheduler`. */
export type EpochSchedule = (epoch: number, learningRate: number) => number;

/** Options of `st.callbacks.learningRateScheduler`. */
export interface LearningRateSchedulerOptions {
  /** 1 prints the new rate at each epoch. Default 0. */
  verbose?: 0 | 1;
}

/**
 * Sets the optimizer's learning rate at the start of every epoch to `schedule(epoch, currentLr)`
 * (epoch 0-based), and records the rate in the epoch's logs as `learning_rate` (Keras 3).
 */
export class LearningRateScheduler extends BaseCallback {
  /** Whether the new rate is printed. */
  readonly verbose: number;

  constructor(
    /** The function giving each epoch's rate. */
    readonly schedule: EpochSchedule,
    options: LearningRateSchedulerOptions = {},
  ) {
    super();
    if (typeof schedule !== 'function')
      throw new ValueError(`learningRateScheduler: schedule must be a function (epoch, learningRate) => number; received ${typeof schedule}`);
    checkKeys('learningRateScheduler', options, ['verbose']);
    this.verbose = verbosity('learningRateScheduler', options.verbose ?? 0);
  }

  /**
   * Checks that the optimizer's learning rate is a number it can set.
   * @throws ValueError without an optimizer, or when the learning rate is a schedule.
   */
  onTrainBegin(): void {
    settableOptimizer('learningRateScheduler', this.model);
  }

  /**
   * Sets the rate `schedule(epoch, rate)` returns.
   * @throws ValueError when the schedule returns a negative or non-finite number.
   */
  onEpochBegin(epoch: number): void {
    const optimizer = settableOptimizer('learningRateScheduler', this.model);
    const lr = this.schedule(epoch, optimizer.learningRate as number);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new ValueError(`learningRateScheduler: the schedule must return a finite number >= 0; at epoch ${epoch} it returned ${fmtValue(lr)}`);
    }
    optimizer.learningRate = lr;
    if (this.verbose > 0) printMessage(`Epoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${lrText(lr)}.`);
  }

  /** Adds `learning_rate` to the epoch's logs. */
  onEpochEnd(_epoch: number, logs?: Logs): void {
    if (logs && this.model.optimizer) logs.learning_rate = this.model.optimizer.currentLearningRate();
  }
}

/** Options of `st.callbacks.reduceLROnPlateau`. */
export interface ReduceLROnPlateauOptions {
  /** The logged quantity to watch. Default 'val_loss'. */
  monitor?: string;
  /** new rate = rate * factor; must be below 1. Default 0.1. */
  factor?: number;
  /** Epochs without improvement before reducing. Default 10. */
  patience?: number;
  /** 1 prints a line at each reduction. Default 0. */
  verbose?: 0 | 1;
  /** 'min', 'max', or 'auto' (from the monitor's name: accuracy-like is max, the rest min). */
  mode?: MonitorMode;
  /** An improvement must beat the best by more than this. Default 1e-4. */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again. Default 0. */
  cooldown?: number;
  /** The rate never goes below this. Default 0. */
  minLr?: number;
}

const PLATEAU = 'reduceLROnPlateau';
const PLATEAU_KEYS = ['monitor', 'factor', 'patience', 'verbose', 'mode', 'minDelta', 'cooldown', 'minLr'];

/**
 * Multiplies the learning rate by `factor` when the monitored quantity has not improved for
 * `patience` epochs, then waits `cooldown` epochs before counting again (Keras 3's rules,
 * including logging the rate in effect during the epoch as `learning_rate`, before any reduction).
 */
export class ReduceLROnPlateau extends BaseCallback {
  /** The logged quantity watched. */
  readonly monitor: string;
  /** The factor each reduction multiplies the rate by. */
  readonly factor: number;
  /** Epochs without improvement before a reduction. */
  readonly patience: number;
  /** Whether reductions are printed. */
  readonly verbose: number;
  /** Whether lower or higher is better (resolved from 'auto'). */
  readonly mode: 'min' | 'max';
  /** The margin an improvement must beat the best by. */
  readonly minDelta: number;
  /** Epochs after a reduction before counting again. */
  readonly cooldown: number;
  /** The lowest rate. */
  readonly minLr: number;
  /** The best monitored value so far. */
  best = Infinity;
  /** Epochs since the last improvement. */
  wait = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  private readonly reader: MonitorReader;

  constructor(options: ReduceLROnPlateauOptions = {}) {
    super();
    checkKeys(PLATEAU, options, PLATEAU_KEYS);
    this.monitor = nonEmptyString(PLATEAU, 'monitor', options.monitor ?? 'val_loss');
    this.factor = nonNegative(PLATEAU, 'factor', options.factor ?? 0.1);
    if (this.factor >= 1) throw new ValueError(`${PLATEAU}: factor must be below 1 (it multiplies the learning rate); received ${this.factor}`);
    this.patience = nonNegativeInteger(PLATEAU, 'patience', options.patience ?? 10);
    this.verbose = verbosity(PLATEAU, options.verbose ?? 0);
    this.mode = resolveMode(PLATEAU, this.monitor, options.mode ?? 'auto');
    this.minDelta = finiteNumber(PLATEAU, 'minDelta', options.minDelta ?? 1e-4);
    this.cooldown = nonNegativeInteger(PLATEAU, 'cooldown', options.cooldown ?? 0);
    this.minLr = nonNegative(PLATEAU, 'minLr', options.minLr ?? 0);
    this.reader = new MonitorReader(
      (available) =>
        `${PLATEAU}: learning rate reduction is conditioned on metric '${this.monitor}', which is not available; available metrics are: ${available}`,
      this.monitor,
    );
    this.reset();
  }

  /** Resets the state and checks that the optimizer's learning rate is a number it can set. */
  onTrainBegin(): void {
    settableOptimizer(PLATEAU, this.model);
    this.reset();
  }

  /**
   * Lowers the rate when the monitored value has not improved for `patience` epochs; adds
   * `learning_rate` to the logs.
   */
  onEpochEnd(epoch: number, logs?: Logs): void {
    const optimizer = settableOptimizer(PLATEAU, this.model);
    if (logs) logs.learning_rate = optimizer.currentLearningRate();
    const current = this.reader.read(logs);
    if (current === undefined) return;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.wait = 0;
    }
    if (this.improves(current)) {
      this.best = current;
      this.wait = 0;
      return;
    }
    if (this.cooldownCounter > 0) return;
    this.wait += 1;
    if (this.wait < this.patience) return;
    const oldLr = optimizer.learningRate as number;
    if (oldLr > this.minLr) {
      const newLr = Math.max(oldLr * this.factor, this.minLr);
      optimizer.learningRate = newLr;
      if (this.verbose > 0) printMessage(`Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${lrText(newLr)}.`);
      this.cooldownCounter = this.cooldown;
      this.wait = 0;
    }
  }

  private improves(current: number): boolean {
    return this.mode === 'min' ? current < this.best - this.minDelta : current > this.best + this.minDelta;
  }

  private reset(): void {
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.cooldownCounter = 0;
    this.wait = 0;
  }
}
