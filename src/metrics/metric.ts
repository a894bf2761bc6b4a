import { noGrad } from '../tensor/tape.js';
import { floatType } from '../core/dtype.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { cast, mul } from '../ops/elementwise.js';
import { asTensor } from '../ops/operand.js';
import { mean, sum } from '../ops/reduction.js';
import { broadcastTo, reshape, stack } from '../ops/shape-ops.js';
import { Tensor } from '../tensor/tensor.js';
import { PendingSums } from './pending-sums.js';

// Note [Streaming metrics]
// A metric accumulates batches (`update`), reports the value over everything seen (`result`)
// and starts over (`reset`), as Keras 3's metrics do. Each update runs a few tensor ops on the
// batch, on whatever backend the batch lives on, and leaves a handful of numbers there (a
// weighted sum and a count, or a short vector of confusion counts): it never reads the host, so
// a GPU is not made to wait every step (Note [Reading values without stalling] in
// models/epoch-loop.ts). The values come to the host in one read when asked for: `await
// settle()` (what the trainer does, at most a few times per second) or `result()` on a CPU
// backend. Running totals are JS numbers (float64), added up there from the per-batch sums, so a
// long epoch does not lose precision to float32 accumulation (pending-sums.ts). Updates run under
// noGrad: metrics never record on the tape even when yPred came from a model being trained.

/** A function metric: per-sample values (or one scalar) for a batch, averaged over samples. */
export type MetricFunction = (yTrue: Tensor, yPred: Tensor) => Tensor;

/**
 * A streaming metric (Keras's `keras.metrics.Metric`): `update` accumulates batches, `result` gives
 * the value over everything seen since `reset`. Updates leave their numbers on the backend and
 * never record on the tape; running totals are kept in float64 on the host. `compile({metrics})`
 * takes metric objects, and `fit` resets them at each epoch.
 * @example
 * ```ts
 * const acc = st.metrics.sparseCategoricalAccuracy();
 * acc.update(st.tensor([1, 0], undefined, 'int32'), st.tensor([[0.2, 0.8], [0.3, 0.7]]));
 * console.log(await acc.resultAsync()); // 0.5
 * ```
 */
export abstract class Metric {
  /** The key used in training logs ('accuracy', 'mae', 'precision', 'auc', ...). */
  readonly name: string;

  constructor(name: string) {
    if (typeof name !== 'string' || name === '') throw new ValueError(`metric: name must be a non-empty string; received ${fmtValue(name)}`);
    this.name = name;
  }

  /** Accumulates one batch. */
  abstract update(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void;
  /**
   * The value over every batch since the last reset (0 before any update, as in Keras). Reads
   * what updates left on the backend synchronously: on a backend that reads asynchronously only,
   * use `await resultAsync()`.
   */
  abstract result(): number;
  /** Forgets everything accumulated. */
  abstract reset(): void;

  /**
   * Brings what updates left on the backend to the host without blocking; `result()` and
   * `getState()` then read nothing. The trainer awaits it before it reads a metric. A metric
   * that keeps its state on the host has nothing to do.
   */
  async settle(): Promise<void> {}

  /** The value like `result()`, read in the way that works on every backend. */
  async resultAsync(): Promise<number> {
    await this.settle();
    return this.result();
  }

  /**
   * The running state as plain numbers, so an interrupted fit can carry a half-done epoch in a
   * checkpoint (Note [Exact resume]); undefined for metrics that do not offer it.
   */
  getState(): number[] | undefined {
    return undefined;
  }

  /** Takes back what getState gave. */
  setState(_state: readonly number[]): void {
    throw new ValueError(`${this.name}: this metric cannot restore a saved state`);
  }

  /** The options that rebuild this metric (with its name). */
  getConfig(): Record<string, unknown> {
    return { name: this.name };
  }
}

/** Converts a metric argument to a tensor, naming the metric when it cannot. */
export function metricInput(metric: string, what: string, x: unknown): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number' || Array.isArray(x) || ArrayBuffer.isView(x)) return asTensor(metric, what, x as number);
  throw new ValueError(`${metric}: ${what} must be a tensor; received ${x === null ? 'null' : typeof x}`);
}

/**
 * Brings yTrue and yPred to one rank the way Keras does: when their ranks differ by one and the
 * longer one ends in an axis of 1, that axis is dropped ([N] against [N, 1]).
 */
