import type { DType } from '../core/dtype.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { cast, equal, greater, isNaN, less, logicalAnd, where } from '../ops/elementwise.js';
import { argMax, mean, sum } from '../ops/reduction.js';
import { expandDims, reshape } from '../ops/shape-ops.js';
import { arange } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { MeanMetricWrapper, sameShapePair } from './metric.js';

// Accuracy metrics as per-sample functions (1 for a hit, 0 for a miss) averaged by
// MeanMetricWrapper. Definitions follow Keras 3; where Keras would average a rank-1 batch into one
// scalar (and so count the batch once, whatever its size), these keep one value per sample so that
// the streamed value equals the value over the whole dataset.

/** The float dtype comparisons run in: float64 only when an input already is. */
function compareType(a: Tensor, b: Tensor): DType {
  return a.dtype === 'float64' || b.dtype === 'float64' ? 'float64' : 'float32';
}

/** yPred > threshold compared with yTrue, averaged over the last axis of rank-2+ inputs. */
export function binaryAccuracyValues(yTrue: Tensor, yPred: Tensor, threshold = 0.5, metric = 'binary_accuracy'): Tensor {
  const [t, p] = sameShapePair(metric, yTrue, yPred);
  const dt = compareType(t, p);
  const predicted = cast(greater(p, threshold), dt);
  const hits = cast(equal(cast(t, dt), predicted), dt);
  return hits.rank >= 2 ? mean(hits, -1) : hits;
}

/** argMax(yTrue) == argMax(yPred) over the last (class) axis. */
export function categoricalAccuracyValues(yTrue: Tensor, yPred: Tensor, metric = 'categorical_accuracy'): Tensor {
  const sameShape = yTrue.rank === yPred.rank && yTrue.shape.every((d, i) => d === yPred.shape[i]);
  if (!sameShape || yPred.rank === 0) {
    throw new ShapeError(
      `${metric}: yTrue (one-hot) and yPred must have the same shape [..., classes]; yTrue is ${fmtShape(yTrue.shape)}, yPred is ${fmtShape(yPred.shape)}`,
    );
  }
  return cast(equal(argMax(yTrue, -1), argMax(yPred, -1)), compareType(yTrue, yPred));
}

/** Integer labels (int or float, shape [...] or [..., 1]) against yPred [..., classes]. */
function sparseLabels(metric: string, yTrue: Tensor, yPred: Tensor): Tensor {
  let labels = yTrue;
  if (labels.rank === yPred.rank && labels.rank > 0 && labels.shape[labels.rank - 1] === 1) labels = reshape(labels, labels.shape.slice(0, -1));
  const expected = yPred.shape.slice(0, -1);
  const fits = yPred.rank > 0 && labels.rank === expected.length && labels.shape.every((d, i) => d === expected[i]);
  if (!fits) {
    throw new ShapeError(
      `${metric}: yTrue must hold one class index per sample, shaped like yPred without its class axis (or with it as 1); yTrue is ${fmtShape(yTrue.shape)}, yPred is ${fmtShape(yPred.shape)}`,
    );
  }
  return labels;
}

/** argMax(yPred) == yTrue, compared as floats as Keras does (a label of 2.5 never matches). */
export function sparseCategoricalAccuracyValues(yTrue: Tensor, yPred: Tensor, metric = 'sparse_categorical_accuracy'): Tensor {
  const labels = sparseLabels(metric, yTrue, yPred);
  const dt = compareType(labels, yPred);
  return cast(equal(cast(labels, dt), cast(argMax(yPred, -1), dt)), dt);
}

/**
 * Whether the true class is among the k highest scores. As in Keras 3 (in_top_k): the class is
 * in the top k when fewer than k classes score strictly higher, so ties at the boundary count as
 * hits; a NaN score at the label counts as -Infinity; a label outside [0, classes) never hits.
 */
