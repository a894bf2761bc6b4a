// An ONNX graph → a Strata functional model of OnnxNode layers.
import { ValueError } from '../../core/errors.js';
import { Model } from '../../models/model.js';
import { input } from '../../nn/layers/input.js';
import type { SymbolicTensor } from '../../nn/symbolic.js';
import { noGrad } from '../../tensor/tape.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { OnnxAttribute, OnnxModel, OnnxNode as GraphNode } from './decode.js';
import { OnnxNode, type InputSpec } from './layer.js';
import { Attrs, FOLDED_RELU, type AttrValue, type OpContext } from './op-context.js';
import { handlerOf, isSupported } from './ops.js';
import { residualFolds } from './fold-residual.js';
import { strataDtype, toStrata, type OnnxTensor } from './tensors.js';
import { chooseLayout, inLayout, inputLayout, permuteConstant, type HeldValue, type Layout } from './layout.js';

// Note [Fine-tuning an imported model]
// Every floating initializer a node reads (Conv's W and B, Gemm's B and C, BatchNormalization's
// scale and bias, ...) becomes a trainable weight of that node's layer, so `fit` fine-tunes the
// imported network; integer constants and BatchNormalization's running statistics are
// non-trainable weights; inputs that describe shapes
// (Reshape's shape, Slice's starts, Pad's pads ...) are read at import and kept in the layer's
// config. Nodes whose inputs are all constant are evaluated at import (constant folding), and so
// is Shape of a value whose shape is fully known, which turns exporters' shape arithmetic into
// constants. The operators keep their inference semantics in training: BatchNormalization uses
// its running statistics (as a frozen-statistics fine-tune does; a node exported with
// training_mode=1 uses batch statistics, as ONNX defines it) and Dropout passes its input
// through; freeze whole layers with `layer.trainable = false`. An initializer that several nodes
// read becomes a weight of each of them: fine-tuning unties it.

/** Integer and bool constants up to this many elements go to the layer config (InputSpec `constant`). */
const SMALL_CONSTANT = 4096;

/** The default-domain opsets the importer accepts. */
// 18 to 20 changed operators the importer handles by reading inputs and attributes as they are
// (Reduce* axes as inputs, Pad's axes, Split's num_outputs, Resize's axes and
// keep_aspect_ratio_policy) or refuses by name (Resize's antialias); 20 adds Gelu.
export const OPSETS = { min: 1, max: 20 };

/** Options of `st.onnx.load`. */
export interface ImportOptions {
  /** Graph inputs to treat as constants (the test data's shape and index inputs). */
  constants?: Record<string, OnnxTensor>;
  /** The model's name. */
  name?: string;
}

type Value = { kind: 'const'; t: OnnxTensor } | HeldValue;

/** A name Strata accepts for a layer: ONNX names may hold '/', ':' and spaces. */
function layerName(raw: string, taken: Set<string>): string {
  const base = raw.replace(/[^A-Za-z0-9_.-]/g, '_') || 'node';
  let name = base;
  for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
  taken.add(name);
  return name;
}

function attrToJson(a: OnnxAttribute, where: string): AttrValue {
  if (typeof a === 'object' && !Array.isArray(a)) {
    if ('graph' in a) throw new ValueError(`${where}: graph attributes (If/Loop/Scan bodies) are not supported`);
    if (a.data.length > 4096) throw new ValueError(`${where}: a tensor attribute of ${a.data.length} values is too large for a layer config`);
    return { onnxType: a.onnxType, shape: a.shape, values: Array.from(a.data) };
  }
  return a;
}

function constantNode(node: GraphNode, where: string): OnnxTensor {
  const a = node.attributes;
  const v = a.value;
  if (v && typeof v === 'object' && !Array.isArray(v) && 'data' in v) return v;
  if (typeof a.value_float === 'number') return { name: '', onnxType: 'FLOAT', shape: [], data: Float32Array.of(a.value_float) };
  if (Array.isArray(a.value_floats))
    return { name: '', onnxType: 'FLOAT', shape: [a.value_floats.length], data: Float32Array.from(a.value_floats as number[]) };
  if (typeof a.value_int === 'number') return { name: '', onnxType: 'INT64', shape: [], data: Float64Array.of(a.value_int) };
  if (Array.isArray(a.value_ints))
    return { name: '', onnxType: 'INT64', shape: [a.value_ints.length], data: Float64Array.from(a.value_ints as number[]) };
  throw new ValueError(`${where}: a Constant with no value, value_float(s) or value_int(s) (sparse and string constants are not supported)`);
}

