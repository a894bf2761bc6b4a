// model.save / st.loadModel: round trips must predict bit-identically on the same backend, restore
// the compile state, resume training exactly, write well-formed files atomically, and reject
// corrupt, truncated or foreign files with a FormatError naming the file (Note [Model files]).
// The reference for a round trip is the original model itself: same backend, same weights, so
// every output must be equal to the last bit; resuming is checked against an uninterrupted run.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { randomValues } from './helpers.js';

const BACKENDS = st.backends().filter((b) => b.available).map((b) => b.name);

async function onBackend<T>(name: string, f: () => Promise<T>): Promise<T> {
  const previous = st.getBackend().name;
  st.setBackend(name);
  try {
    return await f();
  } finally {
    st.setBackend(previous);
  }
}

let root = '';
let dirCount = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'strata-save-load-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
const freshDir = (label: string) => join(root, `${label}-${dirCount++}`);

const floats = (shape: number[], seed: number) => st.tensor(randomValues(shape.reduce((a, b) => a * b, 1), seed), shape);
const labels = (n: number, classes: number, seed: number) => st.tensor(randomValues(n, seed, 0, classes).map(Math.floor), [n], 'int32');
const values = (t: st.Tensor | st.Tensor[]) => (Array.isArray(t) ? t : [t]).map((x) => Array.from(x.dataSync()));
const weightValues = (m: st.Model) => m.getWeights().map((w) => Array.from(w.dataSync()));
const quiet = { printFn: () => {} };

/** Saves, loads, and checks that the copy is the same model: outputs bit-equal, same layers, config and summary. */
async function roundTrip(model: st.Model, x: st.Tensor | st.Tensor[]): Promise<st.Model> {
  const dir = freshDir('rt');
  await model.save(dir);
  const loaded = await st.loadModel(dir);
  assert.deepEqual(values(loaded.predict(x)), values(model.predict(x)), 'predictions');
  assert.deepEqual(weightValues(loaded), weightValues(model), 'weights');
  assert.equal(loaded.className, model.className);
  assert.equal(loaded.name, model.name);
  assert.deepEqual(loaded.layers.map((l) => l.name), model.layers.map((l) => l.name));
  assert.equal(loaded.countParams(), model.countParams());
  assert.deepEqual(loaded.getConfig(), model.getConfig());
  assert.equal(loaded.summary(quiet), model.summary(quiet));
  assert.deepEqual(loaded.getCompileConfig(), model.getCompileConfig());
  return loaded;
}

