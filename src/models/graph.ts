import { ValueError } from '../core/errors.js';
import { isGradEnabled } from '../tensor/tape.js';
import { nextTensorId, type Tensor } from '../tensor/tensor.js';
import type { CallOptions, Layer } from '../nn/layer.js';
import { applyConvPool, fusesWithPool } from '../nn/layers/conv-pool-pair.js';
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
      throw new ValueError(
        `${modelName}: graph disconnected: the outputs depend on input '${node.layer.name}', which is not among the model's inputs (${inputs.map((i) => i.name).join(', ')})`,
      );
    }
    state.set(node, 'visiting');
    for (const parent of node.allInputs) visit(parent);
    state.set(node, 'done');
    order.push(node);
  };
  outputs.forEach(visit);
  for (const i of inputs) {
    if (!(i.node.layer instanceof InputLayer))
      throw new ValueError(
        `${modelName}: every model input must come from st.layers.input(); '${i.name}' is the output of layer '${i.node.layer.name}'`,
      );
    if (!state.has(i.node)) throw new ValueError(`${modelName}: input '${i.name}' is not used by any output`);
  }
  return order;
}

// Per graph (its node list), cached: the same for every forward pass.
const readersOf = new WeakMap<readonly Node[], { outputs: readonly SymbolicTensor[]; counts: Map<SymbolicTensor, number> }>();

/** How many times each symbolic tensor is read: by a node's inputs or options, or as a model output. */
function readerCounts(nodes: readonly Node[], outputs: readonly SymbolicTensor[]): Map<SymbolicTensor, number> {
  const cached = readersOf.get(nodes);
  if (cached?.outputs === outputs) return cached.counts;
  const counts = new Map<SymbolicTensor, number>();
  for (const s of [...nodes.flatMap((n) => n.allInputs), ...outputs]) counts.set(s, (counts.get(s) ?? 0) + 1);
  readersOf.set(nodes, { outputs, counts });
  return counts;
}

/** Whether `next` is the only reader of `node`'s single output and the two layers fuse. */
function fusablePair(node: Node, next: Node, readers: Map<SymbolicTensor, number>): boolean {
  const single = (n: Node) => n.inputs.length === 1 && n.outputs.length === 1 && !n.listInput && Object.keys(n.optionInputs).length === 0;
  return (
    single(node) && single(next) && next.inputs[0] === node.outputs[0] && readers.get(node.outputs[0]) === 1 && fusesWithPool(node.layer, next.layer)
  );
}

// Note [Intermediates freed as the graph runs]
// Without a tape (predict, evaluate, a forward pass under noGrad) nothing needs a layer's output
// once its last reader has run, but its storage would wait for the garbage collector, which
// sizes its work by the JavaScript heap, not by native bytes: an imported MobileNetV2 at batch
// 32 allocated about 1.5 GB of activations per forward pass, all of it fresh from the system
// (a page fault per 4 KiB), and the faults cost a quarter of its time. So when gradients are
// not being recorded, each value made during this run is disposed as soon as its readers
// (counted per tensor object, since a layer may return its input itself) have all run, unless
// it is a model output or was made before the run began (the caller's inputs, a layer's
// weights). With a tape the values stay: the backward pass reads them.

// Note [Training fixed at call time]
// Keras's fine-tuning recipe builds `x = base(inputs, training=False)`, so the base's batch
// normalization keeps its moving statistics (and dropout stays off) even while fit() trains the
// head. A `training` given when the node was built is the layer's own call argument, and in
// Keras that wins over the training flag the outer call passes down; every other option the
// outer call passes (training where the node fixed none) is handed on.

/** The options a node's layer is applied with: its call arguments, its tensor options, the outer call's. */
function nodeOptions(node: Node, optionTensors: Record<string, Tensor | Tensor[]>, options: CallOptions): CallOptions {
  const merged: CallOptions = { ...node.callArgs, ...optionTensors, ...options };
  if (typeof node.callArgs.training === 'boolean') merged.training = node.callArgs.training;
  return merged;
}

/** Runs the recorded calls on real tensors: the functional model's forward pass. */
export function runGraph(
  nodes: readonly Node[],
  inputs: readonly SymbolicTensor[],
  values: readonly Tensor[],
  outputs: readonly SymbolicTensor[],
  options: CallOptions,
): Tensor[] {
  const known = new Map<SymbolicTensor, Tensor>();
  inputs.forEach((s, i) => known.set(s, values[i]));
  const readers = readerCounts(nodes, outputs);
  const release = isGradEnabled() ? undefined : new EarlyRelease(readers);
  const produced = (s: SymbolicTensor, t: Tensor) => {
    known.set(s, t);
    release?.produced(s, t);
  };
  for (let k = 0; k < nodes.length; k++) {
    const node = nodes[k],
      next = nodes[k + 1];
    if (node.layer instanceof InputLayer) continue;
    if (next && fusablePair(node, next, readers)) {
      // Note [Fused layer pairs]: the pooling is the convolution output's only reader.
      produced(next.outputs[0], applyConvPool(node.layer, next.layer, known.get(node.inputs[0])!));
      release?.read(node.allInputs, known);
      k++;
      continue;
    }
    const args = node.inputs.map((s) => known.get(s)!);
    const optionTensors = Object.fromEntries(
      Object.entries(node.optionInputs).map(([k, v]) => [k, Array.isArray(v) ? v.map((s) => known.get(s)!) : known.get(v)!]),
    );
    const out = node.layer.apply(node.listInput ? args : args[0], nodeOptions(node, optionTensors, options)) as Tensor | Tensor[];
    const list = Array.isArray(out) ? out : [out];
    node.outputs.forEach((s, i) => produced(s, list[i]));
    release?.read(node.allInputs, known);
  }
  return outputs.map((s) => known.get(s)!);
}

/** The bookkeeping of Note [Intermediates freed as the graph runs]. */
class EarlyRelease {
  /** Tensors with an id above this were made during the run. */
  private readonly firstNew = nextTensorId();
  /** Reads still to come, per tensor object (model outputs count as reads that never come). */
  private readonly pending = new Map<Tensor, number>();

  constructor(private readonly readers: Map<SymbolicTensor, number>) {}

  produced(s: SymbolicTensor, t: Tensor): void {
    if (t.id < this.firstNew) return;
    this.pending.set(t, (this.pending.get(t) ?? 0) + (this.readers.get(s) ?? 0));
  }

  /** A node has run: one read of each of its inputs is done. */
  read(inputs: readonly SymbolicTensor[], known: Map<SymbolicTensor, Tensor>): void {
    for (const s of inputs) {
      const t = known.get(s);
      const left = t && this.pending.get(t);
      if (left === undefined || !t) continue;
      if (left > 1) this.pending.set(t, left - 1);
      else {
        this.pending.delete(t);
        t.dispose();
      }
    }
  }
}

/** Output shapes for new input shapes, by each layer's computeOutputShape (a model used as a layer). */
export function inferShapes(
  nodes: readonly Node[],
  inputs: readonly SymbolicTensor[],
  shapes: readonly Shape[],
  outputs: readonly SymbolicTensor[],
): Shape[] {
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