export function sparseTopKValues(yTrue: Tensor, yPred: Tensor, k = 5, metric = 'sparse_top_k_categorical_accuracy'): Tensor {
  const labels = sparseLabels(metric, yTrue, yPred);
  const classes = yPred.shape[yPred.rank - 1];
  const isLabel = equal(expandDims(cast(labels, 'int32'), -1), arange(0, classes, 1, 'int32'));
  let atLabel = sum(where(isLabel, yPred, 0), -1, true);
  atLabel = where(isNaN(atLabel), -Infinity, atLabel);
  const higher = sum(greater(yPred, atLabel), -1);
  const known = greater(sum(isLabel, -1), 0);
  return cast(logicalAnd(less(higher, k), known), compareType(labels, yPred));
}

/** Top-k accuracy with one-hot labels: the class of argMax(yTrue) among the k best. */
export function topKValues(yTrue: Tensor, yPred: Tensor, k = 5, metric = 'top_k_categorical_accuracy'): Tensor {
  const sameShape = yTrue.rank === yPred.rank && yTrue.shape.every((d, i) => d === yPred.shape[i]);
  if (!sameShape || yPred.rank === 0) {
    throw new ShapeError(
      `${metric}: yTrue (one-hot) and yPred must have the same shape [..., classes]; yTrue is ${fmtShape(yTrue.shape)}, yPred is ${fmtShape(yPred.shape)}`,
    );
  }
  return sparseTopKValues(argMax(yTrue, -1), yPred, k, metric);
}

// ---- metric factories -----------------------------------------------------------------------

/** The option every metric takes. */
export interface NameOption {
  /** The key in the logs; default: Keras's name for the metric (`binary_accuracy`, `mse`, ...). */
  name?: string;
}
/** Options of `st.metrics.binaryAccuracy`. */
export interface BinaryAccuracyOptions extends NameOption {
  /** A prediction above it counts as 1. Default 0.5. */
  threshold?: number;
}
/** Options of the top-k accuracies. */
export interface TopKOptions extends NameOption {
  /** How many of the highest scores may hold the true class. Default 5. */
  k?: number;
}

function checkK(metric: string, k: number): number {
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`${metric}: k must be a positive integer; received ${fmtValue(k)}`);
  return k;
}

export function binaryAccuracy(options: BinaryAccuracyOptions = {}): MeanMetricWrapper {
  checkKeys('binaryAccuracy', options, ['name', 'threshold']);
  const { name = 'binary_accuracy', threshold = 0.5 } = options;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    throw new ValueError(`binaryAccuracy: threshold must be a finite number; received ${fmtValue(threshold)}`);
  }
  return new MeanMetricWrapper(name, (t, p) => binaryAccuracyValues(t, p, threshold, name), { threshold });
}

export function categoricalAccuracy(options: NameOption = {}): MeanMetricWrapper {
  checkKeys('categoricalAccuracy', options, ['name']);
  const { name = 'categorical_accuracy' } = options;
  return new MeanMetricWrapper(name, (t, p) => categoricalAccuracyValues(t, p, name));
}

export function sparseCategoricalAccuracy(options: NameOption = {}): MeanMetricWrapper {
  checkKeys('sparseCategoricalAccuracy', options, ['name']);
  const { name = 'sparse_categorical_accuracy' } = options;
  return new MeanMetricWrapper(name, (t, p) => sparseCategoricalAccuracyValues(t, p, name));
}

export function topKCategoricalAccuracy(options: TopKOptions = {}): MeanMetricWrapper {
  checkKeys('topKCategoricalAccuracy', options, ['name', 'k']);
  const { name = 'top_k_categorical_accuracy', k = 5 } = options;
  checkK('topKCategoricalAccuracy', k);
  return new MeanMetricWrapper(name, (t, p) => topKValues(t, p, k, name), { k });
}

