import { isGradEnabled } from '../autograd/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, div, mul, neg, pow, rsqrt, sub } from './elementwise.js';
import { unpackPair } from './normalization-fused.js';
import { mean as meanOf, moments, sum } from './reduction.js';
import { hasKernel, runPrimitive } from './run.js';

// The VJP rules of the fused normalization primitives (Note [Fused normalization] in
// normalization-fused.ts). x is [..., C]; "rows" are all its axes but the last, R of them in all.

const rowAxes = (x: Tensor): number[] => x.shape.slice(0, -1).map((_, i) => i);
const channelsOf = (x: Tensor): number => x.shape[x.rank - 1];
const rowCount = (x: Tensor): number => x.size / channelsOf(x);

/**
 * Whether a rule may use the gradient kernels: only while the backward pass is not recorded.
 * Under createGraph the rules use ops, so second derivatives come from the tape.
 */
const useKernels = (primitive: 'batchNormGradInput' | 'layerNormGradInput', x: Tensor): boolean => !isGradEnabled() && hasKernel(primitive, x);

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
  if (useKernels('batchNormGradInput', x)) {
    const sums = runPrimitive('batchNormGradSums', [x, stats, g], { epsilon }, [2, c], x.dtype);
    const dx = needs[0] ? runPrimitive('batchNormGradInput', [x, gamma, stats, g, sums], { epsilon }, x.shape, x.dtype) : null;
    const [dGamma, dBeta] = unpackPair(sums);
    return [dx, needs[1] ? dGamma : null, needs[2] ? dBeta : null, null];
  }
  const [mean, variance] = unpackPair(stats);
  const axes = rowAxes(x), n = rowCount(x);
  const inv = rsqrt(add(variance, epsilon));
  const xHat = mul(sub(x, mean), inv);
  const dGamma = sum(mul(g, xHat), axes), dBeta = sum(g, axes);
  const dx = needs[0] ? mul(mul(gamma, inv), sub(sub(g, div(dBeta, n)), mul(xHat, div(dGamma, n)))) : null;
  return [dx, needs[1] ? dGamma : null, needs[2] ? dBeta : null, null];
}

/** layerNorm(x, γ, β) over the last axis: dx = inv·(gd - mean(gd) - x̂·mean(gd·x̂)), gd = dy·γ. */
export function layerNormVjp(inputs: readonly Tensor[], g: Tensor, epsilon: number, needs: readonly boolean[]): (Tensor | null)[] {
  const [x, gamma] = inputs;
  if (useKernels('layerNormGradInput', x)) {
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
 * The gradient kernels run only while the backward pass is not recorded (see the Note), so they
 * are never on the tape; reaching this rule means that invariant broke.
 */
export function notRecorded(primitive: string): never {
  throw new Error(`${primitive}: internal error: a gradient-only normalization kernel was recorded on the tape; its rule computes higher derivatives with ops instead`);
}
