// The one trainer (Keras's Trainer) behind compile/fit/evaluate/predict, in three parts:
//   fit-data.ts    data adaptation: arrays or a Dataset, validation split or data, weights
//   epoch-loop.ts  the epoch loop: callbacks, validation, checkpoint positions, exact resume
//   train-step.ts  the step: compile's losses and metrics, forward, loss, gradients, update
// This file checks the remaining options and joins the parts.

import { CallbackList } from '../callbacks/callback-list.js';
import type { Logs, TrainingParams } from '../callbacks/callback.js';
import type { History } from '../callbacks/history.js';
import { ValueError, fmtValue } from '../core/errors.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import type { Dataset } from '../data/dataset.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { concat } from '../ops/shape-ops.js';
import { noGrad } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { DatasetEpochs, isDataset, type Batch } from './batch-source.js';
import { DistributedFit } from './distributed-fit.js';
import { ArrayData, checkBatchSize, toTensorList, type XInput, type YInput } from './data-adapter.js';
import { evaluatePass, runEpochs, Yielder } from './epoch-loop.js';
import { adaptArrays, adaptFitData, checkDatasetBatch, validationBatches, type BatchSource } from './fit-data.js';
import { RunningLosses } from './running-losses.js';
import { classWeightsToSampleWeights, classWeightTable } from './sample-weights.js';
import { disposeAllBut, TrainStep, type TrainableModel } from './train-step.js';
import type { CompileArgs, EvaluateArgs, FitArgs, PredictArgs, TestOnBatchArgs, TrainingPosition, TrainOnBatchArgs } from './training-args.js';

export type { XInput, YInput } from './data-adapter.js';
export type { ClassWeight } from './sample-weights.js';
export type { History } from '../callbacks/history.js';
export type { TrainableModel } from './train-step.js';
export type { CompileArgs, FitArgs, TrainingPosition, EvaluateArgs, TrainOnBatchArgs, TestOnBatchArgs, PredictArgs } from './training-args.js';

const FIT_KEYS = [
  'stepsPerEpoch',
  'epochs',
  'batchSize',
  'validationSplit',
  'validationData',
  'validationBatchSize',
  'shuffle',
  'callbacks',
  'verbose',
  'initialEpoch',
  'onNonFinite',
  'resumeFrom',
  'sampleWeight',
  'classWeight',
  'distributed',
];

/**
 * What compile() makes of a model: fit, evaluate and the per-batch calls with its losses,
 * metrics and optimizer. Every backend runs the same code; a step disposes its activations and
 * gradients as soon as the update is applied.
 */
export class Trainer {
  /** Updated after every training batch; see TrainingPosition. */
  position: TrainingPosition | null = null;
  private readonly step: TrainStep;

  constructor(
    private readonly model: TrainableModel,
    args: CompileArgs,
  ) {
    this.step = new TrainStep(model, args);
  }

  get optimizer(): Optimizer {
    return this.step.optimizer;
  }

  /** Serializable compile arguments (model.json's trainingConfig); custom functions are stored by name. */
  getConfig(): Record<string, unknown> {
    return this.step.getConfig();
  }

  async fit(x: XInput | Dataset<unknown>, y: YInput | undefined, args: FitArgs): Promise<History> {
    checkKeys('fit', args, FIT_KEYS);
    const epochs = args.epochs ?? 1;
    if (!Number.isInteger(epochs) || epochs < 0)
      throw new ValueError(`fit: epochs must be a non-negative integer; received ${fmtValue(args.epochs)}`);
    const resume = args.resumeFrom;
    const initialEpoch = resume ? resume.epoch : (args.initialEpoch ?? 0);
    if (!Number.isInteger(initialEpoch) || initialEpoch < 0)
      throw new ValueError(`fit: initialEpoch must be a non-negative integer; received ${fmtValue(args.initialEpoch)}`);
    const batchSize = checkBatchSize('fit', args.batchSize ?? 32);
    const validationBatchSize = checkBatchSize('fit', args.validationBatchSize ?? batchSize);
    let verbose = Number(checkOneOf('fit', 'verbose', String(args.verbose ?? 1), ['0', '1', '2'] as const)) as 0 | 1 | 2;
    const onNonFinite = checkOneOf('fit', 'onNonFinite', args.onNonFinite ?? 'error', ['error', 'continue'] as const);
    // Data-parallel over an MPI job: only rank 0 draws progress (Note [One global batch, split by rank]).
    const distributed = args.distributed ? new DistributedFit(this.model, args.distributed) : undefined;
    if (distributed && distributed.rank !== 0) verbose = 0;
    const data = await adaptFitData(this.model, this.step.outputs, x, y, args);

    const train = data.train;
    const steps = distributed ? distributed.steps(train, batchSize) : train instanceof ArrayData ? train.batchCount(batchSize) : (train.steps ?? NaN);
    const params: TrainingParams = { epochs, steps, samples: train instanceof ArrayData ? train.size : NaN, verbose, batchSize };
    const callbacks = new CallbackList(args.callbacks ?? [], this.model, params, { addHistory: true, addProgressBar: true });
    const options = { epochs, initialEpoch, batchSize, validationBatchSize, shuffle: args.shuffle ?? true, onNonFinite, resume, distributed };
    await distributed?.synchronize();
    await runEpochs(this.step, data, options, callbacks, (p) => void (this.position = p));
    return callbacks.history!;
  }