describe('save → load → predict equality', () => {
  for (const backend of BACKENDS) {
    it(`Sequential MLP with dropout and an l2 regularizer, compiled (${backend})`, () => onBackend(backend, async () => {
      st.setSeed(11);
      const model = st.sequential({ layers: [
        st.layers.dense({ units: 8, inputShape: [5], activation: 'relu', kernelRegularizer: st.regularizers.l2({ l2: 0.01 }) }),
        st.layers.dropout({ rate: 0.3 }),
        st.layers.dense({ units: 3, activation: 'softmax' }),
      ] });
      model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const x = floats([24, 5], 1), y = labels(24, 3, 2);
      await model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
      const loaded = await roundTrip(model, x);
      // Compile state: same optimizer class and hyperparameters, loss, metrics; evaluate agrees
      // (the l2 penalty is part of the loss, so the regularizer came back too).
      assert.ok(loaded.isCompiled);
      assert.equal(loaded.optimizer!.constructor, model.optimizer!.constructor);
      assert.deepEqual(loaded.optimizer!.getConfig(), model.optimizer!.getConfig());
      assert.equal(loaded.optimizer!.iterations, 6);
      const [a, b] = [await model.evaluate(x, y, { verbose: 0 }), await loaded.evaluate(x, y, { verbose: 0 })];
      assert.deepEqual(Object.keys(b).sort(), ['accuracy', 'loss']);
      assert.deepEqual(b, a);
      // Loading without the compile state leaves an uncompiled model with the same outputs.
      const bare = await st.loadModel(join(root, `rt-${dirCount - 1}`), { compile: false });
      assert.equal(bare.isCompiled, false);
      assert.deepEqual(values(bare.predict(x)), values(model.predict(x)));
    }));

    it(`the Keras-book convnet (conv2d, maxPooling2d, flatten, dense) (${backend})`, () => onBackend(backend, async () => {
      st.setSeed(12);
      const model = st.sequential({ layers: [
        st.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [10, 10, 1] }),
        st.layers.maxPooling2d({ poolSize: 2 }),
        st.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu' }),
        st.layers.flatten(),
        st.layers.dense({ units: 4, activation: 'softmax' }),
      ] });
      model.compile({ optimizer: 'rmsprop', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const x = floats([6, 10, 10, 1], 3), y = labels(6, 4, 4);
      await model.fit(x, y, { epochs: 1, batchSize: 3, verbose: 0 });
      const loaded = await roundTrip(model, x);
      assert.deepEqual(await loaded.evaluate(x, y, { verbose: 0 }), await model.evaluate(x, y, { verbose: 0 }));
    }));

    it(`batchNormalization (moving statistics after fit) and layerNormalization (${backend})`, () => onBackend(backend, async () => {
      st.setSeed(13);
      const model = st.sequential({ layers: [
        st.layers.dense({ units: 6, inputShape: [4] }),
        st.layers.batchNormalization(),
        st.layers.activation({ activation: 'relu' }),
        st.layers.dense({ units: 5 }),
        st.layers.layerNormalization(),
        st.layers.dense({ units: 2 }),
      ] });
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      const x = floats([16, 4], 5).mul(3).add(1), y = floats([16, 2], 6);
      await model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
      const bn = model.getLayer(1);
      const [movingMean] = bn.weights.filter((w) => !w.trainable).map((w) => Array.from(w.value.dataSync()));
      assert.ok(movingMean.some((v) => Math.abs(v) > 1e-3), 'fit moved the moving mean away from 0');
      const loaded = await roundTrip(model, x);
      assert.deepEqual(loaded.getLayer(1).weights.map((w) => w.trainable), bn.weights.map((w) => w.trainable));
    }));
  }

  it('a Sequential built lazily by fit (no inputShape)', async () => {
    st.setSeed(14);
    const model = st.sequential({ layers: [st.layers.dense({ units: 4, activation: 'tanh' }), st.layers.dense({ units: 1 })] });
    model.compile({ optimizer: 'adam', loss: 'mse' });
    assert.equal(model.built, false);
    const x = floats([10, 3], 7), y = floats([10, 1], 8);
    await model.fit(x, y, { epochs: 1, batchSize: 5, verbose: 0 });
    await roundTrip(model, x);
  });

  it('a functional model with two inputs, two outputs and a shared layer', async () => {
    st.setSeed(15);
    const a = st.input({ shape: [4], name: 'a' }), b = st.input({ shape: [3], name: 'b' });
    const shared = st.layers.dense({ units: 5, activation: 'relu', name: 'shared' });
    const ha = shared.apply(st.layers.dense({ units: 6, name: 'proj_a' }).apply(a));
    const hb = shared.apply(st.layers.dense({ units: 6, name: 'proj_b' }).apply(b));
    const classes = st.layers.dense({ units: 3, activation: 'softmax', name: 'classes' }).apply(st.layers.add().apply([ha, hb]));
    const score = st.layers.dense({ units: 1, name: 'score' }).apply(hb);
    const model = st.model({ inputs: [a, b], outputs: [classes, score], name: 'two_headed' });
    model.compile({ optimizer: 'adam', loss: ['sparseCategoricalCrossentropy', 'mse'], metrics: [['accuracy'], ['mae']], lossWeights: [1, 0.5] });
    const xs = [floats([12, 4], 9), floats([12, 3], 10)], ys = [labels(12, 3, 11), floats([12, 1], 12)];
    await model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0 });
    const loaded = await roundTrip(model, xs);
    assert.equal(loaded.getLayer('shared').inboundNodes.length, 2, 'the shared layer is called twice in the copy');
    assert.equal(loaded.weights.filter((w) => w.path.startsWith('shared/')).length, 2, 'and its weights are stored once');
    assert.deepEqual(await loaded.evaluate(xs, ys, { verbose: 0 }), await model.evaluate(xs, ys, { verbose: 0 }));
  });

  it('a functional model nested in a Sequential, and a Sequential nested in a functional model', async () => {
    st.setSeed(16);
    const i = st.input({ shape: [4] });
    const inner = st.model({ inputs: i, outputs: st.layers.dense({ units: 3, activation: 'relu' }).apply(st.layers.dense({ units: 5 }).apply(i)), name: 'inner_fn' });
    const outerSeq = st.sequential({ name: 'outer_seq' });
    outerSeq.add(st.input({ shape: [4] }));
    outerSeq.add(inner);
    outerSeq.add(st.layers.dense({ units: 2 }));
    const x = floats([7, 4], 13);
    await roundTrip(outerSeq, x);

    const innerSeq = st.sequential({ layers: [st.layers.dense({ units: 5, inputShape: [4], activation: 'sigmoid' }), st.layers.dense({ units: 3 })], name: 'inner_seq' });
    const j = st.input({ shape: [4] });
    const outerFn = st.model({ inputs: j, outputs: st.layers.dense({ units: 2 }).apply(innerSeq.apply(j)), name: 'outer_fn' });
    outerFn.compile({ optimizer: 'rmsprop', loss: 'mse' });
    await outerFn.fit(x, floats([7, 2], 14), { epochs: 1, batchSize: 7, verbose: 0 });
    const loaded = await roundTrip(outerFn, x);
    assert.equal(loaded.getLayer('inner_seq').className, 'Sequential');
  });
});

