// The in-page harness of `npm run bench:browser` (bench/browser.ts bundles it with esbuild for
// bench/browser/index.html). The same workloads written twice, once with Strata's API and once
// with tfjs's, so that both sides do the same work per step: the same model, Keras's RMSprop
// (lr 1e-3, rho 0.9, epsilon 1e-7), batch 64, float32, fused dense/conv kernels with bias and
// ReLU on both sides (what each library's dense and conv2d layers run). Every step reads its
// result back (the loss of a training step, the logits of an inference, the product of an
// sgemm), on both sides, so neither side is timed for queued work. The Strata half runs in Node
// too: bench/browser.ts times the same MLP step on the native backend there.
//
// Nothing here imports anything at run time: the page hands in `st` (dist/browser/strata.js)
// and `tf` (tfjs's UMD global), Node hands in dist/index.js.
import type * as StrataApi from '../../dist/api.js';
import type * as TfApi from '@tensorflow/tfjs';

export type Strata = typeof StrataApi;
export type Tf = typeof TfApi;

export const WORKLOADS = ['mlpTrain', 'convTrain', 'convInfer', 'sgemm'] as const;
export type Workload = (typeof WORKLOADS)[number];

export const BATCH = 64;
/** Random images per data set; steps cycle through its 16 batches (as bench/suite.ts does). */
const IMAGES = 1024;
const SGEMM_N = 256;

export interface MeasureOptions {
  /** Time aimed at for the timed steps, ms. */
  budgetMs: number;
  /** Untimed steps first (fewer when they take more than a budget). */
  warmup: number;
  minReps: number;
  maxReps: number;
}

export interface Measurement {
  /** Median time of one step (read-back and the yield after it included), ms. */
  ms: number;
  min: number;
  reps: number;
  /** The last step's loss (training) or a value read back (others). */
  last: number;
  /** The backend the step ran on. */
  backend: string;
}

interface Prepared {
  /** One step; returns what it read back (a loss, or one element of the output). */
  step(): number;
  dispose(): void;
}

const now = (): number => performance.now();

function median(xs: readonly number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Warm-up steps, then timed steps (each followed by `yieldNow`, inside the timed region, as
 * bench/measure.ts's timeIt lets Node's event loop turn after every call: a page frees Strata's
 * dead storage between tasks, and an async training loop yields there).
 */
async function timeSteps(p: Prepared, o: MeasureOptions, yieldNow: () => Promise<void>, backend: string): Promise<Measurement> {
  let estimate = 0;
  let last = NaN;
  const warmStart = now();
  for (let i = 0; i < Math.max(1, o.warmup); i++) {
    const t0 = now();
    last = p.step();
    await yieldNow();
    estimate = now() - t0;
    if (i >= 1 && now() - warmStart > 2 * o.budgetMs) break;
  }
  const reps = Math.max(o.minReps, Math.min(o.maxReps, Math.floor(o.budgetMs / Math.max(estimate, 1e-3))));
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    last = p.step();
    await yieldNow();
    samples.push(now() - t0);
  }
  return { ms: median(samples), min: Math.min(...samples), reps, last, backend };
}

/** Keras's default kernel initializer bound: U(-l, l), l = sqrt(6 / (fanIn + fanOut)). */
const glorotLimit = (fanIn: number, fanOut: number): number => Math.sqrt(6 / (fanIn + fanOut));

const randomLabels = (n: number): Int32Array => {
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = Math.floor(Math.random() * 10);
  return labels;
};

// ---------------------------------------------------------------------------------------------
// Strata (bench/models.ts's models and step)

type STensor = StrataApi.Tensor;

/** A model, its data and optimizer, ready to step: the part the CPU and GPU harnesses share. */
interface Model<T> {
  /** Queues one training step (or one inference for convInfer); returns the loss (or the logits), which the caller disposes. */
  run(): T;
  dispose(): void;
}

