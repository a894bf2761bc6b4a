// `npm run bench:browser`: Strata's browser bundle and tfjs 4.22 with @tensorflow/tfjs-backend-wasm
// in one headless Chromium page (bench/browser/index.html, served from this repository, cross-origin
// isolated), alternating the two round by round on the same workloads (bench/browser/harness.ts),
// and the same Strata MLP step in this Node process on the native backend for comparison. Then,
// in the same page and rounds, Strata's webgpu backend against @tensorflow/tfjs-backend-webgpu on
// the MLP training step and the convnet inference: time, and the dispatches, submits and bytes
// per step that the page's GPU meter counts for both alike (Note [Counting GPU work in the page]
// in harness.ts). Nothing here assumes a software adapter: on a machine with a GPU the same run
// measures it (the header names the adapter the page got). Prints tables of medians and ratios;
// writes bench/results/browser-latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import * as st from '../dist/index.js';
import { chromiumMissing, launchChromium, openPage } from '../test/browser/chromium.js';
import { serveStatic } from '../test/browser/server.js';
import {
  BATCH,
  GPU_BATCHES,
  GPU_WORKLOADS,
  type GpuCounts,
  type GpuMeasurement,
  type GpuWorkload,
  measureStrata,
  type MeasureOptions,
  type Measurement,
  type Strata,
  type Workload,
  WORKLOADS,
} from './browser/harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

const opts = new Command()
  .name('bench:browser')
  .description('Strata (browser bundle) vs tfjs-backend-wasm in one Chromium page, and Strata native in Node')
  .option('--rounds <n>', 'rounds; each measures every workload on both sides, in alternating order', positiveInt, 3)
  .option('--quick', 'one round with short budgets (a smoke run)', false)
  .option('--budget <seconds>', 'time aimed at per measurement', Number, 2)
  .option('--backend <name>', "Strata's backend in the page (default: the page's default, wasm once it is in the bundle)")
  .option('--not-isolated', 'serve the page without COOP/COEP (no SharedArrayBuffer: single-threaded wasm on both sides)', false)
  .option('--no-webgpu', 'skip the webgpu part (Strata webgpu vs tfjs-backend-webgpu)')
  .option('--webgpu-only', 'run only the webgpu part', false)
  .option('--gpu-budget <seconds>', 'time aimed at per webgpu measurement', Number, 3)
  .option('--steps-per-read <n>', 'webgpu training steps queued between two reads of the loss', positiveInt, 4)
  .parse()
  .opts<{
    rounds: number;
    quick: boolean;
    budget: number;
    backend?: string;
    notIsolated: boolean;
    webgpu: boolean;
    webgpuOnly: boolean;
    gpuBudget: number;
    stepsPerRead: number;
  }>();
const rounds = opts.quick ? 1 : opts.rounds;
const budgetMs = (opts.quick ? 0.5 : opts.budget) * 1000;
const runWasm = !opts.webgpuOnly;
const runWebGpu = opts.webgpu || opts.webgpuOnly;
// A webgpu "rep" is a block: stepsPerRead training steps and one read (one inference and its
// read). At least two warm-up blocks (the first compiles the pipelines, the second fills the buffer
// pools), and as many as it takes to run every batch of the data set once (harness.ts says why).
// The rep count follows from the budget, so a real GPU (milliseconds a step) times many blocks
// and a software adapter (hundreds of ms a step) the minimum.
const gpuMeasureOptions: MeasureOptions = {
  budgetMs: (opts.quick ? 1 : opts.gpuBudget) * 1000,
  warmup: 2,
  minReps: opts.quick ? 1 : 2,
  maxReps: 200,
};
const measureOptions = (w: Workload): MeasureOptions => ({
  budgetMs: w === 'sgemm' ? budgetMs / 2 : budgetMs,
  warmup: opts.quick ? 3 : w === 'sgemm' ? 10 : 5,
  minReps: opts.quick ? 3 : 5,
  maxReps: w === 'sgemm' ? 60 : 300,
});

const missing = chromiumMissing();
if (missing) {
  console.error(`bench:browser: ${missing}`);
  process.exit(1);
}

