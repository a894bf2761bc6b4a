// The layers of src/nn/layers/extra-layers.ts (issue 23): values and gradients against PyTorch
// (scripts/make_extra_layer_fixtures.py) on every backend, float64 finite differences on the
// reference backend, and the layer contract (symbolic shapes, weights, configs). The behaviours a
// fixture cannot show are in extra-layers-behaviour.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { setMask } from '../src/nn/masking.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { blob, fixtureRuns, loadFixture, makeLayer, type Blob } from './fixture-harness.js';
import { assertCloseAsync, checkGradient, randomTensor, withBackend, withBackendAsync } from './helpers.js';

interface Case {
  name: string;
  layer: string;
  config: Record<string, unknown>;
  training: boolean;
  mask?: Blob;
  input: Blob;
  input2?: Blob;
  weights: Blob[];
  output: Blob;
  upstream: Blob;
  gradInput: Blob;
  gradInput2?: Blob;
  gradWeights: (Blob | null)[];
}

const fixtures = loadFixture<Case>('extra-layers.json');
const runs = await fixtureRuns();

describe('extra layers match PyTorch (Keras 3 semantics)', () => {
  for (const run of runs) {
    describe(`${run.backend} ${run.dtype}`, () => {
      for (const c of fixtures.cases) {
        it(c.name, () =>
          withBackendAsync(run.backend, async () => {
            const layer = makeLayer(c.layer, { ...c.config, dtype: run.dtype });
            const x = st.variable(blob(c.input, run.dtype));
            const y2 = c.input2 ? st.variable(blob(c.input2, run.dtype)) : null;
            if (c.mask) setMask(x, blob(c.mask, 'float32').cast('bool'));
            layer.ensureBuilt(y2 ? [c.input.shape, c.input2!.shape] : c.input.shape);
            layer.setWeights(c.weights.map((w) => blob(w, run.dtype)));
            const y = y2 ? layer.apply([x, y2]) : layer.apply(x);
            await assertCloseAsync(y, blob(c.output, run.dtype), run.rtol, run.atol, `${c.name} output`);
            y.mul(blob(c.upstream, run.dtype)).sum().backward();
            await assertCloseAsync(x.grad!, blob(c.gradInput, run.dtype), run.rtol, run.atol, `${c.name} input gradient`);
            if (y2) await assertCloseAsync(y2.grad!, blob(c.gradInput2!, run.dtype), run.rtol, run.atol, `${c.name} second input gradient`);
            for (const [i, w] of layer.weights.entries()) {
              const expected = c.gradWeights[i];
              if (expected === null) assert.equal(w.value.grad ?? null, null, `${c.name}: ${w.name} is not trainable`);
              else await assertCloseAsync(w.value.grad!, blob(expected, run.dtype), run.rtol, run.atol, `${c.name} gradient of ${w.name}`);
            }
          }),
        );
      }
    });
  }
});

describe('extra layers: layer contract', () => {
  for (const c of fixtures.cases) {
    it(`${c.name}: symbolic shape, weight shapes, config round trip`, () => {
      const layer = makeLayer(c.layer, c.config);
      const inputs = [c.input, ...(c.input2 ? [c.input2] : [])].map((b) => st.input({ shape: b.shape.slice(1) }));
      const out = layer.apply(inputs.length > 1 ? inputs : inputs[0]);
      assert.deepEqual([...out.shape], [null, ...c.output.shape.slice(1)], 'symbolic output shape');
      const batchShapes = [c.input, ...(c.input2 ? [c.input2] : [])].map((b) => b.shape);
      assert.deepEqual(layer.computeOutputShape(batchShapes.length > 1 ? batchShapes : batchShapes[0]), c.output.shape);
      assert.deepEqual(
        layer.getWeights().map((w) => [...w.shape]),
        c.weights.map((w) => w.shape),
        'weights in Keras layout',
      );
      const copy = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(layer))));
      assert.equal(copy.className, layer.className);
      assert.deepEqual(copy.getConfig(), layer.getConfig());
    });
  }
});

describe('extra layers: float64 finite differences (reference backend)', () => {
  // Inputs are made inside the test, on the reference backend (the only one with float64).
  const fd = (what: string, f: (...xs: st.Tensor[]) => st.Tensor, xs: () => st.Tensor[]) =>
    it(what, () => withBackend('reference', () => checkGradient(f, xs(), { what })));
  const away = (shape: number[], seed: number) => {
    const t = randomTensor(shape, seed, 'float64', -2, 2);
    return st.where(st.less(st.abs(t), 0.1), st.add(t, 0.3), t);
  };
  fd(
    'leakyReLU',
    (x) => st.layers.leakyReLU({ dtype: 'float64' }).apply(x),
    () => [away([3, 4], 1)],
  );
  fd(
    'elu',
    (x) => st.layers.elu({ alpha: 0.7, dtype: 'float64' }).apply(x),
    () => [away([3, 4], 2)],
  );
  fd(
    'thresholdedReLU',
    (x) => st.layers.thresholdedReLU({ theta: 0.5, dtype: 'float64' }).apply(x),
    () => [away([3, 4], 3).add(0.5)],
  );
  fd(
    'prelu (the gradient of the slopes is in the PyTorch fixtures)',
    (x) => {
      const prelu = st.layers.prelu({ sharedAxes: 1, dtype: 'float64', alphaInitializer: st.initializers.constant({ value: 0.3 }) });
      return prelu.apply(x);
    },
    () => [away([2, 3, 4], 4)],
  );
  fd(
    'softmax with a mask over two axes',
    (x) => {
      setMask(
        x,
        st
          .tensor([
            [true, false, true],
            [true, true, false],
          ])
          .reshape([2, 3, 1]),
      );
      return st.layers.softmax({ axis: [1, 2], dtype: 'float64' }).apply(x);
    },
    () => [randomTensor([2, 3, 4], 6)],
  );
  fd(
    'dot, normalized',
    (x, y) => st.layers.dot({ axes: [1, 2], normalize: true, dtype: 'float64' }).apply([x, y]),
    () => [randomTensor([2, 3, 4], 7), randomTensor([2, 5, 3], 8)],
  );
  fd(
    'st.rmsNormalization in x and scale',
    (x, s) => st.rmsNormalization(x, { scale: s, axis: [1, 2], epsilon: 1e-3 }),
    () => [randomTensor([2, 3, 4], 9), randomTensor([3, 4], 10)],
  );
  fd(
    'normalization',
    (x) => st.layers.normalization({ mean: [1, 2, 3, 4], variance: [1, 2, 3, 4], dtype: 'float64' }).apply(x),
    () => [randomTensor([2, 4], 11)],
  );
  fd(
    'upSampling3d',
    (x) => st.layers.upSampling3d({ size: [2, 1, 3], dtype: 'float64' }).apply(x),
    () => [randomTensor([1, 2, 2, 2, 2], 12)],
  );
  fd(
    'repeatVector then permute',
    (x) => st.layers.permute({ dims: [2, 1] }).apply(st.layers.repeatVector({ n: 3 }).apply(x)),
    () => [randomTensor([2, 4], 13)],
  );
});
