// Exporters of the sequence layers: recurrent layers as ONNX's RNN/GRU/LSTM, attention
// decomposed into MatMul and Softmax, and the transformer blocks built from them.
import type { Layer } from '../../nn/layer.js';
import type { MultiHeadAttention } from '../../nn/layers/attention.js';
import type { PositionalEmbedding, TransformerEncoder } from '../../nn/layers/transformer.js';
import type { Bidirectional } from '../../nn/layers/wrappers.js';
import type { Node } from '../../nn/symbolic.js';
import type { Value } from './export-graph.js';
import { type ExportContext, type LayerExporter, classNameOf, configOf } from './export-context.js';
import { CORE_EXPORTERS, embedding, layerNorm, paddingMask } from './export-layers.js';

const ONNX_ACTIVATION: Record<string, string> = { sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'Relu' };

type RecurrentOp = 'RNN' | 'GRU' | 'LSTM';

/** ONNX's gate k reads Keras gate block ORDER[op][k] (LSTM: ONNX i, o, f, c from Keras i, f, c, o; GRU: z, r, h in both). */
const ORDER: Record<RecurrentOp, number[]> = { RNN: [0], GRU: [0, 1, 2], LSTM: [0, 3, 1, 2] };
const OP_OF: Record<string, RecurrentOp> = { SimpleRNN: 'RNN', GRU: 'GRU', LSTM: 'LSTM' };

const activationsOf = (op: RecurrentOp, c: Record<string, unknown>) =>
  op === 'RNN' ? [c.activation] : op === 'GRU' ? [c.recurrentActivation, c.activation] : [c.recurrentActivation, c.activation, c.activation];

function recurrentProblem(op: RecurrentOp, layer: Layer, node: Node, backward = false): string | undefined {
  const c = configOf(layer);
  const bad = activationsOf(op, c).find((a) => !ONNX_ACTIVATION[a as string]);
  if (bad !== undefined) return `activation ${JSON.stringify(bad)} is not exported (sigmoid, tanh and relu are)`;
  for (const flag of ['returnState', 'stateful'] as const) if (c[flag] === true) return `${flag}: true is not exported`;
  if (c.goBackwards === true && !backward) return 'goBackwards: true is not exported';
  if (Object.keys(node.optionInputs).length > 0) return 'an initial state is not exported';
  return undefined;
}

/** One direction's W [gates·units, in], R [gates·units, units] and B [2·gates·units] in ONNX's gate order. */
function packDirection(ctx: ExportContext, op: RecurrentOp, layer: Layer) {
  const order = ORDER[op];
  const units = configOf(layer).units as number;
  const gates = order.length;
  const kernel = ctx.need(layer, 'kernel'),
    recurrentKernel = ctx.need(layer, 'recurrent_kernel');
  // Keras [in, gates·units] columns to ONNX [gates·units, in] rows, gate blocks reordered.
  const toOnnx = (m: Float32Array, rows: number) => {
    const out = new Float32Array(gates * units * rows);
    for (let gate = 0; gate < gates; gate++)
      for (let u = 0; u < units; u++)
        for (let r = 0; r < rows; r++) out[(gate * units + u) * rows + r] = m[r * gates * units + order[gate] * units + u];
    return out;
  };
  const reorder = (v: Float32Array) => {
    const out = new Float32Array(gates * units);
    for (let gate = 0; gate < gates; gate++) out.set(v.subarray(order[gate] * units, (order[gate] + 1) * units), gate * units);
    return out;
  };
  const bias = ctx.weight(layer, 'bias')?.data;
  const b = new Float32Array(2 * gates * units);
  // A GRU with resetAfter keeps [input bias; recurrent bias]; every other layer one bias.
  if (bias && bias.length === 2 * gates * units) {
    b.set(reorder(bias.subarray(0, gates * units)), 0);
    b.set(reorder(bias.subarray(gates * units)), gates * units);
  } else if (bias) b.set(reorder(bias), 0);
  return { units, gates, inputDim: kernel.shape[0], W: toOnnx(kernel.data, kernel.shape[0]), R: toOnnx(recurrentKernel.data, units), B: b };
}

