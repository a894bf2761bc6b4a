import { checkKeys } from '../core/options.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  abs,
  add,
  cast,
  clip,
  div,
  equal,
  greater,
  log,
  logicalOr,
  maximum,
  mul,
  neg,
  pow,
  rsqrt,
  sigmoid,
  softplus,
  square,
  sub,
  where,
} from './elementwise.js';
import { EPSILON, pairOf, reduceLoss, type LossOptions } from './loss-common.js';
import { softmax } from './nn.js';
import type { TensorInput } from './operand.js';
import { max, mean, min, sum, type Axis } from './reduction.js';

// The rest of Keras 3's losses, each with Keras's formula, defaults and reductions (Note [Loss
// reductions] in loss-common.ts): a per-sample value over the last axis (or `axis`), then the
// reduction over the batch.

/** Keras's hinge labels: all-{0, 1} labels become {-1, 1}; others stay as given. */
function hingeLabels(t: Tensor): Tensor {
  if (t.size === 0) return t;
  const binary = equal(min(cast(logicalOr(equal(t, 0), equal(t, 1)), 'int32')), 1);
  return where(binary, sub(mul(t, 2), 1), t);
}

/** mean(max(1 - yTrue * yPred, 0)) over the last axis; labels in {0, 1} are taken as {-1, 1}. */
export function hinge(yTrue: TensorInput, yPred: TensorInput, options: LossOptions = {}): Tensor {
  checkKeys('hinge', options, ['reduction']);
  const [t, p] = pairOf('hinge', yTrue, yPred);
  return reduceLoss('hinge', mean(maximum(sub(1, mul(hingeLabels(t), p)), 0), -1), options.reduction);
}

/** mean(max(1 - yTrue * yPred, 0)^2) over the last axis; labels in {0, 1} are taken as {-1, 1}. */
export function squaredHinge(yTrue: TensorInput, yPred: TensorInput, options: LossOptions = {}): Tensor {
  checkKeys('squaredHinge', options, ['reduction']);
  const [t, p] = pairOf('squaredHinge', yTrue, yPred);
  return reduceLoss('squaredHinge', mean(square(maximum(sub(1, mul(hingeLabels(t), p)), 0)), -1), options.reduction);
}

/** max(neg - pos + 1, 0) with pos = sum(yTrue * yPred) and neg = max((1 - yTrue) * yPred) over the last axis. */
export function categoricalHinge(yTrue: TensorInput, yPred: TensorInput, options: LossOptions = {}): Tensor {
  checkKeys('categoricalHinge', options, ['reduction']);
  const [t, p] = pairOf('categoricalHinge', yTrue, yPred);
  const pos = sum(mul(t, p), -1),
    neg = max(mul(sub(1, t), p), -1);
  return reduceLoss('categoricalHinge', maximum(add(sub(neg, pos), 1), 0), options.reduction);
}

/** mean(log(cosh(yPred - yTrue))) over the last axis, as x + softplus(-2x) - log 2 (no overflow). */
export function logCosh(yTrue: TensorInput, yPred: TensorInput, options: LossOptions = {}): Tensor {
  checkKeys('logCosh', options, ['reduction']);
  const [t, p] = pairOf('logCosh', yTrue, yPred);
  const d = sub(p, t);
  return reduceLoss('logCosh', mean(sub(add(d, softplus(mul(d, -2))), Math.LN2), -1), options.reduction);
}

/** mean(yPred - yTrue * log(yPred + EPSILON)) over the last axis. */
export function poisson(yTrue: TensorInput, yPred: TensorInput, options: LossOptions = {}): Tensor {
  checkKeys('poisson', options, ['reduction']);
  const [t, p] = pairOf('poisson', yTrue, yPred);
  return reduceLoss('poisson', mean(sub(p, mul(t, log(add(p, EPSILON)))), -1), options.reduction);
}

/** mean((log(max(yPred, EPSILON) + 1) - log(max(yTrue, EPSILON) + 1))^2) over the last axis. */
export function meanSquaredLogarithmicError(yTrue: TensorInput, yPred: TensorInput, options: LossOptions = {}): Tensor {
  const op = 'meanSquaredLogarithmicError';
  checkKeys(op, options, ['reduction']);
  const [t, p] = pairOf(op, yTrue, yPred);
  const logOf = (v: Tensor) => log(add(maximum(v, EPSILON), 1));
  return reduceLoss(op, mean(square(sub(logOf(p), logOf(t))), -1), options.reduction);
}

