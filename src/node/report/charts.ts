import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { ShapeError, ValueError } from '../../core/errors.js';
import { checkKeys } from '../../core/options.js';
import { REPORT_FONT, svgToPng } from './render.js';
import { textWidth } from './text.js';

// Charts are Vega-Lite specs compiled to Vega and rendered headless to SVG (renderer 'none':
// no DOM or canvas is needed). PNGs come from that SVG through resvg.

/** A training history as Keras's History keeps it: `epoch` 0-based, one array per logged metric. */
export interface HistoryData {
  epoch: number[];
  history: Record<string, number[]>;
}

const BASE_CONFIG = {
  font: REPORT_FONT,
  background: 'white',
  padding: 12,
  title: { fontSize: 16, anchor: 'middle' as const, offset: 12 },
  axis: { labelFontSize: 12, titleFontSize: 13, titlePadding: 8 },
  legend: { labelFontSize: 12, titleFontSize: 13 },
  header: { titleFontSize: 14, labelFontSize: 14 },
};

// Without a canvas Vega sizes text at 0.8 em per character, wider than DejaVu Sans, so axis titles
// sat far from their labels and truncated labels still reserved their full length. Vega takes a
// width function of ours (as vl-convert gives it one); the estimate is the one captions use.
// Capped at the item's limit: Vega's truncation calls it on the pieces it tries.
type TextItem = { fontSize?: number; fontWeight?: string | number; limit?: number };
(vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics.width = (item, text) => {
  const size = item.fontSize ?? 11;
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
  const width = textWidth(text == null ? '' : String(text).trim(), size) * (bold ? 1.15 : 1);
  return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
};

/** Compiles a Vega-Lite spec and renders it to an SVG string without a browser. */
export async function vegaLiteToSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** "accuracy" → "Accuracy", "sparse_categorical_accuracy" → "Sparse categorical accuracy", "mae" → "MAE". */
const ACRONYMS = new Set(['mae', 'mse', 'rmse', 'mape', 'msle', 'auc', 'lr']);

function metricTitle(name: string): string {
  if (ACRONYMS.has(name)) return name.toUpperCase();
  const words = name.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

interface CurvePoint {
  epoch: number;
  value: number;
  split: 'training' | 'validation';
  metric: string;
}

/** Long-format rows (one per epoch, metric and split) and the metrics in panel order, loss first. */
function curveRows(h: HistoryData): { rows: CurvePoint[]; metrics: string[] } {
  if (!h || !Array.isArray(h.epoch) || typeof h.history !== 'object' || h.history === null) {
    throw new ValueError('curvesSvg: expected { epoch: number[], history: Record<string, number[]> }');
  }
  const n = h.epoch.length;
  if (n === 0) throw new ValueError('curvesSvg: the history has no epochs');
  const metrics: string[] = [];
  const rows: CurvePoint[] = [];
  for (const [key, values] of Object.entries(h.history)) {
    if (!Array.isArray(values) || values.length !== n) {
      throw new ShapeError(
        `curvesSvg: history.${key} must have one value per epoch (${n}); received ${Array.isArray(values) ? values.length : typeof values}`,
      );
    }
    const validation = key.startsWith('val_');
    const metric = validation ? key.slice(4) : key;
    if (!metrics.includes(metric)) metrics.push(metric);
    values.forEach((value, i) => {
      // Non-finite values (a diverged epoch) are left out rather than breaking the scale.
      if (Number.isFinite(value)) rows.push({ epoch: h.epoch[i] + 1, value, split: validation ? 'validation' : 'training', metric });
    });
  }
  metrics.sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : 0));
  return { rows, metrics };
}

/**
 * Training and validation curves, one panel per metric (loss first) side by side with a shared
 * legend. Epochs are shown 1-based. Returns an SVG document.
 */
