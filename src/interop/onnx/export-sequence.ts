// Exporters of the sequence layers: recurrent layers as ONNX's RNN/GRU/LSTM, attention
// decomposed into MatMul and Softmax, and the transformer blocks built from them.
import type { Layer } from '../../nn/layer.js';
import type { MultiHeadAttention } from '../../nn/layers/attention.js';
import type { PositionalEmbedding, TransformerEncoder } from '../../nn/layers/transformer.js';
import type { Node } from '../../nn/symbolic.js';
import type { Value } from './export-graph.js';
import { type ExportContext, type LayerExporter, configOf } from './export-context.js';
import { CORE_EXPORTERS, embedding, layerNorm } from './export-layers.js';

const ONNX_ACTIVATION: Record<string, string> = { sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'Relu' };

/**
 * A Keras recurrent layer as the ONNX op: `order[k]` is the Keras gate block that ONNX's gate k
 * reads (LSTM: ONNX i, o, f, c from Keras i, f, c, o; GRU: z, r, h in both).
 */
function recurrent(op: 'RNN' | 'GRU' | 'LSTM', order: number[]): LayerExporter {
  const activationsOf = (c: Record<string, unknown>) =>
    op === 'RNN' ? [c.activation] : op === 'GRU' ? [c.recurrentActivation, c.activation] : [c.recurrentActivation, c.activation, c.activation];
  return {
    check(layer, node) {
      const c = configOf(layer);
      const bad = activationsOf(c).find((a) => !ONNX_ACTIVATION[a as string]);
      if (bad !== undefined) return `activation ${JSON.stringify(bad)} is not exported (sigmoid, tanh and relu are)`;
      for (const flag of ['returnState', 'goBackwards', 'stateful'] as const) if (c[flag] === true) return `${flag}: true is not exported`;
      if (Object.keys(node.optionInputs).length > 0) return 'an initial state is not exported';
      return undefined;
    },
    emit(ctx, layer, [x], node) {
      const { g } = ctx;
      const c = configOf(layer);
      const units = c.units as number;
      const gates = order.length;
      const kernel = ctx.need(layer, 'kernel'),
        recurrentKernel = ctx.need(layer, 'recurrent_kernel');
      const inputDim = kernel.shape[0];
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
      const inputs = [
        g.op1('Transpose', [g.nhwc(x)], { perm: { ints: [1, 0, 2] } }, `${layer.name}/time_major`),
        g.floats(`${layer.name}/W`, toOnnx(kernel.data, inputDim), [1, gates * units, inputDim]),
        g.floats(`${layer.name}/R`, toOnnx(recurrentKernel.data, units), [1, gates * units, units]),
        g.floats(`${layer.name}/B`, b, [1, 2 * gates * units]),
      ];
      const attrs = {
        hidden_size: { i: units },
        activations: { strings: activationsOf(c).map((a) => ONNX_ACTIVATION[a as string]) },
        ...(op === 'GRU' ? { linear_before_reset: { i: c.resetAfter === false ? 0 : 1 } } : {}),
      };
      const [y, yh] = g.op(op, inputs, attrs, layer.name, 2);
      const out = node.outputs[0].shape;
      if (c.returnSequences === true) {
        const seq = g.op1('Squeeze', [y, g.int64s('axes', [1])], {}, layer.name); // [T, B, units]
        return [{ shape: out, nhwc: g.op1('Transpose', [seq], { perm: { ints: [1, 0, 2] } }, layer.name) }];
      }
      return [{ shape: out, nhwc: g.op1('Squeeze', [yh, g.int64s('axes', [0])], {}, layer.name) }];
    },
  };
}

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
  const probs = g.op1('Softmax', [g.op1('MatMul', [q, k], {}, `${layer.name}/scores`)], { axis: { i: -1 } }, `${layer.name}/probs`);
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
  check(layer, node) {
    const pe = layer as PositionalEmbedding;
    if (pe.maskZero) return 'maskZero: the padding mask is not exported';
    const t = node.inputs[0].shape.at(-1);
    return t === null || t === undefined ? 'the sequence length must be known (an input shape with a fixed time axis)' : undefined;
  },
  emit(ctx, layer, [x], node) {
    const pe = layer as PositionalEmbedding;
    const [tokens] = embedding.emit(ctx, pe.tokenEmbedding, [x], node);
    const t = node.inputs[0].shape.at(-1) as number;
    const table = ctx.need(pe.positionEmbedding, 'embeddings');
    const rows = ctx.g.floats(`${pe.name}/positions`, table.data.subarray(0, t * pe.outputDim), [t, pe.outputDim]);
    return [{ shape: node.outputs[0].shape, nhwc: ctx.g.op1('Add', [tokens.nhwc!, rows], {}, pe.name) }];
  },
};

/** The exporters of this file, by Strata class name. */
export const SEQUENCE_EXPORTERS: Record<string, LayerExporter> = {
  SimpleRNN: recurrent('RNN', [0]),
  GRU: recurrent('GRU', [0, 1, 2]),
  LSTM: recurrent('LSTM', [0, 3, 1, 2]),
  MultiHeadAttention: multiHeadAttention,
  TransformerEncoder: transformerEncoder,
  PositionalEmbedding: positionalEmbedding,
};
