// npm run bench:distributed: data-parallel training over MPI on this host. Starts
// bench/distributed-worker.ts under `mpirun -np N` for N = 1 and 2 ranks, in interleaved rounds,
// and prints one table per model (the best round of each side) with the time an allreduce of the
// model's gradients takes; writes bench/results/distributed-latest.json. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuSnapshot, otherCpuShare } from './measure.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    ranks: { type: 'string', default: '1,2' },
    models: { type: 'string', default: 'convnet,mlp' },
    steps: { type: 'string', default: '100' },
    epochs: { type: 'string', default: '3' },
    'global-batch': { type: 'string', default: '64' },
    'allreduce-calls': { type: 'string', default: '50' },
    out: { type: 'string', default: path.join(here, 'results') },
  },
});
const ROUNDS = Number(args.rounds);
const RANKS = String(args.ranks).split(',').map(Number);
const MODELS = String(args.models).split(',');

interface WorkerResult {
  model: string;
  ranks: number;
  threadsPerRank: number[];
  library: string;
  globalBatch: number;
  perRankBatch: number;
  params: number;
  gradientBytes: number;
  stepMs: number;
  imagesPerSecond: number;
  allreduceMs: number;
  allreduceShare: number;
  [key: string]: unknown;
}

// mpirun runs as root here only with --allow-run-as-root; --oversubscribe lets N exceed the
// slots it counts. --bind-to none: by default Open MPI binds each rank of a job of 1 or 2 to one
// core, so a single rank would run its 2 threads on one core (and, seeing one CPU, start one).
const mpiEnv: Record<string, string> = { OMPI_MCA_btl_vader_single_copy_mechanism: 'none' };
const env: NodeJS.ProcessEnv = { ...process.env, ...mpiEnv };
// init() splits the cores between the ranks on a host only when OMP_NUM_THREADS is unset.
const droppedOmp = env.OMP_NUM_THREADS;
delete env.OMP_NUM_THREADS;

const workerArgs = [
  '--models',
  MODELS.join(','),
  '--steps',
  String(args.steps),
  '--epochs',
  String(args.epochs),
  '--global-batch',
  String(args['global-batch']),
  '--allreduce-calls',
  String(args['allreduce-calls']),
];
const mpirunArgs = (n: number): string[] => [
  '--allow-run-as-root',
  '--oversubscribe',
  '--bind-to',
  'none',
  '-np',
  String(n),
  process.execPath,
  '--import',
  'tsx',
  path.relative(root, path.join(here, 'distributed-worker.ts')),
  ...workerArgs,
];
const shellQuote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const commandLine = (n: number): string => ['mpirun', ...mpirunArgs(n)].map(shellQuote).join(' ');

console.log(`host: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`);
console.log(
  `environment: ${Object.entries(mpiEnv)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}; OMP_NUM_THREADS unset${droppedOmp !== undefined ? ` (was ${droppedOmp}, removed for the workers)` : ''}`,
);
console.log(`command (cwd ${root}):`);
for (const n of RANKS) console.log(`  ${commandLine(n)}`);
console.log(
  `${ROUNDS} rounds of [${RANKS.map((n) => `N=${n}`).join(', ')}]; global batch ${args['global-batch']}, ${args.steps} steps per epoch, ${args.epochs} epochs timed\n`,
);

interface Run {
  round: number;
  ranks: number;
  ok: boolean;
  error?: string;
  seconds: number;
  /** Share of all CPUs other processes used during the job (0..1), null when unknown. */
  otherCpu: number | null;
  results: WorkerResult[];
}

const runs: Run[] = [];
const started = Date.now();
for (let round = 1; round <= ROUNDS; round++) {
  for (const n of RANKS) {
    process.stderr.write(`round ${round}/${ROUNDS}, N=${n} ...\n`);
    const t0 = Date.now();
    const cpu0 = cpuSnapshot();
    const child = spawnSync('mpirun', mpirunArgs(n), {
      cwd: root,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 240_000,
      maxBuffer: 16 * 2 ** 20,
    });
    const seconds = (Date.now() - t0) / 1000;
    // mpirun's ranks are its waited-for children, so their CPU time is in ours once it returns.
    const otherCpu = otherCpuShare(cpu0, cpuSnapshot());
    const results = (child.stdout ?? '')
      .split('\n')
      .filter((l) => l.startsWith('RESULT '))
      .map((l) => JSON.parse(l.slice('RESULT '.length)) as WorkerResult);
    const failed = child.error ? String(child.error) : child.status !== 0 ? `exit status ${child.status ?? child.signal}` : undefined;
    if (failed) process.stderr.write(`  N=${n} failed: ${failed}\n${child.stdout ?? ''}\n`);
    runs.push({ round, ranks: n, ok: !failed && results.length === MODELS.length, ...(failed ? { error: failed } : {}), seconds, otherCpu, results });
  }
}
const totalSeconds = (Date.now() - started) / 1000;

