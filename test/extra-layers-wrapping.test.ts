// ReversibleEmbedding and SpectralNormalization (Keras 3): the spectral step against
// torch.nn.utils.spectral_norm (scripts/make_extra_layer_fixtures.py) on every backend, the
// reverse projection against its definition with float64 finite differences, configs, save/load.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { getMask } from '../src/nn/masking.js';
import { blob, fixtureRuns, loadFixture, type Blob } from './fixture-harness.js';
import { assertClose, assertCloseAsync, checkGradient, randomTensor, throwsWith, withBackend, withBackendAsync } from './helpers.js';

interface SpectralCase {
  input: Blob;
  kernel: Blob;
  bias: Blob;
  vectorU: Blob;
  powerIterations: number;
  output: Blob;
  kernelAfter: Blob;
  vectorUAfter: Blob;
  upstream: Blob;
  gradInput: Blob;
  gradKernel: Blob;
  gradBias: Blob;
}

const spectral = (loadFixture<never>('extra-layers.json') as unknown as { spectralNormalization: SpectralCase }).spectralNormalization;
const runs = await fixtureRuns();

describe('spectralNormalization matches torch.nn.utils.spectral_norm (one training call)', () => {
  for (const run of runs) {
    it(`${run.backend} ${run.dtype}: output, kernel and u written back, gradients`, () =>
      withBackendAsync(run.backend, async () => {
        const c = spectral;
        const layer = st.layers.spectralNormalization({
          layer: st.layers.dense({ units: 3, dtype: run.dtype }),
          powerIterations: c.powerIterations,
          dtype: run.dtype,
        });
        layer.ensureBuilt(c.input.shape);
        assert.deepEqual(
          layer.weights.map((w) => w.name),
          ['kernel', 'bias', 'vector_u'],
        );
        layer.setWeights([blob(c.kernel, run.dtype), blob(c.bias, run.dtype), blob(c.vectorU, run.dtype)]);
        const x = st.variable(blob(c.input, run.dtype));
        const y = layer.apply(x, { training: true });
        await assertCloseAsync(y, blob(c.output, run.dtype), run.rtol, run.atol, 'output');
        const [kernel, bias, u] = layer.weights.map((w) => w.value);
        await assertCloseAsync(kernel, blob(c.kernelAfter, run.dtype), run.rtol, run.atol, 'kernel / sigma');
        await assertCloseAsync(u, blob(c.vectorUAfter, run.dtype), run.rtol, run.atol, 'vector_u');
        y.mul(blob(c.upstream, run.dtype)).sum().backward();
        await assertCloseAsync(x.grad!, blob(c.gradInput, run.dtype), run.rtol, run.atol, 'input gradient');
        await assertCloseAsync(kernel.grad!, blob(c.gradKernel, run.dtype), run.rtol, run.atol, 'kernel gradient');
        await assertCloseAsync(bias.grad!, blob(c.gradBias, run.dtype), run.rtol, run.atol, 'bias gradient');
        assert.equal(u.grad ?? null, null, 'vector_u is not trained');
      }));
  }

  it('inference uses the kernel as it is; the normalized kernel has spectral norm 1; an all-zero kernel stays', () => {
    st.setSeed(2);
    const layer = st.layers.spectralNormalization({ layer: st.layers.conv2d({ filters: 4, kernelSize: 3 }), powerIterations: 30 });
    const x = st.randomNormal([2, 6, 6, 2], { seed: 3 });
    layer.apply(x);
    const kernel = layer.weights[0].value;
    const before = Array.from(kernel.dataSync());
    layer.apply(x);
    assert.deepEqual(Array.from(kernel.dataSync()), before, 'inference leaves the kernel alone');
    layer.apply(x, { training: true });
    // The largest singular value of the [kh·kw·in, filters] matrix, by power iteration on WᵀW.
    const w = st.reshape(kernel, [-1, 4]);
    let v = st.ones([4, 1]);
    for (let i = 0; i < 200; i++) v = st.div(st.matmul(st.matmul(w, w, true), v), st.norm(st.matmul(st.matmul(w, w, true), v)));
    const sigma = st.norm(st.matmul(w, v)).item();
    assert.ok(Math.abs(sigma - 1) < 1e-3, `largest singular value after normalization: ${sigma}`);
    const zero = st.layers.spectralNormalization({ layer: st.layers.dense({ units: 2, kernelInitializer: 'zeros' }) });
    zero.apply(st.ones([1, 3]), { training: true });
    assert.deepEqual(Array.from(zero.weights[0].value.dataSync()), [0, 0, 0, 0, 0, 0]);
    throwsWith(
      () => st.layers.spectralNormalization({ layer: st.layers.reLU() }).apply(st.ones([1, 2])),
      st.ValueError,
      /has no weight named 'kernel'/,
    );
  });
});

