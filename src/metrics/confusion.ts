import { noGrad } from '../tensor/tape.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { cast, greater, isNaN, logicalAnd, mul, notEqual, where } from '../ops/elementwise.js';
import { oneHot } from '../ops/nn.js';
import { topk } from '../ops/sorting.js';
import { max, sum } from '../ops/reduction.js';
import { broadcastTo, concat, reshape, slice } from '../ops/shape-ops.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { Metric, checkBatch, metricInput, sameShapePair } from './metric.js';
import { PendingSums } from './pending-sums.js';

// Precision and recall from confusion counts at one or more thresholds, accumulated over
// batches (Keras 3's update_confusion_matrix_variables): every element of yPred is one
// prediction, positive when strictly greater than the threshold; a label is positive when it is
// non-zero. Sample weights weight the counts. One update leaves 2T + 1 numbers on the backend
// (Note [Streaming metrics]).
// Note [topK and classId]
// Keras's order: `topK` keeps the k best scores of each row of yPred (its last axis) as
// candidates and makes every other score negative at every threshold; then `classId` keeps one
// column. Ties are broken by the lower index, so exactly k entries of a row are candidates (what
// top_k returns). Without explicit thresholds, topK's threshold is Keras's NEG_INF (-1e10): every
// candidate is a positive prediction. The mask is built on the host (a sort per row), since
// there is no top-k primitive; rows are short (classes), so this costs one download of yPred per
// update, the one metric option that reads the host every step (and that a backend without
// synchronous reads refuses).

/** Options of `st.metrics.precision` and `st.metrics.recall`. */
export interface ConfusionOptions {
  /** The key in the logs. Default 'precision' or 'recall'. */
  name?: string;
  /** One threshold or several (each in [0, 1]); 0.5 by default. */
  thresholds?: number | readonly number[];
  /** Only this class (an index into yPred's last axis) is counted, as in Keras. */
  classId?: number;
  /**
   * Only the k highest scores of each row (yPred's last axis) can be positive predictions, as in
   * Keras; applied before `classId`. Without `thresholds`, every top-k score is positive.
   */
  topK?: number;
}

/** Keras's NEG_INF: the threshold used with topK when none is given. */
const NEG_INF = -1e10;

/**
 * A bool mask of yPred's shape: true for the k largest entries of each row (last axis), ties
 * going to the lower index; NaN ranks below every number. topk orders the rows (on the device
 * where the backend reads only asynchronously, Note [Sorting on the host]) after NaN is made
 * -Infinity (topk ranks it above +Infinity), and one-hot rows of its indices mark the mask.
 */
export function topKMask(yPred: Tensor, k: number): Tensor {
  const classes = yPred.rank === 0 ? 1 : yPred.shape[yPred.rank - 1];
  const x = reshape(yPred, [yPred.size / Math.max(classes, 1), classes]);
  const ranked = where(isNaN(x), Number.NEGATIVE_INFINITY, x);
  const chosen = topk(ranked, Math.min(k, classes)).indices;
  const marks = max(oneHot(chosen, classes, { dtype: 'int32' }), 1);
  return reshape(cast(marks, 'bool'), yPred.shape);
}

/** Options checked and a thresholds list made: shared with AUC's explicit thresholds. */
export function checkThresholds(metric: string, thresholds: unknown): number[] {
  const list = typeof thresholds === 'number' ? [thresholds] : thresholds;
  const ok = Array.isArray(list) && list.length > 0 && list.every((t) => typeof t === 'number' && t >= 0 && t <= 1);
  if (!ok) throw new ValueError(`${metric}: thresholds must be a number or a non-empty array of numbers in [0, 1]; received ${fmtValue(thresholds)}`);
  return (list as number[]).slice();
}

/** A weight tensor broadcast to `shape`: a per-sample weight [N] gains trailing axes of 1 first. */
export function broadcastWeight(metric: string, sampleWeight: Tensor, shape: readonly number[]): Tensor {
  let w = sampleWeight;
  if (w.rank > shape.length) {
    // [N, 1] against a rank-1 yPred: Keras squeezes the trailing 1.
    if (w.rank === shape.length + 1 && w.shape[w.rank - 1] === 1) w = reshape(w, w.shape.slice(0, -1));
  }
  while (w.rank > 0 && w.rank < shape.length) w = reshape(w, [...w.shape, 1]);
  const fits = w.rank === 0 || (w.rank === shape.length && w.shape.every((d, i) => d === shape[i] || d === 1));
  if (!fits) {
    throw new ShapeError(
      `${metric}: sampleWeight must be per sample or broadcast to yPred; sampleWeight is ${fmtShape(sampleWeight.shape)}, yPred is ${fmtShape(shape)}`,
    );
  }
  return broadcastTo(w, shape);
}

