// The two benchmark models written with Strata ops (what the conv2d and dense layers run),
// Keras's RMSprop through st.optimizers and a random in-memory data set.
import * as st from '../dist/index.js';
import { tick } from './measure.js';

type Tensor = st.Tensor;

export interface Model {
  name: string;
  /** Shape of one input image/row, without the batch dimension. */
  inputShape: number[];
  params: Tensor[];
  forward(x: Tensor): Tensor;
}

/** Keras's default kernel initializer: U(-l, l) with l = sqrt(6 / (fanIn + fanOut)). */
function glorot(shape: number[], fanIn: number, fanOut: number): Tensor {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return st.variable(st.randomUniform(shape, { min: -limit, max: limit }));
}

function convKernel(kh: number, kw: number, cin: number, cout: number): Tensor {
  return glorot([kh, kw, cin, cout], kh * kw * cin, kh * kw * cout);
}

const bias = (n: number): Tensor => st.variable(st.zeros([n]));

/** conv 32 (3x3, relu) -> maxpool 2 -> conv 64 -> maxpool 2 -> conv 128 -> flatten -> dense 10. */
export function convnet(): Model {
  const params = [
    convKernel(3, 3, 1, 32),
    bias(32),
    convKernel(3, 3, 32, 64),
    bias(64),
    convKernel(3, 3, 64, 128),
    bias(128),
    glorot([3 * 3 * 128, 10], 3 * 3 * 128, 10),
    bias(10),
  ];
  const [f1, b1, f2, b2, f3, b3, w, b] = params;
  // What a conv2d layer with a ReLU runs (one fused kernel where the backend has it), and what a
  // model runs for such a layer followed by max pooling (one kernel each way for few channels).
  const conv = (x: Tensor, f: Tensor, bb: Tensor) => st.fused.conv2d({ x, filter: f, bias: bb, activation: 'relu', padding: 'valid' });
  const convPool = (x: Tensor, f: Tensor, bb: Tensor) =>
    st.fused.conv2dMaxPool({ x, filter: f, bias: bb, activation: 'relu', padding: 'valid', pool: { poolSize: 2, strides: 2 } });
  return {
    name: 'convnet',
    inputShape: [28, 28, 1],
    params,
    forward(x) {
      let h = convPool(x, f1, b1);
      h = convPool(h, f2, b2);
      h = conv(h, f3, b3);
      return st.fused.matMul({ a: st.reshape(h, [x.shape[0], -1]), b: w, bias: b });
    },
  };
}

/** dense 512 (relu) -> dense 10 on flattened 28x28 images. */
export function mlp(): Model {
  const params = [glorot([784, 512], 784, 512), bias(512), glorot([512, 10], 512, 10), bias(10)];
  const [w1, b1, w2, b2] = params;
  return {
    name: 'mlp',
    inputShape: [784],
    params,
    // What dense layers with a bias run: one fused kernel where the backend has it.
    forward(x) {
      return st.fused.matMul({ a: st.fused.matMul({ a: x, b: w1, bias: b1, activation: 'relu' }), b: w2, bias: b2 });
    },
  };
}

/**
 * Keras's RMSprop (v = rho v + (1 - rho) g^2; w -= lr g / sqrt(v + eps)) through Strata's own
 * optimizer, as a user would train: one fused update kernel per variable on the native backend.
 */
export class RMSprop {
  private readonly optimizer: st.Optimizer;

  constructor(_params: readonly Tensor[], lr = 1e-3, rho = 0.9, eps = 1e-7) {
    this.optimizer = st.optimizers.rmsprop({ learningRate: lr, rho, epsilon: eps });
  }

  update(params: readonly Tensor[]): void {
    params.forEach((p, i) => {
      if (!p.grad) throw new Error(`RMSprop: parameter ${i} has no gradient`);
    });
    this.optimizer.applyGradients(params.map((p) => ({ variable: p, grad: p.grad })));
  }
}

export function lossOf(model: Model, x: Tensor, y: Tensor): Tensor {
  return st.losses.sparseCategoricalCrossentropy(y, model.forward(x), { fromLogits: true });
}

/** One training step; returns the loss tensor (computed before the update). */
export function trainStep(model: Model, opt: RMSprop, x: Tensor, y: Tensor): Tensor {
  for (const p of model.params) p.zeroGrad();
  const loss = lossOf(model, x, y);
  loss.backward();
  opt.update(model.params);
  return loss;
}

export interface Dataset {
  x: Tensor;
  y: Tensor;
  size: number;
}

/** `n` random images in [0, 1) with random labels 0..9 (never zeros, so no kernel takes a shortcut). */
export function randomDataset(n: number, inputShape: readonly number[]): Dataset {
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = Math.floor(Math.random() * 10);
  return { x: st.randomUniform([n, ...inputShape]), y: st.tensor(labels, [n], 'int32'), size: n };
}

/** Batch `i` (wrapping around the data set); the last batch of a pass may be short. */
export function batchOf(data: Dataset, start: number, batchSize: number): { x: Tensor; y: Tensor } {
  const size = Math.min(batchSize, data.size - start);
  return { x: st.slice(data.x, [start], [size]), y: st.slice(data.y, [start], [size]) };
}

/**
 * `steps` training steps over `data` in batches (one pass by default); returns the wall time in
 * ms and the last loss. With `yieldEachStep` the event loop turns after every step, as in an async
 * training loop, which is what lets Strata free the previous step's native buffers.
 */
export async function epoch(
  model: Model,
  opt: RMSprop,
  data: Dataset,
  batchSize: number,
  steps = Math.ceil(data.size / batchSize),
  yieldEachStep = true,
): Promise<{ ms: number; loss: number }> {
  const t0 = process.hrtime.bigint();
  let loss: Tensor | undefined;
  for (let s = 0; s < steps; s++) {
    const start = (s * batchSize) % data.size;
    const b = batchOf(data, start, batchSize);
    loss = trainStep(model, opt, b.x, b.y);
    if (yieldEachStep) await tick();
  }
  const last = loss ? loss.item() : NaN;
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, loss: last };
}