/** Emits the ONNX RNN/GRU/LSTM over one or two directions (forward, then backward); returns [Y, Y_h]. */
function emitRecurrent(ctx: ExportContext, op: RecurrentOp, name: string, x: Value, layers: Layer[]): [string, string] {
  const { g } = ctx;
  const packs = layers.map((l) => packDirection(ctx, op, l));
  const { units, gates, inputDim } = packs[0];
  const join = (key: 'W' | 'R' | 'B') => {
    const out = new Float32Array(packs.reduce((n, p) => n + p[key].length, 0));
    packs.forEach((p, i) => out.set(p[key], i * p[key].length));
    return out;
  };
  const dirs = layers.length;
  const c = configOf(layers[0]);
  const inputs = [
    g.op1('Transpose', [g.nhwc(x)], { perm: { ints: [1, 0, 2] } }, `${name}/time_major`),
    g.floats(`${name}/W`, join('W'), [dirs, gates * units, inputDim]),
    g.floats(`${name}/R`, join('R'), [dirs, gates * units, units]),
    g.floats(`${name}/B`, join('B'), [dirs, 2 * gates * units]),
  ];
  const acts = activationsOf(op, c).map((a) => ONNX_ACTIVATION[a as string]);
  const attrs = {
    hidden_size: { i: units },
    activations: { strings: dirs === 2 ? [...acts, ...acts] : acts },
    ...(dirs === 2 ? { direction: { s: 'bidirectional' } } : {}),
    ...(op === 'GRU' ? { linear_before_reset: { i: c.resetAfter === false ? 0 : 1 } } : {}),
  };
  const [y, yh] = g.op(op, inputs, attrs, name, 2);
  return [y, yh];
}

function recurrent(op: RecurrentOp): LayerExporter {
  return {
    check: (layer, node) => recurrentProblem(op, layer, node),
    emit(ctx, layer, [x], node) {
      const { g } = ctx;
      const [y, yh] = emitRecurrent(ctx, op, layer.name, x, [layer]);
      const out = node.outputs[0].shape;
      if (configOf(layer).returnSequences === true) {
        const seq = g.op1('Squeeze', [y, g.int64s('axes', [1])], {}, layer.name); // [T, B, units]
        return [{ shape: out, nhwc: g.op1('Transpose', [seq], { perm: { ints: [1, 0, 2] } }, layer.name) }];
      }
      return [{ shape: out, nhwc: g.op1('Squeeze', [yh, g.int64s('axes', [0])], {}, layer.name) }];
    },
  };
}

/**
 * Bidirectional with mergeMode concat: ONNX's bidirectional op, whose backward outputs are
 * indexed by input time as Keras aligns them; [forward, backward] features concatenated.
 */
const bidirectional: LayerExporter = {
  check(layer, node) {
    const bi = layer as Bidirectional;
    if (bi.mergeMode !== 'concat') return `mergeMode ${JSON.stringify(bi.mergeMode)} is not exported (concat is)`;
    const op = OP_OF[classNameOf(bi.forwardLayer)];
    if (!op || classNameOf(bi.backwardLayer) !== classNameOf(bi.forwardLayer)) return 'only a SimpleRNN, GRU or LSTM in both directions is exported';
    return recurrentProblem(op, bi.forwardLayer, node) ?? recurrentProblem(op, bi.backwardLayer, node, true);
  },
  emit(ctx, layer, [x], node) {
    const { g } = ctx;
    const bi = layer as Bidirectional;
    const op = OP_OF[classNameOf(bi.forwardLayer)];
    const [y, yh] = emitRecurrent(ctx, op, layer.name, x, [bi.forwardLayer, bi.backwardLayer]);
    const units = configOf(bi.forwardLayer).units as number;
    const out = node.outputs[0].shape;
    if (configOf(bi.forwardLayer).returnSequences === true) {
      const batchMajor = g.op1('Transpose', [y], { perm: { ints: [2, 0, 1, 3] } }, layer.name); // [B, T, 2, units]
      return [{ shape: out, nhwc: g.op1('Reshape', [batchMajor, g.int64s('shape', [0, 0, 2 * units])], {}, layer.name) }];
    }
    const batchMajor = g.op1('Transpose', [yh], { perm: { ints: [1, 0, 2] } }, layer.name); // [B, 2, units]
    return [{ shape: out, nhwc: g.op1('Reshape', [batchMajor, g.int64s('shape', [0, 2 * units])], {}, layer.name) }];
  },
};

