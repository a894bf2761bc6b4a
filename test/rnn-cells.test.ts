// Recurrent cells as layers (simpleRNNCell, lstmCell, gruCell), stackedRNNCells and the generic
// rnn layer: PyTorch fixtures (scripts/make_rnn_cell_fixtures.py, torch's RNNCell, LSTMCell and
// GRUCell with Keras's gate order) for values and gradients on every backend; rnn over a built-in
// cell gives the built-in layer's numbers with the same weights; a user-defined cell (a minimal
// gated unit) runs, masks, trains and saves; the layer contract (shapes, config, errors).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { blob, fixtureRuns, loadFixture, makeLayer, type Blob } from './fixture-harness.js';
import { assertClose, assertCloseAsync, randomTensor, throwsWith, withBackendAsync } from './helpers.js';

interface Case {
  name: string;
  kind: 'cell' | 'rnn';
  layer: string;
  config: Record<string, unknown>;
  input: Blob;
  mask?: Blob;
  states: Blob[];
  weights: Blob[];
  outputs: Blob[];
  upstreams: Blob[];
  gradInput: Blob;
  gradStates: Blob[];
  gradWeights: Blob[];
}

const fixtures = loadFixture<Case>('rnn-cells.json');
const runs = await fixtureRuns();
const asList = (y: st.Tensor | st.Tensor[]) => (Array.isArray(y) ? y : [y]);

/** A cell spec of a fixture with a dtype (and its stacked cells' too). */
function withDtype(config: Record<string, unknown>, dtype: st.DType): Record<string, unknown> {
  if (!('cell' in config)) return { ...config, dtype };
  const cell = config.cell as { className: string; config: Record<string, unknown> };
  const inner =
    cell.className === 'StackedRNNCells'
      ? {
          ...cell,
          config: { ...cell.config, cells: (cell.config.cells as { config: object }[]).map((c) => ({ ...c, config: { ...c.config, dtype } })) },
        }
      : { ...cell, config: { ...cell.config, dtype } };
  return { ...config, cell: inner, dtype };
}

describe('recurrent cells and the rnn layer match PyTorch (Keras gate order)', () => {
  for (const run of runs) {
    describe(`${run.backend} ${run.dtype}`, () => {
      for (const c of fixtures.cases) {
        it(c.name, () =>
          withBackendAsync(run.backend, async () => {
            const layer = makeLayer(c.layer, withDtype(c.config, run.dtype));
            const x = st.variable(blob(c.input, run.dtype));
            const states = c.states.map((s) => st.variable(blob(s, run.dtype)));
            layer.ensureBuilt(c.kind === 'cell' ? [x.shape, ...states.map((s) => s.shape)] : c.input.shape);
            layer.setWeights(c.weights.map((w) => blob(w, run.dtype)));
            const mask = c.mask ? st.tensor(c.mask.data, c.mask.shape, 'float32').cast('bool') : undefined;
            const ys = asList(c.kind === 'cell' ? layer.apply([x, ...states]) : layer.apply(x, { initialState: states, mask }));
            assert.equal(ys.length, c.outputs.length, 'number of outputs');
            for (const [i, y] of ys.entries()) await assertCloseAsync(y, blob(c.outputs[i], run.dtype), run.rtol, run.atol, `${c.name} output ${i}`);
            ys.map((y, i) => y.mul(blob(c.upstreams[i], run.dtype)).sum())
              .reduce((a, b) => a.add(b))
              .backward();
            await assertCloseAsync(x.grad!, blob(c.gradInput, run.dtype), run.rtol, run.atol, `${c.name} input gradient`);
            for (const [i, w] of layer.weights.entries())
              await assertCloseAsync(w.value.grad!, blob(c.gradWeights[i], run.dtype), run.rtol, run.atol, `${c.name} gradient of ${w.path}`);
            for (const [i, s] of states.entries())
              await assertCloseAsync(s.grad!, blob(c.gradStates[i], run.dtype), run.rtol, run.atol, `${c.name} gradient of state ${i}`);
          }),
        );
      }
    });
  }
});

