// The option types of compile, fit, evaluate, predict and the batch methods (Keras's
// arguments), apart from the trainer that reads them.
import type { Callback } from '../callbacks/callback.js';
import type { MetricIdentifier } from '../metrics/index.js';
import type { LossIdentifier } from '../ops/losses.js';
import type { TensorInput } from '../ops/operand.js';
import type { OptimizerName } from '../optimizers/index.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { RngState } from '../core/rng.js';
import type { XInput, YInput } from './data-adapter.js';
import type { ClassWeight } from './sample-weights.js';
import type { Dataset } from '../data/dataset.js';

/** A per-output option: one value for every output, a list in output order, or a record by output layer name. */
export type PerOutput<T> = T | T[] | Record<string, T>;

/** The arguments of `model.compile` (Keras's compile). */
export interface CompileArgs {
  /** An optimizer object, or a name with Keras's defaults ('sgd', 'rmsprop', 'adam', ...); default 'rmsprop'. */
  optimizer?: OptimizerName | Optimizer;
  /** One loss, or one per output (a list in output order or a record by output layer name). */
  loss: PerOutput<LossIdentifier>;
  /** Metric names, objects or functions; for several outputs, a list per output or a record by output name. */
  metrics?: MetricIdentifier[] | MetricIdentifier[][] | Record<string, MetricIdentifier[]>;
  /**
   * Metrics that receive the sample (or class) weights, as Keras's weighted_metrics; plain
   * `metrics` ignore them. Same forms as `metrics`. A name already used by `metrics` is logged
   * with a 'weighted_' prefix.
   */
  weightedMetrics?: MetricIdentifier[] | MetricIdentifier[][] | Record<string, MetricIdentifier[]>;
  /** Weights of the per-output losses in the total (default 1 each). */
  lossWeights?: number[] | Record<string, number>;
}

/** fit's `distributed` option: true, or the settings of data-parallel training. */
export type DistributedOption =
  | boolean
  | {
      /** Bytes of gradients per allreduce (Note [Gradient buckets]); default 25 MiB, as PyTorch's DDP. */
      bucketBytes?: number;
    };

/** The options of `model.fit` (Keras's fit arguments). */
export interface FitArgs {
  /** How many passes over the training data (default 1). */
  epochs?: number;
  /** Samples per gradient step (default 32; with arrays; a Dataset batches itself). */
  batchSize?: number;
  /** The last fraction of the samples (taken before shuffling) held out for validation, as Keras. */
  validationSplit?: number;
  /** Held-out data: [x, y], [x, y, sampleWeight], {x, y, sampleWeight?} or a Dataset of batches. */
  validationData?:
    | [XInput, YInput]
    | [XInput, YInput, TensorInput]
    | {
        /** The validation inputs. */
        x: XInput;
        /** The validation targets. */
        y: YInput;
        /** One weight per validation sample. */
        sampleWeight?: TensorInput;
      }
    | Dataset<unknown>;
  /** With a Dataset: batches per epoch (needed when it repeats forever); epochs continue one iterator. */
  stepsPerEpoch?: number;
  /** Samples per batch when validating (default: batchSize). */
  validationBatchSize?: number;
  /** Shuffle the training samples every epoch (from the global seeded stream; st.setSeed). */
  shuffle?: boolean;
  /** Objects with hooks called during training (st.callbacks.* or your own); a History and, at verbose > 0, a progress bar are added. */
  callbacks?: Callback[];
  /** 0 silent, 1 a progress bar (plain lines when not a terminal), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** The epoch to start at (for resuming); epochs counts from 0, as Keras. */
  initialEpoch?: number;
  /** 'error' (default) stops with an error naming epoch and batch when the loss is not finite. */
  onNonFinite?: 'error' | 'continue';
  /** Continue an interrupted run exactly where it stopped (a `model.trainingPosition` saved with a checkpoint). */
  resumeFrom?: TrainingPosition;
  /**
   * Train data-parallel in every process of an MPI job, after `await st.distributed.init()`
   * (docs/distributed.md): batchSize is per rank, each step trains on one global batch of
   * size × batchSize samples, gradients are averaged over the ranks, and the epoch logs are the
   * job's. Only rank 0 draws a progress bar; callbacks run on every rank (give a checkpoint
   * callback to rank 0 only).
   */
  distributed?: DistributedOption;
  /**
   * One weight per training sample ([samples]; [samples, T] for per-timestep losses): shuffled and
   * batched with x and y and cut by validationSplit like them. The loss of a batch is
   * sum(loss_i * w_i) / batchSize (Keras); weightedMetrics see the weights too.
   */
  sampleWeight?: TensorInput;
  /**
   * Weights by class index ({0: 1, 1: 5}): each training sample weighs as its label's class (the
   * argmax of a one-hot row, else the integer label); missing classes weigh 1. Single-output
   * models only; not together with sampleWeight (Keras refuses both). Validation is unweighted.
   */
  classWeight?: ClassWeight;
}

// Note [Exact resume]
/**
 * Where a fit stands after a batch: the next epoch and batch to run, and the random stream's
 * state at the start of that epoch (to draw the same shuffle) and now (for dropout). Resuming
 * from it with the same weights and optimizer state replays the uninterrupted run exactly.
 */
export interface TrainingPosition {
  /** The epoch to run next (from 0). */
  epoch: number;
  /** The batch of that epoch to run next (0 when the epoch starts afresh). */
  batch: number;
  /** The random stream at the start of that epoch: redrawing the epoch's shuffle from it gives the same order. */
  rngAtEpochStart: RngState;
  /** The random stream now, from which dropout and other draws continue. */
  rng: RngState;
  /** Set when fit stopped inside an epoch: what that epoch had accumulated, so a resumed fit logs the whole epoch. */
  epochSoFar?: EpochSoFar;
}

/** The running sums of a stopped epoch: its samples, its loss sums and each metric's state (Metric.getState). */
export interface EpochSoFar {
  /** The samples the epoch has trained on so far. */
  seen: number;
  /** The total loss summed over the samples, then each output's when the model has several. */
  lossSums: number[];
  /** One state per metric, in the order the logs list them. */
  metrics: number[][];
}

/** The options of `model.evaluate`. */
export interface EvaluateArgs {
  /** Samples per batch (default 32). */
  batchSize?: number;
  /** 1 (default): a progress bar over the batches, then one line with the results, as Keras; 0 silent. */
  verbose?: 0 | 1;
  /** Objects with test hooks (onTestBegin, onTestBatchEnd, onTestEnd). */
  callbacks?: Callback[];
  /** One weight per sample: the loss becomes sum(loss_i * w_i) / samples and weightedMetrics are weighted. */
  sampleWeight?: TensorInput;
}

/** Options of trainOnBatch (Keras's train_on_batch arguments). */
export interface TrainOnBatchArgs {
  /** One weight per sample of the batch, as in fit. */
  sampleWeight?: TensorInput;
  /** Weights by class index, as in fit; not together with sampleWeight. */
  classWeight?: ClassWeight;
}

/** Options of testOnBatch. */
export interface TestOnBatchArgs {
  /** One weight per sample of the batch, as in evaluate. */
  sampleWeight?: TensorInput;
}

/** The options of `model.predict`. */
export interface PredictArgs {
  /** Samples per batch (default 32); outputs are joined along the batch axis. */
  batchSize?: number;
}