async function fromStrata(t: Tensor, name: string): Promise<OnnxTensor> {
  const data = await t.data();
  if (t.dtype === 'bool') return { name, onnxType: 'BOOL', shape: [...t.shape], data: Uint8Array.from(data as ArrayLike<number>) };
  if (t.dtype === 'int32') return { name, onnxType: 'INT64', shape: [...t.shape], data: Float64Array.from(data as ArrayLike<number>) };
  return { name, onnxType: 'FLOAT', shape: [...t.shape], data: Float32Array.from(data as ArrayLike<number>) };
}

/** The input spec of a constant input i: small integers in the config, the rest a weight (trainable when floating and asked). */
function constantSpec(t: OnnxTensor, i: number, where: string, trainable: boolean): [InputSpec, OnnxTensor | undefined] {
  const dtype = strataDtype(t.onnxType, where);
  if (dtype !== 'float32' && t.data.length <= SMALL_CONSTANT) {
    const values = Array.from(t.data, (x) => (dtype === 'int32' ? Math.max(-2147483648, Math.min(2147483647, x)) : x));
    return [{ constant: { dtype, shape: t.shape, values } }, undefined];
  }
  return [{ weight: `in${i}`, shape: t.shape, dtype, trainable: dtype === 'float32' && trainable }, t];
}

// Note [A Conv and its Relu as one kernel]
// Most convolutions of an exported vision network feed a Relu, or in MobileNets a Clip to
// [0, 6], and nothing else. Run apart, the activation is one more pass over every activation
// into fresh memory (a sixth of an imported ResNet-18's inference at batch 32; MobileNetV2's
// Clips, as a maximum and a minimum, took 40 % of its time). So when a Conv's only reader is a
// Relu, or a Clip whose bounds are the constants 0 and 6 (relu6) or 0 and none (relu), and the
// Conv's value is not a graph output, the Conv node takes the activation on (attribute
// FOLDED_RELU, 'relu' or 'relu6', kept in its layer config) and the activation node is left
// out: its output is the Conv's. The Conv handler runs it inside the fused convolution (dense
// or depthwise) where the backend has one, else as ops after the convolution.

/** A scalar the graph states as a constant (an initializer or a Constant node's value), if `name` is one. */
function constantScalars(g: OnnxModel['graph']): (name: string) => number | undefined {
  const known = new Map<string, number>();
  for (const t of g.initializers) if (t.data.length === 1) known.set(t.name, Number(t.data[0]));
  for (const n of g.nodes) {
    if (n.opType !== 'Constant' || n.outputs.length !== 1) continue;
    const v = n.attributes.value;
    if (v && typeof v === 'object' && !Array.isArray(v) && 'data' in v && v.data.length === 1) known.set(n.outputs[0], Number(v.data[0]));
    else if (typeof n.attributes.value_float === 'number') known.set(n.outputs[0], n.attributes.value_float);
  }
  return (name) => known.get(name);
}

/** The activation a Relu or Clip node applies if a convolution can take it on, else undefined. */
function foldableActivation(n: GraphNode, scalar: (name: string) => number | undefined): 'relu' | 'relu6' | undefined {
  if (n.opType === 'Relu') return 'relu';
  if (n.opType !== 'Clip') return undefined;
  // Opset 11 moved the bounds from attributes to optional inputs.
  const fromAttr = (key: string) => (typeof n.attributes[key] === 'number' ? (n.attributes[key] as number) : undefined);
  const bound = (i: number, key: string) => (n.inputs[i] ? (scalar(n.inputs[i]) ?? Number.NaN) : fromAttr(key));
  const lo = bound(1, 'min'),
    hi = bound(2, 'max');
  if (lo !== 0) return undefined;
  if (hi === 6) return 'relu6';
  return hi === undefined ? 'relu' : undefined;
}

