// The adaptive pooling layers and ops (st.layers.adaptiveAveragePooling1d/2d/3d,
// adaptiveMaxPooling1d/2d/3d, st.adaptiveAveragePool, st.adaptiveMaxPool) against PyTorch's
// AdaptiveAvgPool and AdaptiveMaxPool (scripts/make_adaptive_pool_fixtures.py, channels-last
// transposes) on every backend, plus the layer contract, the ops' errors and save/load.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { blob, describeLayerFixtures, fixtureRuns, type LayerCase, loadFixture, makeLayer } from './fixture-harness.js';
import { randomTensor, throwsWith } from './helpers.js';

type Case = LayerCase;

const fixtures = loadFixture<Case>('adaptive-pool.json');
const runs = await fixtureRuns();

describeLayerFixtures('adaptive pooling matches PyTorch', fixtures.cases, runs);

describe('adaptive pooling: contract', () => {
  for (const c of fixtures.cases) {
    it(`${c.name}: symbolic shape, Keras parameter count, weight layout, config round trip`, () => {
      const layer = makeLayer(c.layer, c.config);
      const out = layer.apply(st.input({ shape: c.input.shape.slice(1) }));
      assert.deepEqual([...out.shape], [null, ...c.output.shape.slice(1)]);
      assert.deepEqual(layer.computeOutputShape(c.input.shape), c.output.shape);
      assert.equal(layer.countParams(), 0);
      assert.deepEqual(
        layer.getWeights().map((w) => [...w.shape]),
        c.weights.map((w) => w.shape),
      );
      const copy = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(layer))));
      assert.equal(copy.className, layer.className);
      assert.deepEqual(copy.getConfig(), layer.getConfig());
    });
  }

  it('the ops are the layers: the same values', () => {
    for (const c of fixtures.cases) {
      const x = blob(c.input, 'float32');
      const op = c.layer.startsWith('adaptiveAverage') ? st.adaptiveAveragePool : st.adaptiveMaxPool;
      assert.deepEqual(Array.from(op(x, c.config.outputSize as number).dataSync()), Array.from(makeLayer(c.layer, c.config).apply(x).dataSync()));
    }
  });

  it('a model with adaptive pooling predicts identically after save and load, on inputs of any size', async () => {
    st.setSeed(3);
    const inp = st.input({ shape: [null, null, 2] });
    const a = st.layers.adaptiveAveragePooling2d({ outputSize: 3 }).apply(inp);
    const m = st.layers.adaptiveMaxPooling2d({ outputSize: [3, 3] }).apply(inp);
    const out = st.layers.dense({ units: 2 }).apply(st.layers.flatten().apply(st.layers.concatenate().apply([a, m])));
    const model = st.model({ inputs: inp, outputs: out });
    const dir = await mkdtemp(join(tmpdir(), 'strata-adaptive-'));
    try {
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      for (const size of [5, 8]) {
        const x = randomTensor([2, size, size + 1, 2], size, 'float32');
        const predict = (mm: st.Model) => Array.from((mm.predict(x) as st.Tensor).dataSync());
        assert.deepEqual(predict(loaded), predict(model));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('bad options and inputs give clear errors', () => {
    throwsWith(() => st.layers.adaptiveAveragePooling2d({ outputSize: [2] }), st.ValueError, /2 of them/);
    throwsWith(() => st.layers.adaptiveMaxPooling1d({ outputSize: 0 }), st.ValueError, /positive integer/);
    throwsWith(() => st.layers.adaptiveMaxPooling3d({ outputSize: 2 }).apply(st.ones([1, 4, 4, 2])), st.ValueError, /rank 5/);
    throwsWith(() => st.adaptiveAveragePool(st.ones([4, 4]), 2), st.ShapeError, /rank 3, 4 or 5/);
    throwsWith(() => st.adaptiveMaxPool(st.ones([1, 4, 4, 1]), [2, 2, 2]), st.ValueError, /2 of them/);
    throwsWith(() => st.adaptiveMaxPool(st.ones([1, 4, 1]), 2, { dataFormat: 'channelsFirst' as never }), st.ValueError, /dataFormat/);
  });
});