function strataModel(st: Strata, w: Exclude<Workload, 'sgemm'>, images = IMAGES): Model<STensor> {
  const glorot = (shape: number[], fanIn: number, fanOut: number) => {
    const l = glorotLimit(fanIn, fanOut);
    return st.variable(st.randomUniform(shape, { min: -l, max: l }));
  };
  const conv = (kh: number, cin: number, cout: number) => glorot([kh, kh, cin, cout], kh * kh * cin, kh * kh * cout);
  const bias = (n: number) => st.variable(st.zeros([n]));
  const isMlp = w === 'mlpTrain';
  const inputShape = isMlp ? [784] : [28, 28, 1];
  const x = st.randomUniform([images, ...inputShape]);
  const y = st.tensor(randomLabels(images), [images], 'int32');
  let forward: (x: STensor) => STensor;
  let params: STensor[];
  if (isMlp) {
    params = [glorot([784, 512], 784, 512), bias(512), glorot([512, 10], 512, 10), bias(10)];
    const [w1, b1, w2, b2] = params;
    forward = (xb) => st.fused.matMul({ a: st.fused.matMul({ a: xb, b: w1, bias: b1, activation: 'relu' }), b: w2, bias: b2 });
  } else {
    params = [conv(3, 1, 32), bias(32), conv(3, 32, 64), bias(64), conv(3, 64, 128), bias(128), glorot([1152, 10], 1152, 10), bias(10)];
    const [f1, b1, f2, b2, f3, b3, wd, bd] = params;
    const convPool = (h: STensor, f: STensor, b: STensor) =>
      st.fused.conv2dMaxPool({ x: h, filter: f, bias: b, activation: 'relu', padding: 'valid', pool: { poolSize: 2, strides: 2 } });
    forward = (xb) => {
      let h = convPool(xb, f1, b1);
      h = convPool(h, f2, b2);
      h = st.fused.conv2d({ x: h, filter: f3, bias: b3, activation: 'relu', padding: 'valid' });
      return st.fused.matMul({ a: st.reshape(h, [xb.shape[0], -1]), b: wd, bias: bd });
    };
  }
  const dispose = () => {
    for (const t of [x, y, ...params]) t.dispose();
  };
  const opt = st.optimizers.rmsprop({ learningRate: 1e-3, rho: 0.9, epsilon: 1e-7 });
  let i = 0;
  const batch = () => {
    const start = (i++ % (images / BATCH)) * BATCH;
    return { xb: st.slice(x, [start], [BATCH]), yb: st.slice(y, [start], [BATCH]) };
  };
  if (w === 'convInfer') {
    return {
      run() {
        const { xb, yb } = batch();
        const logits = forward(xb);
        xb.dispose();
        yb.dispose();
        return logits;
      },
      dispose,
    };
  }
  return {
    run() {
      const { xb, yb } = batch();
      for (const p of params) p.zeroGrad();
      const loss = st.losses.sparseCategoricalCrossentropy(yb, forward(xb), { fromLogits: true });
      loss.backward();
      opt.applyGradients(params.map((p) => ({ variable: p, grad: p.grad })));
      xb.dispose();
      yb.dispose();
      return loss;
    },
    dispose,
  };
}

function strataPrepare(st: Strata, w: Workload): Prepared {
  if (w === 'sgemm') {
    const a = st.randomNormal([SGEMM_N, SGEMM_N]),
      b = st.randomNormal([SGEMM_N, SGEMM_N]);
    return {
      step: readingStep(() => st.matmul(a, b)),
      dispose() {
        a.dispose();
        b.dispose();
      },
    };
  }
  const model = strataModel(st, w);
  return {
    step: readingStep(() => model.run()),
    dispose: () => model.dispose(),
  };
}

