import type { Tensor } from '../tensor/tensor.js';
import { type ComputationGraph, type GraphEdge, type GraphNodeKind, type GraphOptions, checkGraphOptions, traceGraph } from './trace.js';

// How each kind of node looks. Graphviz measures text with its built-in metrics of the standard
// PostScript fonts, so the labels use Helvetica: a browser and resvg substitute a sans-serif
// face of about the same width and the text stays inside its box.
const STYLE: Record<GraphNodeKind, string> = {
  variable: 'shape=ellipse, style=filled, fillcolor="#cfe2ff", color="#3b6fb6"',
  constant: 'shape=ellipse, style=filled, fillcolor="#eeeeee", color="#888888"',
  op: 'shape=box, style="rounded,filled", fillcolor="#fff3c4", color="#b58900"',
  output: 'shape=ellipse, style=filled, fillcolor="#d3f0d3", color="#2e7d32", peripheries=2',
  seed: 'shape=ellipse, style=filled, fillcolor="#fde0dc", color="#c62828"',
  backward: 'shape=box, style="rounded,filled", fillcolor="#fde0dc", color="#c62828"',
  gradient: 'shape=ellipse, style=filled, fillcolor="#fde0dc", color="#c62828", peripheries=2',
};

// Note [The backward pass beside the forward pass]
// Gradients flow from the result back to the variables. Drawn as ordinary edges, Graphviz would
// rank the backward pass below the result, making the picture twice as tall and hiding that each
// gradient node mirrors a forward one. So a gradient edge from a to b is written `b -> a` with
// `dir=back` (the arrow still points from a to b, but b is ranked above a), and each variable's
// gradient is ranked with the variable, the seed with the result: the backward pass climbs back
// up beside the forward pass. A reader of the DOT text finds the gradient's flow in `dir=back`.
const EDGE_STYLE: Record<GraphEdge['kind'], string> = {
  value: '',
  gradient: 'color="#c62828", fontcolor="#c62828", style=dashed, dir=back',
  starts: 'color="#c62828", style=dotted',
};

/** A DOT string literal: quotes and backslashes escaped, line breaks as Graphviz's centered `\n`. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Writes a traced graph in Graphviz's DOT language. */
export function graphToDot(graph: ComputationGraph, direction: 'TB' | 'LR'): string {
  const lines = [
    'digraph strata {',
    `  rankdir=${direction};`,
    '  node [fontname="Helvetica", fontsize=11, margin="0.12,0.05"];',
    '  edge [fontname="Helvetica", fontsize=9, color="#555555", fontcolor="#333333"];',
  ];
  for (const n of graph.nodes) lines.push(`  ${n.id} [label=${quote(n.label)}, class=${n.kind}, ${STYLE[n.kind]}];`);
  for (const e of graph.edges) {
    const label = e.label === '' ? '' : `label=${quote(e.label)}`;
    const [tail, head] = e.kind === 'gradient' ? [e.to, e.from] : [e.from, e.to];
    lines.push(`  ${tail} -> ${head} [${[label, EDGE_STYLE[e.kind]].filter((s) => s !== '').join(', ')}];`);
  }
  for (const [a, b] of graph.sideBySide) lines.push(`  { rank=same; ${a}; ${b}; }`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * The computational graph behind a tensor, as Graphviz DOT: the history the tape recorded while
 * it was computed from variables. Variables and constants are ellipses (labelled by their name in
 * `names`, else by shape and dtype; a scalar constant by its value, except on a backend that reads
 * asynchronously only, where it shows its dtype: `st.graph.toSvg` awaits the values), each primitive a box, the
 * result a double ellipse, and each edge the shape of the tensor it carries. With
 * `{gradients: true}` the backward pass is drawn too, as backward() runs it: from the seed
 * gradient (ones) through one node per primitive (its vector-Jacobian product) to the gradient
 * of each variable; several edges into one node add up.
 *
 * Render the text with Graphviz (`dot -Tsvg`), or call `st.graph.toSvg`.
 * @throws ValueError for a tensor with no recorded history (a leaf, or computed inside noGrad
 * or from constants only), an unknown option or an option of the wrong kind.
 * @example
 * ```ts
 * const x = st.variable(st.tensor(2));
 * const y = st.variable(st.tensor(3));
 * const z = x.mul(y).add(st.mul(5, y)).add(5);
 * console.log(st.graph.toDot(z, { names: { x, y, z } }));
 * ```
 */
export function toDot(y: Tensor, options?: GraphOptions): string {
  const checked = checkGraphOptions('graph.toDot', options);
  return graphToDot(traceGraph('graph.toDot', y, checked), checked.direction);
}
