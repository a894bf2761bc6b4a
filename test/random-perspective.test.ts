// Keras 3.16's RandomPerspective (keras/src/layers/preprocessing/image_preprocessing/
// random_perspective.py): the layer against st.image.perspectiveTransform (itself checked against
// tfjs's transform) applied to the corners Keras's rule makes from the same draws (a seeded layer's
// k-th training call draws st.randomUniform([images, 10], {seed: seed + k})), on every backend;
// identity at inference and for the images not picked; config round trip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fixtureRuns } from './fixture-harness.js';
import { assertCloseAsync, randomValues, throwsWith, withBackendAsync } from './helpers.js';

const N = 4,
  H = 6,
  W = 7,
  C = 2;
const PIXELS = randomValues(N * H * W * C, 41, 0, 255).map(Math.fround);
const runs = (await fixtureRuns({ rtol: 1e-4, atol: 1e-2 })).filter((r) => r.dtype === 'float32');

describe("RandomPerspective follows Keras's definition", () => {
  for (const run of runs) {
    it(`${run.backend}: corners moved by c·f, f from [-scale/2, scale/2], for the images picked`, () =>
      withBackendAsync(run.backend, async () => {
        const x = st.tensor(PIXELS, [N, H, W, C]);
        const u = Array.from(await st.randomUniform([N, 10], { seed: 21 }).data());
        const start = [
          [0, 0],
          [W - 1, 0],
          [0, H - 1],
          [W - 1, H - 1],
        ];
        const picked = Array.from({ length: N }, (_, b) => u[10 * b + 1] < 0.2 + 0.8 * u[10 * b]);
        assert.ok(picked.some((p) => p) && picked.some((p) => !p), 'the draws warp some images and keep others');
        const expected: number[] = [];
        for (let b = 0; b < N; b++) {
          const own = PIXELS.slice(b * H * W * C, (b + 1) * H * W * C);
          if (!picked[b]) {
            expected.push(...own);
            continue;
          }
          const end = start.map(([px, py], k) => [px + px * 0.6 * (u[10 * b + 2 + 2 * k] - 0.5), py + py * 0.6 * (u[10 * b + 3 + 2 * k] - 0.5)]);
          const one = st.image.perspectiveTransform(st.tensor(own, [H, W, C]), start, end, { fillValue: 9 });
          expected.push(...Array.from(await one.data()));
        }
        assert.notDeepEqual(expected, PIXELS, 'the warp moves pixels');
        const layer = st.layers.randomPerspective({ factor: [0.2, 1], scale: 0.6, fillValue: 9, seed: 21 });
        await assertCloseAsync(layer.apply(x, { training: true }), expected, run.rtol, run.atol, 'randomPerspective');
        await assertCloseAsync(st.layers.randomPerspective().apply(x), PIXELS, 0, 0, 'inference passes images through');
      }));
  }

  it('scale 0 keeps images; one image at a time; config round trips; bad options refused', async () => {
    const x = st.tensor(PIXELS, [N, H, W, C]);
    await assertCloseAsync(st.layers.randomPerspective({ scale: 0, seed: 1 }).apply(x, { training: true }), PIXELS, 1e-5, 1e-3, 'scale 0');
    const image = st.tensor(PIXELS.slice(0, H * W * C), [H, W, C]);
    assert.deepEqual(st.layers.randomPerspective({ seed: 2 }).apply(image, { training: true }).shape, [H, W, C]);
    const layer = st.layers.randomPerspective({ factor: 0.5, scale: 0.3, interpolation: 'nearest', fillValue: 1, seed: 4 });
    const copy = st.layers.deserialize(JSON.parse(JSON.stringify(st.layers.serialize(layer))));
    assert.deepEqual(copy.getConfig(), layer.getConfig());
    assert.deepEqual(layer.factor, [0, 0.5]);
    throwsWith(() => st.layers.randomPerspective({ scale: 1.5 }), st.ValueError, /scale must be a number in \[0, 1\]; received 1.5/);
    throwsWith(() => st.layers.randomPerspective({ factor: [0.5, 2] }), st.ValueError, /factor must be a number or a pair of numbers in \[0, 1\]/);
  });
});
