// The layer harness: every core layer against PyTorch fixtures (scripts/make_layer_fixtures.py,
// Keras semantics reproduced in float64), on every backend, plus the checks every layer must
// pass: output shape equals computeOutputShape, parameter count, config round trip, and one
// gradient step lowering a loss.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { assertClose, assertCloseAsync, randomTensor, withBackendAsync } from './helpers.js';
import { blob, fixtureRuns, loadFixture, makeLayer, type Blob } from './fixture-harness.js';

interface Case {
  name: string;
  layer: keyof typeof st.layers;
  config: Record<string, unknown>;
  training: boolean;
  input: Blob;
  weights: Blob[];
  output: Blob;
  upstream: Blob;
  gradInput: Blob;
  gradWeights: (Blob | null)[];
  weightsAfter?: Blob[];
}

const fixtures = loadFixture<Case>('layers.json');
const runs = await fixtureRuns();

const make = (c: Case, dtype: st.DType): st.Layer => makeLayer(c.layer, { ...c.config, dtype });

describe('layers match PyTorch (Keras semantics)', () => {
  for (const run of runs) {
    describe(`${run.backend} ${run.dtype}`, () => {
      for (const c of fixtures.cases) {
        // The exact GELU's erf is a float32-grade fit (relative error < 1.4e-7, its slope a little more).
        const rtol = c.name === 'activation_gelu' ? Math.max(run.rtol, 1e-6) : run.rtol;
        it(c.name, () =>
          withBackendAsync(run.backend, async () => {
            const layer = make(c, run.dtype);
            layer.ensureBuilt(c.input.shape);
            layer.setWeights(c.weights.map((w) => blob(w, run.dtype)));
            const x = st.variable(blob(c.input, run.dtype));
            const y = layer.apply(x, { training: c.training });
            await assertCloseAsync(y, blob(c.output, run.dtype), rtol, run.atol, `${c.name} output`);
            if (c.weightsAfter) {
              for (const [i, w] of layer.getWeights().entries()) {
                await assertCloseAsync(w, blob(c.weightsAfter[i], run.dtype), run.rtol, run.atol, `${c.name} weight ${i} after the call`);
              }
            }
            y.mul(blob(c.upstream, run.dtype)).sum().backward();
            await assertCloseAsync(x.grad!, blob(c.gradInput, run.dtype), rtol, run.atol, `${c.name} input gradient`);
            for (const [i, w] of layer.weights.entries()) {
              const expected = c.gradWeights[i];
              if (expected === null) assert.equal(w.value.grad, null, `${c.name}: non-trainable ${w.name} got a gradient`);
              else await assertCloseAsync(w.value.grad!, blob(expected, run.dtype), run.rtol, run.atol, `${c.name} gradient of ${w.name}`);
            }
          }),
        );
      }
    });
  }
});

describe('layer contract (every fixture layer)', () => {
  for (const c of fixtures.cases) {
    it(`${c.name}: shape inference, parameters, config round trip`, () => {
      const layer = make(c, 'float32');
      const sym = st.input({ shape: c.input.shape.slice(1) });
      const out = layer.apply(sym);
      assert.deepEqual([...out.shape], [null, ...c.output.shape.slice(1)], 'symbolic output shape');
      assert.equal(
        layer.countParams(),
        c.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0),
      );
      assert.deepEqual(
        layer.getWeights().map((w) => [...w.shape]),
        c.weights.map((w) => w.shape),
        'weight shapes in Keras layout',
      );
      const copy = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(layer))));
      assert.equal(copy.className, layer.className);
      assert.deepEqual(copy.getConfig(), layer.getConfig());
    });
  }

  for (const c of fixtures.cases.filter((k) => k.weights.length && !k.name.includes('infer'))) {
    it(`${c.name}: one gradient step lowers the loss`, () => {
      st.setSeed(3);
      const layer = make(c, 'float32');
      const x = blob(c.input, 'float32');
      const target = st.randomNormal(c.output.shape, { seed: 5 });
      const loss = () => st.losses.meanSquaredError(target, layer.apply(x, { training: c.training }));
      const before = st.noGrad(() => loss()).item();
      st.optimizers.sgd({ learningRate: 0.01 }).minimize(
        loss,
        layer.trainableWeights.map((w) => w.value),
      );
      assert.ok(st.noGrad(() => loss()).item() < before, `${c.name}: loss did not fall`);
    });
  }
});

