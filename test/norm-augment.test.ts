// Normalization variants: groupNormalization and unitNormalization against PyTorch fixtures
// (scripts/make_norm_augment_fixtures.py, Keras 3 semantics in float64), plus layerNormalization
// over several axes; on every backend in float32 and on the reference backend in float64. Then
// the layer contract (shape inference, Keras's parameter counts, config round trip, a training
// step lowers the loss) and behaviour against formulas computed here in float64.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { assertClose, assertCloseAsync, randomTensor, randomValues, withBackend, withBackendAsync } from './helpers.js';
import { blob, fixtureRuns, loadFixture, makeLayer, type Blob } from './fixture-harness.js';

interface Case {
  name: string;
  layer: keyof typeof st.layers;
  config: Record<string, unknown>;
  input: Blob;
  weights: Blob[];
  output: Blob;
  upstream: Blob;
  gradInput: Blob;
  gradWeights: Blob[];
}

const fixtures = loadFixture<Case>('norm-augment.json');
const runs = await fixtureRuns(); // opens webgpu where there is an adapter
/** The backends the synchronous checks below run on: webgpu has no synchronous read. */
const available = st
  .backends()
  .filter((b) => b.available && b.name !== 'webgpu')
  .map((b) => b.name);

const make = (c: Case, dtype: st.DType): st.Layer => makeLayer(c.layer, { ...c.config, dtype });
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Keras's parameter count for the same configuration: GroupNormalization has gamma and beta of
 * [channels] (2·C, or C without scale or center); LayerNormalization 2·∏(sizes of its axes);
 * UnitNormalization none.
 */
function kerasParams(c: Case): number {
  const shape = c.input.shape,
    rank = shape.length;
  if (c.layer === 'unitNormalization') return 0;
  if (c.layer === 'layerNormalization') {
    const axes = (c.config.axis as number[]).map((a) => (a < 0 ? a + rank : a));
    return 2 * prod(axes.map((a) => shape[a]));
  }
  const axis = (c.config.axis as number | undefined) ?? -1;
  const channels = shape[axis < 0 ? axis + rank : axis];
  return channels * ((c.config.scale === false ? 0 : 1) + (c.config.center === false ? 0 : 1));
}

describe('normalization variants match PyTorch (Keras semantics)', () => {
  for (const run of runs) {
    describe(`${run.backend} ${run.dtype}`, () => {
      for (const c of fixtures.cases) {
        it(c.name, () =>
          withBackendAsync(run.backend, async () => {
            const layer = make(c, run.dtype);
            layer.ensureBuilt(c.input.shape);
            layer.setWeights(c.weights.map((w) => blob(w, run.dtype)));
            const x = st.variable(blob(c.input, run.dtype));
            const y = layer.apply(x, { training: true });
            await assertCloseAsync(y, blob(c.output, run.dtype), run.rtol, run.atol, `${c.name} output`);
            y.mul(blob(c.upstream, run.dtype)).sum().backward();
            await assertCloseAsync(x.grad!, blob(c.gradInput, run.dtype), run.rtol, run.atol, `${c.name} input gradient`);
            for (const [i, w] of layer.weights.entries()) {
              await assertCloseAsync(w.value.grad!, blob(c.gradWeights[i], run.dtype), run.rtol, run.atol, `${c.name} gradient of ${w.name}`);
            }
          }),
        );
      }
    });
  }
});

describe('normalization layer contract', () => {
  for (const c of fixtures.cases) {
    it(`${c.name}: shape inference, Keras parameter count, weight layout, config round trip`, () => {
      const layer = make(c, 'float32');
      const out = layer.apply(st.input({ shape: c.input.shape.slice(1) }));
      assert.deepEqual([...out.shape], [null, ...c.output.shape.slice(1)], 'symbolic output shape');
      assert.equal(layer.countParams(), kerasParams(c));
      assert.deepEqual(
        layer.getWeights().map((w) => [...w.shape]),
        c.weights.map((w) => w.shape),
        'weight shapes in Keras layout',
      );
      assert.deepEqual(
        layer.weights.map((w) => w.name),
        c.weights.length === 2 ? ['gamma', 'beta'] : layer.weights.map((w) => w.name),
      );
      const copy = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(layer))));
      assert.equal(copy.className, layer.className);
      assert.deepEqual(copy.getConfig(), layer.getConfig());
    });
  }

  for (const c of fixtures.cases.filter((k) => k.weights.length > 0)) {
    it(`${c.name}: a few SGD steps lower the loss`, () => {
      const layer = make(c, 'float32');
      layer.ensureBuilt(c.input.shape);
      layer.setWeights(c.weights.map((w) => blob(w, 'float32')));
      const x = blob(c.input, 'float32');
      const target = st.randomNormal(c.output.shape, { seed: 5 });
      const loss = () => st.losses.meanSquaredError(target, layer.apply(x, { training: true }));
      const before = st.noGrad(() => loss()).item();
      const sgd = st.optimizers.sgd({ learningRate: 0.05 });
      for (let i = 0; i < 3; i++)
        sgd.minimize(
          loss,
          layer.trainableWeights.map((w) => w.value),
        );
      assert.ok(st.noGrad(() => loss()).item() < before, `${c.name}: loss did not fall`);
    });
  }
});

