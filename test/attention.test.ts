// Embedding, multi-head attention, positional embedding and the transformer encoder: outputs and
// gradients against PyTorch fixtures (scripts/make_attention_fixtures.py, Keras semantics in
// float64) on every backend, the layer contract (shapes, Keras parameter counts, config round
// trip, training lowers a loss, save/load), and the mask rules of Note [Masks].
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { type MultiHeadAttention, PositionalEmbedding, type TransformerEncoder } from '../src/nn/layers/attention-family.js';
import { getMask, setMask } from '../src/nn/masking.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { assertClose, assertCloseAsync, randomTensor, randomValues, withBackendAsync } from './helpers.js';
import { blob, fixtureRuns, loadFixture, makeLayer, type Blob } from './fixture-harness.js';

interface Case {
  name: string;
  layer: 'embedding' | 'multiHeadAttention' | 'positionalEmbedding' | 'transformerEncoder';
  config: Record<string, unknown>;
  training: boolean;
  input: Blob;
  inputInt?: boolean;
  inputMask?: Blob;
  value?: Blob;
  key?: Blob;
  valueMask?: Blob;
  attentionMask?: Blob;
  useCausalMask?: boolean;
  returnAttentionScores?: boolean;
  rowMask?: Blob;
  weights: Blob[];
  outputs: Blob[];
  upstreams: Blob[];
  grads: { input: Blob | null; value?: Blob; key?: Blob };
  gradWeights: Blob[];
}

const fixtures = loadFixture<Case>('attention.json');
const runs = await fixtureRuns({ rtol: 3e-4, atol: 3e-5 });

const flat = (t: st.Tensor) => Array.from(t.dataSync());

/** The tensors and call options of a fixture case; the input and value get their masks attached. */
function prepare(c: Case, dtype: st.DType) {
  const x = c.inputInt ? blob(c.input, 'int32') : st.variable(blob(c.input, dtype));
  if (c.inputMask) setMask(x, blob(c.inputMask, 'bool'));
  const value = c.value ? st.variable(blob(c.value, dtype)) : undefined;
  if (value && c.valueMask) setMask(value, blob(c.valueMask, 'bool'));
  const key = c.key ? st.variable(blob(c.key, dtype)) : undefined;
  const options: Record<string, unknown> = {};
  if (value) options.value = value;
  if (key) options.key = key;
  if (c.attentionMask) options.attentionMask = blob(c.attentionMask, 'bool');
  if (c.useCausalMask) options.useCausalMask = true;
  if (c.returnAttentionScores) options.returnAttentionScores = true;
  return { x, value, key, options };
}

const asList = (y: st.Tensor | st.Tensor[]) => (Array.isArray(y) ? y : [y]);

describe('embedding and attention layers match PyTorch (Keras semantics)', () => {
  for (const run of runs) {
    describe(`${run.backend} ${run.dtype}`, () => {
      for (const c of fixtures.cases) {
        it(c.name, () =>
          withBackendAsync(run.backend, async () => {
            const layer = makeLayer(c.layer, { ...c.config, dtype: run.dtype });
            const { x, value, key, options } = prepare(c, run.dtype);
            st.noGrad(() => layer.apply(x, options)); // builds the weights
            layer.setWeights(c.weights.map((w) => blob(w, run.dtype)));
            const ys = asList(layer.apply(x, options) as st.Tensor | st.Tensor[]);
            assert.equal(ys.length, c.outputs.length, 'number of outputs');
            const rows = c.rowMask ? st.reshape(blob(c.rowMask, run.dtype), [...c.rowMask.shape, 1]) : null;
            for (const [i, y] of ys.entries()) {
              const expected = blob(c.outputs[i], run.dtype);
              if (i === 0 && rows) await assertCloseAsync(y.mul(rows), expected.mul(rows), run.rtol, run.atol, `${c.name} output (unpadded rows)`);
              else await assertCloseAsync(y, expected, run.rtol, run.atol, `${c.name} output ${i}`);
            }
            ys.map((y, i) => y.mul(blob(c.upstreams[i], run.dtype)).sum())
              .reduce((a, b) => a.add(b))
              .backward();
            if (c.grads.input) await assertCloseAsync(x.grad!, blob(c.grads.input, run.dtype), run.rtol, run.atol, `${c.name} input gradient`);
            if (c.grads.value) await assertCloseAsync(value!.grad!, blob(c.grads.value, run.dtype), run.rtol, run.atol, `${c.name} value gradient`);
            if (c.grads.key) await assertCloseAsync(key!.grad!, blob(c.grads.key, run.dtype), run.rtol, run.atol, `${c.name} key gradient`);
            for (const [i, w] of layer.weights.entries()) {
              await assertCloseAsync(w.value.grad!, blob(c.gradWeights[i], run.dtype), run.rtol, run.atol, `${c.name} gradient of ${w.path}`);
            }
          }),
        );
      }
    });
  }
});

