// The layers of src/nn/layers/extra-layers.ts that tfjs also has, in models built and saved by
// tfjs itself with random weights, imported with st.tfjs.load and compared with tfjs's own
// predictions: checks the option names and weight layouts a migrating tfjs user relies on.
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

async function compare(model: tf.LayersModel, shape: number[], label: string): Promise<st.Model> {
  randomizeWeights(model);
  const ours = await st.tfjs.load((await artifactsOf(model)) as unknown as st.TfjsArtifacts);
  const x = st.randomUniform(shape, { min: -1, max: 1, seed: 21 });
  const xs = (await x.data()) as Float32Array;
  const a = await (ours.predict(x) as st.Tensor).data();
  const b = await (model.predict(tf.tensor(xs, shape)) as tf.Tensor).data();
  assert.equal(a.length, b.length, label);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  assert.ok(diff <= 1e-5, `${label}: max difference ${diff}`);
  return ours;
}

describe('tfjs models with the extra layers predict as in tfjs', () => {
  it('leakyReLU, prelu (shared axes), elu, thresholdedReLU, permute, softmax, repeatVector, dropout variants', async () => {
    const L = tf.layers;
    const model = tf.sequential({
      layers: [
        L.leakyReLU({ alpha: 0.2, inputShape: [6, 4] }),
        L.dense({ units: 4 }),
        L.prelu({ sharedAxes: [1] }),
        L.elu(), // tfjs supports alpha 1 only
        L.spatialDropout1d({ rate: 0.4 }),
        L.thresholdedReLU({ theta: 0.1 }),
        L.permute({ dims: [2, 1] }),
        L.softmax({ axis: 2 }), // tfjs's softmax takes the last axis only (its default axis is 1)
        L.flatten(),
        L.alphaDropout({ rate: 0.3 }),
        L.dense({ units: 5 }),
        L.repeatVector({ n: 3 }),
        L.leakyReLU(),
      ],
    });
    const ours = await compare(model, [3, 6, 4], 'activation and rearranging layers');
    const classes = ours.layers.map((l) => l.className);
    for (const name of ['LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU', 'Permute', 'Softmax', 'RepeatVector', 'SpatialDropout1D', 'AlphaDropout']) {
      assert.ok(classes.includes(name), `${name} imported as itself`);
    }
    // tfjs's default slope of its leakyReLU layer is Keras's 0.3, as ours.
    assert.equal((ours.layers.at(-1) as st.LeakyReLU).negativeSlope, 0.3);
  });

  it('dot over vectors (normalized) and over sequences', async () => {
    const L = tf.layers;
    const vin = tf.input({ shape: [5] });
    const cosine = L.dot({ axes: 1, normalize: true }).apply([
      L.dense({ units: 4 }).apply(vin) as tf.SymbolicTensor,
      L.dense({ units: 4 }).apply(vin) as tf.SymbolicTensor,
    ]) as tf.SymbolicTensor;
    await compare(tf.model({ inputs: vin, outputs: cosine }), [4, 5], 'dot normalized');
    const sin = tf.input({ shape: [3, 4] });
    const scores = L.dot({ axes: [2, 2] }).apply([
      L.dense({ units: 6 }).apply(sin) as tf.SymbolicTensor,
      L.dense({ units: 6 }).apply(sin) as tf.SymbolicTensor,
    ]) as tf.SymbolicTensor;
    await compare(tf.model({ inputs: sin, outputs: scores }), [2, 3, 4], 'dot of sequences');
  });
});
