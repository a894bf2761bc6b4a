// The focused run's panel: its status and results, its settings, its files, and the pictures
// strata train wrote (reloaded when the run's files change: they are rewritten under the same
// names). Everything from the files is set as text, never as HTML.
import { ago, badge } from './run-list.js';
import { config, type RunData } from './store.js';

const PICTURES: [file: string, caption: string][] = [
  ['curves.png', 'Loss and accuracy per epoch'],
  ['confusion.png', 'Confusion matrix on the test set'],
  ['mistakes.png', 'Misclassified test images'],
  ['filters.png', "The first layer's filters"],
];
const LINKS = ['report.html', 'history.csv', 'history.json', 'live.jsonl', 'classes.json', 'model.json'];

const LABELS: Record<string, string> = {
  model: 'Model',
  dataset: 'Dataset',
  optimizer: 'Optimizer',
  learningRate: 'Learning rate',
  batchSize: 'Batch size',
  epochs: 'Epochs',
  validationSplit: 'Validation split',
  backend: 'Backend',
  seed: 'Seed',
  limit: 'Limit',
  trainSamples: 'Training samples',
  validationSamples: 'Validation samples',
  testSamples: 'Test samples',
  stepsPerEpoch: 'Steps per epoch',
  parameters: 'Parameters',
  classes: 'Classes',
  strata: 'Strata version',
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

const fileUrl = (run: RunData, file: string) => `/api/runs/${encodeURIComponent(run.name)}/${encodeURIComponent(file)}`;

const show = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en') : String(Number(v.toPrecision(6)))) : String(v));

/** Headline numbers: the last epoch's logs and the test results. */
function results(run: RunData): HTMLElement {
  const box = el('div', 'stats');
  const add = (label: string, v: number | undefined, percent: boolean) => {
    if (v === undefined) return;
    const stat = el('div', 'stat');
    stat.append(el('span', 'value', percent ? `${(v * 100).toFixed(2)} %` : v.toFixed(4)), el('span', 'label muted', label));
    box.append(stat);
  };
  const logs = run.lastEpoch?.logs ?? {};
  add('test accuracy', run.test?.accuracy, true);
  add('val accuracy', logs.val_accuracy, true);
  add('accuracy', logs.accuracy, true);
  add('test loss', run.test?.loss, false);
  add('val loss', logs.val_loss, false);
  add('loss', logs.loss, false);
  return box;
}

function progress(run: RunData): string {
  const c = config(run);
  const parts: string[] = [];
  if (run.firstStart) parts.push(`started ${new Date(run.firstStart).toLocaleString()}`);
  const b = run.lastBatch;
  if (run.summary?.status === 'training' && b && typeof c.epochs === 'number')
    parts.push(`epoch ${b.epoch + 1}/${c.epochs}, step ${b.batch + 1}${typeof c.stepsPerEpoch === 'number' ? `/${c.stepsPerEpoch}` : ''}`);
  if (run.trainSeconds > 0) parts.push(`${run.trainSeconds.toFixed(1)} s of training`);
  if (run.summary) parts.push(`updated ${ago(run.summary.modified)}`);
  if (run.end?.error) parts.push(`error: ${run.end.error}`);
  return parts.join(' · ');
}

/** The panel: rebuilt when the run, its files or settings change; otherwise only its numbers are (pictures are not fetched again). */
export class DetailsPanel {
  private key = '';
  private progressEl: HTMLElement | undefined;
  private statsEl: HTMLElement | undefined;

  constructor(private readonly panel: HTMLElement) {}

  render(run: RunData | undefined): void {
    const key = run ? JSON.stringify([run.name, run.summary?.modified, run.summary?.files, run.summary?.status, config(run)]) : '';
    if (key === this.key && run && this.progressEl && this.statsEl) {
      this.progressEl.textContent = progress(run);
      const stats = results(run);
      this.statsEl.replaceWith(stats);
      this.statsEl = stats;
      return;
    }
    this.key = key;
    this.build(run);
  }

  private build(run: RunData | undefined): void {
    const panel = this.panel;
    panel.replaceChildren();
    if (!run) {
      panel.append(el('p', 'muted', 'Click a run’s name to see its settings and pictures.'));
      return;
    }
    const head = el('div', 'details-head');
    const status = el('span');
    badge(status, run.summary?.status);
    head.append(el('h2', undefined, run.name), status);
    const files = run.summary?.files ?? [];
    if (files.includes('report.html')) {
      const report = el('a', 'report-link', 'Open the report');
      report.href = fileUrl(run, 'report.html');
      report.target = '_blank';
      head.append(report);
    }
    this.progressEl = el('p', 'muted progress', progress(run));
    this.statsEl = results(run);
    panel.append(head, this.progressEl, this.statsEl);

    const columns = el('div', 'details-columns');
    const table = el('table', 'config');
    const c = config(run);
    const keys = [...Object.keys(LABELS).filter((k) => k in c), ...Object.keys(c).filter((k) => !(k in LABELS))];
    for (const key of keys) {
      const tr = el('tr');
      tr.append(el('th', undefined, LABELS[key] ?? key), el('td', undefined, show(c[key])));
      table.append(tr);
    }
    const links = el('ul', 'files');
    for (const file of LINKS.filter((f) => files.includes(f))) {
      const a = el('a', undefined, file);
      a.href = fileUrl(run, file);
      a.target = '_blank';
      const li = el('li');
      li.append(a);
      links.append(li);
    }
    const left = el('div');
    left.append(
      el('h3', undefined, 'Settings'),
      keys.length ? table : el('p', 'muted', 'No settings recorded.'),
      el('h3', undefined, 'Files'),
      links,
    );

    const pictures = el('div', 'pictures');
    // The listing's time changes whenever a file is rewritten: a new address makes the browser fetch it again.
    const version = Math.round(run.summary?.modified ?? 0);
    for (const [file, caption] of PICTURES.filter(([f]) => files.includes(f))) {
      const figure = el('figure');
      const a = el('a');
      a.href = `${fileUrl(run, file)}?v=${version}`;
      a.target = '_blank';
      const img = el('img');
      img.src = `${fileUrl(run, file)}?v=${version}`;
      img.alt = caption;
      a.append(img);
      figure.append(a, el('figcaption', 'muted', caption));
      pictures.append(figure);
    }
    if (!pictures.children.length)
      pictures.append(el('p', 'muted', run.summary?.status === 'training' ? 'Pictures appear when training ends.' : 'No pictures in this run.'));
    columns.append(left, pictures);
    panel.append(columns);
  }
}
