import { noGrad } from '../tensor/tape.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import { cast, greater, mul, sigmoid, sub } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { sum } from '../ops/reduction.js';
import { broadcastTo, concat, reshape, transpose } from '../ops/shape-ops.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastWeight, checkThresholds, divideNoNan } from './confusion.js';
import { Metric, checkBatch, metricInput, sameShapePair } from './metric.js';
import { PendingSums } from './pending-sums.js';

// Note [AUC from thresholded counts]
// As in Keras 3, the curve is known only at fixed thresholds t_0 < ... < t_{n-1}: by default
// t_0 = -1e-7, t_i = i / (n - 1) for 0 < i < n - 1, t_{n-1} = 1 + 1e-7, so every prediction in
// [0, 1] is above the first and below the last. A prediction p counts as positive at t_j when
// p > t_j. Rather than compare every prediction with every threshold, each prediction goes to the
// bucket c(p) = #{j : p > t_j} (a binary search, NaN lands in bucket 0), and the weighted label
// mass is added to that bucket: y * w to the positives, (1 - y) * w to the negatives (Keras's
// evenly-spaced path, so soft labels count fractionally). At result time
//   tp_j = sum over buckets c > j of positives, fp_j likewise, fn_j = P - tp_j, tn_j = N - fp_j,
// and the area follows Keras's formulas:
// - ROC: x = fpr = fp / (fp + tn), y = tpr = tp / (tp + fn); area = sum_j (x_j - x_{j+1}) * h_j
//   with h_j the mean of y_j and y_{j+1} ('interpolation': the trapezoid), their min ('minoring')
//   or max ('majoring').
// - PR with 'minoring'/'majoring': x = recall, y = precision, the same Riemann sum.
// - PR with 'interpolation': Davis & Goadrich (2006), precision interpolated between thresholds
//   along the line in (tp, tp + fp) space: with dtp_j = tp_j - tp_{j+1}, p = tp + fp,
//   dp_j = p_j - p_{j+1}, slope_j = dtp_j / max(dp_j, 0), intercept_j = tp_{j+1} - slope_j p_{j+1},
//   area = sum_j slope_j (dtp_j + intercept_j log(p_j / p_{j+1})) / (tp_{j+1} + fn_{j+1}),
//   where the log ratio is taken as log 1 = 0 unless both p_j and p_{j+1} are positive and every
//   division by zero gives 0.
// An update computes on the backend, per label, the label mass above each threshold,
// sum_i y_i w_i [p_i > t_j] for tp_j and sum_i (1 - y_i) w_i [p_i > t_j] for fp_j (one matmul of
// the masses against the [samples, thresholds] comparison), and the totals P and N; nothing is
// read until the result is asked for (Note [Streaming metrics]), and batches add up in float64
// on the host. A float32 prediction p exceeds a threshold t exactly when it exceeds the largest
// float32 at or below t, so thresholds are rounded down, not to nearest, and the comparisons
// agree with float64 ones. Predictions are compared as they are (no clipping or range check):
// below 0 is negative everywhere, above 1 positive everywhere; NaN is above no threshold.
// Note [Multi-label AUC]
// Keras's two ways to treat yPred [N, L]:
// - multiLabel false (default): every element is one prediction of one curve (yPred of any shape
//   is flattened); `labelWeights` [L] then multiplies the weight of every prediction in column j.
// - multiLabel true: yPred must be [N, L]; each column keeps its own histograms and curve, and the
//   result is the mean of the L areas, or sum(area_j * lw_j) / sum(lw_j) with `labelWeights`
//   (0 when the weights sum to 0, Keras's divide_no_nan). L comes from `numLabels`, else from
//   `labelWeights`, else from the first batch, and every later batch must agree.
// Keras uses fractional label mass only on its evenly-spaced fast path and bool labels for
// explicit thresholds; here both use y * w and (1 - y) * w (the same for 0/1 labels).

/**
 * The curve whose area AUC computes: ROC (true against false positive rate) or PR (precision
 * against recall).
 */
export type AucCurve = 'ROC' | 'PR';
/**
 * How the area between neighbouring thresholds is summed (Keras's summation_method): their
 * mean height ('interpolation', trapezoids; for PR, Davis and Goadrich's interpolation), the
 * smaller ('minoring') or the larger ('majoring') of the two heights.
 */
export type AucSummation = 'interpolation' | 'minoring' | 'majoring';

