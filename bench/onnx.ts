// The ONNX rows: imported networks on Strata's native backend against onnxruntime-node running
// the same ONNX files on the same input with the same thread count, in alternating rounds.
// The files come from scripts/make_onnx_fixtures.py (dynamic batch axis); without them the
// section is skipped with a note.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import * as st from '../dist/index.js';
import { median, timeIt } from './measure.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ONNX_FIXTURE_DIR = path.join(here, '..', 'node_modules', '.cache', 'strata-onnx-fixtures');
export const ONNX_NETWORKS = ['resnet18', 'mobilenet_v2'] as const;
export const ONNX_BATCHES = [1, 32] as const;
/** Largest |Strata - onnxruntime| accepted on an output element: above it the two ran different computations. */
export const ONNX_TOLERANCE = 1e-3;

export interface OnnxCase {
  network: string;
  batch: number;
  threads: number;
  /** Median over the rounds of each side's median time per call, ms. */
  strataMs: number;
  ortMs: number;
  /** strataMs / ortMs. */
  ratio: number;
  /** Each round's median, ms. */
  rounds: { strata: number[]; ort: number[] };
  /** The first call of each side on this batch size (cold: kernels built, weights laid out), ms. */
  firstMs: { strata: number; ort: number };
  maxAbsDiff: number;
  agree: boolean;
}

export interface OnnxResult {
  ortVersion: string;
  threads: number;
  /** Seconds each side ran before the rounds. */
  warmup: number;
  cases: OnnxCase[];
  skipped?: string;
}

export interface OnnxOptions {
  rounds: number;
  /** Seconds aimed at per measurement and side in each round. */
  budget: number;
  /** Seconds each side runs before the first round (Note [Inference measured warm]). */
  warmup: number;
}

// Note [Inference measured warm]
// The rounds compare the two runtimes in their steady state, as a served model runs. Reaching it
// takes Strata longer than onnxruntime: at batch 1 on 2 cores, its first hundred or so calls of
// an imported MobileNetV2 ran at 7-25 ms against 5 ms later (V8 compiling the graph's
// JavaScript on background threads that compete with the OpenMP team, and the young generation
// growing), and a round with 2 warm-up calls caught part of it (rounds 2.46 / 1.65 / 1.67 in one
// run). So each side first runs on its own for `warmup` seconds; the first call of each (cold:
// kernels built, filters laid out) is reported beside the rounds rather than hidden.
async function warmFor(seconds: number, f: () => unknown | Promise<unknown>): Promise<void> {
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) await f();
}

const log = (msg: string) => process.stderr.write(`[onnx] ${msg}\n`);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN counts as a mismatch
  }
  return m;
}

