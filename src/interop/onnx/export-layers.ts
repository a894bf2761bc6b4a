// Exporters of the core, convolution, pooling, normalization and merge layers.
import type { Layer } from '../../nn/layer.js';
import type { Shape } from '../../nn/symbolic.js';
import { type Attr, channelConstant, unary } from './export-graph.js';
import { type ExportContext, type LayerExporter, activation, activationProblem, configOf, permute } from './export-context.js';

const cfg = (layer: Layer) => configOf(layer);
export const pair = (v: unknown) => (Array.isArray(v) ? (v as number[]) : [v as number, v as number]);

/** Layers with an `activation` option: the check every one of them shares. */
export const withActivation = (layer: Layer) => activationProblem(cfg(layer).activation);

const passThrough: LayerExporter = { emit: (_ctx, _layer, inputs) => [inputs[0]] };

const dense: LayerExporter = {
  check: withActivation,
  emit(ctx, layer, [x]) {
    const { g } = ctx;
    const k = ctx.need(layer, 'kernel');
    let y = g.op1('MatMul', [g.nhwc(x), g.floats(`${layer.name}/kernel`, k.data, k.shape)], {}, layer.name);
    const b = ctx.weight(layer, 'bias');
    if (b) y = g.op1('Add', [y, g.floats(`${layer.name}/bias`, b.data, b.shape)], {}, layer.name);
    return [activation(g, { shape: [...x.shape.slice(0, -1), k.shape[1]], nhwc: y }, cfg(layer).activation as string)];
  },
};

/**
 * ONNX pads [begin..., end...] for Strata's padding: TensorFlow's 'same' puts the odd pixel at the
 * end; an unknown size falls back to auto_pad SAME_UPPER, which means the same.
 */
