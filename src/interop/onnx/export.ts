// st.onnx.toBytes / st.onnx.save: a Strata model as an ONNX ModelProto (opset 17, IR version 8)
// that takes and returns Strata's own shapes (NHWC images), so the same arrays go to both.
import { ValueError, fmtValue } from '../../core/errors.js';
import { InputLayer } from '../../nn/layers/input.js';
import type { TimeDistributed } from '../../nn/layers/wrappers.js';
import type { Node, SymbolicTensor } from '../../nn/symbolic.js';
import { Model } from '../../models/model.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ExportContext, type LayerExporter, classNameOf, configOf } from './export-context.js';
import { ELEM, GraphBuilder, type Value } from './export-graph.js';
import { CORE_EXPORTERS } from './export-layers.js';
import { SEQUENCE_EXPORTERS } from './export-sequence.js';
import { EXTRA_EXPORTERS } from './export-extra.js';
import { messages } from './schema.js';

/** LayerNormalization, the newest op export writes, is opset 17; IR version 8 is the one that goes with it. */
const OPSET = 17;
const IR_VERSION = 8;

/**
 * The call of a TimeDistributed's inner layer on [batch·T, ...]: the shapes its exporter reads
 * (a stand-in for the graph node, which exists only for the outer call).
 */
function innerNode(td: TimeDistributed, node: Node): Node {
  const strip = (t: SymbolicTensor) => ({ shape: [null, ...t.shape.slice(2)], rank: t.rank - 1, dtype: t.dtype });
  return {
    layer: td.layer,
    inputs: [strip(node.inputs[0])],
    outputs: [strip(node.outputs[0])],
    callArgs: {},
    optionInputs: {},
    listInput: false,
    allInputs: [],
  } as unknown as Node;
}

/** TimeDistributed: the time axis folded into the batch, the inner layer, and unfolded (T and the feature shape known). */
const timeDistributed: LayerExporter = {
  check(layer, node) {
    const td = layer as TimeDistributed;
    if (node.inputs[0].shape.slice(1).some((d) => d === null)) return 'the time length and feature shape must be known (an input shape)';
    const exporter = EXPORTERS[classNameOf(td.layer)];
    if (!exporter || td.layer instanceof Model) return `its layer '${td.layer.name}' (${classNameOf(td.layer)}) has no ONNX mapping`;
    const why = exporter.check?.(td.layer, innerNode(td, node));
    return why && `its layer '${td.layer.name}' (${classNameOf(td.layer)}): ${why}`;
  },
  emit(ctx, layer, [x], node) {
    const { g } = ctx;
    const td = layer as TimeDistributed;
    const inner = innerNode(td, node);
    const inShape = node.inputs[0].shape as number[],
      outShape = node.outputs[0].shape;
    const folded = g.op1('Reshape', [g.nhwc(x), g.int64s('shape', [-1, ...inShape.slice(2)])], {}, `${layer.name}/fold`);
    const [y] = EXPORTERS[classNameOf(td.layer)].emit(ctx, td.layer, [{ shape: inner.inputs[0].shape, nhwc: folded }], inner);
    const unfold = g.int64s('shape', [-1, inShape[1], ...(outShape.slice(2) as number[])]);
    return [{ shape: outShape, nhwc: g.op1('Reshape', [g.nhwc(y), unfold], {}, layer.name) }];
  },
};

const EXPORTERS: Record<string, LayerExporter> = { ...CORE_EXPORTERS, ...EXTRA_EXPORTERS, ...SEQUENCE_EXPORTERS, TimeDistributed: timeDistributed };

/** The Strata layer classes export handles. */
export function exportableLayers(): string[] {
  return Object.keys(EXPORTERS).sort();
}

// Note [Padding masks in export]
// An embedding with maskZero gives its output a padding mask (ids != 0), which Strata passes on
// at run time through the layers that support masking. Export carries it along the same layers
// as a bool value (Value.mask), and only through layers whose exported form is known to match:
// attention and the transformer encoder use it (a -1e9 bias on masked scores, as Strata),
// global average pooling averages the unmasked steps, and the rest listed here pass it on
// unchanged. A masked value reaching any other layer (a recurrent layer, a merge) is refused.
const MASK_READERS = new Set(['MultiHeadAttention', 'TransformerEncoder', 'GlobalAveragePooling1D', 'GlobalMaxPooling1D']);
const MASK_PASSERS = new Set(['MultiHeadAttention', 'TransformerEncoder', 'Dense', 'Dropout', 'Activation', 'ReLU', 'LayerNormalization']);

/** Whether a layer call makes a padding mask of its own. */
const makesMask = (node: Node) => ['Embedding', 'PositionalEmbedding'].includes(classNameOf(node.layer)) && configOf(node.layer).maskZero === true;

/** Adds a line for every layer of `nodes` (nested models' layers included) that cannot be exported. */
function collectProblems(nodes: readonly Node[], prefix: string, problems: string[]): void {
  const masked = new Set<SymbolicTensor>();
  for (const node of nodes) {
    const layer = node.layer;
    if (layer instanceof InputLayer) continue;
    const cls = classNameOf(layer);
    if (node.allInputs.some((t) => masked.has(t))) {
      if (!MASK_READERS.has(cls) && !MASK_PASSERS.has(cls)) {
        problems.push(
          `  layer '${prefix}${layer.name}' (${cls}): receives the padding mask of an embedding with maskZero, which export does not carry through this layer`,
        );
        continue;
      }
      if (MASK_PASSERS.has(cls)) node.outputs.forEach((t) => masked.add(t));
    }
    if (makesMask(node)) node.outputs.forEach((t) => masked.add(t));
    if (layer instanceof Model) {
      collectProblems(layer.graphNodes, `${prefix}${layer.name}/`, problems);
      continue;
    }
    const exporter = EXPORTERS[cls];
    const why = !exporter ? 'ONNX export has no mapping for this layer class' : exporter.check?.(layer, node);
    if (why) problems.push(`  layer '${prefix}${layer.name}' (${cls}): ${why}`);
  }
}

