// The convolution family (conv1d, conv2dTranspose, depthwiseConv2d, separableConv2d,
// upSampling2d, zeroPadding2d, cropping2d, 1-D and global 1-D pooling) against PyTorch fixtures
// (scripts/make_conv_family_fixtures.py, Keras semantics in float64) on every backend, plus the
// layer contract: symbolic shapes, Keras's parameter counts, config round trips, training steps
// and save/load of a model holding each layer.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { getMask, setMask } from '../src/nn/masking.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { depthwiseBlockDiagonal, depthwiseGatherMatmul, planDepthwise } from '../src/ops/depthwise-conv.js';
import { assertClose, assertCloseAsync, checkGradient, randomTensor, withBackend, withBackendAsync } from './helpers.js';
import { blob, fixtureRuns, loadFixture, makeLayer, type Blob } from './fixture-harness.js';

interface Case {
  name: string;
  layer: keyof typeof st.layers;
  config: Record<string, unknown>;
  training: boolean;
  mask?: Blob;
  input: Blob;
  weights: Blob[];
  output: Blob;
  upstream: Blob;
  gradInput: Blob;
  gradWeights: (Blob | null)[];
}

const fixtures = loadFixture<Case>('conv-family.json');
const runs = await fixtureRuns(); // opens webgpu where there is an adapter
/** The backends the synchronous checks below run on: webgpu has no synchronous read. */
const available = st
  .backends()
  .filter((b) => b.available && b.name !== 'webgpu')
  .map((b) => b.name);

const withMask = (x: st.Tensor, c: Case) => {
  if (c.mask) setMask(x, blob(c.mask, 'float32').cast('bool'));
  return x;
};

describe('convolution family matches PyTorch (Keras semantics)', () => {
  for (const run of runs) {
    describe(`${run.backend} ${run.dtype}`, () => {
      for (const c of fixtures.cases) {
        it(c.name, () =>
          withBackendAsync(run.backend, async () => {
            const layer = makeLayer(c.layer, { ...c.config, dtype: run.dtype });
            layer.ensureBuilt(c.input.shape);
            layer.setWeights(c.weights.map((w) => blob(w, run.dtype)));
            const x = st.variable(blob(c.input, run.dtype));
            const y = layer.apply(withMask(x, c));
            await assertCloseAsync(y, blob(c.output, run.dtype), run.rtol, run.atol, `${c.name} output`);
            y.mul(blob(c.upstream, run.dtype)).sum().backward();
            await assertCloseAsync(x.grad!, blob(c.gradInput, run.dtype), run.rtol, run.atol, `${c.name} input gradient`);
            for (const [i, w] of layer.weights.entries()) {
              await assertCloseAsync(w.value.grad!, blob(c.gradWeights[i]!, run.dtype), run.rtol, run.atol, `${c.name} gradient of ${w.name}`);
            }
          }),
        );
      }
    });
  }
});

// Keras's parameter counts, from the config and the input shape alone (not from the fixture's weights):
//   Conv1D           k * in * filters + filters (bias)
//   Conv2DTranspose  kh * kw * filters * in + filters
//   DepthwiseConv2D  kh * kw * in * dm + in * dm
//   SeparableConv2D  kh * kw * in * dm + in * dm * filters + filters
//   the others       0
function kerasParams(c: Case): number {
  const cfg = c.config,
    inC = c.input.shape[c.input.shape.length - 1];
  const k = (cfg.kernelSize ?? 1) as number | number[];
  const [kh, kw] = typeof k === 'number' ? (c.layer === 'conv1d' ? [1, k] : [k, k]) : k.length === 1 ? [1, k[0]] : k;
  const bias = (n: number) => (cfg.useBias === false ? 0 : n);
  const dm = (cfg.depthMultiplier as number | undefined) ?? 1,
    filters = cfg.filters as number;
  switch (c.layer) {
    case 'conv1d':
      return kh * kw * inC * filters + bias(filters);
    case 'conv2dTranspose':
      return kh * kw * filters * inC + bias(filters);
    case 'depthwiseConv2d':
      return kh * kw * inC * dm + bias(inC * dm);
    case 'separableConv2d':
      return kh * kw * inC * dm + inC * dm * filters + bias(filters);
    default:
      return 0;
  }
}

