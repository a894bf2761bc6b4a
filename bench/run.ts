// `npm run bench`: Strata and PyTorch measured side by side in one run, one table, one JSON file.
// See bench/README.md for what each row means.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import * as st from '../dist/index.js';
import { CSV_FEATURES, CSV_SIZES_MB } from './csv.js';
import { cpuSnapshot, otherCpuShare, waitForIdle } from './measure.js';
import { measureOnnx, onnxTable, type OnnxResult } from './onnx.js';
import { best, interleavedRounds, perRound } from './rounds.js';
import { fmt, fmtSigned, printTable, row, rows } from './table.js';
import { SEQUENCE_MODELS } from './sequence.js';
import { CONV_LAYERS, convFlop, runStrata, SGEMM_SIZES, TRAIN_MODELS, type FrameworkResult, type SuiteOptions } from './suite.js';
import {
  allocatorEnv,
  type AllocatorProbe,
  fastestAllocator,
  probeAllocators,
  TORCH_ALLOCATORS,
  type TorchAllocator,
  TorchServer,
} from './torch-server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const STEPS_PER_EPOCH = 938; // ceil(60000 / 64)

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
const positiveNumber = (v: string): number => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
};

const program = new Command()
  .name('bench')
  .description('Strata vs PyTorch on this machine: sgemm, conv2d, op overhead, training steps, inference, memory, CSV reading')
  .option('--threads <n>', 'threads for both frameworks', positiveInt, 2)
  .option('--full', 'also time one real epoch (938 steps) of each model in both frameworks', false)
  .option('--rounds <n>', 'interleaved Strata/PyTorch rounds of every timed row (the best round of each side counts)', positiveInt, 3)
  .option('--full-rounds <n>', 'interleaved rounds of the measured epochs with --full', positiveInt, 2)
  .option('--memory-epochs <n>', 'MLP epochs for the resident-memory check', positiveInt, 3)
  .option('--memory-steps <n>', 'steps per memory-check epoch', positiveInt, 200)
  .option('--sanity-steps <n>', 'steps of the loss-goes-down check', positiveInt, 10)
  .option('--sync-steps <n>', 'MLP steps of the Strata loop that never yields (memory held)', positiveInt, 30)
  .option('--budget <seconds>', 'time aimed at per measurement (more = steadier medians)', positiveNumber, 2)
  .option('--wait-idle <seconds>', 'before each side, wait up to this long for other processes to leave the CPUs idle', Number, 30)
  .option('--python <path>', 'Python interpreter with PyTorch', '/usr/bin/python3')
  .option(
    '--torch-allocator <name>',
    `PyTorch's allocator, +libomp to preload LLVM's OpenMP runtime: ${TORCH_ALLOCATORS.join(', ')}, or auto (time each installed one on the convnet step, conv1 and inference, and use the fastest)`,
    (v: string) => {
      if (v !== 'auto' && !(TORCH_ALLOCATORS as readonly string[]).includes(v))
        throw new InvalidArgumentError(`expected auto or one of ${TORCH_ALLOCATORS.join(', ')}`);
      return v;
    },
    'auto',
  )
  .option('--no-torch', 'measure Strata only')
  .option('--no-onnx', 'skip the ONNX rows (imported ResNet-18 and MobileNetV2 vs onnxruntime-node)')
  .option('--onnx-only', 'run only the ONNX rows (results in onnx-latest.json)', false)
  .option('--onnx-rounds <n>', 'alternating Strata/onnxruntime rounds of the ONNX rows', positiveInt, 3)
  .option('--onnx-warmup <seconds>', 'seconds each side of an ONNX row runs before its rounds', positiveNumber, 2)
  .option('--out <dir>', 'where the JSON results go', path.join(here, 'results'))
  .parse();

const opts = program.opts<{
  threads: number;
  full: boolean;
  rounds: number;
  fullRounds: number;
  memoryEpochs: number;
  memorySteps: number;
  sanitySteps: number;
  syncSteps: number;
  budget: number;
  waitIdle: number;
  python: string;
  torchAllocator: TorchAllocator | 'auto';
  torch: boolean;
  onnx: boolean;
  onnxOnly: boolean;
  onnxRounds: number;
  onnxWarmup: number;
  out: string;
}>();

