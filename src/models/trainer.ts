import { backpropagate } from '../autograd/backward.js';
import { disposeGraph } from '../autograd/release.js';
import { noGrad } from '../tensor/tape.js';
import { CallbackList } from '../callbacks/callback-list.js';
import type { CallbackModel, Logs, TrainingParams } from '../callbacks/callback.js';
import type { History } from '../callbacks/history.js';
import { ValueError, fmtValue } from '../core/errors.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import { getRngState, randomPermutation, setRngState } from '../core/rng.js';
import { getMetric, RenamedMetric, type Metric, type MetricIdentifier } from '../metrics/index.js';
import { add, mul } from '../ops/elementwise.js';
import { getLoss, sparseCategoricalCrossentropy, type LossFunction } from '../ops/losses.js';
import { concat } from '../ops/shape-ops.js';
import { getOptimizer } from '../optimizers/index.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { TensorInput } from '../ops/operand.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArrayData, assertFinite, checkBatchSize, checkSparseLabels, toTensorList, type XInput, type YInput } from './data-adapter.js';
import { checkSampleWeight, classWeightsToSampleWeights, classWeightTable, weightedLoss } from './sample-weights.js';
import { arrayBatches, DatasetEpochs, isDataset, type Batch } from './batch-source.js';
import type { Dataset } from '../data/dataset.js';
import type { Layer } from '../nn/layer.js';
import type { SymbolicTensor } from '../nn/symbolic.js';
import type { CompileArgs, EpochSoFar, EvaluateArgs, FitArgs, PerOutput, PredictArgs, TestOnBatchArgs, TrainingPosition, TrainOnBatchArgs } from './training-args.js';

export type { XInput, YInput } from './data-adapter.js';
export type { ClassWeight } from './sample-weights.js';
export type { History } from '../callbacks/history.js';

export type { CompileArgs, FitArgs, TrainingPosition, EvaluateArgs, TrainOnBatchArgs, TestOnBatchArgs, PredictArgs } from './training-args.js';

/** The batches of one pass over evaluation data, unshuffled. */
function validationBatches(source: ArrayData | DatasetEpochs, batchSize: number): Iterable<Batch> | AsyncIterable<Batch> {
  return source instanceof ArrayData ? arrayBatches(source, batchSize, undefined, 0) : source.epoch();
}

/**
 * What the trainer needs of a model (Model satisfies it). Named here, not imported from
 * model.ts, so the trainer sits below the model that owns it: model.ts imports trainer.ts, never
 * the other way round.
 */
export type TrainableModel = Layer & CallbackModel & {
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
};

const FIT_KEYS = ['stepsPerEpoch', 'epochs', 'batchSize', 'validationSplit', 'validationData', 'validationBatchSize', 'shuffle', 'callbacks', 'verbose', 'initialEpoch', 'onNonFinite', 'resumeFrom', 'sampleWeight', 'classWeight'];

interface OutputSpec {
  /** The output layer's name; the prefix of its log keys when the model has several outputs. */
  name: string;
  loss: LossFunction;
  /** The unreduced loss, for sample weights. */
  perSampleLoss: LossFunction;
  lossName: string;
  weight: number;
  metrics: Metric[];
  /** Metrics fed the sample weights (compile's weightedMetrics). */
  weightedMetrics: Metric[];
  /** The built-in sparseCategoricalCrossentropy: its labels are checked and made int32 once (checkSparseLabels). */
  sparseLabels: boolean;
}

/** Reads a per-output option: one value for all, a list in output order, or a record by name. */
function perOutput<T>(what: string, value: PerOutput<T> | undefined, names: string[], fallback: T | undefined, isSingle: (v: unknown) => boolean): (T | undefined)[] {
  if (value === undefined) return names.map(() => fallback);
  if (isSingle(value)) return names.map(() => value as T);
  if (Array.isArray(value)) {
    if (value.length !== names.length) throw new ValueError(`compile: ${what} has ${value.length} entries but the model has ${names.length} outputs (${names.join(', ')})`);
    return value;
  }
  const rec = value as Record<string, T>;
  const unknown = Object.keys(rec).filter((k) => !names.includes(k));
  if (unknown.length) throw new ValueError(`compile: ${what} names unknown outputs ${unknown.join(', ')}; outputs are ${names.join(', ')}`);
  return names.map((n) => rec[n] ?? fallback);
}

