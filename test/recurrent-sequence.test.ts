// The whole-sequence recurrent kernels (Note [Whole-sequence recurrent kernels] in
// src/ops/recurrent-sequence.ts): native LSTM, GRU and SimpleRNN layers, which run every step in
// one oneDNN call, against the same layers stepping through time in float64 on the reference backend, on
// random weights and inputs, forward and backward.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackend } from './helpers.js';
import { collectGarbage } from './collect-garbage.js';
import { tapePrimitives } from './grad-check.js';
import { runPrimitive } from '../src/ops/run.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);

type Kind = 'lstm' | 'gru' | 'simpleRNN';

interface Setup {
  kind?: Kind;
  batch: number;
  steps: number;
  features: number;
  units: number;
  options?: Record<string, unknown>;
  initialState?: boolean;
  /** A [batch, steps] mask, one row of 0/1 per sample. */
  mask?: number[][];
}

/** Values and gradients of one layer call under a loss touching every output, as plain arrays. */
function runLayer(backend: string, s: Setup, dtype: st.DType, seed = 1): number[][] {
  const kind = s.kind ?? 'lstm';
  return withBackend(backend, () => {
    const layer = st.layers[kind]({ units: s.units, returnSequences: true, returnState: true, dtype, ...s.options });
    layer.ensureBuilt([s.batch, s.steps, s.features]);
    // Random weights, bias included (zeros would hide a mislaid bias).
    layer.setWeights(layer.getWeights().map((w, i) => st.tensor(randomValues(w.size, seed + 10 * i, -0.6, 0.6), w.shape, dtype)));
    const x = st.variable(st.tensor(randomValues(s.batch * s.steps * s.features, seed + 100), [s.batch, s.steps, s.features], dtype));
    const init = s.initialState
      ? (kind === 'lstm' ? [0, 1] : [0]).map((k) =>
          st.variable(st.tensor(randomValues(s.batch * s.units, seed + 200 + k), [s.batch, s.units], dtype)),
        )
      : undefined;
    const mask = s.mask ? st.tensor(s.mask.flat(), [s.batch, s.steps]).cast('bool') : undefined;
    const applied = layer.apply(x, { training: true, ...(init ? { initialState: init } : {}), ...(mask ? { mask } : {}) }) as st.Tensor | st.Tensor[];
    const outs = Array.isArray(applied) ? applied : [applied];
    // Different weights per output so that a gradient sent to the wrong place shows.
    outs
      .map((y, i) => st.sum(st.mul(st.sin(y), i + 1)))
      .reduce((a, b) => st.add(a, b))
      .backward();
    const grads = [x.grad!, ...layer.weights.map((w) => w.value.grad!), ...(init ?? []).map((t) => t.grad!)];
    return [...outs, ...grads].map((t) => Array.from(t.dataSync()));
  });
}

const shapes: [string, Setup][] = [
  ['sequences and states', { batch: 4, steps: 7, features: 3, units: 5 }],
  ['odd sizes, one step', { batch: 3, steps: 1, features: 17, units: 9 }],
  ['batch of one, wide input', { batch: 1, steps: 5, features: 40, units: 16 }],
  ['goBackwards', { batch: 2, steps: 6, features: 4, units: 3, options: { goBackwards: true } }],
  ['initial states', { batch: 3, steps: 4, features: 2, units: 6, initialState: true }],
  ['no bias', { batch: 2, steps: 5, features: 3, units: 4, options: { useBias: false } }],
  ['last output only', { batch: 3, steps: 5, features: 3, units: 4, options: { returnSequences: false } }],
];
const cases = [
  ...(['lstm', 'gru', 'simpleRNN'] as const).flatMap((kind) => shapes.map(([name, s]): [string, Setup] => [`${kind}, ${name}`, { ...s, kind }])),
  ...shapes
    .slice(0, 4)
    .map(([name, s]): [string, Setup] => [`simpleRNN relu, ${name}`, { ...s, kind: 'simpleRNN', options: { ...s.options, activation: 'relu' } }]),
];

