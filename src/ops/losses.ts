import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import { checkKeys } from '../core/options.js';
import { shapesEqual } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  abs,
  add,
  cast,
  clip,
  div,
  exp,
  floor,
  greaterEqual,
  less,
  log,
  log1p,
  logicalOr,
  mul,
  neg,
  notEqual,
  relu,
  square,
  sub,
  where,
  lessEqual,
} from './elementwise.js';
import { logSoftmax, oneHot } from './nn.js';
import { asTensor, requireFloat, type TensorInput } from './operand.js';
import { mean, sum } from './reduction.js';
import { reshape } from './shape-ops.js';
import { hasSparseCrossEntropy, sparseSoftmaxCrossEntropy } from './sparse-cross-entropy.js';
import { EPSILON, pairOf, reduceLoss as reduce, type LossOptions, type ProbabilisticLossOptions } from './loss-common.js';
import {
  binaryFocalCrossentropy,
  categoricalFocalCrossentropy,
  categoricalHinge,
  cosineSimilarity,
  dice,
  hinge,
  logCosh,
  meanAbsolutePercentageError,
  meanSquaredLogarithmicError,
  poisson,
  squaredHinge,
  tversky,
} from './losses-extra.js';
import { ctc } from './ctc.js';
import { categoricalGeneralizedCrossEntropy, circle } from './losses-keras-more.js';

// Losses are pure functions `loss(yTrue, yPred, options)` with Keras 3's definitions: a
// per-sample loss over the last axis, then a reduction over the batch (Note [Loss reductions] in
// loss-common.ts). Probabilities are clipped to [EPSILON, 1 - EPSILON] as Keras does.

export { EPSILON, type Reduction, type LossOptions, type ProbabilisticLossOptions } from './loss-common.js';

export function meanSquaredError(yTrue: TensorInput, yPred: TensorInput, options: LossOptions = {}): Tensor {
  checkKeys('meanSquaredError', options, ['reduction']);
  const [t, p] = pairOf('meanSquaredError', yTrue, yPred);
  return reduce('meanSquaredError', mean(square(sub(p, t)), -1), options.reduction);
}

export function meanAbsoluteError(yTrue: TensorInput, yPred: TensorInput, options: LossOptions = {}): Tensor {
  checkKeys('meanAbsoluteError', options, ['reduction']);
  const [t, p] = pairOf('meanAbsoluteError', yTrue, yPred);
  return reduce('meanAbsoluteError', mean(abs(sub(p, t)), -1), options.reduction);
}

export function binaryCrossentropy(yTrue: TensorInput, yPred: TensorInput, options: ProbabilisticLossOptions = {}): Tensor {
  checkKeys('binaryCrossentropy', options, ['reduction', 'fromLogits', 'labelSmoothing', 'axis']);
  let [t, p] = pairOf('binaryCrossentropy', yTrue, yPred);
  const ls = options.labelSmoothing ?? 0;
  if (ls) t = add(mul(t, 1 - ls), 0.5 * ls);
  let elementwise: Tensor;
  if (options.fromLogits) {
    // max(x, 0) - x*y + log(1 + e^-|x|): exact and overflow-free for any logit.
    elementwise = add(sub(relu(p), mul(p, t)), log1p(exp(neg(abs(p)))));
  } else {
    const q = clip(p, EPSILON, 1 - EPSILON);
    elementwise = neg(add(mul(t, log(q)), mul(sub(1, t), log(sub(1, q)))));
  }
  return reduce('binaryCrossentropy', mean(elementwise, options.axis ?? -1), options.reduction);
}

export function categoricalCrossentropy(yTrue: TensorInput, yPred: TensorInput, options: ProbabilisticLossOptions = {}): Tensor {
  checkKeys('categoricalCrossentropy', options, ['reduction', 'fromLogits', 'labelSmoothing', 'axis']);
  let [t, p] = pairOf('categoricalCrossentropy', yTrue, yPred);
  const axis = options.axis ?? -1;
  const ls = options.labelSmoothing ?? 0;
  if (ls) t = add(mul(t, 1 - ls), ls / t.shape[t.rank - 1]);
  const logP = options.fromLogits ? logSoftmax(p, axis) : log(clip(div(p, sum(p, axis, true)), EPSILON, 1 - EPSILON));
  return reduce('categoricalCrossentropy', neg(sum(mul(t, logP), axis)), options.reduction);
}