export function sparseTopKCategoricalAccuracy(options: TopKOptions = {}): MeanMetricWrapper {
  checkKeys('sparseTopKCategoricalAccuracy', options, ['name', 'k']);
  const { name = 'sparse_top_k_categorical_accuracy', k = 5 } = options;
  checkK('sparseTopKCategoricalAccuracy', k);
  return new MeanMetricWrapper(name, (t, p) => sparseTopKValues(t, p, k, name), { k });
}

// ---- 'accuracy': the variant chosen from the loss or the shapes -------------------------------

/**
 * Which accuracy 'accuracy' means: binary (thresholded at 0.5), categorical (one-hot labels) or
 * sparse (integer labels).
 */
export type AccuracyVariant = 'binary' | 'categorical' | 'sparse';
export const ACCURACY_VARIANTS: readonly AccuracyVariant[] = ['binary', 'categorical', 'sparse'];

/**
 * Keras's rule for the string 'accuracy' when the loss does not decide: a last axis of 1 (or no
 * class axis at all) is binary; yTrue of yPred's rank with the same last axis is one-hot
 * (categorical); anything else is integer labels (sparse).
 */
export function accuracyVariantFromShapes(yTrue: Tensor, yPred: Tensor): AccuracyVariant {
  if (yPred.rank <= 1 || yPred.shape[yPred.rank - 1] === 1) return 'binary';
  if (yTrue.rank === yPred.rank && yTrue.shape[yTrue.rank - 1] === yPred.shape[yPred.rank - 1]) return 'categorical';
  return 'sparse';
}

/** The variant a loss implies, by Keras loss name in camelCase or snake_case; undefined if none. */
export function accuracyVariantFromLoss(lossName: string | undefined): AccuracyVariant | undefined {
  if (typeof lossName !== 'string') return undefined;
  switch (lossName.toLowerCase().replace(/_/g, '')) {
    case 'sparsecategoricalcrossentropy':
      return 'sparse';
    case 'categoricalcrossentropy':
      return 'categorical';
    case 'binarycrossentropy':
      return 'binary';
    default:
      return undefined;
  }
}

/** Options of `st.metrics.accuracy`. */
export interface AccuracyOptions extends NameOption {
  /** Fix the variant instead of choosing it at the first update. */
  variant?: AccuracyVariant;
}

/**
 * The metric behind 'accuracy' / 'acc': binary, categorical or sparse categorical accuracy,
 * fixed by `variant` (from the loss) or chosen from the shapes of the first batch and kept after.
 * Unlike Keras's `Accuracy` class (exact equality of yTrue and yPred), this is what Keras's
 * compile() does with the string 'accuracy'.
 */
export class AutoAccuracy extends MeanMetricWrapper {
  private readonly choice: { variant: AccuracyVariant | undefined };

  constructor(options: AccuracyOptions = {}) {
    checkKeys('accuracy', options, ['name', 'variant']);
    const name = options.name ?? 'accuracy';
    if (options.variant !== undefined && !ACCURACY_VARIANTS.includes(options.variant)) {
      throw new ValueError(
        `accuracy: variant must be one of ${ACCURACY_VARIANTS.map((v) => `'${v}'`).join(', ')}; received ${fmtValue(options.variant)}`,
      );
    }
    const choice = { variant: options.variant };
    super(name, (t, p) => {
      choice.variant ??= accuracyVariantFromShapes(t, p);
      switch (choice.variant) {
        case 'binary':
          return binaryAccuracyValues(t, p, 0.5, name);
        case 'categorical':
          return categoricalAccuracyValues(t, p, name);
        case 'sparse':
          return sparseCategoricalAccuracyValues(t, p, name);
      }
    });
    this.choice = choice;
  }

  /** The variant in use, or undefined until the first update decides it. */
  get variant(): AccuracyVariant | undefined {
    return this.choice.variant;
  }

  override getConfig(): Record<string, unknown> {
    return this.choice.variant === undefined ? { name: this.name } : { name: this.name, variant: this.choice.variant };
  }
}

export function accuracy(options: AccuracyOptions = {}): AutoAccuracy {
  return new AutoAccuracy(options);
}
