// Cutting a trained model at inner layers, for the looking-inside tools. A plain cut is Keras's
// `st.model({inputs: net.inputs, outputs: net.getLayer(name).output})`; two cases need a copy of
// the graph instead: DeepDream's octaves run the network on images of other sizes than it was
// built for (a built conv2d refuses them), and a class score is read before the softmax that
// ends a classifier (the softmax's output can rise by pushing the other classes down, so its
// gradient says little about what makes the class itself). The copy replays the recorded layer
// calls on a new input with layers re-created from their configs and given the same weights.
import { ValueError } from '../core/errors.js';
import { Model } from '../models/model.js';
import type { Layer } from '../nn/layer.js';
import { InputLayer, input as symbolicInput } from '../nn/layers/input.js';
import { deserializeLayer, serializeLayer } from '../nn/registry.js';
import type { SymbolicTensor } from '../nn/symbolic.js';

export interface CutOptions {
  /** Leave the image size free (height and width null), for images of other sizes. */
  anySize?: boolean;
  /** A layer whose activation is replaced by 'linear' (its scores before a softmax). */
  linear?: string;
}

/** The names of a model's layers other than its inputs, for error messages. */
export const layerNames = (model: Model): string[] => model.layers.filter((l) => !(l instanceof InputLayer)).map((l) => l.name);

/** Checks that `model` is a model with one image input [null, h, w, c]; returns that shape. */
export function imageInputShape(op: string, model: unknown): (number | null)[] {
  if (!(model instanceof Model)) throw new ValueError(`${op}: expected a model (st.model or st.sequential); received ${String(model)}`);
  if (model.inputs.length !== 1)
    throw new ValueError(`${op}: expected a model with one image input; '${model.name}' has ${model.inputs.length} inputs`);
  const shape = model.inputs[0].shape;
  if (shape.length !== 4)
    throw new ValueError(
      `${op}: expected a model whose input is a batch of images [batch, height, width, channels]; '${model.name}' takes ${JSON.stringify(shape)}`,
    );
  return shape as (number | null)[];
}

/** The layer called `name` in `model`, or a ValueError that lists the model's layers. */
export function findLayer(op: string, model: Model, name: unknown): Layer {
  const found = typeof name === 'string' ? model.layers.find((l) => l.name === name && !(l instanceof InputLayer)) : undefined;
  if (!found)
    throw new ValueError(`${op}: no layer ${JSON.stringify(name)} in model '${model.name}'; its layers are ${layerNames(model).join(', ')}`);
  return found;
}

/**
 * A model from `model`'s input to the outputs of the layers called `names` (in that order).
 * @throws ValueError for a name that is not one of the model's layers (the message lists them).
 */
export function cutAt(op: string, model: Model, names: readonly string[], options: CutOptions = {}): Model {
  const wanted = names.map((n) => findLayer(op, model, n));
  if (!options.anySize && options.linear === undefined) {
    const outputs = wanted.map((l) => l.output as SymbolicTensor);
    return new Model({ inputs: model.inputs[0], outputs: outputs.length === 1 ? outputs[0] : outputs });
  }
  return replay(op, model, wanted, options);
}

/** The graph of `model` up to the calls of `wanted`, copied onto a new input. */
function replay(op: string, model: Model, wanted: Layer[], options: CutOptions): Model {
  const original = model.inputs[0];
  const [, h, w, c] = original.shape;
  const input = symbolicInput({
    shape: options.anySize ? [null, null, c] : [h, w, c],
    dtype: original.dtype,
  });
  const mapped = new Map<SymbolicTensor, SymbolicTensor>([[original, input]]);
  const copies = new Map<Layer, Layer>();
  const pending = new Set(wanted);
  for (const node of model.graphNodes) {
    if (pending.size === 0) break;
    const layer = node.layer as Layer;
    if (layer instanceof InputLayer) continue;
    let copy = copies.get(layer);
    if (!copy) {
      const spec = serializeLayer(layer);
      if (layer.name === options.linear) spec.config = { ...spec.config, activation: 'linear' };
      copy = deserializeLayer(spec, `${op}: copying layer '${layer.name}'`);
      copies.set(layer, copy);
    }
    const inputs = node.inputs.map((s) => mapped.get(s));
    if (inputs.some((s) => s === undefined)) continue; // a call that does not descend from the image input
    const optionInputs = Object.fromEntries(
      Object.entries(node.optionInputs).map(([k, v]) => [k, Array.isArray(v) ? v.map((s) => mapped.get(s)) : mapped.get(v)]),
    );
    let out: SymbolicTensor | SymbolicTensor[];
    try {
      out = copy.apply((node.listInput ? inputs : inputs[0]) as SymbolicTensor, { ...node.callArgs, ...optionInputs }) as
        | SymbolicTensor
        | SymbolicTensor[];
    } catch (e) {
      if (!options.anySize) throw e;
      throw new ValueError(
        `${op}: layer '${layer.name}' (${layer.className}) does not accept images of any size, so the network cannot be cut there for images of other sizes (${(e as Error).message})`,
      );
    }
    if (copy.weights.length !== layer.weights.length) throw new ValueError(`${op}: the copy of layer '${layer.name}' has other weights than it`);
    if (copy.weights.length) copy.setWeights(layer.getWeights());
    const outs = Array.isArray(out) ? out : [out];
    node.outputs.forEach((s, i) => mapped.set(s, outs[i]));
    pending.delete(layer);
  }
  const outputs = wanted.map((l) => mapped.get(l.output as SymbolicTensor));
  if (outputs.some((s) => s === undefined)) throw new ValueError(`${op}: some of the layers asked for are not computed from the model's input`);
  return new Model({ inputs: input, outputs: outputs.length === 1 ? outputs[0]! : (outputs as SymbolicTensor[]) });
}