/** Disposes `tensors` except those in `keep` (and each at most once). */
function disposeAllBut(tensors: readonly Tensor[], keep: readonly Tensor[]): void {
  const kept = new Set(keep);
  for (const t of new Set(tensors)) if (!kept.has(t)) t.dispose();
}

/** Lets the event loop run (timers for the progress bar, SIGINT) every so often in a long loop. */
class Yielder {
  private last = performance.now();
  async maybeYield(): Promise<void> {
    if (performance.now() - this.last < 100) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.last = performance.now();
  }
}

/**
 * The one training loop (Keras's Trainer): batching, the step (forward, loss, backward,
 * optimizer update), metrics, validation and callbacks. Every backend runs the same code; a
 * step disposes its activations and gradients as soon as the update is applied.
 */
export class Trainer {
  readonly optimizer: Optimizer;
  /** Updated after every training batch; see TrainingPosition. */
  position: TrainingPosition | null = null;
  private readonly outputs: OutputSpec[];

  constructor(private readonly model: TrainableModel, args: CompileArgs) {
    checkKeys('compile', args, ['optimizer', 'loss', 'metrics', 'lossWeights', 'weightedMetrics']);
    if (args.loss === undefined) throw new ValueError(`compile: a loss is required, e.g. loss: 'sparseCategoricalCrossentropy'`);
    this.optimizer = getOptimizer(args.optimizer ?? 'rmsprop');
    const names = this.outputNames();
    const isLoss = (v: unknown) => typeof v === 'string' || typeof v === 'function';
    const lossIds = perOutput('loss', args.loss, names, undefined, isLoss);
    const weights = perOutput('lossWeights', args.lossWeights, names, 1, (v) => typeof v === 'number');
    const listsOf = (what: string, value: CompileArgs['metrics']) => names.length === 1 || value === undefined
      ? names.map(() => (value ?? []) as MetricIdentifier[])
      : perOutput(what, value as PerOutput<MetricIdentifier[]>, names, [], () => false) as MetricIdentifier[][];
    const metricLists = listsOf('metrics', args.metrics);
    const weightedLists = listsOf('weightedMetrics', args.weightedMetrics);
    this.outputs = names.map((name, i) => {
      if (lossIds[i] === undefined) throw new ValueError(`compile: no loss for output '${name}'`);
      const { name: lossName, fn, perSample } = getLoss(lossIds[i]!);
      if (!Array.isArray(metricLists[i])) throw new ValueError(`compile: metrics must be a list; received ${fmtValue(metricLists[i])}`);
      if (!Array.isArray(weightedLists[i])) throw new ValueError(`compile: weightedMetrics must be a list; received ${fmtValue(weightedLists[i])}`);
      const metrics = (metricLists[i] ?? []).map((m) => getMetric(m, lossName));
      const weightedMetrics = (weightedLists[i] ?? []).map((m) => {
        const metric = getMetric(m, lossName);
        // Keras's rule for a name in both lists: the weighted one gets a prefix in the logs.
        return metrics.some((u) => u.name === metric.name) ? new RenamedMetric(metric, `weighted_${metric.name}`) : metric;
      });
      const id = lossIds[i];
      const sparseLabels = id === sparseCategoricalCrossentropy || (typeof id === 'string' && lossName === 'sparseCategoricalCrossentropy');
      return { name, loss: fn, perSampleLoss: perSample, lossName, weight: weights[i]!, metrics, weightedMetrics, sparseLabels };
    });
  }

  private outputNames(): string[] {
    return this.model.outputs.length ? this.model.outputs.map((o) => o.sourceLayer.name) : ['output'];
  }

