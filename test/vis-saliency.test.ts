// st.vis.inputGradient and st.vis.saliency against float64 central differences on the reference
// backend: a small conv classifier whose scores are also computed by hand from its layers' weights
// (so the cut before the softmax is checked, not trusted).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, randomTensor, withBackendAsync } from './helpers.js';

st.setBackend('reference');

const [N, H, W, C, CLASSES] = [2, 5, 4, 2, 3];

/** conv(tanh) → flatten → dense, in float64; `head` decides how the softmax is attached. */
function classifier(head: 'dense-softmax' | 'activation-softmax' | 'linear', dtype: st.DType = 'float64') {
  st.setSeed(7);
  const inputs = st.input({ shape: [H, W, C], dtype });
  const conv = st.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh', dtype });
  const flat = st.layers.flatten({ dtype }).apply(conv.apply(inputs));
  const dense = st.layers.dense({ units: CLASSES, activation: head === 'dense-softmax' ? 'softmax' : 'linear', dtype });
  let outputs = dense.apply(flat);
  if (head === 'activation-softmax') outputs = st.layers.activation({ activation: 'softmax', dtype }).apply(outputs);
  const model = st.model({ inputs, outputs });
  // The class scores by hand: the features (a plain cut at flatten) times the dense weights.
  const features = st.model({ inputs, outputs: flat });
  const [kernel, bias] = dense.getWeights();
  const scores = (x: st.Tensor) => st.add(st.matmul(features.apply(x) as st.Tensor, kernel), bias);
  return { model, scores };
}

/** d f / d x by central differences, element by element (f returns one number). */
function numericGradient(f: (x: st.Tensor) => number, x: st.Tensor, eps = 1e-6): Float64Array {
  const base = Float64Array.from(x.dataSync());
  const grad = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const at = (d: number) => {
      const v = Float64Array.from(base);
      v[i] += d;
      return f(st.tensor(v, x.shape, 'float64'));
    };
    grad[i] = (at(eps) - at(-eps)) / (2 * eps);
  }
  return grad;
}

/** |g| largest over the last axis: [n, h, w, c] → [n, h, w], flat. */
function maxAbsOverChannels(g: Float64Array, channels: number): number[] {
  return Array.from({ length: g.length / channels }, (_, p) => Math.max(...Array.from(g.subarray(p * channels, (p + 1) * channels), Math.abs)));
}

function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: lengths`);
  const scale = Math.max(...Array.from(expected, Math.abs));
  assert.ok(scale > 1e-6, `${what}: the reference is not all zeros`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (scale ${scale})`);
  }
}

const images = () => randomTensor([N, H, W, C], 3, 'float64', 0, 1);
const picks = [2, 0];
/** The picked class's value of each image, summed (each image's gradient is its own value's). */
const picked = (out: st.Tensor) => picks.reduce((s, c, i) => s + (out.arraySync() as number[][])[i][c], 0);

describe('vis.inputGradient', () => {
  it('is the gradient of the loss of the model output with respect to the input (central differences)', () => {
    const { model } = classifier('dense-softmax');
    const x = images();
    const labels = st.tensor(picks, [N], 'int32');
    const loss = (out: st.Tensor) => st.losses.sparseCategoricalCrossentropy(labels, out);
    const grad = st.vis.inputGradient(model, x, loss);
    assert.deepEqual(grad.shape, x.shape);
    assert.equal(grad.dtype, 'float64');
    const expected = numericGradient((v) => (loss(model.apply(v) as st.Tensor).dataSync() as Float64Array)[0], x);
    assertAllClose(grad.dataSync(), expected, 1e-6, 'input gradient');
    // The weights were not touched: no gradient accumulated in them.
    assert.ok(model.weights.every((w) => w.value.grad === null));
  });

  it('refuses what it cannot differentiate, naming what it expected', () => {
    const { model } = classifier('linear');
    const x = images();
    assert.throws(() => st.vis.inputGradient({} as st.Model, x, st.sum), /inputGradient: expected a model \(st\.model or st\.sequential\)/);
    assert.throws(
      () => st.vis.inputGradient(model, st.zeros([N, H, W + 1, C], 'float64'), st.sum),
      /x must be a batch of the model's input, shape \[null, 5, 4, 2\]; received \[2, 5, 5, 2\]/,
    );
    assert.throws(() => st.vis.inputGradient(model, st.zeros([N, H, W, C], 'int32'), st.sum), /x must be a floating tensor/);
    assert.throws(
      () => st.vis.inputGradient(model, x, (out) => out),
      /lossFn must return a one-element tensor \(reduce the loss, e\.g\. with st\.mean\); received a tensor of shape \[2, 3\]/,
    );
    assert.throws(() => st.vis.inputGradient(model, x, 'mse' as never), /lossFn must be a function/);
  });
});

