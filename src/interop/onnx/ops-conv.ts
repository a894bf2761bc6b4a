// Convolutions and pooling: ONNX's NCHW operators on Strata's NHWC kernels. A node the builder
// marked channelsLast receives and returns NHWC values as they are; otherwise the node moves its
// input to NHWC and its output back (Note [Channels-last inside, ONNX shapes outside] in layout.ts).
import { ValueError, fmtShape } from '../../core/errors.js';
import type { ConvActivation } from '../../backend/primitives.js';
import { add, cast } from '../../ops/elementwise.js';
import { applyActivation, fusedConv2dPlanned } from '../../ops/fused.js';
import { backpropInputPlanned, conv2dPlanned, planFromAttrs } from '../../ops/conv.js';
import { fusedConv2dAddPlanned } from '../../ops/conv-residual.js';
import { depthwiseConv2dPlanned, depthwisePlanFromAttrs, fusedDepthwiseConv2dPlanned } from '../../ops/depthwise-conv.js';
import { avgPool2dPlanned, maxPool2dPlanned, poolPlanFromAttrs } from '../../ops/pool.js';
import { conv3dTranspose } from '../../ops/conv3d.js';
import { concat, pad, reshape, slice, split, transpose } from '../../ops/shape-ops.js';
import { max, mean } from '../../ops/reduction.js';
import type { Tensor } from '../../tensor/tensor.js';
import { FOLDED_RELU, need, type OpContext, type OpHandler } from './op-context.js';
import { ndGeometry, tapAvgPool, tapMaxPool } from './pool-taps.js';
import { toFilterLayout } from './held-weights.js';

type Pads = { top: number; bottom: number; left: number; right: number };

/** x as NHWC, and the function that brings a result back to the node's layout. 1-D data gets a height of 1. */
function toNhwc(ctx: OpContext, x: Tensor): [Tensor, (y: Tensor) => Tensor] {
  const f = x.dtype === 'float32' ? x : cast(x, 'float32');
  if (f.rank === 3) {
    if (ctx.channelsLast) throw new ValueError(`${ctx.where}: channels-last 1-D data is not supported`);
    const [n, c, l] = f.shape;
    const y4 = transpose(reshape(f, [n, c, 1, l]), [0, 2, 3, 1]);
    return [y4, (y) => reshape(transpose(y, [0, 3, 1, 2]), [y.shape[0], y.shape[3], y.shape[2]])];
  }
  if (f.rank !== 4) throw new ValueError(`${ctx.where}: only 1-D and 2-D spatial data are supported; received input of shape ${fmtShape(x.shape)}`);
  if (ctx.channelsLast) return [f, (y) => y];
  return [transpose(f, [0, 2, 3, 1]), (y) => transpose(y, [0, 3, 1, 2])];
}

