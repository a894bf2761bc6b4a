// st.image.sobelEdges and st.image.ssim against test/fixtures/image-quality.json
// (scripts/make_image_quality_fixtures.py: PyTorch 1.13 written to Keras 3.15's definitions) on
// every backend in float32 and on the reference backend in float64, channels last and first;
// float64 finite differences; the errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fixtureRuns, loadFixture } from './fixture-harness.js';
import { rt } from './grad-check.js';
import { assertCloseAsync, checkGradient, throwsWith, withBackend, withBackendAsync } from './helpers.js';

interface Case {
  op: 'sobelEdges' | 'ssim';
  name: string;
  options: Record<string, unknown>;
  shape: number[];
  input: number[];
  input2?: number[];
  outShape: number[];
  output: number[];
}
const { cases } = loadFixture<Case>('image-quality.json');
const runs = await fixtureRuns();

for (const run of runs) {
  describe(`st.image sobelEdges and ssim on ${run.backend} (${run.dtype})`, () => {
    for (const c of cases) {
      it(c.name, () =>
        withBackendAsync(run.backend, async () => {
          const x = st.tensor(c.input, c.shape, run.dtype);
          const expected = st.tensor(c.output, c.outShape, run.dtype);
          if (c.op === 'sobelEdges') {
            await assertCloseAsync(st.image.sobelEdges(x), expected, run.rtol, run.atol, c.name);
            const first = st.image.sobelEdges(st.transpose(x, [0, 3, 1, 2]), { dataFormat: 'channels_first' });
            await assertCloseAsync(st.transpose(first, [0, 2, 3, 1, 4]), expected, run.rtol, run.atol, `${c.name} channels_first`);
            return;
          }
          const y = st.tensor(c.input2!, c.shape, run.dtype);
          await assertCloseAsync(st.image.ssim(x, y, c.options), expected, run.rtol, run.atol, c.name);
          const first = st.image.ssim(st.transpose(x, [0, 3, 1, 2]), st.transpose(y, [0, 3, 1, 2]), { ...c.options, dataFormat: 'channels_first' });
          await assertCloseAsync(first, expected, run.rtol, run.atol, `${c.name} channels_first`);
          // One image of rank 3 gives a scalar.
          const one = st.image.ssim(
            st.reshape(st.slice(x, [1, 0, 0, 0], [1, ...c.shape.slice(1)]), c.shape.slice(1)),
            st.reshape(st.slice(y, [1, 0, 0, 0], [1, ...c.shape.slice(1)]), c.shape.slice(1)),
            c.options,
          );
          assert.deepEqual([...one.shape], []);
          await assertCloseAsync(one, [c.output[1]], run.rtol, run.atol, `${c.name} rank 3`);
          // An image is fully similar to itself.
          await assertCloseAsync(st.image.ssim(x, x, c.options), [1, 1], 1e-5, 1e-6, `${c.name} self`);
        }),
      );
    }
  });
}

describe('st.image sobelEdges and ssim: gradients and errors (reference backend)', () => {
  it('float64 finite differences: sobelEdges', () =>
    withBackend('reference', () =>
      checkGradient((x) => st.image.sobelEdges(x), [rt([1, 4, 5, 2], 1)], { what: 'sobelEdges', rtol: 1e-6, atol: 1e-8 }),
    ));
  it('float64 finite differences: ssim in both images', () =>
    withBackend('reference', () =>
      checkGradient((a, b) => st.image.ssim(a, b, { filterSize: 3, filterSigma: 0.9 }), [rt([2, 5, 6, 2], 2, 0, 1), rt([2, 5, 6, 2], 3, 0, 1)], {
        what: 'ssim',
        rtol: 1e-6,
        atol: 1e-8,
      }),
    ));
  it('errors name what was expected and what was received', () => {
    throwsWith(() => st.image.ssim(st.zeros([1, 8, 8, 1]), st.zeros([1, 8, 8, 1])), st.ShapeError, /at least 11 x 11/);
    throwsWith(() => st.image.ssim(st.zeros([1, 12, 12, 1]), st.zeros([1, 12, 12, 2])), st.ShapeError, /image2 must have image1's shape/);
    throwsWith(() => st.image.sobelEdges(st.zeros([4, 4, 1])), st.ShapeError, /rank 4/);
  });
});