function attentionProblem(layer: Layer, node: Node | null): string | undefined {
  const c = configOf(layer);
  if (c.attentionAxes != null) return 'attentionAxes is not exported';
  if (node && node.inputs.length > 3) return 'an attention mask input is not exported';
  if (node?.callArgs.useCausalMask === true) return 'useCausalMask is not exported';
  if (node?.callArgs.returnAttentionScores === true) return 'returnAttentionScores is not exported';
  return undefined;
}

/**
 * Multi-head attention as Keras computes it: projections through [d, heads, n] kernels, the
 * query scaled by 1/sqrt(keyDim) after its bias, softmax over the keys, the heads merged and
 * projected by the output kernel [heads, valueDim, ...outDims].
 */
function attend(ctx: ExportContext, layer: MultiHeadAttention, query: Value, value: Value, key: Value): Value {
  const { g } = ctx;
  const h = layer.numHeads;
  const project = (x: Value, role: string, n: number, perm: number[], scale?: number) => {
    const k = ctx.need(layer, `${role}/kernel`);
    let y = g.op1('MatMul', [g.nhwc(x), g.floats(`${layer.name}/${role}/kernel`, k.data, [k.shape[0], h * n])], {}, `${layer.name}/${role}`);
    const b = ctx.weight(layer, `${role}/bias`);
    if (b) y = g.op1('Add', [y, g.floats(`${layer.name}/${role}/bias`, b.data, [h * n])], {}, `${layer.name}/${role}`);
    if (scale !== undefined) y = g.op1('Mul', [y, g.floats('scale', [scale], [])], {}, `${layer.name}/${role}`);
    const split = g.op1('Reshape', [y, g.int64s('shape', [0, 0, h, n])], {}, `${layer.name}/${role}`);
    return g.op1('Transpose', [split], { perm: { ints: perm } }, `${layer.name}/${role}`);
  };
  const q = project(query, 'query', layer.keyDim, [0, 2, 1, 3], 1 / Math.sqrt(layer.keyDim)); // [B, h, Tq, n]
  const k = project(key, 'key', layer.keyDim, [0, 2, 3, 1]); // [B, h, n, Tv]
  const v = project(value, 'value', layer.valueDim, [0, 2, 1, 3]); // [B, h, Tv, v]
  let scores = g.op1('MatMul', [q, k], {}, `${layer.name}/scores`);
  const bias = maskBias(ctx, layer.name, query.mask, value.mask, key.mask);
  if (bias) scores = g.op1('Add', [scores, bias], {}, `${layer.name}/scores`);
  const probs = g.op1('Softmax', [scores], { axis: { i: -1 } }, `${layer.name}/probs`);
  const context = g.op1('Transpose', [g.op1('MatMul', [probs, v], {}, `${layer.name}/context`)], { perm: { ints: [0, 2, 1, 3] } });
  const merged = g.op1('Reshape', [context, g.int64s('shape', [0, 0, h * layer.valueDim])], {}, `${layer.name}/merged`);
  const ok = ctx.need(layer, 'attention_output/kernel');
  const outDims = ok.shape.slice(2);
  const outSize = outDims.reduce((a, b) => a * b, 1);
  let y = g.op1('MatMul', [merged, g.floats(`${layer.name}/output/kernel`, ok.data, [h * layer.valueDim, outSize])], {}, layer.name);
  const ob = ctx.weight(layer, 'attention_output/bias');
  if (ob) y = g.op1('Add', [y, g.floats(`${layer.name}/output/bias`, ob.data, [outSize])], {}, layer.name);
  if (outDims.length > 1) y = g.op1('Reshape', [y, g.int64s('shape', [0, 0, ...outDims])], {}, layer.name);
  return { shape: [query.shape[0], query.shape[1], ...outDims], nhwc: y };
}

