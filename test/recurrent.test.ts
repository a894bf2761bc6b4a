// Recurrent layers (simpleRNN, lstm, gru, bidirectional, timeDistributed) against PyTorch fixtures
// (scripts/make_recurrent_fixtures.py: Keras semantics, weights in Keras layout, float64), on
// every backend, plus the layer contract (shapes, Keras parameter counts, config round trip, SGD
// lowers a loss, save/load) and behaviour: masks, states, dropout, stateful, learning a task.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { getMask, setMask } from '../src/nn/masking.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { assertClose, assertCloseAsync, randomTensor, randomValues, withBackendAsync } from './helpers.js';
import { blob, fixtureRuns, loadFixture, makeLayer, type Blob } from './fixture-harness.js';

interface Case {
  name: string;
  layer: 'lstm' | 'gru' | 'simpleRNN' | 'bidirectional';
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

const fixtures = loadFixture<Case>('recurrent.json');
const runs = await fixtureRuns();

/** The fixture's layer in a dtype (a bidirectional's inner layer gets the dtype too). */
function make(c: Case, dtype: st.DType): st.Layer {
  const config =
    c.layer === 'bidirectional'
      ? { ...c.config, layer: { ...(c.config.layer as object), config: { ...(c.config.layer as { config: object }).config, dtype } } }
      : c.config;
  return makeLayer(c.layer, { ...config, dtype });
}
const maskOf = (c: Case) => (c.mask ? st.tensor(c.mask.data, c.mask.shape, 'float32').cast('bool') : undefined);
const asList = (y: st.Tensor | st.Tensor[]) => (Array.isArray(y) ? y : [y]);

describe('recurrent layers match PyTorch (Keras semantics)', () => {
  for (const run of runs) {
    describe(`${run.backend} ${run.dtype}`, () => {
      for (const c of fixtures.cases) {
        it(c.name, () =>
          withBackendAsync(run.backend, async () => {
            const layer = make(c, run.dtype);
            layer.ensureBuilt(c.input.shape);
            layer.setWeights(c.weights.map((w) => blob(w, run.dtype)));
            const x = st.variable(blob(c.input, run.dtype));
            const h0 = c.initialState?.map((s) => st.variable(blob(s, run.dtype)));
            const ys = asList(layer.apply(x, { mask: maskOf(c), ...(h0 ? { initialState: h0 } : {}) }) as st.Tensor | st.Tensor[]);
            assert.equal(ys.length, c.outputs.length, 'number of outputs');
            for (const [i, y] of ys.entries()) await assertCloseAsync(y, blob(c.outputs[i], run.dtype), run.rtol, run.atol, `${c.name} output ${i}`);
            ys.map((y, i) => y.mul(blob(c.upstreams[i], run.dtype)).sum())
              .reduce((a, b) => a.add(b))
              .backward();
            await assertCloseAsync(x.grad!, blob(c.gradInput, run.dtype), run.rtol, run.atol, `${c.name} input gradient`);
            for (const [i, w] of layer.weights.entries()) {
              await assertCloseAsync(w.value.grad!, blob(c.gradWeights[i], run.dtype), run.rtol, run.atol, `${c.name} gradient of ${w.path}`);
            }
            for (const [i, s] of (h0 ?? []).entries()) {
              await assertCloseAsync(
                s.grad!,
                blob(c.gradInitialState![i], run.dtype),
                run.rtol,
                run.atol,
                `${c.name} gradient of initial state ${i}`,
              );
            }
          }),
        );
      }
    });
  }
});

/** Keras's count_params for the same configuration (input features `d`). */
function kerasParams(kind: string, config: Record<string, unknown>, d: number): number {
  const u = config.units as number;
  if (kind === 'lstm') return 4 * (u * (d + u) + u); // kernel d·4u + recurrent u·4u + bias 4u
  if (kind === 'simpleRNN') return u * (d + u) + u;
  // GRU: kernel d·3u + recurrent u·3u + bias 2·3u (resetAfter) or 3u
  if (kind === 'gru') return 3 * u * (d + u) + (config.resetAfter === false ? 3 * u : 6 * u);
  const inner = config.layer as { className: string; config: Record<string, unknown> };
  const name = { LSTM: 'lstm', GRU: 'gru', SimpleRNN: 'simpleRNN' }[inner.className]!;
  return 2 * kerasParams(name, inner.config, d);
}

describe('recurrent layer contract', () => {
  for (const c of fixtures.cases) {
    it(`${c.name}: shape inference, Keras parameter count, config round trip`, () => {
      const layer = make(c, 'float32');
      const x = st.input({ shape: c.input.shape.slice(1) });
      const h0 = c.initialState?.map((s) => st.input({ shape: s.shape.slice(1) }));
      const out = layer.apply(x, h0 ? { initialState: h0 } : {}) as st.SymbolicTensor | st.SymbolicTensor[];
      const shapes = (Array.isArray(out) ? out : [out]).map((s) => [...s.shape]);
      assert.deepEqual(
        shapes,
        c.outputs.map((o) => [null, ...o.shape.slice(1)]),
        'symbolic output shapes',
      );
      assert.deepEqual(layer.computeOutputShape([null, ...c.input.shape.slice(1)]), c.outputs.length === 1 ? shapes[0] : shapes);
      assert.equal(layer.countParams(), kerasParams(c.layer, c.config, c.input.shape[2]));
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

  const small: [string, () => st.Layer][] = [
    ['lstm', () => st.layers.lstm({ units: 4, returnSequences: true })],
    ['gru', () => st.layers.gru({ units: 4 })],
    ['gru resetAfter false', () => st.layers.gru({ units: 4, resetAfter: false, returnSequences: true })],
    ['simpleRNN', () => st.layers.simpleRNN({ units: 4 })],
    ['bidirectional', () => st.layers.bidirectional({ layer: st.layers.lstm({ units: 3, returnSequences: true }) })],
    ['timeDistributed', () => st.layers.timeDistributed({ layer: st.layers.dense({ units: 4 }) })],
  ];
  for (const [name, factory] of small) {
    it(`${name}: a few SGD steps lower the loss`, () => {
      st.setSeed(3);
      const layer = factory();
      const x = randomTensor([4, 5, 3], 7, 'float32');
      const out = layer.apply(x) as st.Tensor;
      const target = st.randomNormal(out.shape, { seed: 5 });
      const loss = () => st.losses.meanSquaredError(target, layer.apply(x) as st.Tensor);
      const before = st.noGrad(() => loss()).item();
      const opt = st.optimizers.sgd({ learningRate: 0.1 });
      for (let i = 0; i < 5; i++)
        opt.minimize(
          loss,
          layer.trainableWeights.map((w) => w.value),
        );
      assert.ok(st.noGrad(() => loss()).item() < before, `${name}: loss did not fall`);
    });
  }

  it('save/load of a model with every recurrent layer predicts identically', async () => {
    st.setSeed(11);
    const model = st.sequential({
      layers: [
        st.layers.bidirectional({ layer: st.layers.lstm({ units: 4, returnSequences: true }), mergeMode: 'sum', inputShape: [6, 3] }),
        st.layers.gru({ units: 3, returnSequences: true, resetAfter: false }),
        st.layers.simpleRNN({ units: 3, returnSequences: true, goBackwards: true }),
        st.layers.timeDistributed({ layer: st.layers.dense({ units: 2 }) }),
        st.layers.gru({ units: 2 }),
      ],
    });
    const dir = await mkdtemp(join(tmpdir(), 'strata-recurrent-'));
    try {
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      const x = randomTensor([3, 6, 3], 4, 'float32');
      const predict = (m: st.Model) => Array.from((m.predict(x) as st.Tensor).dataSync());
      assert.deepEqual(predict(loaded), predict(model));
      assert.equal(loaded.countParams(), model.countParams());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Sets a layer's weights from functions of their shapes. */
function setWeightsBy(layer: st.Layer, f: (name: string, shape: number[]) => st.Tensor): void {
  layer.setWeights(layer.weights.map((w) => f(w.name, [...w.value.shape])));
}

describe('recurrent layer behaviour', () => {
  it('lstm: unitForgetBias sets the forget slice of the bias to 1 (Keras default)', () => {
    const lstm = st.layers.lstm({ units: 3 });
    lstm.apply(st.zeros([1, 2, 2]));
    assert.deepEqual(Array.from(lstm.getWeights()[2].dataSync()), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    const plain = st.layers.lstm({ units: 2, unitForgetBias: false, biasInitializer: 'ones' });
    plain.apply(st.zeros([1, 2, 2]));
    assert.deepEqual(Array.from(plain.getWeights()[2].dataSync()), new Array(8).fill(1));
  });

  it('masks: returnSequences passes the mask on; the last output is the last unmasked one', () => {
    const x = randomTensor([2, 5, 3], 3, 'float32');
    const mask = st.tensor([1, 1, 1, 0, 0, 1, 1, 1, 1, 1], [2, 5], 'bool');
    const seq = st.layers.gru({ units: 4, returnSequences: true });
    const y = seq.apply(x, { mask });
    assert.equal(getMask(y), mask);
    // Masked steps repeat the previous output, so the padded tail equals step 2 for sample 0.
    const rows = y.arraySync() as number[][][];
    assert.deepEqual(rows[0][3], rows[0][2]);
    assert.deepEqual(rows[0][4], rows[0][2]);
    const last = st.layers.gru({ units: 4 });
    last.apply(x);
    last.setWeights(seq.getWeights());
    setMask(x, mask);
    const z = last.apply(x);
    assert.equal(getMask(z), null);
    assertClose(z, st.stack([st.slice(y, [0, 2, 0], [1, 1, 4]).reshape([4]), st.slice(y, [1, 4, 0], [1, 1, 4]).reshape([4])]));
    setMask(x, null);
  });

  it('functional API: initial states as inputs, returnState outputs', () => {
    st.setSeed(2);
    const x = st.input({ shape: [4, 3] }),
      h0 = st.input({ shape: [5] }),
      c0 = st.input({ shape: [5] });
    const lstm = st.layers.lstm({ units: 5, returnState: true });
    const [out, h, c] = lstm.apply(x, { initialState: [h0, c0] }) as unknown as st.SymbolicTensor[];
    assert.deepEqual(
      [out.shape, h.shape, c.shape].map((s) => [...s]),
      [
        [null, 5],
        [null, 5],
        [null, 5],
      ],
    );
    const model = st.model({ inputs: [x, h0, c0], outputs: [out, c] });
    const xv = randomTensor([2, 4, 3], 1, 'float32'),
      hv = randomTensor([2, 5], 2, 'float32'),
      cv = randomTensor([2, 5], 3, 'float32');
    const [po, pc] = model.predict([xv, hv, cv]) as unknown as st.Tensor[];
    const [eo, , ec] = lstm.apply(xv, { initialState: [hv, cv] }) as unknown as st.Tensor[];
    assertClose(po, eo);
    assertClose(pc, ec);
  });

  it('stateful: two half sequences equal one whole sequence; resetStates starts over', () => {
    st.setSeed(4);
    const x = randomTensor([2, 6, 3], 9, 'float32');
    const whole = st.layers.lstm({ units: 4 });
    const expected = whole.apply(x);
    const stateful = st.layers.lstm({ units: 4, stateful: true, batchInputShape: [2, 6, 3] });
    stateful.apply(x);
    stateful.setWeights(whole.getWeights());
    stateful.resetStates();
    stateful.apply(st.slice(x, [0, 0, 0], [2, 3, 3]));
    assertClose(stateful.apply(st.slice(x, [0, 3, 0], [2, 3, 3])), expected, 1e-5, 1e-6);
    stateful.resetStates();
    assertClose(stateful.apply(x), expected, 1e-5, 1e-6);
    assert.throws(() => stateful.apply(st.zeros([3, 6, 3])), /built for batch size 2; received a batch of 3/);
    assert.throws(() => st.layers.gru({ units: 2, stateful: true }).apply(st.input({ shape: [4, 3] })), /stateful layer needs a fixed batch size/);
  });

  it('stateful inside fit: the carried states survive the trainer freeing each step', async () => {
    st.setSeed(6);
    const gru = st.layers.gru({ units: 3, stateful: true, batchInputShape: [4, 5, 2] });
    const model = st.sequential({ layers: [gru, st.layers.dense({ units: 1 })] });
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    await model.fit(randomTensor([8, 5, 2], 3, 'float32'), randomTensor([8, 1], 4, 'float32'), {
      epochs: 1,
      batchSize: 4,
      shuffle: false,
      verbose: 0,
    });
    const carried = Array.from(gru.states![0].dataSync());
    assert.ok(carried.every(Number.isFinite) && carried.some((v) => v !== 0), `states ${carried}`);
    gru.resetStates();
    assert.ok(Array.from(gru.states![0].dataSync()).every((v) => v === 0));
  });

  it('dropout: one input mask for every time step, only in training, seeded', () => {
    // Linear SimpleRNN with kernel I and no recurrence: the output at each step is x_t * mask.
    const rnn = st.layers.simpleRNN({ units: 6, activation: 'linear', dropout: 0.5, returnSequences: true, seed: 1 });
    rnn.apply(st.zeros([1, 1, 6]));
    setWeightsBy(rnn, (name, s) => (name === 'kernel' ? st.eye(6) : st.zeros(s)));
    const x = st.ones([40, 4, 6]);
    assert.deepEqual(Array.from(rnn.apply(x).dataSync()), Array.from(x.dataSync()), 'inference is the identity');
    const y = rnn.apply(x, { training: true }).arraySync() as number[][][];
    const values = y.flat(2);
    assert.ok(
      values.every((v) => v === 0 || Math.abs(v - 2) < 1e-6),
      'inverted dropout values',
    );
    const kept = values.filter((v) => v !== 0).length / values.length;
    assert.ok(kept > 0.35 && kept < 0.65, `kept fraction ${kept}`);
    for (const row of y) row.forEach((step) => assert.deepEqual(step, row[0], 'the mask is fixed across time'));
    // A seeded layer repeats its sequence of masks from a fresh layer.
    const again = st.layers.simpleRNN({ units: 6, activation: 'linear', dropout: 0.5, returnSequences: true, seed: 1 });
    again.apply(st.zeros([1, 1, 6]));
    again.setWeights(rnn.getWeights());
    again.apply(x);
    assert.deepEqual(again.apply(x, { training: true }).arraySync(), y);
  });

  it('recurrentDropout: one recurrent mask for every time step', () => {
    // h_t = x_t + (h_{t-1} * m) with x = 1: a unit with m = 2 runs 1, 3, 7, 15; with m = 0 stays 1.
    const rnn = st.layers.simpleRNN({ units: 8, activation: 'linear', recurrentDropout: 0.5, returnSequences: true });
    rnn.apply(st.zeros([1, 1, 8]));
    setWeightsBy(rnn, (name, s) => (name === 'bias' ? st.zeros(s) : st.eye(8)));
    const y = rnn.apply(st.ones([10, 4, 8]), { training: true }).arraySync() as number[][][];
    let kept = 0;
    for (const row of y) {
      for (let u = 0; u < 8; u++) {
        const traj = row.map((step) => step[u]);
        if (traj[1] > 1.5) kept++;
        assert.ok(
          traj.every((v, i) => Math.abs(v - (traj[1] > 1.5 ? 2 ** (i + 1) - 1 : 1)) < 1e-5),
          `trajectory ${traj}`,
        );
      }
    }
    assert.ok(kept > 10 && kept < 70, `kept ${kept} of 80`);
  });

  it('bidirectional: weights forward then backward; mergeMode null returns both directions', () => {
    const bi = st.layers.bidirectional({ layer: st.layers.gru({ units: 3, returnSequences: true, name: 'enc' }), mergeMode: null });
    const x = randomTensor([2, 4, 2], 5, 'float32');
    const [f, b] = bi.apply(x) as unknown as st.Tensor[];
    assert.deepEqual(
      bi.weights.map((w) => w.path),
      [
        'forward_enc/kernel',
        'forward_enc/recurrent_kernel',
        'forward_enc/bias',
        'backward_enc/kernel',
        'backward_enc/recurrent_kernel',
        'backward_enc/bias',
      ],
    );
    const fwd = st.layers.gru({ units: 3, returnSequences: true }),
      bwd = st.layers.gru({ units: 3, returnSequences: true, goBackwards: true });
    fwd.apply(x);
    bwd.apply(x);
    fwd.setWeights(bi.getWeights().slice(0, 3));
    bwd.setWeights(bi.getWeights().slice(3));
    assertClose(f, fwd.apply(x));
    // The backward output is flipped back to input order.
    assertClose(b, st.gather(bwd.apply(x), st.tensor([3, 2, 1, 0], [4], 'int32'), 1));
    bi.trainable = false;
    assert.equal(bi.trainableWeights.length, 0);
    assert.throws(() => st.layers.bidirectional({ layer: st.layers.dense({ units: 2 }) }), /must be a recurrent layer/);
    assert.throws(() => st.layers.bidirectional({ layer: st.layers.lstm({ units: 2 }), mergeMode: 'max' as never }), /mergeMode must be one of/);
  });

  it('timeDistributed(dense) applies the dense layer to every step', () => {
    const td = st.layers.timeDistributed({ layer: st.layers.dense({ units: 3, activation: 'tanh' }) });
    const x = randomTensor([2, 4, 5], 6, 'float32');
    const y = td.apply(x);
    const [kernel, bias] = td.getWeights().map((w) => Array.from(w.dataSync()));
    const xs = Array.from(x.dataSync());
    const expected: number[] = [];
    for (let r = 0; r < 8; r++) {
      for (let j = 0; j < 3; j++) {
        let s = bias[j];
        for (let k = 0; k < 5; k++) s += xs[r * 5 + k] * kernel[k * 3 + j];
        expected.push(Math.tanh(s));
      }
    }
    assertClose(y, expected, 1e-5, 1e-6);
    assert.deepEqual([...y.shape], [2, 4, 3]);
    assert.deepEqual([...(td.apply(st.input({ shape: [7, 5] })) as st.SymbolicTensor).shape], [null, 7, 3]);
  });

  it('any number of time steps: symbolic unknown length, one layer on several lengths', () => {
    const lstm = st.layers.lstm({ units: 3, returnSequences: true });
    const out = lstm.apply(st.input({ shape: [null, 2] }));
    assert.deepEqual([...out.shape], [null, null, 3]);
    assert.deepEqual([...lstm.apply(st.zeros([2, 7, 2])).shape], [2, 7, 3]);
    assert.deepEqual([...lstm.apply(st.zeros([1, 2, 2])).shape], [1, 2, 3]);
    assert.throws(() => lstm.apply(st.zeros([1, 2, 3])), /was built for inputs with 2 features \(last axis\); received shape \(1, 2, 3\)/);
  });

  it('bad options and inputs give clear errors', () => {
    assert.throws(() => st.layers.lstm({ units: 0 }), /units must be a positive integer/);
    assert.throws(() => st.layers.lstm({ units: 2, returnSequence: true } as never), /unknown option 'returnSequence'/);
    assert.throws(() => st.layers.gru({ units: 2, dropout: 1 }), /dropout must be a number in \[0, 1\)/);
    assert.throws(() => st.layers.simpleRNN({ units: 2 }).apply(st.zeros([2, 3])), /expected input of rank 3/);
    assert.throws(
      () => st.layers.lstm({ units: 2 }).apply(st.zeros([1, 3, 2]), { initialState: [st.zeros([1, 2])] }),
      /initialState must be a list of 2 tensor/,
    );
    assert.throws(
      () => st.layers.gru({ units: 2 }).apply(st.zeros([1, 3, 2]), { initialState: [st.zeros([1, 3])] }),
      /initialState\[0\] must have shape \[1, 2\]/,
    );
    assert.throws(() => st.layers.lstm({ units: 2 }).resetStates(), /needs a stateful layer/);
  });

  it('a small LSTM learns the sign of a sequence sum', async () => {
    st.setSeed(21);
    const n = 256,
      steps = 8;
    const values = randomValues(n * steps, 13, -1, 1);
    const labels = Array.from({ length: n }, (_, i) => (values.slice(i * steps, (i + 1) * steps).reduce((a, b) => a + b, 0) > 0 ? 1 : 0));
    const x = st.tensor(values, [n, steps, 1]),
      y = st.tensor(labels, [n, 1]);
    const model = st.sequential({
      layers: [st.layers.lstm({ units: 8, inputShape: [steps, 1] }), st.layers.dense({ units: 1, activation: 'sigmoid' })],
    });
    model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.03 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const history = await model.fit(x, y, { epochs: 6, batchSize: 32, verbose: 0 });
    const acc = history.history.accuracy as number[];
    assert.ok(acc[acc.length - 1] > 0.9, `accuracy ${acc.map((a) => a.toFixed(3)).join(' ')}`);
  });
});