describe('layer behaviour', () => {
  it('dropout is the identity at inference and inverted dropout in training', () => {
    st.setSeed(1);
    const d = st.layers.dropout({ rate: 0.25 });
    const x = st.ones([200, 50]);
    assert.deepEqual(d.apply(x).dataSync(), x.dataSync());
    const y = Array.from(d.apply(x, { training: true }).dataSync());
    assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
    const kept = y.filter((v) => v !== 0).length / y.length;
    assert.ok(Math.abs(kept - 0.75) < 0.02, `kept fraction ${kept}`);
  });

  it('frozen batch normalization uses moving statistics even when training', () => {
    const bn = st.layers.batchNormalization();
    const x = randomTensor([8, 3], 2, 'float32');
    bn.ensureBuilt(x.shape);
    bn.trainable = false;
    const y = bn.apply(x, { training: true });
    assertClose(y, x.div(Math.sqrt(1 + 1e-3)), 1e-5, 1e-6);
    assertClose(bn.getWeights()[2], st.zeros([3]));
  });

  it('merge layers: add, subtract, multiply, average, maximum, minimum, concatenate', () => {
    const a = randomTensor([2, 3], 1, 'float32'),
      b = randomTensor([2, 3], 2, 'float32');
    assertClose(st.layers.add().apply([a, b]), a.add(b));
    assertClose(st.layers.subtract().apply([a, b]), a.sub(b));
    assertClose(st.layers.multiply().apply([a, b]), a.mul(b));
    assertClose(st.layers.average().apply([a, b]), a.add(b).div(2));
    assertClose(st.layers.maximum().apply([a, b]), st.maximum(a, b));
    assertClose(st.layers.minimum().apply([a, b]), st.minimum(a, b));
    assertClose(st.layers.concatenate().apply([a, b]), st.concat([a, b], 1));
    const s = st.layers.concatenate({ axis: 1 }).apply([st.input({ shape: [3] }), st.input({ shape: [4] })]);
    assert.deepEqual([...s.shape], [null, 7]);
    assert.throws(() => st.layers.add().apply([st.input({ shape: [3] }), st.input({ shape: [4] })]), st.ShapeError);
  });

  it('reshape infers -1 and rejects impossible shapes', () => {
    const r = st.layers.reshape({ targetShape: [-1, 2] });
    assert.deepEqual([...r.apply(st.zeros([3, 4, 2])).shape], [3, 4, 2]);
    assert.throws(() => st.layers.reshape({ targetShape: [3, 3] }).apply(st.zeros([2, 4])), /cannot reshape/);
  });

  it('bad options and inputs give clear errors', () => {
    assert.throws(() => st.layers.dense({ units: 0 }), /units must be a positive integer; received 0/);
    assert.throws(() => st.layers.dense({ units: 3, unit: 4 } as never), /unknown option 'unit'/);
    assert.throws(() => st.layers.conv2d({ filters: 2 } as never), /kernelSize is required/);
    assert.throws(() => st.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'full' as never }), /padding must be one of/);
    assert.throws(() => st.layers.dropout({ rate: 1 }), /rate must be a number in \[0, 1\)/);
    const dense = st.layers.dense({ units: 2 });
    dense.apply(st.zeros([1, 3]));
    assert.throws(() => dense.apply(st.zeros([1, 4])), /was built for inputs of shape \(None, 3\); received \(1, 4\)/);
    assert.throws(() => dense.setWeights([st.zeros([3, 3]), st.zeros([2])]), /kernel has shape \[3, 2\]; received \[3, 3\]/);
    assert.throws(() => st.layers.conv2d({ filters: 2, kernelSize: 3 }).apply(st.zeros([2, 5, 5])), /rank 4/);
  });

  it('layers get Keras-style unique names', () => {
    const a = st.layers.conv2d({ filters: 1, kernelSize: 1 }),
      b = st.layers.conv2d({ filters: 1, kernelSize: 1 });
    assert.match(a.name, /^conv2d(_\d+)?$/);
    assert.notEqual(a.name, b.name);
    assert.match(st.layers.maxPooling2d().name, /^max_pooling2d(_\d+)?$/);
    assert.match(st.layers.batchNormalization().name, /^batch_normalization(_\d+)?$/);
  });
});
