import { isGradEnabled } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, div, mul, neg, pow, rsqrt, sub } from './elementwise.js';
import { unpackPair } from './normalization-fused.js';
import { mean as meanOf, moments, sum } from './reduction.js';
import { hasKernel, runPrimitive } from './run.js';
import { concat, reshape } from './shape-ops.js';

// The VJP rules of the fused normalization primitives (Note [Fused normalization] in
// normalization-fused.ts). x is [..., C]; "rows" are all its axes but the last, R of them in all.

const rowAxes = (x: Tensor): number[] => x.shape.slice(0, -1).map((_, i) => i);
const channelsOf = (x: Tensor): number => x.shape[x.rank - 1];
const rowCount = (x: Tensor): number => x.size / channelsOf(x);

/**
 * Whether layerNorm's rule may use its gradient kernels: only while the backward pass is not
 * recorded (they recompute the row statistics inside, so they have no rules of their own);
 * under createGraph the rule uses ops, and second derivatives come from the tape. Batch norm's
 * gradient kernels take the statistics as an input and have rules (below), so they always run.
 */
const useLayerNormKernels = (x: Tensor): boolean => !isGradEnabled() && hasKernel('layerNormGradInput', x);

/** batchNormStats: d mean/dx = 1/R, d var/dx = 2(x - mean)/R, for g = [g_mean | g_var]. */
export function batchNormStatsVjp(x: Tensor, stats: Tensor, g: Tensor): Tensor {
  const [mean] = unpackPair(stats);
  const [gMean, gVar] = unpackPair(g);
  const n = rowCount(x);
  return add(mul(sub(x, mean), mul(gVar, 2 / n)), div(gMean, n));
}

/** batchNormApply(x, mean, variance, γ, β) with the statistics as given inputs. */
export function batchNormApplyVjp(inputs: readonly Tensor[], g: Tensor, epsilon: number, needs: readonly boolean[]): (Tensor | null)[] {
  const [x, mean, variance, gamma] = inputs;
  const axes = rowAxes(x);
  const inv = rsqrt(add(variance, epsilon));
  const scaled = mul(gamma, inv);
  const gSum = needs[1] || needs[4] ? sum(g, axes) : null;
  // Σ dy·(x - mean): the variance's and gamma's gradients both need it.
  const gCentered = needs[2] || needs[3] ? sum(mul(g, sub(x, mean)), axes) : null;
  return [
    needs[0] ? mul(g, scaled) : null,
    needs[1] ? neg(mul(gSum!, scaled)) : null,
    needs[2] ? mul(gCentered!, mul(gamma, mul(pow(inv, 3), -0.5))) : null,
    needs[3] ? mul(gCentered!, inv) : null,
    needs[4] ? gSum : null,
  ];
}

/**
 * batchNormTraining(x, γ, β, stats): dx through the batch statistics too, dγ = Σ dy·x̂, dβ = Σ dy,
 * and null for stats (its dependence on x is already in dx).
 */
export function batchNormTrainingVjp(inputs: readonly Tensor[], g: Tensor, epsilon: number, needs: readonly boolean[]): (Tensor | null)[] {
  const [x, gamma, , stats] = inputs;
  const c = channelsOf(x);
  if (hasKernel('batchNormGradInput', x) && hasKernel('batchNormGradSums', x)) {
    const sums = runPrimitive('batchNormGradSums', [x, stats, g], { epsilon }, [2, c], x.dtype);
    const dx = needs[0] ? runPrimitive('batchNormGradInput', [x, gamma, stats, g, sums], { epsilon }, x.shape, x.dtype) : null;
    const [dGamma, dBeta] = unpackPair(sums);
    return [dx, needs[1] ? dGamma : null, needs[2] ? dBeta : null, null];
  }
  const [mean, variance] = unpackPair(stats);
  const axes = rowAxes(x),
    n = rowCount(x);
  const inv = rsqrt(add(variance, epsilon));
  const xHat = mul(sub(x, mean), inv);
  const dGamma = sum(mul(g, xHat), axes),
    dBeta = sum(g, axes);
  const dx = needs[0] ? mul(mul(gamma, inv), sub(sub(g, div(dBeta, n)), mul(xHat, div(dGamma, n)))) : null;
  return [dx, needs[1] ? dGamma : null, needs[2] ? dBeta : null, null];
}

