import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import { noGrad } from '../tensor/tape.js';
import { add, cast, div, mul, neg, notEqual, square, sub } from '../ops/elementwise.js';
import { EPSILON } from '../ops/loss-common.js';
import {
  cosineSimilarity as cosineLoss,
  logCosh,
  meanAbsolutePercentageError as mapeLoss,
  meanSquaredLogarithmicError as msleLoss,
} from '../ops/losses-extra.js';
import { any, std, variance } from '../ops/numpy-extra.js';
import type { TensorInput } from '../ops/operand.js';
import { mean, sum } from '../ops/reduction.js';
import { broadcastTo, concat, reshape } from '../ops/shape-ops.js';
import type { Tensor } from '../tensor/tensor.js';
import type { NameOption } from './accuracy.js';
import { MeanMetricWrapper, Metric, alignRanks, checkBatch, metricInput, sameShapePair } from './metric.js';
import { PendingSums } from './pending-sums.js';
import { SummedStateMetric } from './summed-state.js';

// Keras 3's regression metrics beyond mse/mae/rmse (formulas of keras/src/metrics/
// regression_metrics.py and correlation_metrics.py, Keras 3.16.0). The per-sample ones reuse the
// losses' formulas with reduction 'none'; as with Strata's other mean metrics, a rank-1 batch [N]
// is N samples of one value (Keras would average it into one value counted once).

/** A [N] pair becomes [N, 1] so a last-axis formula gives one value per sample. */
function perSamplePair(metric: string, yTrue: Tensor, yPred: Tensor): [Tensor, Tensor] {
  const [t, p] = sameShapePair(metric, yTrue, yPred);
  if (p.rank >= 2) return [t, p];
  const column = (x: Tensor) => reshape(x, [x.size, 1]);
  return [column(t), column(p)];
}

/** Per-sample 100 * mean(|yTrue - yPred| / max(|yTrue|, 1e-7)) over the last axis (Keras's mean_absolute_percentage_error). */
export function meanAbsolutePercentageErrorValues(yTrue: Tensor, yPred: Tensor): Tensor {
  return mapeLoss(...perSamplePair('mean_absolute_percentage_error', yTrue, yPred), { reduction: 'none' });
}

/** Per-sample mean((log1p(max(yPred, 1e-7)) - log1p(max(yTrue, 1e-7)))²) over the last axis. */
export function meanSquaredLogarithmicErrorValues(yTrue: Tensor, yPred: Tensor): Tensor {
  return msleLoss(...perSamplePair('mean_squared_logarithmic_error', yTrue, yPred), { reduction: 'none' });
}

/** Per-sample mean(log(cosh(yPred - yTrue))) over the last axis. */
export function logCoshErrorValues(yTrue: Tensor, yPred: Tensor): Tensor {
  return logCosh(...perSamplePair('logcosh', yTrue, yPred), { reduction: 'none' });
}

/** Per-sample cosine similarity along `axis` (Keras's metric: +1 for the same direction; the loss is its negative). */
export function cosineSimilarityValues(yTrue: Tensor, yPred: Tensor, axis = -1): Tensor {
  const [t, p] = sameShapePair('cosine_similarity', yTrue, yPred);
  return neg(cosineLoss(t, p, { axis, reduction: 'none' }));
}

/** The float dtype of a pair: float64 when either is. */
const floatOf = (t: Tensor, p: Tensor) => (t.dtype === 'float64' || p.dtype === 'float64' ? 'float64' : 'float32');

/**
 * Keras's pearson_correlation along `axis` (default -1): the mean of the product of both inputs
 * centred and divided by (their standard deviation + 1e-7).
 */
export function pearsonCorrelation(yTrue: TensorInput, yPred: TensorInput, axis = -1): Tensor {
  const [t0, p0] = sameShapePair(
    'pearson_correlation',
    metricInput('pearson_correlation', 'yTrue', yTrue),
    metricInput('pearson_correlation', 'yPred', yPred),
  );
  const dt = floatOf(t0, p0);
  const [t, p] = [cast(t0, dt), cast(p0, dt)];
  const standardized = (x: Tensor) => {
    const centred = sub(x, mean(x, axis, true));
    return div(centred, add(std(centred, axis, true), EPSILON));
  };
  return mean(mul(standardized(t), standardized(p)), axis);
}