/** Shared state: true positives, false positives and false negatives per threshold. */
export abstract class ConfusionMetric extends Metric {
  /** The thresholds a score must exceed to count as a positive prediction. */
  readonly thresholds: readonly number[];
  /** The one class counted, if given. */
  readonly classId: number | undefined;
  /** How many of each row's best scores may be positive, if given. */
  readonly topK: number | undefined;
  /** False when the thresholds are the default (then getConfig leaves them out). */
  private readonly thresholdsGiven: boolean;
  /** Per threshold: hits (tp), predicted positives (tp + fp); then the positives (tp + fn) and all predictions. */
  private readonly counts: PendingSums;

  constructor(op: string, defaultName: string, options: ConfusionOptions, allowed: readonly string[] = ['name', 'thresholds', 'classId', 'topK']) {
    checkKeys(op, options, allowed);
    super(options.name ?? defaultName);
    if (options.topK !== undefined && !(Number.isInteger(options.topK) && options.topK >= 1)) {
      throw new ValueError(`${op}: topK must be a positive integer; received ${fmtValue(options.topK)}`);
    }
    this.topK = options.topK;
    this.thresholdsGiven = options.thresholds !== undefined;
    // Keras: the default threshold is 0.5, or NEG_INF with topK (every top-k score counts).
    this.thresholds = this.thresholdsGiven ? checkThresholds(op, options.thresholds) : [this.topK === undefined ? 0.5 : NEG_INF];
    if (options.classId !== undefined && !(Number.isInteger(options.classId) && options.classId >= 0)) {
      throw new ValueError(`${op}: classId must be a non-negative integer; received ${fmtValue(options.classId)}`);
    }
    this.classId = options.classId;
    this.counts = new PendingSums(this.name, 2 * this.thresholds.length + 2);
  }

  /** The weighted count of true positives at each threshold. */
  protected get truePositives(): Float64Array {
    this.counts.settleSync();
    return this.counts.host.slice(0, this.thresholds.length);
  }

  /** The weighted count of false positives at each threshold. */
  protected get falsePositives(): Float64Array {
    const n = this.thresholds.length;
    const tp = this.truePositives;
    return this.counts.host.slice(n, 2 * n).map((predicted, j) => predicted - tp[j]);
  }

  /** The weighted count of false negatives at each threshold. */
  protected get falseNegatives(): Float64Array {
    const tp = this.truePositives; // settles the counts first
    const positives = this.counts.host[2 * this.thresholds.length];
    return tp.map((hits) => positives - hits);
  }

  /** The weighted count of true negatives at each threshold. */
  protected get trueNegatives(): Float64Array {
    const n = this.thresholds.length;
    const tp = this.truePositives; // settles the counts first
    const host = this.counts.host;
    const positives = host[2 * n],
      all = host[2 * n + 1];
    return tp.map((hits, j) => all - positives - (host[n + j] - hits));
  }

  override settle(): Promise<void> {
    return this.counts.settle();
  }

  /** The summed counts (additive over batches and ranks). */
  override getState(): number[] {
    this.counts.settleSync();
    return Array.from(this.counts.host);
  }

  override setState(state: readonly number[]): void {
    if (state.length !== this.counts.host.length || !state.every((v) => typeof v === 'number')) {
      throw new ValueError(`${this.name}: expected a state of ${this.counts.host.length} numbers; received ${fmtValue(state)}`);
    }
    this.counts.set(state);
  }

  override update(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    noGrad(() => this.accumulate(yTrue, yPred, sampleWeight));
  }

