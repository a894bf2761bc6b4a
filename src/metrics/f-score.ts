import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import { abs, cast, greater, greaterEqual, logicalAnd, mul, sub } from '../ops/elementwise.js';
import { max, sum } from '../ops/reduction.js';
import { concat, reshape } from '../ops/shape-ops.js';
import { noGrad } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBatch, metricInput } from './metric.js';
import { SummedStateMetric } from './summed-state.js';

// Keras 3's FBetaScore and F1Score (keras/src/metrics/f_score_metrics.py, Keras 3.16.0). yTrue and
// yPred are [N, classes]; a prediction is positive above `threshold`, or, without one, where it
// equals its row's maximum (and is not ~0, so an all-zero row predicts nothing). Per class (or
// over all entries with 'micro') the weighted tp, fp, fn and label mass add up over batches; the
// result is (1 + β²) P R / (β² P + R + ε) with P = tp / (tp + fp + ε), R = tp / (tp + fn + ε),
// ε = 1e-7, then averaged as `average` says.

/** How FBetaScore combines classes: per class ('none', Keras's None), or one number. */
export type FScoreAverage = 'none' | 'micro' | 'macro' | 'weighted';

/** Options of `st.metrics.fBetaScore` (and `f1Score`, without beta). */
export interface FBetaScoreOptions {
  /** The key in the logs. Default 'fbeta_score' ('f1_score' for f1Score). */
  name?: string;
  /**
   * 'none' (or null, Keras's default None): one score per class, in `results()`; 'micro': from the
   * counts over all classes; 'macro': the mean of the class scores; 'weighted': their mean weighted
   * by each class's label mass.
   */
  average?: FScoreAverage | null;
  /** The weight of recall against precision (> 0). Default 1. */
  beta?: number;
  /** A prediction is positive above it (0 < threshold <= 1); default: the row's maximum is. */
  threshold?: number;
}

const EPSILON = 1e-7;

/** Keras's FBetaScore: the F-beta score of multi-label or one-hot predictions, per class or averaged. */
export class FBetaScore extends SummedStateMetric {
  /** How classes are combined. */
  readonly average: FScoreAverage;
  /** The recall weight. */
  readonly beta: number;
  /** The positive threshold, if given. */
  readonly threshold: number | undefined;

  constructor(options: FBetaScoreOptions = {}, op = 'fBetaScore', defaultName = 'fbeta_score') {
    checkKeys(op, options, op === 'f1Score' ? ['name', 'average', 'threshold'] : ['name', 'average', 'beta', 'threshold']);
    super(options.name ?? defaultName);
    this.average =
      options.average === null ? 'none' : checkOneOf(op, 'average', options.average ?? 'none', ['none', 'micro', 'macro', 'weighted'] as const);
    const beta = options.beta ?? 1;
    if (typeof beta !== 'number' || !(beta > 0)) throw new ValueError(`${op}: beta must be a number > 0; received ${fmtValue(options.beta)}`);
    this.beta = beta;
    const threshold = options.threshold;
    if (threshold !== undefined && !(typeof threshold === 'number' && threshold > 0 && threshold <= 1)) {
      throw new ValueError(`${op}: threshold must be a number with 0 < threshold <= 1; received ${fmtValue(threshold)}`);
    }
    this.threshold = threshold;
  }