/** Writes `report` as `<prefix>-<stamp>.json` and `<prefix>-latest.json` (or latest.json), each via a temp file and a rename. */
function writeResults(report: unknown, prefix: string, started: Date): string {
  mkdirSync(opts.out, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const names = [`${prefix}-${stamp}.json`, prefix === 'bench' ? 'latest.json' : `${prefix}-latest.json`];
  for (const name of names) {
    const final = path.join(opts.out, name);
    const tmp = `${final}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(report, null, 2) + '\n');
    renameSync(tmp, final);
  }
  return `results: ${path.relative(process.cwd(), path.join(opts.out, names[1]))} and ${names[0]}`;
}

const onnxOptions = { rounds: opts.onnxRounds, budget: opts.budget, warmup: opts.onnxWarmup };
if (opts.onnxOnly) {
  // Only the ONNX rows: a few minutes instead of the whole run.
  const started = new Date();
  st.setNumThreads(opts.threads);
  if (opts.waitIdle > 0) {
    process.stderr.write(`[bench] waiting up to ${opts.waitIdle}s for an idle CPU\n`);
    await waitForIdle(opts.waitIdle);
  }
  const cpuA = cpuSnapshot();
  const onnx = await measureOnnx(onnxOptions);
  const other = otherCpuShare(cpuA, cpuSnapshot());
  console.log('');
  console.log(`other processes used ${other === null ? '?' : `${(other * 100).toFixed(0)}%`} of the CPUs during the ONNX rows`);
  for (const l of onnxTable(onnx)) console.log(l);
  const report = {
    date: started.toISOString(),
    durationSeconds: (Date.now() - started.getTime()) / 1000,
    options: opts,
    machine: { model: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, otherCpuShare: other },
    onnx,
  };
  console.log(writeResults(report, 'onnx', started));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Running both sides

function runTorch(allocator: TorchAllocator): { result: FrameworkResult | null; skipped?: string } {
  if (!opts.torch) return { result: null, skipped: 'PyTorch skipped (--no-torch)' };
  const alloc = allocatorEnv(allocator);
  if ('missing' in alloc) return { result: null, skipped: `PyTorch skipped: --torch-allocator ${allocator}: ${alloc.missing}` };
  if (!existsSync(opts.python)) return { result: null, skipped: `PyTorch skipped: ${opts.python} does not exist` };
  const args = [
    path.join(here, 'torch_bench.py'),
    '--threads',
    String(opts.threads),
    '--memory-epochs',
    String(opts.memoryEpochs),
    '--memory-steps',
    String(opts.memorySteps),
    '--budget',
    String(opts.budget),
    '--sanity-steps',
    String(opts.sanitySteps),
    '--no-rounds',
  ];
  const r = spawnSync(opts.python, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, ...alloc.env },
  });
  if (r.error) return { result: null, skipped: `PyTorch skipped: could not run ${opts.python} (${r.error.message})` };
  const lastLine = r.stdout.trim().split('\n').pop() ?? '';
  let parsed: (FrameworkResult & { error?: string }) | undefined;
  try {
    parsed = JSON.parse(lastLine);
  } catch {
    return { result: null, skipped: `PyTorch skipped: torch_bench.py exited with ${r.status} and printed no JSON` };
  }
  if (!parsed || parsed.error) return { result: null, skipped: `PyTorch skipped: ${parsed?.error ?? 'no result'}` };
  return { result: parsed };
}

function cpuInfo(): { model: string; cores: number; avx512: boolean } {
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    // not Linux: leave unknown
  }
  return { model: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, avx512: /\bavx512f\b/.test(flags) };
}

const suite: SuiteOptions = {
  threads: opts.threads,
  memoryEpochs: opts.memoryEpochs,
  memorySteps: opts.memorySteps,
  budget: opts.budget,
  sanitySteps: opts.sanitySteps,
  syncSteps: opts.syncSteps,
};
const loadBefore = os.loadavg()[0];
const started = new Date();
const idleWait = async (who: string) => {
  if (!(opts.waitIdle > 0)) return;
  process.stderr.write(`[bench] waiting up to ${opts.waitIdle}s for an idle CPU before the ${who} part\n`);
  const waited = await waitForIdle(opts.waitIdle);
  if (waited !== null && waited >= opts.waitIdle) process.stderr.write('[bench] the CPUs are still busy; measuring anyway\n');
};
await idleWait('Strata');
const cpu0 = cpuSnapshot();
const strata = await runStrata(suite);
const cpu1 = cpuSnapshot();
if (opts.torch) await idleWait('PyTorch');
// PyTorch's allocator: the one given, or the fastest installed one (probed here, before any
// row, so every PyTorch row runs under the same setting; see bench/torch-server.ts).
let allocatorProbe: AllocatorProbe[] | null = null;
let allocator: TorchAllocator = opts.torchAllocator === 'auto' ? 'malloc-env' : opts.torchAllocator;
if (opts.torch && opts.torchAllocator === 'auto' && existsSync(opts.python)) {
  process.stderr.write(`[bench] timing PyTorch under each installed allocator and OpenMP runtime (${TORCH_ALLOCATORS.join(', ')})\n`);
  allocatorProbe = await probeAllocators({ python: opts.python, script: path.join(here, 'torch_bench.py'), threads: opts.threads }, opts.budget / 2);
  allocator = fastestAllocator(allocatorProbe);
}
const allocatorSetting = allocatorEnv(allocator);
const allocatorText = 'missing' in allocatorSetting ? `${allocator} (missing: ${allocatorSetting.missing})` : allocatorSetting.describe;
process.stderr.write(`[bench] PyTorch runs under ${allocatorText}\n`);
const cpu1b = cpuSnapshot();
const torchRun = runTorch(allocator);
const torch = torchRun.result;
const cpu2 = cpuSnapshot();
process.stderr.write('[bench] every timed row, interleaved rounds\n');
const server = torch
  ? await TorchServer.start({ python: opts.python, script: path.join(here, 'torch_bench.py'), threads: opts.threads, allocator })
  : null;
const serverPids = server?.pid ? [server.pid] : [];
const cpu3 = cpuSnapshot(serverPids);
const rounds = await interleavedRounds(server, {
  rounds: opts.rounds,
  fullRounds: opts.fullRounds,
  full: opts.full,
  budget: opts.budget,
  threads: opts.threads,
});
const cpu4 = cpuSnapshot(serverPids);
server?.stop();
// Each side's best round per row (for the kernels, the best of each kind of pass).
const minOf = (xs: number[]) => (xs.length ? Math.min(...xs) : undefined);
for (const [n, r] of Object.entries(rounds.sgemm)) {
  strata.sgemm = { ...strata.sgemm, [n]: best(r.strata, (t) => -t.gflops)! };
  if (torch && r.torch.length) torch.sgemm = { ...torch.sgemm, [n]: best(r.torch, (t) => -t.gflops)! };
}
for (const [name, r] of Object.entries(rounds.conv)) {
  for (const [side, runs] of [
    [strata, r.strata],
    [torch, r.torch],
  ] as const) {
    if (!side || !runs.length) continue;
    side.conv = {
      ...side.conv,
      [name]: { fwd: minOf(runs.map((t) => t.fwd))!, bwdInput: minOf(runs.map((t) => t.bwdInput))!, bwdFilter: minOf(runs.map((t) => t.bwdFilter))! },
    };
  }
}
strata.addOverheadUs = minOf(rounds.add.strata.map((t) => t.us));
if (torch) torch.addOverheadUs = minOf(rounds.add.torch.map((t) => t.us));
for (const [group, key] of [
  [rounds.train, 'train'],
  [rounds.sequence, 'sequence'],
] as const) {
  for (const [m, r] of Object.entries(group)) {
    strata[key] = { ...strata[key], [m]: best(r.strata, (t) => t.stepMs)! };
    if (torch && r.torch.length) torch[key] = { ...torch[key], [m]: best(r.torch, (t) => t.stepMs)! };
  }
}
strata.inference = best(rounds.inference.strata, (t) => t.passMs);
if (torch) torch.inference = best(rounds.inference.torch, (t) => t.passMs);
const ortInference = best(rounds.inference.ort, (t) => t.passMs);
for (const [m, r] of Object.entries(rounds.fullEpoch ?? {})) {
  strata.fullEpoch = { ...strata.fullEpoch, [m]: best(r.strata, (t) => t.ms)! };
  if (torch && r.torch.length) torch.fullEpoch = { ...torch.fullEpoch, [m]: best(r.torch, (t) => t.ms)! };
}
let onnx: OnnxResult | null = null;
if (opts.onnx) {
  process.stderr.write('[bench] ONNX rows: imported networks vs onnxruntime-node, alternating rounds\n');
  onnx = await measureOnnx(onnxOptions);
}
const loadAfter = os.loadavg()[0];
// How much of the machine other processes used while each side ran: with 2 cores, any of it
// skews the numbers (an OpenMP barrier waits a whole scheduler slice for a preempted thread).
const otherCpu = { strata: otherCpuShare(cpu0, cpu1), torch: torch ? otherCpuShare(cpu1b, cpu2) : null, rounds: otherCpuShare(cpu3, cpu4) };

// ---------------------------------------------------------------------------------------------
// The table

for (const n of SGEMM_SIZES) {
  const mk = torch?.sgemm?.[n]?.mkldnn_gflops,
    r = rounds.sgemm[n];
  row(
    'sgemm',
    `matmul ${n}x${n}x${n}`,
    'GFLOP/s',
    'higher',
    strata.sgemm![n].gflops,
    torch?.sgemm?.[n]?.gflops,
    `best of ${r.strata.length} interleaved rounds; S/P per round ${perRound(
      r.strata.map((x) => x.gflops),
      r.torch.map((x) => x.gflops),
    )}` + (mk ? `; torch via oneDNN: ${fmt(mk)} GFLOP/s` : ''),
  );
}
for (const layer of CONV_LAYERS) {
  const [name] = layer;
  const flop = convFlop(layer);
  for (const [kind, label] of [
    ['fwd', 'forward'],
    ['bwdInput', 'input grad'],
    ['bwdFilter', 'filter grad'],
  ] as const) {
    const s = strata.conv?.[name]?.[kind],
      t = torch?.conv?.[name]?.[kind];
    const r = rounds.conv[name];
    const gf = (ms: number | undefined) => (ms ? fmt(flop / (ms * 1e6)) : '-');
    row(
      'conv2d b64',
      `${name} ${label}`,
      'ms',
      'lower',
      s,
      t,
      `GFLOP/s ${gf(s)} vs ${gf(t)}; S/P per round ${perRound(
        r.strata.map((x) => x[kind]),
        r.torch.map((x) => x[kind]),
      )}`,
    );
  }
}
row(
  'overhead',
  'add([4], [4]) per call',
  'µs',
  'lower',
  strata.addOverheadUs,
  torch?.addOverheadUs,
  `S/P per round ${perRound(
    rounds.add.strata.map((x) => x.us),
    rounds.add.torch.map((x) => x.us),
  )}`,
);
for (const m of Object.keys(TRAIN_MODELS)) {
  const s = strata.train![m].stepMs,
    t = torch?.train?.[m]?.stepMs;
  const r = rounds.train[m];
  row(
    'train b64',
    `${m} step (fwd+bwd+RMSprop)`,
    'ms',
    'lower',
    s,
    t,
    `best of ${r.strata.length} interleaved rounds; S/P per round ${perRound(
      r.strata.map((x) => x.stepMs),
      r.torch.map((x) => x.stepMs),
    )}`,
  );
  if (m === 'convnet') {
    // The bound: the same step on oneDNN alone; its column holds the oneDNN-only step's time.
    const od = rounds.onednnStep;
    row(
      'train b64',
      '  the same, oneDNN-only C++ step in the PyTorch column',
      'ms',
      'lower',
      s,
      best(od, (x) => x.stepMs)?.stepMs,
      rounds.onednnSkipped ??
        `bench/onednn-step/step.cc; best of ${od.length} interleaved rounds; S/oneDNN per round ${perRound(
          r.strata.map((x) => x.stepMs),
          od.map((x) => x.stepMs),
        )} (issue 24's target: at most 1.15)`,
    );
  }
  row(
    'train b64',
    `${m} epoch, extrapolated (${STEPS_PER_EPOCH} steps)`,
    's',
    'lower',
    (s * STEPS_PER_EPOCH) / 1000,
    t === undefined ? null : (t * STEPS_PER_EPOCH) / 1000,
  );
  const fr = rounds.fullEpoch?.[m];
  if (fr) {
    const fe = (res: FrameworkResult | null) => (res?.fullEpoch?.[m] ? res.fullEpoch[m].ms / 1000 : null);
    const err = (res: FrameworkResult | null) => {
      const real = fe(res),
        est = res?.train?.[m] ? (res.train[m].stepMs * STEPS_PER_EPOCH) / 1000 : null;
      return real !== null && est !== null ? `${((est / real - 1) * 100).toFixed(0)}%` : '-';
    };
    row(
      'train b64',
      `${m} epoch, measured (--full)`,
      's',
      'lower',
      fe(strata),
      fe(torch),
      `best of ${fr.strata.length}; S/P per round ${perRound(
        fr.strata.map((x) => x.ms),
        fr.torch.map((x) => x.ms),
      )}; extrapolation off by ${err(strata)} vs ${err(torch)}`,
    );
  }
}
const SEQUENCE_LABELS: Record<(typeof SEQUENCE_MODELS)[number], string> = {
  lstm: 'LSTM(128) on [64, 50, 32] step (fwd+bwd+RMSprop)',
  gru: 'GRU(128) on [64, 50, 32] step (fwd+bwd+RMSprop)',
  mha: 'MHA 8x16 on [32, 64, 128] step (fwd+bwd+RMSprop)',
};
for (const key of SEQUENCE_MODELS) {
  const r = rounds.sequence[key];
  row(
    'sequence',
    SEQUENCE_LABELS[key],
    'ms',
    'lower',
    strata.sequence?.[key]?.stepMs,
    torch?.sequence?.[key]?.stepMs,
    `best of ${r.strata.length} interleaved rounds; S/P per round ${perRound(
      r.strata.map((x) => x.stepMs),
      r.torch.map((x) => x.stepMs),
    )}`,
  );
}
const inf = rounds.inference;
row(
  'inference',
  'convnet fwd, 10k images, batch 500',
  'img/s',
  'higher',
  strata.inference?.imagesPerSec,
  torch?.inference?.imagesPerSec,
  `best of ${inf.strata.length} interleaved rounds; S/P per round ${perRound(
    inf.strata.map((x) => x.imagesPerSec),
    inf.torch.map((x) => x.imagesPerSec),
  )}`,
);
// The same network exported to ONNX and run by onnxruntime-node, in the same rounds: the
// PyTorch column holds onnxruntime's figure on this row.
row(
  'inference',
  '  the same, onnxruntime-node in the PyTorch column',
  'img/s',
  'higher',
  strata.inference?.imagesPerSec,
  ortInference?.imagesPerSec,
  inf.ortSkipped ??
    `best of ${inf.ort.length} interleaved rounds; S/ORT per round ${perRound(
      inf.strata.map((x) => x.imagesPerSec),
      inf.ort.map((x) => x.imagesPerSec),
    )}`,
);
for (const mb of CSV_SIZES_MB) {
  const r = strata.csv?.[mb],
    first = strata.csv?.[CSV_SIZES_MB[0]];
  const linear =
    r && first && r !== first ? `; the ${CSV_SIZES_MB[0]} MB rate is ${(first.mbPerSec / r.mbPerSec).toFixed(2)}x this (near 1: linear)` : '';
  row(
    'data',
    `loadCsv full pass, ${mb} MB (${CSV_FEATURES} features + label)`,
    'MB/s',
    'higher',
    r?.mbPerSec,
    null,
    `Strata only${r ? `; ${fmt(r.rowsPerSec)} rows/s, ${r.rows} rows in ${fmt(r.passMs / 1000)} s${linear}` : ''}`,
  );
}
const rssS = strata.memory.rssMB,
  rssT = torch?.memory.rssMB;
const nativeS = strata.memory.nativeMB ?? [];
row('memory', 'MLP RSS after epoch 1', 'MB', 'none', rssS[0], rssT?.[0]);
row(
  'memory',
  `MLP RSS after epoch ${rssS.length}`,
  'MB',
  'none',
  rssS[rssS.length - 1],
  rssT?.[rssT.length - 1],
  `growth ${fmtSigned(rssS[rssS.length - 1] - rssS[0])} MB vs ${rssT ? fmtSigned(rssT[rssT.length - 1] - rssT[0]) : '-'} MB; Strata native buffers ${nativeS.map((b) => fmt(b)).join(' -> ')} MB`,
);
// The same resident set split into its anonymous part (heaps, tensors, caches: what each
// framework allocates) and its file-backed part (the executable and libraries).
const parts = strata.memory.breakdown;
row(
  'memory',
  `  of which anonymous (heaps, tensors, caches)`,
  'MB',
  'none',
  strata.memory.anonMB,
  torch?.memory.anonMB,
  parts
    ? `Strata: V8 heap ${fmt(parts.v8HeapMB)}, live tensors ${fmt(parts.tensorsMB)}, allocator cache ${fmt(parts.allocatorCacheMB)} MB, ${parts.primitiveEntries} oneDNN primitives cached`
    : undefined,
);
row('memory', `  of which file-backed (program and libraries)`, 'MB', 'none', strata.memory.fileMB, torch?.memory.fileMB);
const sync = strata.memory.syncLoop;
if (sync) {
  row(
    'memory',
    `Strata native MB change over ${sync.steps} MLP steps w/o yield`,
    'MB',
    'none',
    sync.nativeMBAfter - sync.nativeMBBefore,
    null,
    `${fmt(sync.nativeMBBefore)} -> ${fmt(sync.nativeMBAfter)} MB, ${fmt(sync.nativeMBAfterYield)} MB after yielding; ${fmt((sync.nativeMBAfter - sync.nativeMBBefore) / sync.steps)} MB/step`,
  );
}

function sanityLine(who: string, losses: number[] | undefined): string {
  if (!losses?.length) return `sanity ${who}: -`;
  const ok = losses[losses.length - 1] < losses[0];
  return `sanity ${who}: loss ${losses.map((l) => l.toFixed(3)).join(' ')} -> ${ok ? 'decreasing: OK' : 'NOT decreasing: the training step may be broken'}`;
}

const cpu = cpuInfo();
console.log('');
console.log(
  `Strata ${strata.version} (${String(strata.backend)} backend) vs ${torch ? `PyTorch ${torch.version}` : 'no PyTorch'}; ` +
    `${opts.threads} thread(s); ${cpu.model}, ${cpu.cores} cores, AVX-512 ${cpu.avx512 ? 'yes' : 'no'}; Node ${process.version}`,
);
if (torchRun.skipped) console.log(`NOTE: ${torchRun.skipped}`);
// Debian's reference BLAS (libblas3) runs torch.mm at a few GFLOP/s: the rows PyTorch builds on
// its BLAS (sgemm, the MLP, LSTM, GRU and attention steps) then say nothing about Strata.
if (torch?.blas !== undefined) {
  const reference = !torch.blas || /\/blas\/libblas\.so/.test(torch.blas);
  console.log(
    `PyTorch BLAS: ${torch.blas ?? 'none found'}${reference ? ' -- NOTE: the reference BLAS; install libopenblas0-openmp for a fair comparison (see bench/README.md)' : ''}`,
  );
}
if (torch)
  console.log(
    `PyTorch allocator and OpenMP runtime: ${allocatorText}${opts.torchAllocator === 'auto' ? ' (the fastest of the probe below)' : ' (--torch-allocator)'}`,
  );
for (const p of allocatorProbe ?? []) {
  const ms = (x: number | null) => (x === null ? '-' : fmt(x));
  console.log(
    `  ${p.allocator.padEnd(17)} ${p.missing ? `not measured: ${p.missing}` : `convnet step ${ms(p.convnetStepMs)} ms, conv1 fwd ${ms(p.conv1ForwardMs)} ms, inference pass ${ms(p.inferencePassMs)} ms; ${p.relative === null ? '-' : `${p.relative.toFixed(2)}x the fastest`}`}`,
  );
}
const pct = (x: number | null) => (x === null ? '?' : `${(x * 100).toFixed(0)}%`);
console.log(
  `other processes used ${pct(otherCpu.strata)} of the CPUs during the Strata part${torch ? `, ${pct(otherCpu.torch)} during the PyTorch part` : ''}, ${pct(otherCpu.rounds)} during the training rounds` +
    ` (load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after)`,
);
if (Math.max(otherCpu.strata ?? 0, otherCpu.torch ?? 0, otherCpu.rounds ?? 0) > 0.1) {
  console.log('WARNING: the machine was shared with other processes; timings are inflated and noisy (rerun on an idle machine)');
}
for (const m of ['convnet', 'mlp']) {
  console.log(sanityLine(`Strata ${m}`, strata.sanity[m]));
  if (torch) console.log(sanityLine(`PyTorch ${m}`, torch.sanity[m]));
}
console.log('');
printTable();
console.log('');
console.log('S/P = Strata value / PyTorch value (for ms, µs, s: below 1 is better for Strata; for GFLOP/s, img/s, MB/s: above 1).');
if (onnx) {
  console.log('');
  for (const l of onnxTable(onnx)) console.log(l);
}

// ---------------------------------------------------------------------------------------------
// JSON results: written to a temp file and renamed, so a reader never sees half a file.

const report = {
  date: started.toISOString(),
  durationSeconds: (Date.now() - started.getTime()) / 1000,
  options: opts,
  machine: { ...cpu, platform: `${os.platform()} ${os.release()}`, node: process.version, loadBefore, loadAfter, otherCpuShare: otherCpu },
  strataBackends: st.backends(),
  torchSkipped: torchRun.skipped ?? null,
  torchAllocator: { chosen: allocator, describe: allocatorText, probe: allocatorProbe },
  rows,
  onnx,
  raw: { strata, torch, rounds },
};
console.log(writeResults(report, 'bench', started));
