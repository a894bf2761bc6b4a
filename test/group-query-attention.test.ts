// st.layers.groupQueryAttention (Keras 3's GroupQueryAttention): outputs and gradients against
// PyTorch fixtures (scripts/make_gqa_fixtures.py, Keras 3.15's equations in float64) on every
// backend, float64 finite differences on the reference backend, the layer contract (symbolic
// shapes, Keras's parameter count and weight layout, config round trip, save/load) and errors.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { setMask } from '../src/nn/masking.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { blob, fixtureRuns, loadFixture, makeLayer, type Blob } from './fixture-harness.js';
import { assertClose, assertCloseAsync, checkGradient, randomTensor, throwsWith, withBackend, withBackendAsync } from './helpers.js';

interface Case {
  name: string;
  layer: 'groupQueryAttention';
  config: { headDim: number; numQueryHeads: number; numKeyValueHeads: number; useBias?: boolean };
  input: Blob;
  value?: Blob;
  key?: Blob;
  valueMask?: Blob;
  attentionMask?: Blob;
  useCausalMask?: boolean;
  returnAttentionScores?: boolean;
  weights: Blob[];
  outputs: Blob[];
  upstreams: Blob[];
  grads: { input: Blob; value?: Blob; key?: Blob };
  gradWeights: Blob[];
}

const fixtures = loadFixture<Case>('group-query-attention.json');
const runs = await fixtureRuns({ rtol: 3e-4, atol: 3e-5 });
const asList = (y: st.Tensor | st.Tensor[]) => (Array.isArray(y) ? y : [y]);

function prepare(c: Case, dtype: st.DType) {
  const x = st.variable(blob(c.input, dtype));
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

describe('groupQueryAttention matches PyTorch (Keras 3.15 equations)', () => {
  for (const run of runs) {
    describe(`${run.backend} ${run.dtype}`, () => {
      for (const c of fixtures.cases) {
        it(c.name, () =>
          withBackendAsync(run.backend, async () => {
            const layer = makeLayer(c.layer, { ...c.config, dtype: run.dtype });
            const { x, value, key, options } = prepare(c, run.dtype);
            st.noGrad(() => layer.apply(x, options));
            layer.setWeights(c.weights.map((w) => blob(w, run.dtype)));
            const ys = asList(layer.apply(x, options) as st.Tensor | st.Tensor[]);
            assert.equal(ys.length, c.outputs.length, 'number of outputs');
            for (const [i, y] of ys.entries()) await assertCloseAsync(y, blob(c.outputs[i], run.dtype), run.rtol, run.atol, `${c.name} output ${i}`);
            ys.map((y, i) => y.mul(blob(c.upstreams[i], run.dtype)).sum())
              .reduce((a, b) => a.add(b))
              .backward();
            await assertCloseAsync(x.grad!, blob(c.grads.input, run.dtype), run.rtol, run.atol, `${c.name} input gradient`);
            if (c.grads.value) await assertCloseAsync(value!.grad!, blob(c.grads.value, run.dtype), run.rtol, run.atol, `${c.name} value gradient`);
            if (c.grads.key) await assertCloseAsync(key!.grad!, blob(c.grads.key, run.dtype), run.rtol, run.atol, `${c.name} key gradient`);
            for (const [i, w] of layer.weights.entries())
              await assertCloseAsync(w.value.grad!, blob(c.gradWeights[i], run.dtype), run.rtol, run.atol, `${c.name} gradient of ${w.path}`);
          }),
        );
      }
    });
  }
});

// Keras's parameter count: dq·u·h + dk·g·h + dv·g·h + u·h·dq (kernels) + u·h + 2·g·h + dq (biases).
function kerasParamCount(c: Case): number {
  const { headDim: h, numQueryHeads: u, numKeyValueHeads: g } = c.config;
  const dq = c.input.shape[2],
    dv = c.value?.shape[2] ?? dq,
    dk = c.key?.shape[2] ?? dv;
  return dq * u * h + dk * g * h + dv * g * h + u * h * dq + (c.config.useBias === false ? 0 : u * h + 2 * g * h + dq);
}

function symbolicCall(c: Case, layer: st.Layer) {
  const sym = (b: Blob) => st.layers.input({ shape: b.shape.slice(1) });
  const x = sym(c.input);
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
  root = await mkdtemp(join(tmpdir(), 'strata-gqa-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('groupQueryAttention layer contract', () => {
  for (const c of fixtures.cases) {
    it(`${c.name}: symbolic shapes, Keras parameter count and weights, config round trip`, () => {
      const layer = makeLayer(c.layer, c.config);
      const { out } = symbolicCall(c, layer);
      assert.deepEqual(
        out.map((o) => [...o.shape]),
        c.outputs.map((o) => [null, ...o.shape.slice(1)]),
      );
      assert.equal(layer.countParams(), kerasParamCount(c));
      assert.deepEqual(
        layer.getWeights().map((w) => [...w.shape]),
        c.weights.map((w) => w.shape),
      );
      const names = layer.weights.map((w) => w.path.split('/').slice(-2).join('/'));
      const expected = ['query', 'key', 'value', 'attention_output'].flatMap((r) =>
        c.config.useBias === false ? [`${r}/kernel`] : [`${r}/kernel`, `${r}/bias`],
      );
      assert.deepEqual(names, expected, "Keras's weight names and order");
      const config = layer.getConfig();
      assert.equal(config.numQueryHeads, c.config.numQueryHeads);
      assert.equal(config.numKeyValueHeads, c.config.numKeyValueHeads);
      assert.equal(config.headDim, c.config.headDim);
      assert.equal(config.numHeads, undefined);
      const copy = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(layer))));
      assert.equal(copy.className, 'GroupQueryAttention');
      assert.deepEqual(copy.getConfig(), config);
    });

    it(`${c.name}: save/load of a functional model predicts identically`, async () => {
      const layer = makeLayer(c.layer, c.config);
      const { inputs, out } = symbolicCall(c, layer);
      const model = st.model({ inputs: inputs.length > 1 ? inputs : inputs[0], outputs: out.length > 1 ? out : out[0] });
      const xs = [c.input, ...[c.value, c.key].filter((b) => b)].map((b) => blob(b!, 'float32'));
      const feed = xs.length > 1 ? xs : xs[0];
      const dir = join(root, c.name);
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      const a = asList(model.predict(feed)),
        b = asList(loaded.predict(feed));
      assert.deepEqual(
        b.map((t) => Array.from(t.dataSync())),
        a.map((t) => Array.from(t.dataSync())),
      );
      assert.equal(loaded.countParams(), model.countParams());
    });
  }
});

