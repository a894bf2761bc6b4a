import { ValueError } from '../core/errors.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';

/** Named numbers a hook receives: `loss`, metrics, `val_*`, and what callbacks add (`learning_rate`). */
export type Logs = Record<string, number>;

/** What the trainer tells callbacks about the run (Keras's `params`). */
export interface TrainingParams {
  epochs: number;
  /** Batches per epoch. */
  steps: number;
  samples: number;
  verbose: 0 | 1 | 2;
  batchSize: number;
}

/** What callbacks may touch on the model (the real Model class satisfies this). */
export interface CallbackModel {
  /** Set by a callback to end training after the current epoch. */
  stopTraining: boolean;
  /** Copies of the weights, in Keras order. */
  getWeights(): Tensor[];
  setWeights(weights: readonly Tensor[]): void;
  save(path: string): Promise<void>;
  readonly optimizer: Optimizer | null;
}

type HookResult = void | Promise<void>;

/**
 * A training callback: any object with some of these methods. Every hook is optional and may be
 * async; `onBatchBegin`/`onBatchEnd` are training batches (Keras's on_train_batch_*).
 */
export interface Callback {
  setModel?(model: CallbackModel): void;
  setParams?(params: TrainingParams): void;
  onTrainBegin?(logs?: Logs): HookResult;
  onTrainEnd?(logs?: Logs): HookResult;
  onEpochBegin?(epoch: number, logs?: Logs): HookResult;
  onEpochEnd?(epoch: number, logs?: Logs): HookResult;
  onBatchBegin?(batch: number, logs?: Logs): HookResult;
  onBatchEnd?(batch: number, logs?: Logs): HookResult;
  onTestBegin?(logs?: Logs): HookResult;
  onTestEnd?(logs?: Logs): HookResult;
  onTestBatchBegin?(batch: number, logs?: Logs): HookResult;
  onTestBatchEnd?(batch: number, logs?: Logs): HookResult;
  onPredictBegin?(logs?: Logs): HookResult;
  onPredictEnd?(logs?: Logs): HookResult;
  onPredictBatchBegin?(batch: number, logs?: Logs): HookResult;
  onPredictBatchEnd?(batch: number, logs?: Logs): HookResult;
}

/** Hooks that receive only logs. */
export const PHASE_HOOKS = ['onTrainBegin', 'onTrainEnd', 'onTestBegin', 'onTestEnd', 'onPredictBegin', 'onPredictEnd'] as const;
/** Hooks that receive an epoch or batch index, then logs. */
export const INDEXED_HOOKS = [
  'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd',
  'onTestBatchBegin', 'onTestBatchEnd', 'onPredictBatchBegin', 'onPredictBatchEnd',
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

  setModel(model: CallbackModel): void {
    this.boundModel = model;
  }

  setParams(params: TrainingParams): void {
    this.boundParams = params;
  }

  get model(): CallbackModel {
    if (!this.boundModel) throw new ValueError(`${this.constructor.name}: no model is set; pass the callback to model.fit (or call setModel) first`);
    return this.boundModel;
  }

  get params(): TrainingParams | undefined {
    return this.boundParams;
  }
}
