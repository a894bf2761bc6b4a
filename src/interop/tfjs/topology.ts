// The Keras 2.x model config inside a tfjs model.json (`modelTopology.model_config`, or the
// topology itself) turned into the serialized form Strata's own model.json holds, so the model is
// rebuilt by the same registered classes (Note [Layer registry]): nothing in the file is evaluated.
// Layers keep their Keras names, which is how the weights find them.

import { FormatError, ValueError, fmtValue } from '../../core/errors.js';
import type { SerializedLayer } from '../../nn/registry.js';
import { ATTENTION_CLASSES, type TensorRef, attentionCall } from './attention-calls.js';
import { convertLayer, isSupported } from './layers.js';

type Config = Record<string, unknown>;

/** The model's serialized form and, per layer, the Keras weight names that differ from Strata's. */
export interface ConvertedTopology {
  /** A Strata 'Functional' or 'Sequential' spec. */
  spec: SerializedLayer;
  /** Layer name → (Strata weight name → Keras weight name) where they differ. */
  weightNames: Map<string, Record<string, string>>;
}

const isObject = (v: unknown): v is Config => typeof v === 'object' && v !== null && !Array.isArray(v);
const excerpt = (v: unknown) => JSON.stringify(v)?.slice(0, 120);

/** A Keras layer entry: its class, name and config, checked for shape. */
function layerEntry(file: string, entry: unknown, i: number): { className: string; name: string; config: Config } {
  if (!isObject(entry) || typeof entry.class_name !== 'string' || !isObject(entry.config)) {
    throw new FormatError(`${file}: layer ${i} must be {class_name, config, ...}; received ${excerpt(entry)}`);
  }
  const name = entry.config.name ?? entry.name;
  if (typeof name !== 'string' || name === '' || name.includes('/'))
    throw new FormatError(`${file}: layer ${i} has no usable name; received ${excerpt(name)}`);
  return { className: entry.class_name, name, config: entry.config };
}

/** Keras classes of a model used as a layer of another (transfer learning wraps a base model so). */
const MODEL_CLASSES = ['Model', 'Functional', 'Sequential'];

/** A model config's layer list, in either Sequential spelling (a list, or {layers}) or a functional config. */
const layerList = (config: unknown): unknown[] =>
  Array.isArray(config) ? config : isObject(config) && Array.isArray(config.layers) ? config.layers : [];

/** Every unsupported layer of a model config and of the models nested in it. */
function unsupported(config: unknown, out: string[]): string[] {
  for (const e of layerList(config)) {
    if (!isObject(e) || typeof e.class_name !== 'string') continue; // reported with its index when converted
    const name = isObject(e.config) ? e.config.name : e.name;
    if (MODEL_CLASSES.includes(e.class_name)) unsupported(e.config, out);
    else if (!isSupported(e.class_name)) out.push(`${e.class_name} (layer '${String(name)}')`);
  }
  return out;
}

/** Converts a layer, or a nested model (whose weight names join the outer model's). */
function convertEntry(
  file: string,
  className: string,
  name: string,
  config: Config,
  weightNames: Map<string, Record<string, string>>,
): SerializedLayer {
  if (MODEL_CLASSES.includes(className)) {
    const inner = convertModel(file, className, config);
    for (const [k, v] of inner.weightNames) weightNames.set(k, v);
    return { className: inner.spec.className, config: { ...inner.spec.config, name } };
  }
  try {
    const converted = convertLayer(className, name, config);
    weightNames.set(name, converted.weightNames);
    return converted.spec;
  } catch (e) {
    if (e instanceof ValueError) e.message = `${file}: ${e.message}`;
    throw e;
  }
}

/** A Keras tensor reference [layer, node, tensor] (a fourth kwargs entry is allowed in inbound nodes). */
function tensorRef(file: string, where: string, v: unknown): TensorRef {
  const ok = Array.isArray(v) && v.length >= 3 && typeof v[0] === 'string' && Number.isSafeInteger(v[1]) && Number.isSafeInteger(v[2]);
  if (!ok) throw new FormatError(`${file}: ${where} must be [layerName, nodeIndex, tensorIndex]; received ${excerpt(v)}`);
  const kwargs = (v as unknown[])[3];
  // A `training` argument fixed at call time is kept by the caller (fixedTraining); any other is not understood.
  if (isObject(kwargs) && Object.keys(kwargs).some((k) => k !== 'training')) {
    throw new ValueError(`${file}: ${where} passes call arguments ${excerpt(kwargs)}; only tensors are supported`);
  }
  return [v[0], v[1], v[2]] as TensorRef;
}

/**
 * The node's call arguments Strata replays: `training` where the call fixed it to a boolean
 * (`base(x, training=False)` in Keras's fine-tuning recipe; Note [Training fixed at call time]
 * in models/graph.ts). Keras 2 writes the call's keywords as a fourth entry of each tensor
 * reference, Keras 3 as the node's kwargs.
 */
