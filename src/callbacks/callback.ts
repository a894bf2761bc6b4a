import { ValueError } from '../core/errors.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';

/** Named numbers a hook receives: `loss`, metrics, `val_*`, and what callbacks add (`learning_rate`). */
export type Logs = Record<string, number>;

/** What the trainer tells callbacks about the run (Keras's `params`). */
export interface TrainingParams {
  /** The number of epochs `fit` runs (its `epochs` option). */
  epochs: number;
  /** Batches per epoch. */
  steps: number;
  /** The number of training samples (NaN when the data is a Dataset). */
  samples: number;
  /** The verbosity `fit` was given. */
  verbose: 0 | 1 | 2;
  /** The batch size. */
  batchSize: number;
}

/** What callbacks may touch on the model (the real Model class satisfies this). */
export interface CallbackModel {
  /**
   * Set to end training at the end of the current step: by a callback, or from outside while fit
   * runs (a Stop button's handler; fit lets the event loop run every 16 ms or so).
   */
  stopTraining: boolean;
  /** Copies of the weights, in Keras order. */
  getWeights(): Tensor[];
  /** Replaces the weights (same order and shapes as getWeights). */
  setWeights(weights: readonly Tensor[]): void;
  /** Saves the model to a folder (see `Model.save`). */
  save(path: string): Promise<void>;
  /** The compiled optimizer (null before compile), e.g. to change its learning rate. */
  readonly optimizer: Optimizer | null;
}

/** @inline */
type HookResult = void | Promise<void>;

/**
 * A training callback: any object with some of these methods. Every hook is optional and may be
 * async; `onBatchBegin`/`onBatchEnd` are training batches (Keras's on_train_batch_*).
 */
export interface Callback {
  /** Receives the model before training starts. */
  setModel?(model: CallbackModel): void;
  /** Receives the run's parameters before training starts. */
  setParams?(params: TrainingParams): void;
  /** Called once when `fit` starts. */
  onTrainBegin?(logs?: Logs): HookResult;
  /** Called once when `fit` ends, with the last epoch's logs. */
  onTrainEnd?(logs?: Logs): HookResult;
  /** Called before each epoch (counted from 0). */
  onEpochBegin?(epoch: number, logs?: Logs): HookResult;
  /** Called after each epoch with its logs: loss, metrics and, with validation, `val_` ones. */
  onEpochEnd?(epoch: number, logs?: Logs): HookResult;
  /** Called before each training batch (counted from 0 in the epoch). */
  onBatchBegin?(batch: number, logs?: Logs): HookResult;
  /** Called after each training batch with the epoch's running loss and metrics. */
  onBatchEnd?(batch: number, logs?: Logs): HookResult;
  /**
   * Whether this batch's `onBatchEnd` / `onTestBatchEnd` needs fresh logs. Reading them makes the
   * backend finish the step first (a GPU pipeline stalls), so a callback that uses them only now
   * and then (a log line every N batches, a timer) says so here; on other batches it is handed
   * the last logs read, which may be older or empty. Without this method every batch reads.
   */
  wantsLogs?(batch: number): boolean;
  /** Called when `evaluate` (or fit's validation) starts. */
  onTestBegin?(logs?: Logs): HookResult;
  /** Called when `evaluate` (or fit's validation) ends, with its results. */
  onTestEnd?(logs?: Logs): HookResult;
  /** Called before each evaluation batch. */
  onTestBatchBegin?(batch: number, logs?: Logs): HookResult;
  /** Called after each evaluation batch. */
  onTestBatchEnd?(batch: number, logs?: Logs): HookResult;
  /** Called when `predict` starts. */
  onPredictBegin?(logs?: Logs): HookResult;
  /** Called when `predict` ends. */
  onPredictEnd?(logs?: Logs): HookResult;
  /** Called before each prediction batch. */
  onPredictBatchBegin?(batch: number, logs?: Logs): HookResult;
  /** Called after each prediction batch. */
  onPredictBatchEnd?(batch: number, logs?: Logs): HookResult;
}

/** Hooks that receive only logs. */
export const PHASE_HOOKS = ['onTrainBegin', 'onTrainEnd', 'onTestBegin', 'onTestEnd', 'onPredictBegin', 'onPredictEnd'] as const;
/** Hooks that receive an epoch or batch index, then logs. */
export const INDEXED_HOOKS = [
  'onEpochBegin',
  'onEpochEnd',
  'onBatchBegin',
  'onBatchEnd',
  'onTestBatchBegin',
  'onTestBatchEnd',
  'onPredictBatchBegin',
  'onPredictBatchEnd',
] as const;
export const HOOKS = [...PHASE_HOOKS, ...INDEXED_HOOKS] as const;

export type PhaseHook = (typeof PHASE_HOOKS)[number];
export type IndexedHook = (typeof INDEXED_HOOKS)[number];
export type HookName = PhaseHook | IndexedHook;

/**
 * A base class for callbacks that need the model or the run's parameters: the list hands them
 * over before training starts, and using them earlier is a clear error rather than undefined.
 */
export abstract class BaseCallback implements Callback {
  private boundModel: CallbackModel | undefined;
  private boundParams: TrainingParams | undefined;

  /** Receives the model before training starts. */
  setModel(model: CallbackModel): void {
    this.boundModel = model;
  }

  /** Receives the run's parameters before training starts. */
  setParams(params: TrainingParams): void {
    this.boundParams = params;
  }

  /**
   * The model being trained.
   * @throws ValueError before the callback was given to fit (or setModel was called).
   */
  get model(): CallbackModel {
    if (!this.boundModel) throw new ValueError(`${this.constructor.name}: no model is set; pass the callback to model.fit (or call setModel) first`);
    return this.boundModel;
  }

  /** The run's parameters, once training started. */
  get params(): TrainingParams | undefined {
    return this.boundParams;
  }
}