// The harness is TypeScript; the page imports it bundled (it imports nothing at run time).
await build({
  entryPoints: [path.join(here, 'browser', 'harness.ts')],
  outfile: path.join(root, 'dist', 'bench', 'browser-harness.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  logLevel: 'warning',
});

const loadBefore = os.loadavg()[0];
const log = (s: string) => process.stderr.write(`[bench:browser] ${s}\n`);
const server = await serveStatic(root, { isolated: !opts.notIsolated });
const browser = await launchChromium();
type Bench = {
  info(): Promise<PageInfo>;
  strata(w: Workload, o: MeasureOptions, threads?: number): Promise<Measurement>;
  tf(w: Workload, o: MeasureOptions, backend: string): Promise<Measurement>;
  tryTf(w: Workload, backend: string): Promise<string | undefined>;
  webgpu(): Promise<WebGpuInfo>;
  strataGpu(w: GpuWorkload, o: MeasureOptions, stepsPerRead: number): Promise<GpuMeasurement | GpuFailure>;
  tfGpu(w: GpuWorkload, o: MeasureOptions, stepsPerRead: number): Promise<GpuMeasurement | GpuFailure>;
};
interface WebGpuInfo {
  available: boolean;
  reason?: string;
  adapter?: { vendor?: string; architecture?: string; device?: string; description?: string; fallback?: boolean };
}
interface GpuFailure {
  error: string;
  stack?: string;
}
interface PageInfo {
  userAgent: string;
  hardwareConcurrency: number;
  crossOriginIsolated: boolean;
  strata: { backends: { name: string; available: boolean; active: boolean }[]; active: string; detail?: string; threads: number };
  tfjs: { version: string; backend: string; simd: boolean; multithread: boolean; threads?: number };
}
const bench = (page: Page) => ({
  info: () => page.evaluate(() => (globalThis as unknown as { bench: Bench }).bench.info()),
  strata: (w: Workload, o: MeasureOptions, threads = 0) =>
    page.evaluate(([w, o, t]) => (globalThis as unknown as { bench: Bench }).bench.strata(w, o, t || undefined), [w, o, threads] as const),
  tf: (w: Workload, o: MeasureOptions, b: string) =>
    page.evaluate(([w, o, b]) => (globalThis as unknown as { bench: Bench }).bench.tf(w, o, b), [w, o, b] as const),
  tryTf: (w: Workload, b: string) => page.evaluate(([w, b]) => (globalThis as unknown as { bench: Bench }).bench.tryTf(w, b), [w, b] as const),
  webgpu: () => page.evaluate(() => (globalThis as unknown as { bench: Bench }).bench.webgpu()),
  gpu: (side: 'strata' | 'tf', w: GpuWorkload, o: MeasureOptions, n: number) =>
    page.evaluate(
      ([side, w, o, n]) => {
        const b = (globalThis as unknown as { bench: Bench }).bench;
        return side === 'strata' ? b.strataGpu(w, o, n) : b.tfGpu(w, o, n);
      },
      [side, w, o, n] as const,
    ),
});

const query = opts.backend ? `?backend=${encodeURIComponent(opts.backend)}` : '';
const { page, errors } = await openPage(browser, `${server.url}/bench/browser/index.html${query}`);
let info: PageInfo;
const results: Record<Workload, { strata: Measurement[]; tf: Measurement[] }> = Object.fromEntries(
  WORKLOADS.map((w) => [w, { strata: [], tf: [] }]),
) as unknown as Record<Workload, { strata: Measurement[]; tf: Measurement[] }>;
const native: Measurement[] = [];
/** Strata's MLP step in the page at tfjs's thread count, when that differs from Strata's. */
const sameThreads: Measurement[] = [];
const nodeThreads = st.getNumThreads();
const nativeOne: Measurement[] = [];
let convTrainOnWasm: string | undefined;
let webgpuInfo: WebGpuInfo = { available: false, reason: 'not run (--no-webgpu)' };
const gpuResults: Record<GpuWorkload, { strata: GpuMeasurement[]; tf: GpuMeasurement[] }> = Object.fromEntries(
  GPU_WORKLOADS.map((w) => [w, { strata: [], tf: [] }]),
) as unknown as Record<GpuWorkload, { strata: GpuMeasurement[]; tf: GpuMeasurement[] }>;
/** The first error of each side on each workload; that side is not measured again. */
const gpuErrors: Record<GpuWorkload, { strata?: string; tf?: string }> = { mlpTrain: {}, convInfer: {} };
const yieldNode = () => new Promise<void>((resolve) => setImmediate(resolve));
try {
  await page.waitForFunction(() => (globalThis as { benchReady?: boolean }).benchReady === true, undefined, { timeout: 60_000 });
  const b = bench(page);
  info = await b.info();
  log(`Chromium: ${info.hardwareConcurrency} hardware threads, crossOriginIsolated ${info.crossOriginIsolated}`);
  log(
    `Strata in the page: ${info.strata.active} (${info.strata.threads} threads); tfjs ${info.tfjs.version}: ${info.tfjs.backend}, SIMD ${info.tfjs.simd}, threads ${info.tfjs.multithread} (${info.tfjs.threads ?? '?'})`,
  );
  if (runWebGpu) {
    webgpuInfo = await b.webgpu();
    log(`WebGPU in the page: ${webgpuInfo.available ? adapterName(webgpuInfo) : `unavailable: ${webgpuInfo.reason}`}`);
  }
  // tfjs-backend-wasm registers no Conv2DBackpropFilter kernel: what a training step does there.
  if (runWasm) {
    convTrainOnWasm = await b.tryTf('convTrain', 'wasm');
    log(`tfjs convnet training step on wasm: ${convTrainOnWasm ? `fails: ${convTrainOnWasm}` : 'runs'}`);
  }
  const tfBackend = (w: Workload) => (w === 'convTrain' && convTrainOnWasm ? 'cpu' : 'wasm');
  for (let r = 0; r < rounds; r++) {
    for (const w of runWasm ? WORKLOADS : []) {
      const o = measureOptions(w);
      // Alternate which side goes first, so that neither always follows the other's garbage.
      const sides = r % 2 === 0 ? (['strata', 'tf'] as const) : (['tf', 'strata'] as const);
      for (const side of sides) {
        // tfjs's cpu kernels stand in for the step tfjs-backend-wasm cannot run: tens of seconds a
        // step on this kind of machine, so measured once (first round, 1 warm-up step, 3 timed).
        const fallback = side === 'tf' && tfBackend(w) !== 'wasm';
        if (fallback && r > 0) continue;
        log(`round ${r + 1}/${rounds}: ${w} ${side === 'tf' ? `tfjs (${tfBackend(w)})` : 'Strata'}`);
        const m = side === 'tf' ? await b.tf(w, fallback ? { ...o, warmup: 1, minReps: 3, maxReps: 3 } : o, tfBackend(w)) : await b.strata(w, o);
        results[w][side].push(m);
      }
      if (w === 'mlpTrain' && info.tfjs.threads && info.tfjs.threads !== info.strata.threads) {
        log(`round ${r + 1}/${rounds}: mlpTrain Strata at ${info.tfjs.threads} thread(s), as tfjs`);
        sameThreads.push(await b.strata(w, o, info.tfjs.threads));
      }
      if (w === 'mlpTrain') {
        // The same Strata step in this Node process on the native backend (the page is idle meanwhile).
        log(`round ${r + 1}/${rounds}: mlpTrain Strata native in Node`);
        native.push(await measureStrata(st as unknown as Strata, 'mlpTrain', o, yieldNode, 'native'));
        if (nodeThreads > 1) {
          // One thread as well: OpenMP's barriers suffer most when other processes take the cores.
          log(`round ${r + 1}/${rounds}: mlpTrain Strata native in Node, 1 thread`);
          st.setNumThreads(1);
          nativeOne.push(await measureStrata(st as unknown as Strata, 'mlpTrain', o, yieldNode, 'native'));
          st.setNumThreads(nodeThreads);
        }
      }
    }
    for (const w of webgpuInfo.available ? GPU_WORKLOADS : []) {
      const sides = r % 2 === 0 ? (['strata', 'tf'] as const) : (['tf', 'strata'] as const);
      for (const side of sides) {
        if (gpuErrors[w][side]) continue;
        log(`round ${r + 1}/${rounds}: ${w} ${side === 'tf' ? 'tfjs (webgpu)' : 'Strata (webgpu)'}`);
        const m = await b.gpu(side, w, gpuMeasureOptions, opts.stepsPerRead);
        if ('error' in m) {
          gpuErrors[w][side] = m.error;
          log(`${w} ${side === 'tf' ? 'tfjs' : 'Strata'} on webgpu failed: ${m.error}${m.stack ? `\n${m.stack}` : ''}`);
        } else gpuResults[w][side].push(m);
      }
    }
  }
} finally {
  await page.close();
  await browser.close();
  await server.close();
}
if (errors.length) log(`page errors: ${errors.join(' | ')}`);

// ---------------------------------------------------------------------------------------------
// The table: medians over rounds of each round's median step; ratios per round too.

const med = (xs: number[]): number => {
  const s = xs.slice().sort((a, c) => a - c);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const ms = (m: Measurement[]) => med(m.map((x) => x.ms));
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const perRound = (a: Measurement[], c: Measurement[]) =>
  a
    .slice(0, c.length)
    .map((x, i) => (x.ms / c[i].ms).toFixed(2))
    .join(' / ');
const strataName = `Strata (${results.mlpTrain.strata[0]?.backend ?? '-'})`;
const best = (m: Measurement[]) => Math.min(...m.map((x) => x.min));
const bestCell = (a: Measurement[], c: Measurement[]) => `${fmt(best(a))} / ${fmt(best(c))} ms`;
const lines: string[] = [];
if (runWasm)
  lines.push(`| benchmark | ${strataName} | tfjs 4.22 (wasm) | Strata / tfjs | per round | fastest steps |`, '| --- | --- | --- | --- | --- | --- |');
const labels: Record<Workload, string> = {
  mlpTrain: `MLP 784-512-10 training step, batch ${BATCH}`,
  convTrain: `Keras-book convnet training step, batch ${BATCH}`,
  convInfer: `Keras-book convnet inference, batch ${BATCH}`,
  sgemm: 'sgemm 256³',
};
const row = (label: string, s: Measurement[], t: Measurement[], sCell: string, tCell: string) =>
  lines.push(`| ${label} | ${sCell} | ${tCell} | ${(ms(s) / ms(t)).toFixed(2)} | ${perRound(s, t)} | ${bestCell(s, t)} |`);
for (const w of runWasm ? WORKLOADS : []) {
  const s = results[w].strata,
    t = results[w].tf;
  let sCell = `${fmt(ms(s))} ms`,
    tCell = `${fmt(ms(t))} ms`;
  if (w === 'sgemm') {
    const gf = (m: Measurement[]) => (2 * 256 ** 3) / (ms(m) * 1e6);
    sCell += ` (${fmt(gf(s))} GFLOP/s)`;
    tCell += ` (${fmt(gf(t))} GFLOP/s)`;
  }
  if (w === 'convInfer') {
    const ips = (m: Measurement[]) => (BATCH * 1000) / ms(m);
    sCell += ` (${Math.round(ips(s)).toLocaleString('en-US')} img/s)`;
    tCell += ` (${Math.round(ips(t)).toLocaleString('en-US')} img/s)`;
  }
  if (w === 'convTrain' && t[0]?.backend !== 'wasm') tCell = `fails on wasm; ${tCell} on tfjs's ${t[0]?.backend} backend (round 1)`;
  row(labels[w], s, t, sCell, tCell);
  if (w === 'mlpTrain' && sameThreads.length) {
    row(`the same, Strata at tfjs's ${info!.tfjs.threads} thread(s)`, sameThreads, t, `${fmt(ms(sameThreads))} ms`, `${fmt(ms(t))} ms`);
  }
}
const inPage = results.mlpTrain.strata;
if (runWasm)
  lines.push(
    '',
    `| the same MLP step | ${strataName} in Chromium | Strata (native) in Node | page / Node | per round | fastest steps |`,
    '| --- | --- | --- | --- | --- | --- |',
    `| MLP 784-512-10 training step, batch ${BATCH} | ${fmt(ms(inPage))} ms | ${fmt(ms(native))} ms | ${(ms(inPage) / ms(native)).toFixed(2)} | ${perRound(inPage, native)} | ${bestCell(inPage, native)} |`,
  );
if (runWasm && nativeOne.length && sameThreads.length) {
  lines.push(
    `| the same, both on 1 thread | ${fmt(ms(sameThreads))} ms | ${fmt(ms(nativeOne))} ms | ${(ms(sameThreads) / ms(nativeOne)).toFixed(2)} | ${perRound(sameThreads, nativeOne)} | ${bestCell(sameThreads, nativeOne)} |`,
  );
}

// The webgpu table: Strata webgpu against tfjs-backend-webgpu, with the page meter's counts.
const gpuLines: string[] = [];
const gpuLabels: Record<GpuWorkload, string> = {
  mlpTrain: `MLP 784-512-10 training step, batch ${BATCH} (${opts.stepsPerRead} steps per read)`,
  convInfer: `Keras-book convnet inference, batch ${BATCH} (a read each)`,
};
const count = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));
const bytes = (v: number) => (v >= 2 ** 20 ? `${(v / 2 ** 20).toFixed(2)} MiB` : v >= 1024 ? `${(v / 1024).toFixed(1)} KiB` : `${Math.round(v)} B`);
/** The median over rounds of one per-step count. */
const perStep = (m: GpuMeasurement[], k: keyof GpuCounts) => med(m.map((x) => x.perStep[k]));
const upDown = (m: GpuMeasurement[]) => {
  const uniforms = perStep(m, 'uniformBytesUp');
  return `${bytes(perStep(m, 'bytesUp'))}${uniforms ? ` (+${bytes(uniforms)} uniforms)` : ''} / ${bytes(perStep(m, 'bytesDown'))}`;
};
if (runWebGpu) {
  gpuLines.push(
    '| webgpu benchmark | Strata ms | tfjs ms | Strata / tfjs | per round | Strata dispatches/step | tfjs dispatches/step | submits/step (Strata / tfjs) | bytes up / down per step, Strata | bytes up / down per step, tfjs |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const w of GPU_WORKLOADS) {
    const s = gpuResults[w].strata,
      t = gpuResults[w].tf;
    if (!webgpuInfo.available) {
      gpuLines.push(`| ${gpuLabels[w]} | not run: ${webgpuInfo.reason} | | | | | | | | |`);
      continue;
    }
    const fail = (side: 'strata' | 'tf') => `fails: ${gpuErrors[w][side]?.replaceAll('|', '\\|').replaceAll('\n', ' ')}`;
    const sMs = s.length ? `${fmt(ms(s))} ms` : fail('strata'),
      tMs = t.length ? `${fmt(ms(t))} ms` : fail('tf');
    const both = s.length > 0 && t.length > 0;
    gpuLines.push(
      `| ${gpuLabels[w]} | ${sMs} | ${tMs} | ${both ? (ms(s) / ms(t)).toFixed(2) : '-'} | ${both ? perRound(s, t) : '-'} | ${s.length ? count(perStep(s, 'dispatches')) : '-'} | ${t.length ? count(perStep(t, 'dispatches')) : '-'} | ${s.length ? count(perStep(s, 'submits')) : '-'} / ${t.length ? count(perStep(t, 'submits')) : '-'} | ${s.length ? upDown(s) : '-'} | ${t.length ? upDown(t) : '-'} |`,
    );
  }
}
// Pipelines compiled during timed blocks (0 when the warm-up did all of it).
const lateCompiles = GPU_WORKLOADS.flatMap((w) =>
  (['strata', 'tf'] as const).flatMap((side) => {
    const n = gpuResults[w][side].reduce((a, m) => a + m.perStep.pipelines * m.steps, 0);
    return n ? [`${side === 'tf' ? 'tfjs' : 'Strata'} ${w}: ${n}`] : [];
  }),
);