/** Options of `st.metrics.auc`. */
export interface AucOptions {
  /** The key in the logs. Default 'auc'. */
  name?: string;
  /** Number of thresholds when `thresholds` is not given (Keras: 200). */
  numThresholds?: number;
  /** Default 'ROC'. */
  curve?: AucCurve;
  /** Default 'interpolation'. */
  summationMethod?: AucSummation;
  /** Explicit thresholds in [0, 1]; -1e-7 and 1 + 1e-7 are added at the ends, as in Keras. */
  thresholds?: readonly number[];
  /** yPred holds logits: a sigmoid is applied first. */
  fromLogits?: boolean;
  /** One curve per label (column of yPred [N, L]), areas averaged (Note [Multi-label AUC]). Default false. */
  multiLabel?: boolean;
  /** The number of labels L with multiLabel (otherwise taken from the first batch). */
  numLabels?: number;
  /**
   * Non-negative weights per label [L]: with multiLabel, the weights of the per-label areas in
   * their average; without, a factor on the weight of every prediction in that column.
   */
  labelWeights?: readonly number[];
}

const EPSILON = 1e-7;

/** Keras's evenly spaced thresholds with epsilon ends. */
export function evenThresholds(numThresholds: number): number[] {
  const inner = Array.from({ length: numThresholds - 2 }, (_, i) => (i + 1) / (numThresholds - 1));
  return [0 - EPSILON, ...inner, 1 + EPSILON];
}

/**
 * The area under the ROC or PR curve (Keras's AUC), from weighted confusion counts at fixed
 * thresholds; the metric `st.metrics.auc` makes.
 */
export class AUC extends Metric {
  /** ROC or PR. */
  readonly curve: AucCurve;
  /** How areas are summed. */
  readonly summationMethod: AucSummation;
  /** Whether predictions are logits. */
  readonly fromLogits: boolean;
  /** The thresholds in use, ascending, ends included. */
  readonly thresholds: Float64Array;
  /** Whether each label has its own curve. */
  readonly multiLabel: boolean;
  /** The per-label weights, if given. */
  readonly labelWeights: readonly number[] | undefined;
  private readonly explicitThresholds: number[] | undefined;
  /** Labels with their own curve: 1 without multiLabel; undefined until known. */
  private labels: number | undefined;
  /**
   * Per label, 2n + 2 sums: the positive label mass above each threshold (tp), the negative mass
   * above each (fp), then all positive (P) and negative (N) mass; undefined until the labels are known.
   */
  private sums: PendingSums | undefined;

