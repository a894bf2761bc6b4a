// The step: what compile() decided (a loss, a weight and metrics per output, the optimizer) and
// the work of one batch with it: forward, loss, metrics, and for training the gradients and the
// optimizer update. The epoch loop (epoch-loop.ts) calls it batch after batch.

import { backpropagate } from '../autograd/backward.js';
import type { GradientBuckets } from '../distributed/gradient-buckets.js';
import { disposeGraph } from '../autograd/release.js';
import type { CallbackModel, Logs } from '../callbacks/callback.js';
import { ValueError, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { getMetric, RenamedMetric, type Metric, type MetricIdentifier } from '../metrics/index.js';
import type { Layer } from '../nn/layer.js';
import type { SymbolicTensor } from '../nn/symbolic.js';
import { add, mul } from '../ops/elementwise.js';
import { getLoss, sparseCategoricalCrossentropy, type LossFunction } from '../ops/losses.js';
import { getOptimizer } from '../optimizers/index.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { noGrad } from '../tensor/tape.js';
import { Tensor } from '../tensor/tensor.js';
import { weightedLoss } from './sample-weights.js';
import type { CompileArgs, EpochSoFar, PerOutput } from './training-args.js';

/**
 * What the trainer needs of a model (Model satisfies it). Named here, not imported from
 * model.ts, so the trainer sits below the model that owns it: model.ts imports the trainer,
 * never the other way round.
 */
export type TrainableModel = Layer &
  CallbackModel & {
    readonly inputs: readonly SymbolicTensor[];
    readonly outputs: readonly SymbolicTensor[];
  };

export interface OutputSpec {
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
function perOutput<T>(
  what: string,
  value: PerOutput<T> | undefined,
  names: string[],
  fallback: T | undefined,
  isSingle: (v: unknown) => boolean,
): (T | undefined)[] {
  if (value === undefined) return names.map(() => fallback);
  if (isSingle(value)) return names.map(() => value as T);
  if (Array.isArray(value)) {
    if (value.length !== names.length)
      throw new ValueError(`compile: ${what} has ${value.length} entries but the model has ${names.length} outputs (${names.join(', ')})`);
    return value;
  }
  const rec = value as Record<string, T>;
  const unknown = Object.keys(rec).filter((k) => !names.includes(k));
  if (unknown.length) throw new ValueError(`compile: ${what} names unknown outputs ${unknown.join(', ')}; outputs are ${names.join(', ')}`);
  return names.map((n) => rec[n] ?? fallback);
}

/** Disposes `tensors` except those in `keep` (and each at most once). */
export function disposeAllBut(tensors: readonly Tensor[], keep: readonly Tensor[]): void {
  const kept = new Set(keep);
  for (const t of new Set(tensors)) if (!kept.has(t)) t.dispose();
}

/** compile()'s arguments, checked and resolved per output. */
export class TrainStep {
  readonly optimizer: Optimizer;
  readonly outputs: OutputSpec[];
  private readonly overrides = new Map<Metric, number>();

  constructor(
    readonly model: TrainableModel,
    args: CompileArgs,
  ) {
    checkKeys('compile', args, ['optimizer', 'loss', 'metrics', 'lossWeights', 'weightedMetrics']);
    if (args.loss === undefined) throw new ValueError(`compile: a loss is required, e.g. loss: 'sparseCategoricalCrossentropy'`);
    this.optimizer = getOptimizer(args.optimizer ?? 'rmsprop');
    const names = model.outputs.length ? model.outputs.map((o) => o.sourceLayer.name) : ['output'];
    const isLoss = (v: unknown) => typeof v === 'string' || typeof v === 'function';
    const lossIds = perOutput('loss', args.loss, names, undefined, isLoss);
    const weights = perOutput('lossWeights', args.lossWeights, names, 1, (v) => typeof v === 'number');
    const listsOf = (what: string, value: CompileArgs['metrics']) =>
      names.length === 1 || value === undefined
        ? names.map(() => (value ?? []) as MetricIdentifier[])
        : (perOutput(what, value as PerOutput<MetricIdentifier[]>, names, [], () => false) as MetricIdentifier[][]);
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

  /** Serializable compile arguments (model.json's trainingConfig); custom functions are stored by name. */
  getConfig(): Record<string, unknown> {
    const name = (v: unknown) =>
      typeof v === 'function' ? v.name || 'custom' : typeof v === 'object' && v && 'name' in v ? (v as { name: string }).name : v;
    const config: Record<string, unknown> = {
      optimizer: { className: this.optimizer.name, config: this.optimizer.getConfig() },
      loss: this.outputs.map((o) => o.lossName),
      metrics: this.outputs.map((o) => o.metrics.map(name)),
      lossWeights: this.outputs.map((o) => o.weight),
    };
    if (this.outputs.some((o) => o.weightedMetrics.length))
      config.weightedMetrics = this.outputs.map((o) => o.weightedMetrics.map((m) => name(m instanceof RenamedMetric ? m.inner : m)));
    return config;
  }

  private get allMetrics(): Metric[] {
    return this.outputs.flatMap((o) => [...o.metrics, ...o.weightedMetrics]);
  }

  /** Every metric, in the order getState-based records use. */
  metricList(): Metric[] {
    return this.allMetrics;
  }

  /** A metric's value for the logs of this pass, set from outside (the job-wide mean of a metric without a state). */
  overrideResult(metric: Metric, value: number): void {
    this.overrides.set(metric, value);
  }

  private logKey(output: OutputSpec, key: string): string {
    return this.outputs.length > 1 ? `${output.name}_${key}` : key;
  }

  resetMetrics(): void {
    this.overrides.clear();
    for (const m of this.allMetrics) m.reset();
  }

  /** Brings every metric's waiting values to the host without blocking (Note [Reading values without stalling]). */
  async settleMetrics(): Promise<void> {
    for (const m of this.allMetrics) await m.settle();
  }

  /** The logs of a pass so far: the mean loss (and each output's), then every metric's result (settle the metrics first). */
  logs(loss: number, parts: number[]): Logs {
    const logs: Logs = { loss };
    if (this.outputs.length > 1) this.outputs.forEach((o, i) => (logs[`${o.name}_loss`] = parts[i]));
    for (const o of this.outputs)
      for (const m of [...o.metrics, ...o.weightedMetrics]) logs[this.logKey(o, m.name)] = this.overrides.get(m) ?? m.result();
    return logs;
  }

  private forward(xs: Tensor[], training: boolean): Tensor[] {
    const out = this.model.apply(this.model.inputs.length > 1 || xs.length > 1 ? xs : xs[0], { training }) as Tensor | Tensor[];
    const outs = Array.isArray(out) ? out : [out];
    if (outs.length !== this.outputs.length)
      throw new ValueError(`${this.model.name}: compiled for ${this.outputs.length} output(s); the model produced ${outs.length}`);
    return outs;
  }

  /**
   * The total loss (weighted per-output losses plus regularization) and each output's loss. With
   * sample weights every output's per-sample losses are weighted (Note [Sample and class weights]).
   */
  private lossOf(ys: Tensor[], outs: Tensor[], sampleWeight?: Tensor): { total: Tensor; parts: Tensor[] } {
    if (ys.length !== outs.length)
      throw new ValueError(`${this.model.name}: expected ${outs.length} target tensor(s) (one per output); received ${ys.length}`);
    const parts = this.outputs.map((o, i) =>
      sampleWeight === undefined
        ? weightedLoss(this.model.name, o.loss(ys[i], outs[i]), undefined)
        : weightedLoss(this.model.name, o.perSampleLoss(ys[i], outs[i]), sampleWeight),
    );
    let total = parts.map((p, i) => (this.outputs[i].weight === 1 ? p : mul(p, this.outputs[i].weight))).reduce((a, b) => add(a, b));
    for (const r of this.model.regularizationLosses()) total = add(total, r);
    return { total, parts };
  }

  private updateMetrics(ys: Tensor[], outs: Tensor[], sampleWeight?: Tensor): void {
    noGrad(() =>
      this.outputs.forEach((o, i) => {
        o.metrics.forEach((m) => m.update(ys[i], outs[i]));
        o.weightedMetrics.forEach((m) => m.update(ys[i], outs[i], sampleWeight));
      }),
    );
  }

  /**
   * The batch's loss values as scalars the caller owns: aliases sharing the storage of the total
   * (and each output's loss when there are several), which disposing the step's graph leaves
   * alone; nothing is read (Note [Reading values without stalling] in epoch-loop.ts).
   */
  private lossValues(total: Tensor, parts: Tensor[]): Tensor[] {
    return [total, ...(this.outputs.length > 1 ? parts : [])].map((t) => new Tensor(t.storage, t.shape, t.dtype, t.backend));
  }

  /** One optimizer step; returns the batch's loss values (total first, then each output's when several), unread. */
  train(xs: Tensor[], ys: Tensor[], sampleWeight?: Tensor): Tensor[] {
    const outs = this.forward(xs, true);
    const { total, parts } = this.lossOf(ys, outs, sampleWeight);
    const values = this.lossValues(total, parts);
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

  /**
   * One data-parallel step (Note [One global batch, split by rank] in distributed-fit.ts): this
   * rank's shard (undefined when its share of the batch is empty) forward and backward, the
   * gradients averaged over the ranks by `buckets` as they become final, weighted by `share`,
   * and the same update on every rank. Returns the shard's loss values, unread.
   */
  async trainShard(
    xs: Tensor[] | undefined,
    ys: Tensor[],
    sampleWeight: Tensor | undefined,
    share: number,
    buckets: GradientBuckets,
  ): Promise<Tensor[]> {
    const variables = this.model.trainableWeights.map((w) => w.value);
    buckets.begin(share);
    let values: Tensor[] = [];
    let total: Tensor | undefined;
    let grads = new Map<Tensor, Tensor>();
    try {
      if (xs) {
        const outs = this.forward(xs, true);
        const loss = this.lossOf(ys, outs, sampleWeight);
        total = loss.total;
        values = this.lossValues(loss.total, loss.parts);
        this.updateMetrics(ys, outs, sampleWeight);
        if (total.requiresGrad && variables.length) {
          const wanted = new Set(variables);
          grads = backpropagate(
            total,
            undefined,
            false,
            'fit',
            (t) => wanted.has(t),
            undefined,
            (t, g) => buckets.ready(t, g),
          );
        }
      }
      const averaged = await buckets.finish();
      this.optimizer.applyGradients(variables.map((variable) => ({ variable, grad: averaged.get(variable) })));
      for (const g of averaged.values()) g.dispose();
    } finally {
      for (const g of grads.values()) g.dispose();
      if (total) disposeGraph(total);
    }
    return values;
  }

  /** One batch in inference mode: its loss values (total, then each output's when several), unread, and metric updates. */
  test(xs: Tensor[], ys: Tensor[], sampleWeight?: Tensor): Tensor[] {
    return noGrad(() => {
      const outs = this.forward(xs, false);
      const { total, parts } = this.lossOf(ys, outs, sampleWeight);
      const values = this.lossValues(total, parts);
      this.updateMetrics(ys, outs, sampleWeight);
      // Nothing is on the tape here, so free what this step made (but never the batch's own
      // tensors, which an identity-like model may return as its output).
      disposeAllBut([total, ...parts, ...outs], xs);
      return values;
    });
  }

  /** A stopped epoch's sums (Note [Exact resume]), after settleMetrics(); undefined when a metric cannot hand out its state. */
  epochSoFar(seen: number, lossSums: number[]): EpochSoFar | undefined {
    const metrics = this.allMetrics.map((m) => m.getState());
    if (metrics.some((m) => m === undefined)) return undefined;
    return { seen, lossSums, metrics: metrics as number[][] };
  }

  /** Restores what epochSoFar recorded into the metrics; returns the sample count and the loss sums. */
  restoreEpoch(saved: EpochSoFar): { seen: number; lossSums: number[] } {
    const metrics = this.allMetrics;
    const sums = this.outputs.length > 1 ? this.outputs.length + 1 : 1;
    if (
      !Array.isArray(saved.lossSums) ||
      saved.lossSums.length !== sums ||
      !Array.isArray(saved.metrics) ||
      saved.metrics.length !== metrics.length
    ) {
      throw new ValueError(
        `fit: resumeFrom.epochSoFar holds ${fmtValue(saved.lossSums?.length)} loss sums and ${fmtValue(saved.metrics?.length)} metric states; this model logs ${sums} and ${metrics.length}`,
      );
    }
    metrics.forEach((m, i) => m.setState(saved.metrics[i]));
    return { seen: saved.seen, lossSums: [...saved.lossSums] };
  }
}
