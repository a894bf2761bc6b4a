import { ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { cast, ceil, clip, greater, mul, sub } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { oneHot } from '../ops/nn.js';
import { sum } from '../ops/reduction.js';
import { concat, reshape, slice } from '../ops/shape-ops.js';
import { noGrad } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastWeight, divideNoNan } from './confusion.js';
import { checkBatch, metricInput, sameShapePair } from './metric.js';
import { SummedStateMetric } from './summed-state.js';

// Note [Sensitivity and specificity at a constraint]
// Keras 3's PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity and
// SpecificityAtSensitivity (keras/src/metrics/confusion_metrics.py and metrics_utils.py, Keras
// 3.16.0) count tp, fp, tn and fn at numThresholds (200) thresholds 0, 1/(n-1), ..., 1, and
// report the largest value of one rate among the thresholds where the other rate reaches
// `value` (0 when none does). Keras's bucket method is followed exactly: predictions are clipped
// to [0, 1], each goes to bucket ceil(p (n - 1)) - 1 (computed in the prediction's dtype), so it
// counts as positive at thresholds 0..bucket; p = 0 lands in bucket -1 and is positive nowhere.
// Labels are positive when non-zero; masses are weighted. The state is, per bucket, the positive
// and negative label mass (n each), then the totals, so it adds over batches and ranks; at result
// time tp_j is the positive mass in buckets >= j, fn_j = P - tp_j, and so on. With
// numThresholds 1 the single threshold is 0.5 and a prediction is positive above it.

/** Options of the four constrained-rate metrics. */
export interface ConstrainedRateOptions {
  /** The key in the logs. */
  name?: string;
  /** The number of thresholds (>= 1). Default 200. */
  numThresholds?: number;
  /** Only this class (a column of yPred [N, classes]) is counted. */
  classId?: number;
}

/** A rate of the confusion counts: tp/(tp+fp), tp/(tp+fn) (recall and sensitivity), tn/(tn+fp). */
export type ConfusionRate = 'precision' | 'recall' | 'sensitivity' | 'specificity';

/** Counts at thresholds and the best rate under a constraint (Note [Sensitivity and specificity at a constraint]). */
export class ConstrainedRate extends SummedStateMetric {
  /** The value the constrained rate must reach. */
  readonly value: number;
  /** The number of thresholds, 0 and 1 included. */
  readonly numThresholds: number;
  /** The one class counted, if given. */
  readonly classId: number | undefined;

  constructor(
    op: string,
    private readonly constrained: ConfusionRate,
    private readonly reported: ConfusionRate,
    value: number,
    defaultName: string,
    options: ConstrainedRateOptions = {},
  ) {
    checkKeys(op, options, ['name', 'numThresholds', 'classId']);
    const n = options.numThresholds ?? 200;
    if (!Number.isInteger(n) || n < 1)
      throw new ValueError(`${op}: numThresholds must be an integer >= 1; received ${fmtValue(options.numThresholds)}`);
    super(options.name ?? defaultName, 2 * n + 2);
    if (typeof value !== 'number' || !(value >= 0 && value <= 1))
      throw new ValueError(`${op}: ${constrained} must be in [0, 1]; received ${fmtValue(value)}`);
    this.value = value;
    this.numThresholds = n;
    if (options.classId !== undefined && !(Number.isInteger(options.classId) && options.classId >= 0)) {
      throw new ValueError(`${op}: classId must be a non-negative integer; received ${fmtValue(options.classId)}`);
    }
    this.classId = options.classId;
  }