  /** Serializable compile arguments (model.json's trainingConfig); custom functions are stored by name. */
  getConfig(): Record<string, unknown> {
    const name = (v: unknown) => (typeof v === 'function' ? v.name || 'custom' : typeof v === 'object' && v && 'name' in v ? (v as { name: string }).name : v);
    const config: Record<string, unknown> = {
      optimizer: { className: this.optimizer.name, config: this.optimizer.getConfig() },
      loss: this.outputs.map((o) => o.lossName),
      metrics: this.outputs.map((o) => o.metrics.map(name)),
      lossWeights: this.outputs.map((o) => o.weight),
    };
    if (this.outputs.some((o) => o.weightedMetrics.length)) config.weightedMetrics = this.outputs.map((o) => o.weightedMetrics.map((m) => name(m instanceof RenamedMetric ? m.inner : m)));
    return config;
  }

  private logKey(output: OutputSpec, key: string): string {
    return this.outputs.length > 1 ? `${output.name}_${key}` : key;
  }

  private resetMetrics(): void {
    for (const o of this.outputs) for (const m of [...o.metrics, ...o.weightedMetrics]) m.reset();
  }

  private metricLogs(): Logs {
    const logs: Logs = {};
    for (const o of this.outputs) for (const m of [...o.metrics, ...o.weightedMetrics]) logs[this.logKey(o, m.name)] = m.result();
    return logs;
  }

  private forward(xs: Tensor[], training: boolean): Tensor[] {
    const out = this.model.apply(this.model.inputs.length > 1 || xs.length > 1 ? xs : xs[0], { training }) as Tensor | Tensor[];
    const outs = Array.isArray(out) ? out : [out];
    if (outs.length !== this.outputs.length) throw new ValueError(`${this.model.name}: compiled for ${this.outputs.length} output(s); the model produced ${outs.length}`);
    return outs;
  }

  /**
   * The total loss (weighted per-output losses plus regularization) and each output's loss. With
   * sample weights every output's per-sample losses are weighted (Note [Sample and class weights]).
   */
  private lossOf(ys: Tensor[], outs: Tensor[], sampleWeight?: Tensor): { total: Tensor; parts: Tensor[] } {
    if (ys.length !== outs.length) throw new ValueError(`${this.model.name}: expected ${outs.length} target tensor(s) (one per output); received ${ys.length}`);
    const parts = this.outputs.map((o, i) => (sampleWeight === undefined
      ? weightedLoss(this.model.name, o.loss(ys[i], outs[i]), undefined)
      : weightedLoss(this.model.name, o.perSampleLoss(ys[i], outs[i]), sampleWeight)));
    let total = parts.map((p, i) => (this.outputs[i].weight === 1 ? p : mul(p, this.outputs[i].weight))).reduce((a, b) => add(a, b));
    for (const r of this.model.regularizationLosses()) total = add(total, r);
    return { total, parts };
  }

  private updateMetrics(ys: Tensor[], outs: Tensor[], sampleWeight?: Tensor): void {
    noGrad(() => this.outputs.forEach((o, i) => {
      o.metrics.forEach((m) => m.update(ys[i], outs[i]));
      o.weightedMetrics.forEach((m) => m.update(ys[i], outs[i], sampleWeight));
    }));
  }

  /** One optimizer step; returns the batch's loss values (total first). */
  private trainStep(xs: Tensor[], ys: Tensor[], sampleWeight?: Tensor): number[] {
    const outs = this.forward(xs, true);
    const { total, parts } = this.lossOf(ys, outs, sampleWeight);
    const values = [total, ...(this.outputs.length > 1 ? parts : [])].map((t) => t.item());
    this.updateMetrics(ys, outs, sampleWeight);
    const variables = this.model.trainableWeights.map((w) => w.value);
    if (total.requiresGrad && variables.length) {
      const wanted = new Set(variables);
      const grads = backpropagate(total, undefined, false, 'fit', (t) => wanted.has(t));
      this.optimizer.applyGradients(variables.map((variable) => ({ variable, grad: grads.get(variable) })));
      for (const g of grads.values()) g.dispose();
    }
    disposeGraph(total);
    return values;
  }