// Keras's parameter counts for the same configurations (computed by hand from Keras's formulas):
//   Embedding: inputDim·outputDim.
//   MultiHeadAttention: dq·h·k + dk·h·k + dv·h·v + h·v·out (kernels) + 2·h·k + h·v + out (biases).
//   PositionalEmbedding: (inputDim + sequenceLength)·outputDim.
//   TransformerEncoder: its MHA (keyDim = valueDim = embedDim) + E·D + D + D·E + E + 4·E.
function kerasParamCount(c: Case): number {
  const cfg = c.config as Record<string, number & boolean>;
  if (c.layer === 'embedding') return cfg.inputDim * cfg.outputDim;
  if (c.layer === 'positionalEmbedding') return (cfg.inputDim + cfg.sequenceLength) * cfg.outputDim;
  const mha = (dq: number, dv: number, dk: number, h: number, k: number, v: number, out: number, bias: boolean) =>
    dq * h * k + dk * h * k + dv * h * v + h * v * out + (bias ? 2 * h * k + h * v + out : 0);
  if (c.layer === 'transformerEncoder') {
    const E = cfg.embedDim,
      D = cfg.denseDim;
    return mha(E, E, E, cfg.numHeads, E, E, E, true) + E * D + D + D * E + E + 4 * E;
  }
  const dq = c.input.shape[2],
    dv = c.value?.shape[2] ?? dq,
    dk = c.key?.shape[2] ?? dv;
  return mha(dq, dv, dk, cfg.numHeads, cfg.keyDim, cfg.valueDim ?? cfg.keyDim, cfg.outputShape ?? dq, cfg.useBias !== false);
}

/** The call on symbolic inputs: value and key become inputs of their own. */
function symbolicCall(c: Case, layer: st.Layer) {
  const sym = (b: Blob, dtype?: st.DType) => st.layers.input({ shape: b.shape.slice(1), dtype });
  const x = sym(c.input, c.inputInt ? 'int32' : undefined);
  const inputs = [x];
  const options: Record<string, unknown> = {};
  if (c.value) inputs.push((options.value = sym(c.value)) as st.SymbolicTensor);
  if (c.key) inputs.push((options.key = sym(c.key)) as st.SymbolicTensor);
  if (c.useCausalMask) options.useCausalMask = true;
  if (c.returnAttentionScores) options.returnAttentionScores = true;
  const out = layer.apply(x, options) as st.SymbolicTensor | st.SymbolicTensor[];
  return { inputs, out: Array.isArray(out) ? out : [out] };
}

