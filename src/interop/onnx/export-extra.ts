// Exporters of the one-dimensional convolution and pooling layers, separable convolution and
// the image-shaping layers (padding, cropping, upsampling, rescaling).
import type { Layer } from '../../nn/layer.js';
import type { Node } from '../../nn/symbolic.js';
import { channelConstant, type Value } from './export-graph.js';
import { type ExportContext, type LayerExporter, activation, configOf, permute } from './export-context.js';
import { paddingProblem, windowAttrs, withActivation } from './export-layers.js';

const SWAP = { perm: { ints: [0, 2, 1] } };

/** A [B, T, C] value through an NCW op (ONNX's 1-D Conv and pooling) and back to [B, T, C]. */
function channelsFirst1d(ctx: ExportContext, x: Value, node: Node, name: string, f: (ncw: string) => string): Value {
  const { g } = ctx;
  const ncw = g.op1('Transpose', [g.nhwc(x)], SWAP, `${name}/ncw`);
  return { shape: node.outputs[0].shape, nhwc: g.op1('Transpose', [f(ncw)], SWAP, name) };
}

/** 1-D windows: 'causal' pads (k - 1)·d at the start, as Keras's causal convolution does. */
function attrs1d(layer: Layer, node: Node, kernel: number, strides: number, dilation: number | null) {
  const padding = configOf(layer).padding as string;
  if (padding !== 'causal') return windowAttrs(node.inputs[0].shape.slice(1, 2), [kernel], [strides], dilation === null ? null : [dilation], padding);
  return {
    kernel_shape: { ints: [kernel] },
    strides: { ints: [strides] },
    dilations: { ints: [dilation ?? 1] },
    pads: { ints: [(kernel - 1) * (dilation ?? 1), 0] },
  };
}

const padding1dProblem = (layer: Layer) => (configOf(layer).padding === 'causal' ? undefined : paddingProblem(layer));
const first = (v: unknown) => (Array.isArray(v) ? (v[0] as number) : (v as number));

const conv1d: LayerExporter = {
  check: (layer) => withActivation(layer) ?? padding1dProblem(layer),
  emit(ctx, layer, [x], node) {
    const c = configOf(layer);
    const k = ctx.need(layer, 'kernel'); // [k, in, out]
    const b = ctx.weight(layer, 'bias');
    const y = channelsFirst1d(ctx, x, node, layer.name, (ncw) => {
      const inputs = [ncw, ctx.g.floats(`${layer.name}/kernel`, permute(k.data, k.shape, [2, 1, 0]), [k.shape[2], k.shape[1], k.shape[0]])];
      if (b) inputs.push(ctx.g.floats(`${layer.name}/bias`, b.data, b.shape));
      return ctx.g.op1('Conv', inputs, attrs1d(layer, node, k.shape[0], first(c.strides), first(c.dilationRate)), layer.name);
    });
    return [activation(ctx.g, y, c.activation as string)];
  },
};

function pool1d(op: 'MaxPool' | 'AveragePool'): LayerExporter {
  return {
    check: paddingProblem,
    emit(ctx, layer, [x], node) {
      const c = configOf(layer);
      return [
        channelsFirst1d(ctx, x, node, layer.name, (ncw) =>
          ctx.g.op1(op, [ncw], attrs1d(layer, node, first(c.poolSize), first(c.strides), null), layer.name),
        ),
      ];
    },
  };
}

function globalPool1d(op: 'ReduceMean' | 'ReduceMax'): LayerExporter {
  return {
    emit(ctx, layer, [x], node) {
      const { g } = ctx;
      const keep = { axes: { ints: [1] }, keepdims: { i: configOf(layer).keepdims === true ? 1 : 0 } };
      if (op === 'ReduceMean' && x.mask) {
        // Only unmasked steps count, as in Strata: sum(x · m) / sum(m); max pooling ignores the mask.
        const weights = g.op1(
          'Unsqueeze',
          [g.op1('Cast', [x.mask], { to: { i: 1 } }, `${layer.name}/weights`), g.int64s('axes', [2])],
          {},
          `${layer.name}/weights`,
        );
        const total = g.op1(
          'ReduceSum',
          [g.op1('Mul', [g.nhwc(x), weights], {}, layer.name), g.int64s('axes', [1])],
          { keepdims: keep.keepdims },
          layer.name,
        );
        const count = g.op1('ReduceSum', [weights, g.int64s('axes', [1])], { keepdims: keep.keepdims }, layer.name);
        return [{ shape: node.outputs[0].shape, nhwc: g.op1('Div', [total, count], {}, layer.name) }];
      }
      return [{ shape: node.outputs[0].shape, nhwc: g.op1(op, [g.nhwc(x)], keep, layer.name) }];
    },
  };
}