  async fit(x: XInput | Dataset<unknown>, y: YInput | undefined, args: FitArgs): Promise<History> {
    checkKeys('fit', args, FIT_KEYS);
    const epochs = args.epochs ?? 1;
    if (!Number.isInteger(epochs) || epochs < 0) throw new ValueError(`fit: epochs must be a non-negative integer; received ${fmtValue(args.epochs)}`);
    const resume = args.resumeFrom;
    const initialEpoch = resume ? resume.epoch : args.initialEpoch ?? 0;
    if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new ValueError(`fit: initialEpoch must be a non-negative integer; received ${fmtValue(args.initialEpoch)}`);
    const batchSize = checkBatchSize('fit', args.batchSize ?? 32);
    const validationBatchSize = checkBatchSize('fit', args.validationBatchSize ?? batchSize);
    const verbose = checkOneOf('fit', 'verbose', String(args.verbose ?? 1), ['0', '1', '2'] as const);
    const onNonFinite = checkOneOf('fit', 'onNonFinite', args.onNonFinite ?? 'error', ['error', 'continue'] as const);
    const split = args.validationSplit ?? 0;
    if (typeof split !== 'number' || !(split >= 0 && split < 1)) throw new ValueError(`fit: validationSplit must be a number in [0, 1); received ${fmtValue(split)}`);
    if (split > 0 && args.validationData) throw new ValueError('fit: give validationSplit or validationData, not both');
    if (args.stepsPerEpoch !== undefined) checkBatchSize('fit (stepsPerEpoch)', args.stepsPerEpoch);
    // Note [Sample and class weights]: class weights become per-sample weights of the training data.
    const classTable = args.classWeight === undefined ? undefined : classWeightTable('fit', args.classWeight);
    if (classTable && args.sampleWeight !== undefined) throw new ValueError('fit: give sampleWeight or classWeight, not both (as Keras); fold the class weights into sampleWeight');
    if (classTable && this.outputs.length > 1) throw new ValueError(`fit: classWeight needs a single-output model; this one has ${this.outputs.length} outputs (${this.outputs.map((o) => o.name).join(', ')}); pass sampleWeight instead`);

    // Where batches come from: in-memory arrays (shuffled by index) or a Dataset of batches.
    let train: ArrayData | DatasetEpochs;
    let validation: ArrayData | DatasetEpochs | undefined;
    if (isDataset(x)) {
      if (y !== undefined) throw new ValueError('fit: a Dataset already holds the targets; call fit(dataset, options)');
      if (split > 0) throw new ValueError('fit: validationSplit needs arrays; with a Dataset pass validationData');
      if (resume) throw new ValueError('fit: resumeFrom works with arrays only');
      if (args.sampleWeight !== undefined) throw new ValueError('fit: with a Dataset, sample weights come from its elements ([x, y, sampleWeight] or {xs, ys, sampleWeight}); received the sampleWeight option');
      train = new DatasetEpochs('fit', x, args.stepsPerEpoch);
    } else {
      if (y === undefined) throw new ValueError('fit: targets y are required with array inputs');
      if (args.stepsPerEpoch !== undefined) throw new ValueError('fit: stepsPerEpoch applies to Datasets; with arrays the batch size sets the steps');
      train = this.arrays('fit', x, y, args.sampleWeight);
      if (split > 0) {
        const all = train.size;
        [train, validation] = train.split(split);
        if (train.size === 0 || validation.size === 0) {
          throw new ValueError(`fit: ${all} samples cannot be split into a training and a validation set with validationSplit ${split}; give more data or another fraction`);
        }
      }
      if (train.size === 0) throw new ValueError('fit: no training samples');
      if (classTable) train = new ArrayData('fit', train.xs, train.ys, classWeightsToSampleWeights('fit (classWeight)', train.ys[0], classTable));
    }
    if (args.validationData) {
      const vd = args.validationData;
      if (isDataset(vd)) validation = new DatasetEpochs('fit (validationData)', vd, undefined);
      else {
        const [vx, vy, vw] = Array.isArray(vd) ? vd : [vd.x, vd.y, vd.sampleWeight];
        validation = this.arrays('fit (validationData)', vx, vy, vw);
      }
    }

    const steps = train instanceof ArrayData ? train.batchCount(batchSize) : train.steps ?? NaN;
    const samples = train instanceof ArrayData ? train.size : NaN;
    const params: TrainingParams = { epochs, steps, samples, verbose: Number(verbose) as 0 | 1 | 2, batchSize };
    const callbacks = new CallbackList(args.callbacks ?? [], this.model, params, { addHistory: true, addProgressBar: true });
    const yielder = new Yielder();
    this.model.stopTraining = false;
    let epochLogs: Logs = {};
    await callbacks.onTrainBegin();
    for (let epoch = initialEpoch; epoch < epochs && !this.model.stopTraining; epoch++) {
      await callbacks.onEpochBegin(epoch);
      this.resetMetrics();
      // Note [Exact resume]: the shuffle is drawn from the stream's state at the epoch's start,
      // then the stream continues from where the interrupted run stopped (dropout draws).
      const resuming = resume && epoch === resume.epoch && resume.batch > 0;
      if (resuming) setRngState(resume.rngAtEpochStart);
      else if (resume && epoch === resume.epoch) setRngState(resume.rng);
      const rngAtEpochStart = getRngState();
      let batches: Iterable<Batch> | AsyncIterable<Batch>;
      if (train instanceof ArrayData) {
        const order = args.shuffle ?? true ? randomPermutation(train.size) : undefined;
        if (resuming) setRngState(resume.rng);
        batches = arrayBatches(train, batchSize, order, resuming ? resume.batch : 0);
      } else {
        batches = train.epoch();
      }
      let lossSum = 0, seen = 0;
      let b = resuming ? resume.batch : 0;
      let partSums = this.outputs.map(() => 0);
      if (resuming && resume.epochSoFar) [seen, lossSum, ...partSums] = this.restoreEpoch(resume.epochSoFar, partSums.length);
      for await (const batch of batches) {
        if (callbacks.has('onBatchBegin')) await callbacks.onBatchBegin(b, { batch: b, size: batch.size });
        let weights = batch.weights;
        if (classTable) {
          if (weights && !(train instanceof ArrayData)) throw new ValueError('fit: the dataset yields sample weights and classWeight was given; use one or the other (as Keras)');
          weights ??= classWeightsToSampleWeights('fit (classWeight)', batch.ys[0], classTable);
        }
        const [loss, ...parts] = this.trainStep(batch.xs, batch.ys, weights);
        if (batch.owned) [...batch.xs, ...batch.ys, ...(weights ? [weights] : [])].forEach((t) => t.dispose());
        if (!Number.isFinite(loss) && onNonFinite === 'error') {
          throw new ValueError(`fit: the loss became ${loss} at epoch ${epoch + 1}, batch ${b + 1} (lower the learning rate, check the data, or pass onNonFinite: 'continue')`);
        }
        lossSum += loss * batch.size;
        parts.forEach((p, i) => (partSums[i] += p * batch.size));
        seen += batch.size;
        b++;
        this.position = b < steps
          ? { epoch, batch: b, rngAtEpochStart, rng: getRngState() }
          : { epoch: epoch + 1, batch: 0, rngAtEpochStart: getRngState(), rng: getRngState() };
        if (callbacks.has('onBatchEnd')) await callbacks.onBatchEnd(b - 1, this.epochLogs(lossSum / seen, partSums.map((s) => s / seen)));
        await yielder.maybeYield();
        if (this.model.stopTraining) {
          if (b < steps) this.position = { ...this.position, epochSoFar: this.epochSoFar(seen, lossSum, partSums) };
          break;
        }
      }
      if (seen === 0) throw new ValueError(`fit: epoch ${epoch + 1} had no batches (an empty dataset?)`);
      epochLogs = this.epochLogs(lossSum / seen, partSums.map((s) => s / seen));
      if (validation) {
        const val = await this.evaluateBatches(validationBatches(validation, validationBatchSize), callbacks, yielder);
        for (const [k, v] of Object.entries(val)) epochLogs[`val_${k}`] = v;
      }
      await callbacks.onEpochEnd(epoch, epochLogs);
    }
    await callbacks.onTrainEnd(epochLogs);
    return callbacks.history!;
  }