describe('groupQueryAttention gradients by float64 finite differences (reference backend)', () => {
  const setup = () => {
    const layer = st.layers.groupQueryAttention({ headDim: 2, numQueryHeads: 4, numKeyValueHeads: 2, dtype: 'float64' });
    const q = randomTensor([2, 3, 4], 1),
      v = randomTensor([2, 3, 5], 2),
      k = randomTensor([2, 3, 3], 3);
    st.noGrad(() => layer.apply(q, { value: v, key: k }));
    return { layer, q, v, k };
  };
  it('query, value and key, with a causal mask and two groups', () =>
    withBackend('reference', () => {
      const { layer, q, v, k } = setup();
      checkGradient((qq, vv, kk) => layer.apply(qq, { value: vv, key: kk, useCausalMask: true }) as st.Tensor, [q, v, k], { rtol: 1e-6, atol: 1e-8 });
    }));
  it('every weight (central differences through setWeights)', () =>
    withBackend('reference', () => {
      const { layer, q, v, k } = setup();
      const probe = layer.apply(q, { value: v, key: k, useCausalMask: true }) as st.Tensor;
      const upstream = randomTensor([...probe.shape], 7);
      const loss = () => (layer.apply(q, { value: v, key: k, useCausalMask: true }) as st.Tensor).mul(upstream).sum();
      loss().backward();
      const base = layer.getWeights().map((w) => Array.from(w.dataSync()));
      const eps = 1e-6;
      for (const [i, w] of layer.weights.entries()) {
        const analytic = Array.from(w.value.grad!.dataSync());
        const numeric = base[i].map((_, j) => {
          const at = (delta: number) => {
            const vals = base.map((b) => b.slice());
            vals[i][j] += delta;
            layer.setWeights(vals.map((b, n) => st.tensor(b, layer.weights[n].value.shape, 'float64')));
            return st.noGrad(() => loss().item());
          };
          return (at(eps) - at(-eps)) / (2 * eps);
        });
        assertClose(analytic, numeric, 1e-6, 1e-8, `gradient of ${w.path}`);
      }
    }));
});

describe('groupQueryAttention options', () => {
  it('accepts the groupedQueryAttention spelling', () => {
    const a = st.layers.groupedQueryAttention({ headDim: 2, numQueryHeads: 2, numKeyValueHeads: 1 });
    assert.equal(a.className, 'GroupQueryAttention');
  });
  it('rejects numQueryHeads not divisible by numKeyValueHeads, unknown options and unsupported Keras options', () => {
    throwsWith(
      () => st.layers.groupQueryAttention({ headDim: 2, numQueryHeads: 3, numKeyValueHeads: 2 }),
      st.ValueError,
      /divisible/,
      /numQueryHeads=3/,
    );
    throwsWith(
      () => st.layers.groupQueryAttention({ headDim: 2, numQueryHeads: 2, numKeyValueHeads: 1, numHeads: 2 } as never),
      st.ValueError,
      /unknown option 'numHeads'/,
    );
    throwsWith(
      () => st.layers.groupQueryAttention({ headDim: 2, numQueryHeads: 2, numKeyValueHeads: 1, slidingWindow: 3 }),
      st.ValueError,
      /slidingWindow/,
    );
    throwsWith(() => st.layers.groupQueryAttention({ headDim: 0, numQueryHeads: 2, numKeyValueHeads: 1 }), st.ValueError, /headDim/);
  });
});