export async function curvesSvg(h: HistoryData, options: { title?: string } = {}): Promise<string> {
  checkKeys('curvesSvg', options, ['title']);
  const { rows, metrics } = curveRows(h);
  const lastEpoch = Math.max(...h.epoch) + 1;
  const firstEpoch = Math.min(...h.epoch) + 1;
  const panels = metrics.map((metric) => ({
    title: metricTitle(metric),
    width: 320,
    height: 240,
    transform: [{ filter: { field: 'metric', equal: metric } }],
    mark: { type: 'line' as const, point: { size: 45, filled: true }, strokeWidth: 2 },
    encoding: {
      x: {
        field: 'epoch',
        type: 'quantitative' as const,
        title: 'Epoch',
        scale: { domain: [firstEpoch, Math.max(lastEpoch, firstEpoch + 1)] },
        // Whole epochs only, and not more ticks than epochs.
        axis: { format: 'd', tickMinStep: 1, tickCount: Math.min(10, Math.max(2, lastEpoch - firstEpoch + 1)) },
      },
      y: {
        field: 'value',
        type: 'quantitative' as const,
        title: metricTitle(metric), // Padding keeps points and the top label inside the plot, so no panel's bounds (and
        // so its title) sit higher than another's.
        scale: metric === 'loss' ? { domainMin: 0, padding: 10 } : { zero: false, padding: 10 },
      },
      color: {
        field: 'split',
        type: 'nominal' as const,
        title: 'Split',
        scale: { domain: ['training', 'validation'], range: ['#1f77b4', '#ff7f0e'] },
        legend: { orient: 'bottom' as const, direction: 'horizontal' as const, symbolSize: 120, titleOrient: 'left' as const },
      },
      tooltip: [
        { field: 'epoch', type: 'quantitative' as const },
        { field: 'value', type: 'quantitative' as const, format: '.4f' },
      ],
    },
  }));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows },
    hconcat: panels,
    spacing: 40,
    config: BASE_CONFIG,
  };
  if (options.title !== undefined) spec.title = options.title;
  return vegaLiteToSvg(spec);
}

function checkMatrix(op: string, matrix: number[][], classNames: string[]): void {
  const k = classNames.length;
  if (k === 0) throw new ValueError(`${op}: expected at least one class name; received none`);
  if (!Array.isArray(matrix) || matrix.length !== k || matrix.some((row) => !Array.isArray(row) || row.length !== k)) {
    throw new ShapeError(
      `${op}: expected a ${k}x${k} matrix (one row and column per class name); received ${Array.isArray(matrix) ? `${matrix.length} rows` : typeof matrix}`,
    );
  }
  if (matrix.some((row) => row.some((c) => !Number.isFinite(c) || c < 0))) {
    throw new ValueError(`${op}: counts must be finite and non-negative`);
  }
  if (new Set(classNames).size !== k) throw new ValueError(`${op}: class names must be distinct; received ${JSON.stringify(classNames)}`);
}

/** Words of a class name, each kept whole on a label line: split at spaces and after slashes ("T-shirt/", "top"). */
const labelWords = (name: string) => name.split(/ +|(?<=\/)/).filter((w) => w.length > 0);

/** Greedy wrap of a name's words into lines of at most `width` pixels (a word longer than that gets a line of its own). */
function wrapLabel(name: string, width: number, fontSize: number): string[] {
  const lines: string[] = [];
  for (const word of labelWords(name)) {
    const last = lines.length ? lines[lines.length - 1] : undefined;
    const joined = last === undefined ? word : last.endsWith('/') ? last + word : `${last} ${word}`;
    if (last !== undefined && textWidth(joined, fontSize) <= width) lines[lines.length - 1] = joined;
    else lines.push(word);
  }
  return lines;
}

/** A name cut to `width` pixels, ending in an ellipsis when cut. */
function truncateLabel(name: string, width: number, fontSize: number): string {
  if (textWidth(name, fontSize) <= width) return name;
  let end = name.length;
  while (end > 1 && textWidth(name.slice(0, end) + '…', fontSize) > width) end--;
  return name.slice(0, end) + '…';
}