  /** A stopped epoch's sums (Note [Exact resume]); undefined when a metric cannot hand out its state. */
  private epochSoFar(seen: number, lossSum: number, partSums: number[]): EpochSoFar | undefined {
    const metrics = this.outputs.flatMap((o) => [...o.metrics, ...o.weightedMetrics].map((m) => m.getState()));
    if (metrics.some((m) => m === undefined)) return undefined;
    return { seen, lossSums: [lossSum, ...(this.outputs.length > 1 ? partSums : [])], metrics: metrics as number[][] };
  }

  /** Restores what epochSoFar recorded into the metrics; returns [seen, lossSum, ...partSums]. */
  private restoreEpoch(saved: EpochSoFar, parts: number): number[] {
    const metrics = this.outputs.flatMap((o) => [...o.metrics, ...o.weightedMetrics]);
    const sums = parts > 1 ? parts + 1 : 1;
    if (!Array.isArray(saved.lossSums) || saved.lossSums.length !== sums || !Array.isArray(saved.metrics) || saved.metrics.length !== metrics.length) {
      throw new ValueError(`fit: resumeFrom.epochSoFar holds ${fmtValue(saved.lossSums?.length)} loss sums and ${fmtValue(saved.metrics?.length)} metric states; this model logs ${sums} and ${metrics.length}`);
    }
    metrics.forEach((m, i) => m.setState(saved.metrics[i]));
    const [lossSum, ...partSums] = saved.lossSums;
    return [saved.seen, lossSum, ...(parts > 1 ? partSums : [0])];
  }

