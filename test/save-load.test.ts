// model.save / st.loadModel: round trips must predict bit-identically on the same backend, restore
// the compile state, resume training exactly, write well-formed files atomically, and load across
// backends, dtypes and compile arguments. Rejecting corrupt, truncated or foreign files is tested in
// save-load-rejects.test.ts (Note [Atomic model saves]).
// The reference for a round trip is the original model itself: same backend, same weights, so
// every output must be equal to the last bit; resuming is checked against an uninterrupted run.
import assert from 'node:assert/strict';
import { readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { randomValues, withBackendAsync } from './helpers.js';
import {
  floats,
  freshDir,
  root,
  manifestOf,
  quiet,
  rejectsLoad,
  savedMlp,
  sha256,
  values,
  weightValues,
  withEditedManifest,
} from './save-load-helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first; the
// per-backend cases read with `await t.data()`, which every backend has.
await st.ready();
const BACKENDS = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);

const labels = (n: number, classes: number, seed: number) => st.tensor(randomValues(n, seed, 0, classes).map(Math.floor), [n], 'int32');

/** Saves, loads, and checks that the copy is the same model: outputs bit-equal, same layers, config and summary. */
async function roundTrip(model: st.Model, x: st.Tensor | st.Tensor[], dir = freshDir('rt')): Promise<st.Model> {
  await model.save(dir);
  const loaded = await st.loadModel(dir);
  assert.deepEqual(await values(loaded.predict(x)), await values(model.predict(x)), 'predictions');
  assert.deepEqual(await weightValues(loaded), await weightValues(model), 'weights');
  assert.equal(loaded.className, model.className);
  assert.equal(loaded.name, model.name);
  assert.deepEqual(
    loaded.layers.map((l) => l.name),
    model.layers.map((l) => l.name),
  );
  assert.equal(loaded.countParams(), model.countParams());
  assert.deepEqual(loaded.getConfig(), model.getConfig());
  assert.equal(loaded.summary(quiet), model.summary(quiet));
  assert.deepEqual(loaded.getCompileConfig(), model.getCompileConfig());
  return loaded;
}