export function padsOf(padding: string, spatial: Shape, kernel: number[], strides: number[], dilations: number[]): number[] | 'SAME_UPPER' {
  if (padding === 'valid') return new Array<number>(2 * spatial.length).fill(0);
  if (spatial.some((n) => n === null)) return 'SAME_UPPER';
  const begin: number[] = [],
    end: number[] = [];
  spatial.forEach((n, i) => {
    const size = n as number;
    const span = (kernel[i] - 1) * dilations[i] + 1;
    const total = Math.max((Math.ceil(size / strides[i]) - 1) * strides[i] + span - size, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  });
  return [...begin, ...end];
}

/** Conv and pooling attributes for the spatial axes `spatial` of the input (Strata's sizes). */
export function windowAttrs(spatial: Shape, kernel: number[], strides: number[], dilations: number[] | null, padding: string): Record<string, Attr> {
  const pads = padsOf(padding, spatial, kernel, strides, dilations ?? kernel.map(() => 1));
  return {
    kernel_shape: { ints: kernel },
    strides: { ints: strides },
    ...(dilations ? { dilations: { ints: dilations } } : {}),
    ...(pads === 'SAME_UPPER' ? { auto_pad: { s: pads } } : { pads: { ints: pads } }),
  };
}

export const paddingProblem = (layer: Layer) => {
  const p = cfg(layer).padding;
  return p === 'same' || p === 'valid' ? undefined : `padding ${JSON.stringify(p)} has no ONNX form here (same and valid do)`;
};

/** Conv2D and DepthwiseConv2D: ONNX Conv on the NCHW view, the kernel to [out, in / group, kh, kw]. */
function conv(depthwise: boolean): LayerExporter {
  return {
    check: (layer) => withActivation(layer) ?? paddingProblem(layer),
    emit(ctx, layer, [x], node) {
      const { g } = ctx;
      const c = cfg(layer);
      const k = ctx.need(layer, 'kernel');
      const [kh, kw, cin, cout] = k.shape;
      // Depthwise output channel c·multiplier + m reads input channel c with filter [.., c, m].
      const w = depthwise ? permute(k.data, k.shape, [2, 3, 0, 1]) : permute(k.data, k.shape, [3, 2, 0, 1]);
      const wShape = depthwise ? [cin * cout, 1, kh, kw] : [cout, cin, kh, kw];
      const inputs = [g.nchw(x), g.floats(`${layer.name}/kernel`, w, wShape)];
      const b = ctx.weight(layer, 'bias');
      if (b) inputs.push(g.floats(`${layer.name}/bias`, b.data, b.shape));
      const attrs = windowAttrs(node.inputs[0].shape.slice(1, 3), [kh, kw], pair(c.strides), pair(c.dilationRate), c.padding as string);
      const y = g.op1('Conv', inputs, { ...attrs, group: { i: depthwise ? cin : 1 } }, layer.name);
      return [activation(g, { shape: node.outputs[0].shape, nchw: y }, c.activation as string)];
    },
  };
}

function pool(op: 'MaxPool' | 'AveragePool'): LayerExporter {
  return {
    check: paddingProblem,
    emit(ctx, layer, [x], node) {
      const c = cfg(layer);
      // count_include_pad stays 0: Strata's average divides by the real pixels, as ONNX's default.
      const y = ctx.g.op1(
        op,
        [ctx.g.nchw(x)],
        windowAttrs(node.inputs[0].shape.slice(1, 3), pair(c.poolSize), pair(c.strides), null, c.padding as string),
        layer.name,
      );
      return [{ shape: node.outputs[0].shape, nchw: y }];
    },
  };
}

function globalPool(op: 'GlobalMaxPool' | 'GlobalAveragePool'): LayerExporter {
  return {
    emit(ctx, layer, [x], node) {
      const { g } = ctx;
      const y = g.op1(op, [g.nchw(x)], {}, layer.name); // [B, C, 1, 1]
      if (cfg(layer).keepdims === true) return [{ shape: node.outputs[0].shape, nchw: y }];
      return [{ shape: node.outputs[0].shape, nhwc: g.op1('Flatten', [y], { axis: { i: 1 } }, layer.name) }];
    },
  };
}

// Flatten reads Strata's layout, so an NCHW region is transposed back first: the order of the
// flattened features is then Strata's (h, w, c), which the following dense kernel expects.
const flatten: LayerExporter = {
  emit: (ctx, layer, [x], node) => [{ shape: node.outputs[0].shape, nhwc: ctx.g.op1('Flatten', [ctx.g.nhwc(x)], { axis: { i: 1 } }, layer.name) }],
};

const reshape: LayerExporter = {
  emit(ctx, layer, [x], node) {
    const target = cfg(layer).targetShape as number[];
    // 0 copies the batch size from the input (ONNX Reshape without allowzero).
    const shape = ctx.g.int64s(`${layer.name}/shape`, [0, ...target]);
    return [{ shape: node.outputs[0].shape, nhwc: ctx.g.op1('Reshape', [ctx.g.nhwc(x), shape], {}, layer.name) }];
  },
};

const activationLayer: LayerExporter = {
  check: withActivation,
  emit: (ctx, layer, [x]) => [activation(ctx.g, x, cfg(layer).activation as string)],
};

const reluLayer: LayerExporter = {
  check(layer) {
    const c = cfg(layer);
    return c.threshold !== 0 && c.threshold != null ? `threshold ${c.threshold} is not exported (only 0)` : undefined;
  },
  emit(ctx, layer, [x]) {
    const { g } = ctx;
    const c = cfg(layer);
    const slope = (c.negativeSlope as number | null) ?? 0;
    const max = c.maxValue as number | null;
    return [
      unary(x, (v) => {
        let y = slope === 0 ? g.op1('Relu', [v], {}, layer.name) : g.op1('LeakyRelu', [v], { alpha: { f: slope } }, layer.name);
        if (max !== null) y = g.op1('Min', [y, g.floats('c', [max], [])], {}, layer.name);
        return y;
      }),
    ];
  },
};

/** Batch norm at inference, folded to x·s + t per channel (any rank, either layout). */
const batchNorm: LayerExporter = {
  check(layer, node) {
    const axis = cfg(layer).axis;
    const rank = node.inputs[0].rank;
    return axis === -1 || axis === rank - 1 ? undefined : `axis ${JSON.stringify(axis)} is not exported (only the last axis)`;
  },
  emit(ctx, layer, [x]) {
    const { g } = ctx;
    const eps = cfg(layer).epsilon as number;
    const mean = ctx.need(layer, 'moving_mean').data,
      variance = ctx.need(layer, 'moving_variance').data;
    const gamma = ctx.weight(layer, 'gamma')?.data,
      beta = ctx.weight(layer, 'beta')?.data;
    const scale = new Float32Array(mean.length),
      shift = new Float32Array(mean.length);
    for (let c = 0; c < mean.length; c++) {
      scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
      shift[c] = (beta ? beta[c] : 0) - mean[c] * scale[c];
    }
    const layout = x.nchw !== undefined ? 'nchw' : 'nhwc';
    const mul = g.op1('Mul', [layout === 'nchw' ? x.nchw! : x.nhwc!, channelConstant(g, `${layer.name}/scale`, scale, layout)], {}, layer.name);
    const y = g.op1('Add', [mul, channelConstant(g, `${layer.name}/shift`, shift, layout)], {}, layer.name);
    return [{ shape: x.shape, [layout]: y }];
  },
};

/** Layer normalization over the last axis: ONNX LayerNormalization (opset 17). */
export const layerNorm: LayerExporter = {
  check(layer, node) {
    const axis = cfg(layer).axis;
    const rank = node.inputs[0].rank;
    const last = axis === -1 || axis === rank - 1 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === rank - 1));
    return last ? undefined : `axis ${JSON.stringify(axis)} is not exported (only the last axis)`;
  },
  emit(ctx, layer, [x]) {
    const { g } = ctx;
    const n = x.shape[x.shape.length - 1] as number;
    const gamma = ctx.weight(layer, 'gamma')?.data ?? new Float32Array(n).fill(1);
    const beta = ctx.weight(layer, 'beta')?.data ?? new Float32Array(n);
    const inputs = [g.nhwc(x), g.floats(`${layer.name}/gamma`, gamma, [n]), g.floats(`${layer.name}/beta`, beta, [n])];
    const y = g.op1('LayerNormalization', inputs, { axis: { i: -1 }, epsilon: { f: cfg(layer).epsilon as number } }, layer.name);
    return [{ shape: x.shape, nhwc: y }];
  },
};

