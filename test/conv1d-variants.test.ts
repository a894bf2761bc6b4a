// The 1-D variants (conv1dTranspose, depthwiseConv1d, separableConv1d) against PyTorch fixtures
// (scripts/make_conv1d_variant_fixtures.py: conv_transpose1d and grouped conv1d with
// channels-last transposes, Keras semantics in float64) on every backend, plus the layer
// contract: symbolic shapes, Keras's parameter counts, config round trips, save/load, errors.
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

const fixtures = loadFixture<Case>('conv1d-variants.json');
const runs = await fixtureRuns();

describeLayerFixtures('1-D convolution variants match PyTorch (Keras semantics)', fixtures.cases, runs);

/** Keras's count_params: Conv1DTranspose k·in·filters (+ filters); DepthwiseConv1D k·in·dm (+ in·dm); SeparableConv1D k·in·dm + in·dm·filters (+ filters). */
function kerasParams(c: Case): number {
  const k = c.config.kernelSize as number,
    inC = c.input.shape[2],
    filters = c.config.filters as number,
    dm = (c.config.depthMultiplier as number | undefined) ?? 1;
  const bias = (n: number) => (c.config.useBias === false ? 0 : n);
  if (c.layer === 'conv1dTranspose') return k * inC * filters + bias(filters);
  if (c.layer === 'depthwiseConv1d') return k * inC * dm + bias(inC * dm);
  return k * inC * dm + inC * dm * filters + bias(filters);
}

describe('1-D convolution variants: layer contract', () => {
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

  it('a model with every 1-D variant predicts identically after save and load', async () => {
    st.setSeed(3);
    const inp = st.input({ shape: [9, 2] });
    let h = st.layers.depthwiseConv1d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu' }).apply(inp);
    h = st.layers.separableConv1d({ filters: 3, kernelSize: 3, strides: 2 }).apply(h);
    h = st.layers.conv1dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', outputPadding: 1 }).apply(h);
    const model = st.model({ inputs: inp, outputs: h });
    assert.deepEqual([...h.shape], [null, 8, 2]); // 9 → 4 (k 3, stride 2) → (4 - 1)·2 + 3 - 2 + 1
    const dir = await mkdtemp(join(tmpdir(), 'strata-conv1d-variants-'));
    try {
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      const x = randomTensor([2, 9, 2], 5, 'float32');
      const predict = (m: st.Model) => Array.from((m.predict(x) as st.Tensor).dataSync());
      assert.deepEqual(predict(loaded), predict(model));
      assert.equal(loaded.countParams(), model.countParams());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('bad options and inputs give clear errors', () => {
    throwsWith(() => st.layers.conv1dTranspose({ filters: 2 } as never), st.ValueError, /kernelSize is required/);
    throwsWith(() => st.layers.depthwiseConv1d({ kernelSize: [2, 2] as never }), st.ValueError, /positive integer or a list of one/);
    throwsWith(() => st.layers.separableConv1d({ filters: 2, kernelSize: 2, strides: 2, dilationRate: 2 }), st.ValueError, /cannot be combined/);
    throwsWith(() => st.layers.conv1dTranspose({ filters: 2, kernelSize: 2, strides: 2, outputPadding: 2 }), st.ValueError, /smaller than strides/);
    throwsWith(() => st.layers.depthwiseConv1d({ kernelSize: 2 }).apply(st.ones([1, 4, 4, 2])), st.ValueError, /rank 3/);
    throwsWith(
      () => st.layers.separableConv1d({ filters: 2, kernelSize: 5 }).apply(st.input({ shape: [3, 1] })),
      st.ShapeError,
      /shorter than the kernel/,
    );
  });
});