/** Times `w` with Strata on its current backend (the page's, or the one `backend` names). */
export async function measureStrata(
  st: Strata,
  w: Workload,
  o: MeasureOptions,
  yieldNow: () => Promise<void>,
  backend?: string,
): Promise<Measurement> {
  if (backend) st.setBackend(backend);
  const p = strataPrepare(st, w);
  try {
    return await timeSteps(p, o, yieldNow, st.getBackend().name);
  } finally {
    p.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// tfjs (what tf.layers.dense / conv2d run: tf.fused.matMul and tf.fused.conv2d; tf.train.rmsprop)

function tfModel(tf: Tf, w: Exclude<Workload, 'sgemm'>, images = IMAGES): Model<TfApi.Tensor> {
  const glorot = (shape: number[], fanIn: number, fanOut: number) => {
    const l = glorotLimit(fanIn, fanOut);
    return tf.variable(tf.randomUniform(shape, -l, l));
  };
  const conv = (kh: number, cin: number, cout: number) => glorot([kh, kh, cin, cout], kh * kh * cin, kh * kh * cout);
  const bias = (n: number) => tf.variable(tf.zeros([n]));
  const isMlp = w === 'mlpTrain';
  const inputShape = isMlp ? [784] : [28, 28, 1];
  const x = tf.randomUniform([images, ...inputShape]);
  // tfjs's softmax cross-entropy takes one-hot labels: made once here, outside the steps.
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(randomLabels(images), 'int32'), 10).toFloat());
  let forward: (x: TfApi.Tensor) => TfApi.Tensor2D;
  let params: TfApi.Variable[];
  if (isMlp) {
    params = [glorot([784, 512], 784, 512), bias(512), glorot([512, 10], 512, 10), bias(10)];
    const [w1, b1, w2, b2] = params as TfApi.Variable<TfApi.Rank.R2>[];
    forward = (xb) =>
      tf.fused.matMul({ a: tf.fused.matMul({ a: xb as TfApi.Tensor2D, b: w1, bias: b1, activation: 'relu' }), b: w2, bias: b2 }) as TfApi.Tensor2D;
  } else {
    params = [conv(3, 1, 32), bias(32), conv(3, 32, 64), bias(64), conv(3, 64, 128), bias(128), glorot([1152, 10], 1152, 10), bias(10)];
    const [f1, b1, f2, b2, f3, b3, wd, bd] = params as TfApi.Variable<TfApi.Rank.R4>[];
    const c = (h: TfApi.Tensor4D, f: TfApi.Tensor4D, b: TfApi.Tensor) =>
      tf.fused.conv2d({ x: h, filter: f, bias: b, activation: 'relu', strides: 1, pad: 'valid' });
    forward = (xb) => {
      let h = tf.maxPool(c(xb as TfApi.Tensor4D, f1, b1), 2, 2, 'valid');
      h = tf.maxPool(c(h, f2, b2), 2, 2, 'valid');
      h = c(h, f3, b3);
      return tf.fused.matMul({
        a: tf.reshape(h, [h.shape[0], -1]) as TfApi.Tensor2D,
        b: wd as TfApi.Tensor as TfApi.Tensor2D,
        bias: bd,
      }) as TfApi.Tensor2D;
    };
  }
  const opt = tf.train.rmsprop(1e-3, 0.9, 0, 1e-7);
  const dispose = () => {
    tf.dispose([x, y, ...params]);
    opt.dispose();
  };
  let i = 0;
  const batch = () => {
    const start = (i++ % (images / BATCH)) * BATCH;
    return { xb: tf.slice(x, [start], [BATCH]), yb: tf.slice(y, [start], [BATCH]) };
  };
  if (w === 'convInfer') return { run: () => tf.tidy(() => forward(batch().xb)), dispose };
  return {
    run: () =>
      tf.tidy(() => {
        const { xb, yb } = batch();
        return opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, forward(xb)) as TfApi.Scalar, true, params) as TfApi.Scalar;
      }),
    dispose,
  };
}

function tfPrepare(tf: Tf, w: Workload): Prepared {
  if (w === 'sgemm') {
    const a = tf.randomNormal([SGEMM_N, SGEMM_N]) as TfApi.Tensor2D,
      b = tf.randomNormal([SGEMM_N, SGEMM_N]) as TfApi.Tensor2D;
    return {
      step: readingStep(() => tf.matMul(a, b)),
      dispose: () => tf.dispose([a, b]),
    };
  }
  const model = tfModel(tf, w);
  return {
    step: readingStep(() => model.run()),
    dispose: () => model.dispose(),
  };
}