/** The padding mask of token ids: ids != 0, compared as int64 whatever the ids' dtype. */
export function paddingMask(ctx: ExportContext, ids: string, name: string): string {
  const { g } = ctx;
  const asInt = g.op1('Cast', [ids], { to: { i: 7 } }, `${name}/mask`);
  return g.op1('Not', [g.op1('Equal', [asInt, g.int64s('zero', [0], [])], {}, `${name}/mask`)], {}, `${name}/mask`);
}

/** Embedding: Gather rows of the table (float ids are cast, as Strata truncates them); maskZero adds the padding mask. */
export const embedding: LayerExporter = {
  emit(ctx, layer, [x], node) {
    const { g } = ctx;
    const table = ctx.need(layer, 'embeddings');
    const raw = g.nhwc(x);
    const ids = node.inputs[0].dtype !== 'int32' ? g.op1('Cast', [raw], { to: { i: 7 } }, `${layer.name}/ids`) : raw;
    const y = g.op1('Gather', [g.floats(`${layer.name}/embeddings`, table.data, table.shape), ids], { axis: { i: 0 } }, layer.name);
    return [{ shape: node.outputs[0].shape, nhwc: y, ...(cfg(layer).maskZero === true ? { mask: paddingMask(ctx, raw, layer.name) } : {}) }];
  },
};

/** Elementwise merges run in NCHW when any rank-4 input already is (a residual inside a conv region). */
function merge(kind: 'Add' | 'Sub' | 'Mul' | 'Max' | 'Min' | 'Mean'): LayerExporter {
  return {
    emit(ctx, layer, inputs, node) {
      const { g } = ctx;
      const same = inputs.every((v) => v.shape.length === 4 && v.shape.length === node.outputs[0].shape.length);
      const layout = same && inputs.some((v) => v.nchw !== undefined) ? 'nchw' : 'nhwc';
      const names = inputs.map((v) => (layout === 'nchw' ? g.nchw(v) : g.nhwc(v)));
      let y: string;
      if (kind === 'Max' || kind === 'Min' || kind === 'Mean') y = g.op1(kind, names, {}, layer.name);
      else y = names.slice(1).reduce((acc, v) => g.op1(kind, [acc, v], {}, layer.name), names[0]);
      return [{ shape: node.outputs[0].shape, [layout]: y }];
    },
  };
}

/** Channels-first when every input already is (DenseNet's and Inception's concatenations inside a conv region). */
const concatenate: LayerExporter = {
  emit(ctx, layer, inputs, node) {
    const { g } = ctx;
    const rank = node.outputs[0].shape.length;
    const a = cfg(layer).axis as number;
    const axis = a < 0 ? a + rank : a;
    if (rank === 4 && inputs.every((v) => v.nchw !== undefined)) {
      const y = g.op1(
        'Concat',
        inputs.map((v) => v.nchw!),
        { axis: { i: [0, 2, 3, 1][axis] } },
        layer.name,
      );
      return [{ shape: node.outputs[0].shape, nchw: y }];
    }
    return [
      {
        shape: node.outputs[0].shape,
        nhwc: g.op1(
          'Concat',
          inputs.map((v) => g.nhwc(v)),
          { axis: { i: axis } },
          layer.name,
        ),
      },
    ];
  },
};

/** The exporters of this file, by Strata class name. */
export const CORE_EXPORTERS: Record<string, LayerExporter> = {
  Dense: dense,
  Activation: activationLayer,
  ReLU: reluLayer,
  Conv2D: conv(false),
  DepthwiseConv2D: conv(true),
  MaxPooling2D: pool('MaxPool'),
  AveragePooling2D: pool('AveragePool'),
  GlobalMaxPooling2D: globalPool('GlobalMaxPool'),
  GlobalAveragePooling2D: globalPool('GlobalAveragePool'),
  Flatten: flatten,
  Reshape: reshape,
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  Embedding: embedding,
  Add: merge('Add'),
  Subtract: merge('Sub'),
  Multiply: merge('Mul'),
  Maximum: merge('Max'),
  Minimum: merge('Min'),
  Average: merge('Mean'),
  Concatenate: concatenate,
  // Identity at inference: export writes the inference graph.
  Dropout: passThrough,
  GaussianNoise: passThrough,
  GaussianDropout: passThrough,
  RandomFlip: passThrough,
  RandomRotation: passThrough,
  RandomTranslation: passThrough,
  RandomZoom: passThrough,
  RandomContrast: passThrough,
};