/**
 * Keras's concordance_correlation along `axis` (default -1):
 * mean(2 (yTrue - mean(yPred)) (yPred - mean(yPred)) / (var(yTrue) + var(yPred) + (mean(yTrue) - mean(yPred))² + 1e-7)).
 * The first factor is centred on yPred's mean, as Keras 3.16 writes it (the textbook coefficient
 * centres yTrue on its own mean; the two differ when the means differ).
 */
export function concordanceCorrelation(yTrue: TensorInput, yPred: TensorInput, axis = -1): Tensor {
  const op = 'concordance_correlation';
  const [t0, p0] = sameShapePair(op, metricInput(op, 'yTrue', yTrue), metricInput(op, 'yPred', yPred));
  const dt = floatOf(t0, p0);
  const [t, p] = [cast(t0, dt), cast(p0, dt)];
  const tMean = mean(t, axis, true),
    pMean = mean(p, axis, true);
  const norm = add(add(variance(t, axis, true), variance(p, axis, true)), square(sub(tMean, pMean)));
  const covar = mul(sub(t, pMean), sub(p, pMean));
  return mean(div(mul(covar, 2), add(norm, EPSILON)), axis);
}

/** Options of the metrics that take an axis (cosineSimilarity, pearsonCorrelation, concordanceCorrelation). */
export interface AxisMetricOptions {
  /** The key in the logs. */
  name?: string;
  /** The axis the values of one sample lie along. Default -1. */
  axis?: number;
}

function wrapper(op: string, defaultName: string, options: NameOption, fn: (t: Tensor, p: Tensor) => Tensor): MeanMetricWrapper {
  checkKeys(op, options, ['name']);
  return new MeanMetricWrapper(options.name ?? defaultName, fn);
}

function axisWrapper(
  op: string,
  defaultName: string,
  options: AxisMetricOptions,
  fn: (t: Tensor, p: Tensor, axis: number) => Tensor,
): MeanMetricWrapper {
  checkKeys(op, options, ['name', 'axis']);
  const axis = options.axis ?? -1;
  if (!Number.isInteger(axis)) throw new ValueError(`${op}: axis must be an integer; received ${fmtValue(options.axis)}`);
  return new MeanMetricWrapper(options.name ?? defaultName, (t, p) => fn(t, p, axis), { axis });
}

/** Keras's MeanAbsolutePercentageError, logged as 'mean_absolute_percentage_error'. */
export const meanAbsolutePercentageError = (options: NameOption = {}): MeanMetricWrapper =>
  wrapper('meanAbsolutePercentageError', 'mean_absolute_percentage_error', options, meanAbsolutePercentageErrorValues);
/** Keras's MeanSquaredLogarithmicError, logged as 'mean_squared_logarithmic_error'. */
export const meanSquaredLogarithmicError = (options: NameOption = {}): MeanMetricWrapper =>
  wrapper('meanSquaredLogarithmicError', 'mean_squared_logarithmic_error', options, meanSquaredLogarithmicErrorValues);
/** Keras's LogCoshError, logged as 'logcosh'. */
export const logCoshError = (options: NameOption = {}): MeanMetricWrapper => wrapper('logCoshError', 'logcosh', options, logCoshErrorValues);
/** Keras's CosineSimilarity, logged as 'cosine_similarity'. */
export const cosineSimilarity = (options: AxisMetricOptions = {}): MeanMetricWrapper =>
  axisWrapper('cosineSimilarity', 'cosine_similarity', options, cosineSimilarityValues);
/** Keras's PearsonCorrelation: the running mean of per-sample pearsonCorrelation. */
export const pearsonCorrelationMetric = (options: AxisMetricOptions = {}): MeanMetricWrapper =>
  axisWrapper('pearsonCorrelation', 'pearson_correlation', options, pearsonCorrelation);
/** Keras's ConcordanceCorrelation: the running mean of per-sample concordanceCorrelation. */
export const concordanceCorrelationMetric = (options: AxisMetricOptions = {}): MeanMetricWrapper =>
  axisWrapper('concordanceCorrelation', 'concordance_correlation', options, concordanceCorrelation);

/** How R2Score combines the scores of several outputs (Keras's class_aggregation; 'none' is Keras's None). */
export type R2Aggregation = 'uniform_average' | 'variance_weighted_average' | 'none';