let root = '';
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'strata-attention-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('layer contract (every fixture layer)', () => {
  for (const c of fixtures.cases) {
    it(`${c.name}: symbolic shapes, Keras parameter count, config round trip`, () => {
      const layer = makeLayer(c.layer, c.config);
      const { out } = symbolicCall(c, layer);
      assert.deepEqual(
        out.map((o) => [...o.shape]),
        c.outputs.map((o) => [null, ...o.shape.slice(1)]),
        'symbolic output shapes',
      );
      assert.equal(out[0].dtype, 'float32', 'float outputs even for int ids');
      assert.equal(layer.countParams(), kerasParamCount(c));
      assert.deepEqual(
        layer.getWeights().map((w) => [...w.shape]),
        c.weights.map((w) => w.shape),
        'weight shapes in Keras layout and order',
      );
      const copy = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(layer))));
      assert.equal(copy.className, layer.className);
      assert.deepEqual(copy.getConfig(), layer.getConfig());
    });

    it(`${c.name}: a few SGD steps lower the loss`, () => {
      st.setSeed(3);
      const layer = makeLayer(c.layer, c.config);
      const { x, options } = prepare(c, 'float32');
      const target = st.randomNormal(c.outputs[0].shape, { seed: 5 });
      const loss = () => st.losses.meanSquaredError(target, asList(layer.apply(x, options) as st.Tensor | st.Tensor[])[0]);
      const before = st.noGrad(() => loss()).item();
      const opt = st.optimizers.sgd({ learningRate: 0.05 });
      for (let i = 0; i < 3; i++)
        opt.minimize(
          loss,
          layer.trainableWeights.map((w) => w.value),
        );
      assert.ok(st.noGrad(() => loss()).item() < before, `${c.name}: loss did not fall`);
    });

    it(`${c.name}: save/load of a functional model predicts identically`, async () => {
      const layer = makeLayer(c.layer, c.config);
      const { inputs, out } = symbolicCall(c, layer);
      const model = st.model({ inputs: inputs.length > 1 ? inputs : inputs[0], outputs: out.length > 1 ? out : out[0] });
      const xs = [
        c.inputInt ? blob(c.input, 'int32') : blob(c.input, 'float32'),
        ...[c.value, c.key].filter((b) => b).map((b) => blob(b!, 'float32')),
      ];
      const feed = xs.length > 1 ? xs : xs[0];
      const dir = join(root, c.name);
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      const a = asList(model.predict(feed)),
        b = asList(loaded.predict(feed));
      assert.deepEqual(b.map(flat), a.map(flat));
      assert.equal(loaded.countParams(), model.countParams());
    });
  }
});

describe('embedding', () => {
  it('rejects out-of-range and negative ids with a clear error', () => {
    const e = st.layers.embedding({ inputDim: 5, outputDim: 2 });
    assert.throws(() => e.apply(st.tensor([[1, 5]], [1, 2], 'int32')), /indices must lie in \[0, inputDim = 5\); received 5 at flat position 1/);
    assert.throws(() => e.apply(st.tensor([[-1]], [1, 1], 'int32')), /received -1/);
  });

  it('maskZero attaches input != 0; float ids are truncated; any length after building', () => {
    const e = st.layers.embedding({ inputDim: 6, outputDim: 3, maskZero: true });
    const ids = st.tensor(
      [
        [3, 0, 5],
        [0, 1, 2],
      ],
      [2, 3],
      'int32',
    );
    const y = e.apply(ids);
    assert.equal(y.dtype, 'float32');
    assert.deepEqual(Array.from(getMask(y)!.dataSync()), [1, 0, 1, 0, 1, 1].map(Boolean).map(Number));
    assertClose(
      e.apply(
        st.tensor([
          [3.7, 0.2, 5.5],
          [0, 1.9, 2],
        ]),
      ),
      y,
      0,
      0,
    );
    assert.deepEqual([...e.apply(st.tensor([[1, 2, 3, 4, 5]], [1, 5], 'int32')).shape], [1, 5, 3]);
    assert.equal(getMask(st.layers.embedding({ inputDim: 6, outputDim: 3 }).apply(ids)), null);
  });

  it("defaults to Keras's uniform(-0.05, 0.05) initializer", () => {
    const e = st.layers.embedding({ inputDim: 50, outputDim: 20 });
    e.ensureBuilt([null, 3]);
    const v = flat(e.getWeights()[0]);
    assert.ok(v.every((a) => a >= -0.05 && a < 0.05) && Math.max(...v) > 0.04 && Math.min(...v) < -0.04);
    assert.equal((e.getConfig().embeddingsInitializer as { className: string }).className, 'RandomUniform');
  });
});

