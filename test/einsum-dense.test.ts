// st.layers.einsumDense against torch.einsum (scripts/make_einsum_dense_fixtures.py: Keras 3.15's
// activation(einsum(equation, x, kernel) + bias), with the kernel and bias shapes Keras derives)
// on every backend, plus the layer contract: shapes, config round trips, save/load, errors.
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

const fixtures = loadFixture<Case>('einsum-dense.json');
const runs = await fixtureRuns();

describeLayerFixtures('einsumDense matches torch.einsum (Keras semantics)', fixtures.cases, runs);

describe('einsumDense: contract', () => {
  for (const c of fixtures.cases) {
    it(`${c.name}: symbolic shape, Keras parameter count, weight layout, config round trip`, () => {
      const layer = makeLayer(c.layer, c.config);
      const out = layer.apply(st.input({ shape: c.input.shape.slice(1) }));
      // Keras keeps the outputShape's nulls (sizes it takes from the input) as unknown.
      const given = c.config.outputShape as number | (number | null)[];
      const nulls = (typeof given === 'number' ? [given] : given).map((d) => d === null);
      const expected = c.output.shape.map((d, i) => (i === 0 || nulls[i - 1] ? null : d));
      assert.deepEqual([...out.shape], expected);
      assert.equal(
        layer.countParams(),
        c.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0),
      );
      assert.deepEqual(
        layer.getWeights().map((w) => [...w.shape]),
        c.weights.map((w) => w.shape),
      );
      const copy = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(layer))));
      assert.equal(copy.className, layer.className);
      assert.deepEqual(copy.getConfig(), layer.getConfig());
    });
  }

  it('a model with einsumDense layers predicts identically after save and load', async () => {
    st.setSeed(3);
    const inp = st.input({ shape: [5, 8] });
    const heads = st.layers.einsumDense({ equation: 'abc,cde->abde', outputShape: [null, 2, 4], biasAxes: 'de', activation: 'relu' }).apply(inp);
    const merged = st.layers.einsumDense({ equation: 'abcd,cde->abe', outputShape: [null, 3] }).apply(heads);
    const model = st.model({ inputs: inp, outputs: merged });
    const dir = await mkdtemp(join(tmpdir(), 'strata-einsum-dense-'));
    try {
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      const x = randomTensor([2, 5, 8], 5, 'float32');
      const predict = (m: st.Model) => Array.from((m.predict(x) as st.Tensor).dataSync());
      assert.deepEqual(predict(loaded), predict(model));
      assert.equal(loaded.countParams(), model.countParams());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('bad options and inputs give clear errors', () => {
    throwsWith(() => st.layers.einsumDense({ equation: 'ab->b', outputShape: 2 }), st.ValueError, /equation must be of the form/);
    throwsWith(() => st.layers.einsumDense({ equation: 'ab,bc->ac', outputShape: 0 }), st.ValueError, /outputShape/);
    throwsWith(() => st.layers.einsumDense({ equation: 'ab,bc->ac', outputShape: 2, biasAxes: 'c1' }), st.ValueError, /biasAxes/);
    throwsWith(
      () => st.layers.einsumDense({ equation: 'ab,bc->ac', outputShape: 2, biasAxes: 'x' }).apply(st.ones([2, 3])),
      st.ValueError,
      /bias axis 'x'/,
    );
    throwsWith(
      () => st.layers.einsumDense({ equation: 'ab,bc->acd', outputShape: [2, 3] }).apply(st.ones([2, 3])),
      st.ValueError,
      /neither the input nor the kernel/,
    );
    throwsWith(() => st.layers.einsumDense({ equation: 'ab,bc->ac', outputShape: 2 }).apply(st.ones([2, 3, 4])), st.ShapeError, /rank 3/);
  });
});