// The best (fastest) round of each (model, ranks), and every round's step time for the note.
interface Row {
  model: string;
  ranks: number;
  best: WorkerResult | undefined;
  bestRound: number | undefined;
  allSteps: (number | undefined)[];
}
const rows: Row[] = [];
for (const model of MODELS)
  for (const n of RANKS) {
    const perRound = runs.filter((r) => r.ranks === n).map((r) => ({ round: r.round, res: r.results.find((x) => x.model === model) }));
    let best: WorkerResult | undefined, bestRound: number | undefined;
    for (const { round, res } of perRound)
      if (res && (!best || res.stepMs < best.stepMs)) {
        best = res;
        bestRound = round;
      }
    rows.push({ model, ranks: n, best, bestRound, allSteps: perRound.map((p) => p.res?.stepMs) });
  }

const threadsText = (t: number[]): string => (t.every((v) => v === t[0]) ? String(t[0]) : t.join(','));
const header = ['model', 'ranks', 'threads/rank', 'step ms', 'images/s', 'allreduce ms/step', 'allreduce share', 'speedup vs 1 rank'];
const table: string[][] = rows.map((row) => {
  const b = row.best;
  if (!b) return [row.model, String(row.ranks), '-', 'failed', '-', '-', '-', '-'];
  const one = rows.find((r) => r.model === row.model && r.ranks === 1)?.best;
  return [
    row.model,
    String(row.ranks),
    threadsText(b.threadsPerRank),
    b.stepMs.toFixed(2),
    b.imagesPerSecond.toFixed(0),
    b.allreduceMs.toFixed(3),
    `${(b.allreduceShare * 100).toFixed(1)} %`,
    one ? `${(one.stepMs / b.stepMs).toFixed(2)}x` : '-',
  ];
});
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
console.log(line(header));
console.log(`| ${widths.map((w, i) => (i < 3 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`);
for (const r of table) console.log(line(r));

console.log('\nNotes:');
for (const row of rows) {
  const b = row.best;
  const steps = row.allSteps.map((s) => (s === undefined ? 'failed' : s.toFixed(2))).join(' / ');
  console.log(
    `- ${row.model}, N=${row.ranks}: step ms per round ${steps} (best: round ${row.bestRound ?? '-'})` +
      (b ? `; per-rank batch ${b.perRankBatch}; ${b.params} parameters (${(b.gradientBytes / 2 ** 20).toFixed(2)} MiB of float32 gradients)` : ''),
  );
}
for (const n of RANKS) {
  const expected = Math.max(1, Math.floor(os.cpus().length / n));
  const seen = new Set(runs.filter((r) => r.ranks === n).flatMap((r) => r.results.flatMap((x) => x.threadsPerRank)));
  if ([...seen].some((t) => t !== expected))
    console.log(`- N=${n}: threads per rank ${[...seen].join(', ')}, expected floor(${os.cpus().length} / ${n}) = ${expected}`);
}
console.log(
  '- step ms: median of the times between consecutive onBatchEnd calls over all timed epochs; images/s: global batch / step time; ' +
    'allreduce ms/step: median of in-place allreduces of one float32 tensor with as many elements as the trainable parameters ' +
    '(fit sends them in buckets, overlapped with the backward pass, so this is the communication cost, not necessarily time added to a step); ' +
    'share = allreduce / step; speedup = best 1-rank step time / this step time (same global batch).',
);
const failures = runs.filter((r) => !r.ok);
if (failures.length)
  console.log(`- failed jobs: ${failures.map((f) => `round ${f.round} N=${f.ranks} (${f.error ?? 'missing results'})`).join('; ')}`);
const pct = (v: number | null): string => (v === null ? '?' : `${(v * 100).toFixed(0)} %`);
console.log(
  `- other processes' share of the CPUs during each job (noise): ${runs.map((r) => `round ${r.round} N=${r.ranks} ${pct(r.otherCpu)}`).join(', ')}`,
);
console.log(`- total ${totalSeconds.toFixed(0)} s (jobs: ${runs.map((r) => `${r.seconds.toFixed(0)} s`).join(', ')})`);

const report = {
  date: new Date().toISOString(),
  host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: os.totalmem() / 2 ** 30, node: process.version },
  environment: mpiEnv,
  commands: Object.fromEntries(RANKS.map((n) => [n, commandLine(n)])),
  options: {
    rounds: ROUNDS,
    ranks: RANKS,
    models: MODELS,
    steps: Number(args.steps),
    epochs: Number(args.epochs),
    globalBatch: Number(args['global-batch']),
  },
  best: rows.map((r) => ({ model: r.model, ranks: r.ranks, round: r.bestRound, stepMsPerRound: r.allSteps, ...r.best })),
  runs,
  totalSeconds,
};
mkdirSync(String(args.out), { recursive: true });
const final = path.join(String(args.out), 'distributed-latest.json');
const tmp = `${final}.${process.pid}.tmp`;
writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
renameSync(tmp, final);
console.log(`\nresults: ${path.relative(process.cwd(), final)}`);
if (failures.length) process.exitCode = 1;