export function alignRanks(a: Tensor, b: Tensor): [Tensor, Tensor] {
  if (a.rank === b.rank + 1 && a.shape[a.rank - 1] === 1) return [reshape(a, a.shape.slice(0, -1)), b];
  if (b.rank === a.rank + 1 && b.shape[b.rank - 1] === 1) return [a, reshape(b, b.shape.slice(0, -1))];
  return [a, b];
}

/** yTrue and yPred with the same shape after `alignRanks`, or a ShapeError naming the metric. */
export function sameShapePair(metric: string, yTrue: Tensor, yPred: Tensor): [Tensor, Tensor] {
  const [t, p] = alignRanks(metricInput(metric, 'yTrue', yTrue), metricInput(metric, 'yPred', yPred));
  const same = t.rank === p.rank && t.shape.every((d, i) => d === p.shape[i]);
  if (!same) {
    throw new ShapeError(
      `${metric}: yTrue and yPred must have the same shape (up to a trailing axis of 1); yTrue is ${fmtShape(yTrue.shape)}, yPred is ${fmtShape(yPred.shape)}`,
    );
  }
  return [t, p];
}

/**
 * A weighted sum and the total weight for one batch of values, on the backend: `count` is a number
 * when it is known without reading (one per sample, unweighted).
 */
export interface WeightedSums {
  total: Tensor;
  count: Tensor | number;
}

/**
 * Keras 3's weighted mean bookkeeping for one batch (reduce_to_samplewise_values):
 * - no weight: values are averaged over their non-batch axes, summed, and count as one per sample
 *   (a scalar value counts once);
 * - with a weight: after aligning ranks, values are averaged over the axes the weight lacks, the
 *   weight is broadcast to them, and both the weighted values and the weight are averaged over
 *   the non-batch axes before summing. A scalar weight w on a batch therefore adds w * mean(values)
 *   to the total and w to the count (how Keras weights the running loss by batch size).
 */
export function weightedSums(metric: string, values: Tensor, sampleWeight?: Tensor | number): WeightedSums {
  let v = cast(values, floatType(values.dtype));
  if (sampleWeight === undefined || sampleWeight === null) {
    // A scalar may be the caller's own tensor: an alias (reshape shares storage) is what the
    // running sums take and later dispose.
    if (v.rank === 0) return { total: reshape(v, [1]), count: 1 };
    const perSample = v.rank > 1 ? mean(v, range(1, v.rank)) : v;
    return { total: sum(perSample), count: v.shape[0] };
  }
  let w = cast(typeof sampleWeight === 'number' ? sampleWeight : metricInput(metric, 'sampleWeight', sampleWeight), v.dtype);
  const givenShape = w.shape;
  [v, w] = alignRanks(v, w);
  if (v.rank > w.rank) v = mean(v, range(w.rank, v.rank));
  const fits = w.rank === v.rank && w.shape.every((d, i) => d === v.shape[i] || d === 1);
  if (!fits) {
    throw new ShapeError(
      `${metric}: sampleWeight must broadcast to the per-sample values; sampleWeight is ${fmtShape(givenShape)}, values are ${fmtShape(values.shape)}`,
    );
  }
  const wb = broadcastTo(w, v.shape);
  let weighted = mul(v, wb);
  let weight = wb;
  if (v.rank > 1) {
    weighted = mean(weighted, range(1, v.rank));
    weight = mean(weight, range(1, v.rank));
  }
  return { total: sum(weighted), count: sum(weight) };
}

function range(start: number, stop: number): number[] {
  return Array.from({ length: stop - start }, (_, i) => start + i);
}

/** Checks that two tensors agree on their leading (batch) axis. */
export function checkBatch(metric: string, yTrue: Tensor, yPred: Tensor): void {
  if (yTrue.rank > 0 && yPred.rank > 0 && yTrue.shape[0] !== yPred.shape[0]) {
    throw new ShapeError(
      `${metric}: yTrue and yPred must have the same batch size; yTrue is ${fmtShape(yTrue.shape)}, yPred is ${fmtShape(yPred.shape)}`,
    );
  }
}

/**
 * A running weighted mean of values (Keras's `Mean`): the trainer's loss tracker. Feed it with
 * `updateValues(value, sampleWeight)`; `update(yTrue, yPred)` has no meaning for it.
 */
export class Mean extends Metric {
  /** Totals of unweighted batches (their counts are known on the host). */
  private readonly plain: PendingSums;
  private plainCount = 0;
  /** Weighted batches: [total, weight]. */
  private readonly weighted: PendingSums;

  constructor(options: { name?: string } = {}) {
    super(options.name ?? 'mean');
    this.plain = new PendingSums(this.name, 1);
    this.weighted = new PendingSums(this.name, 2);
  }