  constructor(options: AucOptions = {}) {
    checkKeys('auc', options, [
      'name',
      'numThresholds',
      'curve',
      'summationMethod',
      'thresholds',
      'fromLogits',
      'multiLabel',
      'numLabels',
      'labelWeights',
    ]);
    super(options.name ?? 'auc');
    this.curve = checkOneOf('auc', 'curve', options.curve ?? 'ROC', ['ROC', 'PR'] as const);
    this.summationMethod = checkOneOf('auc', 'summationMethod', options.summationMethod ?? 'interpolation', [
      'interpolation',
      'minoring',
      'majoring',
    ] as const);
    this.fromLogits = options.fromLogits ?? false;
    if (options.thresholds !== undefined) {
      this.explicitThresholds = checkThresholds('auc', options.thresholds).sort((a, b) => a - b);
      this.thresholds = Float64Array.from([0 - EPSILON, ...this.explicitThresholds, 1 + EPSILON]);
    } else {
      const n = options.numThresholds ?? 200;
      if (!Number.isInteger(n) || n <= 1)
        throw new ValueError(`auc: numThresholds must be an integer > 1; received ${fmtValue(options.numThresholds)}`);
      this.thresholds = Float64Array.from(evenThresholds(n));
    }
    this.multiLabel = options.multiLabel ?? false;
    if (typeof this.multiLabel !== 'boolean') throw new ValueError(`auc: multiLabel must be a boolean; received ${fmtValue(options.multiLabel)}`);
    const lw = options.labelWeights;
    if (lw !== undefined && !(Array.isArray(lw) && lw.length > 0 && lw.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0))) {
      throw new ValueError(`auc: labelWeights must be a non-empty array of non-negative numbers; received ${fmtValue(lw)}`);
    }
    this.labelWeights = lw?.slice();
    const numLabels = options.numLabels;
    if (numLabels !== undefined) {
      if (!this.multiLabel)
        throw new ValueError(`auc: numLabels applies with multiLabel: true; received numLabels ${fmtValue(numLabels)} without it`);
      if (!Number.isInteger(numLabels) || numLabels < 1)
        throw new ValueError(`auc: numLabels must be a positive integer; received ${fmtValue(numLabels)}`);
      if (lw && lw.length !== numLabels) throw new ValueError(`auc: labelWeights must have numLabels (${numLabels}) entries; received ${lw.length}`);
    }
    this.labels = this.multiLabel ? (numLabels ?? lw?.length) : 1;
    if (this.labels !== undefined) this.sums = new PendingSums(this.name, (2 * this.thresholds.length + 2) * this.labels);
  }

  /** The number of labels with their own curve (1 without multiLabel; undefined before the first batch). */
  get numLabels(): number | undefined {
    return this.labels;
  }

  /** The number of thresholds, ends included. */
  get numThresholds(): number {
    return this.thresholds.length;
  }

  override update(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    noGrad(() => {
      let [t, p] = sameShapePair(this.name, yTrue, yPred);
      checkBatch(this.name, t, p);
      if (this.multiLabel) [t, p] = this.labelMatrix(yPred, t, p);
      const columns = p.rank === 0 ? 1 : p.shape[p.rank - 1];
      const lw = this.labelWeights;
      if (!this.multiLabel && lw && lw.length !== 1 && lw.length !== columns) {
        throw new ShapeError(
          `${this.name}: labelWeights must have one entry per column of yPred; labelWeights has ${lw.length}, yPred is ${fmtShape(yPred.shape)}`,
        );
      }
      const dt = p.dtype === 'float64' ? 'float64' : 'float32';
      const labels = this.multiLabel ? this.labels! : 1;
      const samples = p.size / labels;
      let w =
        sampleWeight === undefined || sampleWeight === null
          ? undefined
          : cast(broadcastWeight(this.name, metricInput(this.name, 'sampleWeight', sampleWeight), p.shape), dt);
      // Without multiLabel, label weights scale each column's predictions (one shared curve).
      if (!this.multiLabel && lw) {
        const factor = lw.length === 1 ? tensor(lw[0], [], dt) : tensor(lw.slice(), [columns], dt);
        w = w ? mul(w, factor) : broadcastTo(factor, p.shape);
      }
      // [labels, samples]: one row per curve.
      const rows = (x: Tensor) => (this.multiLabel ? transpose(x, [1, 0]) : reshape(x, [1, samples]));
      const y = rows(cast(t, dt));
      const pos = w ? mul(y, rows(w)) : y;
      const neg = w ? mul(sub(1, y), rows(w)) : sub(1, y);
      const n = this.thresholds.length;
      const above = cast(greater(reshape(rows(cast(this.fromLogits ? sigmoid(p) : p, dt)), [labels, samples, 1]), this.thresholdTensor(dt)), dt);
      const mass = (m: Tensor) => reshape(matmul(reshape(m, [labels, 1, samples]), above), [labels, n]);
      const total = (m: Tensor) => reshape(sum(m, -1), [labels, 1]);
      this.sums!.add(concat([mass(pos), mass(neg), total(pos), total(neg)], 1));
    });
  }

  /** The thresholds as [1, 1, n] in `dtype`, float32 ones rounded down (see the Note). */
  private thresholdTensor(dtype: 'float32' | 'float64'): Tensor {
    const values = dtype === 'float64' ? this.thresholds : Float32Array.from(this.thresholds, float32AtOrBelow);
    return tensor(values, [1, 1, values.length], dtype);
  }

  /** yTrue and yPred as [N, L] for multiLabel, fixing L at the first batch (Note [Multi-label AUC]). */
  private labelMatrix(yPred: Tensor, t: Tensor, p: Tensor): [Tensor, Tensor] {
    if (p.rank === 1) [t, p] = [reshape(t, [t.shape[0], 1]), reshape(p, [p.shape[0], 1])];
    if (p.rank !== 2) throw new ShapeError(`${this.name}: with multiLabel, yPred must be [samples, labels]; received ${fmtShape(yPred.shape)}`);
    const columns = p.shape[1];
    if (this.labels === undefined) {
      this.labels = columns;
      this.sums = new PendingSums(this.name, (2 * this.thresholds.length + 2) * columns);
    } else if (this.labels !== columns) {
      throw new ShapeError(`${this.name}: expected yPred with ${this.labels} labels (its last axis); received ${fmtShape(yPred.shape)}`);
    }
    return [t, p];
  }

  /**
   * Confusion counts per threshold for one label (the only one without multiLabel): tp, fp, fn, tn (float64, weighted).
   * @internal
   */
  confusion(label = 0): { tp: Float64Array; fp: Float64Array; fn: Float64Array; tn: Float64Array } {
    const n = this.thresholds.length;
    const tp = new Float64Array(n),
      fp = new Float64Array(n),
      fn = new Float64Array(n),
      tn = new Float64Array(n);
    if (!this.sums || label >= (this.labels ?? 0)) return { tp, fp, fn, tn };
    this.sums.settleSync();
    const base = label * (2 * n + 2);
    const state = this.sums.host;
    const totalPos = state[base + 2 * n],
      totalNeg = state[base + 2 * n + 1];
    for (let j = 0; j < n; j++) {
      tp[j] = state[base + j];
      fp[j] = state[base + n + j];
      fn[j] = totalPos - tp[j];
      tn[j] = totalNeg - fp[j];
    }
    return { tp, fp, fn, tn };
  }

  override async settle(): Promise<void> {
    await this.sums?.settle();
  }

  /** The area under one label's curve (Note [AUC from thresholded counts]). */
  labelResult(label = 0): number {
    const { tp, fp, fn, tn } = this.confusion(label);
    const n = tp.length;
    if (this.curve === 'PR' && this.summationMethod === 'interpolation') return interpolatedPrAuc(tp, fp, fn);
    const x = new Float64Array(n),
      y = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const recall = divideNoNan(tp[j], tp[j] + fn[j]);
      if (this.curve === 'ROC') {
        x[j] = divideNoNan(fp[j], fp[j] + tn[j]);
        y[j] = recall;
      } else {
        x[j] = recall;
        y[j] = divideNoNan(tp[j], tp[j] + fp[j]);
      }
    }
    let area = 0;
    for (let j = 0; j < n - 1; j++) {
      const height =
        this.summationMethod === 'interpolation'
          ? (y[j] + y[j + 1]) / 2
          : this.summationMethod === 'minoring'
            ? Math.min(y[j], y[j + 1])
            : Math.max(y[j], y[j + 1]);
      area += (x[j] - x[j + 1]) * height;
    }
    return area;
  }

  override result(): number {
    if (!this.multiLabel) return this.labelResult(0);
    const count = this.labels ?? 0;
    if (count === 0) return 0;
    const areas = Array.from({ length: count }, (_, l) => this.labelResult(l));
    const lw = this.labelWeights;
    if (!lw) return areas.reduce((a, b) => a + b, 0) / count;
    return divideNoNan(
      areas.reduce((a, area, l) => a + area * lw[l], 0),
      lw.reduce((a, b) => a + b, 0),
    );
  }

  /** Forgets everything accumulated. */
  override reset(): void {
    this.sums?.reset();
  }

  /**
   * The summed label masses (additive over batches and ranks, so the distributed fit sums them);
   * undefined while the number of labels is still unknown (multiLabel before the first batch).
   */
  override getState(): number[] | undefined {
    if (!this.sums) return undefined;
    this.sums.settleSync();
    return Array.from(this.sums.host);
  }

  override setState(state: readonly number[]): void {
    if (!this.sums || state.length !== this.sums.host.length || !state.every((v) => typeof v === 'number')) {
      throw new ValueError(`${this.name}: expected a state of ${this.sums?.host.length ?? 'its'} numbers; received ${fmtValue(state)}`);
    }
    this.sums.set(state);
  }

  override getConfig(): Record<string, unknown> {
    const base: Record<string, unknown> = { name: this.name, curve: this.curve, summationMethod: this.summationMethod, fromLogits: this.fromLogits };
    if (this.multiLabel) {
      base.multiLabel = true;
      if (this.labels !== undefined) base.numLabels = this.labels;
    }
    if (this.labelWeights) base.labelWeights = this.labelWeights.slice();
    return this.explicitThresholds ? { ...base, thresholds: this.explicitThresholds.slice() } : { ...base, numThresholds: this.thresholds.length };
  }
}