const warmupCompiles = GPU_WORKLOADS.flatMap((w) =>
  (['strata', 'tf'] as const).flatMap((side) => {
    const m = gpuResults[w][side][0];
    return m ? [`${side === 'tf' ? 'tfjs' : 'Strata'} ${w} ${m.warmup.pipelines} in ${m.warmupSteps} steps (round 1)`] : [];
  }),
).join(', ');
const adapterText = webgpuInfo.available ? adapterName(webgpuInfo) : `unavailable: ${webgpuInfo.reason}`;
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const header = [
  `Chromium ${/Chrome\/([\d.]+)/.exec(info!.userAgent)?.[1] ?? '?'} (headless), ${cpu}, ${os.cpus().length} cores; page crossOriginIsolated: ${info!.crossOriginIsolated}`,
  ...(runWasm
    ? [
        `Strata in the page: backend ${results.mlpTrain.strata[0].backend} (${info!.strata.detail ?? `${info!.strata.threads} threads`}); in Node: native, ${nodeThreads} threads (and 1)`,
        `tfjs ${info!.tfjs.version} wasm backend: SIMD ${info!.tfjs.simd}, multithreaded ${info!.tfjs.multithread}${info!.tfjs.threads ? ` (${info!.tfjs.threads} threads)` : ''}`,
      ]
    : []),
  ...(runWebGpu ? [`WebGPU adapter in the page: ${adapterText}`] : []),
  `load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after (other processes on these cores)`,
  `${rounds} round(s), Strata and tfjs alternating (order swapped every round); each cell is the median over rounds of a round's median step; every step reads its loss/result back on both sides`,
  ...(runWasm
    ? [
        convTrainOnWasm
          ? `tfjs convnet training step on tfjs-backend-wasm: ${convTrainOnWasm}`
          : 'tfjs convnet training step on tfjs-backend-wasm: runs',
      ]
    : []),
];
const gpuNotes = [
  `webgpu: ${opts.stepsPerRead} training steps queued, then one read of the loss (await data()) ends the block; an inference reads its logits every step; ms are per step.`,
  `Dispatches, submits and bytes are counted by the page wrapping the WebGPU API for both libraries alike (compute dispatches, queue submits, writeBuffer and write-mapped bytes up, read-mapped bytes down), per step, over the timed blocks; the warm-up first runs each of the data set's ${GPU_BATCHES} batches at least once.`,
  `Pipelines compiled in the warm-up: ${warmupCompiles || 'none measured'}.`,
  `On a software adapter the times are a proxy only; dispatches, submits and bytes are what carry to a real GPU.${lateCompiles.length ? ` Pipelines compiled during timed blocks: ${lateCompiles.join(', ')}.` : ''}`,
];
console.log(header.join('\n'));
if (lines.length) console.log(`\n${lines.join('\n')}`);
if (runWasm) {
  console.log(
    `\nMLP step Strata / tfjs-backend-wasm: ${(ms(inPage) / ms(results.mlpTrain.tf)).toFixed(2)} (target <= 0.33, goal 0.2); Strata page / Strata native: ${(ms(inPage) / ms(native)).toFixed(2)} (goal <= 3)`,
  );
}
if (runWebGpu) console.log(`\n${gpuLines.join('\n')}\n\n${gpuNotes.join('\n')}`);

const out = path.join(here, 'results');
mkdirSync(out, { recursive: true });
const report = {
  date: new Date().toISOString(),
  machine: { cpu, cores: os.cpus().length },
  info: info!,
  convTrainOnWasm: convTrainOnWasm ?? null,
  results,
  sameThreads,
  native,
  webgpu: { info: webgpuInfo, stepsPerRead: opts.stepsPerRead, options: gpuMeasureOptions, results: gpuResults, errors: gpuErrors },
};
writeFileSync(path.join(out, 'browser-latest.json'), JSON.stringify(report, null, 2) + '\n');
log(`results: ${path.relative(process.cwd(), path.join(out, 'browser-latest.json'))}`);

function adapterName(i: WebGpuInfo): string {
  const a = i.adapter ?? {};
  const name = [a.vendor, a.architecture, a.device].filter(Boolean).join(' ') + (a.description ? ` (${a.description})` : '');
  return `${name || 'an unnamed adapter'}${a.fallback ? ', a fallback (software) adapter' : ''}`;
}