/** 100 * mean(|(yTrue - yPred) / max(|yTrue|, EPSILON)|) over the last axis. */
export function meanAbsolutePercentageError(yTrue: TensorInput, yPred: TensorInput, options: LossOptions = {}): Tensor {
  const op = 'meanAbsolutePercentageError';
  checkKeys(op, options, ['reduction']);
  const [t, p] = pairOf(op, yTrue, yPred);
  return reduceLoss(op, mul(mean(abs(div(sub(t, p), maximum(abs(t), EPSILON))), -1), 100), options.reduction);
}

/** Options of st.losses.cosineSimilarity. */
export interface CosineSimilarityOptions extends LossOptions {
  /** The axis the vectors lie along. Default -1. */
  axis?: number;
}

/** x scaled to unit length along `axis`: x * min(1/sqrt(sum x^2), 1/EPSILON), Keras's normalize. */
function l2Normalize(x: Tensor, axis: number): Tensor {
  const squares = sum(square(x), axis, true);
  // 1/sqrt(s) is below 1/EPSILON exactly when s > EPSILON^2; elsewhere the scale is that constant
  // and the root sees a stand-in 1, since a zero sum would make its gradient NaN (Note [Branches
  // that stay finite] in math-extra.ts).
  const large = greater(squares, EPSILON * EPSILON);
  return mul(x, where(large, rsqrt(where(large, squares, 1)), 1 / EPSILON));
}

/**
 * -sum(normalize(yTrue) * normalize(yPred)) along `axis` (default -1): -1 for vectors pointing the
 * same way, 0 for orthogonal ones or a zero vector.
 */
export function cosineSimilarity(yTrue: TensorInput, yPred: TensorInput, options: CosineSimilarityOptions = {}): Tensor {
  checkKeys('cosineSimilarity', options, ['reduction', 'axis']);
  const [t, p] = pairOf('cosineSimilarity', yTrue, yPred);
  const axis = options.axis ?? -1;
  return reduceLoss('cosineSimilarity', neg(sum(mul(l2Normalize(t, axis), l2Normalize(p, axis)), axis)), options.reduction);
}

/** Options of st.losses.binaryFocalCrossentropy. */
export interface BinaryFocalOptions extends LossOptions {
  /** Weigh positives by alpha and negatives by 1 - alpha. Default false. */
  applyClassBalancing?: boolean;
  /** The weight of positives with applyClassBalancing. Default 0.25. */
  alpha?: number;
  /** The focusing exponent of (1 - p_t). Default 2. */
  gamma?: number;
  /** yPred holds logits rather than probabilities. Default false. */
  fromLogits?: boolean;
  /** Moves the targets toward 0.5 by this fraction. Default 0. */
  labelSmoothing?: number;
  /** The axis averaged over. Default -1. */
  axis?: number;
}

/**
 * Binary cross-entropy scaled by (1 - p_t)^gamma, p_t the probability given to the true label
 * (Lin et al.'s focal loss), and with `applyClassBalancing` by alpha for positives and 1 - alpha
 * for negatives; the mean over `axis` (default -1). Defaults: alpha 0.25, gamma 2.
 */
export function binaryFocalCrossentropy(yTrue: TensorInput, yPred: TensorInput, options: BinaryFocalOptions = {}): Tensor {
  const op = 'binaryFocalCrossentropy';
  checkKeys(op, options, ['reduction', 'applyClassBalancing', 'alpha', 'gamma', 'fromLogits', 'labelSmoothing', 'axis']);
  let [t, p] = pairOf(op, yTrue, yPred);
  const { alpha = 0.25, gamma = 2, labelSmoothing = 0 } = options;
  if (labelSmoothing) t = add(mul(t, 1 - labelSmoothing), 0.5 * labelSmoothing);
  if (options.fromLogits) p = sigmoid(p);
  const q = clip(p, EPSILON, 1 - EPSILON);
  const bce = neg(add(mul(t, log(q)), mul(sub(1, t), log(sub(1, q)))));
  const pt = add(mul(t, p), mul(sub(1, t), sub(1, p)));
  let focal = mul(pow(sub(1, pt), gamma), bce);
  if (options.applyClassBalancing) focal = mul(add(mul(t, alpha), mul(sub(1, t), 1 - alpha)), focal);
  return reduceLoss(op, mean(focal, options.axis ?? -1), options.reduction);
}

