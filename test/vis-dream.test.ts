// st.vis.activationMaximization and st.vis.deepDream: the gradient they ascend equals float64
// central differences of their objective on the reference backend (filters, class scores read
// before the softmax, several DeepDream layers on an image of another size than the model's),
// the objective rises over the steps on every backend, and bad layers and options are clear
// errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { unitObjective } from '../src/vis/activation-maximization.js';
import { ascentGradient, blur, type Objective } from '../src/vis/ascent.js';
import { dreamObjective } from '../src/vis/deep-dream.js';
import { assertClose, randomTensor, rejectsWith, throwsWith, withBackend, withBackendAsync } from './helpers.js';

/** A small convnet with smooth activations (tanh, average pooling), so differences see no kinks. */
function tinyNet(dtype: 'float32' | 'float64', seed = 3): st.Model {
  st.setSeed(seed);
  const input = st.input({ shape: [8, 8, 1], dtype });
  let x = st.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'tanh', name: 'c1', dtype }).apply(input);
  x = st.layers.averagePooling2d({ poolSize: 2, dtype }).apply(x);
  x = st.layers.conv2d({ filters: 4, kernelSize: 2, activation: 'tanh', name: 'c2', dtype }).apply(x);
  x = st.layers.flatten({ dtype }).apply(x);
  const out = st.layers.dense({ units: 3, activation: 'softmax', name: 'probs', dtype }).apply(x);
  return st.model({ inputs: input, outputs: out });
}

/** Central differences of a scalar objective at x, in float64. */
async function numericGradient(objective: Objective, x: st.Tensor, eps = 1e-6): Promise<number[]> {
  const base = Array.from(await x.data());
  const at = async (values: number[]) => (await objective(st.tensor(values, x.shape, 'float64')).data())[0];
  const out: number[] = [];
  for (let i = 0; i < base.length; i++) {
    const plus = base.slice(),
      minus = base.slice();
    plus[i] += eps;
    minus[i] -= eps;
    out.push(((await at(plus)) - (await at(minus))) / (2 * eps));
  }
  return out;
}

async function checkAgainstDifferences(objective: Objective, x: st.Tensor): Promise<void> {
  const { grad } = ascentGradient(objective, x);
  const numeric = await numericGradient(objective, x);
  assert.ok(
    numeric.some((v) => Math.abs(v) > 1e-4),
    'the objective depends on the input',
  );
  assertClose(Array.from(await grad.data()), numeric, 1e-6, 1e-9);
}

describe('st.vis gradients (reference, float64 central differences)', () => {
  it("activation maximization of filters: one image per filter, each image's gradient its own filter's", () =>
    withBackendAsync('reference', async () => {
      const net = tinyNet('float64');
      const { objective, units } = unitObjective(net, { layer: 'c2', filter: [1, 3] });
      assert.deepEqual(units, [1, 3]);
      await checkAgainstDifferences(objective, randomTensor([2, 8, 8, 1], 11, 'float64', 0, 1));
    }));

  it('activation maximization of a class reads its score before the softmax', () =>
    withBackendAsync('reference', async () => {
      const net = tinyNet('float64');
      const x = randomTensor([3, 8, 8, 1], 12, 'float64', 0, 1);
      const { objective, scores } = unitObjective(net, { classIndex: [0, 1, 2] });
      await checkAgainstDifferences(objective, x);
      // The scores are the logits: their softmax per image is the model's own output.
      const logits = scores(x); // image i's score of class i
      const probs = net.predict(x) as st.Tensor;
      const all = await Promise.all(
        [0, 1, 2].map(async (c) =>
          Array.from(
            await unitObjective(net, { classIndex: [c, c, c] })
              .scores(x)
              .data(),
          ),
        ),
      );
      const soft = Array.from(await st.softmax(st.tensor(all, [3, 3], 'float64').transpose()).data());
      assertClose(soft, Array.from(await probs.data()), 1e-9, 1e-12);
      assertClose(Array.from(await logits.data()), [all[0][0], all[1][1], all[2][2]], 1e-12, 0);
      // beforeActivation: false maximizes the probability itself.
      const p = unitObjective(net, { classIndex: [0, 1, 2], beforeActivation: false }).scores(x);
      assertClose(
        Array.from(await p.data()),
        [0, 1, 2].map((i) => probs.dataSync()[i * 3 + i]),
        1e-12,
        0,
      );
    }));

  it("beforeActivation reads a filter's input to its activation function", () =>
    withBackendAsync('reference', async () => {
      const net = tinyNet('float64');
      const x = randomTensor([2, 8, 8, 1], 14, 'float64', 0, 1);
      const { objective, scores } = unitObjective(net, { layer: 'c1', filter: [0, 2], beforeActivation: true });
      await checkAgainstDifferences(objective, x);
      const c1 = st.model({ inputs: net.inputs, outputs: net.getLayer('c1').output as st.SymbolicTensor });
      const pre = st.atanh(c1.predict(x) as st.Tensor); // c1 ends in tanh
      const expected = [st.mean(pre.slice([0, 0, 0, 0], [1, 6, 6, 1])).item(), st.mean(pre.slice([1, 0, 0, 2], [1, 6, 6, 1])).item()];
      assertClose(Array.from(await scores(x).data()), expected, 1e-9, 1e-12);
    }));

  it('DeepDream: mean squared activations of weighted layers, on an image of another size than the model was built for', () =>
    withBackendAsync('reference', async () => {
      const net = tinyNet('float64');
      const objective = dreamObjective(net, { c1: 1, c2: 0.5 });
      await checkAgainstDifferences(objective, randomTensor([1, 10, 9, 1], 13, 'float64', 0, 1));
    }));
});