  /** Adds values (a scalar or per-sample tensor) with an optional weight (Keras's update_state). */
  updateValues(values: Tensor | number, sampleWeight?: Tensor | number): void {
    noGrad(() => {
      const v = typeof values === 'number' ? asTensor(this.name, 'values', values) : metricInput(this.name, 'values', values);
      this.add(weightedSums(this.name, v, sampleWeight));
    });
  }

  override update(_yTrue: Tensor, _yPred: Tensor, _sampleWeight?: Tensor): void {
    throw new ValueError(`${this.name}: a running mean is fed with updateValues(values, sampleWeight?); received update(yTrue, yPred)`);
  }

  protected add(sums: WeightedSums): void {
    // A NaN batch is not skipped: it stays visible in the result, as in Keras. The sums stay on
    // the backend until read (Note [Streaming metrics]).
    if (typeof sums.count === 'number') {
      this.plain.add(sums.total);
      this.plainCount += sums.count;
    } else {
      this.weighted.add(stack([sums.total, sums.count]));
    }
  }

  private get totals(): [number, number] {
    this.plain.settleSync();
    this.weighted.settleSync();
    return [this.plain.host[0] + this.weighted.host[0], this.plainCount + this.weighted.host[1]];
  }

  override async settle(): Promise<void> {
    await this.plain.settle();
    await this.weighted.settle();
  }

  override result(): number {
    // Keras's divide_no_nan: nothing seen (or all weights zero) reads as 0.
    const [total, count] = this.totals;
    return count === 0 ? 0 : total / count;
  }

  /** Forgets everything accumulated. */
  override reset(): void {
    this.plain.reset();
    this.weighted.reset();
    this.plainCount = 0;
  }

  override getState(): number[] {
    return this.totals;
  }

  override setState(state: readonly number[]): void {
    if (state.length !== 2 || typeof state[0] !== 'number' || typeof state[1] !== 'number') {
      throw new ValueError(`${this.name}: expected the state [total, count]; received ${fmtValue(state)}`);
    }
    this.reset();
    this.plain.set([state[0]]);
    this.plainCount = state[1];
  }
}

/**
 * A metric defined by a per-sample function (Keras's MeanMetricWrapper): accuracy, mse, mae and
 * user functions. The function's values are averaged over samples with `weightedSums`.
 */
export class MeanMetricWrapper extends Mean {
  private readonly fn: MetricFunction;
  private readonly config: Record<string, unknown>;

  constructor(name: string, fn: MetricFunction, config: Record<string, unknown> = {}) {
    super({ name });
    this.fn = fn;
    this.config = config;
  }

  override update(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    noGrad(() => {
      const t = metricInput(this.name, 'yTrue', yTrue),
        p = metricInput(this.name, 'yPred', yPred);
      checkBatch(this.name, t, p);
      const values = this.fn(t, p);
      if (!(values instanceof Tensor)) {
        throw new ValueError(`${this.name}: the metric function must return a tensor; received ${typeof values}`);
      }
      if (sampleWeight !== undefined && sampleWeight !== null) {
        const w = metricInput(this.name, 'sampleWeight', sampleWeight);
        if (w.rank > 0 && values.rank > 0 && w.shape[0] !== values.shape[0]) {
          throw new ShapeError(
            `${this.name}: sampleWeight must have one entry per sample; sampleWeight is ${fmtShape(w.shape)}, yPred is ${fmtShape(p.shape)}`,
          );
        }
      }
      this.add(weightedSums(this.name, values, sampleWeight));
    });
  }

  override getConfig(): Record<string, unknown> {
    return { name: this.name, ...this.config };
  }
}

/**
 * A metric logged under another name, sharing the wrapped metric's state (the trainer's
 * 'weighted_' entry for a weightedMetrics name that plain metrics already use).
 */
export class RenamedMetric extends Metric {
  constructor(
    readonly inner: Metric,
    name: string,
  ) {
    super(name);
  }

  override update(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    this.inner.update(yTrue, yPred, sampleWeight);
  }

  override result(): number {
    return this.inner.result();
  }

  override settle(): Promise<void> {
    return this.inner.settle();
  }

  override reset(): void {
    this.inner.reset();
  }

  override getState(): number[] | undefined {
    return this.inner.getState();
  }

  override setState(state: readonly number[]): void {
    this.inner.setState(state);
  }

  override getConfig(): Record<string, unknown> {
    return { ...this.inner.getConfig(), name: this.name };
  }
}
