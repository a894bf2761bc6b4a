// The ReLU layer (Keras's ReLU: maxValue, negativeSlope, threshold; ReLU6 for MobileNet), in the
// layer harness's terms: values and gradients on every backend against its definition (a clamp
// and a slope, so the reference is computed here rather than by a PyTorch fixture), output
// shape, no weights, config round trip, and a training step through it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { fixtureRuns } from './fixture-harness.js';
import { assertCloseAsync, randomValues, withBackendAsync } from './helpers.js';

interface Options {
  maxValue?: number;
  negativeSlope?: number;
  threshold?: number;
}

/** Keras's definition: min(x, maxValue) above the threshold, negativeSlope * (x - threshold) at or below. */
function expected(x: number, o: Options): { y: number; dy: number } {
  const t = o.threshold ?? 0,
    slope = o.negativeSlope ?? 0,
    max = o.maxValue ?? Infinity;
  if (x > t) return x < max ? { y: x, dy: 1 } : { y: max, dy: 0 };
  return { y: slope * (x - t), dy: slope };
}

const CASES: Options[] = [
  {},
  { maxValue: 6 },
  { negativeSlope: 0.1 },
  { threshold: 0.5 },
  { maxValue: 6, negativeSlope: 0.2, threshold: 1 },
  { maxValue: 0.75, threshold: 2 },
];
// Spread over [-9, 9] and away from the kinks (0, thresholds, maxValue), where the gradient is a choice.
const VALUES = randomValues(60, 7, -9, 9).filter((v) => [0, 0.5, 0.75, 1, 2, 6].every((k) => Math.abs(v - k) > 1e-3));

const runs = await fixtureRuns();

describe('ReLU layer', () => {
  for (const run of runs) {
    for (const o of CASES) {
      it(`${run.backend} ${run.dtype} ${JSON.stringify(o)}: values and gradient follow the definition`, () =>
        withBackendAsync(run.backend, async () => {
          const layer = st.layers.reLU({ ...o, dtype: run.dtype });
          const x = st.variable(st.tensor(VALUES, [VALUES.length], run.dtype));
          const y = layer.apply(x);
          await assertCloseAsync(
            y,
            VALUES.map((v) => expected(v, o).y),
            run.rtol,
            run.atol,
            'output',
          );
          y.sum().backward();
          await assertCloseAsync(
            x.grad!,
            VALUES.map((v) => expected(v, o).dy),
            run.rtol,
            run.atol,
            'gradient',
          );
        }));
    }
  }

  it('ReLU6 clamps to [0, 6] on NHWC maps; integer inputs become floats', () => {
    const y = st.layers.reLU({ maxValue: 6 }).apply(st.tensor([-3, 0, 2, 6, 7, 100], [1, 1, 2, 3], 'int32'));
    assert.equal(y.dtype, 'float32');
    assert.deepEqual(Array.from(y.dataSync()), [0, 0, 2, 6, 6, 6]);
  });

  it('shape inference, no weights, config round trip, registered as ReLU', () => {
    const layer = st.layers.reLU({ maxValue: 6, negativeSlope: 0.1, threshold: 0.5, name: 'clamp' });
    const out = layer.apply(st.input({ shape: [5, 5, 3] }));
    assert.deepEqual([...out.shape], [null, 5, 5, 3]);
    assert.equal(layer.countParams(), 0);
    const spec = JSON.parse(JSON.stringify(serializeLayer(layer)));
    assert.deepEqual(spec, {
      className: 'ReLU',
      config: { name: 'clamp', trainable: true, dtype: 'float32', maxValue: 6, negativeSlope: 0.1, threshold: 0.5 },
    });
    const copy = deserializeLayer(spec);
    assert.ok(copy instanceof st.ReLU);
    assert.deepEqual(copy.getConfig(), layer.getConfig());
    assert.equal(st.layers.reLU().getConfig().maxValue, null);
  });

  it('one gradient step through dense + ReLU6 lowers the loss', () => {
    st.setSeed(3);
    const dense = st.layers.dense({ units: 4 }),
      clamp = st.layers.reLU({ maxValue: 6 });
    const x = st.randomNormal([8, 3], { seed: 4 }).mul(4),
      target = st.randomUniform([8, 4], { seed: 5, min: 0, max: 6 });
    const loss = () => st.losses.meanSquaredError(target, clamp.apply(dense.apply(x)));
    const before = st.noGrad(() => loss()).item();
    st.optimizers.sgd({ learningRate: 0.01 }).minimize(
      loss,
      dense.trainableWeights.map((w) => w.value),
    );
    assert.ok(st.noGrad(() => loss()).item() < before);
  });

  it('rejects negative or non-finite options, as Keras does, and unknown ones', () => {
    assert.throws(() => st.layers.reLU({ maxValue: -1 }), /maxValue must be a finite number >= 0; received -1/);
    assert.throws(() => st.layers.reLU({ negativeSlope: -0.5 }), /negativeSlope must be a finite number >= 0/);
    assert.throws(() => st.layers.reLU({ threshold: Number.NaN }), /threshold must be a finite number >= 0; received NaN/);
    assert.throws(() => st.layers.reLU({ max_value: 6 } as never), /unknown option 'max_value'/);
  });
});
