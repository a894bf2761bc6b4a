// Keras 3.16's MixUp and CutMix (keras/src/layers/preprocessing/image_preprocessing/mix_up.py,
// cut_mix.py): images and labels against the layers' definitions evaluated on the host with the
// same draws (a seeded layer's k-th training call draws st.randomUniform([rows, perRow],
// {seed: seed + k}); the Betas come from st.randomGamma with the seed drawn there), on every
// backend; labels beside the images as apply([images, labels]); identity at inference.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fixtureRuns } from './fixture-harness.js';
import { assertCloseAsync, randomValues, throwsWith, withBackendAsync } from './helpers.js';

const N = 5,
  H = 6,
  W = 8,
  C = 2,
  K = 3;
const PIXELS = randomValues(N * H * W * C, 81, 0, 255).map(Math.fround);
const LABELS = Array.from({ length: N * K }, (_, i) => (i % K === Math.floor(i / K) % K ? 1 : 0));
const runs = (await fixtureRuns({ rtol: 1e-5, atol: 1e-3 })).filter((r) => r.dtype === 'float32');

const order = (keys: number[]) => keys.map((_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);

async function betas(n: number, a: number, seed: number): Promise<number[]> {
  const g = Array.from(await st.randomGamma([2 * n], a, 1, 'float32', seed).data());
  return Array.from({ length: n }, (_, i) => g[i] / (g[i] + g[n + i]));
}

const per = (size: number, f: (b: number, k: number) => number) => Array.from({ length: N * size }, (_, i) => f(Math.floor(i / size), i % size));

describe('MixUp and CutMix mix images and labels as Keras does', () => {
  for (const run of runs) {
    it(`${run.backend}: mixUp blends each image and label with a permuted partner`, () =>
      withBackendAsync(run.backend, async () => {
        const u = Array.from(await st.randomUniform([N, 2], { seed: 90 }).data());
        const p = order(Array.from({ length: N }, (_, i) => u[2 * i]));
        const m = await betas(N, 0.4, Math.floor(u[1] * 2 ** 31));
        const size = H * W * C;
        const images = per(size, (b, k) => m[b] * PIXELS[b * size + k] + (1 - m[b]) * PIXELS[p[b] * size + k]);
        const labels = per(K, (b, k) => m[b] * LABELS[b * K + k] + (1 - m[b]) * LABELS[p[b] * K + k]);
        const layer = st.layers.mixUp({ alpha: 0.4, seed: 90 });
        const out = layer.apply([st.tensor(PIXELS, [N, H, W, C]), st.tensor(LABELS, [N, K])], { training: true }) as unknown as st.Tensor[];
        assert.equal(out.length, 2);
        await assertCloseAsync(out[0], images, run.rtol, run.atol, 'mixUp images');
        await assertCloseAsync(out[1], labels, run.rtol, 1e-6, 'mixUp labels');
        assert.notDeepEqual(labels, LABELS, 'the labels are mixed');
        const alone = st.layers.mixUp({ alpha: 0.4, seed: 90 }).apply(st.tensor(PIXELS, [N, H, W, C]), { training: true });
        await assertCloseAsync(alone, images, run.rtol, run.atol, 'images alone');
      }));

    it(`${run.backend}: cutMix pastes a box of the partner and weights labels by area`, () =>
      withBackendAsync(run.backend, async () => {
        const u = Array.from(await st.randomUniform([N + 1, 3], { seed: 91 }).data());
        const p = order(Array.from({ length: N }, (_, i) => u[3 * i]));
        const a = 0.2 + 0.6 * u[3 * N] + 1e-6;
        const lambda = await betas(N, a, Math.floor(u[3 * N + 1] * 2 ** 31));
        const size = H * W * C;
        const images = per(size, (b, k) => {
          const r = Math.sqrt(1 - lambda[b]);
          const x0 = u[3 * b + 1] * (W - r * W),
            y0 = u[3 * b + 2] * (H - r * H);
          const y = Math.floor(k / (W * C)),
            x = Math.floor(k / C) % W;
          const inside = x >= x0 && x < x0 + r * W && y >= y0 && y < y0 + r * H;
          return PIXELS[(inside ? p[b] : b) * size + k];
        });
        const labels = per(K, (b, k) => lambda[b] * LABELS[b * K + k] + (1 - lambda[b]) * LABELS[p[b] * K + k]);
        assert.notDeepEqual(images, PIXELS, 'some boxes are pasted');
        const layer = st.layers.cutMix({ factor: [0.2, 0.8], seed: 91 });
        const out = layer.apply([st.tensor(PIXELS, [N, H, W, C]), st.tensor(LABELS, [N, K])], { training: true }) as unknown as st.Tensor[];
        await assertCloseAsync(out[0], images, 0, 0, 'cutMix images');
        await assertCloseAsync(out[1], labels, run.rtol, 1e-6, 'cutMix labels');
      }));
  }

  it('inference and one image pass through; configs round trip; bad labels refused', async () => {
    const x = st.tensor(PIXELS, [N, H, W, C]);
    const y = st.tensor(LABELS, [N, K]);
    for (const layer of [st.layers.mixUp({ seed: 1 }), st.layers.cutMix({ factor: 0.5 })]) {
      const [xi, yi] = layer.apply([x, y]) as unknown as st.Tensor[];
      await assertCloseAsync(xi, PIXELS, 0, 0, 'inference images');
      await assertCloseAsync(yi, LABELS, 0, 0, 'inference labels');
      const image = st.tensor(PIXELS.slice(0, H * W * C), [H, W, C]);
      const [one, label] = layer.apply([image, st.tensor([0, 1, 0])], { training: true }) as unknown as st.Tensor[];
      await assertCloseAsync(one, PIXELS.slice(0, H * W * C), 0, 0, 'one image');
      await assertCloseAsync(label, [0, 1, 0], 0, 0, 'its label');
      const copy = st.layers.deserialize(JSON.parse(JSON.stringify(st.layers.serialize(layer))));
      assert.deepEqual(copy.getConfig(), layer.getConfig());
      throwsWith(() => layer.apply([x, st.tensor([0, 1, 2, 0, 1], [N], 'int32')], { training: true }), st.DtypeError, /labels must be floating/);
      throwsWith(() => layer.apply([x, st.ones([N - 1, K])], { training: true }), st.ShapeError, /one row per image/);
    }
    throwsWith(() => st.layers.mixUp({ alpha: 0 }), st.ValueError, /alpha must be a positive number/);
    throwsWith(() => st.layers.cutMix({ factor: 3 }), st.ValueError, /factor must be a number or a pair/);
  });
});
