// The convolutional LSTMs (convLstm1d, convLstm2d, convLstm3d, convLstm2dCell) against the
// committed reference of Keras 3's ConvLSTM equations (scripts/make_conv_lstm_fixtures.py, written
// with PyTorch's convolutions, which has no ConvLSTM): values and gradients on every backend,
// float64 central finite differences on the reference backend, and the layer contract (shapes,
// Keras's parameter counts, config round trips, save/load, errors).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { blob, fixtureRuns, loadFixture, makeLayer, type Blob } from './fixture-harness.js';
import { assertClose, assertCloseAsync, randomTensor, randomValues, throwsWith, withBackend, withBackendAsync } from './helpers.js';

interface Case {
  name: string;
  layer: string;
  config: Record<string, unknown>;
  input: Blob;
  mask?: Blob;
  initialState?: Blob[];
  weights: Blob[];
  outputs: Blob[];
  upstreams: Blob[];
  gradInput: Blob;
  gradInitialState?: Blob[];
  gradWeights: Blob[];
}

const fixtures = loadFixture<Case>('conv-lstm.json');
const runs = await fixtureRuns();
const asList = (y: st.Tensor | st.Tensor[]) => (Array.isArray(y) ? y : [y]);

describe("convolutional LSTMs match Keras's equations", () => {
  for (const run of runs) {
    describe(`${run.backend} ${run.dtype}`, () => {
      for (const c of fixtures.cases) {
        it(c.name, () =>
          withBackendAsync(run.backend, async () => {
            const layer = makeLayer(c.layer, { ...c.config, dtype: run.dtype });
            const x = st.variable(blob(c.input, run.dtype));
            const states = c.initialState?.map((s) => st.variable(blob(s, run.dtype)));
            const isCell = c.layer === 'convLstm2dCell';
            layer.ensureBuilt(isCell ? [x.shape, ...states!.map((s) => s.shape)] : x.shape);
            layer.setWeights(c.weights.map((w) => blob(w, run.dtype)));
            const mask = c.mask ? st.tensor(c.mask.data, c.mask.shape, 'float32').cast('bool') : undefined;
            const ys = asList(isCell ? layer.apply([x, ...states!]) : layer.apply(x, { mask, ...(states ? { initialState: states } : {}) }));
            assert.equal(ys.length, c.outputs.length, 'number of outputs');
            for (const [i, y] of ys.entries()) await assertCloseAsync(y, blob(c.outputs[i], run.dtype), run.rtol, run.atol, `${c.name} output ${i}`);
            ys.map((y, i) => y.mul(blob(c.upstreams[i], run.dtype)).sum())
              .reduce((a, b) => a.add(b))
              .backward();
            await assertCloseAsync(x.grad!, blob(c.gradInput, run.dtype), run.rtol, run.atol, `${c.name} input gradient`);
            for (const [i, w] of layer.weights.entries())
              await assertCloseAsync(w.value.grad!, blob(c.gradWeights[i], run.dtype), run.rtol, run.atol, `${c.name} gradient of ${w.path}`);
            for (const [i, s] of (states ?? []).entries())
              await assertCloseAsync(s.grad!, blob(c.gradInitialState![i], run.dtype), run.rtol, run.atol, `${c.name} gradient of state ${i}`);
          }),
        );
      }
    });
  }
});

describe('convLstm2d: float64 finite differences on the reference backend', () => {
  it('gradients of the input and of every weight', () =>
    withBackend('reference', () => {
      const layer = st.layers.convLstm2d({ filters: 2, kernelSize: 2, strides: [1, 2], padding: 'same', returnSequences: true, dtype: 'float64' });
      const x = randomTensor([1, 3, 3, 4, 1], 2, 'float64');
      layer.ensureBuilt(x.shape);
      layer.setWeights(layer.getWeights().map((w, i) => st.tensor(randomValues(w.size, 10 + i, -0.6, 0.6), w.shape, 'float64')));
      const out = layer.apply(x) as st.Tensor;
      const weighting = st.tensor(randomValues(out.size, 99, 0.5, 1.5), out.shape, 'float64');
      const scalar = (input: st.Tensor) => st.sum(st.mul(layer.apply(input) as st.Tensor, weighting)).item();
      const xv = st.variable(x);
      st.sum(st.mul(layer.apply(xv) as st.Tensor, weighting)).backward();
      const eps = 1e-6;
      const numeric = (values: number[], evaluate: (v: number[]) => number) =>
        values.map((_, i) => {
          const plus = values.slice(),
            minus = values.slice();
          plus[i] += eps;
          minus[i] -= eps;
          return (evaluate(plus) - evaluate(minus)) / (2 * eps);
        });
      const xs = Array.from(x.dataSync());
      assertClose(
        xv.grad!,
        numeric(xs, (v) => scalar(st.tensor(v, x.shape, 'float64'))),
        1e-6,
        1e-8,
        'input gradient',
      );
      const weights = layer.getWeights();
      for (const [k, w] of layer.weights.entries()) {
        const analytic = Array.from(w.value.grad!.dataSync());
        const base = Array.from(weights[k].dataSync());
        const fd = numeric(base, (v) => {
          layer.setWeights(weights.map((t, j) => (j === k ? st.tensor(v, t.shape, 'float64') : t)));
          return scalar(x);
        });
        layer.setWeights(weights);
        assertClose(analytic, fd, 1e-6, 1e-8, `gradient of ${w.path}`);
      }
    }));
});