describe('vis.saliency', () => {
  for (const head of ['dense-softmax', 'activation-softmax', 'linear'] as const) {
    it(`is max over channels of |d score / d image|, the score read before the softmax (${head})`, () => {
      const { model, scores } = classifier(head);
      const x = images();
      const maps = st.vis.saliency(model, x, picks);
      assert.deepEqual(maps.shape, [N, H, W]);
      const expected = maxAbsOverChannels(
        numericGradient((v) => picked(scores(v)), x),
        C,
      );
      assertAllClose(maps.dataSync(), expected, 1e-6, 'saliency');
    });
  }

  it('with {logits: false} differentiates the probability instead, which is another map', () => {
    const { model, scores } = classifier('dense-softmax');
    const x = images();
    const maps = st.vis.saliency(model, x, picks, { logits: false });
    const expected = maxAbsOverChannels(
      numericGradient((v) => picked(model.apply(v) as st.Tensor), x),
      C,
    );
    assertAllClose(maps.dataSync(), expected, 1e-6, 'saliency of the probability');
    const ofScores = maxAbsOverChannels(
      numericGradient((v) => picked(scores(v)), x),
      C,
    );
    assert.ok(
      ofScores.some((s, i) => Math.abs(s - expected[i]) > 1e-3 * Math.max(...ofScores)),
      'the two maps differ',
    );
  });

  it('takes one class for every image', () => {
    const { model, scores } = classifier('dense-softmax');
    const x = images();
    const maps = st.vis.saliency(model, x, 1);
    const one = (out: st.Tensor) => (out.arraySync() as number[][]).reduce((s, row) => s + row[1], 0);
    assertAllClose(
      maps.dataSync(),
      maxAbsOverChannels(
        numericGradient((v) => one(scores(v)), x),
        C,
      ),
      1e-6,
      'saliency of class 1',
    );
  });

  it('with samples and noise is SmoothGrad: the mean gradient at noisy copies, then its size', () => {
    const { model, scores } = classifier('dense-softmax');
    const x = images();
    const maps = st.vis.saliency(model, x, picks, { samples: 3, noise: 0.1, seed: 11 });
    // The same noise, drawn again from the same seeds; each copy's gradient by central differences.
    const copies = [11, 12, 13].map((seed) => st.add(x, st.randomNormal(x.shape, { stddev: 0.1, dtype: 'float64', seed })));
    const grads = copies.map((c) => numericGradient((v) => picked(scores(v)), c));
    const mean = grads[0].map((_, i) => (grads[0][i] + grads[1][i] + grads[2][i]) / 3);
    assertAllClose(maps.dataSync(), maxAbsOverChannels(mean, C), 1e-6, 'SmoothGrad');
    // Not the plain map: the noise moved the tanh units.
    const plain = st.vis.saliency(model, x, picks).dataSync();
    assert.ok(Array.from(plain).some((v, i) => Math.abs(v - maps.dataSync()[i]) > 1e-4));
  });

  it('refuses bad classes, options and models', () => {
    const { model } = classifier('dense-softmax');
    const x = images();
    assert.throws(() => st.vis.saliency(model, x, 3), /classIndex must hold integers in \[0, 2\] \(the model has 3 classes\); received 3/);
    assert.throws(() => st.vis.saliency(model, x, [0]), /classIndex must be a class index or a list of one per image \(2\); received \[0\]/);
    assert.throws(
      () => st.vis.saliency(model, x, 0, { logit: true } as never),
      /unknown option 'logit'; expected one of: logits, samples, noise, seed/,
    );
    assert.throws(() => st.vis.saliency(model, x, 0, { samples: 2, noise: 0.1, seed: 0.5 }), /seed must be an integer; received 0\.5/);
    assert.throws(() => st.vis.saliency(model, x, 0, { samples: 0 }), /samples must be a positive integer; received 0/);
    assert.throws(() => st.vis.saliency(model, x, 0, { samples: 2.5, noise: 0.1 }), /samples must be a positive integer; received 2\.5/);
    assert.throws(() => st.vis.saliency(model, x, 0, { noise: -1 }), /noise must be a standard deviation >= 0; received -1/);
    assert.throws(() => st.vis.saliency(model, x, 0, { samples: 4 }), /SmoothGrad's 4 samples need noise > 0/);
    assert.throws(() => st.vis.saliency(model, x, 0, { logits: 1 } as never), /logits must be true or false; received 1/);
    const flat = st.sequential({ layers: [st.layers.dense({ units: 2, inputShape: [3] })] });
    assert.throws(() => st.vis.saliency(flat, st.zeros([1, 3]), 0), /saliency: expected a model whose input is a batch of images/);
  });
});

// The float64 checks above run on the reference backend; the same float32 network (its weights
// copied from the reference one) gives the same maps on every other backend.
await st.ready();
describe('vis.saliency on every backend', () => {
  const { model: reference } = classifier('dense-softmax', 'float32');
  const x32 = randomTensor([N, H, W, C], 3, 'float32', 0, 1);
  const expected = Array.from(st.vis.saliency(reference, x32, picks).dataSync());
  const weights = reference.getWeights().map((w) => ({ values: Array.from(w.dataSync()), shape: [...w.shape] }));
  for (const backend of st.backends()) {
    it(`matches the reference backend on ${backend.name}`, { skip: backend.available ? false : `unavailable: ${backend.reason}` }, async () => {
      await withBackendAsync(backend.name, async () => {
        const { model } = classifier('dense-softmax', 'float32');
        model.setWeights(weights.map((w) => st.tensor(w.values, w.shape)));
        const maps = st.vis.saliency(model, st.tensor(Array.from(x32.dataSync()), x32.shape), picks);
        assert.equal(maps.backend.name, backend.name);
        assertClose(Array.from(await maps.data()), expected, 1e-3, 1e-5, `saliency on ${backend.name}`);
      });
    });
  }
});