// Note [Label checks without host reads]
// A label outside [0, classes) would get an all-zero one-hot row, a zero loss and no gradient,
// and a fractional label (1.5) would be truncated into another class: the loss refuses both. The
// check needs the labels on the host, which on a GPU would stall every step (Note [Reading values
// without stalling] in models/epoch-loop.ts), so it happens as rarely as the data allows:
// - fit checks in-memory labels once for the whole array (data-adapter.ts checkSparseLabels) and
//   a Dataset's batches as they come (on a CPU backend; on others the first batch), then records
//   them here with the number of classes they were checked against (markCheckedLabels); batches
//   gathered from checked labels inherit the record. The loss reads nothing for such labels.
// - Other labels are read and checked on a backend that reads synchronously (CPU: a download of
//   one number per sample); the fused kernel checks int32 labels itself, so those are not read.
// - On a backend that cannot read synchronously, unchecked labels are not read: a sample whose
//   label is out of range or fractional gets a NaN loss, which the trainer reports as a
//   non-finite loss; a fused kernel there must do the same.
const checkedLabels = new WeakMap<Tensor, number>();

/**
 * Records that `labels` hold whole numbers in [0, bound), checked by the caller (fit, once per
 * data source), so the sparse loss reads nothing for them (Note [Label checks without host reads]).
 * @internal
 */
export function markCheckedLabels(labels: Tensor, bound: number): void {
  checkedLabels.set(labels, bound);
}

/** The bound `labels` were checked against, if they were. @internal */
export function checkedLabelBound(labels: Tensor): number | undefined {
  return checkedLabels.get(labels);
}

/** Cross-entropy with integer class labels: yTrue has yPred's shape without the class axis (or with it as 1). */
export function sparseCategoricalCrossentropy(
  yTrue: TensorInput,
  yPred: TensorInput,
  options: Omit<ProbabilisticLossOptions, 'labelSmoothing'> = {},
): Tensor {
  const op = 'sparseCategoricalCrossentropy';
  checkKeys(op, options, ['reduction', 'fromLogits', 'axis']);
  const p = asTensor(op, 'yPred', yPred);
  requireFloat(op, p);
  // Nested arrays become a float tensor here, not int32, so that 1.5 is seen before a cast truncates it.
  let labels = asTensor(op, 'yTrue', yTrue);
  const bound = checkedLabels.get(labels);
  if (labels.rank === p.rank && labels.shape[labels.rank - 1] === 1) labels = reshape(labels, labels.shape.slice(0, -1));
  if (!shapesEqual(labels.shape, p.shape.slice(0, -1))) {
    throw new ShapeError(
      `${op}: yTrue must have yPred's shape without its last (class) axis; yTrue is ${fmtShape(labels.shape)}, yPred is ${fmtShape(p.shape)}`,
    );
  }
  const classes = p.shape[p.rank - 1];
  const axis = options.axis ?? -1;
  // Note [Label checks without host reads]: labels checked once by fit are not read again; others
  // are read where reading is cheap (float ones before the cast could truncate them).
  const known = bound !== undefined && bound <= classes;
  const readable = labels.backend.readSync !== false;
  const isFloatLabels = isFloat(labels.dtype);
  if (!known && readable && isFloatLabels) checkClassIndices(op, labels, classes);
  const poison = !known && !readable ? invalidLabels(labels, classes) : undefined;
  labels = cast(labels, 'int32');
  // Note [Sparse softmax cross-entropy in one pass]
  if (options.fromLogits && (axis === -1 || axis === p.rank - 1) && hasSparseCrossEntropy(p)) {
    const perSample = sparseSoftmaxCrossEntropy(p, labels);
    return reduce(op, poison ? where(poison, NaN, perSample) : perSample, options.reduction);
  }
  if (!known && readable && !isFloatLabels) checkClassIndices(op, labels, classes);
  const logP = options.fromLogits ? logSoftmax(p, -1) : log(clip(div(p, sum(p, -1, true)), EPSILON, 1 - EPSILON));
  const perSample = neg(sum(mul(oneHot(labels, classes, { dtype: 'float32' }), logP), -1));
  return reduce(op, poison ? where(poison, NaN, perSample) : perSample, options.reduction);
}