await st.ready(); // opens webgpu where there is an adapter, so it gets runs too
const available = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);

describe('st.vis: the objective rises', () => {
  for (const backend of available) {
    // webgpu here is SwiftShader, a GPU in software, where a step costs seconds: fewer steps there.
    const steps = backend === 'webgpu' ? 3 : 8;
    const dreamSteps = backend === 'webgpu' ? 2 : 5;
    it(`activation maximization of filters and classes (${backend})`, () =>
      withBackendAsync(backend, async () => {
        const net = tinyNet('float32');
        // Class scores go through the same kernels plus a dense layer: checked on the CPU backends only, for time.
        const optionSets = backend === 'webgpu' ? [{ layer: 'c1', filter: [0, 1, 2] }] : [{ layer: 'c1', filter: [0, 1, 2] }, { classIndex: [0, 2] }];
        for (const options of optionSets) {
          const r = await st.vis.activationMaximization(net, { ...options, steps, stepSize: 0.1 });
          assert.deepEqual(r.images.shape, [r.start.length, 8, 8, 1]);
          assert.equal(r.objective.length, steps);
          r.end.forEach((e, i) => assert.ok(e > r.start[i] + 1e-3, `image ${i}: ${r.start[i]} -> ${e}`));
          const values = Array.from(await r.images.data());
          assert.ok(
            values.every((v) => v >= 0 && v <= 1),
            'clipped to the value range',
          );
        }
      }));

    it(`DeepDream over octaves (${backend})`, () =>
      withBackendAsync(backend, async () => {
        const net = tinyNet('float32');
        const image = randomTensor([16, 16, 1], 5, 'float32', 0, 1);
        const r = await st.vis.deepDream(net, image, { layers: ['c1', 'c2'], steps: dreamSteps, octaves: 2, octaveScale: 1.3, jitter: 0 });
        assert.deepEqual(r.image.shape, [16, 16, 1]);
        assert.deepEqual(r.octaveSizes, [
          [12, 12],
          [16, 16],
        ]);
        assert.equal(r.objective.length, 2 * dreamSteps);
        const objective = dreamObjective(net, ['c1', 'c2']);
        const before = (await objective(image.expandDims(0)).data())[0];
        const after = (await objective(r.image.expandDims(0)).data())[0];
        assert.ok(after > before * 1.05, `${before} -> ${after}`);
        assertClose([r.start, r.end], [before, after], 1e-5, 1e-7);
        assert.ok(r.objective.at(-1)! > r.objective[dreamSteps], 'rises within the last octave');
      }));
  }
});

