import { ValueError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { graphToDot } from './dot.js';
import { type GraphOptions, checkGraphOptions, checkRoot, scalarConstants, traceGraph } from './trace.js';

// Note [Graphviz in WebAssembly]
// The picture is laid out by Graphviz itself, compiled to WebAssembly by @viz-js/viz (the same
// `dot` layout as the command-line tool, in Node and in a page alike, with no system install).
// The module is large (about 1.2 MB with its WASM inlined), so it is imported on the first
// toSvg() call only, and its instance is then kept for every later call.

interface VizInstance {
  render(input: string, options: { format: string }): { status: string; output?: string; errors: { message: string }[] };
}

let viz: Promise<VizInstance> | undefined;

function loadViz(): Promise<VizInstance> {
  viz ??= import('@viz-js/viz').then((m) => m.instance() as Promise<VizInstance>);
  return viz;
}

/** Lays out DOT text with Graphviz's `dot` and returns the SVG document. */
export async function dotToSvg(dot: string): Promise<string> {
  const result = (await loadViz()).render(dot, { format: 'svg' });
  if (result.status !== 'success' || result.output === undefined) {
    throw new ValueError(`graph.toSvg: Graphviz could not lay out the graph: ${result.errors.map((e) => e.message).join('; ')}`);
  }
  return result.output;
}

/**
 * The computational graph behind a tensor as an SVG document: `st.graph.toDot`'s graph laid out by
 * Graphviz (`dot`, compiled to WebAssembly by @viz-js/viz, loaded on the first call). Same
 * options as toDot; write the string to a `.svg` file or put it in a page. Scalar constants show
 * their values on every backend (toDot, which cannot wait for a GPU read, draws their dtype there).
 * @throws ValueError for a tensor with no recorded history, or a bad option.
 * @example
 * ```ts
 * const x = st.variable(st.tensor(2));
 * const y = st.variable(st.tensor(3));
 * const svg = await st.graph.toSvg(x.mul(y).add(5), { names: { x, y }, gradients: true });
 * ```
 */
export async function toSvg(y: Tensor, options?: GraphOptions): Promise<string> {
  // Bad input is refused before anything is awaited or loaded. The scalar constants' values are
  // read the portable way, so a GPU backend's picture shows them too.
  const checked = checkGraphOptions('graph.toSvg', options);
  checkRoot('graph.toSvg', y);
  const values = new Map<Tensor, number>();
  for (const t of scalarConstants(y)) values.set(t, Number((await t.data())[0]));
  const dot = graphToDot(traceGraph('graph.toSvg', y, checked, values), checked.direction);
  return dotToSvg(dot);
}