/**
 * Training from the same seed for 4 epochs, or for 2, saving, loading and training 2 more, must
 * end with the same weights. Deterministic by design: st.setSeed(1) before building (the
 * initializers), and st.setSeed(100 + epoch) at every epoch's start in both runs, so the shuffle
 * order and the dropout masks of epoch e are the same whatever happened before (loading a model
 * builds layers, which draws initial values from the global stream; the reseed makes that moot).
 */
async function resumeRun(backend: string, optimizer: 'adam' | 'rmsprop', interrupted: boolean, compileOnLoad = true): Promise<{ weights: number[][]; iterations: number }> {
  return onBackend(backend, async () => {
    const reseed = { onEpochBegin: (epoch: number) => st.setSeed(100 + epoch) };
    const x = floats([20, 6], 21), y = labels(20, 3, 22);
    const fitArgs = { batchSize: 6, verbose: 0 as const, callbacks: [reseed] };
    st.setSeed(1);
    const model = st.sequential({ layers: [
      st.layers.dense({ units: 8, inputShape: [6], activation: 'relu' }),
      st.layers.dropout({ rate: 0.25 }),
      st.layers.dense({ units: 3 }),
    ] });
    const opt = optimizer === 'adam' ? st.optimizers.adam({ learningRate: 0.02 }) : st.optimizers.rmsprop({ learningRate: 0.01, momentum: 0.5 });
    model.compile({ optimizer: opt, loss: 'sparseCategoricalCrossentropy' });
    if (!interrupted) {
      await model.fit(x, y, { ...fitArgs, epochs: 4 });
      return { weights: weightValues(model), iterations: model.optimizer!.iterations };
    }
    await model.fit(x, y, { ...fitArgs, epochs: 2 });
    const dir = freshDir(`resume-${optimizer}`);
    await model.save(dir);
    const resumed = await st.loadModel(dir, { compile: compileOnLoad });
    if (!compileOnLoad) resumed.compile({ optimizer: optimizer === 'adam' ? st.optimizers.adam({ learningRate: 0.02 }) : st.optimizers.rmsprop({ learningRate: 0.01, momentum: 0.5 }), loss: 'sparseCategoricalCrossentropy' });
    await resumed.fit(x, y, { ...fitArgs, epochs: 4, initialEpoch: 2 });
    return { weights: weightValues(resumed), iterations: resumed.optimizer!.iterations };
  });
}

describe('resume from a checkpoint', () => {
  for (const backend of BACKENDS) {
    for (const optimizer of ['adam', 'rmsprop'] as const) {
      it(`${optimizer}: 2 epochs + save/load + 2 epochs = 4 epochs uninterrupted (${backend})`, async () => {
        const straight = await resumeRun(backend, optimizer, false);
        const resumed = await resumeRun(backend, optimizer, true);
        assert.equal(resumed.iterations, straight.iterations);
        assert.equal(straight.iterations, 16);
        assert.deepEqual(resumed.weights, straight.weights);
        // The check has teeth: a fresh optimizer (no slots, iterations 0) ends elsewhere.
        const fresh = await resumeRun(backend, optimizer, true, false);
        assert.notDeepEqual(fresh.weights, straight.weights);
      });
    }
  }
});