  private epochLogs(loss: number, parts: number[]): Logs {
    const logs: Logs = { loss };
    if (this.outputs.length > 1) this.outputs.forEach((o, i) => (logs[`${o.name}_loss`] = parts[i]));
    return { ...logs, ...this.metricLogs() };
  }

  private arrays(op: string, x: XInput, y: YInput, sampleWeight?: TensorInput): ArrayData {
    const xs = toTensorList(op, 'x', x);
    let ys = toTensorList(op, 'y', y);
    xs.forEach((t, i) => assertFinite(op, xs.length > 1 ? `x[${i}]` : 'x', t));
    ys.forEach((t, i) => assertFinite(op, ys.length > 1 ? `y[${i}]` : 'y', t));
    // Sparse labels are checked here, once, and become int32: the loss's own check of float labels
    // reads them on the host, which would cost a read per step (a Dataset's batches reach the
    // loss as they come, so float labels there are checked batch by batch; int32 ones are not).
    ys = ys.map((t, i) => {
      if (!this.outputs[i]?.sparseLabels) return t;
      const classes = this.model.outputs[i]?.shape.at(-1);
      return checkSparseLabels(op, ys.length > 1 ? `y[${i}]` : 'y', t, typeof classes === 'number' ? classes : undefined);
    });
    const samples = xs[0]?.rank ? xs[0].shape[0] : 0;
    const weights = sampleWeight === undefined ? undefined : checkSampleWeight(op, sampleWeight, samples);
    return new ArrayData(op, xs, ys, weights);
  }

  /** Loss and metrics over batches in inference mode, averaged over samples. */
  private async evaluateBatches(batches: Iterable<Batch> | AsyncIterable<Batch>, callbacks: CallbackList | undefined, yielder?: Yielder): Promise<Logs> {
    this.resetMetrics();
    let lossSum = 0, seen = 0, b = 0;
    const partSums = this.outputs.map(() => 0);
    await callbacks?.onTestBegin();
    for await (const batch of batches) {
      if (callbacks?.has('onTestBatchBegin')) await callbacks.onTestBatchBegin(b, { batch: b, size: batch.size });
      noGrad(() => {
        const outs = this.forward(batch.xs, false);
        const { total, parts } = this.lossOf(batch.ys, outs, batch.weights);
        lossSum += total.item() * batch.size;
        if (this.outputs.length > 1) parts.forEach((p, i) => (partSums[i] += p.item() * batch.size));
        this.updateMetrics(batch.ys, outs, batch.weights);
        // Nothing is on the tape here, so free what this step made (but never the batch's own
        // tensors, which an identity-like model may return as its output).
        disposeAllBut([total, ...parts, ...outs], batch.xs);
      });
      if (batch.owned) [...batch.xs, ...batch.ys, ...(batch.weights ? [batch.weights] : [])].forEach((t) => t.dispose());
      seen += batch.size;
      if (callbacks?.has('onTestBatchEnd')) await callbacks.onTestBatchEnd(b, this.epochLogs(lossSum / seen, partSums.map((s) => s / seen)));
      b++;
      await yielder?.maybeYield();
    }
    if (seen === 0) throw new ValueError('evaluate: no samples');
    const logs = this.epochLogs(lossSum / seen, partSums.map((s) => s / seen));
    await callbacks?.onTestEnd(logs);
    return logs;
  }