function convsBeforeActivation(
  g: OnnxModel['graph'],
  graphOutputs: Set<string>,
): { convs: Map<GraphNode, 'relu' | 'relu6'>; activations: Set<GraphNode> } {
  const readers = new Map<string, GraphNode[]>();
  for (const n of g.nodes) for (const name of n.inputs) if (name) readers.set(name, [...(readers.get(name) ?? []), n]);
  const scalar = constantScalars(g);
  const convs = new Map<GraphNode, 'relu' | 'relu6'>(),
    activations = new Set<GraphNode>();
  for (const n of g.nodes) {
    if (n.opType !== 'Conv' || n.outputs.length !== 1 || graphOutputs.has(n.outputs[0])) continue;
    const only = readers.get(n.outputs[0]);
    const activation = only?.length === 1 && only[0].inputs[0] === n.outputs[0] ? foldableActivation(only[0], scalar) : undefined;
    if (activation) {
      convs.set(n, activation);
      activations.add(only![0]);
    }
  }
  return { convs, activations };
}

// Note [Anchored values]
// A Strata model is a graph of layers from its inputs to its outputs: every input must reach an
// output, and every output must come from a layer applied to the inputs. ONNX graphs may break
// both (an output that is a Constant or folds to one, an input no node reads). The builder ties
// them in with an Identity node whose extra inputs are anchors (InputSpec `anchor`): graph values
// it receives but never reads. The output keeps its value; the model keeps ONNX's inputs.
function anchoredIdentity(name: string, opset: number, specs: InputSpec[], anchors: SymbolicTensor[]): OnnxNode {
  return new OnnxNode({
    name,
    opType: 'Identity',
    opset,
    attributes: {},
    inputs: [...specs, ...anchors.map((a): InputSpec => ({ anchor: a.dtype }))],
    numOutputs: 1,
  });
}

/** The symbolic tensors the outputs depend on. */
function reachable(outputs: SymbolicTensor[]): Set<SymbolicTensor> {
  const seen = new Set<SymbolicTensor>();
  const stack = [...outputs];
  while (stack.length) {
    const t = stack.pop() as SymbolicTensor;
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push(...t.node.allInputs);
  }
  return seen;
}

