import { CsvLogger, type CsvLoggerOptions } from './csv-logger.js';
import { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
import { LambdaCallback, type LambdaCallbackOptions } from './lambda-callback.js';
import { LearningRateScheduler, ReduceLROnPlateau, type EpochSchedule, type LearningRateSchedulerOptions, type ReduceLROnPlateauOptions } from './lr-scheduler.js';
import { ModelCheckpoint, type ModelCheckpointOptions } from './model-checkpoint.js';
import { ProgressBar, type ProgressBarOptions } from './progress-bar.js';

export { BaseCallback, HOOKS, type Callback, type CallbackModel, type HookName, type Logs, type TrainingParams } from './callback.js';
export { CallbackList, type CallbackListOptions } from './callback-list.js';
export { History } from './history.js';
export { EarlyStopping, ModelCheckpoint, LearningRateScheduler, ReduceLROnPlateau, CsvLogger, ProgressBar, LambdaCallback };
export type {
  EarlyStoppingOptions, ModelCheckpointOptions, EpochSchedule, LearningRateSchedulerOptions, ReduceLROnPlateauOptions,
  CsvLoggerOptions, ProgressBarOptions, LambdaCallbackOptions,
};
export type { ProgressStream } from './progress-bar.js';
export type { MonitorMode } from './monitor.js';
export { printMessage, printWarning, formatLogValue } from './output.js';
export { formatPlaceholders } from './format-placeholders.js';

/** `st.callbacks.*`: factories with Keras's names and defaults, options in camelCase. */
export const callbacks = {
  earlyStopping: (options?: EarlyStoppingOptions) => new EarlyStopping(options),
  modelCheckpoint: (options: ModelCheckpointOptions) => new ModelCheckpoint(options),
  learningRateScheduler: (schedule: EpochSchedule, options?: LearningRateSchedulerOptions) => new LearningRateScheduler(schedule, options),
  reduceLROnPlateau: (options?: ReduceLROnPlateauOptions) => new ReduceLROnPlateau(options),
  csvLogger: (options: CsvLoggerOptions) => new CsvLogger(options),
  progressBar: (options?: ProgressBarOptions) => new ProgressBar(options),
  lambdaCallback: (options?: LambdaCallbackOptions) => new LambdaCallback(options),
};
