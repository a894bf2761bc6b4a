import { CsvLogger, type CsvLoggerOptions } from './csv-logger.js';
import { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
import { LambdaCallback, type LambdaCallbackOptions } from './lambda-callback.js';
import {
  LearningRateScheduler,
  ReduceLROnPlateau,
  type EpochSchedule,
  type LearningRateSchedulerOptions,
  type ReduceLROnPlateauOptions,
} from './lr-scheduler.js';
import { ModelCheckpoint, type ModelCheckpointOptions } from './model-checkpoint.js';
import { ProgressBar, type ProgressBarOptions } from './progress-bar.js';

export { BaseCallback, HOOKS, type Callback, type CallbackModel, type HookName, type Logs, type TrainingParams } from './callback.js';
export { CallbackList, type CallbackListOptions } from './callback-list.js';
export { History } from './history.js';
export { EarlyStopping, ModelCheckpoint, LearningRateScheduler, ReduceLROnPlateau, CsvLogger, ProgressBar, LambdaCallback };
export type {
  EarlyStoppingOptions,
  ModelCheckpointOptions,
  EpochSchedule,
  LearningRateSchedulerOptions,
  ReduceLROnPlateauOptions,
  CsvLoggerOptions,
  ProgressBarOptions,
  LambdaCallbackOptions,
};
export type { ProgressStream } from './progress-bar.js';
export type { MonitorMode } from './monitor.js';
export { printMessage, printWarning, formatLogValue } from './output.js';
export { formatPlaceholders } from './format-placeholders.js';

/**
 * `st.callbacks.*`: factories of the built-in callbacks, with Keras's names and defaults and
 * options in camelCase. Pass them to `fit({callbacks})` or `evaluate({callbacks})`.
 * @namespace
 */
export const callbacks = {
  /**
   * Stops training when a monitored quantity ('val_loss' by default) stops improving (Keras's
   * EarlyStopping), optionally restoring the best epoch's weights.
   * @example
   * ```ts
   * const stop = st.callbacks.earlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true });
   * ```
   */
  earlyStopping: (options?: EarlyStoppingOptions) => new EarlyStopping(options),
  /**
   * Saves the model every epoch (or every N batches, or on improvement) to a folder whose name may
   * hold placeholders such as `{epoch:02d}` (Keras's ModelCheckpoint).
   */
  modelCheckpoint: (options: ModelCheckpointOptions) => new ModelCheckpoint(options),
  /**
   * Sets the learning rate at each epoch's start to `schedule(epoch, rate)` (Keras's
   * LearningRateScheduler). The optimizer's learning rate must be a number, not a schedule.
   */
  learningRateScheduler: (schedule: EpochSchedule, options?: LearningRateSchedulerOptions) => new LearningRateScheduler(schedule, options),
  /**
   * Multiplies the learning rate by `factor` when a monitored quantity stops improving (Keras's
   * ReduceLROnPlateau).
   */
  reduceLROnPlateau: (options?: ReduceLROnPlateauOptions) => new ReduceLROnPlateau(options),
  /** Writes one CSV row of logs per epoch (Keras's CSVLogger). */
  csvLogger: (options: CsvLoggerOptions) => new CsvLogger(options),
  /** The progress display fit shows with `verbose` 1 or 2 (Keras's ProgbarLogger), for other streams. */
  progressBar: (options?: ProgressBarOptions) => new ProgressBar(options),
  /**
   * A callback made of the hook functions given (Keras's LambdaCallback).
   * @example
   * ```ts
   * const log = st.callbacks.lambdaCallback({ onEpochEnd: (epoch, logs) => console.log(epoch, logs?.loss) });
   * ```
   */
  lambdaCallback: (options?: LambdaCallbackOptions) => new LambdaCallback(options),
};
