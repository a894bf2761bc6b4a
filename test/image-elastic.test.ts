// st.image.elasticTransform: its displacement fields are Keras 3.15's (white noise smoothed by
// st.image.gaussianBlur, itself checked against PyTorch in image-geometry.test.ts, and scaled by
// alpha), and the distortion samples each image exactly as st.image.mapCoordinates (checked
// against PyTorch's grid_sample in image-warp.test.ts) does at those coordinates; on every
// backend in float32 and on the reference backend in float64; float64 finite differences.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { elasticFields } from '../src/nn/image/elastic.js';
import { fixtureRuns } from './fixture-harness.js';
import { rt } from './grad-check.js';
import { assertCloseAsync, checkGradient, randomValues, throwsWith, withBackend, withBackendAsync } from './helpers.js';

const runs = await fixtureRuns();
const [N, H, W, C] = [2, 9, 8, 2];
const OPTIONS = { alpha: 4, sigma: 1.3, seed: 11 };

for (const run of runs) {
  describe(`st.image.elasticTransform on ${run.backend} (${run.dtype})`, () => {
    for (const [interpolation, fillMode] of [
      ['bilinear', 'reflect'],
      ['bilinear', 'constant'],
      ['nearest', 'mirror'],
      ['bilinear', 'wrap'],
    ] as const) {
      it(`samples as mapCoordinates at the fields' coordinates (${interpolation}, ${fillMode})`, () =>
        withBackendAsync(run.backend, async () => {
          const v = randomValues(N * H * W * C, 3, 0, 1);
          const x = st.tensor(v, [N, H, W, C], run.dtype);
          const y = st.image.elasticTransform(x, { ...OPTIONS, interpolation, fillMode, fillValue: 0.5 });
          const { dy, dx } = elasticFields(N, H, W, OPTIONS.alpha, OPTIONS.sigma, OPTIONS.seed);
          for (let b = 0; b < N; b++) {
            const rows: number[][] = [],
              cols: number[][] = [];
            for (let i = 0; i < H; i++) {
              rows.push(Array.from({ length: W }, (_, j) => i + dy[(b * H + i) * W + j]));
              cols.push(Array.from({ length: W }, (_, j) => j + dx[(b * H + i) * W + j]));
            }
            for (let ch = 0; ch < C; ch++) {
              const plane = st.reshape(st.slice(x, [b, 0, 0, ch], [1, H, W, 1]), [H, W]);
              const expected = st.image.mapCoordinates(plane, [rows, cols], interpolation === 'bilinear' ? 1 : 0, { fillMode, fillValue: 0.5 });
              await assertCloseAsync(st.reshape(st.slice(y, [b, 0, 0, ch], [1, H, W, 1]), [H, W]), expected, 1e-6, 1e-7, `image ${b} channel ${ch}`);
            }
          }
        }));
    }
    it('alpha 0 leaves the images; channels first moves the same pixels', () =>
      withBackendAsync(run.backend, async () => {
        const x = st.tensor(randomValues(N * H * W * C, 4, 0, 1), [N, H, W, C], run.dtype);
        await assertCloseAsync(st.image.elasticTransform(x, { alpha: 0, seed: 1 }), x, 1e-6, 1e-7, 'alpha 0');
        const first = st.image.elasticTransform(st.transpose(x, [0, 3, 1, 2]), { ...OPTIONS, dataFormat: 'channels_first' });
        await assertCloseAsync(st.transpose(first, [0, 2, 3, 1]), st.image.elasticTransform(x, OPTIONS), 1e-6, 1e-7, 'channels_first');
      }));
  });
}

describe('st.image.elasticTransform: the fields, gradients and errors (reference backend)', () => {
  it('the fields are the noise blurred by gaussianBlur (kernel int(6σ) | 1) and scaled by alpha', () =>
    withBackend('reference', () => {
      const { dy, dx, noise } = elasticFields(N, H, W, OPTIONS.alpha, OPTIONS.sigma, OPTIONS.seed);
      const size = Math.trunc(6 * OPTIONS.sigma) | 1;
      assert.equal(size, 7);
      const blurred = st.image.gaussianBlur(st.tensor(Array.from(noise), [2 * N, H, W, 1], 'float64'), { kernelSize: size, sigma: OPTIONS.sigma });
      const expected = Array.from(blurred.dataSync(), (v) => v * OPTIONS.alpha);
      const actual = [...dx, ...dy];
      for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) < 1e-12, `field value ${i}`);
      // White noise of standard deviation sigma before smoothing.
      const sd = Math.sqrt(noise.reduce((a, v) => a + v * v, 0) / noise.length);
      assert.ok(Math.abs(sd - OPTIONS.sigma) < 0.25 * OPTIONS.sigma, `noise sd ${sd}`);
    }));
  it('float64 finite differences', () =>
    withBackend('reference', () =>
      checkGradient((x) => st.image.elasticTransform(x, { ...OPTIONS, fillMode: 'constant', fillValue: 0.2 }), [rt([1, 6, 5, 2], 5)], {
        what: 'elasticTransform',
        rtol: 1e-6,
        atol: 1e-8,
      }),
    ));
  it('errors name what was expected and what was received', () => {
    const x = st.zeros([1, 4, 4, 1]);
    throwsWith(() => st.image.elasticTransform(x, { sigma: 0 }), st.ValueError, /sigma must be positive/);
    throwsWith(() => st.image.elasticTransform(x, { fillMode: 'edge' as 'wrap' }), st.ValueError, /fillMode/);
  });
});
