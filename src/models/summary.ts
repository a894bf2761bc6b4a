import type { DType } from '../core/dtype.js';
import { InputLayer } from '../nn/layers/input.js';
import type { Layer, LayerWeight } from '../nn/layer.js';
import { formatShape, type Node } from '../nn/symbolic.js';

/** What the table needs of a model (Model satisfies it; named here so summary.ts sits below model.ts). */
export interface SummarizedModel extends Layer {
  readonly graphNodes: readonly Node[];
  readonly layers: Layer[];
}

/** Options of `model.summary()`. */
export interface SummaryOptions {
  /** Where lines go (default console.log); summary() also returns the text. */
  printFn?: (line: string) => void;
  /** Column widths as fractions of lineLength, like Keras's positions (default 33, 24, 15 characters, wider when needed). */
  lineLength?: number;
}

const count = (n: number) => n.toLocaleString('en-US');

/** Keras's byte sizes: 1 KB = 1024 B, two decimals. */
function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${n.toFixed(2)} ${units[u]}`;
}

const dtypeSize = (d: DType) => ({ float32: 4, int32: 4, bool: 1, float64: 8 })[d];
const paramBytes = (ws: LayerWeight[]) => ws.reduce((n, w) => n + w.value.size * dtypeSize(w.value.dtype), 0);
const params = (ws: LayerWeight[]) => ws.reduce((n, w) => n + w.value.size, 0);

interface Row {
  cells: string[];
}

/**
 * Keras 3's model.summary(): one row per layer with its output shape and parameter count (and,
 * for functional models, the layers it reads from), then total, trainable and non-trainable
 * parameter counts with their size in memory.
 */
export function summary(model: SummarizedModel, options: SummaryOptions = {}): string {
  const functional = model.className !== 'Sequential';
  const inGraph = new Set(model.graphNodes);
  const nodesOf = (layer: Layer): Node[] => layer.inboundNodes.filter((n) => inGraph.has(n));
  const rows: Row[] = [];
  for (const layer of model.layers) {
    if (!functional && layer instanceof InputLayer) continue;
    const nodes = nodesOf(layer);
    const shapes = nodes.flatMap((n) => n.outputs.map((o) => formatShape(o.shape)));
    const shape = shapes.length ? [...new Set(shapes)].join(', ') : '?';
    const built = layer.built || layer instanceof InputLayer;
    const paramText = built ? count(layer.countParams()) : '0 (unbuilt)';
    const cells = [`${layer.name} (${layer.className})`, shape, paramText];
    if (functional) {
      const sources = nodes.flatMap((n) => n.allInputs.map((t) => `${t.node.layer.name}[${nodeIndex(model, t.node)}][${t.index}]`));
      cells.push(sources.length ? sources.join(', ') : '-');
    }
    rows.push({ cells });
  }
  const header = ['Layer (type)', 'Output Shape', 'Param #', ...(functional ? ['Connected to'] : [])];
  const minWidths = functional ? [29, 22, 11, 22] : [31, 22, 13];
  const widths = header.map((h, c) => Math.max(minWidths[c], h.length, ...rows.map((r) => r.cells[c].length)) + 2);
  const pad = (text: string, c: number) => (c === 2 ? ` ${text.padStart(widths[c] - 2)} ` : ` ${text.padEnd(widths[c] - 2)} `);
  const rule = (left: string, fill: string, mid: string, right: string) => left + widths.map((w) => fill.repeat(w)).join(mid) + right;

  const lines = [`Model: "${model.name}"`];
  lines.push(rule('┏', '━', '┳', '┓'));
  lines.push('┃' + header.map(pad).join('┃') + '┃');
  lines.push(rule('┡', '━', '╇', '┩'));
  rows.forEach((r, i) => {
    lines.push('│' + r.cells.map(pad).join('│') + '│');
    if (i < rows.length - 1) lines.push(rule('├', '─', '┼', '┤'));
  });
  lines.push(rule('└', '─', '┴', '┘'));
  const all = model.weights,
    trainable = model.trainableWeights,
    frozen = model.nonTrainableWeights;
  lines.push(` Total params: ${count(params(all))} (${bytes(paramBytes(all))})`);
  lines.push(` Trainable params: ${count(params(trainable))} (${bytes(paramBytes(trainable))})`);
  lines.push(` Non-trainable params: ${count(params(frozen))} (${bytes(paramBytes(frozen))})`);
  const text = lines.join('\n');
  const print = options.printFn ?? ((line: string) => console.log(line));
  for (const line of lines) print(line);
  return text;
}

function nodeIndex(model: SummarizedModel, node: Node): number {
  return Math.max(model.graphNodes.filter((n) => n.layer === node.layer).indexOf(node), 0);
}