/** The ONNX rows, or `skipped` saying why there are none. Uses Strata's current thread count for both sides. */
export async function measureOnnx(options: OnnxOptions): Promise<OnnxResult> {
  const threads = st.getNumThreads();
  const ortVersion = ort.env.versions?.common ?? 'unknown';
  const missing = ONNX_NETWORKS.map((n) => path.join(ONNX_FIXTURE_DIR, `${n}.onnx`)).filter((p) => !existsSync(p));
  if (missing.length) {
    const skipped = `ONNX rows skipped: ${missing.map((p) => path.relative(process.cwd(), p)).join(', ')} missing (run /usr/bin/python3 scripts/make_onnx_fixtures.py)`;
    log(skipped);
    return { ortVersion, threads, warmup: options.warmup, cases: [], skipped };
  }
  if (st.getBackend().name !== 'native') {
    const skipped = `ONNX rows skipped: Strata's backend is ${st.getBackend().name}, not native`;
    log(skipped);
    return { ortVersion, threads, warmup: options.warmup, cases: [], skipped };
  }
  const cases: OnnxCase[] = [];
  for (const network of ONNX_NETWORKS) {
    const file = path.join(ONNX_FIXTURE_DIR, `${network}.onnx`);
    const model = await st.onnx.load(file);
    const session = await ort.InferenceSession.create(file, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    });
    const inputName = session.inputNames[0],
      outputName = session.outputNames[0];
    for (const batch of ONNX_BATCHES) {
      const shape = [batch, 3, 224, 224];
      const x = st.randomUniform(shape);
      const xData = x.dataSync() as Float32Array;
      const feeds = { [inputName]: new ort.Tensor('float32', xData, shape) };
      const runStrata = () => (model.predict(x) as st.Tensor).dispose();
      const runOrt = async () => {
        const out = await session.run(feeds);
        for (const t of Object.values(out)) t.dispose();
      };
      // Same computation? Compare one output of each (its first call, timed) before timing.
      let t0 = performance.now();
      const y = model.predict(x) as st.Tensor;
      const ys = y.dataSync();
      const firstMs = { strata: performance.now() - t0, ort: 0 };
      y.dispose();
      t0 = performance.now();
      const ortOut = await session.run(feeds);
      firstMs.ort = performance.now() - t0;
      const diff = maxAbsDiff(ys, ortOut[outputName].data as Float32Array);
      for (const t of Object.values(ortOut)) t.dispose();
      const agree = diff <= ONNX_TOLERANCE;
      if (!agree) log(`${network} batch ${batch}: outputs differ by up to ${diff} (tolerance ${ONNX_TOLERANCE})`);
      const rounds = { strata: [] as number[], ort: [] as number[] };
      // Each round fills its time budget: capped at 30 calls, a round of MobileNetV2 at batch 1
      // lasted 0.15 s, and one slow phase of the host swung its ratio from 1.1 to 1.7.
      const timing = { warmup: 2, budgetSeconds: options.budget, minReps: 3, maxReps: 1000 };
      log(`${network} batch ${batch}: warming each side for ${options.warmup} s`);
      await warmFor(options.warmup, runStrata);
      await warmFor(options.warmup, runOrt);
      for (let r = 0; r < options.rounds; r++) {
        log(`round ${r + 1}/${options.rounds}: ${network} batch ${batch}`);
        rounds.strata.push((await timeIt(runStrata, timing)).median);
        rounds.ort.push((await timeIt(runOrt, timing)).median);
      }
      x.dispose();
      const strataMs = median(rounds.strata),
        ortMs = median(rounds.ort);
      cases.push({ network, batch, threads, strataMs, ortMs, ratio: strataMs / ortMs, rounds, firstMs, maxAbsDiff: diff, agree });
    }
    await session.release();
  }
  return { ortVersion, threads, warmup: options.warmup, cases };
}

/** The ONNX table's lines (one per network and batch). */
export function onnxTable(result: OnnxResult): string[] {
  if (result.skipped) return [`NOTE: ${result.skipped}`];
  const header = ['network', 'batch', 'Strata ms', 'ORT ms', 'S/ORT', 'per round', 'first call S / ORT ms', 'max|diff|', 'outputs'];
  const body = result.cases.map((c) => [
    c.network,
    String(c.batch),
    c.strataMs.toFixed(2),
    c.ortMs.toFixed(2),
    c.ratio.toFixed(2),
    c.rounds.strata.map((s, i) => (s / c.rounds.ort[i]).toFixed(2)).join(' '),
    `${c.firstMs.strata.toFixed(0)} / ${c.firstMs.ort.toFixed(0)}`,
    c.maxAbsDiff.toExponential(1),
    c.agree ? 'agree' : 'DIFFER',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const numeric = new Set([1, 2, 3, 4]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    `ONNX inference: Strata ${st.version ?? ''} native vs onnxruntime-node ${result.ortVersion}, ${result.threads} thread(s) each; median of alternating rounds after ${result.warmup} s of warm-up per side`,
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
    'S/ORT = Strata time / onnxruntime time (target <= 1.5, goal <= 1.0).',
  ];
}