/** kernel_shape, strides, dilations and pads (begin, end) for the two spatial axes; 1-D attributes get a leading 1 / 0. */
function geometry(ctx: OpContext, spatialRank: number, inHW: [number, number], kernel: [number, number], transposed = false) {
  const a = ctx.attrs;
  const lift = (v: number[] | undefined, d: number): [number, number] => (v ? (spatialRank === 1 ? [d, v[0]] : [v[0], v[1]]) : [d, d]);
  const strides = lift(a.ints('strides'), 1);
  const dilation = lift(a.ints('dilations'), 1);
  const autoPad = a.string('auto_pad', 'NOTSET');
  let pads: Pads;
  if (autoPad === 'NOTSET') {
    const p = a.ints('pads', new Array(2 * spatialRank).fill(0));
    pads = spatialRank === 1 ? { top: 0, bottom: 0, left: p[0], right: p[1] } : { top: p[0], left: p[1], bottom: p[2], right: p[3] };
  } else if (autoPad === 'VALID') {
    pads = { top: 0, bottom: 0, left: 0, right: 0 };
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const split2 = (i: 0 | 1): [number, number] => {
      const eff = (kernel[i] - 1) * dilation[i] + 1;
      const total = transposed ? Math.max(eff - strides[i], 0) : Math.max((Math.ceil(inHW[i] / strides[i]) - 1) * strides[i] + eff - inHW[i], 0);
      const small = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    };
    const [t, b] = split2(0);
    const [l, r] = split2(1);
    pads = { top: t, bottom: b, left: l, right: r };
  } else {
    throw new ValueError(`${ctx.where}: auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  }
  return { strides, dilation, pads };
}

// Note [Filters held in Strata's layout]
// ONNX keeps a convolution's weight as [out, in/group, kh, kw]; Strata's kernels take
// [kh, kw, in/group, out]. Transposing the weight on every call cost about half of an imported
// ResNet-18's inference at batch 1, so a Conv whose weight is an initializer gets it permuted
// once, at import (the handler's holdWeight, held-weights.ts): the layer's weight is then the
// filter itself (InputSpec `filter`), saved and fine-tuned in that layout. A weight the graph
// computes still arrives in ONNX's layout and is transposed here. A Gemm with transB=1 (how
// PyTorch exports every Linear) holds B as [k, n] the same way: oneDNN 2.6's matrix-vector
// product over a transposed B took 0.17 ms for MobileNetV2's [1, 1280] x [1280, 1000] classifier
// where the same product over [k, n] takes 0.065.
function conv(ctx: OpContext): Tensor {
  const x0 = need(ctx, 0, 'X');
  const w = cast(need(ctx, 1, 'W'), 'float32');
  const [x, back] = toNhwc(ctx, x0);
  const spatialRank = x0.rank - 2;
  const held = ctx.filterLayout[1] === true;
  // W is [M, C/group, kh, kw] (1-D: [M, C/group, k]); Strata's filters are [kh, kw, in, out].
  const w4 = held ? w : spatialRank === 1 ? reshape(w, [w.shape[0], w.shape[1], 1, w.shape[2]]) : w;
  const [m, cg, kh, kw] = held ? [w4.shape[3], w4.shape[2], w4.shape[0], w4.shape[1]] : w4.shape;
  const group = ctx.attrs.int('group', 1);
  const c = x.shape[3];
  if (cg * group !== c || m % group !== 0) {
    throw new ValueError(`${ctx.where}: W ${fmtShape(w.shape)} with group ${group} does not fit an input of ${c} channels`);
  }
  const { strides, dilation, pads } = geometry(ctx, spatialRank, [x.shape[1], x.shape[2]], [kh, kw]);
  const attrs = { strides, dilation, pads };
  let y: Tensor;
  const b = ctx.inputs[2] && cast(ctx.inputs[2], 'float32');
  // A Relu or Clip the builder folded into this node (Note [A Conv and its Relu as one kernel] in build.ts).
  const activation = foldedActivation(ctx);
  // A residual Add the builder folded into this node (Note [A Conv and its residual Add as one
  // kernel] in fold-residual.ts): input 3, held in the node's layout; the activation then comes
  // after it.
  const addend = ctx.inputs[3] && cast(ctx.inputs[3], 'float32');
  if (addend && !ctx.channelsLast) throw new ValueError(`${ctx.where}: a folded residual addend needs a channels-last 2-D convolution`);
  const inner = addend ? 'linear' : activation;
  let biased = false;
  let done = false;
  if (group === 1) {
    const f = held ? w4 : transpose(w4, [2, 3, 1, 0]);
    const plan = planFromAttrs(x.shape, f.shape, attrs);
    if (b && addend) {
      y = fusedConv2dAddPlanned(x, f, b, addend, activation, plan);
      done = true;
    } else if (b) {
      // The bias and activation ride in the convolution where the backend fuses them.
      y = fusedConv2dPlanned(x, f, b, inner, plan);
      biased = true;
    } else {
      y = conv2dPlanned(x, f, plan);
    }
  } else if (group === c && cg === 1) {
    // Depthwise: output channel c*dm + k filters input channel c, as in Strata's [kh, kw, C, dm] kernel.
    const k = held ? reshape(w4, [kh, kw, c, m / c]) : transpose(reshape(w4, [c, m / c, kh, kw]), [2, 3, 0, 1]);
    const plan = depthwisePlanFromAttrs(x.shape, k.shape, attrs);
    if (b) {
      y = fusedDepthwiseConv2dPlanned(x, k, b, inner, plan);
      biased = true;
    } else {
      y = depthwiseConv2dPlanned(x, k, plan);
    }
  } else {
    const xs = split(x, group, 3);
    const fs = held ? split(w4, group, 3) : split(w4, group, 0).map((wg) => transpose(wg, [2, 3, 1, 0]));
    y = concat(
      xs.map((xg, g) => conv2dPlanned(xg, fs[g], planFromAttrs(xg.shape, fs[g].shape, attrs))),
      3,
    );
  }
  if (!done) {
    if (!biased && b) y = add(y, b);
    if (addend) y = add(y, addend);
    if (!biased || addend) y = applyActivation(y, activation);
  }
  return back(y);
}

/** The activation a Conv node took on from its reader, 'linear' when none. */
function foldedActivation(ctx: OpContext): ConvActivation {
  const name = ctx.attrs.string(FOLDED_RELU, '');
  if (name === '') return 'linear';
  if (name === 'relu' || name === 'relu6') return name;
  throw new ValueError(`${ctx.where}: unknown ${FOLDED_RELU} '${name}' (expected 'relu' or 'relu6')`);
}

/**
 * 3-D ConvTranspose (group 1, no dilations) on Strata's conv3dTranspose: the full output of a
 * 'valid' transposed convolution (output_padding included), cropped by pads (or to output_shape,
 * the odd pixel of padding at the end, at the start for SAME_LOWER).
 */
function convTranspose3d(ctx: OpContext, x0: Tensor, w: Tensor): Tensor {
  const a = ctx.attrs;
  if (a.int('group', 1) !== 1 || (a.ints('dilations') ?? []).some((d) => d !== 1))
    throw new ValueError(`${ctx.where}: 3-D ConvTranspose supports group 1 without dilations`);
  const x = transpose(x0.dtype === 'float32' ? x0 : cast(x0, 'float32'), [0, 2, 3, 4, 1]);
  const strides = a.ints('strides', [1, 1, 1]);
  const outPad = a.ints('output_padding', [0, 0, 0]);
  const full = [0, 1, 2].map((i) => strides[i] * (x.shape[i + 1] - 1) + w.shape[i + 2] + outPad[i]);
  const y = conv3dTranspose(x, transpose(w, [2, 3, 4, 1, 0]), [x.shape[0], ...full, w.shape[1]], {
    strides: strides as [number, number, number],
  });
  const autoPad = a.string('auto_pad', 'NOTSET');
  const target = a.ints('output_shape')?.slice(-3) ?? (autoPad.startsWith('SAME') ? [0, 1, 2].map((i) => x.shape[i + 1] * strides[i]) : undefined);
  const pads = a.ints('pads', new Array(6).fill(0));
  const begin = [0, 1, 2].map((i) => {
    if (!target) return pads[i];
    const total = Math.max(full[i] - target[i], 0);
    return autoPad === 'SAME_LOWER' ? total - Math.floor(total / 2) : Math.floor(total / 2);
  });
  if (target?.some((t, i) => t > full[i])) throw new ValueError(`${ctx.where}: a 3-D output_shape beyond the full output is not supported`);
  const size = [0, 1, 2].map((i) => (target ? target[i] : full[i] - pads[i] - pads[i + 3]));
  let out = slice(y, [0, ...begin, 0], [y.shape[0], ...size, y.shape[4]]);
  const b = ctx.inputs[2];
  if (b) out = add(out, cast(b, 'float32'));
  return transpose(out, [0, 4, 1, 2, 3]);
}

function convTranspose(ctx: OpContext): Tensor {
  const x0 = need(ctx, 0, 'X');
  if (x0.rank === 5) return convTranspose3d(ctx, x0, cast(need(ctx, 1, 'W'), 'float32'));
  const w = cast(need(ctx, 1, 'W'), 'float32');
  const [x, back] = toNhwc(ctx, x0);
  const spatialRank = x0.rank - 2;
  // W is [C, M/group, kh, kw]; a transposed convolution is the input gradient of a convolution from M/group to C channels.
  const w4 = spatialRank === 1 ? reshape(w, [w.shape[0], w.shape[1], 1, w.shape[2]]) : w;
  const [c, mg, kh, kw] = w4.shape;
  const group = ctx.attrs.int('group', 1);
  if (c !== x.shape[3] || c % group !== 0)
    throw new ValueError(`${ctx.where}: W ${fmtShape(w.shape)} with group ${group} does not fit an input of ${x.shape[3]} channels`);
  const { strides, dilation } = geometry(ctx, spatialRank, [x.shape[1], x.shape[2]], [kh, kw], true);
  const lift = (v: number[] | undefined, d: number): [number, number] => (v ? (spatialRank === 1 ? [d, v[0]] : [v[0], v[1]]) : [d, d]);
  const outPad = lift(ctx.attrs.ints('output_padding'), 0);
  const full = (i: 0 | 1) => strides[i] * (x.shape[1 + i] - 1) + outPad[i] + (([kh, kw][i] - 1) * dilation[i] + 1);
  const outputShape = ctx.attrs.ints('output_shape');
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  let pads: Pads;
  let outSize: [number, number] | undefined;
  if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outputShape ? lift(outputShape.slice(-spatialRank), 1) : [x.shape[1] * strides[0], x.shape[2] * strides[1]];
    // The odd pixel of padding goes at the end (at the start for SAME_LOWER), as onnxruntime and
    // ONNX's test data do; an output_shape beyond the full size adds rows that only the bias reaches.
    const sides = (i: 0 | 1): [number, number] => {
      const total = Math.max(full(i) - target[i], 0);
      const half = Math.floor(total / 2);
      return autoPad === 'SAME_LOWER' ? [total - half, half] : [half, total - half];
    };
    const [t, b] = sides(0);
    const [l, r] = sides(1);
    pads = { top: t, bottom: b, left: l, right: r };
    outSize = [target[0], target[1]];
  } else {
    const p = ctx.attrs.ints('pads', new Array(2 * spatialRank).fill(0));
    pads = spatialRank === 1 ? { top: 0, bottom: 0, left: p[0], right: p[1] } : { top: p[0], left: p[1], bottom: p[2], right: p[3] };
  }
  const outH = outSize ? outSize[0] : full(0) - pads.top - pads.bottom;
  const outW = outSize ? outSize[1] : full(1) - pads.left - pads.right;
  const xs = group === 1 ? [x] : split(x, group, 3);
  const ws = group === 1 ? [w4] : split(w4, group, 0);
  let y = concat(
    xs.map((xg, g) => {
      // The forward convolution maps [N, outH + extra, outW + extra, M/g] to xg; the filter goes [kh, kw, M/g, C/g].
      const f = transpose(ws[g], [2, 3, 1, 0]);
      const inputShape = [x.shape[0], outH, outW, mg];
      const plan = planFromAttrs(inputShape, f.shape, { strides, dilation, pads });
      if (plan.outShape[1] !== xg.shape[1] || plan.outShape[2] !== xg.shape[2]) {
        throw new ValueError(
          `${ctx.where}: output_padding and pads give an output of [${outH}, ${outW}] that does not map back onto the input ${fmtShape(x0.shape)}`,
        );
      }
      return backpropInputPlanned(xg, f, inputShape, plan);
    }),
    3,
  );
  const b = ctx.inputs[2];
  if (b) y = add(y, cast(b, 'float32'));
  return back(y);
}

function pool(kind: 'max' | 'avg'): OpHandler {
  return {
    layout: 'aware',
    run: (ctx) => {
      const x0 = need(ctx, 0, 'X');
      if (x0.rank > 4) return poolNd(ctx, kind, x0.dtype === 'float32' ? x0 : cast(x0, 'float32'));
      const [x, back] = toNhwc(ctx, x0);
      const spatialRank = x0.rank - 2;
      const k = ctx.attrs.ints('kernel_shape', []);
      const kernel: [number, number] = spatialRank === 1 ? [1, k[0]] : [k[0], k[1]];
      const { strides, dilation, pads } = geometry(ctx, spatialRank, [x.shape[1], x.shape[2]], kernel);
      const dilated = dilation[0] !== 1 || dilation[1] !== 1;
      // The window's extent: dilations spread the kernel's taps.
      const span: [number, number] = [(kernel[0] - 1) * dilation[0] + 1, (kernel[1] - 1) * dilation[1] + 1];
      let input = x;
      let p = { ...pads };
      if (kind === 'avg' && ctx.attrs.int('count_include_pad', 0) === 1) {
        // Padding counted in the average: pad with zeros explicitly and pool without padding.
        input = pad(x, [
          [0, 0],
          [pads.top, pads.bottom],
          [pads.left, pads.right],
          [0, 0],
        ]);
        p = { top: 0, bottom: 0, left: 0, right: 0 };
      }
      if (ctx.attrs.int('ceil_mode', 0) === 1) {
        // ceil_mode: a last, partial window, unless it would start in the end padding; it reads
        // only real pixels (and padding), so extra end padding that never wins gives it.
        const extra = (n: number, before: number, after: number, i: 0 | 1) => {
          const room = n + before + after - span[i];
          let out = Math.ceil(room / strides[i]) + 1;
          if ((out - 1) * strides[i] >= n + before) out--;
          return Math.max((out - 1) * strides[i] + span[i] - (n + before + after), 0);
        };
        p = { ...p, bottom: p.bottom + extra(input.shape[1], p.top, p.bottom, 0), right: p.right + extra(input.shape[2], p.left, p.right, 1) };
      }
      if (dilated || ctx.numOutputs > 1) {
        // Dilations and the Indices output: by kernel taps (pool-taps.ts).
        const g = { axes: [1, 2], kernel, strides, dilation, begin: [p.top, p.left], end: [p.bottom, p.right] };
        // count_include_pad's padding is already part of the input (zeros that count).
        if (kind === 'avg') return back(tapAvgPool(input, g, false));
        const [values, indices] = tapMaxPool(input, g, ctx.attrs.int('storage_order', 0) === 1);
        return ctx.numOutputs > 1 ? [back(values), back(indices)] : back(values);
      }
      const plan = poolPlanFromAttrs(input.shape, { poolSize: kernel, strides, pads: p });
      return back(kind === 'max' ? maxPool2dPlanned(input, plan) : avgPool2dPlanned(input, plan));
    },
  };
}

/** 3-D (and higher) pooling, channels-first, by kernel taps (pool-taps.ts). */
function poolNd(ctx: OpContext, kind: 'max' | 'avg', x: Tensor): Tensor | Tensor[] {
  const g = ndGeometry(ctx, x);
  if (kind === 'avg') return tapAvgPool(x, g, ctx.attrs.int('count_include_pad', 0) === 1);
  const [values, indices] = tapMaxPool(x, g, ctx.attrs.int('storage_order', 0) === 1);
  return ctx.numOutputs > 1 ? [values, indices] : values;
}

function globalPool(kind: 'max' | 'avg'): OpHandler {
  return {
    layout: 'aware',
    run: (ctx) => {
      const x = need(ctx, 0, 'X');
      const f = x.dtype === 'float32' ? x : cast(x, 'float32');
      const axes = ctx.channelsLast ? [1, 2] : Array.from({ length: x.rank - 2 }, (_, i) => i + 2);
      return kind === 'max' ? max(f, axes, true) : mean(f, axes, true);
    },
  };
}

export const CONV: Record<string, OpHandler> = {
  Conv: {
    layout: 'aware',
    heldInputs: [3],
    holdWeight: (i, t) => (i === 1 && t.shape.length === 4 && t.onnxType === 'FLOAT' ? toFilterLayout(t) : undefined),
    run: conv,
  },
  ConvTranspose: { layout: 'aware', run: convTranspose },
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
};
