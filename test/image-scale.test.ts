// st.image.scaleAndTranslate against test/fixtures/image-scale.json
// (scripts/make_image_scale_fixtures.py: the Keras 3.15 / JAX definition in PyTorch 1.13) on
// every backend in float32 and on the reference backend in float64; its linear kernel without
// antialiasing against tfjs 4.22's resizeBilinear with half-pixel centres; float64 finite
// differences.
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as st from '../src/index.js';
import { fixtureRuns, loadFixture } from './fixture-harness.js';
import { rt } from './grad-check.js';
import { assertCloseAsync, checkGradient, randomValues, throwsWith, withBackend, withBackendAsync } from './helpers.js';

interface Case {
  name: string;
  outputShape: number[];
  scale: number[];
  translation: number[];
  method: st.ScaleMethod;
  antialias: boolean;
  shape: number[];
  input: number[];
  output: number[];
}
const { cases } = loadFixture<Case>('image-scale.json');
await tf.setBackend('cpu');
const runs = await fixtureRuns();

for (const run of runs) {
  describe(`st.image.scaleAndTranslate on ${run.backend} (${run.dtype})`, () => {
    for (const c of cases) {
      it(c.name, () =>
        withBackendAsync(run.backend, async () => {
          const x = st.tensor(c.input, c.shape, run.dtype);
          const y = st.image.scaleAndTranslate(x, c.outputShape, c.scale, c.translation, [1, 2], c.method, c.antialias);
          await assertCloseAsync(y, st.tensor(c.output, c.outputShape, run.dtype), run.rtol, run.atol, c.name);
        }),
      );
    }
    it('linear, no antialias, scale out/in: tfjs resizeBilinear with half-pixel centres', () =>
      withBackendAsync(run.backend, async () => {
        const v = randomValues(2 * 5 * 6 * 2, 4, 0, 1);
        const y = st.image.scaleAndTranslate(
          st.tensor(v, [2, 5, 6, 2], run.dtype),
          [2, 8, 13, 2],
          [8 / 5, 13 / 6],
          [0, 0],
          [1, 2],
          'bilinear',
          false,
        );
        const expected = tf.image.resizeBilinear(tf.tensor(v, [2, 5, 6, 2]) as tf.Tensor4D, [8, 13], false, true);
        await assertCloseAsync(y, Array.from(await expected.data()), 1e-4, 2e-5, 'vs tfjs');
      }));
  });
}

describe('st.image.scaleAndTranslate: gradients and errors (reference backend)', () => {
  it('float64 finite differences', () =>
    withBackend('reference', () =>
      checkGradient((x) => st.image.scaleAndTranslate(x, [1, 4, 7, 2], [0.8, 1.3], [0.3, -0.2], [1, 2], 'lanczos3'), [rt([1, 5, 6, 2], 2)], {
        what: 'scaleAndTranslate',
        rtol: 1e-6,
        atol: 1e-8,
      }),
    ));
  it('errors name what was expected and what was received', () => {
    const x = st.zeros([1, 4, 4, 1]);
    throwsWith(() => st.image.scaleAndTranslate(x, [1, 2, 2], [1, 1], [0, 0], [1, 2], 'linear'), st.ShapeError, /outputShape must list 4 sizes/);
    throwsWith(() => st.image.scaleAndTranslate(x, [1, 2, 2, 1], [1], [0, 0], [1, 2], 'linear'), st.ValueError, /one entry per spatial dim/);
    throwsWith(() => st.image.scaleAndTranslate(x, [1, 2, 2, 1], [1, 1], [0, 0], [1, 2], 'area' as 'linear'), st.ValueError, /method/);
    throwsWith(
      () => st.image.scaleAndTranslate(st.zeros([1, 4, 4, 1], 'int32'), [1, 2, 2, 1], [1, 1], [0, 0], [1, 2], 'linear'),
      st.DtypeError,
      /must be float/,
    );
  });
});
