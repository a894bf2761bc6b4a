// One rank of `npm run bench:distributed` (bench/distributed.ts starts it under mpirun): trains
// the Keras-book MNIST convnet and the Chollet ch. 2 MLP (the architectures of bench/models.ts,
// built from layers so that model.fit runs them) with {distributed: true} on a global batch of
// 64, times the steps from onBatchEnd timestamps, and times an allreduce of as many floats as the
// model has trainable parameters. Rank 0 prints one line `RESULT {json}` per model on stdout;
// progress goes to stderr.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as st from '../src/index.js';
import { median } from './measure.js';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'convnet,mlp' },
    'global-batch': { type: 'string', default: '64' },
    steps: { type: 'string', default: '100' },
    epochs: { type: 'string', default: '3' },
    'allreduce-calls': { type: 'string', default: '50' },
  },
});
const GLOBAL_BATCH = Number(args['global-batch']);
const STEPS = Number(args.steps);
const EPOCHS = Number(args.epochs);
const ALLREDUCE_CALLS = Number(args['allreduce-calls']);

const job = await st.distributed.init();
const perRank = GLOBAL_BATCH / job.size;
if (!Number.isInteger(perRank)) throw new Error(`global batch ${GLOBAL_BATCH} is not a multiple of ${job.size} ranks`);
const log = (msg: string) => process.stderr.write(`[rank ${job.rank}/${job.size}] ${msg}\n`);

/** The CPUs this process may run on (mpirun binds ranks to cores unless told --bind-to none). */
function cpusAllowed(): string {
  try {
    return /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

function convnet(): st.Model {
  const inputs = st.input({ shape: [28, 28, 1] });
  let x = st.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }).apply(inputs);
  x = st.layers.maxPooling2d({ poolSize: 2 }).apply(x);
  x = st.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }).apply(x);
  x = st.layers.maxPooling2d({ poolSize: 2 }).apply(x);
  x = st.layers.conv2d({ filters: 128, kernelSize: 3, activation: 'relu' }).apply(x);
  x = st.layers.flatten().apply(x);
  const outputs = st.layers.dense({ units: 10, activation: 'softmax' }).apply(x);
  return st.model({ inputs, outputs });
}

function mlp(): st.Model {
  const inputs = st.input({ shape: [784] });
  const h = st.layers.dense({ units: 512, activation: 'relu' }).apply(inputs);
  const outputs = st.layers.dense({ units: 10, activation: 'softmax' }).apply(h);
  return st.model({ inputs, outputs });
}

const builders: Record<string, { build: () => st.Model; inputShape: number[] }> = {
  convnet: { build: convnet, inputShape: [28, 28, 1] },
  mlp: { build: mlp, inputShape: [784] },
};

/** Median time of one in-place allreduce of `n` float32 values (all ranks call it together). */
async function timeAllreduce(n: number): Promise<{ median: number; min: number }> {
  const t = st.randomUniform([n]);
  for (let i = 0; i < 5; i++) await st.distributed.allreduce(t, { inPlace: true });
  await st.distributed.barrier();
  const samples: number[] = [];
  for (let i = 0; i < ALLREDUCE_CALLS; i++) {
    const t0 = nowMs();
    await st.distributed.allreduce(t, { inPlace: true });
    samples.push(nowMs() - t0);
  }
  t.dispose();
  return { median: median(samples), min: Math.min(...samples) };
}

const threads = st.getNumThreads();
const allThreads = (await st.distributed.allgather([threads])).map((r) => r[0]);
log(
  `${job.library}; threads ${threads} (st.getNumThreads()); CPUs allowed ${cpusAllowed()}; OMP_NUM_THREADS=${process.env.OMP_NUM_THREADS ?? '(unset)'}`,
);

for (const name of String(args.models).split(',')) {
  const spec = builders[name];
  if (!spec) throw new Error(`unknown model ${name}`);
  const model = spec.build();
  model.compile({ optimizer: 'rmsprop', loss: 'sparseCategoricalCrossentropy' });
  const params = model.trainableWeights.reduce((s, w) => s + w.value.size, 0);

  // Every rank holds the whole (random) data set; fit takes each rank's shard of every global batch.
  const samples = STEPS * GLOBAL_BATCH;
  const labels = new Int32Array(samples);
  for (let i = 0; i < samples; i++) labels[i] = Math.floor(Math.random() * 10);
  const x = st.randomUniform([samples, ...spec.inputShape]);
  const y = st.tensor(labels, [samples], 'int32');

  // Warm-up: a short fit (10 global steps) with the same per-rank batch.
  const warmN = 10 * GLOBAL_BATCH;
  const xw = st.slice(x, [0], [warmN]),
    yw = st.slice(y, [0], [warmN]);
  const tw = nowMs();
  await model.fit(xw, yw, { epochs: 1, batchSize: perRank, distributed: true, verbose: 0 });
  log(`${name}: ${params} trainable parameters; warm-up fit ${(nowMs() - tw).toFixed(0)} ms`);

  // Step times: the time between consecutive onBatchEnd calls within an epoch. The callback asks
  // for no logs, so timing it forces no read of the loss (the fit runs as without it).
  const stepMs: number[] = [];
  const epochMs: number[] = [];
  let last: number | undefined;
  let epochStart = 0;
  const timer: st.Callback = {
    wantsLogs: () => false,
    onEpochBegin() {
      last = undefined;
      epochStart = nowMs();
    },
    onBatchEnd() {
      const t = nowMs();
      if (last !== undefined) stepMs.push(t - last);
      last = t;
    },
    onEpochEnd() {
      epochMs.push(nowMs() - epochStart);
    },
  };
  await model.fit(x, y, { epochs: EPOCHS, batchSize: perRank, distributed: true, verbose: 0, callbacks: [timer] });
  const step = median(stepMs);
  log(`${name}: median step ${step.toFixed(2)} ms over ${stepMs.length} steps; epochs ${epochMs.map((e) => e.toFixed(0)).join(' ')} ms`);

  const ar = await timeAllreduce(params);
  log(`${name}: allreduce of ${params} floats: median ${ar.median.toFixed(3)} ms, min ${ar.min.toFixed(3)} ms`);

  if (job.rank === 0) {
    const result = {
      model: name,
      ranks: job.size,
      threadsPerRank: allThreads,
      library: job.library,
      globalBatch: GLOBAL_BATCH,
      perRankBatch: perRank,
      stepsPerEpoch: STEPS,
      epochs: EPOCHS,
      params,
      gradientBytes: params * 4,
      stepMs: step,
      stepMsMin: Math.min(...stepMs),
      stepSamples: stepMs.length,
      epochMs,
      imagesPerSecond: (GLOBAL_BATCH * 1000) / step,
      allreduceMs: ar.median,
      allreduceMsMin: ar.min,
      allreduceCalls: ALLREDUCE_CALLS,
      allreduceShare: ar.median / step,
    };
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  }
  x.dispose();
  y.dispose();
  xw.dispose();
  yw.dispose();
}

await st.distributed.barrier();
st.distributed.finalize();