/** True where a label is not a class index in [0, classes): computed on the backend, never read. */
function invalidLabels(labels: Tensor, classes: number): Tensor {
  const outside = logicalOr(less(labels, 0), greaterEqual(labels, classes));
  return isFloat(labels.dtype) ? logicalOr(outside, notEqual(floor(labels), labels)) : outside;
}

/**
 * Labels outside [0, classes) would get an all-zero one-hot row, a zero loss and no gradient, and
 * a fractional label (1.5) would be truncated to another class: refuse both, as the fused kernel
 * refuses the first (the labels are small next to the logits). Reads the labels on the host.
 */
export function checkClassIndices(op: string, labels: Tensor, classes: number): void {
  const values = labels.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < classes)) {
      throw new ValueError(`${op}: labels must be class indices in [0, ${classes}); received ${fmtValue(v)} at sample ${i}`);
    }
  }
}

export function huber(yTrue: TensorInput, yPred: TensorInput, options: LossOptions & { delta?: number } = {}): Tensor {
  checkKeys('huber', options, ['reduction', 'delta']);
  const [t, p] = pairOf('huber', yTrue, yPred);
  const delta = options.delta ?? 1;
  const err = abs(sub(p, t));
  const elementwise = where(lessEqual(err, delta), mul(square(err), 0.5), sub(mul(err, delta), 0.5 * delta * delta));
  return reduce('huber', mean(elementwise, -1), options.reduction);
}

/** Kullback-Leibler divergence sum(y * log(y / p)) over the last axis, both clipped to [EPSILON, 1]. */
export function kld(yTrue: TensorInput, yPred: TensorInput, options: LossOptions = {}): Tensor {
  checkKeys('kld', options, ['reduction']);
  const [t, p] = pairOf('kld', yTrue, yPred);
  const tc = clip(t, EPSILON, 1),
    pc = clip(p, EPSILON, 1);
  return reduce('kld', sum(mul(tc, log(div(tc, pc))), -1), options.reduction);
}

/**
 * `st.losses.*`: loss functions `(yTrue, yPred, options?)` with Keras's names and formulas, plus
 * Keras's short aliases (mse, mae, kld). `compile({loss})` takes one of them or its name.
 * @namespace
 */