  async evaluate(x: XInput | Dataset<unknown>, y: YInput | undefined, args: EvaluateArgs): Promise<Logs> {
    checkKeys('evaluate', args, ['batchSize', 'verbose', 'callbacks', 'sampleWeight']);
    const batchSize = checkBatchSize('evaluate', args.batchSize ?? 32);
    const verbose = Number(checkOneOf('evaluate', 'verbose', String(args.verbose ?? 1), ['0', '1'] as const)) as 0 | 1;
    let source: BatchSource;
    if (isDataset(x)) {
      if (y !== undefined) throw new ValueError('evaluate: a Dataset already holds the targets; call evaluate(dataset, options)');
      if (args.sampleWeight !== undefined)
        throw new ValueError(
          'evaluate: with a Dataset, sample weights come from its elements ([x, y, sampleWeight] or {xs, ys, sampleWeight}); received the sampleWeight option',
        );
      source = new DatasetEpochs('evaluate', x, undefined);
    } else {
      if (y === undefined) throw new ValueError('evaluate: targets y are required with array inputs');
      source = await adaptArrays('evaluate', this.model, this.step.outputs, x, y, args.sampleWeight);
      if (source.size === 0) throw new ValueError('evaluate: no samples');
    }
    // The test hooks (onTestBegin, onTestBatchEnd with running logs, onTestEnd), as Keras's
    // evaluate; at verbose 1 a progress bar follows them (it draws test progress outside fit only).
    const steps = source instanceof ArrayData ? source.batchCount(batchSize) : (source.steps ?? NaN);
    const params: TrainingParams = { epochs: 1, steps, samples: source instanceof ArrayData ? source.size : NaN, verbose, batchSize };
    const callbacks = args.callbacks || verbose ? new CallbackList(args.callbacks ?? [], this.model, params, { addProgressBar: true }) : undefined;
    const check =
      source instanceof ArrayData
        ? undefined
        : (batch: Batch, first: boolean) => checkDatasetBatch('evaluate', this.model, this.step.outputs, batch, first);
    return evaluatePass(this.step, validationBatches(source, batchSize), callbacks, new Yielder(), check);
  }

  /** One optimizer step on one batch, optionally weighted (Keras's train_on_batch). */
  async trainOnBatch(x: XInput, y: YInput, args: TrainOnBatchArgs = {}): Promise<Logs> {
    checkKeys('trainOnBatch', args, ['sampleWeight', 'classWeight']);
    const classTable = args.classWeight === undefined ? undefined : classWeightTable('trainOnBatch', args.classWeight);
    if (classTable && args.sampleWeight !== undefined) throw new ValueError('trainOnBatch: give sampleWeight or classWeight, not both (as Keras)');
    if (classTable && this.step.outputs.length > 1)
      throw new ValueError(`trainOnBatch: classWeight needs a single-output model; this one has ${this.step.outputs.length} outputs`);
    const data = await adaptArrays('trainOnBatch', this.model, this.step.outputs, x, y, args.sampleWeight);
    const weights = classTable ? await classWeightsToSampleWeights('trainOnBatch (classWeight)', data.ys[0], classTable) : data.weights;
    this.step.resetMetrics();
    const losses = new RunningLosses(this.step.outputs.length > 1 ? this.step.outputs.length + 1 : 1);
    losses.add(this.step.train(data.xs, data.ys, weights), data.size, 0);
    await losses.settle();
    await this.step.settleMetrics();
    return this.step.logs(...losses.means());
  }

  /** Loss and metrics of one batch in inference mode, optionally weighted (Keras's test_on_batch). */
  testOnBatch(x: XInput, y: YInput, args: TestOnBatchArgs = {}): Promise<Logs> {
    checkKeys('testOnBatch', args, ['sampleWeight']);
    return this.evaluate(x, y, { batchSize: Number.MAX_SAFE_INTEGER, verbose: 0, sampleWeight: args.sampleWeight });
  }

  /** Inference in batches, outputs joined along the batch axis; needs no compile. */
  static predict(model: TrainableModel, x: XInput, args: PredictArgs): Tensor | Tensor[] {
    checkKeys('predict', args, ['batchSize']);
    const batchSize = checkBatchSize('predict', args.batchSize ?? 32);
    const xs = toTensorList('predict', 'x', x);
    const data = new ArrayData('predict', xs, []);
    const pieces: Tensor[][] = [];
    let listOutput = false;
    noGrad(() => {
      for (let b = 0; b < data.batchCount(batchSize); b++) {
        const batch = data.batch(b, batchSize);
        const out = model.apply(model.inputs.length > 1 || xs.length > 1 ? batch.xs : batch.xs[0], { training: false }) as Tensor | Tensor[];
        listOutput = Array.isArray(out);
        const outs = Array.isArray(out) ? out : [out];
        pieces.push(outs);
        if (batch.xs !== xs) disposeAllBut(batch.xs, outs);
        // The batch's activations are garbage now: a loop of predicts (an imported MobileNetV2
        // leaves 86 MB per image) would otherwise take fresh memory every call until V8 happens
        // to collect, about 25x slower (Note [Collecting dead tensors between steps]).
        outs[0]?.backend.afterBackward?.();
      }
    });
    if (pieces.length === 0) throw new ValueError('predict: x has no samples');
    const joined = pieces[0].map((_, i) =>
      pieces.length === 1
        ? pieces[0][i]
        : concat(
            pieces.map((p) => p[i]),
            0,
          ),
    );
    if (pieces.length > 1) disposeAllBut(pieces.flat(), xs);
    // A model built with a list of outputs answers with a list, even of one tensor (Keras).
    return listOutput ? joined : joined[0];
  }
}