describe('rnn over a built-in cell computes what the built-in layer does', () => {
  type Make = (dtype: st.DType) => st.Layer;
  const pairs: [string, Make, Make][] = [
    [
      'lstm',
      (dtype) => st.layers.lstm({ units: 4, returnSequences: true, returnState: true, dtype }),
      (dtype) => st.layers.lstmCell({ units: 4, dtype }),
    ],
    [
      'gru',
      (dtype) => st.layers.gru({ units: 4, returnSequences: true, returnState: true, dtype }),
      (dtype) => st.layers.gruCell({ units: 4, dtype }),
    ],
    [
      'gru resetAfter false, backwards',
      (dtype) => st.layers.gru({ units: 3, resetAfter: false, goBackwards: true, returnState: true, dtype }),
      (dtype) => st.layers.gruCell({ units: 3, resetAfter: false, dtype }),
    ],
    [
      'simpleRNN',
      (dtype) => st.layers.simpleRNN({ units: 4, returnSequences: true, dtype }),
      (dtype) => st.layers.simpleRNNCell({ units: 4, dtype }),
    ],
  ];
  for (const run of runs) {
    // webgpu (software Vulkan here) compiles shaders slowly: the two gated cells there, all four elsewhere.
    for (const [name, layer, cell] of pairs.filter(([n]) => run.backend !== 'webgpu' || n === 'lstm' || n === 'gru')) {
      it(`${run.backend} ${run.dtype}: ${name}, masked, values and gradients`, () =>
        withBackendAsync(run.backend, async () => {
          st.setSeed(5);
          const builtIn = layer(run.dtype);
          const config = serializeLayer(builtIn).config;
          const generic = st.layers.rnn({
            cell: cell(run.dtype),
            returnSequences: config.returnSequences as boolean,
            returnState: config.returnState as boolean,
            goBackwards: config.goBackwards as boolean,
          });
          const x = randomTensor([3, 6, 2], 4, run.dtype);
          // A padded batch: the whole-sequence kernels (Note [Masked sequences in one kernel]) meet the cell loop.
          const mask = st.tensor([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1], [3, 6], 'bool');
          builtIn.ensureBuilt(x.shape);
          generic.ensureBuilt(x.shape);
          generic.setWeights(builtIn.getWeights());
          const results = [builtIn, generic].map((l) => {
            const xv = st.variable(x);
            const ys = asList(l.apply(xv, { mask }) as st.Tensor | st.Tensor[]);
            ys.map((y, i) => y.mul(i + 1).sum())
              .reduce((a, b) => a.add(b))
              .backward();
            return { ys, gx: xv.grad!, gw: l.weights.map((w) => w.value.grad!) };
          });
          const [a, b] = results;
          for (const [i, y] of a.ys.entries()) await assertCloseAsync(b.ys[i], Array.from(await y.data()), run.rtol, run.atol, `${name} output ${i}`);
          await assertCloseAsync(b.gx, Array.from(await a.gx.data()), run.rtol, run.atol, `${name} input gradient`);
          for (const [i, g] of a.gw.entries())
            await assertCloseAsync(b.gw[i], Array.from(await g.data()), run.rtol, run.atol, `${name} weight gradient ${i}`);
        }));
    }
  }
});

/**
 * A user-defined cell: the minimal gated unit (Zhou et al. 2016), one forget gate f:
 * f = σ(x Wf + h Uf + bf), hh = tanh(x Wh + (f h) Uh + bh), h' = (1 - f) h + f hh.
 */
class MinimalGatedCell extends st.Layer {
  static readonly className = 'MinimalGatedCell';
  readonly units: number;
  readonly stateSize: number;
  kernel: st.Tensor | null = null;
  recurrentKernel: st.Tensor | null = null;
  bias: st.Tensor | null = null;
  constructor(args: st.LayerArgs & { units: number }) {
    super(args as unknown as st.LayerArgs & Record<string, unknown>, ['units']);
    this.units = args.units;
    this.stateSize = args.units;
  }
  override build(inputShape: st.Shape | st.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as st.Shape;
    const u = this.units;
    this.kernel = this.addWeight('kernel', [shape[shape.length - 1] as number, 2 * u], { initializer: 'glorotUniform' });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [u, 2 * u], { initializer: 'orthogonal' });
    this.bias = this.addWeight('bias', [2 * u], { initializer: 'zeros' });
  }
  call(inputs: st.Tensor | st.Tensor[]): st.Tensor[] {
    const [x, h] = inputs as st.Tensor[];
    const u = this.units;
    const xp = st.add(st.matmul(x, this.kernel!), this.bias!);
    const [xf, xh] = st.split(xp, 2, 1);
    const [uf, uh] = st.split(this.recurrentKernel!, 2, 1);
    const f = st.sigmoid(st.add(xf, st.matmul(h, uf)));
    const hh = st.tanh(st.add(xh, st.matmul(st.mul(f, h), uh)));
    const next = st.add(h, st.mul(f, st.sub(hh, h)));
    assert.equal(next.shape[1], u);
    return [next, next];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), units: this.units };
  }
}
st.layers.registerLayer('MinimalGatedCell', (c) => new MinimalGatedCell(c as unknown as st.LayerArgs & { units: number }));

