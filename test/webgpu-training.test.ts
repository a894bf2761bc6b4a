// Training on the webgpu backend in Node (Dawn on SwiftShader here): the Keras-book MLP on 2,000
// real MNIST images reaches >= 90 % on 1,000 held-out ones, with GPU memory flat from epoch to
// epoch and no value read back per step; a small convnet trains a few hundred steps with falling
// loss. The data are loaded on the CPU backend and meet the model's weights on the GPU (Note [Ops
// across backends]).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { webgpuSkip } from './webgpu-helpers.js';

interface Split {
  xTrain: st.Tensor;
  yTrain: st.Tensor;
  xTest: st.Tensor;
  yTest: st.Tensor;
}

async function mnistSplit(train: number, test: number, flat: boolean): Promise<Split> {
  await st.setBackend('native');
  const data = await st.data.mnist();
  const shape = (n: number) => (flat ? [n, 784] : [n, 28, 28, 1]);
  const rows = (skip: number, n: number) => st.reshape(st.slice(data.xTrain, [skip, 0, 0, 0], [n, 28, 28, 1]), shape(n));
  return {
    xTrain: rows(0, train),
    yTrain: st.slice(data.yTrain, [0], [train]),
    xTest: rows(train, test),
    yTest: st.slice(data.yTrain, [train], [test]),
  };
}

const gpu = () => st.getBackend() as unknown as { counters(): Record<string, number> };

describe('training on the webgpu backend', { skip: webgpuSkip }, () => {
  let split: Split;
  before(async () => {
    split = await mnistSplit(2000, 1000, true);
  });

  it('the Keras-book MLP reaches >= 90 % on 1,000 held-out MNIST images, memory flat, no read per step', async () => {
    await st.setBackend('webgpu');
    try {
      st.setSeed(1);
      const model = st.sequential({
        layers: [st.layers.dense({ units: 512, activation: 'relu', inputShape: [784] }), st.layers.dense({ units: 10, activation: 'softmax' })],
      });
      model.compile({ optimizer: 'rmsprop', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const bytes: number[] = [];
      const readsBefore = gpu().counters().reads;
      const history = await model.fit(split.xTrain, split.yTrain, {
        epochs: 5,
        batchSize: 32,
        verbose: 0,
        callbacks: [st.callbacks.lambdaCallback({ onEpochEnd: () => void bytes.push(st.memory().webgpu.bytes) })],
      });
      const reads = gpu().counters().reads - readsBefore;
      // 63 steps an epoch: the logs (loss and accuracy) are read once per epoch, not per step.
      assert.ok(reads <= 5 * 4, `${reads} reads over 5 epochs of 63 steps`);
      // The storage the model holds is the same after every epoch (the weights and the optimizer's
      // slots; each step's temporaries are freed).
      assert.ok(Math.max(...bytes.slice(1)) <= bytes[1] * 1.05, `GPU bytes per epoch: ${bytes.join(', ')}`);
      const losses = history.history.loss as number[];
      assert.ok(losses[4] < losses[0], `loss ${losses.join(', ')}`);
      const { accuracy } = (await model.evaluate(split.xTest, split.yTest, { verbose: 0 })) as { accuracy: number };
      assert.ok(accuracy >= 0.9, `held-out accuracy ${accuracy}`);
    } finally {
      await st.setBackend('native');
    }
  });

  it('a model trained on webgpu saves (weights and optimizer read asynchronously), and loads on webgpu and on native to the same predictions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-webgpu-save-'));
    try {
      await st.setBackend('webgpu');
      st.setSeed(3);
      const model = st.sequential({ layers: [st.layers.dense({ units: 8, activation: 'relu', inputShape: [4] }), st.layers.dense({ units: 3 })] });
      model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
      const x = st.randomNormal([16, 4]);
      await model.fit(x, st.randomNormal([16, 3]), { epochs: 2, batchSize: 8, verbose: 0 });
      const expected = Array.from(await (model.predict(x) as st.Tensor).data());
      await model.save(join(dir, 'm'));
      const again = await st.loadModel(join(dir, 'm'));
      assert.equal(again.getWeights()[0].backend.name, 'webgpu');
      assert.equal(again.optimizer?.iterations, 4);
      assert.deepEqual(Array.from(await (again.predict(x) as st.Tensor).data()), expected);
      const xHost = await x.data();
      await st.setBackend('native');
      const onCpu = await st.loadModel(join(dir, 'm'));
      const cpu = Array.from((onCpu.predict(st.tensor(xHost, [16, 4])) as st.Tensor).dataSync());
      cpu.forEach((v, i) =>
        assert.ok(Math.abs(v - expected[i]) <= 1e-5 + 1e-5 * Math.abs(expected[i]), `prediction ${i}: ${v} on native, ${expected[i]} on webgpu`),
      );
    } finally {
      await st.setBackend('native');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the augmentation layers train on webgpu (their random parameters are drawn on the host, with no read)', async () => {
    await st.setBackend('webgpu');
    try {
      st.setSeed(4);
      const model = st.sequential({
        layers: [
          st.layers.randomFlip({ inputShape: [12, 12, 1] }),
          st.layers.randomRotation({ factor: 0.1 }),
          st.layers.randomTranslation({ heightFactor: 0.1, widthFactor: 0.1 }),
          st.layers.randomZoom({ heightFactor: 0.1 }),
          st.layers.randomContrast({ factor: 0.2 }),
          st.layers.randomCrop({ height: 10, width: 10 }),
          st.layers.flatten(),
          st.layers.dense({ units: 2, activation: 'softmax' }),
        ],
      });
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
      const history = await model.fit(st.randomUniform([8, 12, 12, 1]), st.tensor([0, 1, 0, 1, 0, 1, 0, 1], [8], 'int32'), { epochs: 2, verbose: 0 });
      const losses = history.history.loss as number[];
      assert.ok(losses.every(Number.isFinite), `loss ${losses}`);
    } finally {
      await st.setBackend('native');
    }
  });

  it('a small convnet trains 240 steps with falling loss', async () => {
    const conv = await mnistSplit(640, 10, false);
    await st.setBackend('webgpu');
    try {
      st.setSeed(2);
      const model = st.sequential({
        layers: [
          st.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
          st.layers.maxPooling2d({ poolSize: 2 }),
          st.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
          st.layers.maxPooling2d({ poolSize: 2 }),
          st.layers.flatten(),
          st.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      });
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const history = await model.fit(conv.xTrain, conv.yTrain, { epochs: 6, batchSize: 16, verbose: 0 });
      const losses = history.history.loss as number[];
      assert.ok(losses[5] < 0.6 * losses[0], `loss by epoch: ${losses.map((l) => l.toFixed(3)).join(', ')}`);
    } finally {
      await st.setBackend('native');
    }
  });
});
