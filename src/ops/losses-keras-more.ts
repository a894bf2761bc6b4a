import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, cast, div, equal, greater, logicalAnd, logicalNot, maximum, mul, notEqual, pow, softplus, sub, where } from './elementwise.js';
import { reduceLoss, type LossOptions } from './loss-common.js';
import { matmul } from './linalg.js';
import { logSumExp, oneHot } from './nn.js';
import { asTensor, requireFloat, type TensorInput } from './operand.js';
import { max, sum } from './reduction.js';
import { reshape, transpose } from './shape-ops.js';

// Two losses of Keras 3 (3.16.0's keras/src/losses/losses.py) that take integer labels:
// the generalized cross-entropy (robust to noisy labels) and the Circle loss of metric learning.

/** Options of st.losses.categoricalGeneralizedCrossEntropy. */
export interface GeneralizedCrossEntropyOptions extends LossOptions {
  /** The noise parameter, in (0, 1): near 0 the loss is the cross-entropy, at 1 the mean absolute error. Default 0.5. */
  q?: number;
}

/** Integer labels with yPred's shape minus its class axis (a trailing axis of 1 is dropped). */
function classLabels(op: string, yTrue: TensorInput, p: Tensor): Tensor {
  let labels = asTensor(op, 'yTrue', yTrue);
  if (labels.rank === p.rank && labels.shape[labels.rank - 1] === 1) labels = reshape(labels, labels.shape.slice(0, -1));
  const expected = p.shape.slice(0, -1);
  if (labels.rank !== expected.length || labels.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(
      `${op}: yTrue must hold one class index per row of yPred, shape ${fmtShape(expected)}; yTrue is ${fmtShape(labels.shape)}, yPred is ${fmtShape(p.shape)}`,
    );
  }
  return cast(labels, 'int32');
}

/**
 * The generalized cross-entropy (1 - p^q) / q of integer labels, p the predicted probability of
 * the true class (Zhang and Sabuncu 2018; Keras's CategoricalGeneralizedCrossEntropy). yTrue
 * holds class indices ([batch] or [batch, 1]), yPred probabilities [batch, classes]. Default q 0.5.
 * @throws ValueError for q outside (0, 1).
 */
export function categoricalGeneralizedCrossEntropy(yTrue: TensorInput, yPred: TensorInput, options: GeneralizedCrossEntropyOptions = {}): Tensor {
  const op = 'categoricalGeneralizedCrossEntropy';
  checkKeys(op, options, ['reduction', 'q']);
  const q = options.q ?? 0.5;
  if (!(q > 0 && q < 1)) throw new ValueError(`${op}: q must be in the interval (0, 1); received ${fmtValue(q)}`);
  const p = asTensor(op, 'yPred', yPred);
  requireFloat(op, p);
  if (p.rank < 1) throw new ShapeError(`${op}: yPred must have a class axis; received a scalar`);
  const labels = classLabels(op, yTrue, p);
  const pTrue = sum(mul(p, cast(oneHot(labels, p.shape[p.rank - 1]), p.dtype)), -1);
  return reduceLoss(op, div(sub(1, pow(pTrue, q)), q), options.reduction);
}

/** Options of st.losses.circle. */
export interface CircleOptions extends LossOptions {
  /** The scale of every similarity score. Default 80. */
  gamma?: number;
  /** The relaxation margin m: positives aim at a cosine distance below m, negatives above 1 - m. Default 0.4. */
  margin?: number;
  /** Leaves each embedding's similarity with itself out of its positives. Default true. */
  removeDiagonal?: boolean;
}

/** log(sum(exp(x))) over the entries of each row that `mask` keeps; rows keeping none get 0 (the caller drops them). */
function maskedLogSumExp(x: Tensor, mask: Tensor, rowHasAny: Tensor): Tensor {
  // Masked entries become -inf (they add exp(-inf) = 0); an empty row is replaced by zeros so
  // that no NaN reaches the gradient through entries the final where() discards.
  const masked = where(mask, x, -Infinity);
  return logSumExp(where(reshape(rowHasAny, [-1, 1]), masked, 0), 1);
}

/**
 * The Circle loss (Sun et al. 2020; Keras's Circle) of a batch of L2-normalized embeddings
 * yPred [batch, dim] with integer labels yTrue [batch]: each pair of the batch is a positive
 * (same label) or a negative, d its cosine distance max(1 - a·b, 0), and row i's loss is
 * softplus(logsumexp over positives of -gamma·relu(m + d)·(m - d) + logsumexp over negatives
 * of gamma·relu(1 + m - d)·(1 - m - d)). A row without a positive or a negative scores 0 and,
 * as in Keras (which masks the zero losses), the mean reductions average over the other rows.
 * Defaults: gamma 80, margin 0.4, removeDiagonal true.
 */
export function circle(yTrue: TensorInput, yPred: TensorInput, options: CircleOptions = {}): Tensor {
  const op = 'circle';
  checkKeys(op, options, ['reduction', 'gamma', 'margin', 'removeDiagonal']);
  const { gamma = 80, margin = 0.4, removeDiagonal = true } = options;
  const p = asTensor(op, 'yPred', yPred);
  requireFloat(op, p);
  if (p.rank !== 2) throw new ShapeError(`${op}: yPred must be embeddings [batch, dim]; received shape ${fmtShape(p.shape)}`);
  let labels = asTensor(op, 'yTrue', yTrue);
  if (labels.rank === 2 && labels.shape[1] === 1) labels = reshape(labels, [-1]);
  if (labels.rank !== 1 || labels.shape[0] !== p.shape[0]) {
    throw new ShapeError(`${op}: yTrue must hold one label per embedding, shape [${p.shape[0]}]; received ${fmtShape(labels.shape)}`);
  }
  labels = cast(labels, 'int32');
  const n = p.shape[0];
  const distance = maximum(sub(1, matmul(p, transpose(p))), 0);
  const same = equal(reshape(labels, [n, 1]), reshape(labels, [1, n]));
  const negative = logicalNot(same);
  let positive = same;
  if (removeDiagonal) {
    const rows = reshape(
      asTensor(
        op,
        'rows',
        Array.from({ length: n }, (_, i) => i),
        'int32',
      ),
      [n, 1],
    );
    positive = logicalAnd(same, notEqual(rows, reshape(rows, [1, n])));
  }
  const posWeights = maximum(mul(add(distance, margin), cast(positive, p.dtype)), 0);
  const negWeights = maximum(mul(sub(1 + margin, distance), cast(negative, p.dtype)), 0);
  const posTerms = mul(mul(posWeights, sub(margin, distance)), -gamma);
  const negTerms = mul(mul(negWeights, sub(1 - margin, distance)), gamma);
  const hasPos = greater(max(cast(positive, 'int32'), 1), 0),
    hasNeg = greater(max(cast(negative, 'int32'), 1), 0);
  const both = logicalAnd(hasPos, hasNeg);
  const perRow = where(both, softplus(add(maskedLogSumExp(posTerms, positive, hasPos), maskedLogSumExp(negTerms, negative, hasNeg))), 0);
  const reduction = options.reduction;
  if (reduction === 'sum' || reduction === null || reduction === 'none') return reduceLoss(op, perRow, reduction);
  // Keras masks the rows whose loss is 0, so its mean is over the rows with a positive loss.
  if (reduction !== undefined && !['sum_over_batch_size', 'mean', 'mean_with_sample_weight'].includes(reduction)) {
    return reduceLoss(op, perRow, reduction); // refuses the unknown name
  }
  const counted = sum(cast(greater(perRow, 0), p.dtype));
  return div(sum(perRow), maximum(counted, 1));
}