  override update(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    noGrad(() => {
      const t0 = metricInput(this.name, 'yTrue', yTrue),
        p0 = metricInput(this.name, 'yPred', yPred);
      const same = t0.rank === 2 && p0.rank === 2 && t0.shape[1] === p0.shape[1];
      if (!same) {
        throw new ShapeError(
          `${this.name}: expected yTrue and yPred of shape [batch, classes]; received yTrue ${fmtShape(t0.shape)} and yPred ${fmtShape(p0.shape)}`,
        );
      }
      checkBatch(this.name, t0, p0);
      const classes = p0.shape[1];
      const width = this.average === 'micro' ? 1 : classes;
      this.buildState(
        4 * width,
        () => new ShapeError(`${this.name}: expected ${this.stateLength! / 4} classes as in the first batch; received yPred ${fmtShape(p0.shape)}`),
      );
      const dt = p0.dtype === 'float64' || t0.dtype === 'float64' ? 'float64' : 'float32';
      const p = cast(p0, dt),
        t = cast(t0, dt);
      const positive =
        this.threshold === undefined ? logicalAnd(greaterEqual(p, max(p, -1, true)), greater(abs(p), 1e-9)) : greater(p, this.threshold);
      const predicted = cast(positive, dt);
      let w: Tensor | undefined;
      if (sampleWeight !== undefined && sampleWeight !== null) {
        w = cast(metricInput(this.name, 'sampleWeight', sampleWeight), dt);
        if (w.rank === 1) w = reshape(w, [w.size, 1]);
        const fits =
          w.rank === 0 || (w.rank === 2 && (w.shape[0] === 1 || w.shape[0] === p.shape[0]) && (w.shape[1] === 1 || w.shape[1] === classes));
        if (!fits)
          throw new ShapeError(
            `${this.name}: sampleWeight must be per sample or broadcast to yPred ${fmtShape(p.shape)}; received ${fmtShape(w.shape)}`,
          );
      }
      const total = (v: Tensor) => {
        const weighted = w ? mul(v, w) : v;
        return this.average === 'micro' ? reshape(sum(weighted), [1]) : sum(weighted, 0);
      };
      this.addSums(concat([total(mul(predicted, t)), total(mul(predicted, sub(1, t))), total(mul(sub(1, predicted), t)), total(t)]));
    });
  }

  /** The score per class (average 'none'), or the one averaged score. */
  results(): number[] {
    const s = this.totals();
    const width = s.length / 4;
    if (width === 0) return [0];
    const b2 = this.beta * this.beta;
    const scores = Array.from({ length: width }, (_, j) => {
      const tp = s[j],
        fp = s[width + j],
        fn = s[2 * width + j];
      const precision = tp / (tp + fp + EPSILON),
        recall = tp / (tp + fn + EPSILON);
      return ((precision * recall) / (b2 * precision + recall + EPSILON)) * (1 + b2);
    });
    if (this.average === 'none') return scores;
    if (this.average === 'weighted') {
      const labels = Array.from(s.subarray(3 * width));
      const totalLabels = labels.reduce((a, b) => a + b, 0);
      return [scores.reduce((a, f, j) => a + f * (labels[j] / (totalLabels + EPSILON)), 0)];
    }
    return [scores.reduce((a, b) => a + b, 0) / width];
  }

  /** The averaged score (with average 'none', class 0's: all of them are in `results()`). */
  override result(): number {
    return this.results()[0];
  }

  protected override stateFromLength(length: number): number {
    if (length % 4 !== 0 || length === 0 || (this.average === 'micro' && length !== 4)) {
      throw new ValueError(`${this.name}: a state of 4 numbers per class (4 with 'micro') was expected; received ${length}`);
    }
    return length;
  }

  override getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { name: this.name, average: this.average, beta: this.beta };
    if (this.threshold !== undefined) config.threshold = this.threshold;
    return config;
  }
}

/** Keras's F1Score: FBetaScore with beta 1, logged as 'f1_score'. */
export class F1Score extends FBetaScore {
  constructor(options: Omit<FBetaScoreOptions, 'beta'> = {}) {
    super(options, 'f1Score', 'f1_score');
  }

  override getConfig(): Record<string, unknown> {
    const { beta: _beta, ...rest } = super.getConfig();
    return rest;
  }
}

export const fBetaScore = (options: FBetaScoreOptions = {}): FBetaScore => new FBetaScore(options);
export const f1Score = (options: Omit<FBetaScoreOptions, 'beta'> = {}): F1Score => new F1Score(options);