/** Keras's count_params: kernel k·in·4f, recurrent kernel k·f·4f, bias 4f. */
function kerasParams(c: Case): number {
  const rank = c.layer === 'convLstm1d' ? 1 : c.layer === 'convLstm3d' ? 3 : 2;
  const k = c.config.kernelSize as number | number[];
  const taps = typeof k === 'number' ? k ** rank : k.reduce((a, b) => a * b, 1);
  const f = c.config.filters as number,
    inC = c.input.shape[c.input.shape.length - 1];
  return taps * inC * 4 * f + taps * f * 4 * f + (c.config.useBias === false ? 0 : 4 * f);
}

describe('convolutional LSTMs: layer contract', () => {
  for (const c of fixtures.cases.filter((k) => k.layer !== 'convLstm2dCell')) {
    it(`${c.name}: symbolic shapes, Keras parameter count, config round trip`, () => {
      const layer = makeLayer(c.layer, c.config);
      const out = layer.apply(st.input({ shape: c.input.shape.slice(1) })) as st.SymbolicTensor | st.SymbolicTensor[];
      assert.deepEqual(
        (Array.isArray(out) ? out : [out]).map((o) => [...o.shape]),
        c.outputs.map((o) => [null, ...o.shape.slice(1)]),
      );
      assert.equal(layer.countParams(), kerasParams(c));
      assert.deepEqual(
        layer.getWeights().map((w) => [...w.shape]),
        c.weights.map((w) => w.shape),
      );
      const config = serializeLayer(layer);
      assert.ok(!('cell' in config.config), "the config is flat, as Keras's and tfjs's");
      const copy = deserializeLayer(JSON.parse(JSON.stringify(config)));
      assert.equal(copy.className, layer.className);
      assert.deepEqual(copy.getConfig(), layer.getConfig());
    });
  }

  it('unitForgetBias starts the forget slice of the bias at 1', () => {
    const layer = st.layers.convLstm2d({ filters: 2, kernelSize: 1 });
    layer.apply(st.ones([1, 2, 3, 3, 1]));
    assert.deepEqual(Array.from(layer.getWeights()[2].dataSync()), [0, 0, 1, 1, 0, 0, 0, 0]);
  });

  it('rnn over convLstm2dCell computes what convLstm2d does', () => {
    const layer = st.layers.convLstm2d({ filters: 2, kernelSize: 3, padding: 'same', returnSequences: true });
    const generic = st.layers.rnn({ cell: st.layers.convLstm2dCell({ filters: 2, kernelSize: 3, padding: 'same' }), returnSequences: true });
    const x = randomTensor([2, 3, 4, 4, 2], 3, 'float32');
    layer.ensureBuilt(x.shape);
    generic.ensureBuilt(x.shape);
    generic.setWeights(layer.getWeights());
    assertClose(generic.apply(x) as st.Tensor, layer.apply(x) as st.Tensor, 1e-6, 1e-6);
  });

  it('a model with a convLstm2d predicts identically after save and load; a few steps lower its loss', async () => {
    st.setSeed(6);
    const model = st.sequential({
      layers: [
        st.layers.convLstm2d({ filters: 3, kernelSize: 3, padding: 'same', inputShape: [4, 6, 6, 1] }),
        st.layers.globalAveragePooling2d(),
        st.layers.dense({ units: 1 }),
      ],
    });
    const x = randomTensor([4, 4, 6, 6, 1], 8, 'float32');
    const y = st.mean(x, [1, 2, 3]);
    const loss = () => st.losses.meanSquaredError(y, model.apply(x) as st.Tensor);
    const before = st.noGrad(loss).item();
    const opt = st.optimizers.adam({ learningRate: 0.01 });
    for (let i = 0; i < 5; i++)
      opt.minimize(
        loss,
        model.trainableWeights.map((w) => w.value),
      );
    assert.ok(st.noGrad(loss).item() < before, 'loss fell');
    const dir = await mkdtemp(join(tmpdir(), 'strata-conv-lstm-'));
    try {
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      const predict = (m: st.Model) => Array.from((m.predict(x) as st.Tensor).dataSync());
      assert.deepEqual(predict(loaded), predict(model));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('bad options and inputs give clear errors', () => {
    throwsWith(() => st.layers.convLstm2d({ filters: 2 } as never), st.ValueError, /kernelSize is required/);
    throwsWith(() => st.layers.convLstm2d({ filters: 2, kernelSize: [1, 2, 3] }), st.ValueError, /2 of them/);
    throwsWith(() => st.layers.convLstm2d({ filters: 2, kernelSize: 2, units: 3 } as never), st.ValueError, /unknown option 'units'/);
    throwsWith(() => st.layers.convLstm2d({ filters: 2, kernelSize: 2, strides: 2, dilationRate: 2 }), st.ValueError, /cannot be combined/);
    throwsWith(() => st.layers.convLstm2d({ filters: 2, kernelSize: 2 }).apply(st.ones([1, 2, 3, 3])), st.ShapeError, /rank 5/);
  });
});
