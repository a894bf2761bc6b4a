// The Strata side of the benchmark: every measurement bench/torch_bench.py makes, with the same
// shapes, repetition policy and JSON layout.
import * as st from '../dist/index.js';
import { measureCsv, type CsvResult } from './csv.js';
import { residentParts, rssMB, tick, timeIt } from './measure.js';
import { batchOf, convnet, epoch, mlp, randomDataset, RMSprop, trainStep, type Dataset, type Model } from './models.js';

export interface SuiteOptions {
  threads: number;
  memoryEpochs: number;
  memorySteps: number;
  /** Seconds of repetitions aimed at per measurement. */
  budget: number;
  sanitySteps: number;
  /** Steps of the no-yield loop that shows memory held until the event loop turns. */
  syncSteps: number;
}

export interface FrameworkResult {
  framework: string;
  version: string;
  threads: number;
  /** PyTorch only: the BLAS library torch.mm runs on (torch_bench.py's blas_library), or null if none was found mapped. */
  blas?: string | null;
  // The timed rows are filled by run.ts from rounds that interleave the two frameworks (the
  // best round of each side); runStrata and torch_bench.py without --serve leave them out.
  sgemm?: Record<string, { ms: number; gflops: number; mkldnn_gflops?: number }>;
  conv?: Record<string, ConvTimes>;
  addOverheadUs?: number;
  sanity: Record<string, number[]>;
  train?: Record<string, { stepMs: number; minMs: number }>;
  fullEpoch?: Record<string, { ms: number; loss: number }>;
  inference?: InferenceRun;
  sequence?: Record<string, { stepMs: number; minMs: number }>;
  memory: {
    rssMB: number[];
    /** After the last epoch: the resident set's anonymous and file-backed parts (both sides). */
    anonMB?: number | null;
    fileMB?: number | null;
    /** Strata only, after the last epoch: where the anonymous part goes. */
    breakdown?: { v8HeapMB: number; tensorsMB: number; allocatorCacheMB: number; primitiveEntries: number };
    nativeMB?: number[];
    syncLoop?: { steps: number; nativeMBBefore: number; nativeMBAfter: number; nativeMBAfterYield: number; stepMs: number };
  };
  /** Strata only: full passes of st.data.loadCsv, by file size in MB. */
  csv?: Record<string, CsvResult>;
  [extra: string]: unknown;
}

/** [name, N, H, W, C, O]: the Keras-book convnet's layers at batch 64, 3x3 valid (same list in torch_bench.py). */
export const CONV_LAYERS: [string, number, number, number, number, number][] = [
  ['conv1 28x28x1->32', 64, 28, 28, 1, 32],
  ['conv2 13x13x32->64', 64, 13, 13, 32, 64],
  ['conv3 5x5x64->128', 64, 5, 5, 64, 128],
];

export interface ConvTimes {
  fwd: number;
  bwdInput: number;
  bwdFilter: number;
}

/** Forward, input-gradient and filter-gradient medians of one CONV_LAYERS entry (torch_bench.py measure_conv). */
export async function measureConv(name: string, budget: number): Promise<ConvTimes> {
  const layer = CONV_LAYERS.find((l) => l[0] === name);
  if (!layer) throw new Error(`measureConv: unknown layer ${JSON.stringify(name)}`);
  const [, n, h, w, c, oc] = layer;
  const x = st.randomUniform([n, h, w, c]);
  const f = st.randomUniform([3, 3, c, oc], { min: -0.5, max: 0.5 });
  const dy = st.randomUniform([n, h - 2, w - 2, oc], { min: -0.5, max: 0.5 });
  const opts = { strides: 1, padding: 'valid' } as const;
  const times = {
    fwd: (await timeIt(() => st.conv2d(x, f, opts).dispose(), { budgetSeconds: budget / 2 })).median,
    bwdInput: (await timeIt(() => st.conv2dBackpropInput(dy, f, x.shape, opts).dispose(), { budgetSeconds: budget / 2 })).median,
    bwdFilter: (await timeIt(() => st.conv2dBackpropFilter(x, dy, f.shape, opts).dispose(), { budgetSeconds: budget / 2 })).median,
  };
  for (const t of [x, f, dy]) t.dispose();
  return times;
}

/** Microseconds per st.add of two 4-element tensors: the per-op overhead (torch_bench.py measure_add). */
export async function measureAddOverhead(budget: number): Promise<{ us: number }> {
  const a = st.tensor([1, 2, 3, 4]),
    b = st.tensor([0.5, 0.25, 0.125, 1]);
  return { us: (await timeIt(() => st.add(a, b), { inner: 10000, budgetSeconds: budget / 2, minReps: 5 })).median * 1000 };
}

export interface InferenceRun {
  imagesPerSec: number;
  passMs: number;
}

/** Images per second of the convnet's forward pass over 10,000 images in batches of 500 (torch_bench.py measure_inference). */
export async function measureInference(budget: number): Promise<InferenceRun> {
  const model: Model = convnet();
  const images = st.randomUniform([10000, 28, 28, 1]);
  const infer = async () => {
    for (let s = 0; s < 10000; s += 500) {
      st.noGrad(() => model.forward(st.slice(images, [s], [500])));
      await tick();
    }
  };
  const pass = await timeIt(infer, { warmup: 1, budgetSeconds: budget, minReps: 3, maxReps: 5 });
  images.dispose();
  return { imagesPerSec: 10000 / (pass.median / 1000), passMs: pass.median };
}