/** Options of `st.metrics.r2Score`. */
export interface R2ScoreOptions {
  /** The key in the logs. Default 'r2_score'. */
  name?: string;
  /** Default 'uniform_average'; 'none' (or null) keeps one score per output (see `results()`). */
  classAggregation?: R2Aggregation | null;
  /** The number of regressors p for the adjusted R² 1 - (1 - R²)(n - 1)/(n - p - 1). Default 0 (plain R²). */
  numRegressors?: number;
}

/**
 * Keras's R2Score, the coefficient of determination over everything seen: per output column,
 * 1 - sum(w (y - ŷ)²) / (sum(w y²) - sum(w y)² / sum(w)), an infinite score (constant labels)
 * read as 0; the columns averaged uniformly or by their label variance. The state is a vector of
 * sums (5 per output, then the count of samples with a non-zero weight), so it adds across
 * batches and ranks. yTrue and yPred are [N, outputs] ([N] is one output).
 */
export class R2Score extends SummedStateMetric {
  /** How outputs are combined. */
  readonly classAggregation: R2Aggregation;
  /** The p of the adjusted score (0: plain R²). */
  readonly numRegressors: number;

  constructor(options: R2ScoreOptions = {}) {
    checkKeys('r2Score', options, ['name', 'classAggregation', 'numRegressors']);
    super(options.name ?? 'r2_score');
    this.classAggregation = checkOneOf('r2Score', 'classAggregation', options.classAggregation ?? 'uniform_average', [
      'uniform_average',
      'variance_weighted_average',
      'none',
    ] as const);
    if (options.classAggregation === null) this.classAggregation = 'none';
    const p = options.numRegressors ?? 0;
    if (!Number.isInteger(p) || p < 0)
      throw new ValueError(`r2Score: numRegressors must be an integer >= 0; received ${fmtValue(options.numRegressors)}`);
    this.numRegressors = p;
  }

  override update(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    noGrad(() => {
      let [t, p] = sameShapePair(this.name, yTrue, yPred);
      checkBatch(this.name, t, p);
      if (p.rank === 1) [t, p] = [reshape(t, [t.size, 1]), reshape(p, [p.size, 1])];
      if (p.rank !== 2) throw new ShapeError(`${this.name}: expected yTrue and yPred of shape [batch, outputs]; received ${fmtShape(yPred.shape)}`);
      const outputs = p.shape[1];
      this.buildState(
        4 * outputs + 1,
        () =>
          new ShapeError(
            `${this.name}: expected ${(this.stateLength! - 1) / 4} outputs (yPred's last axis) as in the first batch; received ${fmtShape(yPred.shape)}`,
          ),
      );
      const dt = floatOf(t, p);
      [t, p] = [cast(t, dt), cast(p, dt)];
      let w: Tensor;
      if (sampleWeight === undefined || sampleWeight === null) w = broadcastTo(cast(1, dt), p.shape);
      else {
        let given = cast(metricInput(this.name, 'sampleWeight', sampleWeight), dt);
        if (given.rank === 1) given = reshape(given, [given.size, 1]);
        const fits = given.rank <= 2 && given.shape.every((d, i) => d === 1 || d === p.shape[i + 2 - given.rank]);
        if (!fits) throw new ShapeError(`${this.name}: sampleWeight must broadcast to yTrue ${fmtShape(p.shape)}; received ${fmtShape(given.shape)}`);
        w = broadcastTo(given, p.shape);
      }
      const wy = mul(t, w);
      const counted = sum(cast(any(notEqual(w, 0), -1), dt));
      this.addSums(concat([sum(wy, 0), sum(mul(t, wy), 0), sum(mul(square(sub(t, p)), w), 0), sum(w, 0), reshape(counted, [1])]));
    });
  }

  /** The score of each output (before aggregation and adjustment). */
  private rawScores(): { scores: number[]; totals: number[]; samples: number } {
    const s = this.totals();
    const outputs = (s.length - 1) / 4;
    const scores: number[] = [],
      totals: number[] = [];
    for (let j = 0; j < outputs; j++) {
      const ySum = s[j],
        ySquares = s[outputs + j],
        residual = s[2 * outputs + j],
        count = s[3 * outputs + j];
      const total = ySquares - ySum * (ySum / count);
      const raw = 1 - residual / total;
      totals.push(total);
      // Keras: an infinite score (constant labels, zero total) reads as 0; NaN (nothing seen) stays.
      scores.push(Number.isFinite(raw) || Number.isNaN(raw) ? raw : 0);
    }
    return { scores, totals, samples: s[4 * outputs] ?? 0 };
  }

