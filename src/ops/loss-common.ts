import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from './elementwise.js';
import { asTensor, requireFloat, type TensorInput } from './operand.js';
import { mean, sum } from './reduction.js';

// What every loss shares (losses.ts, losses-extra.ts, ctc.ts): Keras's epsilon, the reductions
// and the yTrue/yPred pair check.

/** Keras's backend.epsilon(): probabilities are clipped to [EPSILON, 1 - EPSILON]. */
export const EPSILON = 1e-7;

// Note [Loss reductions]
// A loss computes one value per sample, then reduces over the batch. Keras 3 names the reductions
// 'sum_over_batch_size' (its default: the sum divided by the number of values), 'mean' and
// 'mean_with_sample_weight' (the same thing when no sample weights reach the loss function, which
// is always so here: fit() applies sample weights to the per-sample values itself), 'sum', and
// 'none' or null (the per-sample values). Strata's own 'mean' is the same as Keras's default, so
// code written either way gives the same numbers.

/**
 * How a loss combines its per-sample values, by Keras 3's names: 'sum_over_batch_size' (the
 * default), 'mean' and 'mean_with_sample_weight' all take the mean; 'sum' the sum; 'none' (or
 * null) keeps them (Note [Loss reductions]).
 */
export type Reduction = 'sum_over_batch_size' | 'mean' | 'mean_with_sample_weight' | 'sum' | 'none';
const REDUCTIONS: readonly Reduction[] = ['sum_over_batch_size', 'mean', 'mean_with_sample_weight', 'sum', 'none'];

/** Options every loss takes. */
export interface LossOptions {
  /** Default 'sum_over_batch_size' (the mean); null is 'none', as Keras's None. */
  reduction?: Reduction | null;
}
/** Options of the cross-entropy losses. */
export interface ProbabilisticLossOptions extends LossOptions {
  /** yPred holds logits (unnormalized scores) rather than probabilities. Default false. */
  fromLogits?: boolean;
  /** Moves the targets toward uniform by this fraction, in [0, 1]. Default 0. */
  labelSmoothing?: number;
  /** The class axis (binary: the axis averaged over). Default -1. */
  axis?: number;
}

/** Reduces per-sample losses over the batch (Note [Loss reductions]). */
export function reduceLoss(op: string, perSample: Tensor, reduction: Reduction | null | undefined): Tensor {
  if (reduction === null || reduction === 'none') return perSample;
  if (!REDUCTIONS.includes(reduction ?? 'mean')) {
    throw new ValueError(`${op}: reduction must be one of ${REDUCTIONS.map((r) => `'${r}'`).join(', ')} or null; received ${fmtValue(reduction)}`);
  }
  return reduction === 'sum' ? sum(perSample) : mean(perSample);
}

/** yPred (floating) and yTrue cast to its dtype, which must have one shape. */
export function pairOf(op: string, yTrue: TensorInput, yPred: TensorInput): [Tensor, Tensor] {
  const p = asTensor(op, 'yPred', yPred);
  requireFloat(op, p);
  const t = cast(asTensor(op, 'yTrue', yTrue), p.dtype);
  if (!shapesEqual(t.shape, p.shape)) {
    throw new ShapeError(`${op}: yTrue and yPred must have one shape; yTrue is ${fmtShape(t.shape)}, yPred is ${fmtShape(p.shape)}`);
  }
  return [t, p];
}
