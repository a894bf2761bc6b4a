import { ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import { Tensor } from '../tensor/tensor.js';

// Note [Drawing the tape]
// The tape is the `node` each recorded result keeps (Note [The tape]): its primitive, inputs and
// attributes. Walking it from a tensor back to its leaves gives the forward graph: one node per
// leaf (a variable, which requires grad, or a constant, which does not) and one per primitive.
// A tensor used by several primitives is one node with several out-edges, except a scalar
// constant: ops turn a bare number into a cached scalar tensor (ops/operand.ts), so the two 5s
// of `x*y + 5*y + 5` are one tensor object; drawing it once would tie unrelated parts of the
// picture together, so each use of a scalar constant is a node of its own, labelled by its value.
// The backward pass is drawn from the same walk, as backward() runs it: one gradient node per
// primitive that some variable depends on (its vector-Jacobian product), fed by the gradient of
// its output, feeding the gradients of its inputs that require grad; where a tensor feeds
// several primitives, the gradients flowing back into it add up (several edges into one node).

/** What kind of thing a node of the drawn graph stands for. */
export type GraphNodeKind = 'variable' | 'constant' | 'op' | 'output' | 'seed' | 'backward' | 'gradient';

export interface GraphNode {
  readonly id: string;
  readonly kind: GraphNodeKind;
  /** The text drawn in the node (lines separated by '\n'). */
  readonly label: string;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** The shape of the tensor (or of the gradient) that flows along the edge, e.g. `[2, 3]`. */
  readonly label: string;
  /**
   * What flows along the edge: a value (forward pass), a gradient (backward pass), or 'starts',
   * which ties the result to the seed of its backward pass.
   */
  readonly kind: 'value' | 'gradient' | 'starts';
}

/** A tensor's recorded history as nodes and edges, ready to be written as DOT. */
export interface ComputationGraph {
  readonly nodes: GraphNode[];
  readonly edges: GraphEdge[];
  /** Pairs of nodes drawn side by side: a variable and its gradient, the result and the seed. */
  readonly sideBySide: [string, string][];
}

/** Options of `st.graph.toDot` and `st.graph.toSvg`. */
export interface GraphOptions {
  /**
   * Names for tensors of the graph, drawn instead of their shape and dtype: an object such as
   * `{x, y, z}`, or a list of `{path, value}` pairs such as `model.weights`.
   */
  names?:
    | Record<string, Tensor>
    | Iterable<{
        /** The name drawn for the tensor. */
        readonly path: string;
        /** The tensor named. */
        readonly value: Tensor;
      }>;
  /** Also draw the backward pass: a gradient node per primitive, flowing back to the variables' gradients. Default false. */
  gradients?: boolean;
  /** The direction the forward pass flows: 'TB' (top to bottom, the default) or 'LR' (left to right). */
  direction?: 'TB' | 'LR';
}

export const GRAPH_OPTION_KEYS = ['names', 'gradients', 'direction'] as const;
const DIRECTIONS = ['TB', 'LR'] as const;

/** Options after checking, with defaults filled in. */
export interface CheckedGraphOptions {
  names: Map<Tensor, string>;
  gradients: boolean;
  direction: 'TB' | 'LR';
}

/** Refuses unknown options and values of the wrong kind, naming what was expected. */
export function checkGraphOptions(op: string, options: GraphOptions | undefined): CheckedGraphOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new ValueError(`${op}: options must be an object such as {gradients: true}; received ${fmtValue(options)}`);
  }
  checkKeys(op, options, GRAPH_OPTION_KEYS);
  const gradients = options?.gradients ?? false;
  if (typeof gradients !== 'boolean') throw new ValueError(`${op}: gradients must be true or false; received ${fmtValue(gradients)}`);
  const direction = checkOneOf(op, 'direction', options?.direction ?? 'TB', DIRECTIONS);
  return { names: nameTable(op, options?.names), gradients, direction };
}