describe('convolution family: layer contract', () => {
  for (const c of fixtures.cases) {
    it(`${c.name}: symbolic shape, computeOutputShape, Keras parameter count, config round trip`, () => {
      const layer = makeLayer(c.layer, c.config);
      const out = layer.apply(st.input({ shape: c.input.shape.slice(1) }));
      const expected = [null, ...c.output.shape.slice(1)];
      assert.deepEqual([...out.shape], expected, 'symbolic output shape');
      assert.deepEqual(layer.computeOutputShape([null, ...c.input.shape.slice(1)]), expected, 'computeOutputShape');
      assert.deepEqual(layer.computeOutputShape(c.input.shape), c.output.shape, 'computeOutputShape with a batch size');
      assert.equal(layer.countParams(), kerasParams(c), 'parameter count (Keras formula)');
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

  for (const c of fixtures.cases.filter((k) => k.weights.length)) {
    it(`${c.name}: a few SGD steps lower the loss`, () => {
      st.setSeed(3);
      const layer = makeLayer(c.layer, c.config);
      const x = blob(c.input, 'float32');
      const target = st.randomNormal(c.output.shape, { seed: 5 });
      const loss = () => st.losses.meanSquaredError(target, layer.apply(x, { training: true }));
      const before = st.noGrad(() => loss()).item();
      const sgd = st.optimizers.sgd({ learningRate: 0.02 });
      for (let i = 0; i < 3; i++)
        sgd.minimize(
          loss,
          layer.trainableWeights.map((w) => w.value),
        );
      const afterSteps = st.noGrad(() => loss()).item();
      assert.ok(afterSteps < before, `${c.name}: loss ${before} -> ${afterSteps}`);
    });
  }
});

describe('convolution family: save and load', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'strata-conv-family-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  // One small model per layer class: the layer between a dense-free input and a head that
  // flattens, so every weight and option of the layer reaches the saved file.
  const models: [string, number[], () => st.Layer][] = [
    ['conv1d', [9, 3], () => st.layers.conv1d({ filters: 4, kernelSize: 3, padding: 'causal', dilationRate: 2, activation: 'tanh' })],
    ['conv2dTranspose', [3, 4, 2], () => st.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', outputPadding: 1 })],
    ['depthwiseConv2d', [5, 6, 2], () => st.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', biasInitializer: 'ones' })],
    ['separableConv2d', [5, 6, 2], () => st.layers.separableConv2d({ filters: 3, kernelSize: 3, depthMultiplier: 2, activation: 'relu' })],
    ['upSampling2d', [3, 4, 2], () => st.layers.upSampling2d({ size: [2, 3], interpolation: 'bilinear' })],
    [
      'zeroPadding2d',
      [3, 4, 2],
      () =>
        st.layers.zeroPadding2d({
          padding: [
            [1, 0],
            [2, 3],
          ],
        }),
    ],
    [
      'cropping2d',
      [5, 6, 2],
      () =>
        st.layers.cropping2d({
          cropping: [
            [1, 2],
            [0, 1],
          ],
        }),
    ],
    ['maxPooling1d', [7, 2], () => st.layers.maxPooling1d({ poolSize: 3, strides: 2, padding: 'same' })],
    ['averagePooling1d', [7, 2], () => st.layers.averagePooling1d({ poolSize: 3, strides: 2, padding: 'same' })],
    ['globalAveragePooling1d', [7, 2], () => st.layers.globalAveragePooling1d({ keepdims: true })],
    ['globalMaxPooling1d', [7, 2], () => st.layers.globalMaxPooling1d()],
  ];
  for (const [name, shape, layer] of models) {
    it(`a model holding ${name} predicts identically after save and load`, async () => {
      st.setSeed(7);
      const inp = st.input({ shape });
      const out = st.layers.dense({ units: 2 }).apply(st.layers.flatten().apply(layer().apply(inp)));
      const model = st.model({ inputs: inp, outputs: out });
      const x = randomTensor([3, ...shape], 11, 'float32');
      const dir = join(root, name);
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      const predict = (m: st.Model) => Array.from((m.predict(x) as st.Tensor).dataSync());
      assert.deepEqual(predict(loaded), predict(model));
      assert.deepEqual(loaded.getConfig(), model.getConfig());
      assert.equal(loaded.countParams(), model.countParams());
    });
  }
});

describe('convolution family: behaviour', () => {
  it('causal conv1d: output step t depends on input steps <= t only', () => {
    const conv = st.layers.conv1d({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'causal' });
    const x = randomTensor([1, 8, 2], 3, 'float32');
    const y = conv.apply(x);
    // Change step 5 onward: outputs 0..4 must not move, output 5 must.
    const changed = st.concat([x.slice([0, 0, 0], [1, 5, 2]), st.ones([1, 3, 2]).mul(9)], 1);
    const y2 = conv.apply(changed);
    assertClose(y2.slice([0, 0, 0], [1, 5, 2]), y.slice([0, 0, 0], [1, 5, 2]), 0, 0);
    assert.notDeepEqual(Array.from(y2.slice([0, 5, 0], [1, 1, 2]).dataSync()), Array.from(y.slice([0, 5, 0], [1, 1, 2]).dataSync()));
  });

  it('globalAveragePooling1d averages unmasked steps and consumes the mask', () => {
    const x = st.tensor([
      [
        [1, 10],
        [3, 30],
        [100, 100],
      ],
    ]);
    const mask = st.tensor([[true, true, false]]);
    setMask(x, mask);
    const y = st.layers.globalAveragePooling1d().apply(x);
    assertClose(y, st.tensor([[2, 20]]));
    assert.equal(getMask(y), null);
  });

  it('depthwise output channel c * depthMultiplier + m uses kernel[:, :, c, m]', () => {
    const layer = st.layers.depthwiseConv2d({ kernelSize: 1, depthMultiplier: 2, useBias: false });
    layer.ensureBuilt([null, 1, 1, 2]);
    layer.setWeights([
      st.tensor([
        [
          [
            [1, 2],
            [10, 20],
          ],
        ],
      ]),
    ]);
    assertClose(layer.apply(st.tensor([[[[3, 5]]]])), st.tensor([[[[3, 6, 50, 100]]]]));
  });

  // Note [Depthwise convolution] (ops/depthwise-conv.ts): the two composite forms must agree, values and gradients.
  const depthwiseForms = [
    { kernel: [3, 3, 5, 1], x: [2, 6, 7, 5], options: { padding: 'same' as const } },
    { kernel: [3, 2, 3, 2], x: [2, 7, 6, 3], options: { strides: 2, padding: 'same' as const } },
    { kernel: [2, 3, 2, 3], x: [1, 7, 8, 2], options: { dilation: 2 } },
  ];
  for (const backend of available) {
    it(`depthwise: block-diagonal conv and gather + matmul agree (${backend})`, () =>
      withBackend(backend, () => {
        for (const [i, f] of depthwiseForms.entries()) {
          const x = randomTensor(f.x, 20 + i, 'float32'),
            k = randomTensor(f.kernel, 30 + i, 'float32');
          const plan = planDepthwise(x, k, f.options);
          const run = (form: typeof depthwiseBlockDiagonal) => {
            const [vx, vk] = [st.variable(x), st.variable(k)];
            const y = form(vx, vk, plan);
            y.mul(randomTensor([...y.shape], 40 + i, 'float32'))
              .sum()
              .backward();
            return [y, vx.grad!, vk.grad!];
          };
          const [a, b] = [run(depthwiseBlockDiagonal), run(depthwiseGatherMatmul)];
          a.forEach((t, j) => assertClose(t, b[j], 1e-5, 1e-5, `form ${i}, ${['output', 'input gradient', 'kernel gradient'][j]}`));
        }
      }));
  }

  it('depthwise gather + matmul: gradients match finite differences (reference, float64)', () =>
    withBackend('reference', () => {
      const x = randomTensor([1, 5, 4, 2], 51),
        k = randomTensor([3, 2, 2, 2], 52);
      const plan = planDepthwise(x, k, { strides: 2, padding: 'same' });
      checkGradient((a, b) => depthwiseGatherMatmul(a, b, plan), [x, k], { what: 'depthwise' });
    }));

  it('names follow Keras snake case', () => {
    assert.match(st.layers.conv2dTranspose({ filters: 1, kernelSize: 1 }).name, /^conv2d_transpose(_\d+)?$/);
    assert.match(st.layers.depthwiseConv2d({ kernelSize: 1 }).name, /^depthwise_conv2d(_\d+)?$/);
    assert.match(st.layers.separableConv2d({ filters: 1, kernelSize: 1 }).name, /^separable_conv2d(_\d+)?$/);
    assert.match(st.layers.upSampling2d().name, /^up_sampling2d(_\d+)?$/);
    assert.match(st.layers.globalAveragePooling1d().name, /^global_average_pooling1d(_\d+)?$/);
  });

  it('bad options and inputs give clear errors', () => {
    assert.throws(() => st.layers.conv1d({ filters: 2, kernelSize: 3, paddin: 'same' } as never), /unknown option 'paddin'/);
    assert.throws(() => st.layers.conv1d({ filters: 2 } as never), /kernelSize is required/);
    assert.throws(
      () => st.layers.conv1d({ filters: 2, kernelSize: 3, padding: 'full' as never }),
      /padding must be one of 'valid', 'same', 'causal'/,
    );
    assert.throws(() => st.layers.conv1d({ filters: 2, kernelSize: 3, strides: 2, dilationRate: 2 }), /strides > 1 and dilationRate > 1/);
    assert.throws(() => st.layers.conv1d({ filters: 2, kernelSize: 3 }).apply(st.zeros([2, 5, 5, 1])), /rank 3/);
    assert.throws(() => st.layers.conv1d({ filters: 2, kernelSize: 5 }).apply(st.input({ shape: [3, 2] })), st.ShapeError);
    assert.throws(
      () => st.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, outputPadding: 2 }),
      /outputPadding must be smaller than strides/,
    );
    assert.throws(() => st.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 0 }), /depthMultiplier must be a positive integer/);
    assert.throws(() => st.layers.upSampling2d({ interpolation: 'bicubic' as never }), /interpolation must be one of 'nearest', 'bilinear'/);
    assert.throws(() => st.layers.zeroPadding2d({ padding: [1, -1] }), /padding must be a non-negative integer/);
    assert.throws(() => st.layers.cropping2d({ cropping: 2 }).apply(st.zeros([1, 4, 6, 1])), /removes every pixel/);
    assert.throws(() => st.layers.maxPooling1d({ poolSize: 0 }), /poolSize must be a positive integer/);
  });
});
