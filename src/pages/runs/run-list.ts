// The list of runs beside the charts, newest first: a box to plot each one (in its colour), its
// status, what it trains on and how far it got. Rows are kept and updated in place, keyed by
// name, so a listing arriving while the user clicks never swaps a checkbox under the pointer.
import type { RunStatus } from '../../node/serve/live-records.js';
import { config, type RunData } from './store.js';

export interface ListActions {
  toggle(name: string, on: boolean): void;
  focus(name: string): void;
}

interface Row {
  li: HTMLLIElement;
  box: HTMLInputElement;
  swatch: HTMLElement;
  badge: HTMLElement;
  line: HTMLElement;
}

/** A status badge: the word, coloured by CSS (badge-<status>). */
export function badge(el: HTMLElement, status: RunStatus | undefined): void {
  const s = status ?? 'unknown';
  el.className = `badge badge-${s}`;
  el.textContent = s;
}

/** "3 min ago" */
export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, (now - ms) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400 * 2) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

const pct = (v: number | undefined) => (v === undefined ? undefined : `${(v * 100).toFixed(1)} %`);

/** The row's second line: model and data, then progress while training or the result after. */
function summaryLine(run: RunData): string {
  const c = config(run);
  const parts = [c.model, c.dataset].filter((p) => typeof p === 'string') as string[];
  const epochs = typeof c.epochs === 'number' ? c.epochs : undefined;
  if (run.summary?.status === 'training') {
    const done = run.lastEpoch ? run.lastEpoch.epoch + 1 : 0;
    if (epochs) parts.push(`epoch ${Math.min(done + 1, epochs)}/${epochs}`);
  } else {
    const result = pct(run.test?.accuracy) ?? pct(run.lastEpoch?.logs.val_accuracy);
    if (result) parts.push(`${run.test ? 'test' : 'val'} acc ${result}`);
    else if (epochs) parts.push(`${epochs} epoch${epochs === 1 ? '' : 's'}`);
  }
  if (run.summary) parts.push(ago(run.summary.modified));
  return parts.join(' · ');
}

export class RunList {
  private readonly rows = new Map<string, Row>();

  constructor(
    private readonly ul: HTMLUListElement,
    private readonly actions: ListActions,
  ) {}

  render(runs: readonly RunData[], selected: ReadonlySet<string>, focused: string | undefined): void {
    for (const [name, row] of this.rows)
      if (!runs.some((r) => r.name === name)) {
        row.li.remove();
        this.rows.delete(name);
      }
    runs.forEach((run, i) => {
      const row = this.rows.get(run.name) ?? this.row(run);
      row.box.checked = selected.has(run.name);
      row.swatch.style.background = run.color;
      row.li.classList.toggle('selected', selected.has(run.name));
      row.li.classList.toggle('focused', focused === run.name);
      badge(row.badge, run.summary?.status);
      row.line.textContent = summaryLine(run);
      if (this.ul.children[i] !== row.li) this.ul.insertBefore(row.li, this.ul.children[i] ?? null);
    });
  }

  private row(run: RunData): Row {
    const li = document.createElement('li');
    li.className = 'run';
    li.dataset.name = run.name;
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.title = 'Plot this run';
    box.setAttribute('aria-label', `Plot ${run.name}`);
    box.addEventListener('change', () => this.actions.toggle(run.name, box.checked));
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    const name = document.createElement('button');
    name.type = 'button';
    name.className = 'name';
    name.textContent = run.name;
    name.title = 'Show its settings and pictures';
    name.addEventListener('click', () => this.actions.focus(run.name));
    const badgeEl = document.createElement('span');
    const line = document.createElement('div');
    line.className = 'line muted';
    const head = document.createElement('div');
    head.className = 'head';
    head.append(box, swatch, name, badgeEl);
    li.append(head, line);
    const row = { li, box, swatch, badge: badgeEl, line };
    this.rows.set(run.name, row);
    return row;
  }
}