export const losses = {
  /**
   * mean((yPred - yTrue)²) over the last axis, then reduced over the batch (Keras's
   * MeanSquaredError); `(yTrue, yPred, {reduction})`.
   */
  meanSquaredError,
  /** mean(|yPred - yTrue|) over the last axis, then reduced over the batch (Keras's MeanAbsoluteError). */
  meanAbsoluteError,
  /**
   * Binary cross-entropy of probabilities (or logits with `fromLogits`), averaged over the last axis
   * (Keras's BinaryCrossentropy); `labelSmoothing` pulls the targets toward 0.5.
   */
  binaryCrossentropy,
  /**
   * Cross-entropy with one-hot (or soft) targets over the class axis (Keras's
   * CategoricalCrossentropy); `fromLogits` for unnormalized scores, `labelSmoothing`.
   */
  categoricalCrossentropy,
  /**
   * Cross-entropy with integer class labels (Keras's SparseCategoricalCrossentropy); with
   * `fromLogits` it runs as one fused kernel where the backend has it.
   * @throws ValueError for labels outside [0, classes) or fractional labels.
   * @example
   * ```ts
   * const labels = st.tensor([2, 0], undefined, 'int32');
   * const logits = st.tensor([[0.1, 0.2, 3.0], [2.0, 0.1, 0.1]]);
   * console.log(await st.losses.sparseCategoricalCrossentropy(labels, logits, { fromLogits: true }).data());
   * ```
   */
  sparseCategoricalCrossentropy,
  /** The Huber loss: quadratic for errors up to `delta` (1), linear beyond (Keras's Huber). */
  huber,
  /**
   * Kullback-Leibler divergence sum(yTrue · log(yTrue / yPred)) over the last axis (Keras's KLDivergence).
   */
  kld,
  /** mean(max(1 - yTrue · yPred, 0)) over the last axis, labels in {-1, 1} or {0, 1} (Keras's Hinge). */
  hinge,
  /** mean(max(1 - yTrue · yPred, 0)²) over the last axis (Keras's SquaredHinge). */
  squaredHinge,
  /** max(max((1 - yTrue) · yPred) - sum(yTrue · yPred) + 1, 0) over the last axis (Keras's CategoricalHinge). */
  categoricalHinge,
  /** mean(log(cosh(yPred - yTrue))) over the last axis, without overflow (Keras's LogCosh). */
  logCosh,
  /** mean(yPred - yTrue · log(yPred + 1e-7)) over the last axis (Keras's Poisson). */
  poisson,
  /** The negated cosine similarity along `axis` (-1), 0 for a zero vector (Keras's CosineSimilarity). */
  cosineSimilarity,
  /** mean((log(1 + yPred) - log(1 + yTrue))²) over the last axis (Keras's MeanSquaredLogarithmicError). */
  meanSquaredLogarithmicError,
  /** 100 · mean(|(yTrue - yPred) / yTrue|) over the last axis (Keras's MeanAbsolutePercentageError). */
  meanAbsolutePercentageError,
  /** Binary cross-entropy scaled by (1 - p_t)^gamma, optionally class-balanced (Keras's BinaryFocalCrossentropy). */
  binaryFocalCrossentropy,
  /** Categorical cross-entropy with each term scaled by alpha · (1 - p)^gamma (Keras's CategoricalFocalCrossentropy). */
  categoricalFocalCrossentropy,
  /** 1 - the Dice coefficient over `axis` (all axes by default) (Keras's Dice). */
  dice,
  /** 1 - the Tversky index with weights alpha and beta over `axis` (Keras's Tversky). */
  tversky,
  /**
   * The CTC loss of integer labels padded with 0 (the blank) against [batch, frames, classes]
   * logits (Keras's CTC; st.ctcLoss takes lengths and another blank).
   */
  ctc,
  /** (1 - p^q) / q of integer labels, p the probability of the true class (Keras's CategoricalGeneralizedCrossEntropy). */
  categoricalGeneralizedCrossEntropy,
  /** The Circle loss of L2-normalized embeddings [batch, dim] with integer labels (Keras's Circle). */
  circle,
  // Keras aliases
  /** Alias of meanSquaredError. */
  mse: meanSquaredError,
  /** Alias of meanAbsoluteError. */
  mae: meanAbsoluteError,
  /** Alias of meanAbsolutePercentageError. */
  mape: meanAbsolutePercentageError,
  /** Alias of meanSquaredLogarithmicError. */
  msle: meanSquaredLogarithmicError,
  /** Alias of kld. */
  kullbackLeiblerDivergence: kld,
  /** Alias of kld. */
  klDivergence: kld,
};

/** A loss as compile() takes it: `(yTrue, yPred) => scalar` (losses.* with default options qualify). */
export type LossFunction = (yTrue: Tensor, yPred: Tensor) => Tensor;
/** A loss by name (`'mse'`, `'sparse_categorical_crossentropy'`, ...) or as a function. */
export type LossIdentifier = string | LossFunction;

/**
 * A loss by Keras name (camelCase, snake_case or any capitalisation: 'sparse_categorical_crossentropy') or the function itself.
 * `perSample` gives the unreduced losses (reduction 'none'), which sample weights multiply; a
 * custom function is its own perSample (Keras's rule: it should return per-sample values).
 * @throws ValueError for an unknown name.
 */
export function getLoss(identifier: LossIdentifier): {
  /** The loss's camelCase name, or the function's own name ('custom' for an anonymous one). */
  name: string;
  /** The loss reduced to a scalar (the mean over the batch). */
  fn: LossFunction;
  /** The unreduced loss, one value per sample. */
  perSample: LossFunction;
} {
  if (typeof identifier === 'function') return { name: identifier.name || 'custom', fn: identifier, perSample: identifier };
  const key = typeof identifier === 'string' ? identifier.replace(/_/g, '').toLowerCase() : '';
  const found = Object.entries(losses).find(([name]) => name.toLowerCase() === key);
  if (!found) {
    throw new ValueError(
      `unknown loss ${fmtValue(identifier)}; expected a function (yTrue, yPred) => Tensor or one of ${Object.keys(losses).join(', ')}`,
    );
  }
  return { name: found[0], fn: (t, p) => found[1](t, p), perSample: (t, p) => found[1](t, p, { reduction: 'none' }) };
}