describe('multi-head attention', () => {
  const q = randomTensor([2, 4, 6], 1, 'float32'),
    v = randomTensor([2, 5, 7], 2, 'float32');

  it('query and value masks combine like the equivalent explicit attention mask', () => {
    const mha = st.layers.multiHeadAttention({ numHeads: 2, keyDim: 3 });
    const qm = st.tensor(
        [
          [1, 1, 1, 1],
          [1, 1, 0, 0],
        ],
        [2, 4],
        'bool',
      ),
      vm = st.tensor(
        [
          [1, 0, 1, 1, 1],
          [1, 1, 1, 0, 0],
        ],
        [2, 5],
        'bool',
      );
    const qMasked = q.mul(1),
      vMasked = v.mul(1);
    setMask(qMasked, qm);
    setMask(vMasked, vm);
    const [y1, s1] = mha.apply(qMasked, { value: vMasked, returnAttentionScores: true });
    const explicit = st.logicalAnd(st.reshape(qm, [2, 4, 1]), st.reshape(vm, [2, 1, 5]));
    const [y2, s2] = mha.apply(q, { value: v, attentionMask: explicit, returnAttentionScores: true });
    assertClose(y1, y2, 0, 0);
    assertClose(s1, s2, 0, 0);
    assert.deepEqual(flat(getMask(y1)!), flat(qm), 'the output keeps the query mask');
    assert.equal(getMask(s1), null, 'the scores carry no mask');
    // Masked keys get zero probability.
    const probs = flat(st.slice(s1, [1, 0, 0, 0], [1, 2, 2, 5]));
    probs.forEach((p, i) => (i % 5 >= 3 ? assert.equal(p, 0) : assert.ok(p > 0)));
  });

  it('the causal mask makes each output independent of later positions', () => {
    const mha = st.layers.multiHeadAttention({ numHeads: 2, keyDim: 4, valueDim: 3 });
    const x = randomTensor([1, 5, 6], 3, 'float32');
    const changed = st.concat([st.slice(x, [0, 0, 0], [1, 3, 6]), randomTensor([1, 2, 6], 4, 'float32')], 1);
    const a = mha.apply(x, { useCausalMask: true }),
      b = mha.apply(changed, { useCausalMask: true });
    assertClose(st.slice(a, [0, 0, 0], [1, 3, 6]), st.slice(b, [0, 0, 0], [1, 3, 6]), 0, 0);
    assert.ok(Math.abs(flat(a)[29] - flat(b)[29]) > 1e-6, 'the last position sees the change');
  });

  it('dropout acts only in training, after the returned scores', () => {
    st.setSeed(7);
    const mha = st.layers.multiHeadAttention({ numHeads: 2, keyDim: 3, dropout: 0.5 });
    const [y0, s0] = mha.apply(q, { returnAttentionScores: true });
    const [y1, s1] = mha.apply(q, { returnAttentionScores: true, training: true });
    assertClose(s1, s0, 0, 0);
    assert.ok(flat(y1).some((a, i) => Math.abs(a - flat(y0)[i]) > 1e-4));
    assertClose(mha.apply(q), y0, 0, 0);
  });

  it('cross-attention in a functional model replays, saves and loads (value and key as inputs)', async () => {
    const mha = st.layers.multiHeadAttention({ numHeads: 2, keyDim: 3, valueDim: 4 });
    const qi = st.layers.input({ shape: [4, 6] }),
      vi = st.layers.input({ shape: [null, 7] }),
      ki = st.layers.input({ shape: [null, 8] });
    const model = st.model({ inputs: [qi, vi, ki], outputs: mha.apply(qi, { value: vi, key: ki, useCausalMask: true }) });
    const k = randomTensor([2, 5, 8], 5, 'float32');
    const expected = mha.apply(q, { value: v, key: k, useCausalMask: true });
    assertClose(model.predict([q, v, k]) as st.Tensor, expected, 1e-6, 1e-6);
    const dir = join(root, 'cross');
    await model.save(dir);
    assertClose((await st.loadModel(dir)).predict([q, v, k]) as st.Tensor, expected, 0, 0);
  });

  it('a padding mask from an embedding reaches the attention in a Sequential model', () => {
    const model = st.sequential({
      layers: [
        st.layers.embedding({ inputDim: 10, outputDim: 6, maskZero: true, inputShape: [5] }),
        st.layers.multiHeadAttention({ numHeads: 2, keyDim: 3 }),
      ],
    });
    const ids = st.tensor(
      [
        [4, 2, 7, 0, 0],
        [1, 9, 3, 8, 6],
      ],
      [2, 5],
      'int32',
    );
    const [emb, mha] = model.layers.filter((l) => l.className !== 'InputLayer') as [st.Layer, MultiHeadAttention];
    const e = emb.apply(ids);
    const explicit = st.reshape(st.notEqual(ids, 0), [2, 1, 5]);
    const expected = mha.apply(e, { attentionMask: st.logicalAnd(explicit, st.reshape(st.notEqual(ids, 0), [2, 5, 1])) });
    const y = model.predict(ids) as st.Tensor;
    assertClose(y, expected, 1e-6, 1e-6);
  });

  it('rejects unsupported options and bad inputs clearly', () => {
    assert.throws(() => st.layers.multiHeadAttention({ numHeads: 2, keyDim: 3, attentionAxes: [1, 2] }), /only the default attentionAxes/);
    assert.throws(() => st.layers.multiHeadAttention({ numHeads: 2, keyDim: 3, keyDims: 3 } as never), /unknown option 'keyDims'/);
    assert.throws(() => st.layers.multiHeadAttention({ numHeads: 0, keyDim: 3 }), /numHeads must be a positive integer/);
    const mha = st.layers.multiHeadAttention({ numHeads: 2, keyDim: 3 });
    assert.throws(() => mha.apply(st.zeros([2, 6])), /rank 3/);
    mha.apply(q);
    assert.throws(() => mha.apply(randomTensor([2, 4, 5], 1, 'float32')), /built for query features of size 6/);
    assert.throws(
      () => mha.apply(q, { attentionMask: st.ones([2, 3, 4], 'bool') }),
      /attentionMask must broadcast to \[batch, Tq, Tv\] = \[2, 4, 4\]/,
    );
    assert.throws(() => mha.apply(st.layers.input({ shape: [4, 6] }), { attentionMask: st.ones([2, 4, 4], 'bool') }), /must be a symbolic tensor/);
  });
});

