// Recently added layer classes (3-D convolutions and pooling, ConvLSTM2D, the generic RNN with
// built-in cells) in models built and saved by tfjs 4.22 itself with random weights, imported
// with st.tfjs.load and compared with tfjs's own predictions: checks the importer's class
// mappings, option names and weight layouts. tfjs's default recurrent activation is Keras 2's
// hard_sigmoid, which the importer refuses (a different function from Strata's), so the recurrent
// models here ask for 'sigmoid'.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as st from '../src/index.js';

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

function randomizeWeights(model: tf.LayersModel): void {
  let seed = 1;
  for (const layer of model.layers) {
    if (!layer.getWeights().length) continue;
    layer.setWeights(layer.getWeights().map((w) => tf.randomUniform(w.shape, -0.5, 0.5, 'float32', seed++)));
  }
}

/** Loads tfjs's saved model into Strata and compares the predictions on one random input. */
async function compare(model: tf.LayersModel, shape: number[], label: string): Promise<st.Model> {
  randomizeWeights(model);
  const ours = await st.tfjs.load((await artifactsOf(model)) as unknown as st.TfjsArtifacts);
  const x = st.randomUniform(shape, { min: -1, max: 1, seed: 5 });
  const a = await (ours.predict(x) as st.Tensor).data();
  const b = await (model.predict(tf.tensor((await x.data()) as Float32Array, shape)) as tf.Tensor).data();
  assert.equal(a.length, b.length, `${label}: output sizes`);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  assert.ok(diff <= 1e-4, `${label}: max difference ${diff}`);
  assert.equal(ours.countParams(), model.countParams(), `${label}: parameter count`);
  return ours;
}

describe('tfjs import of recently added layer classes', () => {
  it('conv3d (same, strided; valid, dilated), conv3dTranspose, maxPooling3d, averagePooling3d', async () => {
    const L = tf.layers;
    const input = tf.input({ shape: [6, 7, 6, 2] });
    let x = L.conv3d({ filters: 3, kernelSize: [2, 3, 2], strides: [1, 2, 1], padding: 'same', activation: 'relu' }).apply(
      input,
    ) as tf.SymbolicTensor;
    x = L.conv3d({ filters: 4, kernelSize: 2, dilationRate: [1, 1, 2], padding: 'valid', useBias: false }).apply(x) as tf.SymbolicTensor;
    x = L.conv3dTranspose({ filters: 2, kernelSize: [2, 2, 3], strides: [2, 1, 2], padding: 'same' }).apply(x) as tf.SymbolicTensor;
    x = L.maxPooling3d({ poolSize: [2, 2, 2], strides: [2, 1, 2], padding: 'same' }).apply(x) as tf.SymbolicTensor;
    x = L.averagePooling3d({ poolSize: 2, padding: 'valid' }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: x });
    await compare(model, [2, 6, 7, 6, 2], '3-D layers');
  });

  it('convLstm2d (sequences, then the last step)', async () => {
    const L = tf.layers;
    const model = tf.sequential({
      layers: [
        L.convLstm2d({ inputShape: [3, 5, 5, 2], filters: 3, kernelSize: 3, padding: 'same', returnSequences: true, recurrentActivation: 'sigmoid' }),
        L.convLstm2d({ filters: 2, kernelSize: [2, 3], padding: 'valid', unitForgetBias: false, recurrentActivation: 'sigmoid' }),
      ],
    });
    await compare(model, [2, 3, 5, 5, 2], 'convLstm2d');
  });

  for (const [label, make] of [
    ['simpleRNNCell', () => tf.layers.simpleRNNCell({ units: 4, activation: 'relu' })],
    ['lstmCell', () => tf.layers.lstmCell({ units: 3, recurrentActivation: 'sigmoid' })],
    ['gruCell', () => tf.layers.gruCell({ units: 3, recurrentActivation: 'sigmoid' })],
    [
      'stackedRNNCells',
      () =>
        tf.layers.stackedRNNCells({
          cells: [tf.layers.lstmCell({ units: 4, recurrentActivation: 'sigmoid' }), tf.layers.gruCell({ units: 3, recurrentActivation: 'sigmoid' })],
        }),
    ],
  ] as const) {
    it(`rnn with ${label}`, async () => {
      const model = tf.sequential({
        layers: [tf.layers.rnn({ inputShape: [5, 3], cell: make() as Parameters<typeof tf.layers.rnn>[0]['cell'], returnSequences: true })],
      });
      await compare(model, [2, 5, 3], `rnn(${label})`);
    });
  }

  it('rnn with a list of cells (stacked), last step only, backwards', async () => {
    const cells = [tf.layers.simpleRNNCell({ units: 3 }), tf.layers.lstmCell({ units: 2, recurrentActivation: 'sigmoid' })];
    const model = tf.sequential({ layers: [tf.layers.rnn({ inputShape: [4, 3], cell: cells, goBackwards: true })] });
    await compare(model, [2, 4, 3], 'rnn([cells])');
  });
});
