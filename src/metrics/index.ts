import { ValueError } from '../core/errors.js';
import {
  AutoAccuracy,
  accuracy,
  accuracyVariantFromLoss,
  binaryAccuracy,
  categoricalAccuracy,
  sparseCategoricalAccuracy,
  sparseTopKCategoricalAccuracy,
  topKCategoricalAccuracy,
  type NameOption,
} from './accuracy.js';
import { auc } from './auc.js';
import { precision, recall } from './confusion.js';
import { Mean, MeanMetricWrapper, Metric, type MetricFunction } from './metric.js';
import { meanAbsoluteError, meanSquaredError, rootMeanSquaredError } from './regression.js';

export { Metric, Mean, MeanMetricWrapper, RenamedMetric, weightedSums, type MetricFunction, type WeightedSums } from './metric.js';
export {
  AutoAccuracy,
  accuracyVariantFromLoss,
  accuracyVariantFromShapes,
  binaryAccuracyValues,
  categoricalAccuracyValues,
  sparseCategoricalAccuracyValues,
  sparseTopKValues,
  topKValues,
  type AccuracyOptions,
  type AccuracyVariant,
  type BinaryAccuracyOptions,
  type NameOption,
  type TopKOptions,
} from './accuracy.js';
export { RootMeanSquaredError, absoluteErrorValues, squaredErrorValues } from './regression.js';
export { ConfusionMetric, Precision, Recall, type ConfusionOptions } from './confusion.js';
export { AUC, evenThresholds, type AucCurve, type AucOptions, type AucSummation } from './auc.js';

/**
 * `st.metrics.*`: metric factories taking Keras's options (camelCase); a metric's default name is
 * Keras's key in the logs ('accuracy', 'mse', 'auc', ...). `compile({metrics})` takes these, their
 * names, or plain functions (see {@link getMetric}).
 * @namespace
 */
export const metrics = {
  /**
   * Accuracy whose kind Keras's rules pick: from the compiled loss when `compile({metrics:
   * ['accuracy']})` names it, else from the first batch's shapes (binary, one-hot or integer labels).
   */
  accuracy,
  /** The fraction of predictions on the right side of `threshold` (0.5) (Keras's BinaryAccuracy). */
  binaryAccuracy,
  /** The fraction of samples whose highest score is the one-hot label's class. */
  categoricalAccuracy,
  /** The fraction of samples whose highest score is the integer label's class. */
  sparseCategoricalAccuracy,
  /** The fraction of samples whose one-hot label's class is among the `k` (5) highest scores. */
  topKCategoricalAccuracy,
  /** The fraction of samples whose integer label is among the `k` (5) highest scores. */
  sparseTopKCategoricalAccuracy,
  /** The mean of (yTrue - yPred)², logged as `mean_squared_error`. */
  meanSquaredError,
  /** Alias of meanSquaredError. */
  mse: meanSquaredError,
  /** The mean of |yTrue - yPred|, logged as `mean_absolute_error`. */
  meanAbsoluteError,
  /** Alias of meanAbsoluteError. */
  mae: meanAbsoluteError,
  /** The square root of the mean squared error over everything seen (not a mean of per-batch roots). */
  rootMeanSquaredError,
  /** tp / (tp + fp) at one or several thresholds (Keras's Precision), with `classId` and `topK`. */
  precision,
  /** tp / (tp + fn) at one or several thresholds (Keras's Recall), with `classId` and `topK`. */
  recall,
  /** The area under the ROC or PR curve (Keras's AUC), also per label with `multiLabel`. */
  auc,
  /** A running weighted mean of values fed with `updateValues` (the trainer's loss tracker). */
  mean: (options: NameOption = {}): Mean => new Mean(options),
};

/** What compile({metrics}) accepts for one metric. */
export type MetricIdentifier = string | Metric | MetricFunction;

// Names as Keras spells them (camelCase here; snake_case and any capitalisation also match,
// because lookup ignores case and underscores). Each builds the metric under the user's string.
const BY_NAME: Record<string, (name: string, lossName?: string) => Metric> = {
  accuracy: (name, lossName) => new AutoAccuracy({ name, variant: accuracyVariantFromLoss(lossName) }),
  acc: (name, lossName) => new AutoAccuracy({ name, variant: accuracyVariantFromLoss(lossName) }),
  binaryAccuracy: (name) => binaryAccuracy({ name }),
  categoricalAccuracy: (name) => categoricalAccuracy({ name }),
  sparseCategoricalAccuracy: (name) => sparseCategoricalAccuracy({ name }),
  topKCategoricalAccuracy: (name) => topKCategoricalAccuracy({ name }),
  sparseTopKCategoricalAccuracy: (name) => sparseTopKCategoricalAccuracy({ name }),
  mse: (name) => meanSquaredError({ name }),
  meanSquaredError: (name) => meanSquaredError({ name }),
  mae: (name) => meanAbsoluteError({ name }),
  meanAbsoluteError: (name) => meanAbsoluteError({ name }),
  rootMeanSquaredError: (name) => rootMeanSquaredError({ name }),
  precision: (name) => precision({ name }),
  recall: (name) => recall({ name }),
  auc: (name) => auc({ name }),
};

const normalize = (name: string): string => name.toLowerCase().replace(/_/g, '');
const LOOKUP = new Map(Object.entries(BY_NAME).map(([key, make]) => [normalize(key), make]));

/** The metric names getMetric knows (camelCase; snake_case is accepted too). */
export const metricNames: readonly string[] = Object.keys(BY_NAME);

/**
 * Resolves one entry of compile({metrics}):
 * - a name ('accuracy', 'acc', 'mse', 'mean_absolute_error', 'auc', ...): the metric with Keras's
 *   defaults, logged under the string as written. For 'accuracy'/'acc', `lossName` picks the
 *   variant as Keras does (sparse/categorical/binary crossentropy); otherwise the shapes of the
 *   first batch decide (see accuracyVariantFromShapes);
 * - a Metric: itself;
 * - a function (yTrue, yPred) => Tensor of per-sample (or scalar) values: their running mean,
 *   named after the function ('custom_metric' for an anonymous one).
 */
export function getMetric(identifier: MetricIdentifier, lossName?: string): Metric {
  if (identifier instanceof Metric) return identifier;
  if (typeof identifier === 'function') {
    const fn = identifier;
    return new MeanMetricWrapper(fn.name || 'custom_metric', (yTrue, yPred) => fn(yTrue, yPred));
  }
  if (typeof identifier === 'string') {
    const make = LOOKUP.get(normalize(identifier));
    if (make) return make(identifier, lossName);
  }
  const shown = typeof identifier === 'string' ? `'${identifier}'` : identifier === null ? 'null' : typeof identifier;
  throw new ValueError(
    `unknown metric ${shown}; expected a Metric, a function (yTrue, yPred) => Tensor, or one of: ${metricNames.join(', ')} (snake_case accepted)`,
  );
}
