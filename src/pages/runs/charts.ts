// The charts: one per logged quantity (loss, accuracy, val_loss, val_accuracy, then any others),
// one line per selected run in the run's colour, against epochs (fractional within an epoch) or
// steps. A chart is rebuilt when its lines change (runs selected, axis switched) and only given
// new data otherwise, which uPlot redraws cheaply, so live updates can come many times a second.
import uPlot from 'uplot';
import { chartKeys, config, type RunData } from './store.js';

export type XMode = 'epoch' | 'step';

const TITLES: Record<string, string> = {
  loss: 'Training loss',
  accuracy: 'Training accuracy',
  val_loss: 'Validation loss',
  val_accuracy: 'Validation accuracy',
};

const HEIGHT = 230;

interface Card {
  el: HTMLElement;
  body: HTMLElement;
  empty: HTMLElement;
  plot: uPlot | undefined;
  /** The lines and axis the plot was built for. */
  signature: string;
}

/** A number for the legend: four significant digits, small ones in exponent form. */
function format(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

/** The last value a line has, for the legend when the pointer is off the chart: a live readout. */
function lastValue(u: uPlot, series: number): number | null {
  const ys = u.data[series] as (number | null | undefined)[];
  for (let i = ys.length - 1; i >= 0; i--) if (ys[i] !== null && ys[i] !== undefined) return ys[i]!;
  return null;
}

/** How far the x axis reaches: the runs' planned length, so a training run's line grows into its chart. */
function planned(runs: readonly RunData[], x: XMode): number {
  let end = 0;
  for (const run of runs) {
    const c = config(run);
    const epochs = typeof c.epochs === 'number' ? c.epochs : 0;
    const steps = typeof c.stepsPerEpoch === 'number' ? c.stepsPerEpoch : 0;
    end = Math.max(end, x === 'epoch' ? epochs : epochs * steps);
  }
  return end;
}

/** The runs' points on one shared x axis (uPlot's data layout); a run without points gets an empty line. */
function chartData(runs: readonly RunData[], key: string, x: XMode): uPlot.AlignedData {
  const tables: { index: number; table: uPlot.AlignedData }[] = [];
  runs.forEach((run, index) => {
    const s = run.series.get(key);
    if (s?.y.length) tables.push({ index, table: [s[x], s.y] });
  });
  if (tables.length === 0) return [[], ...runs.map(() => [])];
  const joined = tables.length === 1 ? tables[0].table : uPlot.join(tables.map((t) => t.table));
  const xs = joined[0];
  const columns: (number | null | undefined)[][] = runs.map(() => new Array<null>(xs.length).fill(null));
  tables.forEach((t, k) => {
    columns[t.index] = Array.from(joined[k + 1] as ArrayLike<number | null | undefined>);
  });
  return [Array.from(xs as ArrayLike<number>), ...columns];
}

export class ChartGrid {
  private readonly cards = new Map<string, Card>();
  private readonly resize: ResizeObserver;

  constructor(private readonly container: HTMLElement) {
    this.resize = new ResizeObserver(() => {
      for (const card of this.cards.values()) card.plot?.setSize({ width: this.width(card), height: HEIGHT });
    });
    this.resize.observe(container);
  }

  /** Draws the selected runs' lines (in list order). */
  update(runs: readonly RunData[], x: XMode): void {
    const keys = chartKeys(runs);
    for (const [key, card] of this.cards)
      if (!keys.includes(key)) {
        card.plot?.destroy();
        card.el.remove();
        this.cards.delete(key);
      }
    for (const key of keys) this.draw(this.card(key), key, runs, x);
    // In the order of chartKeys (the usual four first), whenever a chart came or went.
    const els = keys.map((k) => this.cards.get(k)!.el);
    if (els.some((el, i) => this.container.children[i] !== el)) this.container.append(...els);
  }

  /** The points each chart holds, per line, for the tests: how many values are not gaps. */
  pointCounts(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [key, card] of this.cards) {
      const plot = card.plot;
      if (!plot) continue;
      out[key] = {};
      plot.series.forEach((s, i) => {
        if (i > 0) out[key][String(s.label)] = (plot.data[i] as (number | null)[]).filter((v) => v !== null && v !== undefined).length;
      });
    }
    return out;
  }

  private card(key: string): Card {
    const existing = this.cards.get(key);
    if (existing) return existing;
    const el = document.createElement('section');
    el.className = 'chart panel';
    el.dataset.key = key;
    const title = document.createElement('h3');
    title.textContent = TITLES[key] ?? key;
    const code = document.createElement('code');
    code.textContent = key;
    title.append(' ', code);
    const body = document.createElement('div');
    const empty = document.createElement('p');
    empty.className = 'muted empty';
    el.append(title, body, empty);
    this.container.append(el);
    const card = { el, body, empty, plot: undefined, signature: '' };
    this.cards.set(key, card);
    return card;
  }

  private width(card: Card): number {
    return Math.max(200, card.el.clientWidth - 24);
  }

  private draw(card: Card, key: string, runs: readonly RunData[], x: XMode): void {
    const data = chartData(runs, key, x);
    const points = data[0].length;
    card.empty.textContent =
      runs.length === 0 ? 'Tick a run to plot it.' : points === 0 ? (key.startsWith('val_') ? 'No validation yet.' : 'No points yet.') : '';
    card.empty.hidden = points > 0;
    const end = planned(runs, x);
    const signature = `${x}|${end}|${runs.map((r) => `${r.name}:${r.color}`).join('|')}`;
    if (card.plot && card.signature === signature) {
      card.plot.setData(data);
      return;
    }
    card.plot?.destroy();
    card.signature = signature;
    const axis = { stroke: '#656d76', grid: { stroke: '#eaeef2', width: 1 }, ticks: { stroke: '#d0d7de', width: 1 } };
    card.plot = new uPlot(
      {
        width: this.width(card),
        height: HEIGHT,
        scales: { x: { time: false, range: (_u, _min, max) => [0, Math.max(max, end) || 1] } },
        cursor: { sync: { key: 'runs' }, points: { size: 7 } },
        legend: { live: true },
        axes: [
          { ...axis, label: x === 'epoch' ? 'epoch' : 'step', labelSize: 20 },
          { ...axis, size: 56, values: (_u, ticks) => ticks.map((t) => format(t)) },
        ],
        series: [
          { label: x, value: (_u, v, _i, idx) => (idx === null ? 'last' : format(v)) },
          ...runs.map((run) => ({
            label: run.name,
            stroke: run.color,
            width: 1.75,
            spanGaps: true,
            points: { size: 5, fill: run.color, stroke: run.color },
            value: (u: uPlot, v: number | null, i: number, idx: number | null) => format(idx === null ? lastValue(u, i) : v),
          })),
        ],
      },
      data,
      card.body,
    );
  }
}