describe('positional embedding and transformer encoder', () => {
  it('positionalEmbedding rejects sequences longer than sequenceLength and masks padding', () => {
    const pe = st.layers.positionalEmbedding({ sequenceLength: 4, inputDim: 10, outputDim: 3 });
    assert.throws(() => pe.apply(st.zeros([1, 5], 'int32')), /T <= sequenceLength = 4/);
    const y = pe.apply(st.tensor([[3, 0, 0]], [1, 3], 'int32'));
    assert.deepEqual(flat(getMask(y)!), [1, 0, 0]);
    assert.ok(pe instanceof PositionalEmbedding);
    assert.deepEqual(
      pe.weights.map((w) => w.path),
      [`${pe.name}_token_embedding/embeddings`, `${pe.name}_position_embedding/embeddings`],
    );
  });

  it("the encoder's weights are its sublayers' (trainable = false freezes them all)", () => {
    const enc = st.layers.transformerEncoder({ embedDim: 4, denseDim: 8, numHeads: 2 }) as TransformerEncoder;
    enc.apply(randomTensor([2, 3, 4], 1, 'float32'));
    assert.equal(enc.weights.length, 16);
    assert.equal(enc.trainableWeights.length, 16);
    enc.trainable = false;
    assert.equal(enc.trainableWeights.length, 0);
    assert.ok(enc.attention.weights.every((w) => !w.value.requiresGrad));
    assert.throws(() => enc.apply(randomTensor([2, 3, 5], 1, 'float32')), /embedDim = 4/);
  });

  it('a tiny transformer classifier (positional embedding, encoder with dropout) learns with fit', async () => {
    st.setSeed(11);
    const ids = st.layers.input({ shape: [6], dtype: 'int32' });
    const h = st.layers.positionalEmbedding({ sequenceLength: 6, inputDim: 8, outputDim: 8 }).apply(ids);
    const enc = st.layers.transformerEncoder({ embedDim: 8, denseDim: 16, numHeads: 2, dropout: 0.1 }).apply(h);
    const out = st.layers.dense({ units: 2 }).apply(st.layers.flatten().apply(enc));
    const model = st.model({ inputs: ids, outputs: out });
    // Label: whether token 1 comes before token 2 (needs positions and attention).
    const n = 64,
      data: number[] = [],
      labels: number[] = [];
    const r = randomValues(n * 6, 13, 0, 1);
    for (let i = 0; i < n; i++) {
      const row = r.slice(i * 6, i * 6 + 6).map((u) => 3 + Math.floor(u * 5));
      const a = i % 6,
        b = (a + 1 + (i % 5)) % 6;
      row[a] = 1;
      row[b] = 2;
      data.push(...row);
      labels.push(a < b ? 1 : 0);
    }
    const x = st.tensor(data, [n, 6], 'int32'),
      y = st.tensor(labels, [n], 'int32');
    model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
    const history = await model.fit(x, y, { epochs: 8, batchSize: 16, verbose: 0 });
    const losses = history.history.loss as number[];
    assert.ok(losses[losses.length - 1] < losses[0] * 0.8, `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
  });
});