/** Depthwise (group = channels, no bias) then a 1x1 pointwise Conv with the bias. */
const separableConv2d: LayerExporter = {
  check: (layer) => withActivation(layer) ?? paddingProblem(layer),
  emit(ctx, layer, [x], node) {
    const { g } = ctx;
    const c = configOf(layer);
    const dw = ctx.need(layer, 'depthwise_kernel'),
      pw = ctx.need(layer, 'pointwise_kernel');
    const [kh, kw, cin, mult] = dw.shape;
    const pair = (v: unknown) => (Array.isArray(v) ? (v as number[]) : [v as number, v as number]);
    const attrs = windowAttrs(node.inputs[0].shape.slice(1, 3), [kh, kw], pair(c.strides), pair(c.dilationRate), c.padding as string);
    const dwW = g.floats(`${layer.name}/depthwise_kernel`, permute(dw.data, dw.shape, [2, 3, 0, 1]), [cin * mult, 1, kh, kw]);
    const mid = g.op1('Conv', [g.nchw(x), dwW], { ...attrs, group: { i: cin } }, `${layer.name}/depthwise`);
    const cout = pw.shape[3];
    const inputs = [mid, g.floats(`${layer.name}/pointwise_kernel`, permute(pw.data, pw.shape, [3, 2, 0, 1]), [cout, cin * mult, 1, 1])];
    const b = ctx.weight(layer, 'bias');
    if (b) inputs.push(g.floats(`${layer.name}/bias`, b.data, b.shape));
    const y = g.op1('Conv', inputs, { kernel_shape: { ints: [1, 1] } }, layer.name);
    return [activation(g, { shape: node.outputs[0].shape, nchw: y }, c.activation as string)];
  },
};

/**
 * Conv2DTranspose as ONNX ConvTranspose, kernel [kh, kw, out, in] to [in, out, kh, kw]. Strata
 * runs it as the gradient of the convolution of its output size N, with TensorFlow's padding for
 * that convolution; so the full output (n - 1)·s + k is cropped by that padding's start, and the
 * rest at the end (or grown by output_padding when the full output is shorter than N).
 */
const conv2dTranspose: LayerExporter = {
  check(layer, node) {
    const known = node.outputs[0].shape.slice(1, 3).every((d) => d !== null);
    return withActivation(layer) ?? paddingProblem(layer) ?? (known ? undefined : 'the output height and width must be known (an input shape)');
  },
  emit(ctx, layer, [x], node) {
    const { g } = ctx;
    const c = configOf(layer);
    const k = ctx.need(layer, 'kernel');
    const [kh, kw, cout, cin] = k.shape;
    const strides = c.strides as number[],
      dilations = c.dilationRate as number[];
    const begin: number[] = [],
      end: number[] = [],
      extra: number[] = [];
    [kh, kw].forEach((size, i) => {
      const kEff = (size - 1) * dilations[i] + 1,
        s = strides[i];
      const n = x.shape[1 + i] as number,
        N = node.outputs[0].shape[1 + i] as number;
      const total = c.padding === 'same' ? Math.max((Math.ceil(N / s) - 1) * s + kEff - N, 0) : 0;
      const start = Math.floor(total / 2);
      const rest = (n - 1) * s + kEff - N - start;
      begin.push(start);
      end.push(Math.max(rest, 0));
      extra.push(Math.max(-rest, 0));
    });
    const inputs = [g.nchw(x), g.floats(`${layer.name}/kernel`, permute(k.data, k.shape, [3, 2, 0, 1]), [cin, cout, kh, kw])];
    const b = ctx.weight(layer, 'bias');
    if (b) inputs.push(g.floats(`${layer.name}/bias`, b.data, b.shape));
    const attrs = {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: strides },
      dilations: { ints: dilations },
      pads: { ints: [...begin, ...end] },
      output_padding: { ints: extra },
    };
    const y = g.op1('ConvTranspose', inputs, attrs, layer.name);
    return [activation(g, { shape: node.outputs[0].shape, nchw: y }, c.activation as string)];
  },
};

const zeroPadding2d: LayerExporter = {
  emit(ctx, layer, [x], node) {
    const [[t, b], [l, r]] = configOf(layer).padding as number[][];
    const pads = ctx.g.int64s(`${layer.name}/pads`, [0, 0, t, l, 0, 0, b, r]);
    return [{ shape: node.outputs[0].shape, nchw: ctx.g.op1('Pad', [ctx.g.nchw(x), pads], { mode: { s: 'constant' } }, layer.name) }];
  },
};

const cropping2d: LayerExporter = {
  emit(ctx, layer, [x], node) {
    const { g } = ctx;
    const [[t, b], [l, r]] = configOf(layer).cropping as number[][];
    // A negative end counts from the end, so the crop needs no known size; 0 cropped is "to the end".
    const end = (n: number) => (n === 0 ? 2 ** 31 - 1 : -n);
    const y = g.op1('Slice', [g.nchw(x), g.int64s('starts', [t, l]), g.int64s('ends', [end(b), end(r)]), g.int64s('axes', [2, 3])], {}, layer.name);
    return [{ shape: node.outputs[0].shape, nchw: y }];
  },
};