/**
 * The column labels of a confusion matrix, read upright: a name stays on one line when it fits its
 * column, else wraps at spaces and slashes into a column widened (up to 96 px) for its longest
 * word. Names with words wider than that stand vertically, which still reads better than a slant
 * whose end lands under the neighbouring column.
 */
function columnLabels(classNames: string[], baseStep: number, fontSize: number): { step: number; axisX: Record<string, unknown> } {
  const axis = { labelLimit: 140, domain: false, ticks: false };
  const pad = 8;
  const widest = (texts: string[]) => Math.max(...texts.map((t) => textWidth(t, fontSize)));
  if (widest(classNames) + pad <= baseStep) return { step: baseStep, axisX: { ...axis, labelAngle: 0 } };
  const step = Math.max(baseStep, Math.ceil(widest(classNames.flatMap(labelWords)) + pad));
  // The labels are computed here and looked up by name: Vega draws an array of strings as the
  // lines of one label, and its own truncation sizes the axis for the untruncated text.
  const lookup = (labels: Record<string, string | string[]>) => `${JSON.stringify(labels)}[datum.label]`;
  if (step > 96) {
    const cut = Object.fromEntries(classNames.map((name) => [name, truncateLabel(name, 140, fontSize)]));
    return {
      step: baseStep,
      axisX: { ...axis, labelLimit: 0, labelAngle: -90, labelAlign: 'right', labelBaseline: 'middle', labelExpr: lookup(cut) },
    };
  }
  const lines = Object.fromEntries(classNames.map((name) => [name, wrapLabel(name, step - pad, fontSize)]));
  return { step, axisX: { ...axis, labelAngle: 0, labelExpr: lookup(lines), labelLineHeight: fontSize + 2 } };
}

/**
 * Confusion-matrix heatmap (rows: true class, columns: predicted class). Each cell shows its count;
 * its colour is the count's share of the true class (row), so errors on small classes still show.
 */
export async function confusionSvg(matrix: number[][], classNames: string[], options: { title?: string } = {}): Promise<string> {
  checkKeys('confusionSvg', options, ['title']);
  checkMatrix('confusionSvg', matrix, classNames);
  const cells = matrix.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({ actual: classNames[t], predicted: classNames[p], count, share: total > 0 ? count / total : 0 }));
  });
  const fontSize = classNames.length > 15 ? 9 : 12;
  const { step, axisX } = columnLabels(classNames, classNames.length > 15 ? 28 : 44, BASE_CONFIG.axis.labelFontSize);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title ?? 'Confusion matrix',
    data: { values: cells },
    width: { step },
    height: { step },
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: classNames, title: 'Predicted class', axis: axisX },
      y: { field: 'actual', type: 'nominal', sort: classNames, title: 'True class', axis: { labelLimit: 140, domain: false, ticks: false } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          color: {
            field: 'share',
            type: 'quantitative',
            title: ['Share of', 'true class'],
            // sqrt spreads the small off-diagonal shares apart, where the interesting errors are.
            scale: { type: 'sqrt', scheme: 'blues', domain: [0, 1] },
            legend: {
              format: '.0%',
              values: [0, 0.05, 0.1, 0.25, 0.5, 0.75, 1],
              gradientLength: Math.max(120, step * Math.min(classNames.length, 10)),
            },
          },
        },
      },
      {
        mark: { type: 'text', fontSize },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          // Light text on dark cells, dark text on light ones.
          color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: '#222' },
        },
      },
    ],
    config: { ...BASE_CONFIG, axis: { ...BASE_CONFIG.axis, grid: false } },
  };
  return vegaLiteToSvg(spec);
}

/** The confusion-matrix heatmap as PNG (see confusionSvg). */
export async function confusionPng(matrix: number[][], classNames: string[], options: { title?: string } = {}): Promise<Uint8Array> {
  return svgToPng(await confusionSvg(matrix, classNames, options));
}