/** Times `w` with tfjs on `backend` ('wasm', or 'cpu' for what tfjs-backend-wasm cannot run). */
export async function measureTf(tf: Tf, w: Workload, o: MeasureOptions, yieldNow: () => Promise<void>, backend: string): Promise<Measurement> {
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend ${backend} did not initialize`);
  const p = tfPrepare(tf, w);
  try {
    return await timeSteps(p, o, yieldNow, tf.getBackend());
  } finally {
    p.dispose();
  }
}

/** One tfjs step of `w` on `backend`: undefined when it runs, else the error it throws. */
export async function tryTf(tf: Tf, w: Workload, backend: string): Promise<string | undefined> {
  await tf.setBackend(backend);
  const p = tfPrepare(tf, w);
  try {
    p.step();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    p.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// WebGPU: Strata's webgpu backend against tfjs-backend-webgpu, counted by the page's GPU meter
//
// Note [Counting GPU work in the page]
// Neither library's own counters are used: bench/browser/index.html wraps the WebGPU prototypes
// (GPUComputePassEncoder.dispatchWorkgroups and dispatchWorkgroupsIndirect, GPUQueue.submit and
// writeBuffer, GPUBuffer.mapAsync and unmap, GPUDevice.createBuffer and createComputePipeline)
// before either library is loaded, so both are counted by the same code at the API they share.
// Bytes up are what the host hands the GPU: writeBuffer's bytes (uniform buffers' share kept
// apart, since tfjs writes a small uniform block per dispatch) plus whole buffers unmapped after a
// write mapping (mappedAtCreation or mapAsync(WRITE): tfjs's uploads). Bytes down are the ranges
// mapped for reading. On a software adapter (SwiftShader) time is only a proxy; dispatches,
// submits and bytes are what carry over to a real GPU.
//
// Timing waits for the GPU the same way on both sides: a training block queues `stepsPerRead`
// steps (a yield after each, as a training loop would) and then reads the last step's loss with
// `await data()`; a read maps a staging buffer, which completes only after all work submitted
// before it, the last step's optimizer update included (both libraries submit their open encoder
// before mapping). An inference reads its logits every step. Warm-up blocks come first, so
// pipeline compilation is excluded; the meter's pipeline count over the timed blocks shows it.
//   The data set here is GPU_BATCHES batches, not IMAGES images, and the warm-up runs every one of
// them: Strata's webgpu slice bakes its start offset into the kernel source, so each distinct
// batch compiles its own pipelines the first time (the warm-up's pipeline count shows what that
// costs); cycling 16 batches would need 16 warm-up steps, tens of seconds of tfjs on SwiftShader.

export const GPU_WORKLOADS = ['mlpTrain', 'convInfer'] as const;
/** Batches in a webgpu workload's data set (the steps cycle through them), all run in the warm-up. */
export const GPU_BATCHES = 4;
export type GpuWorkload = (typeof GPU_WORKLOADS)[number];

/** Cumulative WebGPU calls seen in the page (index.html's meter). */
export interface GpuCounts {
  dispatches: number;
  submits: number;
  /** Bytes written to storage (and other non-uniform) buffers by writeBuffer or a write mapping. */
  bytesUp: number;
  /** Bytes written to uniform buffers by writeBuffer. */
  uniformBytesUp: number;
  /** Bytes mapped for reading (read back). */
  bytesDown: number;
  /** mapAsync(READ) calls. */
  reads: number;
  /** Compute pipelines created. */
  pipelines: number;
}

export interface GpuMeter {
  /** The counts so far (a copy). */
  counts(): GpuCounts;
}

export interface GpuMeasurement extends Measurement {
  /** Steps between two reads: N training steps then one read of the loss; 1 for inference. */
  stepsPerRead: number;
  /** The meter's counts over all timed blocks, divided by the steps in them. */
  perStep: GpuCounts;
  /** Steps timed (reps blocks of stepsPerRead). */
  steps: number;
  /** Warm-up steps, and the meter's counts over them (pipelines: what the first steps compiled). */
  warmupSteps: number;
  warmup: GpuCounts;
}

const diffCounts = (a: GpuCounts, b: GpuCounts, per: number): GpuCounts =>
  Object.fromEntries(Object.keys(a).map((k) => [k, (b[k as keyof GpuCounts] - a[k as keyof GpuCounts]) / per])) as unknown as GpuCounts;

interface PreparedGpu {
  /** Queues one step; keeps its result (disposing the one before). */
  step(): void;
  /** Reads the kept result (await data()) and returns its first value. */
  read(): Promise<number>;
  dispose(): void;
}

function gpuPrepared<T extends { dispose(): void; data(): Promise<ArrayLike<number>> }>(model: Model<T>): PreparedGpu {
  let kept: T | undefined;
  return {
    step() {
      const out = model.run();
      kept?.dispose();
      kept = out;
    },
    async read() {
      return kept ? (await kept.data())[0] : NaN;
    },
    dispose() {
      kept?.dispose();
      kept = undefined;
      model.dispose();
    },
  };
}

async function timeGpuBlocks(
  p: PreparedGpu,
  o: MeasureOptions,
  stepsPerRead: number,
  yieldNow: () => Promise<void>,
  meter: GpuMeter,
  backend: string,
): Promise<GpuMeasurement> {
  const block = async () => {
    for (let s = 0; s < stepsPerRead; s++) {
      p.step();
      await yieldNow();
    }
    return p.read();
  };
  let estimate = 0;
  let last = NaN;
  // At least o.warmup blocks, and every batch of the data set once (see the Note above).
  const warmupBlocks = Math.max(1, o.warmup, Math.ceil(GPU_BATCHES / stepsPerRead));
  const start = meter.counts();
  for (let i = 0; i < warmupBlocks; i++) {
    const t0 = now();
    last = await block();
    estimate = now() - t0;
  }
  const reps = Math.max(o.minReps, Math.min(o.maxReps, Math.floor(o.budgetMs / Math.max(estimate, 1e-3))));
  const samples: number[] = [];
  const before = meter.counts();
  const warmup = diffCounts(start, before, 1);
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    last = await block();
    samples.push((now() - t0) / stepsPerRead);
  }
  const perStep = diffCounts(before, meter.counts(), reps * stepsPerRead);
  const steps = reps * stepsPerRead;
  return {
    ms: median(samples),
    min: Math.min(...samples),
    reps,
    last,
    backend,
    stepsPerRead,
    perStep,
    steps,
    warmupSteps: warmupBlocks * stepsPerRead,
    warmup,
  };
}

const stepsFor = (w: GpuWorkload, stepsPerRead: number): number => (w === 'convInfer' ? 1 : stepsPerRead);

/**
 * Times `w` with Strata on its webgpu backend (opened here; the backend active before is restored
 * after). Throws what Strata throws when the backend does not open or a kernel fails.
 */
export async function measureStrataGpu(
  st: Strata,
  w: GpuWorkload,
  o: MeasureOptions,
  stepsPerRead: number,
  yieldNow: () => Promise<void>,
  meter: GpuMeter,
): Promise<GpuMeasurement> {
  const previous = st.getBackend().name;
  await st.setBackend('webgpu');
  let p: PreparedGpu | undefined;
  try {
    p = gpuPrepared(strataModel(st, w, GPU_BATCHES * BATCH));
    return await timeGpuBlocks(p, o, stepsFor(w, stepsPerRead), yieldNow, meter, st.getBackend().name);
  } finally {
    p?.dispose();
    await st.setBackend(previous);
  }
}

/** Times `w` with tfjs on tfjs-backend-webgpu. */
export async function measureTfGpu(
  tf: Tf,
  w: GpuWorkload,
  o: MeasureOptions,
  stepsPerRead: number,
  yieldNow: () => Promise<void>,
  meter: GpuMeter,
): Promise<GpuMeasurement> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: backend webgpu did not initialize');
  const p = gpuPrepared(tfModel(tf, w, GPU_BATCHES * BATCH));
  try {
    return await timeGpuBlocks(p, o, stepsFor(w, stepsPerRead), yieldNow, meter, tf.getBackend());
  } finally {
    p.dispose();
  }
}

/** A step that runs `run`, reads the first value of its result back (the wait for the device) and frees the result. */
function readingStep(run: () => { dataSync(): ArrayLike<number>; dispose(): void }): () => number {
  return () => {
    const out = run();
    const v = out.dataSync()[0];
    out.dispose();
    return v;
  };
}