describe('save → load → predict equality', () => {
  for (const backend of BACKENDS) {
    it(`Sequential MLP with dropout and an l2 regularizer, compiled (${backend})`, () =>
      withBackendAsync(backend, async () => {
        st.setSeed(11);
        const model = st.sequential({
          layers: [
            st.layers.dense({ units: 8, inputShape: [5], activation: 'relu', kernelRegularizer: st.regularizers.l2({ l2: 0.01 }) }),
            st.layers.dropout({ rate: 0.3 }),
            st.layers.dense({ units: 3, activation: 'softmax' }),
          ],
        });
        model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
        const x = floats([24, 5], 1),
          y = labels(24, 3, 2);
        await model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
        const dir = freshDir('mlp-dropout');
        const loaded = await roundTrip(model, x, dir);
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
        const bare = await st.loadModel(dir, { compile: false });
        assert.equal(bare.isCompiled, false);
        assert.deepEqual(await values(bare.predict(x)), await values(model.predict(x)));
      }));

    it(`the Keras-book convnet (conv2d, maxPooling2d, flatten, dense) (${backend})`, () =>
      withBackendAsync(backend, async () => {
        st.setSeed(12);
        const model = st.sequential({
          layers: [
            st.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [10, 10, 1] }),
            st.layers.maxPooling2d({ poolSize: 2 }),
            st.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu' }),
            st.layers.flatten(),
            st.layers.dense({ units: 4, activation: 'softmax' }),
          ],
        });
        model.compile({ optimizer: 'rmsprop', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
        const x = floats([6, 10, 10, 1], 3),
          y = labels(6, 4, 4);
        await model.fit(x, y, { epochs: 1, batchSize: 3, verbose: 0 });
        const loaded = await roundTrip(model, x);
        assert.deepEqual(await loaded.evaluate(x, y, { verbose: 0 }), await model.evaluate(x, y, { verbose: 0 }));
      }));

    it(`batchNormalization (moving statistics after fit) and layerNormalization (${backend})`, () =>
      withBackendAsync(backend, async () => {
        st.setSeed(13);
        const model = st.sequential({
          layers: [
            st.layers.dense({ units: 6, inputShape: [4] }),
            st.layers.batchNormalization(),
            st.layers.activation({ activation: 'relu' }),
            st.layers.dense({ units: 5 }),
            st.layers.layerNormalization(),
            st.layers.dense({ units: 2 }),
          ],
        });
        model.compile({ optimizer: 'sgd', loss: 'mse' });
        const x = floats([16, 4], 5).mul(3).add(1),
          y = floats([16, 2], 6);
        await model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
        const bn = model.getLayer(1);
        const [movingMean] = await values(bn.weights.filter((w) => !w.trainable).map((w) => w.value));
        assert.ok(
          movingMean.some((v) => Math.abs(v) > 1e-3),
          'fit moved the moving mean away from 0',
        );
        const loaded = await roundTrip(model, x);
        assert.deepEqual(
          loaded.getLayer(1).weights.map((w) => w.trainable),
          bn.weights.map((w) => w.trainable),
        );
      }));

    it(`a Sequential built lazily by fit (no inputShape) (${backend})`, () =>
      withBackendAsync(backend, async () => {
        st.setSeed(14);
        const model = st.sequential({ layers: [st.layers.dense({ units: 4, activation: 'tanh' }), st.layers.dense({ units: 1 })] });
        model.compile({ optimizer: 'adam', loss: 'mse' });
        assert.equal(model.built, false);
        const x = floats([10, 3], 7),
          y = floats([10, 1], 8);
        await model.fit(x, y, { epochs: 1, batchSize: 5, verbose: 0 });
        await roundTrip(model, x);
      }));

    it(`a functional model with two inputs, two outputs and a shared layer (${backend})`, () =>
      withBackendAsync(backend, async () => {
        st.setSeed(15);
        const a = st.input({ shape: [4], name: 'a' }),
          b = st.input({ shape: [3], name: 'b' });
        const shared = st.layers.dense({ units: 5, activation: 'relu', name: 'shared' });
        const ha = shared.apply(st.layers.dense({ units: 6, name: 'proj_a' }).apply(a));
        const hb = shared.apply(st.layers.dense({ units: 6, name: 'proj_b' }).apply(b));
        const classes = st.layers.dense({ units: 3, activation: 'softmax', name: 'classes' }).apply(st.layers.add().apply([ha, hb]));
        const score = st.layers.dense({ units: 1, name: 'score' }).apply(hb);
        const model = st.model({ inputs: [a, b], outputs: [classes, score], name: 'two_headed' });
        model.compile({ optimizer: 'adam', loss: ['sparseCategoricalCrossentropy', 'mse'], metrics: [['accuracy'], ['mae']], lossWeights: [1, 0.5] });
        const xs = [floats([12, 4], 9), floats([12, 3], 10)],
          ys = [labels(12, 3, 11), floats([12, 1], 12)];
        await model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0 });
        const loaded = await roundTrip(model, xs);
        assert.equal(loaded.getLayer('shared').inboundNodes.length, 2, 'the shared layer is called twice in the copy');
        assert.equal(loaded.weights.filter((w) => w.path.startsWith('shared/')).length, 2, 'and its weights are stored once');
        assert.deepEqual(await loaded.evaluate(xs, ys, { verbose: 0 }), await model.evaluate(xs, ys, { verbose: 0 }));
      }));

    it(`a functional model nested in a Sequential, and a Sequential nested in a functional model (${backend})`, () =>
      withBackendAsync(backend, async () => {
        st.setSeed(16);
        const i = st.input({ shape: [4] });
        const inner = st.model({
          inputs: i,
          outputs: st.layers.dense({ units: 3, activation: 'relu' }).apply(st.layers.dense({ units: 5 }).apply(i)),
          name: 'inner_fn',
        });
        const outerSeq = st.sequential({ name: 'outer_seq' });
        outerSeq.add(st.input({ shape: [4] }));
        outerSeq.add(inner);
        outerSeq.add(st.layers.dense({ units: 2 }));
        const x = floats([7, 4], 13);
        await roundTrip(outerSeq, x);

        const innerSeq = st.sequential({
          layers: [st.layers.dense({ units: 5, inputShape: [4], activation: 'sigmoid' }), st.layers.dense({ units: 3 })],
          name: 'inner_seq',
        });
        const j = st.input({ shape: [4] });
        const outerFn = st.model({ inputs: j, outputs: st.layers.dense({ units: 2 }).apply(innerSeq.apply(j)), name: 'outer_fn' });
        outerFn.compile({ optimizer: 'rmsprop', loss: 'mse' });
        await outerFn.fit(x, floats([7, 2], 14), { epochs: 1, batchSize: 7, verbose: 0 });
        const loaded = await roundTrip(outerFn, x);
        assert.equal(loaded.getLayer('inner_seq').className, 'Sequential');
      }));
  }
});