describe('reversibleEmbedding', () => {
  it('forward is an Embedding (mask included); reverse is h · Eᵀ (tied) or h · R (untied), soft-capped', () => {
    st.setSeed(5);
    const layer = st.layers.reversibleEmbedding({ inputDim: 7, outputDim: 3, maskZero: true });
    const ids = st.tensor([[1, 0, 6]], undefined, 'int32');
    const h = layer.apply(ids);
    assert.deepEqual(h.shape, [1, 3, 3]);
    assert.deepEqual(Array.from(getMask(h)!.cast('int32').dataSync()), [1, 0, 1]);
    const table = layer.weights[0].value;
    assert.equal(layer.weights[0].path, `${layer.name}/embeddings`);
    assertClose(h, st.gather(table, ids, 0), 0, 0);
    const logits = layer.apply(h, { reverse: true });
    assert.deepEqual(logits.shape, [1, 3, 7]);
    assert.equal(getMask(logits), null);
    assertClose(logits, st.matmul(st.reshape(h, [3, 3]), table, false, true).reshape([1, 3, 7]), 1e-6, 1e-7);
    const untied = st.layers.reversibleEmbedding({ inputDim: 7, outputDim: 3, tieWeights: false, logitSoftCap: 2 });
    untied.apply(ids);
    assert.deepEqual(
      untied.weights.map((w) => [w.name, ...w.value.shape]),
      [
        ['embeddings', 7, 3],
        ['reverse_embeddings', 3, 7],
      ],
    );
    const hr = st.randomNormal([2, 3], { seed: 1 }).mul(5);
    const capped = untied.apply(hr, { reverse: true });
    assertClose(capped, st.mul(st.tanh(st.div(st.matmul(hr, untied.weights[1].value), 2)), 2), 1e-6, 1e-7);
    assert.ok(Math.max(...Array.from(st.abs(capped).dataSync())) < 2);
  });

  it('symbolic shapes both ways, config round trip, save and load of a tied language-model head', async () => {
    const layer = st.layers.reversibleEmbedding({ inputDim: 11, outputDim: 4, name: 'tok' });
    const inp = st.input({ shape: [5], dtype: 'int32' });
    const hidden = layer.apply(inp);
    assert.deepEqual([...hidden.shape], [null, 5, 4]);
    const mixed = st.layers.dense({ units: 4, activation: 'tanh' }).apply(hidden);
    const logits = layer.apply(mixed, { reverse: true });
    assert.deepEqual([...logits.shape], [null, 5, 11]);
    const model = st.model({ inputs: inp, outputs: logits });
    assert.equal(model.countParams(), 11 * 4 + 4 * 4 + 4, 'the table counted once');
    const copy = st.layers.deserialize(JSON.parse(JSON.stringify(st.layers.serialize(layer))));
    assert.deepEqual(copy.getConfig(), layer.getConfig());
    const root = await mkdtemp(join(tmpdir(), 'strata-reversible-'));
    try {
      await model.save(root);
      const loaded = await st.loadModel(root);
      const x = st.tensor([[1, 2, 3, 0, 10]], undefined, 'int32');
      assert.deepEqual(Array.from((loaded.predict(x) as st.Tensor).dataSync()), Array.from((model.predict(x) as st.Tensor).dataSync()));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
    throwsWith(() => layer.apply(st.ones([2, 3]), { reverse: true }), st.ValueError, /last axis is outputDim = 4/);
    throwsWith(
      () => st.layers.reversibleEmbedding({ inputDim: 3, outputDim: 2, logitSoftCap: -1 }),
      st.ValueError,
      /logitSoftCap must be a positive number/,
    );
    throwsWith(() => st.layers.reversibleEmbedding({ inputDim: 3, outputDim: 2, tie: true } as never), st.ValueError, /unknown option 'tie'/);
  });

  it('float64 finite differences of the reverse projection in h (reference backend)', () =>
    withBackend('reference', () => {
      const layer = st.layers.reversibleEmbedding({ inputDim: 5, outputDim: 3, logitSoftCap: 1.5, dtype: 'float64' });
      layer.ensureBuilt([2]);
      checkGradient((h) => layer.apply(h, { reverse: true }), [randomTensor([2, 3], 4)], { what: 'reverse projection' });
    }));
});

describe('spectralNormalization: save and load', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'strata-spectral-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  it('a model with a spectrally normalized dense layer predicts identically after a training step, save and load', async () => {
    st.setSeed(6);
    const inp = st.input({ shape: [4] });
    const out = st.layers.spectralNormalization({ layer: st.layers.dense({ units: 3 }), powerIterations: 2 }).apply(inp);
    const model = st.model({ inputs: inp, outputs: out });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const x = st.randomNormal([8, 4], { seed: 1 }),
      y = st.randomNormal([8, 3], { seed: 2 });
    await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    await model.save(root);
    const loaded = await st.loadModel(root);
    assert.deepEqual(Array.from((loaded.predict(x) as st.Tensor).dataSync()), Array.from((model.predict(x) as st.Tensor).dataSync()));
    assert.deepEqual(loaded.getConfig(), model.getConfig());
  });
});
