import { checkKeys } from '../core/options.js';
import * as A from '../ops/activation-extra.js';
import { sparsemax as sparsemaxOp } from '../ops/sparsemax.js';
import type { Tensor } from '../tensor/tensor.js';

// Keras 3's later activations (celu, glu, hard_shrink, hard_tanh, soft_shrink, sparse_plus,
// sparse_sigmoid, squareplus, tanh_shrink, sparsemax) as activations with Keras's option names,
// so layers find them by name (`activation: 'hard_shrink'`) and saved models name them. The
// maths is the ops' (ops/activation-extra.ts, ops/sparsemax.ts).

/** Options of `st.activations.celu`. */
export interface CeluOptions {
  /** Default 1. */
  alpha?: number;
}
/** max(x, 0) + alpha (e^(min(x, 0) / alpha) - 1). */
export function celu(x: Tensor, options: CeluOptions = {}): Tensor {
  checkKeys('celu', options, ['alpha']);
  return A.celu(x, options.alpha ?? 1);
}

/** Options of the activations that act along an axis (glu, sparsemax). */
export interface AxisActivationOptions {
  /** Default -1. */
  axis?: number;
}
/** The gated linear unit: halves a, b of `axis` (even size), a * sigmoid(b). */
export function glu(x: Tensor, options: AxisActivationOptions = {}): Tensor {
  checkKeys('glu', options, ['axis']);
  return A.glu(x, options.axis ?? -1);
}
/** Keras's sparsemax: the projection onto the probability simplex along `axis` (small entries become 0). */
export function sparsemax(x: Tensor, options: AxisActivationOptions = {}): Tensor {
  checkKeys('sparsemax', options, ['axis']);
  return sparsemaxOp(x, options.axis ?? -1);
}

/** Options of `st.activations.hardShrink` and `softShrink`. */
export interface ShrinkOptions {
  /** Default 0.5. */
  threshold?: number;
}
/** x where |x| > threshold, else 0. */
export function hardShrink(x: Tensor, options: ShrinkOptions = {}): Tensor {
  checkKeys('hardShrink', options, ['threshold']);
  return A.hardShrink(x, options.threshold ?? 0.5);
}
/** x ∓ threshold outside [-threshold, threshold], else 0. */
export function softShrink(x: Tensor, options: ShrinkOptions = {}): Tensor {
  checkKeys('softShrink', options, ['threshold']);
  return A.softShrink(x, options.threshold ?? 0.5);
}

/** Options of `st.activations.squareplus`. */
export interface SquareplusOptions {
  /** Default 4. */
  b?: number;
}
/** (x + sqrt(x² + b)) / 2. */
export function squareplus(x: Tensor, options: SquareplusOptions = {}): Tensor {
  checkKeys('squareplus', options, ['b']);
  return A.squareplus(x, options.b ?? 4);
}

/** clip(x, -1, 1). */
export const hardTanh = (x: Tensor): Tensor => A.hardTanh(x);
/** A smooth relu: 0, (x + 1)² / 4, then x. */
export const sparsePlus = (x: Tensor): Tensor => A.sparsePlus(x);
/** A piecewise-linear sigmoid: 0, (x + 1) / 2, then 1. */
export const sparseSigmoid = (x: Tensor): Tensor => A.sparseSigmoid(x);
/** x - tanh(x). */
export const tanhShrink = (x: Tensor): Tensor => A.tanhShrink(x);
