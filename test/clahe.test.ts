// Keras 3.16's ContrastLimitedAdaptiveHistogramEqualization (keras/src/layers/preprocessing/
// image_preprocessing/clahe.py): the output against the layer's definition written out here
// pixel by pixel on the host (symmetric padding to whole tiles, clipped tile histograms, lookup
// tables blended bilinearly between tile centres), on every backend; config round trip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fixtureRuns } from './fixture-harness.js';
import { assertCloseAsync, randomValues, throwsWith, withBackendAsync } from './helpers.js';

/** CLAHE of [n, h, w, c] values on the 0..255 scale. */
function clahe(values: number[], [n, h, w, c]: number[], [gh, gw]: [number, number], clipLimit: number): number[] {
  const th = Math.ceil(h / gh),
    tw = Math.ceil(w / gw);
  const reflect = (i: number, size: number) => (i < size ? i : 2 * size - 1 - i);
  const at = (b: number, y: number, x: number, ch: number) => values[((b * h + reflect(y, h)) * w + reflect(x, w)) * c + ch];
  const byte = (v: number) => Math.min(Math.max(Math.trunc(v), 0), 255);
  const tables = new Map<string, number[]>();
  for (let b = 0; b < n; b++)
    for (let ty = 0; ty < gh; ty++)
      for (let tx = 0; tx < gw; tx++)
        for (let ch = 0; ch < c; ch++) {
          let hist = new Array<number>(256).fill(0);
          for (let y = ty * th; y < (ty + 1) * th; y++) for (let x = tx * tw; x < (tx + 1) * tw; x++) hist[byte(at(b, y, x, ch))]++;
          if (clipLimit > 0) {
            const limit = (clipLimit * th * tw) / 256;
            const excess = hist.reduce((s, v) => s + Math.max(v - limit, 0), 0);
            hist = hist.map((v) => Math.min(v, limit) + excess / 256);
          }
          const cdf: number[] = [];
          hist.reduce((s, v, i) => (cdf[i] = s + v), 0);
          const spread = th * tw - cdf[0] || 1;
          tables.set(
            `${b},${ty},${tx},${ch}`,
            cdf.map((v) => Math.min(Math.max(((v - cdf[0]) * 255) / spread, 0), 255)),
          );
        }
  const table = (b: number, gy: number, gx: number, ch: number) =>
    tables.get(`${b},${Math.min(Math.max(gy - 1, 0), gh - 1)},${Math.min(Math.max(gx - 1, 0), gw - 1)},${ch}`) as number[];
  const out: number[] = [];
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++) {
          const gy = (y - th / 2) / th + 1,
            gx = (x - tw / 2) / tw + 1;
          const y0 = Math.floor(gy),
            x0 = Math.floor(gx);
          const wy = gy - y0,
            wx = gx - x0;
          const cy = (v: number) => Math.min(Math.max(v, 0), gh + 1),
            cx = (v: number) => Math.min(Math.max(v, 0), gw + 1);
          const p = byte(at(b, y, x, ch));
          const v = (yy: number, xx: number) => table(b, cy(yy), cx(xx), ch)[p];
          const top = v(y0, x0) * (1 - wx) + v(y0, x0 + 1) * wx,
            bottom = v(y0 + 1, x0) * (1 - wx) + v(y0 + 1, x0 + 1) * wx;
          out.push(top * (1 - wy) + bottom * wy);
        }
  return out;
}

const runs = (await fixtureRuns({ rtol: 1e-4, atol: 2e-3 })).filter((r) => r.dtype === 'float32');

describe("ContrastLimitedAdaptiveHistogramEqualization follows Keras's definition", () => {
  const shape = [2, 13, 10, 2];
  // A narrow band of values, so the tables stretch them and the clip limit matters.
  const pixels = randomValues(2 * 13 * 10 * 2, 71, 60, 140).map(Math.fround);
  for (const run of runs) {
    it(`${run.backend}: 3x2 tiles with padding and clip limit 2; 2x2 tiles unclipped on [0, 1]`, () =>
      withBackendAsync(run.backend, async () => {
        const expected = clahe(pixels, shape, [3, 2], 2);
        const layer = st.layers.contrastLimitedAdaptiveHistogramEqualization({ clipLimit: 2, tileGridSize: [3, 2] });
        await assertCloseAsync(layer.apply(st.tensor(pixels, shape)), expected, run.rtol, run.atol, 'clip 2');
        const unit = pixels.map((v) => Math.fround(v / 255));
        const plain = clahe(
          unit.map((v) => v * 255),
          shape,
          [2, 2],
          0,
        ).map((v) => v / 255);
        const y = st.layers
          .contrastLimitedAdaptiveHistogramEqualization({ clipLimit: 0, tileGridSize: [2, 2], valueRange: [0, 1] })
          .apply(st.tensor(unit, shape));
        await assertCloseAsync(y, plain, run.rtol, 1e-5, 'unclipped');
        const spreadIn = Math.max(...pixels) - Math.min(...pixels);
        assert.ok(Math.max(...expected) - Math.min(...expected) > spreadIn, 'the contrast grows');
      }));
  }

  it('one image at a time; default 8x8 tiles; config round trips; bad options refused', async () => {
    const big = randomValues(20 * 24 * 3, 3, 0, 255).map(Math.fround);
    const layer = st.layers.contrastLimitedAdaptiveHistogramEqualization();
    const y = layer.apply(st.tensor(big, [20, 24, 3]));
    assert.deepEqual(y.shape, [20, 24, 3]);
    await assertCloseAsync(y, clahe(big, [1, 20, 24, 3], [8, 8], 4), 1e-4, 2e-3, '8x8 tiles');
    const copy = st.layers.deserialize(JSON.parse(JSON.stringify(st.layers.serialize(layer))));
    assert.deepEqual(copy.getConfig(), layer.getConfig());
    throwsWith(
      () => st.layers.contrastLimitedAdaptiveHistogramEqualization({ clipLimit: -1 }),
      st.ValueError,
      /clipLimit must be a non-negative number/,
    );
    throwsWith(
      () => st.layers.contrastLimitedAdaptiveHistogramEqualization({ tileGridSize: [0, 2] }),
      st.ValueError,
      /tileGridSize must be two positive integers/,
    );
  });
});
