// The wasm backend's fast kernels against the native backend (and tfjs-backend-wasm when it is
// installed somewhere: TFJS_WASM_DIR=/path/to/node_modules): SGEMM GFLOP/s for 256³ and the
// products of a 784-512-10 MLP training step (batch 64), then whole training steps of that MLP
// and of a small convnet. Run: npx tsx bench/wasm-kernels.ts [--quick]
// Each figure is "median (best)": on a machine shared with other work the best time shows what
// the code does when it has the cores, the median what it got; training steps also print the CPU
// time per step, which a busy machine distorts least (single-threaded, it compares the work). On
// a machine shared with other jobs, `chrt -f 5 npx tsx bench/wasm-kernels.ts` (root) gives the
// threads the cores for the half minute it runs. Every training step yields to the
// event loop, as a training loop does (the wasm backend frees dead storage between tasks).
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import * as st from '../src/index.js';
import { median, tick } from './measure.js';

const quick = process.argv.includes('--quick');
const budgetMs = quick ? 300 : 1500;

/** Wall ms of one call (median and best) and the process's CPU ms per call (every thread, the collector's too). */
interface Timing {
  median: number;
  best: number;
  cpu: number;
}

/** Times `fn` after warm-up, over about budgetMs. */
async function timeMs(fn: () => unknown, yieldEach = false): Promise<Timing> {
  for (let i = 0; i < 5; i++) {
    fn();
    if (yieldEach) await tick();
  }
  const samples: number[] = [];
  const start = performance.now(),
    cpu0 = process.cpuUsage();
  while (samples.length < 5 || (performance.now() - start < budgetMs && samples.length < 2000)) {
    const t0 = performance.now();
    fn();
    if (yieldEach) await tick();
    samples.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  return { median: median(samples), best: Math.min(...samples), cpu: (cpu.user + cpu.system) / 1000 / samples.length };
}

/** Lets the wasm worker threads start (they report ready asynchronously). */
async function threadsReady(): Promise<void> {
  st.setBackend('wasm');
  // biome-ignore lint/suspicious/noExplicitAny: the pool is the backend's private member
  const backend = st.getBackend() as any;
  for (let i = 0; i < 500 && backend.pool && !backend.pool.ready; i++) await new Promise((r) => setTimeout(r, 10));
}

const backends = st
  .backends()
  .filter((b) => b.available && b.name !== 'reference')
  .map((b) => b.name);
const threads = availableParallelism();
/** The configurations measured: wasm on one thread and on all, native on all. */
const configs: [string, string, number][] = [];
if (backends.includes('wasm')) configs.push(['wasm 1t', 'wasm', 1], [`wasm ${threads}t`, 'wasm', threads]);
if (backends.includes('native')) configs.push(['native 1t', 'native', 1], [`native ${threads}t`, 'native', threads]);

const products: [string, number, number, number, boolean, boolean][] = [
  ['256x256x256', 256, 256, 256, false, false],
  ['mlp fwd 1: 64x784 · 784x512', 64, 784, 512, false, false],
  ['mlp fwd 2: 64x512 · 512x10', 64, 512, 10, false, false],
  ['mlp dW1: (64x784)ᵀ · 64x512', 784, 64, 512, true, false],
  ['mlp dW2: (64x512)ᵀ · 64x10', 512, 64, 10, true, false],
  ['mlp dh: 64x10 · (512x10)ᵀ', 64, 10, 512, false, true],
];

async function gemm(): Promise<void> {
  console.log('\nSGEMM, GFLOP/s (m x k · k x n)');
  console.log(['product'.padEnd(32), ...configs.map(([name]) => name.padStart(15))].join(''));
  for (const [name, m, k, n, ta, tb] of products) {
    const row = [name.padEnd(32)];
    for (const [, backend, t] of configs) {
      st.setBackend(backend);
      st.setNumThreads(t);
      const a = st.randomUniform(ta ? [k, m] : [m, k]),
        b = st.randomUniform(tb ? [n, k] : [k, n]);
      const { median: ms, best } = await timeMs(() => st.matmul(a, b, ta, tb).dispose());
      const gflops = (t: number) => ((2 * m * n * k) / t / 1e6).toFixed(1);
      row.push(`${gflops(ms)} (${gflops(best)})`.padStart(15));
      a.dispose();
      b.dispose();
    }
    console.log(row.join(''));
  }
}

interface Net {
  params: st.Tensor[];
  forward(x: st.Tensor): st.Tensor;
}

function glorot(shape: number[], fanIn: number, fanOut: number): st.Tensor {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return st.variable(st.randomUniform(shape, { min: -limit, max: limit }));
}

function mlp(): Net {
  const params = [glorot([784, 512], 784, 512), st.variable(st.zeros([512])), glorot([512, 10], 512, 10), st.variable(st.zeros([10]))];
  const [w1, b1, w2, b2] = params;
  return { params, forward: (x) => st.fused.matMul({ a: st.fused.matMul({ a: x, b: w1, bias: b1, activation: 'relu' }), b: w2, bias: b2 }) };
}

/** conv 32 (3x3, relu) -> maxpool 2 -> conv 64 (3x3, relu) -> maxpool 2 -> dense 10, on 28x28x1. */
function convnet(): Net {
  const params = [
    glorot([3, 3, 1, 32], 9, 9 * 32),
    st.variable(st.zeros([32])),
    glorot([3, 3, 32, 64], 9 * 32, 9 * 64),
    st.variable(st.zeros([64])),
    glorot([5 * 5 * 64, 10], 1600, 10),
    st.variable(st.zeros([10])),
  ];
  const [f1, c1, f2, c2, w, b] = params;
  const block = (x: st.Tensor, f: st.Tensor, bias: st.Tensor) =>
    st.maxPool2d(st.fused.conv2d({ x, filter: f, bias, activation: 'relu' }), { poolSize: 2, strides: 2 });
  return {
    params,
    forward: (x) => {
      const h = block(block(x, f1, c1), f2, c2);
      return st.fused.matMul({ a: st.reshape(h, [x.shape[0], -1]), b: w, bias: b });
    },
  };
}

/** One step as a user writes it: backward() on the loss, then the optimizer on every parameter. */
async function trainStepMs(make: () => Net, inputShape: number[], batch: number): Promise<Timing> {
  const net = make();
  const opt = st.optimizers.rmsprop({ learningRate: 1e-3 });
  const x = st.randomUniform([batch, ...inputShape]);
  const y = st.tensor(
    new Int32Array(batch).map(() => Math.floor(Math.random() * 10)),
    [batch],
    'int32',
  );
  return timeMs(() => {
    for (const p of net.params) p.zeroGrad();
    const loss = st.losses.sparseCategoricalCrossentropy(y, net.forward(x), { fromLogits: true });
    loss.backward();
    opt.applyGradients(net.params.map((p) => ({ variable: p, grad: p.grad as st.Tensor })));
    loss.dispose();
  }, true);
}

/** The same MLP step on tfjs-backend-wasm (tf.train.rmsprop, softmax cross-entropy), when installed. */
async function tfjsWasmMlpMs(): Promise<Timing | undefined> {
  const dir = process.env.TFJS_WASM_DIR;
  if (!dir) return undefined;
  const require = createRequire(`${dir}/`);
  const tf = require('@tensorflow/tfjs-core');
  require('@tensorflow/tfjs-core/dist/register_all_gradients');
  require('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await tf.ready();
  const batch = 64;
  const w1 = tf.variable(tf.randomUniform([784, 512], -0.07, 0.07)),
    b1 = tf.variable(tf.zeros([512]));
  const w2 = tf.variable(tf.randomUniform([512, 10], -0.1, 0.1)),
    b2 = tf.variable(tf.zeros([10]));
  const x = tf.randomUniform([batch, 784]);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch }, () => Math.floor(Math.random() * 10)),
      'int32',
    ),
    10,
  );
  const opt = tf.train.rmsprop(1e-3);
  return timeMs(() => {
    const cost = opt.minimize(() => {
      const h = tf.fused.matMul({ a: x, b: w1, bias: b1, activation: 'relu' });
      return tf.losses.softmaxCrossEntropy(y, tf.fused.matMul({ a: h, b: w2, bias: b2 }));
    }, true);
    cost?.dispose();
  });
}