  async evaluate(x: XInput | Dataset<unknown>, y: YInput | undefined, args: EvaluateArgs): Promise<Logs> {
    checkKeys('evaluate', args, ['batchSize', 'verbose', 'callbacks', 'sampleWeight']);
    const batchSize = checkBatchSize('evaluate', args.batchSize ?? 32);
    const verbose = Number(checkOneOf('evaluate', 'verbose', String(args.verbose ?? 1), ['0', '1'] as const)) as 0 | 1;
    let source: ArrayData | DatasetEpochs;
    if (isDataset(x)) {
      if (y !== undefined) throw new ValueError('evaluate: a Dataset already holds the targets; call evaluate(dataset, options)');
      if (args.sampleWeight !== undefined) throw new ValueError('evaluate: with a Dataset, sample weights come from its elements ([x, y, sampleWeight] or {xs, ys, sampleWeight}); received the sampleWeight option');
      source = new DatasetEpochs('evaluate', x, undefined);
    } else {
      if (y === undefined) throw new ValueError('evaluate: targets y are required with array inputs');
      source = this.arrays('evaluate', x, y, args.sampleWeight);
      if (source.size === 0) throw new ValueError('evaluate: no samples');
    }
    // The test hooks (onTestBegin, onTestBatchEnd with running logs, onTestEnd), as Keras's
    // evaluate; at verbose 1 a progress bar follows them (it draws test progress outside fit only).
    const steps = source instanceof ArrayData ? source.batchCount(batchSize) : source.steps ?? NaN;
    const params: TrainingParams = { epochs: 1, steps, samples: source instanceof ArrayData ? source.size : NaN, verbose, batchSize };
    const callbacks = args.callbacks || verbose ? new CallbackList(args.callbacks ?? [], this.model, params, { addProgressBar: true }) : undefined;
    return this.evaluateBatches(validationBatches(source, batchSize), callbacks, new Yielder());
  }

  /** One optimizer step on one batch, optionally weighted (Keras's train_on_batch). */
  async trainOnBatch(x: XInput, y: YInput, args: TrainOnBatchArgs = {}): Promise<Logs> {
    checkKeys('trainOnBatch', args, ['sampleWeight', 'classWeight']);
    const classTable = args.classWeight === undefined ? undefined : classWeightTable('trainOnBatch', args.classWeight);
    if (classTable && args.sampleWeight !== undefined) throw new ValueError('trainOnBatch: give sampleWeight or classWeight, not both (as Keras)');
    if (classTable && this.outputs.length > 1) throw new ValueError(`trainOnBatch: classWeight needs a single-output model; this one has ${this.outputs.length} outputs`);
    const data = this.arrays('trainOnBatch', x, y, args.sampleWeight);
    const weights = classTable ? classWeightsToSampleWeights('trainOnBatch (classWeight)', data.ys[0], classTable) : data.weights;
    this.resetMetrics();
    const [loss, ...parts] = this.trainStep(data.xs, data.ys, weights);
    return this.epochLogs(loss, parts);
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
      }
    });
    if (pieces.length === 0) throw new ValueError('predict: x has no samples');
    const joined = pieces[0].map((_, i) => (pieces.length === 1 ? pieces[0][i] : concat(pieces.map((p) => p[i]), 0)));
    if (pieces.length > 1) disposeAllBut(pieces.flat(), xs);
    // A model built with a list of outputs answers with a list, even of one tensor (Keras).
    return listOutput ? joined : joined[0];
  }
}