function fixedTraining(kwargs: unknown): Record<string, unknown> {
  return isObject(kwargs) && typeof kwargs.training === 'boolean' ? { training: kwargs.training } : {};
}

/** A Keras 3 symbolic tensor, {class_name: '__keras_tensor__', config: {keras_history: [layer, node, tensor]}}. */
function keras3Tensor(file: string, where: string, v: unknown): TensorRef {
  if (!isObject(v) || v.class_name !== '__keras_tensor__' || !isObject(v.config)) {
    throw new FormatError(
      `${file}: ${where} must be a Keras tensor {class_name: '__keras_tensor__', config: {keras_history}}; received ${excerpt(v)}`,
    );
  }
  return tensorRef(file, `${where}'s keras_history`, v.config.keras_history);
}

/**
 * A Keras 3 call record, {args: [x] or [[x, y, ...]], kwargs}: the layers Strata imports take one
 * positional argument, a tensor or (merges) a list of them. A `training` keyword is kept by the
 * caller (fixedTraining) and a null one dropped; any other keyword is a call Strata cannot replay.
 */
function keras3Node(file: string, where: string, node: Config): { args: TensorRef[]; listInput: boolean } {
  const args = node.args;
  if (!Array.isArray(args) || args.length !== 1) {
    throw new ValueError(`${file}: ${where} passes ${excerpt(args)} as positional arguments; only one tensor or one list of tensors is supported`);
  }
  const kwargs = node.kwargs ?? {};
  if (!isObject(kwargs) || Object.entries(kwargs).some(([k, v]) => k !== 'training' && v !== null)) {
    throw new ValueError(`${file}: ${where} passes call arguments ${excerpt(kwargs)}; only tensors are supported`);
  }
  if (Array.isArray(args[0])) return { args: args[0].map((t, j) => keras3Tensor(file, `${where}, input ${j}`, t)), listInput: true };
  return { args: [keras3Tensor(file, `${where}, input 0`, args[0])], listInput: false };
}

/** An attention layer's call (attention-calls.ts), in Keras 3's {args, kwargs} or Keras 2's [[query, 0, 0, {value, ...}]]. */
function attentionNode(file: string, where: string, node: unknown): { args: TensorRef[]; listInput: true; callArgs: Config } {
  if (isObject(node)) {
    const kwargs = node.kwargs ?? {};
    if (!Array.isArray(node.args) || !isObject(kwargs))
      throw new FormatError(`${file}: ${where} must be {args: [...], kwargs: {...}}; received ${excerpt(node)}`);
    return attentionCall(`${file}: ${where}`, node.args, kwargs, (what, v) => keras3Tensor(file, what, v));
  }
  if (!Array.isArray(node) || node.length !== 1 || !Array.isArray(node[0]) || node[0].length < 3)
    throw new FormatError(`${file}: ${where} must be [[query, nodeIndex, tensorIndex, {value, ...}]]; received ${excerpt(node)}`);
  const [layer, nodeIndex, tensorIndex, kwargs] = node[0] as unknown[];
  if (kwargs !== undefined && !isObject(kwargs))
    throw new FormatError(`${file}: ${where}'s call arguments must be an object; received ${excerpt(kwargs)}`);
  return attentionCall(`${file}: ${where}`, [[layer, nodeIndex, tensorIndex]], kwargs ?? {}, (what, v) => tensorRef(file, what, v));
}

/** Keras writes a model's input or output list as triples, or as one bare triple for a single one. */
function refList(file: string, where: string, v: unknown): TensorRef[] {
  if (Array.isArray(v) && typeof v[0] === 'string') return [tensorRef(file, where, v)];
  if (!Array.isArray(v) || v.length === 0)
    throw new FormatError(`${file}: ${where} must be a non-empty list of [layerName, nodeIndex, tensorIndex]; received ${excerpt(v)}`);
  return v.map((r, i) => tensorRef(file, `${where}[${i}]`, r));
}