/**
 * Keras's attention mask from the padding masks: query rows [B, Tq, 1] and value/key columns
 * [B, 1, Tv] ANDed, as a bias of 0 or Strata's -1e9 on the scores [B, heads, Tq, Tv].
 */
function maskBias(ctx: ExportContext, name: string, queryMask?: string, valueMask?: string, keyMask?: string): string | undefined {
  const { g } = ctx;
  const parts: string[] = [];
  if (queryMask) parts.push(g.op1('Unsqueeze', [queryMask, g.int64s('axes', [2])], {}, `${name}/mask`));
  if (valueMask) parts.push(g.op1('Unsqueeze', [valueMask, g.int64s('axes', [1])], {}, `${name}/mask`));
  if (keyMask && keyMask !== valueMask) parts.push(g.op1('Unsqueeze', [keyMask, g.int64s('axes', [1])], {}, `${name}/mask`));
  if (parts.length === 0) return undefined;
  const mask = parts.reduce((a, b) => g.op1('And', [a, b], {}, `${name}/mask`));
  const bias = g.op1('Where', [mask, g.floats('zero', [0], []), g.floats('masked', [-1e9], [])], {}, `${name}/mask_bias`);
  return g.op1('Unsqueeze', [bias, g.int64s('axes', [1])], {}, `${name}/mask_bias`);
}

const multiHeadAttention: LayerExporter = {
  check: attentionProblem,
  emit(ctx, layer, inputs) {
    const query = inputs[0],
      value = inputs[1] ?? query,
      key = inputs[2] ?? value;
    return [attend(ctx, layer as MultiHeadAttention, query, value, key)];
  },
};

/** y = LN1(x + attention(x, x)); out = LN2(y + dense2(dense1(y))), with its sublayers' weights. */
const transformerEncoder: LayerExporter = {
  check: (layer) => attentionProblem((layer as TransformerEncoder).attention, null),
  emit(ctx, layer, [x], node) {
    const te = layer as TransformerEncoder;
    const { g } = ctx;
    const residual = (a: Value, b: Value): Value => ({ shape: a.shape, nhwc: g.op1('Add', [g.nhwc(a), g.nhwc(b)], {}, `${te.name}/residual`) });
    const attended = attend(ctx, te.attention, x, x, x);
    const [y] = layerNorm.emit(ctx, te.layerNorm1, [residual(x, attended)], node);
    const [hidden] = CORE_EXPORTERS.Dense.emit(ctx, te.dense1, [y], node);
    const [ff] = CORE_EXPORTERS.Dense.emit(ctx, te.dense2, [hidden], node);
    return layerNorm.emit(ctx, te.layerNorm2, [residual(y, ff)], node);
  },
};

/** Token rows plus the first T rows of the position table (T known when exporting). */
const positionalEmbedding: LayerExporter = {
  check(_layer, node) {
    const t = node.inputs[0].shape.at(-1);
    return t === null || t === undefined ? 'the sequence length must be known (an input shape with a fixed time axis)' : undefined;
  },
  emit(ctx, layer, [x], node) {
    const pe = layer as PositionalEmbedding;
    const [tokens] = embedding.emit(ctx, pe.tokenEmbedding, [x], node);
    const t = node.inputs[0].shape.at(-1) as number;
    const table = ctx.need(pe.positionEmbedding, 'embeddings');
    const rows = ctx.g.floats(`${pe.name}/positions`, table.data.subarray(0, t * pe.outputDim), [t, pe.outputDim]);
    const mask = pe.maskZero ? paddingMask(ctx, ctx.g.nhwc(x), pe.name) : undefined;
    return [{ shape: node.outputs[0].shape, nhwc: ctx.g.op1('Add', [tokens.nhwc!, rows], {}, pe.name), ...(mask ? { mask } : {}) }];
  },
};

/** The exporters of this file, by Strata class name. */
export const SEQUENCE_EXPORTERS: Record<string, LayerExporter> = {
  SimpleRNN: recurrent('RNN'),
  GRU: recurrent('GRU'),
  LSTM: recurrent('LSTM'),
  Bidirectional: bidirectional,
  MultiHeadAttention: multiHeadAttention,
  TransformerEncoder: transformerEncoder,
  PositionalEmbedding: positionalEmbedding,
};
