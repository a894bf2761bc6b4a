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
import { falseNegatives, falsePositives, precision, recall, trueNegatives, truePositives } from './confusion.js';
import { f1Score, fBetaScore } from './f-score.js';
import { binaryIoU, iou, meanIoU, oneHotIoU, oneHotMeanIoU } from './iou.js';
import {
  concordanceCorrelation,
  concordanceCorrelationMetric,
  meanAbsolutePercentageErrorValues,
  meanSquaredLogarithmicErrorValues,
  pearsonCorrelation,
  cosineSimilarity,
  logCoshError,
  meanAbsolutePercentageError,
  meanSquaredLogarithmicError,
  pearsonCorrelationMetric,
  r2Score,
  sumMetric,
} from './regression-more.js';
import { precisionAtRecall, recallAtPrecision, sensitivityAtSpecificity, specificityAtSensitivity } from './threshold-curves.js';
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
export { ConfusionMetric, ConfusionCount, Precision, Recall, type ConfusionOptions, type CountOptions, type ConfusionCell } from './confusion.js';
export { FBetaScore, F1Score, type FBetaScoreOptions, type FScoreAverage } from './f-score.js';
export { IoU, BinaryIoU, type IoUOptions, type TargetIoUOptions, type BinaryIoUOptions } from './iou.js';
export {
  R2Score,
  Sum,
  pearsonCorrelation,
  concordanceCorrelation,
  meanAbsolutePercentageErrorValues,
  meanSquaredLogarithmicErrorValues,
  logCoshErrorValues,
  cosineSimilarityValues,
  type R2ScoreOptions,
  type R2Aggregation,
  type AxisMetricOptions,
} from './regression-more.js';
export { ConstrainedRate, type ConstrainedRateOptions, type ConfusionRate } from './threshold-curves.js';
export { SummedStateMetric } from './summed-state.js';
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
  /** A running weighted sum of values fed with `updateValues` (Keras's Sum). */
  sum: sumMetric,
  /** 100 * mean(|yTrue - yPred| / max(|yTrue|, 1e-7)), logged as `mean_absolute_percentage_error`. */
  meanAbsolutePercentageError,
  /** Alias of meanAbsolutePercentageError. */
  mape: meanAbsolutePercentageError,
  /** mean((log1p(yPred) - log1p(yTrue))²) (inputs floored at 1e-7), logged as `mean_squared_logarithmic_error`. */
  meanSquaredLogarithmicError,
  /** Alias of meanSquaredLogarithmicError. */
  msle: meanSquaredLogarithmicError,
  /** mean(log(cosh(yPred - yTrue))), logged as `logcosh`. */
  logCoshError,
  /** The cosine similarity of yTrue and yPred along `axis` (+1: same direction), logged as `cosine_similarity`. */
  cosineSimilarity,
  /** Keras's pearson_correlation per sample (along `axis`), averaged over samples. */
  pearsonCorrelation: pearsonCorrelationMetric,
  /** Keras's concordance_correlation per sample (along `axis`), averaged over samples. */
  concordanceCorrelation: concordanceCorrelationMetric,
  /** Keras's function pearson_correlation(yTrue, yPred, axis = -1): one value per sample. */
  pearsonCorrelationValues: pearsonCorrelation,
  /** Keras's function concordance_correlation(yTrue, yPred, axis = -1): one value per sample. */
  concordanceCorrelationValues: concordanceCorrelation,
  /** Keras's function mean_absolute_percentage_error: one value per sample ([N] inputs: one per element). */
  meanAbsolutePercentageErrorValues,
  /** Keras's function mean_squared_logarithmic_error: one value per sample ([N] inputs: one per element). */
  meanSquaredLogarithmicErrorValues,
  /** The coefficient of determination R² over everything seen (Keras's R2Score), optionally adjusted. */
  r2Score,
  /** The F-beta score from thresholded or argmax predictions (Keras's FBetaScore), per class or averaged. */
  fBetaScore,
  /** FBetaScore with beta 1 (Keras's F1Score). */
  f1Score,
  /** The weighted number of true positives at each threshold (Keras's TruePositives). */
  truePositives,
  /** The weighted number of false positives at each threshold (Keras's FalsePositives). */
  falsePositives,
  /** The weighted number of true negatives at each threshold (Keras's TrueNegatives). */
  trueNegatives,
  /** The weighted number of false negatives at each threshold (Keras's FalseNegatives). */
  falseNegatives,
  /** The best precision where recall >= the value, over numThresholds thresholds (Keras's PrecisionAtRecall). */
  precisionAtRecall,
  /** The best recall where precision >= the value (Keras's RecallAtPrecision). */
  recallAtPrecision,
  /** The best sensitivity where specificity >= the value (Keras's SensitivityAtSpecificity). */
  sensitivityAtSpecificity,
  /** The best specificity where sensitivity >= the value (Keras's SpecificityAtSensitivity). */
  specificityAtSensitivity,
  /** Intersection over union of the target classes' ids (Keras's IoU). */
  iou,
  /** IoU of thresholded binary predictions (Keras's BinaryIoU). */
  binaryIoU,
  /** IoU averaged over every class (Keras's MeanIoU). */
  meanIoU,
  /** IoU of one-hot labels and score vectors (Keras's OneHotIoU). */
  oneHotIoU,
  /** MeanIoU of one-hot labels and score vectors (Keras's OneHotMeanIoU). */
  oneHotMeanIoU,
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
  meanAbsolutePercentageError: (name) => meanAbsolutePercentageError({ name }),
  mape: (name) => meanAbsolutePercentageError({ name }),
  meanSquaredLogarithmicError: (name) => meanSquaredLogarithmicError({ name }),
  msle: (name) => meanSquaredLogarithmicError({ name }),
  logCoshError: (name) => logCoshError({ name }),
  logcosh: (name) => logCoshError({ name }),
  cosineSimilarity: (name) => cosineSimilarity({ name }),
  cosineProximity: (name) => cosineSimilarity({ name }),
  pearsonCorrelation: (name) => pearsonCorrelationMetric({ name }),
  concordanceCorrelation: (name) => concordanceCorrelationMetric({ name }),
  r2Score: (name) => r2Score({ name }),
  f1Score: (name) => f1Score({ name }),
  fBetaScore: (name) => fBetaScore({ name }),
  truePositives: (name) => truePositives({ name }),
  falsePositives: (name) => falsePositives({ name }),
  trueNegatives: (name) => trueNegatives({ name }),
  falseNegatives: (name) => falseNegatives({ name }),
  binaryIoU: (name) => binaryIoU({ name }),
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