function functional(file: string, config: Config): ConvertedTopology {
  if (!Array.isArray(config.layers)) throw new FormatError(`${file}: the model config's layers must be a list; received ${excerpt(config.layers)}`);
  const entries = config.layers.map((e, i) => ({ ...layerEntry(file, e, i), inbound: (e as Config).inbound_nodes }));
  const weightNames = new Map<string, Record<string, string>>();
  const layers = entries.map(({ className, name, config: c, inbound }) => {
    const spec = convertEntry(file, className, name, c, weightNames);
    if (inbound !== undefined && !Array.isArray(inbound))
      throw new FormatError(`${file}: inbound_nodes of layer '${name}' must be a list; received ${excerpt(inbound)}`);
    const inboundNodes = ((inbound ?? []) as unknown[]).map((node, k) => {
      const where = `inbound node ${k} of layer '${name}'`;
      if (ATTENTION_CLASSES.includes(className)) return attentionNode(file, where, node);
      if (isObject(node)) return { ...keras3Node(file, where, node), callArgs: fixedTraining(node.kwargs) };
      if (!Array.isArray(node) || node.length === 0) {
        throw new FormatError(
          `${file}: inbound node ${k} of layer '${name}' must be a list of tensor references (Keras 2) or {args, kwargs} (Keras 3); received ${excerpt(node)}`,
        );
      }
      const args = node.map((r, j) => tensorRef(file, `inbound node ${k} of layer '${name}', input ${j}`, r));
      // A merge layer takes a list even of one tensor; every other layer takes one tensor.
      return {
        args,
        listInput: args.length > 1 || ['Add', 'Concatenate', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Subtract'].includes(className),
        callArgs: fixedTraining((node[0] as unknown[])[3]),
      };
    });
    return { ...spec, name, inboundNodes: className === 'InputLayer' ? [] : inboundNodes };
  });
  const inputLayers = refList(file, 'input_layers', config.input_layers);
  const outputLayers = refList(file, 'output_layers', config.output_layers);
  const spec = {
    className: 'Functional',
    config: {
      name: typeof config.name === 'string' ? config.name : 'model',
      trainable: true,
      layers,
      inputLayers,
      outputLayers,
      inputsAsList: inputLayers.length > 1,
      outputsAsList: outputLayers.length > 1,
    },
  };
  return { spec, weightNames };
}

/**
 * Keras 2.2.4 writes a Sequential config as the list of layers, later versions as {name, layers};
 * the input shape is an InputLayer entry or the first layer's batch_input_shape, which Strata's
 * Sequential takes as the first layer's batchInputShape.
 */
function sequential(file: string, config: unknown): ConvertedTopology {
  const list = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(list)) throw new FormatError(`${file}: a Sequential config must hold a list of layers; received ${excerpt(config)}`);
  const entries = list.map((e, i) => layerEntry(file, e, i));
  const weightNames = new Map<string, Record<string, string>>();
  let inputShape: unknown;
  const layers: SerializedLayer[] = [];
  for (const { className, name, config: c } of entries) {
    if (className === 'InputLayer') {
      inputShape = c.batch_input_shape ?? c.batch_shape;
      continue;
    }
    const spec = convertEntry(file, className, name, c, weightNames);
    const shape = layers.length === 0 ? (c.batch_input_shape ?? inputShape) : undefined;
    if (shape !== undefined && !MODEL_CLASSES.includes(className)) {
      if (!Array.isArray(shape)) throw new FormatError(`${file}: batch_input_shape of layer '${name}' must be a list; received ${fmtValue(shape)}`);
      spec.config.batchInputShape = shape;
    }
    layers.push(spec);
  }
  const name = isObject(config) && typeof config.name === 'string' ? config.name : 'sequential';
  return { spec: { className: 'Sequential', config: { name, layers } }, weightNames };
}

/** A Keras model config of class `className` (Sequential, or Model/Functional) converted. */
function convertModel(file: string, className: string, config: unknown): ConvertedTopology {
  if (className === 'Sequential') return sequential(file, config);
  if (!isObject(config)) throw new FormatError(`${file}: the config of a ${className} must be an object; received ${excerpt(config)}`);
  return functional(file, config);
}

/** Converts a tfjs modelTopology or a Keras model config (Keras 2.x or 3 JSON) into Strata's serialized model; `importer` names the importer in errors. */
export function convertTopology(file: string, topology: unknown, importer = 'tfjs'): ConvertedTopology {
  if (!isObject(topology)) throw new FormatError(`${file}: modelTopology must be an object; received ${excerpt(topology)}`);
  const modelConfig = isObject(topology.model_config) ? topology.model_config : topology;
  const className = modelConfig.class_name;
  if (typeof className !== 'string' || !MODEL_CLASSES.includes(className)) {
    throw new FormatError(
      `${file}: expected a Keras model config with class_name 'Sequential', 'Model' or 'Functional' (a tfjs LayersModel); received ${excerpt(className)}` +
        (Array.isArray(topology.node) ? ' (this looks like a tfjs GraphModel, which the LayersModel importer does not read)' : ''),
    );
  }
  const bad = unsupported(modelConfig.config, []);
  if (bad.length) {
    // A Lambda layer's function is Python bytecode (marshal, base64): it is reported, never run.
    const lambda = bad.some((b) => b.startsWith('Lambda ')) ? "; a Lambda layer's function is Python code, which Strata never runs" : '';
    throw new ValueError(
      `${file}: ${bad.length} layer${bad.length > 1 ? 's are' : ' is'} not supported by the ${importer} importer: ${bad.join(', ')}${lambda}`,
    );
  }
  return convertModel(file, className, modelConfig.config);
}