  override update(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    noGrad(() => {
      let [t, p] = sameShapePair(this.name, yTrue, yPred);
      checkBatch(this.name, t, p);
      const dt = p.dtype === 'float64' ? 'float64' : 'float32';
      let w =
        sampleWeight === undefined || sampleWeight === null
          ? undefined
          : cast(broadcastWeight(this.name, metricInput(this.name, 'sampleWeight', sampleWeight), p.shape), dt);
      if (this.classId !== undefined) {
        const classes = p.rank < 2 ? 0 : p.shape[p.rank - 1];
        if (this.classId >= classes)
          throw new ValueError(
            `${this.name}: classId ${this.classId} needs yPred [batch, classes] with more classes; received ${fmtShape(yPred.shape)}`,
          );
        const column = (x: Tensor) =>
          slice(
            x,
            x.shape.map((_, i) => (i === x.rank - 1 ? this.classId! : 0)),
            x.shape.map((d, i) => (i === x.rank - 1 ? 1 : d)),
          );
        [t, p] = [column(t), column(p)];
        if (w) w = column(w);
      }
      const m = p.size,
        n = this.numThresholds;
      const scores = clip(reshape(cast(p, dt), [m]), 0, 1);
      // Non-zero labels are positive (Keras casts them to bool).
      const positive = cast(cast(reshape(t, [m]), 'bool'), dt);
      const weights = w ? reshape(w, [m]) : undefined;
      const posMass = weights ? mul(positive, weights) : positive;
      const negMass = weights ? mul(sub(1, positive), weights) : sub(1, positive);
      // Bucket b counts at thresholds 0..b; with one threshold (0.5), bucket 0 is p > 0.5.
      const bucket = n === 1 ? sub(cast(greater(scores, 0.5), 'int32'), 1) : cast(sub(ceil(mul(scores, n - 1)), 1), 'int32');
      const buckets = oneHot(bucket, n, { dtype: 'float32' });
      const masses = reshape(concat([reshape(posMass, [1, m]), reshape(negMass, [1, m])]), [2, m]);
      const perBucket = reshape(matmul(cast(masses, dt), cast(buckets, dt)), [2 * n]);
      this.addSums(concat([perBucket, reshape(sum(posMass), [1]), reshape(sum(negMass), [1])]));
    });
  }

  /**
   * tp, fp, tn, fn at each threshold, from the bucket masses.
   * @internal
   */
  confusion(): { tp: Float64Array; fp: Float64Array; tn: Float64Array; fn: Float64Array } {
    const s = this.totals(),
      n = this.numThresholds;
    const tp = new Float64Array(n),
      fp = new Float64Array(n),
      tn = new Float64Array(n),
      fn = new Float64Array(n);
    const positives = s[2 * n],
      negatives = s[2 * n + 1];
    let pos = 0,
      neg = 0;
    for (let j = n - 1; j >= 0; j--) {
      pos += s[j];
      neg += s[n + j];
      tp[j] = pos;
      fp[j] = neg;
      fn[j] = positives - pos;
      tn[j] = negatives - neg;
    }
    return { tp, fp, tn, fn };
  }

  override result(): number {
    const { tp, fp, tn, fn } = this.confusion();
    const rate = (r: ConfusionRate, j: number) =>
      r === 'precision'
        ? divideNoNan(tp[j], tp[j] + fp[j])
        : r === 'specificity'
          ? divideNoNan(tn[j], tn[j] + fp[j])
          : divideNoNan(tp[j], tp[j] + fn[j]);
    let best = 0;
    for (let j = 0; j < this.numThresholds; j++) {
      if (rate(this.constrained, j) >= this.value) best = Math.max(best, rate(this.reported, j));
    }
    return best;
  }

  override getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { name: this.name, [this.constrained]: this.value, numThresholds: this.numThresholds };
    if (this.classId !== undefined) config.classId = this.classId;
    return config;
  }
}

/** The best precision among thresholds where recall >= `recall` (Keras's PrecisionAtRecall). */
export const precisionAtRecall = (recall: number, options: ConstrainedRateOptions = {}): ConstrainedRate =>
  new ConstrainedRate('precisionAtRecall', 'recall', 'precision', recall, 'precision_at_recall', options);
/** The best recall among thresholds where precision >= `precision` (Keras's RecallAtPrecision). */
export const recallAtPrecision = (precision: number, options: ConstrainedRateOptions = {}): ConstrainedRate =>
  new ConstrainedRate('recallAtPrecision', 'precision', 'recall', precision, 'recall_at_precision', options);
/** The best sensitivity among thresholds where specificity >= `specificity` (Keras's SensitivityAtSpecificity). */
export const sensitivityAtSpecificity = (specificity: number, options: ConstrainedRateOptions = {}): ConstrainedRate =>
  new ConstrainedRate('sensitivityAtSpecificity', 'specificity', 'sensitivity', specificity, 'sensitivity_at_specificity', options);
/** The best specificity among thresholds where sensitivity >= `sensitivity` (Keras's SpecificityAtSensitivity). */
export const specificityAtSensitivity = (sensitivity: number, options: ConstrainedRateOptions = {}): ConstrainedRate =>
  new ConstrainedRate('specificityAtSensitivity', 'sensitivity', 'specificity', sensitivity, 'specificity_at_sensitivity', options);
