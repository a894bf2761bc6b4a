// Keras 3.16's RandomElasticTransform (keras/src/layers/preprocessing/image_preprocessing/
// random_elastic_transform.py): the layer against st.image.elasticTransform (itself checked to
// replay Keras's gaussian_blur and map_coordinates) with the alpha, sigma and pick Keras's rule
// makes from the same draws (a seeded layer's k-th training call draws
// st.randomUniform([images + 1, 2], {seed: seed + k})), on every backend; config round trip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fixtureRuns } from './fixture-harness.js';
import { assertCloseAsync, randomValues, throwsWith, withBackendAsync } from './helpers.js';

const N = 4,
  H = 12,
  W = 10,
  C = 2;
const PIXELS = randomValues(N * H * W * C, 61, 0, 255).map(Math.fround);
const runs = (await fixtureRuns({ rtol: 1e-4, atol: 1e-2 })).filter((r) => r.dtype === 'float32');

describe("RandomElasticTransform follows Keras's definition", () => {
  for (const run of runs) {
    it(`${run.backend}: alpha 0.1·d·max(H, W), sigma 0.05·d·min(H, W), d per batch, picked images only`, () =>
      withBackendAsync(run.backend, async () => {
        const x = st.tensor(PIXELS, [N, H, W, C]);
        const u = Array.from(await st.randomUniform([N + 1, 2], { seed: 17 }).data());
        const d = 0.5 + 0.5 * u[2 * N];
        const picked = Array.from({ length: N }, (_, i) => u[2 * i + 1] < 0.3 + 0.7 * u[2 * i]);
        assert.ok(picked.some((p) => p) && picked.some((p) => !p), 'the draws distort some images and keep others');
        const distorted = await st.image
          .elasticTransform(x, {
            alpha: 0.1 * d * 12,
            sigma: 0.05 * d * 10,
            fillMode: 'constant',
            fillValue: 300,
            seed: Math.floor(u[2 * N + 1] * 2 ** 31),
          })
          .data();
        const expected = PIXELS.map((v, i) => (picked[Math.floor(i / (H * W * C))] ? Math.min(distorted[i], 255) : v));
        assert.notDeepEqual(expected, PIXELS, 'the distortion moves pixels');
        const layer = st.layers.randomElasticTransform({ factor: [0.3, 1], scale: [0.5, 1], fillMode: 'constant', fillValue: 300, seed: 17 });
        await assertCloseAsync(layer.apply(x, { training: true }), expected, run.rtol, run.atol, 'randomElasticTransform');
        await assertCloseAsync(layer.apply(x), PIXELS, 0, 0, 'inference passes images through');
      }));
  }

  it('scale 0 keeps images; one image at a time; config round trips; bad options refused', async () => {
    const x = st.tensor(PIXELS, [N, H, W, C]);
    await assertCloseAsync(st.layers.randomElasticTransform({ scale: 0, seed: 1 }).apply(x, { training: true }), PIXELS, 0, 0, 'scale 0');
    const image = st.tensor(PIXELS.slice(0, H * W * C), [H, W, C]);
    assert.deepEqual(st.layers.randomElasticTransform({ seed: 2 }).apply(image, { training: true }).shape, [H, W, C]);
    const layer = st.layers.randomElasticTransform({
      factor: 0.5,
      scale: [0.2, 0.4],
      interpolation: 'nearest',
      fillMode: 'mirror',
      valueRange: [0, 1],
      seed: 4,
    });
    const copy = st.layers.deserialize(JSON.parse(JSON.stringify(st.layers.serialize(layer))));
    assert.deepEqual(copy.getConfig(), layer.getConfig());
    throwsWith(() => st.layers.randomElasticTransform({ scale: 2 }), st.ValueError, /scale must be a number or a pair of numbers in \[0, 1\]/);
    throwsWith(() => st.layers.randomElasticTransform({ fillMode: 'edge' as never }), st.ValueError, /fillMode/);
  });
});
