// Which residual Adds of an ONNX graph the builder folds into the convolution before them.
import type { OnnxModel, OnnxNode as GraphNode } from './decode.js';

// Note [A Conv and its residual Add as one kernel]
// A residual block ends with Add(block input, last Conv) (MobileNetV2's linear bottlenecks,
// ResNet's blocks, where a Relu follows the Add). When the Conv's only reader is that Add and
// neither value is a graph output, the Add is folded into the Conv: the Conv node is built at
// the Add's place in the graph (its addend may be computed after the Conv in the ONNX order, as
// a ResNet's downsample branch is), with the Add's other operand as a fourth input, held
// channels-last like x, and the Add's output as its own. A Relu or Clip(0, 6) that is the Add's
// only reader folds in after it, as for a Conv alone (Note [A Conv and its Relu as one kernel]
// in build.ts). The Conv handler then runs act(conv + bias + addend) as one kernel on native
// (ops/conv-residual.ts; Note [A residual add inside the convolution] in native/src/conv.cc),
// and as the separate ops elsewhere. Only 2-D convolutions (a 4-D weight) fold, and only when
// the addend turns out to be a graph value of rank 4 when the Add is reached; otherwise the Conv
// and the Add are built apart, at the Add's place.

/** A residual Add folded into a Conv: the Conv, which Add operand is the addend, and an activation after the Add. */
export interface ResidualFold {
  conv: GraphNode;
  addendInput: number;
  activation?: GraphNode;
}

/**
 * The Adds to fold (by Add node) and the Convs they take (built at their Add's place).
 * `foldableActivation` says whether a node is a Relu or Clip a convolution can take on.
 */
export function residualFolds(
  g: OnnxModel['graph'],
  graphOutputs: Set<string>,
  foldableActivation: (n: GraphNode) => boolean,
): { adds: Map<GraphNode, ResidualFold>; deferred: Set<GraphNode> } {
  const readers = new Map<string, GraphNode[]>();
  const producer = new Map<string, GraphNode>();
  for (const n of g.nodes) {
    for (const name of n.inputs) if (name) readers.set(name, [...(readers.get(name) ?? []), n]);
    for (const name of n.outputs) if (name) producer.set(name, n);
  }
  const weightRank = new Map(g.initializers.map((t) => [t.name, t.shape.length]));
  const adds = new Map<GraphNode, ResidualFold>();
  const deferred = new Set<GraphNode>();
  for (const add of g.nodes) {
    if (add.opType !== 'Add' || add.inputs.length !== 2 || add.outputs.length !== 1 || add.inputs[0] === add.inputs[1]) continue;
    for (const i of [0, 1]) {
      const conv = producer.get(add.inputs[i]);
      if (conv?.opType !== 'Conv' || conv.outputs.length !== 1 || deferred.has(conv)) continue;
      if (graphOutputs.has(conv.outputs[0]) || readers.get(conv.outputs[0])?.length !== 1) continue;
      if (weightRank.get(conv.inputs[1]) !== 4) continue;
      const after = readers.get(add.outputs[0]);
      const only = after?.length === 1 && after[0].inputs[0] === add.outputs[0] && !graphOutputs.has(add.outputs[0]) ? after[0] : undefined;
      adds.set(add, { conv, addendInput: 1 - i, activation: only && foldableActivation(only) ? only : undefined });
      deferred.add(conv);
      break;
    }
  }
  return { adds, deferred };
}
