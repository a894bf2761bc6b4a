import { isFloat } from '../core/dtype.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import { full } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import type { OptionalPrimitive } from '../backend/primitives.js';
import { hasKernel, runPrimitive } from './run.js';
import { reshape, slice } from './shape-ops.js';

// Note [Fused normalization]
// Batch and layer normalization as composites are a dozen kernel calls and tape nodes each way
// (moments, rsqrt, sub, mul, add; their gradients through the mean and variance). For
// channels-last data, seen as [rows, C], a backend may offer them as a few passes over memory:
//
//   batch norm, training:  stats = batchNormStats(x)              [2, C]: mean, biased variance
//                          y = batchNormTraining(x, γ, β, stats)   (x - mean)·γ/√(var + ε) + β
//   batch norm, given statistics (inference, tf.batchNorm): batchNormApply(x, mean, var, γ, β)
//   layer norm over the last axis: layerNorm(x, γ, β), each row with its own statistics
//
// The statistics are a primitive of their own rather than packed beside y: a primitive has one
// output, and slicing y out of [y | mean | var] would copy the whole activation (and pad it
// back in the backward pass). batchNormTraining takes them as an input it does not differentiate:
// its rule returns dx with the full dependence through the batch statistics,
//   dx = γ/√(var + ε)·(dy - Σdy/R - x̂·Σ(dy·x̂)/R),   dγ = Σ dy·x̂,   dβ = Σ dy,
// and null for `stats`, so nothing is counted twice; a gradient reaching the statistics from
// elsewhere (someone differentiating the returned mean) flows through batchNormStats's own rule.
// The gradient runs as two kernels, batchNormGradSums (dγ and dβ, the sums dx needs) and
// batchNormGradInput; layer norm has layerNormGradSums and layerNormGradInput (each recomputes a
// row's statistics, which sit in L1, rather than saving them).
//
// Higher derivatives: batch norm's gradient kernels take the statistics as an input, so their
// VJP rules (ops/normalization-grads.ts, written with ops) are plain partial derivatives and the
// dependence of the statistics on x comes from batchNormStats's rule; st.grad and valueAndGrad
// run the kernels too. Layer norm's gradient kernels recompute each row's statistics inside, so
// when the backward pass is itself recorded (createGraph) layerNorm's rule computes the same
// gradient with ops instead, which the tape differentiates again.
//
// Keras adds ε to the variance (default 1e-3 for both layers). The composites in
// ops/normalization.ts stay the fallback (other axes, float64, backends without the kernels)
// and the oracle the kernels are tested against.

/**
 * Whether the fused kernel applies to x: floating point, not empty, on a backend that has it. A
 * backend offering the kernels handles every float dtype it stores (native: float32 only).
 */
export function fusable(primitive: OptionalPrimitive, x: Tensor): boolean {
  return isFloat(x.dtype) && x.rank >= 1 && x.size > 0 && hasKernel(primitive, x);
}

/**
 * p as a [C] vector when it holds one value per channel of x ([C], [1, C], [1, 1, 1, C], ...);
 * undefined when it broadcasts some other way or has another dtype (the composite handles those).
 */
export function channelVector(p: Tensor, x: Tensor): Tensor | undefined {
  const channels = x.shape[x.rank - 1];
  if (p.dtype !== x.dtype || p.rank > x.rank || p.rank === 0 || p.shape[p.rank - 1] !== channels) return undefined;
  if (!p.shape.slice(0, -1).every((d) => d === 1)) return undefined;
  return p.rank === 1 ? p : reshape(p, [channels]);
}

/** A [C] weight for a kernel: the given one, or the constant that leaves values unchanged. */
const weightOr = (p: Tensor | undefined, x: Tensor, value: number): Tensor => p ?? full([x.shape[x.rank - 1]], value, x.dtype);

/** Rows 0 and 1 of a [2, C] result as [C] vectors (mean and variance, or Σ dy·x̂ and Σ dy). */
export function unpackPair(pair: Tensor): [Tensor, Tensor] {
  const c = pair.shape[1];
  return [reshape(slice(pair, [0, 0], [1, c]), [c]), reshape(slice(pair, [1, 0], [1, c]), [c])];
}

/** Given-statistics batch norm in one pass, or undefined when an operand is not a channel vector. */
export function fusedBatchNormApply(
  x: Tensor,
  mean: Tensor,
  variance: Tensor,
  offset: Tensor | undefined,
  scale: Tensor | undefined,
  epsilon: number,
): Tensor | undefined {
  if (!fusable('batchNormApply', x)) return undefined;
  const vectors = [mean, variance, scale, offset].map((p) => (p === undefined ? null : channelVector(p, x)));
  if (vectors.some((v) => v === undefined)) return undefined;
  const [m, v, s, o] = vectors as (Tensor | null)[];
  const inputs = [x, m as Tensor, v as Tensor, weightOr(s ?? undefined, x, 1), weightOr(o ?? undefined, x, 0)];
  return runPrimitive('batchNormApply', inputs, { epsilon }, x.shape, x.dtype);
}

/** Training-mode batch norm over all axes but the last: y and the batch's [C] mean and variance. */
export function fusedBatchNormTraining(
  x: Tensor,
  scale: Tensor | undefined,
  offset: Tensor | undefined,
  epsilon: number,
): { y: Tensor; mean: Tensor; variance: Tensor } | undefined {
  if (!fusable('batchNormTraining', x) || !hasKernel('batchNormStats', x)) return undefined;
  const stats = runPrimitive('batchNormStats', [x], {}, [2, x.shape[x.rank - 1]], x.dtype);
  const y = runPrimitive('batchNormTraining', [x, weightOr(scale, x, 1), weightOr(offset, x, 0), stats], { epsilon }, x.shape, x.dtype);
  const [mean, variance] = unpackPair(stats);
  return { y, mean, variance };
}

/** Layer norm over the last axis in one pass, or undefined when scale or offset is not a channel vector. */
export function fusedLayerNorm(x: Tensor, scale: Tensor | undefined, offset: Tensor | undefined, epsilon: number): Tensor | undefined {
  if (!fusable('layerNorm', x)) return undefined;
  const s = scale === undefined ? null : channelVector(scale, x);
  const o = offset === undefined ? null : channelVector(offset, x);
  if (s === undefined || o === undefined) return undefined;
  return runPrimitive('layerNorm', [x, weightOr(s ?? undefined, x, 1), weightOr(o ?? undefined, x, 0)], { epsilon }, x.shape, x.dtype);
}

/** A [C] scale or offset for batchNormTraining, checked against x's channels. */
export function channelOperand(op: string, name: string, p: Tensor | undefined, x: Tensor): Tensor | undefined {
  if (p === undefined) return undefined;
  const v = channelVector(p, x);
  if (!v) {
    throw new ShapeError(
      `${op}: ${name} must have shape [${x.shape[x.rank - 1]}] (one value per channel, the last axis of x ${fmtShape(x.shape)}); received ${fmtShape(p.shape)}`,
    );
  }
  return v;
}