describe('st.vis: the blur between steps', () => {
  it('keeps a constant image constant, borders included, and smooths a single bright pixel', () =>
    withBackendAsync('reference', async () => {
      const flat = st.full([2, 5, 4, 3], 0.7);
      assertClose(Array.from(await blur(flat).data()), new Array(120).fill(0.7), 1e-6, 1e-7);
      const dot = st.tensor(
        Array.from({ length: 9 }, (_, i) => (i === 4 ? 1 : 0)),
        [1, 3, 3, 1],
      );
      assertClose(Array.from(await blur(dot).data()), [1 / 9, 2 / 12, 1 / 9, 2 / 12, 4 / 16, 2 / 12, 1 / 9, 2 / 12, 1 / 9], 1e-6, 1e-7);
    }));
});

describe('st.vis: errors', () => {
  const net = withBackend('reference', () => tinyNet('float32'));
  const image = st.zeros([8, 8, 1]);

  it('an unknown layer lists the layers', async () => {
    await rejectsWith(
      () => st.vis.activationMaximization(net, { layer: 'conv9', filter: 0 }),
      st.ValueError,
      /no layer "conv9"/,
      /c1, .*c2, flatten.*, probs/,
    );
    await rejectsWith(() => st.vis.deepDream(net, image, { layers: ['c1', 'nope'] }), st.ValueError, /no layer "nope"/, /c1/);
  });

  it('filter and classIndex: exactly one, in range, with a layer for filter', async () => {
    await rejectsWith(
      () => st.vis.activationMaximization(net, { layer: 'c1', filter: 3 }),
      st.ValueError,
      /filter must be an integer in \[0, 2\]; received 3/,
    );
    await rejectsWith(
      () => st.vis.activationMaximization(net, { classIndex: 0, filter: 0, layer: 'c1' }),
      st.ValueError,
      /either filter .* or classIndex .* both/,
    );
    await rejectsWith(() => st.vis.activationMaximization(net, {}), st.ValueError, /neither/);
    await rejectsWith(() => st.vis.activationMaximization(net, { filter: 0 }), st.ValueError, /filter needs layer/);
    await rejectsWith(() => st.vis.activationMaximization(net, { classIndex: [] }), st.ValueError, /non-empty list/);
  });

  it('bad options name what was expected', async () => {
    await rejectsWith(() => st.vis.activationMaximization(net, { classIndex: 0, stepsize: 1 } as never), st.ValueError, /stepsize/);
    await rejectsWith(() => st.vis.activationMaximization(net, { classIndex: 0, steps: -1 }), st.ValueError, /steps must be an integer/);
    await rejectsWith(
      () => st.vis.activationMaximization(net, { classIndex: 0, valueRange: [1, 0] }),
      st.ValueError,
      /valueRange must be \[min, max\]/,
    );
    await rejectsWith(
      () => st.vis.deepDream(net, image, { layers: 'c1', octaves: 0 }),
      st.ValueError,
      /octaves must be an integer in \[1, 32\]; received 0/,
    );
    await rejectsWith(() => st.vis.deepDream(net, image, {} as never), st.ValueError, /layers is required/);
    await rejectsWith(() => st.vis.deepDream(net, image, { layers: [] }), st.ValueError, /non-empty list/);
  });

  it('images and layers DeepDream cannot use', async () => {
    await rejectsWith(() => st.vis.deepDream(net, st.zeros([8, 8, 3]), { layers: 'c1' }), st.ValueError, /\[height, width, 1\].*received \[8,8,3\]/);
    await rejectsWith(() => st.vis.deepDream(net, image, { layers: 'probs' }), st.ValueError, /does not accept images of any size/);
    await rejectsWith(
      () => st.vis.deepDream(net, image, { layers: 'c2', octaves: 4, octaveScale: 2 }),
      st.ValueError,
      /octave 1 of 4 \(1x1 pixels\) is too small/,
    );
  });

  it('a model that does not take images', async () => {
    const mlp = st.sequential({ layers: [st.layers.dense({ units: 2, inputShape: [4] })] });
    await rejectsWith(() => st.vis.activationMaximization(mlp, { classIndex: 0 }), st.ValueError, /batch of images/);
    throwsWith(() => unitObjective(net, { layer: 42 as never, filter: 0 }), st.ValueError, /no layer 42/);
  });
});