const upSampling2d: LayerExporter = {
  check: (layer) =>
    configOf(layer).interpolation === 'nearest' ? undefined : `interpolation '${configOf(layer).interpolation}' is not exported (nearest is)`,
  emit(ctx, layer, [x], node) {
    const { g } = ctx;
    const [sh, sw] = configOf(layer).size as number[];
    // Whole-number scales with asymmetric coordinates and floor: each pixel repeated, as Keras does.
    const attrs = { mode: { s: 'nearest' }, coordinate_transformation_mode: { s: 'asymmetric' }, nearest_mode: { s: 'floor' } };
    const y = g.op1('Resize', [g.nchw(x), '', g.floats('scales', [1, 1, sh, sw], [4])], attrs, layer.name);
    return [{ shape: node.outputs[0].shape, nchw: y }];
  },
};

/** x · scale + offset, each a number or one per channel. */
const rescaling: LayerExporter = {
  emit(ctx, layer, [x]) {
    const { g } = ctx;
    const c = configOf(layer);
    const layout = x.nchw !== undefined ? 'nchw' : 'nhwc';
    const constant = (v: unknown, what: string) =>
      Array.isArray(v)
        ? channelConstant(g, `${layer.name}/${what}`, Float32Array.from(v as number[]), layout)
        : g.floats(`${layer.name}/${what}`, [v as number], []);
    const y = g.op1('Mul', [layout === 'nchw' ? x.nchw! : x.nhwc!, constant(c.scale, 'scale')], {}, layer.name);
    return [{ shape: x.shape, [layout]: g.op1('Add', [y, constant(c.offset, 'offset')], {}, layer.name) }];
  },
};

/** x · rsqrt(max(Σx², 1e-12)) over the axes (Keras 3's UnitNormalization), in Strata's layout. */
const unitNormalization: LayerExporter = {
  emit(ctx, layer, [x], node) {
    const { g } = ctx;
    const rank = node.inputs[0].rank;
    const axis = configOf(layer).axis as number | number[];
    const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a));
    const v = g.nhwc(x);
    const sum = g.op1('ReduceSumSquare', [v], { axes: { ints: axes }, keepdims: { i: 1 } }, `${layer.name}/sum`);
    const norm = g.op1('Sqrt', [g.op1('Max', [sum, g.floats('eps', [1e-12], [])], {}, layer.name)], {}, layer.name);
    return [{ shape: x.shape, nhwc: g.op1('Div', [v, norm], {}, layer.name) }];
  },
};

/**
 * GroupNormalization over the last axis: channels split into [groups, C / groups], each sample's
 * group normalized over it and every other non-batch axis, then per-channel gamma and beta.
 */
const groupNormalization: LayerExporter = {
  check(layer, node) {
    const axis = configOf(layer).axis as number;
    const rank = node.inputs[0].rank;
    if (axis !== -1 && axis !== rank - 1) return `axis ${axis} is not exported (only the last axis)`;
    return node.inputs[0].shape.at(-1) === null ? 'the number of channels must be known' : undefined;
  },
  emit(ctx, layer, [x]) {
    const { g } = ctx;
    const channels = x.shape.at(-1) as number;
    const groups = (configOf(layer).groups as number) === -1 ? channels : (configOf(layer).groups as number);
    const v = g.nhwc(x);
    const grouped = g.op1('Reshape', [v, g.int64s('shape', [0, -1, groups, channels / groups])], {}, `${layer.name}/grouped`);
    const stat = { axes: { ints: [1, 3] }, keepdims: { i: 1 } };
    const centered = g.op1('Sub', [grouped, g.op1('ReduceMean', [grouped], stat, `${layer.name}/mean`)], {}, layer.name);
    const variance = g.op1('ReduceMean', [g.op1('Mul', [centered, centered], {}, layer.name)], stat, `${layer.name}/variance`);
    const eps = g.floats('eps', [configOf(layer).epsilon as number], []);
    const normalized = g.op1('Div', [centered, g.op1('Sqrt', [g.op1('Add', [variance, eps], {}, layer.name)], {}, layer.name)], {}, layer.name);
    let y = g.op1('Reshape', [normalized, g.op1('Shape', [v], {}, `${layer.name}/shape`)], {}, layer.name);
    const gamma = ctx.weight(layer, 'gamma'),
      beta = ctx.weight(layer, 'beta');
    if (gamma) y = g.op1('Mul', [y, g.floats(`${layer.name}/gamma`, gamma.data, [channels])], {}, layer.name);
    if (beta) y = g.op1('Add', [y, g.floats(`${layer.name}/beta`, beta.data, [channels])], {}, layer.name);
    return [{ shape: x.shape, nhwc: y }];
  },
};

/** The exporters of this file, by Strata class name. */
export const EXTRA_EXPORTERS: Record<string, LayerExporter> = {
  Conv1D: conv1d,
  MaxPooling1D: pool1d('MaxPool'),
  AveragePooling1D: pool1d('AveragePool'),
  GlobalAveragePooling1D: globalPool1d('ReduceMean'),
  GlobalMaxPooling1D: globalPool1d('ReduceMax'),
  SeparableConv2D: separableConv2d,
  Conv2DTranspose: conv2dTranspose,
  ZeroPadding2D: zeroPadding2d,
  Cropping2D: cropping2d,
  UpSampling2D: upSampling2d,
  Rescaling: rescaling,
  UnitNormalization: unitNormalization,
  GroupNormalization: groupNormalization,
};
