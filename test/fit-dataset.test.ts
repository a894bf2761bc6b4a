// model.fit and evaluate on st.data Datasets: the same numbers as on arrays, Keras's
// stepsPerEpoch rule, and clear errors for datasets that do not yield batches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, randomTensor } from './helpers.js';

function problem() {
  const x = randomTensor([40, 5], 3, 'float32');
  const y = st.tensor(
    Array.from({ length: 40 }, (_, i) => i % 3),
    [40],
    'int32',
  );
  return { x, y };
}

function freshModel(): st.Model {
  st.setSeed(7);
  const m = st.sequential({
    layers: [st.layers.dense({ units: 8, activation: 'relu', inputShape: [5] }), st.layers.dense({ units: 3, activation: 'softmax' })],
  });
  m.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

describe('fit and evaluate on Datasets', () => {
  it('an unshuffled dataset of batches trains exactly like the same arrays', async () => {
    const { x, y } = problem();
    const a = freshModel();
    const ha = await a.fit(x, y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
    const b = freshModel();
    const hb = await b.fit(st.data.fromArrays(x, y).batch(8), { epochs: 3, verbose: 0 });
    a.getWeights().forEach((w, i) => assertClose(b.getWeights()[i], w, 0, 0));
    assert.deepEqual(hb.history.loss, ha.history.loss);
    assert.deepEqual(hb.history.accuracy, ha.history.accuracy);
    assert.deepEqual(await b.evaluate(st.data.fromArrays(x, y).batch(16), { verbose: 0 }), await a.evaluate(x, y, { batchSize: 16, verbose: 0 }));
  });

  it('validationData may be a Dataset; fitDataset is the tfjs name', async () => {
    const { x, y } = problem();
    const m = freshModel();
    const h = await m.fitDataset(st.data.fromArrays(x, y).shuffle(40, { seed: 1 }).batch(10), {
      epochs: 2,
      verbose: 0,
      validationData: st.data.fromArrays(x, y).batch(7),
    });
    const direct = await m.evaluate(x, y, { verbose: 0 });
    assert.ok(Math.abs(h.history.val_loss[1] - direct.loss) < 1e-6);
    assert.equal(h.history.val_accuracy[1], direct.accuracy);
  });

  it('stepsPerEpoch continues one iterator across epochs (a repeating dataset)', async () => {
    const { x, y } = problem();
    const m = freshModel();
    let batches = 0;
    const counter = { onBatchEnd: () => void batches++ };
    const h = await m.fit(st.data.fromArrays(x, y).batch(8).repeat(), { epochs: 3, stepsPerEpoch: 7, verbose: 0, callbacks: [counter] });
    assert.equal(batches, 21);
    assert.equal(h.history.loss.length, 3);
    assert.equal(m.optimizer!.iterations, 21);
  });

  it('clear errors for datasets that do not fit', async () => {
    const { x, y } = problem();
    const m = freshModel();
    await assert.rejects(() => m.fit(st.data.fromArrays(x, y).batch(8).repeat(), { epochs: 1, verbose: 0 }), /repeats forever; pass stepsPerEpoch/);
    await assert.rejects(() => m.fit(st.data.fromArrays(x), { epochs: 1, verbose: 0 }), /must yield batches \{xs, ys\}/);
    await assert.rejects(() => m.fit(st.data.fromArrays(x, y), { epochs: 1, verbose: 0 }), /did you forget \.batch\(n\)\?/);
    await assert.rejects(
      () => m.fit(st.data.fromArrays(x, y).batch(4), { epochs: 1, validationSplit: 0.2, verbose: 0 }),
      /validationSplit needs arrays/,
    );
    await assert.rejects(() => m.fit(x, y, { epochs: 1, stepsPerEpoch: 3, verbose: 0 }), /stepsPerEpoch applies to Datasets/);
  });
});
