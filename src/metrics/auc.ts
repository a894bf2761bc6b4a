import { noGrad } from '../autograd/tape.js';
import { ValueError } from '../core/errors.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import { cast, sigmoid } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastWeight, checkThresholds, divideNoNan } from './confusion.js';
import { Metric, checkBatch, metricInput, sameShapePair } from './metric.js';

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
// Predictions are downloaded (batch-sized vectors) and bucketed in float64 in JS; counts are kept
// as float64 histograms, so streaming gives exactly the whole-dataset counts. Predictions are
// compared as they are (no clipping or range check): below 0 is negative everywhere, above 1
// positive everywhere. yPred of any shape is flattened into one label (Keras's multiLabel: false;
// multi-label AUC and labelWeights are not implemented).
// Keras uses fractional label mass only on its evenly-spaced fast path and bool labels for
// explicit thresholds; here both use y * w and (1 - y) * w (the same for 0/1 labels).

export type AucCurve = 'ROC' | 'PR';
export type AucSummation = 'interpolation' | 'minoring' | 'majoring';

export interface AucOptions {
  name?: string;
  /** Number of thresholds when `thresholds` is not given (Keras: 200). */
  numThresholds?: number;
  curve?: AucCurve;
  summationMethod?: AucSummation;
  /** Explicit thresholds in [0, 1]; -1e-7 and 1 + 1e-7 are added at the ends, as in Keras. */
  thresholds?: readonly number[];
  /** yPred holds logits: a sigmoid is applied first. */
  fromLogits?: boolean;
}

const EPSILON = 1e-7;

/** Keras's evenly spaced thresholds with epsilon ends. */
export function evenThresholds(numThresholds: number): number[] {
  const inner = Array.from({ length: numThresholds - 2 }, (_, i) => (i + 1) / (numThresholds - 1));
  return [0 - EPSILON, ...inner, 1 + EPSILON];
}

export class AUC extends Metric {
  readonly curve: AucCurve;
  readonly summationMethod: AucSummation;
  readonly fromLogits: boolean;
  /** The thresholds in use, ascending, ends included. */
  readonly thresholds: Float64Array;
  private readonly explicitThresholds: number[] | undefined;
  /** Weighted positive / negative label mass per bucket c = #{j : p > t_j}, c in 0..n. */
  private positives: Float64Array;
  private negatives: Float64Array;

  constructor(options: AucOptions = {}) {
    checkKeys('auc', options, ['name', 'numThresholds', 'curve', 'summationMethod', 'thresholds', 'fromLogits']);
    super(options.name ?? 'auc');
    this.curve = checkOneOf('auc', 'curve', options.curve ?? 'ROC', ['ROC', 'PR'] as const);
    this.summationMethod = checkOneOf('auc', 'summationMethod', options.summationMethod ?? 'interpolation', ['interpolation', 'minoring', 'majoring'] as const);
    this.fromLogits = options.fromLogits ?? false;
    if (options.thresholds !== undefined) {
      this.explicitThresholds = checkThresholds('auc', options.thresholds).sort((a, b) => a - b);
      this.thresholds = Float64Array.from([0 - EPSILON, ...this.explicitThresholds, 1 + EPSILON]);
    } else {
      const n = options.numThresholds ?? 200;
      if (!Number.isInteger(n) || n <= 1) throw new ValueError(`auc: numThresholds must be an integer > 1; received ${JSON.stringify(options.numThresholds)}`);
      this.thresholds = Float64Array.from(evenThresholds(n));
    }
    this.positives = new Float64Array(this.thresholds.length + 1);
    this.negatives = new Float64Array(this.thresholds.length + 1);
  }

  get numThresholds(): number {
    return this.thresholds.length;
  }

  override update(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    noGrad(() => {
      const [t, p] = sameShapePair(this.name, yTrue, yPred);
      checkBatch(this.name, t, p);
      const dt = p.dtype === 'float64' ? 'float64' : 'float32';
      const preds = (this.fromLogits ? sigmoid(p) : p).dataSync();
      const labels = cast(t, dt).dataSync();
      const weights = sampleWeight === undefined || sampleWeight === null
        ? undefined
        : cast(broadcastWeight(this.name, metricInput(this.name, 'sampleWeight', sampleWeight), p.shape), dt).dataSync();
      for (let i = 0; i < preds.length; i++) {
        const w = weights ? weights[i] : 1;
        const bucket = this.bucketOf(preds[i]);
        this.positives[bucket] += labels[i] * w;
        this.negatives[bucket] += (1 - labels[i]) * w;
      }
    });
  }

  /** #{j : p > t_j}: thresholds ascend, so the first j with !(p > t_j) (NaN: 0). */
  private bucketOf(p: number): number {
    const t = this.thresholds;
    let lo = 0, hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p > t[mid]) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Confusion counts per threshold: tp, fp, fn, tn (float64, weighted). */
  confusion(): { tp: Float64Array; fp: Float64Array; fn: Float64Array; tn: Float64Array } {
    const n = this.thresholds.length;
    const tp = new Float64Array(n), fp = new Float64Array(n), fn = new Float64Array(n), tn = new Float64Array(n);
    // Suffix sums: at threshold j every bucket c > j is predicted positive.
    let pos = 0, neg = 0;
    for (let j = n - 1; j >= 0; j--) {
      pos += this.positives[j + 1];
      neg += this.negatives[j + 1];
      tp[j] = pos;
      fp[j] = neg;
    }
    const totalPos = pos + this.positives[0], totalNeg = neg + this.negatives[0];
    for (let j = 0; j < n; j++) {
      fn[j] = totalPos - tp[j];
      tn[j] = totalNeg - fp[j];
    }
    return { tp, fp, fn, tn };
  }

  override result(): number {
    const { tp, fp, fn, tn } = this.confusion();
    const n = tp.length;
    if (this.curve === 'PR' && this.summationMethod === 'interpolation') return interpolatedPrAuc(tp, fp, fn);
    const x = new Float64Array(n), y = new Float64Array(n);
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
      const height = this.summationMethod === 'interpolation' ? (y[j] + y[j + 1]) / 2
        : this.summationMethod === 'minoring' ? Math.min(y[j], y[j + 1]) : Math.max(y[j], y[j + 1]);
      area += (x[j] - x[j + 1]) * height;
    }
    return area;
  }

  override reset(): void {
    this.positives.fill(0);
    this.negatives.fill(0);
  }

  override getConfig(): Record<string, unknown> {
    const base = { name: this.name, curve: this.curve, summationMethod: this.summationMethod, fromLogits: this.fromLogits };
    return this.explicitThresholds
      ? { ...base, thresholds: this.explicitThresholds.slice() }
      : { ...base, numThresholds: this.thresholds.length };
  }
}

/** Davis & Goadrich interpolation of the PR curve between thresholds (see the Note above). */
function interpolatedPrAuc(tp: Float64Array, fp: Float64Array, fn: Float64Array): number {
  let area = 0;
  for (let j = 0; j < tp.length - 1; j++) {
    const dtp = tp[j] - tp[j + 1];
    const p0 = tp[j] + fp[j], p1 = tp[j + 1] + fp[j + 1];
    const slope = divideNoNan(dtp, Math.max(p0 - p1, 0));
    const intercept = tp[j + 1] - slope * p1;
    const logRatio = p0 > 0 && p1 > 0 ? Math.log(divideNoNan(p0, Math.max(p1, 0))) : 0;
    area += divideNoNan(slope * (dtp + intercept * logRatio), Math.max(tp[j + 1] + fn[j + 1], 0));
  }
  return area;
}

export const auc = (options: AucOptions = {}): AUC => new AUC(options);
