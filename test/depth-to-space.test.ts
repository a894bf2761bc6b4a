// st.layers.depthToSpace (pixel shuffle) against PyTorch's PixelShuffle fixtures
// (scripts/make_pixel_shuffle_fixtures.py: TensorFlow's DCR channel order, reached from
// PixelShuffle's CRD by a channel permutation) on every backend, outputs and input gradients;
// then the layer contract: symbolic shapes, no weights, config round trip, save/load of a model
// holding it, a training step through it, and the errors.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { blob, fixtureRuns, loadFixture, makeLayer, type Blob } from './fixture-harness.js';
import { assertCloseAsync, throwsWith, withBackendAsync } from './helpers.js';

interface Case {
  name: string;
  layer: string;
  config: Record<string, unknown>;
  input: Blob;
  output: Blob;
  upstream: Blob;
  gradInput: Blob;
}

const fixtures = loadFixture<Case>('pixel-shuffle.json');
const runs = await fixtureRuns(); // every available backend in float32, reference in float64

describe('depthToSpace layer matches PyTorch PixelShuffle (in TensorFlow channel order)', () => {
  for (const run of runs) {
    describe(`${run.backend} ${run.dtype}`, () => {
      for (const c of fixtures.cases) {
        it(c.name, () =>
          withBackendAsync(run.backend, async () => {
            const layer = makeLayer(c.layer, { ...c.config, dtype: run.dtype });
            const x = st.variable(blob(c.input, run.dtype));
            const y = layer.apply(x) as st.Tensor;
            assert.deepEqual([...y.shape], c.output.shape);
            await assertCloseAsync(y, blob(c.output, run.dtype), run.rtol, run.atol, `${c.name} output`);
            y.mul(blob(c.upstream, run.dtype)).sum().backward();
            await assertCloseAsync(x.grad!, blob(c.gradInput, run.dtype), run.rtol, run.atol, `${c.name} input gradient`);
          }),
        );
      }
    });
  }
});

describe('depthToSpace layer contract', () => {
  it('TensorFlow order on a hand-written case: channel (i·b + j)·C + c lands at pixel (i, j)', () => {
    // One pixel, 4 channels, b = 2, C = 1: channels 0..3 fill the block row by row.
    const y = st.layers.depthToSpace({ blockSize: 2 }).apply(st.tensor([10, 11, 12, 13], [1, 1, 1, 4])) as st.Tensor;
    assert.deepEqual(y.arraySync(), [
      [
        [[10], [11]],
        [[12], [13]],
      ],
    ]);
  });

  it('infers symbolic shapes in both data formats and has no weights', () => {
    const last = st.layers.depthToSpace({ blockSize: 3 });
    assert.deepEqual([...(last.apply(st.input({ shape: [5, 7, 18] })) as st.SymbolicTensor).shape], [null, 15, 21, 2]);
    const first = st.layers.depthToSpace({ blockSize: 2, dataFormat: 'channelsFirst' });
    assert.deepEqual([...(first.apply(st.input({ shape: [8, 4, 6] })) as st.SymbolicTensor).shape], [null, 2, 8, 12]);
    assert.equal(last.countParams(), 0);
  });

  it('round-trips its config and is registered as DepthToSpace', () => {
    const layer = st.layers.depthToSpace({ blockSize: 2, dataFormat: 'channelsFirst', name: 'shuffle' });
    const spec = JSON.parse(JSON.stringify(serializeLayer(layer)));
    assert.deepEqual(spec, {
      className: 'DepthToSpace',
      config: { name: 'shuffle', trainable: true, dtype: 'float32', blockSize: 2, dataFormat: 'channelsFirst' },
    });
    const copy = deserializeLayer(spec);
    assert.ok(copy instanceof st.DepthToSpace);
    assert.deepEqual(copy.getConfig(), layer.getConfig());
  });

  it('a conv + depthToSpace model predicts identically after save and load', async () => {
    st.setSeed(11);
    const inputs = st.input({ shape: [4, 4, 1] });
    const features = st.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same' }).apply(inputs);
    const outputs = st.layers.depthToSpace({ blockSize: 2 }).apply(features);
    const model = st.model({ inputs, outputs });
    const x = st.randomNormal([2, 4, 4, 1], { seed: 12 });
    const before = model.predict(x) as st.Tensor;
    assert.deepEqual([...before.shape], [2, 8, 8, 2]);
    const dir = await mkdtemp(join(tmpdir(), 'strata-d2s-'));
    try {
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      assert.deepEqual(Array.from((loaded.predict(x) as st.Tensor).dataSync()), Array.from(before.dataSync()));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('one training step of a sub-pixel upscaler through it lowers the loss', () => {
    st.setSeed(5);
    const conv = st.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }),
      shuffle = st.layers.depthToSpace({ blockSize: 2 });
    const x = st.randomUniform([4, 5, 5, 1], { seed: 6 }),
      target = st.randomUniform([4, 10, 10, 1], { seed: 7 });
    const loss = () => st.losses.meanSquaredError(target, shuffle.apply(conv.apply(x)) as st.Tensor).mean();
    const before = st.noGrad(() => loss()).item();
    st.optimizers.sgd({ learningRate: 0.1 }).minimize(
      loss,
      conv.trainableWeights.map((w) => w.value),
    );
    assert.ok(st.noGrad(() => loss()).item() < before);
  });

  it('rejects a bad blockSize, data format, channel count, rank or unknown option', () => {
    throwsWith(() => st.layers.depthToSpace({ blockSize: 1 }), st.ValueError, /blockSize must be an integer >= 2; received 1/);
    throwsWith(() => st.layers.depthToSpace({ blockSize: 2.5 }), st.ValueError, /blockSize must be an integer >= 2; received 2.5/);
    throwsWith(() => st.layers.depthToSpace({} as never), st.ValueError, /blockSize must be an integer >= 2; received undefined/);
    throwsWith(() => st.layers.depthToSpace({ blockSize: 2, dataFormat: 'NHWC' as never }), st.ValueError, /dataFormat/, /NHWC/);
    throwsWith(() => st.layers.depthToSpace({ blockSize: 2, block_size: 2 } as never), st.ValueError, /unknown option 'block_size'/);
    const layer = st.layers.depthToSpace({ blockSize: 2 });
    throwsWith(() => layer.apply(st.input({ shape: [4, 4, 6] })), st.ValueError, /channels \(6\) must be a known multiple of blockSize² = 4/);
    throwsWith(() => st.layers.depthToSpace({ blockSize: 2 }).apply(st.input({ shape: [4, 8] })), st.ValueError, /rank 4/);
  });
});
