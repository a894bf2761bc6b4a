// st.graph: the computational graph a tensor's recorded history forms (the autograd tape), drawn
// as Graphviz DOT and SVG, forward pass and backward pass.
import { toDot } from './dot.js';
import { toSvg } from './svg.js';

export type { GraphOptions } from './trace.js';

/**
 * `st.graph.*`: the computational graph behind a tensor, as Graphviz DOT (`st.graph.toDot`) and as
 * an SVG picture laid out by Graphviz (`st.graph.toSvg`).
 * @namespace
 */
export const graph = {
  /** The graph behind tensors as Graphviz DOT text. */
  toDot,
  /** The graph behind tensors as an SVG picture, laid out by Graphviz. */
  toSvg,
};