/** Lists every unsupported operator of the graph at once, with its node and opset. */
function checkSupported(m: OnnxModel, source: string): void {
  const bad = m.graph.nodes.filter((n) => !((n.domain === '' || n.domain === 'ai.onnx') && (isSupported(n.opType) || n.opType === 'Constant')));
  if (bad.length === 0) return;
  const list = bad.map(
    (n) =>
      `${n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.` : ''}${n.opType} (node '${n.name}', opset ${m.opsets.get(n.domain === 'ai.onnx' ? '' : n.domain) ?? '?'})`,
  );
  const kinds = [...new Set(bad.map((n) => n.opType))];
  throw new ValueError(`${source}: ${bad.length} node(s) use operators the ONNX importer does not support (${kinds.join(', ')}): ${list.join('; ')}`);
}

/** Builds the Strata model of a decoded ONNX model. */
export async function importModel(m: OnnxModel, source: string, options: ImportOptions = {}): Promise<Model> {
  const opset = m.opsets.get('') ?? 1;
  if (opset < OPSETS.min || opset > OPSETS.max) {
    throw new ValueError(`${source}: opset ${opset} of the default ONNX domain is not supported (supported: ${OPSETS.min} to ${OPSETS.max})`);
  }
  checkSupported(m, source);
  const g = m.graph;
  const values = new Map<string, Value>();
  for (const t of g.initializers) values.set(t.name, { kind: 'const', t });
  for (const [name, t] of Object.entries(options.constants ?? {})) values.set(name, { kind: 'const', t: { ...t, name } });
  const taken = new Set<string>();
  const inputs: SymbolicTensor[] = [];
  for (const v of g.inputs) {
    if (values.has(v.name)) continue; // IR < 4 lists initializers among the inputs
    if (!v.elemType) throw new ValueError(`${source}: graph input '${v.name}' is not a tensor (sequence, map and optional types are not supported)`);
    if (!v.shape) throw new ValueError(`${source}: graph input '${v.name}' has no shape; the importer needs its rank`);
    const dtype = strataDtype(v.elemType ?? 'FLOAT', `${source}: graph input '${v.name}'`);
    const sym = input({ batchShape: v.shape, dtype, name: layerName(v.name, taken) });
    inputs.push(sym);
    values.set(v.name, { kind: 'sym', sym, onnxShape: v.shape, layout: 'nchw' });
  }
  const newName = (raw: string) => layerName(raw, taken);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const pending: [OnnxNode, Map<number, OnnxTensor>][] = [];
  const folded = convsBeforeActivation(g, graphOutputs);
  const scalar = constantScalars(g);
  const residual = residualFolds(g, graphOutputs, (n) => foldableActivation(n, scalar) !== undefined);
  const residualActivations = new Set<GraphNode>();
  // One node (or a Conv with its folded Add) into a layer of the model, or a constant.
  const buildNode = async (node: GraphNode, foldedActivation = folded.convs.get(node)): Promise<void> => {
    const where = `${source}: ${node.opType} node '${node.name}'`;
    if (folded.activations.has(node) || residualActivations.has(node)) {
      // Its Conv applies it (Notes [A Conv and its Relu as one kernel], [A Conv and its residual Add as one kernel]).
      values.set(node.outputs[0], values.get(node.inputs[0]) as HeldValue);
      return;
    }
    if (node.opType === 'Constant') {
      values.set(node.outputs[0], { kind: 'const', t: constantNode(node, where) });
      return;
    }
    const handler = handlerOf(node.opType, where);
    const attributes = Object.fromEntries(Object.entries(node.attributes).map(([k, a]) => [k, attrToJson(a, `${where}: attribute '${k}'`)]));
    if (foldedActivation) attributes[FOLDED_RELU] = foldedActivation;
    const attrs = new Attrs(attributes, where);
    const ins = node.inputs.map((name) => {
      if (name === '') return undefined;
      const v = values.get(name);
      if (!v) throw new ValueError(`${where}: input '${name}' is not produced by any earlier node, initializer or graph input`);
      return v;
    });
    const statics = new Set(handler.statics ?? []);
    const numOutputs = node.outputs.length;
    const allConst = ins.every((v) => !v || v.kind === 'const');
    const shapeKnown =
      node.opType === 'Shape' && ins[0]?.kind === 'sym' && ins[0].onnxShape.every((d) => d !== null) && !graphOutputs.has(node.outputs[0]);
    if (shapeKnown) {
      // Shape of a value whose shape is known: a constant (Note [Fine-tuning an imported model]).
      const shape = (ins[0] as HeldValue).onnxShape as number[];
      const r = shape.length;
      const clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + r : a, 0), r);
      const dims = shape.slice(clampAxis(attrs.int('start', 0)), clampAxis(attrs.int('end', r)));
      values.set(node.outputs[0], {
        kind: 'const',
        t: { name: node.outputs[0], onnxType: 'INT64', shape: [dims.length], data: Float64Array.from(dims) },
      });
      return;
    }
    if (allConst) {
      // Constant folding (Note [Fine-tuning an imported model]).
      const ctx: OpContext = {
        where,
        inputs: ins.map((v, i) => (v?.kind === 'const' && !statics.has(i) ? toStrata(v.t, where) : undefined)),
        statics: ins.map((v, i) => (v?.kind === 'const' && statics.has(i) ? Array.from(v.t.data) : undefined)),
        attrs,
        opset,
        training: false,
        numOutputs,
        channelsLast: false,
        filterLayout: [],
      };
      const out = noGrad(() => handler.run(ctx));
      const outs = Array.isArray(out) ? out : [out];
      for (let i = 0; i < numOutputs; i++) {
        if (node.outputs[i]) values.set(node.outputs[i], { kind: 'const', t: await fromStrata(outs[i], node.outputs[i]) });
      }
      return;
    }
    const layout = chooseLayout(node.opType, handler, ins, statics);
    const specs: InputSpec[] = [];
    const graphArgs: SymbolicTensor[] = [];
    const weights = new Map<number, OnnxTensor>();
    ins.forEach((v, i) => {
      if (!v) specs.push('absent');
      else if (statics.has(i)) {
        if (v.kind === 'const') specs.push({ static: Array.from(v.t.data) });
        else {
          // Note [Shapes the graph computes] in layer.ts.
          specs.push({ graph: v.sym.dtype, host: true });
          graphArgs.push(inLayout(v, 'nchw', newName));
        }
      } else if (v.kind === 'const') {
        const held = handler.holdWeight?.(i, v.t, attrs);
        const filter = held !== undefined;
        const t = held ?? (layout === 'nhwc' && handler.layout === 'agnostic' ? permuteConstant(v.t) : v.t);
        const [plain, weight] = constantSpec(t, i, where, !handler.frozen?.includes(i));
        const spec = filter && typeof plain === 'object' && 'weight' in plain ? { ...plain, filter: true } : plain;
        specs.push(spec);
        if (weight) weights.set(i, weight);
      } else {
        specs.push({ graph: v.sym.dtype });
        graphArgs.push(inLayout(v, inputLayout(handler, layout, i), newName));
      }
    });
    const layer = new OnnxNode({
      name: layerName(node.name || node.opType, taken),
      opType: node.opType,
      opset,
      attributes,
      inputs: specs,
      numOutputs,
      channelsLast: layout === 'nhwc',
      onnxName: node.name,
    });
    const out = layer.apply(graphArgs.length === 1 ? graphArgs[0] : graphArgs);
    const outs = Array.isArray(out) ? out : [out];
    outs.forEach((sym, i) => {
      const name = node.outputs[i];
      if (!name) return;
      const held: Layout = layout === 'nhwc' && sym.shape.length === 4 ? 'nhwc' : 'nchw';
      const s = sym.shape;
      values.set(name, { kind: 'sym', sym, layout: held, onnxShape: held === 'nhwc' ? [s[0], s[3], s[1], s[2]] : [...s] });
    });
    pending.push([layer, weights]);
  };
  for (const node of g.nodes) {
    // Note [A Conv and its residual Add as one kernel]: the Conv is built at its Add's place.
    if (residual.deferred.has(node)) continue;
    const fold = residual.adds.get(node);
    if (!fold) {
      await buildNode(node);
      continue;
    }
    const { conv, addendInput, activation } = fold;
    const addendName = node.inputs[addendInput];
    const addend = values.get(addendName);
    const x = values.get(conv.inputs[0]);
    if (addend?.kind === 'sym' && addend.sym.shape.length === 4 && x?.kind === 'sym') {
      const inputs = [conv.inputs[0], conv.inputs[1], conv.inputs[2] ?? '', addendName];
      await buildNode({ ...conv, inputs, outputs: [node.outputs[0]] }, activation && foldableActivation(activation, scalar));
      if (activation) residualActivations.add(activation);
    } else {
      await buildNode(conv);
      await buildNode(node);
    }
  }
  if (inputs.length === 0) throw new ValueError(`${source}: the graph has no inputs (a Strata model is a function of its inputs)`);
  const outputs = g.outputs.map((o) => {
    const v = values.get(o.name);
    if (!v) throw new ValueError(`${source}: graph output '${o.name}' is not produced by any node`);
    if (v.kind === 'sym') return inLayout(v, 'nchw', newName);
    // An output known at import (a Constant, or computed from constants only): the model returns
    // it on every call, through an Identity tied to the first input (Note [Anchored values]).
    const [spec, weight] = constantSpec(v.t, 0, `${source}: graph output '${o.name}'`, false);
    const layer = anchoredIdentity(newName(`${o.name}_constant`), opset, [spec], [inputs[0]]);
    if (weight) pending.push([layer, new Map([[0, weight]])]);
    return layer.apply(inputs[0]) as SymbolicTensor;
  });
  const reached = reachable(outputs);
  const unused = inputs.filter((i) => !reached.has(i));
  if (unused.length) {
    // ONNX allows inputs no output reads (CastLike's 'like' once expanded); a Strata model does not.
    const first = outputs[0];
    const layer = anchoredIdentity(newName(`${g.outputs[0].name}_anchored`), opset, [{ graph: first.dtype }], unused);
    outputs[0] = layer.apply([first, ...unused]) as SymbolicTensor;
  }
  const model = new Model({
    inputs: inputs.length === 1 ? inputs[0] : inputs,
    outputs: outputs.length === 1 ? outputs[0] : outputs,
    name: options.name,
  });
  for (const [layer, weights] of pending) {
    if (weights.size) layer.setWeights([...weights.values()].map((t) => toStrata(t, layer.name)));
  }
  return model;
}
