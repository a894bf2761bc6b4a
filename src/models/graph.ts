import { ValueError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { CallOptions, Layer } from '../nn/layer.js';
import { InputLayer } from '../nn/layers/input.js';
import { isShapeList } from '../nn/layer.js';
import type { Node, Shape, SymbolicTensor } from '../nn/symbolic.js';

/**
 * The recorded layer calls between a model's inputs and outputs, in an order where every node
 * comes after the nodes producing its inputs (a depth-first post-order from the outputs).
 * Inputs that outputs do not depend on, and outputs that need an undeclared input, are errors.
 */
export function topologicalNodes(modelName: string, inputs: readonly SymbolicTensor[], outputs: readonly SymbolicTensor[]): Node[] {
  const order: Node[] = [];
  const state = new Map<Node, 'visiting' | 'done'>();
  const declared = new Set(inputs);
  const visit = (t: SymbolicTensor) => {
    const node = t.node;
    if (state.get(node) === 'done') return;
    if (node.layer instanceof InputLayer && !declared.has(t)) {
      throw new ValueError(`${modelName}: graph disconnected: the outputs depend on input '${node.layer.name}', which is not among the model's inputs (${inputs.map((i) => i.name).join(', ')})`);
    }
    state.set(node, 'visiting');
    for (const parent of node.allInputs) visit(parent);
    state.set(node, 'done');
    order.push(node);
  };
  outputs.forEach(visit);
  for (const i of inputs) {
    if (!(i.node.layer instanceof InputLayer)) throw new ValueError(`${modelName}: every model input must come from st.layers.input(); '${i.name}' is the output of layer '${i.node.layer.name}'`);
    if (!state.has(i.node)) throw new ValueError(`${modelName}: input '${i.name}' is not used by any output`);
  }
  return order;
}

/** Runs the recorded calls on real tensors: the functional model's forward pass. */
export function runGraph(nodes: readonly Node[], inputs: readonly SymbolicTensor[], values: readonly Tensor[], outputs: readonly SymbolicTensor[], options: CallOptions): Tensor[] {
  const known = new Map<SymbolicTensor, Tensor>();
  inputs.forEach((s, i) => known.set(s, values[i]));
  for (const node of nodes) {
    if (node.layer instanceof InputLayer) continue;
    const args = node.inputs.map((s) => known.get(s)!);
    const optionTensors = Object.fromEntries(Object.entries(node.optionInputs).map(([k, v]) => [k, Array.isArray(v) ? v.map((s) => known.get(s)!) : known.get(v)!]));
    const out = node.layer.apply(node.listInput ? args : args[0], { ...node.callArgs, ...optionTensors, ...options }) as Tensor | Tensor[];
    const list = Array.isArray(out) ? out : [out];
    node.outputs.forEach((s, i) => known.set(s, list[i]));
  }
  return outputs.map((s) => known.get(s)!);
}

/** Output shapes for new input shapes, by each layer's computeOutputShape (a model used as a layer). */
export function inferShapes(nodes: readonly Node[], inputs: readonly SymbolicTensor[], shapes: readonly Shape[], outputs: readonly SymbolicTensor[]): Shape[] {
  const known = new Map<SymbolicTensor, Shape>();
  inputs.forEach((s, i) => known.set(s, shapes[i]));
  for (const node of nodes) {
    if (node.layer instanceof InputLayer) continue;
    const args = node.inputs.map((s) => known.get(s)!);
    const out = node.layer.computeOutputShape(node.listInput ? args : args[0]);
    const list = isShapeList(out) ? out : [out];
    node.outputs.forEach((s, i) => known.set(s, list[i]));
  }
  return outputs.map((s) => known.get(s)!);
}

/** The distinct layers of a graph in execution order (input layers included, as Keras lists them). */
export function graphLayers(nodes: readonly Node[]): Layer[] {
  return [...new Set(nodes.map((n) => n.layer))];
}
