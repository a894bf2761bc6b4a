import { normalizeAxis } from '../core/shape.js';
import { arange } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, cast, div, greater, maximum, mul, sub, where } from './elementwise.js';
import { floating } from './math-extra.js';
import type { TensorInput } from './operand.js';
import { max, sum } from './reduction.js';
import { reshape, stopGradient } from './shape-ops.js';
import { cumsum } from './scan.js';
import { sort } from './sorting.js';

// Note [Sparsemax as a threshold]
// Sparsemax (Martins & Astudillo, 2016) is the Euclidean projection of z onto the probability
// simplex: sparsemax(z)_i = max(z_i - τ, 0), with τ such that the outputs sum to 1. With z sorted
// in decreasing order (z_(1) >= z_(2) >= ...), the support size is
// k = max{j : 1 + j z_(j) > z_(1) + ... + z_(j)}, and τ = (z_(1) + ... + z_(k) - 1) / k.
// The support is found on values only (a sort and a cumulative sum, outside the tape); τ is then
// recomputed from z itself as (sum of z over the support - 1) / k, so autograd's derivative is
// the paper's Jacobian, d out_i / d z_j = s_i (δ_ij - s_j / k) with s the support indicator: no
// gradient goes through the sort. The support is {i : z_i > τ}, the same set the sorted test picks.

/**
 * Keras's sparsemax along `axis` (default -1): the projection of x onto the probability simplex,
 * max(x - τ, 0) with τ chosen so each slice sums to 1; unlike softmax, small entries become exactly 0.
 * Differentiable (the Jacobian of Martins & Astudillo 2016, Note [Sparsemax as a threshold]).
 */
export function sparsemax(x: TensorInput, axis = -1): Tensor {
  const z = floating('sparsemax', x);
  const a = normalizeAxis('sparsemax', axis, z.rank);
  const n = z.shape[a];
  // The support from values alone (shifted by the max for range; τ shifts with it).
  const fixed = stopGradient(z);
  const shifted = sub(fixed, max(fixed, a, true));
  const sorted = sort(shifted, a, true);
  const ranksShape = z.shape.map((_, i) => (i === a ? n : 1));
  const ranks = reshape(cast(arange(1, n + 1, 1, 'int32'), z.dtype), ranksShape);
  const inSupport = greater(add(1, mul(ranks, sorted)), cumsum(sorted, a));
  const k = maximum(sum(cast(inSupport, z.dtype), a, true), 1);
  const tauFixed = div(sub(sum(where(inSupport, sorted, 0), a, true), 1), k);
  const support = greater(shifted, tauFixed);
  // τ again, from z on the support (counted again, so rounding cannot make the two disagree):
  // this is the path the gradient takes.
  const size = maximum(sum(cast(support, z.dtype), a, true), 1);
  const tau = div(sub(sum(where(support, z, 0), a, true), 1), size);
  return where(support, sub(z, tau), 0);
}