describe('a user-defined cell in the rnn layer', () => {
  it('steps as its own call does, masked steps keep the state and repeat the output', () => {
    const cell = new MinimalGatedCell({ units: 3 });
    const layer = st.layers.rnn({ cell, returnSequences: true, returnState: true });
    const x = randomTensor([2, 4, 2], 8, 'float32');
    const mask = st.tensor([1, 1, 0, 1, 1, 1, 1, 1], [2, 4], 'bool');
    const [seq, h] = layer.apply(x, { mask }) as unknown as st.Tensor[];
    let state = st.zeros([2, 3]);
    const expected: st.Tensor[] = [];
    for (let t = 0; t < 4; t++) {
      const [out] = cell.call([x.slice([0, t, 0], [2, 1, 2]).reshape([2, 2]), state]);
      // Row 0 is masked at step 2: its state and output stay those of step 1.
      const keep = st.tensor([t === 2 ? 0 : 1, 1], [2, 1], 'bool');
      state = st.where(keep, out, state);
      expected.push(state);
    }
    assertClose(seq, st.stack(expected, 1), 1e-6, 1e-6, 'sequence');
    assertClose(h, state, 1e-6, 1e-6, 'final state');
    assert.deepEqual(
      layer.weights.map((w) => w.path),
      [`${layer.name}/${cell.name}/kernel`, `${layer.name}/${cell.name}/recurrent_kernel`, `${layer.name}/${cell.name}/bias`],
    );
  });

  it('trains: a few Adam steps lower the loss of a small sequence task', () => {
    st.setSeed(2);
    const model = st.sequential({
      layers: [st.layers.rnn({ cell: new MinimalGatedCell({ units: 8 }), inputShape: [6, 2] }), st.layers.dense({ units: 1 })],
    });
    const x = randomTensor([32, 6, 2], 3, 'float32');
    const y = st.sum(x, [1, 2]).reshape([32, 1]);
    const opt = st.optimizers.adam({ learningRate: 0.02 });
    const loss = () => st.losses.meanSquaredError(y, model.apply(x) as st.Tensor);
    const before = st.noGrad(loss).item();
    for (let i = 0; i < 15; i++)
      opt.minimize(
        loss,
        model.trainableWeights.map((w) => w.value),
      );
    const after = st.noGrad(loss).item();
    assert.ok(after < 0.7 * before, `loss ${before} -> ${after}`);
  });

  it('save/load of a model with rnn layers over user, built-in and stacked cells predicts identically', async () => {
    st.setSeed(4);
    const model = st.sequential({
      layers: [
        st.layers.rnn({ cell: new MinimalGatedCell({ units: 3 }), returnSequences: true, inputShape: [5, 2] }),
        st.layers.rnn({ cell: [st.layers.lstmCell({ units: 3 }), st.layers.gruCell({ units: 2 })], returnSequences: true }),
        st.layers.bidirectional({ layer: st.layers.rnn({ cell: st.layers.gruCell({ units: 2 }), returnSequences: true }), mergeMode: 'ave' }),
        st.layers.rnn({ cell: st.layers.simpleRNNCell({ units: 2 }), goBackwards: true }),
      ],
    });
    const dir = await mkdtemp(join(tmpdir(), 'strata-rnn-'));
    try {
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      const x = randomTensor([2, 5, 2], 6, 'float32');
      const predict = (m: st.Model) => Array.from((m.predict(x) as st.Tensor).dataSync());
      assert.deepEqual(predict(loaded), predict(model));
      assert.equal(loaded.countParams(), model.countParams());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('cell and rnn layer contract', () => {
  it('bidirectional over rnn(gruCell) computes what bidirectional over gru does, masked; weight paths differ per direction', () => {
    const builtIn = st.layers.bidirectional({ layer: st.layers.gru({ units: 3, returnSequences: true }) });
    const generic = st.layers.bidirectional({ layer: st.layers.rnn({ cell: st.layers.gruCell({ units: 3 }), returnSequences: true }) });
    const x = randomTensor([2, 5, 2], 12, 'float32');
    const mask = st.tensor([1, 1, 1, 0, 0, 1, 1, 1, 1, 1], [2, 5], 'bool');
    builtIn.ensureBuilt(x.shape);
    generic.ensureBuilt(x.shape);
    generic.setWeights(builtIn.getWeights());
    assertClose(generic.apply(x, { mask }) as st.Tensor, builtIn.apply(x, { mask }) as st.Tensor, 1e-6, 1e-6);
    const paths = generic.weights.map((w) => w.path);
    assert.equal(new Set(paths).size, paths.length, paths.join(', '));
  });

  it('symbolic shapes, Keras parameter counts and config round trips', () => {
    const x = st.input({ shape: [7, 3] });
    const stacked = st.layers.rnn({ cell: [st.layers.lstmCell({ units: 4 }), st.layers.gruCell({ units: 2 })], returnState: true });
    const outs = stacked.apply(x) as unknown as st.SymbolicTensor[];
    assert.deepEqual(
      outs.map((o) => [...o.shape]),
      [
        [null, 2],
        [null, 4],
        [null, 4],
        [null, 2],
      ],
    );
    // LSTMCell 4·(u(d + u) + u) with d = 3, u = 4; GRUCell (resetAfter) 3u(d + u) + 6u with d = 4, u = 2.
    assert.equal(stacked.countParams(), 4 * (4 * 7 + 4) + (3 * 2 * 6 + 12));
    const cell = st.layers.lstmCell({ units: 2 });
    const [h, h2, c] = cell.apply([st.input({ shape: [5] }), st.input({ shape: [2] }), st.input({ shape: [2] })]) as unknown as st.SymbolicTensor[];
    assert.deepEqual(
      [h.shape, h2.shape, c.shape],
      [
        [null, 2],
        [null, 2],
        [null, 2],
      ],
    );
    for (const l of [stacked, cell, st.layers.gruCell({ units: 3, resetAfter: false }), st.layers.simpleRNNCell({ units: 2, activation: 'relu' })]) {
      const copy = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(l))));
      assert.equal(copy.className, l.className);
      assert.deepEqual(copy.getConfig(), l.getConfig());
    }
    assert.deepEqual(Object.keys(serializeLayer(stacked).config).sort(), [
      'cell',
      'dtype',
      'goBackwards',
      'name',
      'returnSequences',
      'returnState',
      'stateful',
      'trainable',
      'unroll',
      'zeroOutputForMask',
    ]);
  });

  it('stateful rnn: two halves equal the whole sequence', () => {
    st.setSeed(9);
    const whole = st.layers.rnn({ cell: st.layers.lstmCell({ units: 3 }), returnSequences: true });
    const halves = st.layers.rnn({ cell: st.layers.lstmCell({ units: 3 }), returnSequences: true, stateful: true, batchInputShape: [2, 3, 2] });
    const x = randomTensor([2, 6, 2], 1, 'float32');
    whole.ensureBuilt(x.shape);
    halves.ensureBuilt([2, 3, 2]);
    halves.setWeights(whole.getWeights());
    const first = halves.apply(x.slice([0, 0, 0], [2, 3, 2])) as st.Tensor;
    const second = halves.apply(x.slice([0, 3, 0], [2, 3, 2])) as st.Tensor;
    assertClose(st.concat([first, second], 1), whole.apply(x) as st.Tensor, 1e-6, 1e-6);
  });

  it('cell dropout: one mask per sequence, only in training', () => {
    const layer = st.layers.rnn({
      cell: st.layers.simpleRNNCell({ units: 3, dropout: 0.5, seed: 3, kernelInitializer: 'ones' }),
      returnSequences: true,
    });
    const x = st.ones([2, 4, 3]);
    const inference = layer.apply(x) as st.Tensor;
    const again = layer.apply(x) as st.Tensor;
    assert.deepEqual(Array.from(inference.dataSync()), Array.from(again.dataSync()));
    const trained = layer.apply(x, { training: true }) as st.Tensor;
    assert.notDeepEqual(Array.from(trained.dataSync()), Array.from(inference.dataSync()));
  });

  it('bad cells and inputs give clear errors', () => {
    throwsWith(() => st.layers.rnn({ cell: st.layers.dense({ units: 2 }) }), st.ValueError, /stateSize/, /Dense/);
    throwsWith(() => st.layers.rnn({ cell: 3 as never }), st.ValueError, /cell must be a layer/);
    throwsWith(() => st.layers.stackedRNNCells({ cells: [] }), st.ValueError, /non-empty list/);
    const layer = st.layers.rnn({ cell: st.layers.gruCell({ units: 2 }) });
    throwsWith(() => layer.apply(st.ones([2, 3])), st.ShapeError, /rank 3/);
    layer.apply(st.ones([2, 3, 4]));
    throwsWith(() => layer.apply(st.ones([2, 3, 5])), st.ValueError, /built for inputs of shape/);
    throwsWith(
      () => layer.apply(st.ones([2, 3, 4]), { initialState: [st.ones([2, 3])] }),
      st.ShapeError,
      /initialState\[0\] must have shape \[2, 2\]/,
    );
    throwsWith(() => st.layers.lstmCell({ units: 2 }).apply([st.ones([1, 3]), st.ones([1, 2])]), st.ValueError, /2 state\(s\)/);
  });
});