async function steps(): Promise<void> {
  console.log('\nTraining steps, ms: median (best) and CPU per step (RMSprop, sparse cross-entropy from logits)');
  console.log(['model'.padEnd(32), ...configs.map(([name]) => name.padStart(26))].join(''));
  const models: [string, () => Net, number[], number][] = [
    ['mlp 784-512-10, batch 64', mlp, [784], 64],
    ['convnet 28x28x1, batch 32', convnet, [28, 28, 1], 32],
  ];
  for (const [name, make, shape, batch] of models) {
    const row = [name.padEnd(32)];
    for (const [, backend, t] of configs) {
      st.setBackend(backend);
      st.setNumThreads(t);
      const { median: ms, best, cpu } = await trainStepMs(make, shape, batch);
      row.push(`${ms.toFixed(2)} (${best.toFixed(2)}) cpu ${cpu.toFixed(2)}`.padStart(26));
    }
    console.log(row.join(''));
  }
  const tfjs = await tfjsWasmMlpMs();
  if (tfjs !== undefined)
    console.log(`tfjs-backend-wasm mlp step: ${tfjs.median.toFixed(2)} (${tfjs.best.toFixed(2)}) ms, cpu ${tfjs.cpu.toFixed(2)} ms`);
}

await threadsReady();
await gemm();
await steps();
process.exit(0);
