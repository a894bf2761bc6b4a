// st.layers.attention and st.layers.additiveAttention against the committed reference of Keras
// 3.15's definitions (scripts/make_score_attention_fixtures.py; PyTorch has no such layers):
// values and gradients on every backend with value, query and causal masks, and the layer
// contract (symbolic shapes with and without the scores, masks passed on, config, save/load, errors).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { getMask } from '../src/nn/masking.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { blob, fixtureRuns, loadFixture, makeLayer, type Blob } from './fixture-harness.js';
import { assertCloseAsync, randomTensor, throwsWith, withBackendAsync } from './helpers.js';

interface Case {
  name: string;
  layer: string;
  config: Record<string, unknown>;
  callOptions: Record<string, unknown>;
  inputs: Blob[];
  masks?: Blob[];
  weights: Blob[];
  outputs: Blob[];
  upstreams: Blob[];
  gradInputs: Blob[];
  gradWeights: Blob[];
}

const fixtures = loadFixture<Case>('score-attention.json');
const runs = await fixtureRuns();

describe("attention layers match Keras's definitions", () => {
  for (const run of runs) {
    describe(`${run.backend} ${run.dtype}`, () => {
      for (const c of fixtures.cases) {
        it(c.name, () =>
          withBackendAsync(run.backend, async () => {
            const layer = makeLayer(c.layer, { ...c.config, dtype: run.dtype });
            const xs = c.inputs.map((b) => st.variable(blob(b, run.dtype)));
            layer.ensureBuilt(xs.map((x) => x.shape));
            layer.setWeights(c.weights.map((w) => blob(w, run.dtype)));
            const mask = c.masks?.map((m) => blob(m, 'float32').cast('bool'));
            const out = layer.apply(xs, { ...c.callOptions, ...(mask ? { mask } : {}) }) as st.Tensor | st.Tensor[];
            const ys = Array.isArray(out) ? out : [out];
            assert.equal(ys.length, c.outputs.length);
            for (const [i, y] of ys.entries()) await assertCloseAsync(y, blob(c.outputs[i], run.dtype), run.rtol, run.atol, `${c.name} output ${i}`);
            ys.map((y, i) => y.mul(blob(c.upstreams[i], run.dtype)).sum())
              .reduce((a, b) => a.add(b))
              .backward();
            for (const [i, x] of xs.entries())
              await assertCloseAsync(x.grad!, blob(c.gradInputs[i], run.dtype), run.rtol, run.atol, `${c.name} gradient of input ${i}`);
            for (const [i, w] of layer.weights.entries())
              await assertCloseAsync(w.value.grad!, blob(c.gradWeights[i], run.dtype), run.rtol, run.atol, `${c.name} gradient of ${w.name}`);
          }),
        );
      }
    });
  }
});

describe('attention layers: contract', () => {
  it('symbolic shapes (with the scores), Keras weights and config round trips', () => {
    const q = st.input({ shape: [3, 4] }),
      v = st.input({ shape: [5, 6] }),
      k = st.input({ shape: [5, 4] });
    const dot = st.layers.attention({ useScale: true, scoreMode: 'concat' });
    assert.deepEqual([...dot.apply([q, v, k]).shape], [null, 3, 6]);
    assert.deepEqual(
      dot.weights.map((w) => [w.name, [...w.value.shape]]),
      [
        ['scale', []],
        ['concat_score_weight', []],
      ],
    );
    const additive = st.layers.additiveAttention();
    const [out, scores] = additive.apply([q, k], { returnAttentionScores: true }) as unknown as st.SymbolicTensor[];
    assert.deepEqual(
      [[...out.shape], [...scores.shape]],
      [
        [null, 3, 4],
        [null, 3, 5],
      ],
    );
    assert.deepEqual(
      additive.weights.map((w) => [w.name, [...w.value.shape]]),
      [['scale', [4]]],
    );
    for (const l of [dot, additive, st.layers.attention({ dropout: 0.2, seed: 1 })]) {
      const copy = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(l))));
      assert.equal(copy.className, l.className);
      assert.deepEqual(copy.getConfig(), l.getConfig());
    }
  });

  it("the query's mask (from an embedding) reaches the output", () => {
    const emb = st.layers.embedding({ inputDim: 5, outputDim: 3, maskZero: true });
    const tokens = st.tensor([1, 2, 0, 3, 0, 0], [2, 3], 'int32');
    const x = emb.apply(tokens);
    const y = st.layers.attention().apply([x, x]);
    assert.deepEqual(Array.from(getMask(y)!.dataSync()), [1, 1, 0, 1, 0, 0]);
    // Masked query rows are zeros; masked value steps get no weight.
    const rows = y.arraySync() as number[][][];
    assert.deepEqual(rows[0][2].map(Math.abs), [0, 0, 0]);
  });

  it('a functional model with both layers predicts identically after save and load', async () => {
    st.setSeed(2);
    const q = st.input({ shape: [3, 4] }),
      v = st.input({ shape: [5, 4] });
    const a = st.layers.attention({ useScale: true }).apply([q, v]);
    const b = st.layers.additiveAttention().apply([q, v], { useCausalMask: true });
    const model = st.model({ inputs: [q, v], outputs: st.layers.add().apply([a, b]) });
    const dir = await mkdtemp(join(tmpdir(), 'strata-score-attention-'));
    try {
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      const xs = [randomTensor([2, 3, 4], 1, 'float32'), randomTensor([2, 5, 4], 2, 'float32')];
      const predict = (m: st.Model) => Array.from((m.predict(xs) as st.Tensor).dataSync());
      assert.deepEqual(predict(loaded), predict(model));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('dropout on the weights only while training', () => {
    const layer = st.layers.attention({ dropout: 0.5, seed: 3 });
    const x = randomTensor([2, 4, 3], 4, 'float32');
    const plain = Array.from((layer.apply([x, x]) as st.Tensor).dataSync());
    assert.deepEqual(Array.from((layer.apply([x, x]) as st.Tensor).dataSync()), plain);
    assert.notDeepEqual(Array.from((layer.apply([x, x], { training: true }) as st.Tensor).dataSync()), plain);
  });

  it('bad inputs and options give clear errors', () => {
    throwsWith(() => st.layers.attention({ scoreMode: 'general' as never }), st.ValueError, /scoreMode/);
    throwsWith(() => st.layers.additiveAttention({ dropout: 1 }), st.ValueError, /dropout/);
    throwsWith(() => st.layers.attention().apply([st.ones([2, 3, 4])]), st.ValueError, /\[query, value\]/);
    throwsWith(() => st.layers.attention().apply([st.ones([2, 3, 4]), st.ones([2, 5, 3])]), st.ShapeError, /same last dimension/);
    throwsWith(
      () => st.layers.additiveAttention().apply([st.ones([2, 3, 4]), st.ones([2, 5, 4]), st.ones([2, 4, 4])]),
      st.ShapeError,
      /same number of steps/,
    );
  });
});