export const convFlop = ([, n, h, w, c, o]: (typeof CONV_LAYERS)[number]): number => 2 * n * (h - 2) * (w - 2) * 9 * c * o;

const log = (msg: string) => process.stderr.write(`[strata] ${msg}\n`);
const nativeMB = (): number | undefined => {
  const m = st.memory()[st.getBackend().name];
  return m ? m.bytes / 2 ** 20 : undefined;
};

export const SGEMM_SIZES = [256, 1024, 2048] as const;

/** st.matmul of two float32 n x n matrices, median ms and GFLOP/s (torch_bench.py measure_sgemm). */
export async function measureSgemm(n: number, budget: number): Promise<{ ms: number; gflops: number }> {
  const a = st.randomNormal([n, n]),
    b = st.randomNormal([n, n]);
  // Kernel rows dispose each result in the timed region, as PyTorch frees its when the last
  // reference goes (bench/README.md, Method). Up to 60 repetitions (both sides), so that a
  // burst of noise on the shared host cannot take the median of a 10 ms product.
  const t = await timeIt(() => st.matmul(a, b).dispose(), { warmup: n >= 2048 ? 1 : 2, budgetSeconds: budget, maxReps: 60 });
  a.dispose();
  b.dispose();
  return { ms: t.median, gflops: (2 * n ** 3) / (t.median * 1e6) };
}

export const TRAIN_MODELS = { convnet, mlp } as const;
export type TrainModel = keyof typeof TRAIN_MODELS;

/** Median training step at batch 64 over 1,024 random images, a fresh model (torch_bench.py measure_train_step). */
export async function measureTrainStep(name: TrainModel, budget: number): Promise<{ stepMs: number; minMs: number }> {
  const model = TRAIN_MODELS[name]();
  const opt = new RMSprop(model.params);
  const data = randomDataset(1024, model.inputShape);
  let i = 0;
  const step = () => {
    const batch = batchOf(data, (i++ % 16) * 64, 64);
    return trainStep(model, opt, batch.x, batch.y);
  };
  const t = await timeIt(step, { warmup: 10, budgetSeconds: budget * 1.5, minReps: 5, maxReps: 300 });
  return { stepMs: t.median, minMs: t.min };
}

const epochData = new Map<TrainModel, Dataset>();

/** One real 938-step epoch over 60,000 random images, a fresh model (torch_bench.py measure_epoch). */
export async function measureEpoch(name: TrainModel): Promise<{ ms: number; loss: number }> {
  const model = TRAIN_MODELS[name]();
  let data = epochData.get(name);
  if (!data) epochData.set(name, (data = randomDataset(60000, model.inputShape)));
  return epoch(model, new RMSprop(model.params), data, 64, 938);
}

export async function runStrata(o: SuiteOptions): Promise<FrameworkResult> {
  st.setNumThreads(o.threads);
  st.setSeed(0);
  const budget = o.budget;

  log(`sanity: loss over ${o.sanitySteps} steps on one fixed batch`);
  const sanity: Record<string, number[]> = {};
  for (const make of [convnet, mlp]) {
    st.setSeed(0);
    const model = make();
    const opt = new RMSprop(model.params);
    const data = randomDataset(64, model.inputShape);
    const losses: number[] = [];
    for (let i = 0; i < o.sanitySteps; i++) {
      losses.push(trainStep(model, opt, data.x, data.y).item());
      await tick();
    }
    sanity[model.name] = losses;
  }

  log(`memory (${o.memoryEpochs} MLP epochs of ${o.memorySteps} steps)`);
  const net = mlp();
  const opt = new RMSprop(net.params);
  const data = randomDataset(1024, net.inputShape);
  const rss: number[] = [],
    native: number[] = [];
  for (let e = 0; e < o.memoryEpochs; e++) {
    await epoch(net, opt, data, 64, o.memorySteps);
    rss.push(rssMB());
    native.push(nativeMB() ?? NaN);
  }
  const held = st.memory()[st.getBackend().name];
  const breakdown = {
    v8HeapMB: process.memoryUsage().heapTotal / 2 ** 20,
    tensorsMB: (held?.bytes ?? NaN) / 2 ** 20,
    allocatorCacheMB: (held?.cachedBytes ?? 0) / 2 ** 20,
    primitiveEntries: held?.primitiveCache?.entries ?? 0,
  };
  const parts = residentParts();

  // The same loop without letting the event loop turn: native buffers cannot be freed meanwhile
  // (N-API finalizers wait for the event loop), so this shows how much a synchronous loop holds.
  log(`memory without yielding (${o.syncSteps} MLP steps in a synchronous loop)`);
  for (let i = 0; i < 5; i++) await tick();
  const before = nativeMB() ?? NaN;
  const syncRun = await epoch(net, opt, data, 64, o.syncSteps, false);
  const after = nativeMB() ?? NaN;
  for (let i = 0; i < 20; i++) await tick();
  const syncLoop = {
    steps: o.syncSteps,
    nativeMBBefore: before,
    nativeMBAfter: after,
    nativeMBAfterYield: nativeMB() ?? NaN,
    stepMs: syncRun.ms / o.syncSteps,
  };

  // After the memory rows, whose resident sizes the files' buffers would otherwise inflate.
  log('CSV reading (st.data.loadCsv over 50 MB and 5 MB numeric files)');
  const csv = await measureCsv(budget);

  return {
    framework: 'strata',
    version: st.version,
    backend: st.getBackend().name,
    threads: st.getNumThreads(),
    sanity,
    memory: { rssMB: rss, ...parts, breakdown, nativeMB: native, syncLoop },
    csv,
  };
}
