// Gemm, MatMul and the normalizations. BatchNormalization is layout-aware: its channel axis is 1
// in ONNX's layout and the last axis when the builder holds the value channels-last.
import { ValueError } from '../../core/errors.js';
import { add, cast, div, mul, sqrt, sub } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { mean } from '../../ops/reduction.js';
import { reshape, squeeze } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { transposed2d } from './held-weights.js';
import { need, normAxis, type OpContext, type OpHandler } from './op-context.js';

const float = (t: Tensor) => (t.dtype === 'float32' ? t : cast(t, 'float32'));

function gemm(ctx: OpContext): Tensor {
  const a = float(need(ctx, 0, 'A'));
  const b = float(need(ctx, 1, 'B'));
  const alpha = ctx.attrs.float('alpha', 1);
  const beta = ctx.attrs.float('beta', 1);
  // A held B is already [k, n] (Note [Filters held in Strata's layout] in ops-conv.ts).
  const transB = ctx.attrs.int('transB', 0) === 1 && !ctx.filterLayout[1];
  let y = matmul(a, b, ctx.attrs.int('transA', 0) === 1, transB);
  if (alpha !== 1) y = mul(y, alpha);
  const c = ctx.inputs[2];
  if (c) y = add(y, beta === 1 ? float(c) : mul(float(c), beta));
  return y;
}

function matMul(ctx: OpContext): Tensor {
  let a = need(ctx, 0, 'A');
  let b = need(ctx, 1, 'B');
  if (a.dtype !== b.dtype) [a, b] = [float(a), float(b)];
  // NumPy's rules for 1-D operands: a vector on the left is a row, on the right a column, and that axis goes away.
  const aVec = a.rank === 1;
  const bVec = b.rank === 1;
  if (aVec) a = reshape(a, [1, a.shape[0]]);
  if (bVec) b = reshape(b, [b.shape[0], 1]);
  let y = matmul(a, b);
  if (bVec) y = squeeze(y, -1);
  if (aVec) y = squeeze(y, bVec ? -1 : -2);
  return y;
}

function batchNorm(ctx: OpContext): Tensor | Tensor[] {
  const x = float(need(ctx, 0, 'X'));
  const training = ctx.attrs.int('training_mode', 0) === 1;
  if (!training && ctx.numOutputs > 1) {
    // Before opset 14 the extra outputs were the training statistics of an is_test=0 node.
    throw new ValueError(`${ctx.where}: the training outputs of BatchNormalization before opset 14 are not supported; export the model in eval mode`);
  }
  const [scale, bias, m, v] = [1, 2, 3, 4].map((i) => float(need(ctx, i, ['scale', 'B', 'input_mean', 'input_var'][i - 1])));
  const eps = ctx.attrs.float('epsilon', 1e-5);
  if (training) return batchNormTraining(ctx, x, scale, bias, m, v, eps);
  // y = x * a + b with per-channel a = scale / sqrt(var + eps), b = B - mean * a.
  const a = div(scale, sqrt(add(v, eps)));
  const shift = sub(bias, mul(m, a));
  const c = scale.shape[0];
  const at = ctx.channelsLast || x.rank < 2 ? [c] : [c, ...new Array(x.rank - 2).fill(1)];
  return add(mul(x, reshape(a, at)), reshape(shift, at));
}

/**
 * training_mode=1 (opset 14+): the node normalizes with the batch's own mean and (biased)
 * variance over every axis but the channels, and outputs the running statistics moved towards
 * them by momentum: running = input * momentum + batch * (1 - momentum).
 */
function batchNormTraining(ctx: OpContext, x: Tensor, scale: Tensor, bias: Tensor, m: Tensor, v: Tensor, eps: number): Tensor[] {
  const channel = ctx.channelsLast ? x.rank - 1 : Math.min(1, x.rank - 1);
  const axes = Array.from({ length: x.rank }, (_, i) => i).filter((i) => i !== channel);
  const mu = mean(x, axes, true);
  const centered = sub(x, mu);
  const variance = mean(mul(centered, centered), axes, true);
  const c = scale.shape[0];
  const at = x.shape.map((_, i) => (i === channel ? c : 1));
  const y = add(mul(div(centered, sqrt(add(variance, eps))), reshape(scale, at)), reshape(bias, at));
  const momentum = ctx.attrs.float('momentum', 0.9);
  const runMean = add(mul(m, momentum), mul(reshape(mu, [c]), 1 - momentum));
  const runVar = add(mul(v, momentum), mul(reshape(variance, [c]), 1 - momentum));
  return [y, runMean, runVar].slice(0, Math.max(ctx.numOutputs, 1));
}

function layerNorm(ctx: OpContext): Tensor[] {
  const x = float(need(ctx, 0, 'X'));
  const axis = normAxis(ctx, ctx.attrs.int('axis', -1), x.rank);
  const eps = ctx.attrs.float('epsilon', 1e-5);
  const axes = Array.from({ length: x.rank - axis }, (_, i) => axis + i);
  const mu = mean(x, axes, true);
  const centered = sub(x, mu);
  const invStd = div(1, sqrt(add(mean(mul(centered, centered), axes, true), eps)));
  let y = mul(centered, invStd);
  y = mul(y, float(need(ctx, 1, 'Scale')));
  const b = ctx.inputs[2];
  if (b) y = add(y, float(b));
  return [y, mu, invStd];
}

export const LINEAR: Record<string, OpHandler> = {
  Gemm: {
    holdWeight: (i, t, attrs) =>
      i === 1 && t.shape.length === 2 && t.onnxType === 'FLOAT' && attrs.int('transB', 0) === 1 ? transposed2d(t) : undefined,
    run: gemm,
  },
  MatMul: { run: matMul },
  BatchNormalization: { layout: 'aware', frozen: [3, 4], run: batchNorm },
  LayerNormalization: { run: layerNorm },
};