  /** The adjusted score for `n` samples, or the plain one where Keras falls back to it. */
  private adjust(r2: number, n: number): number {
    const p = this.numRegressors;
    if (p === 0 || p >= n - 1) return r2; // Keras warns and keeps the plain score.
    return 1 - ((1 - r2) * (n - 1)) / (n - p - 1);
  }

  /** The score per output with classAggregation 'none'; else a single aggregated score. */
  results(): number[] {
    if (this.stateLength === undefined) return [0];
    const { scores, totals, samples } = this.rawScores();
    // Nothing seen (or only zero weights) reads as 0, as every metric does before its first batch.
    if (samples === 0) return scores.map(() => 0);
    if (this.classAggregation === 'none') return scores.map((r) => this.adjust(r, samples));
    const r2 =
      this.classAggregation === 'uniform_average'
        ? scores.reduce((a, b) => a + b, 0) / scores.length
        : scores.reduce((a, r, j) => a + r * totals[j], 0) / totals.reduce((a, b) => a + b, 0);
    return [this.adjust(r2, samples)];
  }

  /** The aggregated score (with 'none', the first output's: all of them are in `results()`). */
  override result(): number {
    return this.results()[0];
  }

  protected override stateFromLength(length: number): number {
    if ((length - 1) % 4 !== 0 || length < 5)
      throw new ValueError(`${this.name}: a state of 4 * outputs + 1 numbers was expected; received ${length}`);
    return length;
  }

  override getConfig(): Record<string, unknown> {
    return { name: this.name, classAggregation: this.classAggregation, numRegressors: this.numRegressors };
  }
}

export const r2Score = (options: R2ScoreOptions = {}): R2Score => new R2Score(options);

/**
 * A running weighted sum of values (Keras's Sum), fed with `updateValues(values, sampleWeight?)`:
 * values are summed over everything, each sample's scaled by its weight.
 */
export class Sum extends Metric {
  private readonly total: PendingSums;

  constructor(options: NameOption = {}) {
    checkKeys('sum', options, ['name']);
    super(options.name ?? 'sum');
    this.total = new PendingSums(this.name, 1);
  }

  /** Adds sum(values * sampleWeight), the weight broadcast over the values' trailing axes. */
  updateValues(values: TensorInput, sampleWeight?: TensorInput): void {
    noGrad(() => {
      let v = metricInput(this.name, 'values', values);
      v = cast(v, v.dtype === 'float64' ? 'float64' : 'float32');
      if (sampleWeight === undefined || sampleWeight === null) {
        this.total.add(reshape(sum(v), [1]));
        return;
      }
      let w = cast(metricInput(this.name, 'sampleWeight', sampleWeight), v.dtype);
      [v, w] = alignRanks(v, w);
      if (v.rank > w.rank)
        v = sum(
          v,
          Array.from({ length: v.rank - w.rank }, (_, i) => w.rank + i),
        );
      const fits = w.rank === v.rank && w.shape.every((d, i) => d === v.shape[i] || d === 1);
      if (!fits) throw new ShapeError(`${this.name}: sampleWeight ${fmtShape(w.shape)} does not broadcast to the values ${fmtShape(v.shape)}`);
      this.total.add(reshape(sum(mul(v, w)), [1]));
    });
  }

  /** Sum adds plain values: use updateValues. */
  override update(_yTrue: Tensor, _yPred: Tensor): void {
    throw new ValueError(`${this.name}: a running sum is fed with updateValues(values, sampleWeight?); received update(yTrue, yPred)`);
  }

  override result(): number {
    this.total.settleSync();
    return this.total.host[0];
  }

  override settle(): Promise<void> {
    return this.total.settle();
  }

  /** Forgets everything accumulated. */
  override reset(): void {
    this.total.reset();
  }

  override getState(): number[] {
    return [this.result()];
  }

  override setState(state: readonly number[]): void {
    if (state.length !== 1 || typeof state[0] !== 'number')
      throw new ValueError(`${this.name}: expected the state [total]; received ${fmtValue(state)}`);
    this.total.set(state);
  }
}

export const sumMetric = (options: NameOption = {}): Sum => new Sum(options);