/** layerNorm(x, γ, β) over the last axis: dx = inv·(gd - mean(gd) - x̂·mean(gd·x̂)), gd = dy·γ. */
export function layerNormVjp(inputs: readonly Tensor[], g: Tensor, epsilon: number, needs: readonly boolean[]): (Tensor | null)[] {
  const [x, gamma] = inputs;
  if (useLayerNormKernels(x)) {
    const dx = needs[0] ? runPrimitive('layerNormGradInput', [x, gamma, g], { epsilon }, x.shape, x.dtype) : null;
    if (!needs[1] && !needs[2]) return [dx, null, null];
    const [dGamma, dBeta] = unpackPair(runPrimitive('layerNormGradSums', [x, g], { epsilon }, [2, channelsOf(x)], x.dtype));
    return [dx, needs[1] ? dGamma : null, needs[2] ? dBeta : null];
  }
  const { mean, variance } = moments(x, -1, true);
  const inv = rsqrt(add(variance, epsilon));
  const xHat = mul(sub(x, mean), inv);
  const gd = mul(g, gamma);
  const dx = needs[0] ? mul(inv, sub(sub(gd, meanOf(gd, -1, true)), mul(xHat, meanOf(mul(gd, xHat), -1, true)))) : null;
  const axes = rowAxes(x);
  return [dx, needs[1] ? sum(mul(g, xHat), axes) : null, needs[2] ? sum(g, axes) : null];
}

/**
 * The VJP of batchNormGradSums(x, stats, dy) = [S1 | S2] = [Σ dy·(x - m)·inv | Σ dy] (sums over
 * rows, inv = 1/√(var + ε)) for an upstream [G1 | G2], with the statistics as an input of their
 * own (their dependence on x is batchNormStats's rule). Returns d/dx, d/dstats ([2, C]), d/ddy.
 */
export function batchNormGradSumsVjp(inputs: readonly Tensor[], output: Tensor, upstream: Tensor, epsilon: number): (Tensor | null)[] {
  const [x, stats, dy] = inputs;
  const [mean, variance] = unpackPair(stats);
  const [s1, s2] = unpackPair(output);
  const [g1, g2] = unpackPair(upstream);
  const inv = rsqrt(add(variance, epsilon));
  const g1inv = mul(g1, inv);
  const dMean = neg(mul(g1inv, s2));
  // d S1/d var = Σ dy·(x - m)·(-½ inv³) = -½·S1·inv².
  const dVar = mul(mul(g1, s1), mul(mul(inv, inv), -0.5));
  return [mul(dy, g1inv), stackPair(dMean, dVar), add(mul(sub(x, mean), g1inv), g2)];
}

/**
 * The VJP of batchNormGradInput(x, γ, stats, dy, [S1 | S2]) = γ·inv·(dy - S2/R) - γ·inv²·(x - m)·S1/R
 * for an upstream G (the shape of x); d inv/d var = -½ inv³.
 */
export function batchNormGradInputVjp(inputs: readonly Tensor[], upstream: Tensor, epsilon: number, needs: readonly boolean[]): (Tensor | null)[] {
  const [x, gamma, stats, dy, sums] = inputs;
  const [mean, variance] = unpackPair(stats);
  const [s1, s2] = unpackPair(sums);
  const axes = rowAxes(x),
    n = rowCount(x);
  const inv = rsqrt(add(variance, epsilon)),
    inv2 = mul(inv, inv);
  const centered = sub(x, mean);
  const direct = sub(dy, div(s2, n)); // dy - S2/R
  const k = div(mul(mul(gamma, inv2), s1), n); // γ·inv²·S1/R
  const sumG = needs[2] || needs[4] ? sum(upstream, axes) : null;
  const sumGc = needs[2] || needs[4] ? sum(mul(upstream, centered), axes) : null;
  let dStats: Tensor | null = null;
  if (needs[2]) {
    const dMean = mul(sumG!, k);
    const dVar = add(mul(mul(sum(mul(upstream, direct), axes), gamma), mul(pow(inv, 3), -0.5)), mul(mul(sumGc!, k), inv2));
    dStats = stackPair(dMean, dVar);
  }
  return [
    needs[0] ? neg(mul(upstream, k)) : null,
    needs[1] ? sum(mul(upstream, sub(mul(direct, inv), mul(centered, div(mul(inv2, s1), n)))), axes) : null,
    dStats,
    needs[3] ? mul(upstream, mul(gamma, inv)) : null,
    needs[4] ? stackPair(neg(div(mul(mul(sumGc!, gamma), inv2), n)), neg(div(mul(sumG!, mul(gamma, inv)), n))) : null,
  ];
}

/** Two [C] vectors as the rows of a [2, C] tensor (the layout of stats and sums). */
const stackPair = (a: Tensor, b: Tensor): Tensor => concat([reshape(a, [1, a.size]), reshape(b, [1, b.size])], 0);

/**
 * layerNorm's gradient kernels run only while the backward pass is not recorded (see
 * useLayerNormKernels), so they are never on the tape; reaching this rule means that broke.
 */
export function notRecorded(primitive: string): never {
  throw new Error(
    `${primitive}: internal error: a gradient-only kernel was recorded on the tape; the rule that runs it computes higher derivatives with ops instead`,
  );
}
