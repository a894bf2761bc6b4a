// Keras 3.16's RandAugment and AugMix (keras/src/layers/preprocessing/image_preprocessing/
// rand_augment.py, aug_mix.py) as compositions: the layer against its ops (each checked against
// its own Keras definition elsewhere) replayed in the order Keras's draws pick, with the same
// seeds, on every backend; identity at inference; configs round trip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { POLICY_OPS, RAND_AUGMENT_ORDER, policyLayers } from '../src/nn/layers/augmentation-policies.js';
import { fixtureRuns } from './fixture-harness.js';
import { assertCloseAsync, randomValues, throwsWith, withBackendAsync } from './helpers.js';

const N = 2,
  H = 6,
  W = 5,
  C = 3;
const PIXELS = randomValues(N * H * W * C, 51, 0, 255).map(Math.fround);
const runs = (await fixtureRuns({ rtol: 1e-4, atol: 2e-2 })).filter((r) => r.dtype === 'float32');

async function draws(seed: number, count: number): Promise<number[]> {
  return Array.from(await st.randomUniform([1, count], { seed }).data());
}

describe('RandAugment and AugMix apply the ops Keras picks', () => {
  for (const run of runs) {
    it(`${run.backend}: randAugment applies numOps picked ops in turn`, () =>
      withBackendAsync(run.backend, async () => {
        const x = st.tensor(PIXELS, [N, H, W, C]);
        const u = await draws(30, 4);
        const picks = u.map((v) => RAND_AUGMENT_ORDER[Math.floor(v * 11)]);
        const replay = policyLayers([0, 0.5], [0, 255], 'bilinear', 30);
        let expected = x;
        for (const p of picks) expected = replay[p].apply(expected, { training: true }) as st.Tensor;
        const layer = st.layers.randAugment({ numOps: 4, seed: 30 });
        const y = layer.apply(x, { training: true });
        await assertCloseAsync(y, expected, run.rtol, run.atol, `ops ${picks.map((p) => POLICY_OPS[p]).join(', ')}`);
        assert.notDeepEqual(Array.from(await y.data()), PIXELS, 'the ops change the images');
        await assertCloseAsync(layer.apply(x), PIXELS, 0, 0, 'inference passes images through');
      }));

    it(`${run.backend}: augMix mixes Dirichlet-weighted chains with the input by a Beta weight`, () =>
      withBackendAsync(run.backend, async () => {
        const x = st.tensor(PIXELS, [N, H, W, C]);
        const chains = 2,
          depth = 3;
        const u = await draws(40, 2 + chains * depth);
        const g = Array.from(await st.randomGamma([chains + 2], 0.8, 1, 'float32', Math.floor(u[0] * 2 ** 31)).data());
        const total = g[0] + g[1];
        const m = g[2] / (g[2] + g[3]);
        const replay = policyLayers([0, 0.3], [0, 255], 'bilinear', 40).slice(0, 7);
        const mixed = new Array<number>(PIXELS.length).fill(0);
        let applied = 0;
        for (let k = 0; k < chains; k++) {
          let chain = x;
          for (let d = 0; d < depth; d++) {
            const pick = Math.floor(u[2 + k * depth + d] * 8);
            if (pick < 7) {
              chain = replay[pick].apply(chain, { training: true }) as st.Tensor;
              applied++;
            }
          }
          const values = await chain.data();
          values.forEach((v, i) => {
            mixed[i] += (v * g[k]) / total;
          });
        }
        assert.ok(applied > 0, 'the picks apply some ops');
        const expected = PIXELS.map((v, i) => Math.min(Math.max(m * v + (1 - m) * mixed[i], 0), 255));
        const layer = st.layers.augMix({ numChains: chains, chainDepth: depth, alpha: 0.8, allOps: false, seed: 40 });
        await assertCloseAsync(layer.apply(x, { training: true }), expected, run.rtol, run.atol, 'augMix');
        await assertCloseAsync(layer.apply(x), PIXELS, 0, 0, 'inference passes images through');
      }));
  }

  it('configs round trip; bad options refused', () => {
    for (const layer of [
      st.layers.randAugment({ numOps: 3, factor: [0.1, 0.4], valueRange: [0, 1], interpolation: 'nearest', seed: 2 }),
      st.layers.augMix({ numChains: 2, chainDepth: 1, factor: 0.2, alpha: 0.5, allOps: false }),
    ]) {
      const copy = st.layers.deserialize(JSON.parse(JSON.stringify(st.layers.serialize(layer))));
      assert.deepEqual(copy.getConfig(), layer.getConfig(), layer.className);
    }
    assert.deepEqual(st.layers.randAugment().factor, [0, 0.5]);
    throwsWith(() => st.layers.randAugment({ factor: 2 }), st.ValueError, /factor must be a number or a pair of numbers in \[0, 1\]/);
    throwsWith(() => st.layers.augMix({ numChains: 0 }), st.ValueError, /numChains must be an integer >= 1; received 0/);
    throwsWith(() => st.layers.augMix({ alpha: -1 }), st.ValueError, /alpha must be a positive number/);
  });
});