/** Davis & Goadrich interpolation of the PR curve between thresholds (see the Note above). */
function interpolatedPrAuc(tp: Float64Array, fp: Float64Array, fn: Float64Array): number {
  let area = 0;
  for (let j = 0; j < tp.length - 1; j++) {
    const dtp = tp[j] - tp[j + 1];
    const p0 = tp[j] + fp[j],
      p1 = tp[j + 1] + fp[j + 1];
    const slope = divideNoNan(dtp, Math.max(p0 - p1, 0));
    const intercept = tp[j + 1] - slope * p1;
    const logRatio = p0 > 0 && p1 > 0 ? Math.log(divideNoNan(p0, Math.max(p1, 0))) : 0;
    area += divideNoNan(slope * (dtp + intercept * logRatio), Math.max(tp[j + 1] + fn[j + 1], 0));
  }
  return area;
}

export const auc = (options: AucOptions = {}): AUC => new AUC(options);

/** The largest float32 at or below t: p > t and p > this agree for every float32 p. */
function float32AtOrBelow(t: number): number {
  const f = Math.fround(t);
  if (f <= t || Number.isNaN(t)) return f;
  if (f === 0) return -(2 ** -149);
  const bits = new Int32Array(Float32Array.of(f).buffer);
  bits[0] += f > 0 ? -1 : 1;
  return new Float32Array(bits.buffer)[0];
}