/** Options of st.losses.categoricalFocalCrossentropy. */
export interface CategoricalFocalOptions extends LossOptions {
  /** The weight of every class's term. Default 0.25. */
  alpha?: number;
  /** The focusing exponent of (1 - p). Default 2. */
  gamma?: number;
  /** yPred holds logits rather than probabilities. Default false. */
  fromLogits?: boolean;
  /** Moves the targets toward uniform by this fraction. Default 0. */
  labelSmoothing?: number;
  /** The class axis. Default -1. */
  axis?: number;
}

/**
 * Categorical cross-entropy with each class's term scaled by alpha * (1 - p)^gamma (the focal
 * loss for several classes); predictions are normalized to sum to 1 and clipped as in
 * categoricalCrossentropy. Defaults: alpha 0.25, gamma 2, axis -1.
 */
export function categoricalFocalCrossentropy(yTrue: TensorInput, yPred: TensorInput, options: CategoricalFocalOptions = {}): Tensor {
  const op = 'categoricalFocalCrossentropy';
  checkKeys(op, options, ['reduction', 'alpha', 'gamma', 'fromLogits', 'labelSmoothing', 'axis']);
  let [t, p] = pairOf(op, yTrue, yPred);
  const { alpha = 0.25, gamma = 2, labelSmoothing = 0 } = options;
  const axis = options.axis ?? -1;
  // Keras smooths over the size of the last axis, whatever `axis` is.
  if (labelSmoothing) t = add(mul(t, 1 - labelSmoothing), labelSmoothing / t.shape[t.rank - 1]);
  if (options.fromLogits) p = softmax(p, axis);
  const q = clip(div(p, sum(p, axis, true)), EPSILON, 1 - EPSILON);
  const terms = mul(mul(pow(sub(1, q), gamma), alpha), neg(mul(t, log(q))));
  return reduceLoss(op, sum(terms, axis), options.reduction);
}

/** Options of st.losses.dice (and tversky). */
export interface OverlapOptions extends LossOptions {
  /** The axes summed over (default: all, one value for the whole batch; [1, 2, 3] gives one per image). */
  axis?: Axis | null;
}

/** 1 - 2 sum(yTrue * yPred) / (sum(yTrue) + sum(yPred) + EPSILON) over `axis` (default: all axes). */
export function dice(yTrue: TensorInput, yPred: TensorInput, options: OverlapOptions = {}): Tensor {
  checkKeys('dice', options, ['reduction', 'axis']);
  const [t, p] = pairOf('dice', yTrue, yPred);
  const axis = options.axis ?? undefined;
  const overlap = div(mul(sum(mul(t, p), axis), 2), add(add(sum(t, axis), sum(p, axis)), EPSILON));
  return reduceLoss('dice', sub(1, overlap), options.reduction);
}

/** Options of st.losses.tversky. */
export interface TverskyOptions extends OverlapOptions {
  /** The weight of sum(yTrue · (1 - yPred)) (Keras's first term). Default 0.5. */
  alpha?: number;
  /** The weight of sum(yPred · (1 - yTrue)). Default 0.5. */
  beta?: number;
}

/**
 * 1 - TP / (TP + alpha * sum(yTrue (1 - yPred)) + beta * sum(yPred (1 - yTrue)) + EPSILON) over
 * `axis` (default: all axes), TP = sum(yTrue * yPred): alpha weighs missed positives, beta false
 * alarms (as Keras's formula writes them); alpha = beta = 0.5 is the Dice loss. Defaults 0.5, 0.5.
 */
export function tversky(yTrue: TensorInput, yPred: TensorInput, options: TverskyOptions = {}): Tensor {
  checkKeys('tversky', options, ['reduction', 'axis', 'alpha', 'beta']);
  const [t, p] = pairOf('tversky', yTrue, yPred);
  const { alpha = 0.5, beta = 0.5 } = options;
  const axis = options.axis ?? undefined;
  const tp = sum(mul(t, p), axis);
  const missed = sum(mul(sub(1, p), t), axis),
    extra = sum(mul(p, sub(1, t)), axis);
  const score = div(tp, add(add(add(tp, mul(missed, alpha)), mul(extra, beta)), EPSILON));
  return reduceLoss('tversky', sub(1, score), options.reduction);
}