/** Group normalization in float64 on the host, straight from the definition (channels last). */
function groupNormReference(x: number[], shape: number[], groups: number, eps: number, gamma: number[], beta: number[]): number[] {
  const n = shape[0],
    c = shape[shape.length - 1],
    inner = prod(shape.slice(1, -1)),
    per = c / groups;
  const out = new Array<number>(x.length);
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < groups; g++) {
      const idx: number[] = [];
      for (let s = 0; s < inner; s++) for (let k = g * per; k < (g + 1) * per; k++) idx.push((b * inner + s) * c + k);
      const mean = idx.reduce((a, i) => a + x[i], 0) / idx.length;
      const variance = idx.reduce((a, i) => a + (x[i] - mean) ** 2, 0) / idx.length;
      for (const i of idx) out[i] = ((x[i] - mean) / Math.sqrt(variance + eps)) * gamma[i % c] + beta[i % c];
    }
  }
  return out;
}

describe('groupNormalization behaviour', () => {
  it('matches the definition for random shapes, instance (groups = C) and layer-like (groups = 1) cases', () =>
    withBackend('reference', () => {
      for (const [shape, groups] of [
        [[3, 5, 5, 8], 4],
        [[2, 7, 6], 6],
        [[2, 3, 4, 5], 1],
        [[2, 4, 10], 10],
      ] as [number[], number][]) {
        const x = randomTensor(shape, 7, 'float64', -2, 3);
        const c = shape[shape.length - 1];
        const gamma = randomValues(c, 8, 0.5, 1.5),
          beta = randomValues(c, 9);
        const layer = st.layers.groupNormalization({ groups, dtype: 'float64', epsilon: 1e-4 });
        layer.ensureBuilt(shape);
        layer.setWeights([st.tensor(gamma, [c], 'float64'), st.tensor(beta, [c], 'float64')]);
        assertClose(
          layer.apply(x),
          groupNormReference(Array.from(x.dataSync()), shape, groups, 1e-4, gamma, beta),
          1e-10,
          1e-11,
          `groups ${groups} on ${shape}`,
        );
      }
    }));

  it('groups = -1 is instance normalization and equals groups = channels', () => {
    const x = randomTensor([2, 4, 4, 6], 3, 'float32');
    assertClose(st.layers.groupNormalization({ groups: -1 }).apply(x), st.layers.groupNormalization({ groups: 6 }).apply(x), 1e-6, 1e-6);
  });

  it('rejects group counts that do not divide the channels, and the batch axis', () => {
    assert.throws(
      () => st.layers.groupNormalization().apply(st.zeros([2, 3, 3, 16])),
      /number of groups \(32\) cannot be more than the number of channels \(16\)/,
    );
    assert.throws(
      () => st.layers.groupNormalization({ groups: 4 }).apply(st.zeros([2, 6])),
      /channels \(6\) must be a multiple of the number of groups \(4\)/,
    );
    assert.throws(() => st.layers.groupNormalization({ groups: 0 }), /groups must be a positive integer or -1/);
    assert.throws(() => st.layers.groupNormalization({ groups: 1, axis: 0 }).apply(st.zeros([2, 6])), /batch axis/);
    assert.throws(() => st.layers.groupNormalization({ group: 2 } as never), /unknown option 'group'/);
    assert.throws(() => st.layers.groupNormalization({ groups: 2 }).apply(st.input({ shape: [4, null] })), /must be known/);
  });

  it('keeps the default 32 groups from Keras and serializes initializers and regularizers', () => {
    const layer = st.layers.groupNormalization({ gammaRegularizer: 'l2' });
    const config = layer.getConfig();
    assert.equal(config.groups, 32);
    assert.equal(config.axis, -1);
    assert.equal(config.epsilon, 1e-3);
    const copy = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(layer))));
    assert.deepEqual(copy.getConfig(), config);
    layer.apply(st.ones([1, 2, 64]));
    assert.equal(layer.regularizationLosses().length, 1);
  });
});

describe('unitNormalization behaviour', () => {
  it('equals x / ||x|| along the axis (float64 formula), on every backend', () => {
    const x = randomTensor([3, 4, 5], 4, 'float32');
    const v = Array.from(x.dataSync());
    for (const backend of available) {
      withBackend(backend, () => {
        const y = st.layers.unitNormalization().apply(st.tensor(v, [3, 4, 5]));
        const expected = v.map((value, i) => {
          const row = Math.floor(i / 5) * 5;
          return value / Math.hypot(...v.slice(row, row + 5));
        });
        assertClose(y, expected, 1e-5, 1e-6, backend);
      });
    }
  });

  it("Keras's epsilon bounds the squared norm: tiny vectors become x · 1e6, zero stays zero", () =>
    withBackend('reference', () => {
      const tiny = [1e-8, -2e-8, 3e-8, 0];
      const y = st.layers.unitNormalization({ dtype: 'float64' }).apply(st.tensor([tiny, [0, 0, 0, 0], [3, 4, 0, 0]], [3, 4], 'float64'));
      assertClose(y, [...tiny.map((t) => t * 1e6), 0, 0, 0, 0, 0.6, 0.8, 0, 0], 1e-12, 1e-15);
    }));

  it('casts integer inputs and keeps the shape', () => {
    const y = st.layers.unitNormalization({ axis: [1] }).apply(
      st.tensor(
        [
          [3, 4],
          [0, 5],
        ],
        [2, 2],
        'int32',
      ),
    );
    assert.equal(y.dtype, 'float32');
    assertClose(y, [0.6, 0.8, 0, 1], 1e-6);
    assert.throws(() => st.layers.unitNormalization({ axis: 'last' as never }), /axis must be an integer/);
  });
});