function nameTable(op: string, names: GraphOptions['names']): Map<Tensor, string> {
  const table = new Map<Tensor, string>();
  if (names === undefined) return table;
  const add = (name: string, t: unknown) => {
    if (!(t instanceof Tensor)) throw new ValueError(`${op}: names must map each name to a Tensor; '${name}' is ${fmtValue(t)}`);
    if (!table.has(t)) table.set(t, name);
  };
  if (typeof names !== 'object' || names === null) {
    throw new ValueError(`${op}: names must be an object of tensors such as {x, y} or a list of {path, value}; received ${fmtValue(names)}`);
  }
  if (Symbol.iterator in names) {
    for (const entry of names as Iterable<{ path: string; value: Tensor }>) {
      if (typeof entry !== 'object' || entry === null || typeof entry.path !== 'string') {
        throw new ValueError(`${op}: a list of names must hold {path, value} pairs (such as model.weights); received ${fmtValue(entry)}`);
      }
      add(entry.path, entry.value);
    }
  } else {
    for (const [name, t] of Object.entries(names)) add(name, t);
  }
  return table;
}

/** A short text of a primitive's attributes (`axes=[0]`, `transposeB`), or '' when there are none worth drawing. */
function attrsText(attrs: unknown): string {
  if (typeof attrs !== 'object' || attrs === null) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === undefined) continue;
    if (value === true) parts.push(key);
    else if (typeof value === 'number' || typeof value === 'string') parts.push(`${key}=${value}`);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'number')) parts.push(`${key}=[${value.join(',')}]`);
  }
  const text = parts.join(' ');
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function describe(t: Tensor): string {
  return `${fmtShape(t.shape)} ${t.dtype}`;
}

/**
 * A scalar constant's value as drawn: read beforehand (`known`, what toSvg awaited), else read
 * synchronously where the backend can; on a GPU backend toDot cannot wait for the read, and draws
 * the dtype instead.
 */