/** Every layer that cannot be exported, each with its class and why: one error listing them all. */
function checkAll(model: Model): void {
  const problems: string[] = [];
  collectProblems(model.graphNodes, '', problems);
  if (problems.length)
    throw new ValueError(
      `onnx export of '${model.name}': ${problems.length} layer${problems.length > 1 ? 's' : ''} cannot be exported:\n${problems.join('\n')}\n` +
        `Exportable layer classes: ${exportableLayers().join(', ')}`,
    );
}

/** Emits a model's calls on the given input values; a nested model (a model used as a layer) is emitted in place. */
function emitModel(ctx: ExportContext, model: Model, inputs: readonly Value[]): Value[] {
  const known = new Map<SymbolicTensor, Value>();
  model.inputs.forEach((t, i) => known.set(t, inputs[i]));
  for (const node of model.graphNodes) {
    if (node.layer instanceof InputLayer) continue;
    const args = node.allInputs.map((s) => known.get(s)!);
    const outs =
      node.layer instanceof Model ? emitModel(ctx, node.layer, args) : EXPORTERS[classNameOf(node.layer)].emit(ctx, node.layer, args, node);
    // Note [Padding masks in export]: a layer that passes a mask on gives its outputs its first input's.
    const mask = args[0]?.mask;
    if (mask && MASK_PASSERS.has(classNameOf(node.layer))) for (const out of outs) out.mask ??= mask;
    node.outputs.forEach((s, i) => known.set(s, outs[i]));
  }
  return model.outputs.map((t) => known.get(t)!);
}

function valueInfo(name: string, t: SymbolicTensor): object {
  const elemType = t.dtype === 'float32' ? ELEM.FLOAT : t.dtype === 'int32' ? ELEM.INT32 : undefined;
  if (elemType === undefined)
    throw new ValueError(`onnx export: the model's tensor '${t.name}' has dtype ${t.dtype}; export writes float32 and int32`);
  // An unknown size (the batch) becomes a named dimension, so any batch size runs.
  const dim = t.shape.map((d, i) => (d === null ? { dimParam: i === 0 ? 'batch' : `d${i}` } : { dimValue: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

/** The model as an ONNX ModelProto object (not yet encoded). */
async function modelProto(model: Model): Promise<object> {
  if (!(model instanceof Model))
    throw new ValueError(`onnx export: expected a Strata model (st.sequential or st.model); received ${fmtValue(model)}`);
  if (!model.built || model.inputs.length === 0)
    throw new ValueError(`onnx export: model '${model.name}' is not built yet; give its first layer an inputShape or call it on data first`);
  checkAll(model);
  // Read every weight up front, asynchronously, so backends without synchronous reads export too.
  const values = new Map<Tensor, Float32Array>();
  for (const w of model.weights) values.set(w.value, (await w.value.data()) as Float32Array);
  const g = new GraphBuilder();
  const ctx = new ExportContext(g, values);
  const inputValues: Value[] = [];
  const inputs = model.inputs.map((t) => {
    const name = g.fresh(t.node.layer.name);
    inputValues.push({ shape: t.shape, nhwc: name });
    return valueInfo(name, t);
  });
  const results = emitModel(ctx, model, inputValues);
  // Outputs in Strata's layout, each under a name of its own (an input passed straight through included).
  const outputs = model.outputs.map((t, i) => {
    const name = g.op1('Identity', [g.nhwc(results[i])], {}, model.outputs.length === 1 ? 'output' : `output_${i}`);
    return valueInfo(name, t);
  });
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'strata',
    graph: { name: model.name, node: g.nodes, initializer: g.initializers, input: inputs, output: outputs },
  };
}

/**
 * The model as ONNX bytes (opset 17), for a page to download or a caller to write. Inputs and
 * outputs keep Strata's shapes (images NHWC); the graph transposes around convolutions inside.
 * @throws ValueError listing every layer that cannot be exported, with its class and why.
 */
export async function toBytes(model: Model): Promise<Uint8Array> {
  const proto = await modelProto(model);
  return messages.model.encode(messages.model.fromObject(proto)).finish();
}

/** How `save` writes a file: installed by the Node entry (an atomic write); absent in pages. */
let fileWriter: ((path: string, bytes: Uint8Array) => Promise<void>) | undefined;

/** Installs the writer `st.onnx.save(model, path)` uses (the Node entry installs an atomic file write). */
export function setOnnxFileWriter(writer: (path: string, bytes: Uint8Array) => Promise<void>): void {
  fileWriter = writer;
}

/**
 * Writes the model to an ONNX file (see `toBytes`): the file is replaced atomically.
 * @throws ValueError listing every layer that cannot be exported; in a page, use `toBytes`.
 * @example
 * ```ts
 * await st.onnx.save(model, 'model.onnx');
 * ```
 */
export async function save(model: Model, path: string): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new ValueError(`onnx.save: expected a file path; received ${fmtValue(path)}`);
  if (!fileWriter) throw new ValueError(`onnx.save: cannot write files here; use st.onnx.toBytes(model) and save the bytes`);
  const bytes = await toBytes(model);
  await fileWriter(path, bytes);
}
