// The runs dashboard (/runs/): every run of the served folder, its curves growing while it
// trains, runs overlaid for comparison, and a run's settings and pictures. It needs no Strata in
// the page: the data are the runs' live logs, streamed by the server (src/node/serve/runs-api.ts).
import 'uplot/dist/uPlot.min.css';
import './runs.css';
import type { RunSummary } from '../../node/serve/live-records.js';
import { ChartGrid, type XMode } from './charts.js';
import { DetailsPanel } from './details.js';
import { RunList } from './run-list.js';
import { config, ingest, logEnded, newRun, resetRun, type RunData } from './store.js';
import { RunStream, watchRunList } from './streams.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const runs = new Map<string, RunData>();
const streams = new Map<string, RunStream>();
let order: string[] = [];
const selected = new Set<string>();
let focused: string | undefined;
let xMode: XMode = 'epoch';
let listed = false;
/** ?run=NAME (what strata train --dashboard prints): focused when it appears, which may be after the page opened. */
let asked = new URLSearchParams(location.search).get('run') ?? undefined;

const charts = new ChartGrid($('charts'));
const details = new DetailsPanel($('details'));
const list = new RunList($<HTMLUListElement>('run-list'), {
  toggle: (name, on) => {
    if (on) select(name);
    else selected.delete(name);
    wantStreams();
    schedule();
  },
  focus: (name) => {
    focused = name;
    select(name);
    wantStreams();
    schedule();
  },
});

function select(name: string): void {
  selected.add(name);
}

/** Redraws at the next frame: records can arrive many at a time (a replay), and one drawing covers them all. */
let frame = 0;
function schedule(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    render();
  });
}

function render(): void {
  const all = order.map((n) => runs.get(n)!);
  list.render(all, selected, focused);
  charts.update(
    all.filter((r) => selected.has(r.name)),
    xMode,
  );
  details.render(focused ? runs.get(focused) : undefined);
  $('no-runs').hidden = !listed || all.length > 0;
  $('hint').hidden = all.length === 0;
}

/**
 * Keeps a stream open for each run that is plotted or focused, until its log has been replayed
 * and it is not training; closes the others.
 */
function wantStreams(): void {
  for (const [name, run] of runs) {
    const wanted = selected.has(name) || focused === name;
    const stream = streams.get(name);
    const done = run.caughtUp && (logEnded(run) || run.summary?.status !== 'training');
    if (wanted && !done && !stream?.open) openStream(run);
    if ((!wanted || done) && stream?.open) stream.close();
  }
}

function openStream(run: RunData): void {
  let stream = streams.get(run.name);
  if (!stream) {
    stream = new RunStream(run.name, {
      onReset: () => {
        resetRun(run);
        schedule();
      },
      onRecord: (record) => {
        ingest(run, record);
        if (run.caughtUp && record.type === 'end') wantStreams();
        schedule();
      },
      onCaughtUp: () => {
        run.caughtUp = true;
        wantStreams();
        schedule();
      },
    });
    streams.set(run.name, stream);
  }
  resetRun(run);
  stream.start();
}

function onList(folder: string, summaries: RunSummary[]): void {
  $('folder').textContent = `${folder}/`;
  $('no-runs-folder').textContent = `${folder}/`;
  const first = !listed;
  listed = true;
  const names = new Set(summaries.map((s) => s.name));
  for (const name of [...runs.keys()])
    if (!names.has(name)) {
      streams.get(name)?.close();
      streams.delete(name);
      runs.delete(name);
      selected.delete(name);
      if (focused === name) focused = undefined;
    }
  for (const summary of summaries) {
    let run = runs.get(summary.name);
    const isNew = !run;
    if (!run) runs.set(summary.name, (run = newRun(summary.name)));
    const wasTraining = run.summary?.status === 'training';
    run.summary = summary;
    // A run that (re)starts training while the page is open is plotted: that is what one came to watch.
    if (!first && summary.status === 'training' && (isNew || !wasTraining)) {
      select(summary.name);
      run.caughtUp = false;
      focused ??= summary.name;
    }
  }
  // By start, newest first: rows do not jump about as runs write (the server lists by last change).
  order = summaries
    .slice()
    .sort((a, b) => b.started - a.started || a.name.localeCompare(b.name))
    .map((s) => s.name);
  if (asked && names.has(asked)) {
    select(asked);
    focused = asked;
    asked = undefined;
  } else if (first) {
    // The newest run and every one training.
    const start = order.filter((name, i) => i === 0 || runs.get(name)!.summary!.status === 'training');
    for (const name of start) select(name);
    focused = start[0];
  }
  wantStreams();
  schedule();
}

for (const input of document.querySelectorAll<HTMLInputElement>('input[name="x"]'))
  input.addEventListener('change', () => {
    xMode = input.value === 'step' ? 'step' : 'epoch';
    schedule();
  });

watchRunList(onList, (open) => {
  const el = $('connection');
  el.textContent = open ? 'live' : 'reconnecting…';
  el.className = open ? 'connection live' : 'connection offline';
});

/** For the tests and the curious: what the page holds, as plain data. */
(globalThis as { dashboard?: unknown }).dashboard = {
  state: () => ({
    runs: order.map((name) => {
      const run = runs.get(name)!;
      return {
        name,
        status: run.summary?.status,
        selected: selected.has(name),
        color: run.color,
        records: run.records,
        streaming: streams.get(name)?.open ?? false,
        config: config(run),
        points: Object.fromEntries([...run.series].map(([k, s]) => [k, s.y.length])),
        test: run.test,
      };
    }),
    focused,
    xMode,
    charts: charts.pointCounts(),
  }),
};