  private accumulate(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    const name = this.name;
    let [t, p] = sameShapePair(name, yTrue, yPred);
    checkBatch(name, t, p);
    const dt = p.dtype === 'float64' ? 'float64' : 'float32';
    let w =
      sampleWeight === undefined || sampleWeight === null
        ? undefined
        : cast(broadcastWeight(name, metricInput(name, 'sampleWeight', sampleWeight), p.shape), dt);
    // Note [topK and classId]: the top-k candidates are chosen over the whole row, before classId.
    let candidates = this.topK === undefined ? undefined : topKMask(p, this.topK);
    if (this.classId !== undefined) {
      const classes = p.rank === 0 ? 0 : p.shape[p.rank - 1];
      if (this.classId >= classes) {
        throw new ValueError(`${name}: classId ${this.classId} is out of range for yPred of shape ${fmtShape(yPred.shape)}`);
      }
      const pick = (x: Tensor) =>
        slice(
          x,
          x.shape.map((_, i) => (i === x.rank - 1 ? this.classId! : 0)),
          x.shape.map((d, i) => (i === x.rank - 1 ? 1 : d)),
        );
      [t, p] = [pick(t), pick(p)];
      if (w) w = pick(w);
      if (candidates) candidates = pick(candidates);
    }
    const m = p.size,
      n = this.thresholds.length;
    let predictedPositive = greater(reshape(cast(p, dt), [m, 1]), tensor(this.thresholds.slice(), [1, n], dt));
    if (candidates) predictedPositive = logicalAnd(predictedPositive, reshape(candidates, [m, 1]));
    const labelPositive = reshape(notEqual(t, 0), [m, 1]);
    const hits = logicalAnd(predictedPositive, labelPositive);
    let counts: Tensor;
    if (w === undefined) {
      // Plain counts stay int32 on the backend: exact whatever the batch size.
      counts = concat([sum(hits, 0), sum(predictedPositive, 0), reshape(sum(labelPositive), [1]), tensor([m], [1], 'int32')]);
    } else {
      const wColumn = reshape(w, [m, 1]);
      const weighted = (mask: Tensor, axis?: number) => sum(mul(cast(mask, dt), wColumn), axis);
      counts = concat([weighted(hits, 0), weighted(predictedPositive, 0), reshape(weighted(labelPositive), [1]), reshape(sum(w), [1])]);
    }
    this.counts.add(counts);
  }

  /** The value at each threshold, in the order given. */
  abstract results(): number[];

  /** The value at the first threshold (the only one unless several were given). */
  override result(): number {
    return this.results()[0];
  }

  /** Forgets everything accumulated. */
  override reset(): void {
    this.counts.reset();
  }

  override getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { name: this.name };
    if (this.thresholdsGiven || this.topK === undefined)
      config.thresholds = this.thresholds.length === 1 ? this.thresholds[0] : this.thresholds.slice();
    if (this.classId !== undefined) config.classId = this.classId;
    if (this.topK !== undefined) config.topK = this.topK;
    return config;
  }
}

/** a / b, with 0 for an empty denominator (Keras's divide_no_nan). */
export const divideNoNan = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** tp / (tp + fp): the fraction of predicted positives that are positive. */
export class Precision extends ConfusionMetric {
  constructor(options: ConfusionOptions = {}) {
    super('precision', 'precision', options);
  }

  override results(): number[] {
    const fp = this.falsePositives;
    return Array.from(this.truePositives, (tp, j) => divideNoNan(tp, tp + fp[j]));
  }
}

/** tp / (tp + fn): the fraction of positives predicted positive. */
export class Recall extends ConfusionMetric {
  constructor(options: ConfusionOptions = {}) {
    super('recall', 'recall', options);
  }

  override results(): number[] {
    const fn = this.falseNegatives;
    return Array.from(this.truePositives, (tp, j) => divideNoNan(tp, tp + fn[j]));
  }
}

export const precision = (options: ConfusionOptions = {}): Precision => new Precision(options);
export const recall = (options: ConfusionOptions = {}): Recall => new Recall(options);

/** Options of the confusion counts (`st.metrics.truePositives` and the three others). */
export interface CountOptions {
  /** The key in the logs. Default 'true_positives' and so on. */
  name?: string;
  /** One threshold or several (each in [0, 1]); 0.5 by default. */
  thresholds?: number | readonly number[];
}

/** Which cell of the confusion matrix a count metric reports: true/false positives/negatives. */
export type ConfusionCell = 'tp' | 'fp' | 'tn' | 'fn';

/**
 * Keras's TruePositives, FalsePositives, TrueNegatives and FalseNegatives: the weighted count of
 * one cell of the confusion matrix at each threshold (a prediction is positive above it, a label
 * when non-zero), accumulated over batches.
 */
export class ConfusionCount extends ConfusionMetric {
  constructor(
    /** The cell counted. */
    readonly cell: ConfusionCell,
    op: string,
    defaultName: string,
    options: CountOptions = {},
  ) {
    super(op, defaultName, options, ['name', 'thresholds']);
  }

  override results(): number[] {
    const counts = { tp: this.truePositives, fp: this.falsePositives, tn: this.trueNegatives, fn: this.falseNegatives }[this.cell];
    return Array.from(counts);
  }
}

export const truePositives = (options: CountOptions = {}): ConfusionCount => new ConfusionCount('tp', 'truePositives', 'true_positives', options);
export const falsePositives = (options: CountOptions = {}): ConfusionCount => new ConfusionCount('fp', 'falsePositives', 'false_positives', options);
export const trueNegatives = (options: CountOptions = {}): ConfusionCount => new ConfusionCount('tn', 'trueNegatives', 'true_negatives', options);
export const falseNegatives = (options: CountOptions = {}): ConfusionCount => new ConfusionCount('fn', 'falseNegatives', 'false_negatives', options);
