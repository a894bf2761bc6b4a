// The 3-D layers (conv3d, conv3dTranspose, maxPooling3d, averagePooling3d and the global 3-D
// poolings) against PyTorch fixtures (scripts/make_conv3d_fixtures.py: Conv3d, ConvTranspose3d,
// MaxPool3d, AvgPool3d with channels-last transposes, Keras semantics in float64) on every
// backend, plus the layer contract: symbolic shapes, Keras's parameter counts, config round
// trips, save/load and clear errors.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { describeLayerFixtures, fixtureRuns, type LayerCase, loadFixture, makeLayer } from './fixture-harness.js';
import { randomTensor, throwsWith } from './helpers.js';

type Case = LayerCase;

const fixtures = loadFixture<Case>('conv3d.json');
const runs = await fixtureRuns();

describeLayerFixtures('3-D layers match PyTorch (Keras semantics)', fixtures.cases, runs);

/** Keras's count_params: Conv3D and Conv3DTranspose k_d·k_h·k_w·in·filters (+ filters); poolings 0. */
function kerasParams(c: Case): number {
  const k = (c.config.kernelSize ?? 1) as number | number[];
  const taps = typeof k === 'number' ? k ** 3 : k[0] * k[1] * k[2];
  const filters = c.config.filters as number;
  if (c.layer !== 'conv3d' && c.layer !== 'conv3dTranspose') return 0;
  return taps * c.input.shape[4] * filters + (c.config.useBias === false ? 0 : filters);
}

describe('3-D layers: layer contract', () => {
  for (const c of fixtures.cases) {
    it(`${c.name}: symbolic shape, Keras parameter count, weight layout, config round trip`, () => {
      const layer = makeLayer(c.layer, c.config);
      const out = layer.apply(st.input({ shape: c.input.shape.slice(1) }));
      assert.deepEqual([...out.shape], [null, ...c.output.shape.slice(1)]);
      assert.deepEqual(layer.computeOutputShape(c.input.shape), c.output.shape);
      assert.equal(layer.countParams(), kerasParams(c));
      assert.deepEqual(
        layer.getWeights().map((w) => [...w.shape]),
        c.weights.map((w) => w.shape),
      );
      const copy = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(layer))));
      assert.equal(copy.className, layer.className);
      assert.deepEqual(copy.getConfig(), layer.getConfig());
    });
  }

  it('a model with every 3-D layer predicts identically after save and load', async () => {
    st.setSeed(3);
    const inp = st.input({ shape: [6, 6, 6, 2] });
    let h = st.layers.conv3d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(inp);
    h = st.layers.maxPooling3d({ poolSize: 2 }).apply(h);
    h = st.layers.conv3dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', outputPadding: 1 }).apply(h);
    h = st.layers.averagePooling3d({ poolSize: 3, strides: 2, padding: 'same' }).apply(h);
    const out = st.layers.concatenate().apply([st.layers.globalAveragePooling3d().apply(h), st.layers.globalMaxPooling3d().apply(h)]);
    const model = st.model({ inputs: inp, outputs: out });
    assert.deepEqual([...out.shape], [null, 4]);
    const dir = await mkdtemp(join(tmpdir(), 'strata-conv3d-'));
    try {
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      const x = randomTensor([2, 6, 6, 6, 2], 5, 'float32');
      const predict = (m: st.Model) => Array.from((m.predict(x) as st.Tensor).dataSync());
      assert.deepEqual(predict(loaded), predict(model));
      assert.equal(loaded.countParams(), model.countParams());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('bad options and inputs give clear errors', () => {
    throwsWith(() => st.layers.conv3d({ filters: 2 } as never), st.ValueError, /kernelSize is required/);
    throwsWith(() => st.layers.conv3d({ filters: 2, kernelSize: [2, 2] as never }), st.ValueError, /three of them/);
    throwsWith(() => st.layers.conv3d({ filters: 2, kernelSize: 2, strides: 2, dilationRate: 2 }), st.ValueError, /cannot be combined/);
    throwsWith(() => st.layers.conv3dTranspose({ filters: 2, kernelSize: 2, dilationRate: 2 }), st.ValueError, /dilationRate must be 1/);
    throwsWith(() => st.layers.conv3dTranspose({ filters: 2, kernelSize: 2, strides: 2, outputPadding: 2 }), st.ValueError, /smaller than strides/);
    throwsWith(() => st.layers.maxPooling3d({ padding: 'full' as never }), st.ValueError, /padding/);
    throwsWith(() => st.layers.conv3d({ filters: 2, kernelSize: 2 }).apply(st.ones([1, 4, 4, 2])), st.ValueError, /rank 5/);
    throwsWith(
      () => st.layers.averagePooling3d({ poolSize: 3 }).apply(st.input({ shape: [2, 4, 4, 1] })),
      st.ShapeError,
      /smaller than the 3x3x3 window/,
    );
  });
});