function scalarText(t: Tensor, known: ReadonlyMap<Tensor, number>): string {
  let v = known.get(t);
  if (v === undefined) {
    const values = t.isDisposed ? undefined : t.hostValues();
    if (!values) return `scalar ${t.dtype}`;
    v = Number(values[0]);
  }
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

/** The scalar constants `root`'s history uses (the values the picture shows), for an asynchronous read. */
export function scalarConstants(root: Tensor): Tensor[] {
  const found = new Set<Tensor>();
  for (const t of topologicalOrder(root))
    for (const input of t.node?.inputs ?? []) if (isScalarConstant(input) && !input.isDisposed) found.add(input);
  return [...found];
}

/** Tensors reachable from `root` through tape nodes, each after all of its inputs (iterative: deep graphs do not overflow). */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const inputs = top[0].node?.inputs ?? [];
    if (top[1] < inputs.length) {
      const child = inputs[top[1]++];
      if (!seen.has(child) && !isScalarConstant(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(top[0]);
    }
  }
  return order;
}

const isScalarConstant = (t: Tensor) => !t.node && !t.requiresGrad && t.rank === 0;

/** Refuses anything but a tensor with recorded history, saying what it is instead. */
export function checkRoot(op: string, root: Tensor): void {
  if (!(root instanceof Tensor)) throw new ValueError(`${op}: expected a Tensor computed from variables; received ${fmtValue(root)}`);
  if (!root.node) {
    const what = root.requiresGrad ? 'a variable itself (a leaf)' : 'a constant: no variable contributed to it, or it was computed inside noGrad()';
    throw new ValueError(
      `${op}: the tensor ${describe(root)} has no recorded history to draw: it is ${what}; ` +
        `draw a result computed from st.variable(...) while grad mode is on, e.g. st.graph.toDot(x.mul(y))`,
    );
  }
}

/**
 * The forward graph of `root`'s history and, with `gradients`, its backward pass; `values` holds
 * scalar constants' values read beforehand.
 * @throws ValueError when `root` has no recorded history.
 */
export function traceGraph(
  op: string,
  root: Tensor,
  options: CheckedGraphOptions,
  values: ReadonlyMap<Tensor, number> = new Map(),
): ComputationGraph {
  checkRoot(op, root);
  const { names } = options;
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const ids = new Map<Tensor, string>();
  const order = topologicalOrder(root);
  let constants = 0;

  const opLabel = (t: Tensor) => {
    const node = t.node as NonNullable<Tensor['node']>;
    const attrs = attrsText(node.attrs);
    // The result's own name is drawn on the output node below it.
    const name = t === root ? undefined : names.get(t);
    return [node.primitive, attrs, name === undefined ? '' : `(${name})`].filter((s) => s !== '').join('\n');
  };

  order.forEach((t, i) => {
    const id = `n${i}`;
    ids.set(t, id);
    if (t.node) nodes.push({ id, kind: 'op', label: opLabel(t) });
    else nodes.push({ id, kind: t.requiresGrad ? 'variable' : 'constant', label: names.get(t) ?? describe(t) });
  });
  for (const t of order) {
    for (const input of t.node?.inputs ?? []) {
      let from = ids.get(input);
      if (from === undefined) {
        from = `c${constants++}`;
        nodes.push({ id: from, kind: 'constant', label: names.get(input) ?? scalarText(input, values) });
      }
      edges.push({ from, to: ids.get(t) as string, label: fmtShape(input.shape), kind: 'value' });
    }
  }
  const outputName = names.get(root);
  nodes.push({ id: 'out', kind: 'output', label: outputName ?? `output\n${describe(root)}` });
  edges.push({ from: ids.get(root) as string, to: 'out', label: fmtShape(root.shape), kind: 'value' });
  const sideBySide: [string, string][] = [];
  if (options.gradients) traceBackward(order, ids, names, outputName ?? 'out', nodes, edges, sideBySide);
  return { nodes, edges, sideBySide };
}

/** Adds the backward pass: seed → each primitive's VJP → the gradients of the variables. */
function traceBackward(
  order: readonly Tensor[],
  ids: ReadonlyMap<Tensor, string>,
  names: ReadonlyMap<Tensor, string>,
  outputName: string,
  nodes: GraphNode[],
  edges: GraphEdge[],
  sideBySide: [string, string][],
): void {
  const root = order[order.length - 1];
  // The nodes whose outputs add up to the gradient of each tensor (several where it feeds several primitives).
  const sources = new Map<Tensor, string[]>([[root, ['seed']]]);
  nodes.push({ id: 'seed', kind: 'seed', label: `∂${outputName}/∂${outputName}\n(ones)` });
  edges.push({ from: 'out', to: 'seed', label: '', kind: 'starts' });
  sideBySide.push(['out', 'seed']);
  // Reverse topological order: every primitive's output gradient is complete before its VJP runs.
  for (const t of [...order].reverse()) {
    const from = sources.get(t);
    if (from === undefined) continue;
    const tid = ids.get(t) as string;
    let to: string;
    if (t.node) {
      to = `b${tid}`;
      nodes.push({ id: to, kind: 'backward', label: `${t.node.primitive} backward` });
      for (const input of t.node.inputs) {
        if (!input.requiresGrad) continue;
        const list = sources.get(input) ?? [];
        if (!list.includes(to)) list.push(to);
        sources.set(input, list);
      }
    } else {
      to = `g${tid}`;
      const name = names.get(t);
      sideBySide.push([tid, to]);
      nodes.push({ id: to, kind: 'gradient', label: name === undefined ? `∂${outputName}/∂ variable\n${describe(t)}` : `∂${outputName}/∂${name}` });
    }
    for (const f of from) edges.push({ from: f, to, label: fmtShape(t.shape), kind: 'gradient' });
  }
}
