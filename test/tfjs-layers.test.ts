// Every layer class the tfjs importer converts, in models built and saved by tfjs itself (its
// Keras-style topology and weight order), with random weights (batch-norm statistics included),
// against tfjs's own predictions: checks each class's options and weight layout.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as st from '../src/index.js';

/** The artifacts tfjs's model.save writes, captured in memory. */
async function artifactsOf(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

/** Replaces every weight with seeded values, variances positive, so nothing is a default. */
function randomizeWeights(model: tf.LayersModel): void {
  let seed = 1;
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (!ws.length) continue;
    layer.setWeights(
      layer.weights.map((w, i) => {
        const u = tf.randomUniform(ws[i].shape, -0.5, 0.5, 'float32', seed++);
        return w.name.includes('variance') ? u.abs().add(0.5) : u;
      }),
    );
  }
}

async function compare(model: tf.LayersModel, shape: number[], label: string): Promise<void> {
  randomizeWeights(model);
  const artifacts = await artifactsOf(model);
  const ours = await st.tfjs.load(artifacts as unknown as st.TfjsArtifacts);
  const x = st.randomUniform(shape, { min: -1, max: 1, seed: 21 });
  const xs = (await x.data()) as Float32Array;
  const a = await (ours.predict(x) as st.Tensor).data();
  const b = await (model.predict(tf.tensor(xs, shape)) as tf.Tensor).data();
  assert.equal(a.length, b.length, label);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  assert.ok(diff <= 1e-4, `${label}: max difference ${diff}`);
}

describe('tfjs layer classes against tfjs', () => {
  it('convolutions, normalization, padding, pooling and activations (2D)', async () => {
    const input = tf.input({ shape: [9, 9, 3] });
    const L = tf.layers;
    let x = L.zeroPadding2d({
      padding: [
        [1, 0],
        [0, 1],
      ],
    }).apply(input) as tf.SymbolicTensor;
    x = L.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'conv' }).apply(x) as tf.SymbolicTensor;
    x = L.batchNormalization({ name: 'bn' }).apply(x) as tf.SymbolicTensor;
    x = L.reLU({ maxValue: 6 }).apply(x) as tf.SymbolicTensor;
    const d = L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'dw' }).apply(x) as tf.SymbolicTensor;
    const s = L.separableConv2d({ filters: 12, kernelSize: 3, padding: 'same', name: 'sep' }).apply(x) as tf.SymbolicTensor;
    let y = L.add().apply([d, s]) as tf.SymbolicTensor;
    y = L.leakyReLU({ alpha: 0.2 }).apply(y) as tf.SymbolicTensor;
    const t = L.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', name: 'deconv' }).apply(y) as tf.SymbolicTensor;
    const c = L.cropping2D({
      cropping: [
        [1, 1],
        [0, 2],
      ],
    }).apply(t) as tf.SymbolicTensor;
    const u = L.upSampling2d({ size: [2, 2] }).apply(L.maxPooling2d({ poolSize: 2 }).apply(c) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const p = L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }).apply(u) as tf.SymbolicTensor;
    const g = L.concatenate().apply([
      L.globalAveragePooling2d({}).apply(p),
      L.globalMaxPooling2d({}).apply(y),
    ] as tf.SymbolicTensor[]) as tf.SymbolicTensor;
    const out = L.dense({ units: 5, activation: 'softmax', name: 'head' }).apply(L.dropout({ rate: 0.3 }).apply(g)) as tf.SymbolicTensor;
    await compare(tf.model({ inputs: input, outputs: out }), [2, 9, 9, 3], '2D layers');
  });

  it('merges, reshaping, layer normalization and 1D layers', async () => {
    const L = tf.layers;
    const a = tf.input({ shape: [8, 4] });
    const b = tf.input({ shape: [8, 4] });
    const merged = [L.multiply(), L.average(), L.maximum(), L.minimum()].map((m) => m.apply([a, b]) as tf.SymbolicTensor);
    let x = L.concatenate({ axis: -1 }).apply(merged) as tf.SymbolicTensor;
    x = L.layerNormalization({ name: 'ln' }).apply(x) as tf.SymbolicTensor;
    x = L.conv1d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'c1d' }).apply(x) as tf.SymbolicTensor;
    const m = L.maxPooling1d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
    const v = L.averagePooling1d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
    const g = L.globalAveragePooling1d({}).apply(L.add().apply([m, v])) as tf.SymbolicTensor;
    const r = L.reshape({ targetShape: [3, 2] }).apply(g) as tf.SymbolicTensor;
    const f = L.flatten().apply(L.activation({ activation: 'sigmoid' }).apply(r)) as tf.SymbolicTensor;
    const out = L.softmax().apply(L.dense({ units: 4, name: 'out' }).apply(f)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [a, b], outputs: [out, g] });
    randomizeWeights(model);
    const ours = await st.tfjs.load((await artifactsOf(model)) as unknown as st.TfjsArtifacts);
    const xs = [st.randomUniform([2, 8, 4], { seed: 1 }), st.randomUniform([2, 8, 4], { seed: 2 })];
    const mine = ours.predict(xs) as st.Tensor[];
    const theirs = model.predict(await Promise.all(xs.map(async (t) => tf.tensor((await t.data()) as Float32Array, [2, 8, 4])))) as tf.Tensor[];
    assert.equal(mine.length, 2);
    // Keras's Softmax(axis) became the importer's registered Softmax layer: it saves and loads back.
    const folder = mkdtempSync(join(tmpdir(), 'strata-tfjs-layers-'));
    await ours.save(folder);
    const again = (await st.loadModel(folder)).predict(xs) as st.Tensor[];
    assert.deepEqual(await again[0].data(), await mine[0].data());
    rmSync(folder, { recursive: true, force: true });
    for (let k = 0; k < 2; k++) {
      const [p, q] = [await mine[k].data(), await theirs[k].data()];
      for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i] - q[i]) <= 1e-5, `output ${k}[${i}]: ${p[i]} vs ${q[i]}`);
    }
  });

  it('embedding and recurrent layers (SimpleRNN, LSTM, GRU without reset_after)', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 12, outputDim: 5, inputLength: 6 }),
        tf.layers.simpleRNN({ units: 4, returnSequences: true }),
        tf.layers.lstm({ units: 3, returnSequences: true, recurrentActivation: 'sigmoid' }),
        tf.layers.gru({ units: 2, recurrentActivation: 'sigmoid', goBackwards: true }),
        tf.layers.dense({ units: 2 }),
      ],
    });
    randomizeWeights(model);
    const ours = await st.tfjs.load((await artifactsOf(model)) as unknown as st.TfjsArtifacts);
    const ids = [1, 5, 7, 0, 11, 3, 2, 2, 9, 4, 6, 8];
    const a = await (ours.predict(st.tensor(ids, [2, 6])) as st.Tensor).data();
    const b = await (model.predict(tf.tensor(ids, [2, 6])) as tf.Tensor).data();
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5, `${i}: ${a[i]} vs ${b[i]}`);
  });

  it('a tfjs Sequential with an input shape on its first layer', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 2, activation: 'elu' }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 2, activation: 'selu' }),
      ],
    });
    await compare(model, [3, 6, 6, 2], 'Sequential');
  });
});
