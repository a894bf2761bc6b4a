// Keras 3.16's Equalization (keras/src/layers/preprocessing/image_preprocessing/equalization.py):
// the output against the layer's definition evaluated on the host per image and channel, on every
// backend, with a constant channel and a range other than [0, 255]; config round trip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fixtureRuns } from './fixture-harness.js';
import { assertCloseAsync, randomValues, throwsWith, withBackendAsync } from './helpers.js';

const N = 3,
  H = 5,
  W = 6,
  C = 2;

/** Keras's equalization of one channel's values on the 0..255 scale. */
function equalizeChannel(values: number[], bins: number): number[] {
  const bin = (v: number) => Math.min(Math.max(Math.trunc((v * (bins - 1)) / 255), 0), bins - 1);
  const hist = new Array<number>(bins).fill(0);
  for (const v of values) hist[bin(v)]++;
  if (hist.filter((h) => h > 0).length <= 1) return values;
  const cdf: number[] = [];
  hist.reduce((acc, h, i) => (cdf[i] = acc + h), 0);
  const cdfMin = cdf.find((v) => v > 0) as number;
  const denominator = cdf[bins - 1] - cdfMin || 1;
  // Python's round: halves to even.
  const roundEven = (x: number) => {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };
  return values.map((v) => Math.min(Math.max(roundEven(((cdf[bin(v)] - cdfMin) * 255) / denominator), 0), 255));
}

/** Equalizes [N, H, W, C] values in [lo, hi] per image and channel. */
function equalize(values: number[], bins: number, [lo, hi]: [number, number]): number[] {
  const out = values.slice();
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const at = Array.from({ length: H * W }, (_, p) => (n * H * W + p) * C + c);
      const eq = equalizeChannel(
        at.map((i) => ((values[i] - lo) * 255) / (hi - lo)),
        bins,
      );
      at.forEach((i, k) => {
        out[i] = (eq[k] * (hi - lo)) / 255 + lo;
      });
    }
  return out;
}

const runs = (await fixtureRuns({ rtol: 1e-5, atol: 1e-3 })).filter((r) => r.dtype === 'float32');

describe("Equalization follows Keras's definition per image and channel", () => {
  // Image 0 crowds its values into a narrow band (so equalization spreads them); channel 1 of
  // image 2 is constant (left as it is).
  const pixels = randomValues(N * H * W * C, 31, 0, 255)
    .map((v, i) => (i < H * W * C ? 100 + v / 10 : v))
    .map((v, i) => (Math.floor(i / (H * W * C)) === 2 && i % C === 1 ? 77 : v))
    .map(Math.fround);
  for (const run of runs) {
    it(`${run.backend}: 256 bins on [0, 255], 16 bins on [-1, 1]`, () =>
      withBackendAsync(run.backend, async () => {
        const expected = equalize(pixels, 256, [0, 255]);
        assert.notDeepEqual(expected, pixels);
        await assertCloseAsync(st.layers.equalization().apply(st.tensor(pixels, [N, H, W, C])), expected, run.rtol, run.atol, '256 bins');
        const scaled = pixels.map((v) => Math.fround(v / 127.5 - 1));
        await assertCloseAsync(
          st.layers.equalization({ valueRange: [-1, 1], bins: 16 }).apply(st.tensor(scaled, [N, H, W, C])),
          equalize(scaled, 16, [-1, 1]),
          run.rtol,
          1e-5,
          '16 bins',
        );
      }));
  }

  it('one image at a time gives the batch result; config round trips; bad options refused', async () => {
    const pixels = randomValues(N * H * W * C, 5, 0, 255).map(Math.fround);
    const layer = st.layers.equalization({ bins: 64 });
    const batch = await layer.apply(st.tensor(pixels, [N, H, W, C])).data();
    const one = layer.apply(st.tensor(pixels.slice(0, H * W * C), [H, W, C]));
    assert.deepEqual(one.shape, [H, W, C]);
    await assertCloseAsync(one, Array.from(batch.slice(0, H * W * C)), 0, 0, 'first image alone');
    // 96·96·2 values: the histogram is counted in two chunks of bin values.
    const big = randomValues(96 * 96 * 2, 9, 0, 255).map((v) => Math.fround(v * 0.6 + 40));
    const bigOut = st.layers.equalization().apply(st.tensor(big, [96, 96, 2]));
    const expectedBig = big.slice();
    for (let c = 0; c < 2; c++) {
      const eq = equalizeChannel(
        big.filter((_, i) => i % 2 === c),
        256,
      );
      eq.forEach((v, k) => {
        expectedBig[2 * k + c] = v;
      });
    }
    await assertCloseAsync(bigOut, expectedBig, 1e-5, 1e-3, 'chunked histogram');
    const copy = st.layers.deserialize(JSON.parse(JSON.stringify(st.layers.serialize(layer))));
    assert.deepEqual(copy.getConfig(), layer.getConfig());
    throwsWith(() => st.layers.equalization({ bins: 1 }), st.ValueError, /bins must be an integer >= 2; received 1/);
    throwsWith(() => st.layers.equalization({ valueRange: [3, 3] }), st.ValueError, /valueRange must be two different/);
  });
});