/**
 * Training from the same seed for 4 epochs, or for 2, saving, loading and training 2 more, must
 * end with the same weights. Deterministic by design: st.setSeed(1) before building (the
 * initializers), and st.setSeed(100 + epoch) at every epoch's start in both runs, so the shuffle
 * order and the dropout masks of epoch e are the same whatever happened before (loading a model
 * builds layers, which draws initial values from the global stream; the reseed makes that moot).
 */
async function resumeRun(
  backend: string,
  optimizer: 'adam' | 'rmsprop',
  interrupted: boolean,
  compileOnLoad = true,
): Promise<{ weights: number[][]; iterations: number }> {
  return withBackendAsync(backend, async () => {
    const reseed = { onEpochBegin: (epoch: number) => st.setSeed(100 + epoch) };
    const x = floats([20, 6], 21),
      y = labels(20, 3, 22);
    const fitArgs = { batchSize: 6, verbose: 0 as const, callbacks: [reseed] };
    st.setSeed(1);
    const model = st.sequential({
      layers: [st.layers.dense({ units: 8, inputShape: [6], activation: 'relu' }), st.layers.dropout({ rate: 0.25 }), st.layers.dense({ units: 3 })],
    });
    const makeOptimizer = () =>
      optimizer === 'adam' ? st.optimizers.adam({ learningRate: 0.02 }) : st.optimizers.rmsprop({ learningRate: 0.01, momentum: 0.5 });
    model.compile({ optimizer: makeOptimizer(), loss: 'sparseCategoricalCrossentropy' });
    if (!interrupted) {
      await model.fit(x, y, { ...fitArgs, epochs: 4 });
      return { weights: await weightValues(model), iterations: model.optimizer!.iterations };
    }
    await model.fit(x, y, { ...fitArgs, epochs: 2 });
    const dir = freshDir(`resume-${optimizer}`);
    await model.save(dir);
    const resumed = await st.loadModel(dir, { compile: compileOnLoad });
    if (!compileOnLoad) resumed.compile({ optimizer: makeOptimizer(), loss: 'sparseCategoricalCrossentropy' });
    await resumed.fit(x, y, { ...fitArgs, epochs: 4, initialEpoch: 2 });
    return { weights: await weightValues(resumed), iterations: resumed.optimizer!.iterations };
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

describe('the files', () => {
  it('model.json lists the weights and optimizer files with their sizes and checksums (Note [Atomic model saves]); no temp files remain', async () => {
    const { dir, model } = await savedMlp();
    const manifest = await manifestOf(dir);
    assert.deepEqual((await readdir(dir)).sort(), ['model.json', manifest.files.optimizer.path, manifest.files.weights.path].sort());
    assert.match(manifest.files.weights.path, /^weights\.[0-9a-z]+-[0-9a-f]{6}-\d+-[0-9a-f]{6}\.safetensors$/);
    assert.match(manifest.files.optimizer.path, /^optimizer\..+\.safetensors$/);
    for (const role of ['weights', 'optimizer'] as const) {
      const bytes = await readFile(join(dir, manifest.files[role].path));
      assert.equal(manifest.files[role].bytes, bytes.byteLength, role);
      assert.equal(manifest.files[role].sha256, sha256(bytes), role);
    }
    assert.equal(manifest.format, 'strata-model');
    assert.equal(manifest.formatVersion, 2);
    assert.deepEqual(manifest.model, { className: 'Sequential', config: model.getConfig() });
    assert.deepEqual(
      manifest.weights.map((w: { key: string }) => w.key),
      ['hidden/kernel', 'hidden/bias', 'out/kernel', 'out/bias'],
    );
    const weights = decodeSafetensors(await readFile(join(dir, manifest.files.weights.path)), 'weights');
    assert.deepEqual([...weights.tensors.keys()].sort(), ['hidden/bias', 'hidden/kernel', 'out/bias', 'out/kernel']);
    model.weights.forEach((w, i) => {
      const stored = weights.tensors.get(manifest.weights[i].key)!;
      assert.deepEqual(stored.shape, w.value.shape);
      assert.deepEqual(manifest.weights[i].shape, w.value.shape);
      assert.deepEqual(Array.from(stored.dataSync()), Array.from(w.value.dataSync()), w.path);
    });
    // Adam keeps two slots per variable; the file has them all plus the iteration count (2 steps).
    const state = decodeSafetensors(await readFile(join(dir, manifest.files.optimizer.path)), 'optimizer');
    assert.equal(state.tensors.get('iterations')!.item(), 2);
    assert.equal(state.tensors.size, 1 + 2 * 4);
    const slot = state.tensors.get('out/kernel/1')!;
    assert.deepEqual(Array.from(slot.dataSync()), Array.from(model.optimizer!.slotsFor(model.weights[2].value)![1].dataSync()));
  });

  it('saving twice replaces the files of the first save; an uncompiled save drops the stale optimizer state', async () => {
    const { dir, model, x } = await savedMlp();
    const first = (await readdir(dir)).sort();
    await model.fit(x, floats([8, 2], 40), { epochs: 2, batchSize: 4, verbose: 0 });
    await model.save(dir);
    const manifest = await manifestOf(dir);
    assert.deepEqual((await readdir(dir)).sort(), ['model.json', manifest.files.optimizer.path, manifest.files.weights.path].sort());
    assert.ok(!first.includes(manifest.files.weights.path));
    const again = await st.loadModel(dir);
    assert.deepEqual(await weightValues(again), await weightValues(model));
    assert.equal(again.optimizer!.iterations, 6);
    // A different, uncompiled model in the same directory replaces everything.
    st.setSeed(41);
    const other = st.sequential({ layers: [st.layers.dense({ units: 4, inputShape: [3] })] });
    await other.save(dir);
    const third = await manifestOf(dir);
    assert.equal(third.files.optimizer, null);
    assert.deepEqual((await readdir(dir)).sort(), ['model.json', third.files.weights.path].sort());
    const loaded = await st.loadModel(dir);
    assert.equal(loaded.isCompiled, false);
    assert.deepEqual(await values(loaded.predict(x)), await values(other.predict(x)));
  });

  it('a folder saved by format version 1 (fixed file names) still loads, and a new save replaces its files', async () => {
    const { dir, model, x } = await savedMlp(17);
    const manifest = await manifestOf(dir);
    await rename(join(dir, manifest.files.weights.path), join(dir, 'weights.safetensors'));
    await rename(join(dir, manifest.files.optimizer.path), join(dir, 'optimizer.safetensors'));
    delete manifest.files;
    manifest.formatVersion = 1;
    manifest.optimizerState.file = 'optimizer.safetensors';
    await writeFile(join(dir, 'model.json'), JSON.stringify(manifest));
    const loaded = await st.loadModel(dir);
    assert.deepEqual(await values(loaded.predict(x)), await values(model.predict(x)));
    assert.equal(loaded.optimizer!.iterations, model.optimizer!.iterations);
    await loaded.save(dir);
    const now = await manifestOf(dir);
    assert.deepEqual((await readdir(dir)).sort(), ['model.json', now.files.optimizer.path, now.files.weights.path].sort());
  });

  it('userDefinedMetadata is saved in model.json and restored (a copy, JSON values only)', async () => {
    const { dir, model } = await savedMlp(19);
    const meta = { run: 'a', step: 3, nested: { list: [1, 2] } };
    model.setUserDefinedMetadata(meta);
    meta.step = 4; // the model kept a copy
    await model.save(dir);
    assert.deepEqual((await st.loadModel(dir)).getUserDefinedMetadata(), { run: 'a', step: 3, nested: { list: [1, 2] } });
    model.setUserDefinedMetadata(undefined);
    await model.save(dir);
    assert.equal((await st.loadModel(dir)).getUserDefinedMetadata(), undefined);
    assert.equal((await manifestOf(dir)).userDefinedMetadata, undefined);
    assert.throws(() => model.setUserDefinedMetadata([1] as unknown as Record<string, unknown>), st.ValueError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(
      () => model.setUserDefinedMetadata(cyclic),
      (e: Error) => e instanceof st.ValueError && /cannot be written as JSON/.test(e.message),
    );
  });

  it('an unbuilt model cannot be saved (ValueError), and nothing is written', async () => {
    const model = st.sequential({ layers: [st.layers.dense({ units: 3 })] });
    const dir = freshDir('unbuilt');
    await assert.rejects(
      model.save(dir),
      (e: Error) => e instanceof st.ValueError && /no weights yet/.test(e.message) && /inputShape/.test(e.message),
    );
    await assert.rejects(stat(dir), /ENOENT/);
    await assert.rejects(model.save(''), st.ValueError);
  });

  it('modelCheckpoint during fit writes loadable models; saveBestOnly keeps the best epoch', async () => {
    st.setSeed(51);
    const model = st.sequential({ layers: [st.layers.dense({ units: 6, inputShape: [4], activation: 'tanh' }), st.layers.dense({ units: 1 })] });
    model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.05 }), loss: 'mse' });
    const x = floats([16, 4], 52),
      y = floats([16, 1], 53),
      vx = floats([8, 4], 54),
      vy = floats([8, 1], 55);
    const perEpoch = join(root, 'ckpt', 'epoch{epoch:02d}');
    const best = join(root, 'ckpt', 'best');
    // Records each epoch's weights and val_loss after the checkpoints ran (callbacks run in order).
    const seen: { valLoss: number; weights: number[][] }[] = [];
    const recorder = {
      onEpochEnd: async (_e: number, logs?: st.Logs) => {
        seen.push({ valLoss: logs!.val_loss, weights: await weightValues(model) });
      },
    };
    await model.fit(x, y, {
      epochs: 6,
      batchSize: 4,
      verbose: 0,
      validationData: [vx, vy],
      callbacks: [
        st.callbacks.modelCheckpoint({ filepath: perEpoch }),
        st.callbacks.modelCheckpoint({ filepath: best, saveBestOnly: true }),
        recorder,
      ],
    });
    assert.deepEqual((await readdir(join(root, 'ckpt'))).sort(), ['best', 'epoch01', 'epoch02', 'epoch03', 'epoch04', 'epoch05', 'epoch06']);
    for (let e = 0; e < 6; e++) {
      const loaded = await st.loadModel(join(root, 'ckpt', `epoch0${e + 1}`));
      assert.deepEqual(await weightValues(loaded), seen[e].weights, `epoch ${e + 1}`);
      assert.equal(loaded.optimizer!.iterations, 4 * (e + 1));
    }
    const bestEpoch = seen.reduce((b, s, i) => (s.valLoss < seen[b].valLoss ? i : b), 0);
    const loadedBest = await st.loadModel(best);
    assert.deepEqual(await weightValues(loadedBest), seen[bestEpoch].weights);
    // validationBatchSize defaults to batchSize; the same batching gives the same float sums.
    assert.equal((await loadedBest.evaluate(vx, vy, { batchSize: 4, verbose: 0 })).loss, seen[bestEpoch].valLoss);
  });
});
describe('across backends, dtypes and compile arguments', () => {
  const both = BACKENDS.includes('native') && BACKENDS.includes('reference');

  it('saved on native, loaded on reference: the same float32 bits, and training continues', { skip: !both && 'needs both backends' }, async () => {
    const { dir, model, x } = await withBackendAsync('native', () => savedMlp(81));
    const expected = (await values(model.predict(x)))[0];
    await withBackendAsync('reference', async () => {
      const loaded = await st.loadModel(dir);
      assert.equal(loaded.weights[0].value.backend.name, 'reference');
      assert.deepEqual(await weightValues(loaded), await weightValues(model));
      const got = (await values(loaded.predict(floats([8, 3], 82))))[0];
      got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-5 * (1 + Math.abs(expected[i])), `output ${i}: ${v} vs ${expected[i]}`));
      await loaded.fit(floats([8, 3], 82), floats([8, 2], 83), { epochs: 1, batchSize: 4, verbose: 0 });
      assert.equal(loaded.optimizer!.iterations, 4);
    });
  });

  it('a float64 model round-trips on reference; on native the dtype error names the file', { skip: !both && 'needs both backends' }, async () => {
    const dir = freshDir('f64');
    await withBackendAsync('reference', async () => {
      const x = st.cast(floats([4, 3], 83), 'float64');
      const model = st.sequential({ layers: [st.layers.dense({ units: 2, inputShape: [3], dtype: 'float64', activation: 'tanh' })] });
      await model.save(dir);
      const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
      assert.deepEqual(
        manifest.weights.map((w: { dtype: string }) => w.dtype),
        ['float64', 'float64'],
      );
      await roundTrip(model, x);
    });
    await withBackendAsync('native', () => rejectsLoad(dir, 'model.json', [/float64/], st.DtypeError));
  });

  it('a learning-rate schedule is restored with its step', async () => {
    st.setSeed(84);
    const model = st.sequential({ layers: [st.layers.dense({ units: 2, inputShape: [3] })] });
    const schedule = st.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5 });
    model.compile({ optimizer: st.optimizers.sgd({ learningRate: schedule, momentum: 0.9 }), loss: 'mse' });
    const x = floats([9, 3], 85);
    await model.fit(x, floats([9, 2], 86), { epochs: 1, batchSize: 3, verbose: 0 });
    const loaded = await roundTrip(model, x);
    assert.equal(loaded.optimizer!.iterations, 3);
    // 0.1 * 0.5^(3/4), computed here independently of the schedule code.
    assert.ok(Math.abs(loaded.optimizer!.currentLearningRate() - 0.1 * 0.5 ** 0.75) < 1e-12);
  });

  it('a custom loss cannot be restored: the error says to load with {compile: false}, which works', async () => {
    st.setSeed(87);
    const model = st.sequential({ layers: [st.layers.dense({ units: 2, inputShape: [3] })] });
    model.compile({
      optimizer: 'sgd',
      loss: function halfSquares(t: st.Tensor, p: st.Tensor) {
        return st.mean(st.square(st.sub(t, p))).mul(0.5);
      },
    });
    const dir = freshDir('custom-loss');
    await model.save(dir);
    await rejectsLoad(dir, 'model.json', [/unknown loss "halfSquares"/, /compile: false/]);
    const x = floats([3, 3], 88);
    assert.deepEqual(await values((await st.loadModel(dir, { compile: false })).predict(x)), await values(model.predict(x)));
  });

  it('model.json itself is strict: unknown keys in the manifest are rejected by name', async () => {
    const { dir } = await savedMlp(89);
    await withEditedManifest(
      dir,
      (m) => (m.extra = true),
      () => rejectsLoad(dir, 'model.json', [/unknown key 'extra'/]),
    );
    await withEditedManifest(
      dir,
      (m) => (m.weights[1].offset = 0),
      () => rejectsLoad(dir, 'model.json', [/unknown key 'offset' in weights\[1\]/]),
    );
    await withEditedManifest(
      dir,
      (m) => (m.optimizerState.path = '/etc/passwd'),
      () => rejectsLoad(dir, 'model.json', [/unknown key 'path' in optimizerState/]),
    );
  });
});