describe('whole-sequence recurrent kernels', { skip: !nativeAvailable && 'native backend not built' }, () => {
  for (const [name, setup] of cases) {
    it(`${name}: values and gradients match the layer stepping through time in float64`, () => {
      const fused = runLayer('native', setup, 'float32');
      const oracle = runLayer('reference', setup, 'float64');
      assert.equal(fused.length, oracle.length);
      fused.forEach((v, i) => assertClose(v, oracle[i], 2e-4, 2e-5, `${name}: result ${i}`));
    });
  }

  for (const kind of ['lstm', 'gru', 'simpleRNN'] as const) {
    it(`${kind}: is what the native layer runs; unroll: true or a mask with holes steps through time instead`, () =>
      withBackend('native', () => {
        const x = st.variable(st.tensor(randomValues(2 * 3 * 4, 5), [2, 3, 4]));
        // The stepped SimpleRNN is a matmul and a tanh per step; the others use their fused cells.
        const cell = kind === 'simpleRNN' ? 'tanh' : (`${kind}Cell` as const);
        const whole = tapePrimitives(st.layers[kind]({ units: 3 }).apply(x) as st.Tensor);
        assert.ok(whole.has('rnnSequence') && !whole.has(cell));
        const stepped = tapePrimitives(st.layers[kind]({ units: 3, unroll: true }).apply(x) as st.Tensor);
        assert.ok(stepped.has(cell) && !stepped.has('rnnSequence'));
        const mask = (rows: number[]) => st.tensor(rows, [2, 3]).cast('bool');
        const padded = tapePrimitives(st.layers[kind]({ units: 3 }).apply(x, { mask: mask([1, 1, 0, 0, 1, 1]) }) as st.Tensor);
        assert.ok(padded.has('rnnSequence'), 'padding before or after the real steps runs in one kernel');
        const holes = tapePrimitives(st.layers[kind]({ units: 3 }).apply(x, { mask: mask([1, 0, 1, 1, 1, 1]) }) as st.Tensor);
        assert.ok(!holes.has('rnnSequence'), 'a mask with holes steps through time');
      }));
  }

  // Note [Masked sequences in one kernel]: 'post' and 'pre' padding, a run in the middle, full rows.
  const masks = [
    [1, 1, 1, 0, 0, 0],
    [0, 0, 1, 1, 1, 1],
    [0, 1, 1, 1, 0, 0],
    [1, 1, 1, 1, 1, 1],
  ];
  // An LSTM returning its states steps through time under padding, so its cases return outputs only.
  const maskedCases: [string, Setup][] = (['lstm', 'gru', 'simpleRNN'] as const).flatMap((kind): [string, Setup][] => {
    const base = { kind, batch: 4, steps: 6, features: 3, units: 5, mask: masks };
    const own = kind === 'lstm' ? { returnState: false } : {};
    return [
      [`${kind}, padded rows, sequences`, { ...base, options: own }],
      [`${kind}, padded rows, last output`, { ...base, options: { ...own, returnSequences: false } }],
      [`${kind}, padded rows, goBackwards`, { ...base, options: { ...own, goBackwards: true } }],
      [`${kind}, padded rows, zeroOutputForMask`, { ...base, options: { ...own, zeroOutputForMask: true } }],
      [`${kind}, padded rows, initial states`, { ...base, options: own, initialState: true }],
    ];
  });
  for (const [name, setup] of maskedCases) {
    it(`${name}: values and gradients match the masked layer stepping through time in float64`, () => {
      const fused = runLayer('native', setup, 'float32');
      const oracle = runLayer('reference', setup, 'float64');
      fused.forEach((v, i) => assertClose(v, oracle[i], 2e-4, 2e-5, `${name}: result ${i}`));
    });
  }

  it('an LSTM that returns its states under a padding mask steps through time (its c is not among the kernel outputs)', () =>
    withBackend('native', () => {
      const x = st.variable(st.tensor(randomValues(2 * 3 * 4, 12), [2, 3, 4]));
      const out = st.layers
        .lstm({ units: 3, returnState: true })
        .apply(x, { mask: st.tensor([1, 1, 0, 1, 1, 1], [2, 3]).cast('bool') }) as unknown as st.Tensor[];
      assert.ok(!tapePrimitives(out[2]).has('rnnSequence'));
      const gru = st.layers
        .gru({ units: 3, returnState: true })
        .apply(x, { mask: st.tensor([1, 1, 0, 1, 1, 1], [2, 3]).cast('bool') }) as unknown as st.Tensor[];
      assert.ok(tapePrimitives(gru[1]).has('rnnSequence'), 'a GRU state is its last output');
    }));

  it('a bidirectional GRU over a padded batch matches the stepping layers in float64', () => {
    const run = (backend: string, dtype: st.DType) =>
      withBackend(backend, () => {
        const layer = st.layers.bidirectional({ layer: st.layers.gru({ units: 4, returnSequences: true, dtype }), dtype });
        const x = st.variable(st.tensor(randomValues(3 * 5 * 2, 80), [3, 5, 2], dtype));
        layer.ensureBuilt([3, 5, 2]);
        layer.setWeights(layer.getWeights().map((w, i) => st.tensor(randomValues(w.size, 81 + i, -0.6, 0.6), w.shape, dtype)));
        const mask = st.tensor([1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 5]).cast('bool');
        const y = layer.apply(x, { mask, training: true }) as st.Tensor;
        st.sum(st.sin(y)).backward();
        return [y, x.grad!, ...layer.weights.map((w) => w.value.grad!)].map((t) => Array.from(t.dataSync()));
      });
    const fused = run('native', 'float32'),
      oracle = run('reference', 'float64');
    fused.forEach((v, i) => assertClose(v, oracle[i], 2e-4, 2e-5, `result ${i}`));
  });

  it('an embedding with maskZero feeding an LSTM, padded at the front as pad_sequences does', () => {
    const tokens = [
      [0, 0, 3, 5, 2],
      [4, 1, 1, 2, 6],
      [0, 0, 0, 0, 7],
    ];
    const run = (backend: string, dtype: st.DType) =>
      withBackend(backend, () => {
        st.setSeed(3);
        const input = st.input({ shape: [5], dtype: 'int32' });
        const embedded = st.layers.embedding({ inputDim: 8, outputDim: 4, maskZero: true, dtype }).apply(input);
        const model = st.model({ inputs: input, outputs: st.layers.lstm({ units: 6, dtype }).apply(embedded) });
        model.setWeights(model.getWeights().map((w, i) => st.tensor(randomValues(w.size, 30 + i, -0.5, 0.5), w.shape, dtype)));
        const y = model.apply(st.tensor(tokens.flat(), [3, 5], 'int32'), { training: true }) as st.Tensor;
        st.sum(st.sin(y)).backward();
        return [y, ...model.trainableWeights.map((w) => w.value.grad!)].map((t) => Array.from(t.dataSync()));
      });
    const fused = run('native', 'float32'),
      oracle = run('reference', 'float64');
    fused.forEach((v, i) => assertClose(v, oracle[i], 2e-4, 2e-5, `result ${i}`));
  });

  it('a SimpleRNN with another activation steps through time', () =>
    withBackend('native', () => {
      const x = st.variable(st.tensor(randomValues(2 * 3 * 4, 6), [2, 3, 4]));
      assert.ok(!tapePrimitives(st.layers.simpleRNN({ units: 3, activation: 'sigmoid' }).apply(x) as st.Tensor).has('rnnSequence'));
    }));

  for (const kind of ['lstm', 'gru', 'simpleRNN'] as const) {
    it(`${kind}: input dropout draws the same mask as the stepped layer`, () => {
      const setup: Setup = { kind, batch: 3, steps: 4, features: 5, units: 4, options: { dropout: 0.4, seed: 3 } };
      const fused = runLayer('native', setup, 'float32');
      const stepped = runLayer('native', { ...setup, options: { ...setup.options, unroll: true } }, 'float32');
      fused.forEach((v, i) => assertClose(v, stepped[i], 1e-4, 1e-5, `result ${i}`));
    });
  }

  it('inference (no gradient) gives the training values and keeps no workspace', () =>
    withBackend('native', () => {
      const layer = st.layers.lstm({ units: 8, returnSequences: true });
      const x = st.tensor(randomValues(4 * 6 * 3, 9), [4, 6, 3]);
      layer.ensureBuilt(x.shape);
      const trained = (layer.apply(st.variable(x)) as st.Tensor).dataSync();
      const before = st.memory().native.bytes;
      const inferred = st.noGrad(() => layer.apply(x) as st.Tensor);
      // Output [4, 6, 8] plus its flat [y | cT] source, nothing the size of a workspace.
      assert.ok(st.memory().native.bytes - before <= 4 * (2 * 4 * 6 * 8 + 4 * 8) + 1024, `kept ${st.memory().native.bytes - before} bytes`);
      assertClose(inferred, Array.from(trained), 1e-6, 1e-6);
    }));

  it('a stateful layer carries its states from one call to the next', () => {
    const twoCalls = (backend: string, dtype: st.DType) =>
      withBackend(backend, () => {
        const layer = st.layers.lstm({ units: 3, stateful: true, batchInputShape: [2, 4, 2], dtype });
        layer.ensureBuilt([2, 4, 2]);
        layer.setWeights(layer.getWeights().map((w, i) => st.tensor(randomValues(w.size, 40 + i), w.shape, dtype)));
        const x = st.tensor(randomValues(2 * 4 * 2, 50), [2, 4, 2], dtype);
        layer.apply(x);
        return Array.from((layer.apply(x) as st.Tensor).dataSync());
      });
    assertClose(twoCalls('native', 'float32'), twoCalls('reference', 'float64'), 1e-4, 1e-5);
  });

  it('second derivatives say how to get them', () =>
    withBackend('native', () => {
      const layer = st.layers.lstm({ units: 3 });
      const x = st.variable(st.tensor(randomValues(2 * 3 * 2, 60), [2, 3, 2]));
      st.sum(st.square(layer.apply(x) as st.Tensor)).backward(undefined, { createGraph: true });
      assert.throws(() => st.sum(x.grad!).backward(), /unroll: true/);
    }));

  it('keeps the workspace with the output in training and frees it with the output', () =>
    withBackend('native', () => {
      const [b, t, f, u] = [8, 20, 4, 32];
      const operand = (shape: number[], seed: number) =>
        st.variable(
          st.tensor(
            randomValues(
              shape.reduce((p, q) => p * q, 1),
              seed,
            ),
            shape,
          ),
        );
      const inputs = [
        operand([b, t, f], 1),
        operand([b, u], 2),
        operand([b, u], 3),
        operand([f, 4 * u], 4),
        operand([u, 4 * u], 5),
        operand([4 * u], 6),
      ];
      const outBytes = 4 * (b * t * u + b * u);
      for (const training of [false, true]) {
        // Dead tensors of earlier tests are freed when V8 collects their handles, which a
        // collection during the op would do: collect them all first, or the count drops under us.
        collectGarbage();
        const before = st.memory().native.bytes;
        const out = runPrimitive('rnnSequence', inputs, { cell: 'lstm', training }, [b * t * u + b * u], 'float32');
        const held = st.memory().native.bytes - before;
        if (training) assert.ok(held > 2 * outBytes, `training keeps the gates of every step: ${held} bytes`);
        else assert.equal(held, outBytes);
        out.dispose();
        assert.equal(st.memory().native.bytes, before, 'all of it goes with the output');
      }
    }));
});
