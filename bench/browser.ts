// `npm run bench:browser`: Strata's browser bundle and tfjs 4.22 with @tensorflow/tfjs-backend-wasm
// in one headless Chromium page (bench/browser/index.html, served from this repository, cross-origin
// isolated), alternating the two round by round on the same workloads (bench/browser/harness.ts),
// and the same Strata MLP step in this Node process on the native backend for comparison.
// Prints one table of medians and ratios; writes bench/results/browser-latest.json.
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
import { BATCH, measureStrata, type MeasureOptions, type Measurement, type Strata, type Workload, WORKLOADS } from './browser/harness.js';

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
  .parse()
  .opts<{ rounds: number; quick: boolean; budget: number; backend?: string; notIsolated: boolean }>();
const rounds = opts.quick ? 1 : opts.rounds;
const budgetMs = (opts.quick ? 0.5 : opts.budget) * 1000;
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
};
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
const yieldNode = () => new Promise<void>((resolve) => setImmediate(resolve));
try {
  await page.waitForFunction(() => (globalThis as { benchReady?: boolean }).benchReady === true, undefined, { timeout: 60_000 });
  const b = bench(page);
  info = await b.info();
  log(`Chromium: ${info.hardwareConcurrency} hardware threads, crossOriginIsolated ${info.crossOriginIsolated}`);
  log(
    `Strata in the page: ${info.strata.active} (${info.strata.threads} threads); tfjs ${info.tfjs.version}: ${info.tfjs.backend}, SIMD ${info.tfjs.simd}, threads ${info.tfjs.multithread} (${info.tfjs.threads ?? '?'})`,
  );
  // tfjs-backend-wasm registers no Conv2DBackpropFilter kernel: what a training step does there.
  convTrainOnWasm = await b.tryTf('convTrain', 'wasm');
  log(`tfjs convnet training step on wasm: ${convTrainOnWasm ? `fails: ${convTrainOnWasm}` : 'runs'}`);
  const tfBackend = (w: Workload) => (w === 'convTrain' && convTrainOnWasm ? 'cpu' : 'wasm');
  for (let r = 0; r < rounds; r++) {
    for (const w of WORKLOADS) {
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
const strataName = `Strata (${results.mlpTrain.strata[0].backend})`;
const best = (m: Measurement[]) => Math.min(...m.map((x) => x.min));
const bestCell = (a: Measurement[], c: Measurement[]) => `${fmt(best(a))} / ${fmt(best(c))} ms`;
const lines: string[] = [];
lines.push(`| benchmark | ${strataName} | tfjs 4.22 (wasm) | Strata / tfjs | per round | fastest steps |`, '| --- | --- | --- | --- | --- | --- |');
const labels: Record<Workload, string> = {
  mlpTrain: `MLP 784-512-10 training step, batch ${BATCH}`,
  convTrain: `Keras-book convnet training step, batch ${BATCH}`,
  convInfer: `Keras-book convnet inference, batch ${BATCH}`,
  sgemm: 'sgemm 256³',
};
const row = (label: string, s: Measurement[], t: Measurement[], sCell: string, tCell: string) =>
  lines.push(`| ${label} | ${sCell} | ${tCell} | ${(ms(s) / ms(t)).toFixed(2)} | ${perRound(s, t)} | ${bestCell(s, t)} |`);
for (const w of WORKLOADS) {
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
lines.push(
  '',
  `| the same MLP step | ${strataName} in Chromium | Strata (native) in Node | page / Node | per round | fastest steps |`,
  '| --- | --- | --- | --- | --- | --- |',
  `| MLP 784-512-10 training step, batch ${BATCH} | ${fmt(ms(inPage))} ms | ${fmt(ms(native))} ms | ${(ms(inPage) / ms(native)).toFixed(2)} | ${perRound(inPage, native)} | ${bestCell(inPage, native)} |`,
);
if (nativeOne.length && sameThreads.length) {
  lines.push(
    `| the same, both on 1 thread | ${fmt(ms(sameThreads))} ms | ${fmt(ms(nativeOne))} ms | ${(ms(sameThreads) / ms(nativeOne)).toFixed(2)} | ${perRound(sameThreads, nativeOne)} | ${bestCell(sameThreads, nativeOne)} |`,
  );
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const header = [
  `Chromium ${/Chrome\/([\d.]+)/.exec(info!.userAgent)?.[1] ?? '?'} (headless), ${cpu}, ${os.cpus().length} cores; page crossOriginIsolated: ${info!.crossOriginIsolated}`,
  `Strata in the page: backend ${results.mlpTrain.strata[0].backend} (${info!.strata.detail ?? `${info!.strata.threads} threads`}); in Node: native, ${nodeThreads} threads (and 1)`,
  `tfjs ${info!.tfjs.version} wasm backend: SIMD ${info!.tfjs.simd}, multithreaded ${info!.tfjs.multithread}${info!.tfjs.threads ? ` (${info!.tfjs.threads} threads)` : ''}`,
  `load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after (other processes on these cores)`,
  `${rounds} round(s), Strata and tfjs alternating (order swapped every round); each cell is the median over rounds of a round's median step; every step reads its loss/result back on both sides`,
  convTrainOnWasm ? `tfjs convnet training step on tfjs-backend-wasm: ${convTrainOnWasm}` : 'tfjs convnet training step on tfjs-backend-wasm: runs',
];
console.log(`${header.join('\n')}\n\n${lines.join('\n')}`);
console.log(
  `\nMLP step Strata / tfjs-backend-wasm: ${(ms(inPage) / ms(results.mlpTrain.tf)).toFixed(2)} (target <= 0.33, goal 0.2); Strata page / Strata native: ${(ms(inPage) / ms(native)).toFixed(2)} (goal <= 3)`,
);

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
};
writeFileSync(path.join(out, 'browser-latest.json'), JSON.stringify(report, null, 2) + '\n');
log(`results: ${path.relative(process.cwd(), path.join(out, 'browser-latest.json'))}`);
