// Keras 3's RandomBrightness, RandomInvert, Solarization, RandomGrayscale and AutoContrast: each
// output against the layer's definition (Keras 3.15's image_preprocessing/*.py) evaluated here on
// the host with the same per-image draws (a seeded layer's k-th training call draws
// st.randomUniform([images, perImage], {seed: seed + k})), on every backend; identity at
// inference; configs round trip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fixtureRuns } from './fixture-harness.js';
import { assertCloseAsync, randomValues, throwsWith, withBackendAsync } from './helpers.js';

const N = 3,
  H = 2,
  W = 3,
  C = 3;
const PIXELS = randomValues(N * H * W * C, 17, 0, 255).map(Math.fround);

/** The draws a seeded layer makes at its first training call. */
async function draws(seed: number, perImage: number): Promise<number[]> {
  return draws2(seed, N, perImage);
}

async function draws2(seed: number, images: number, perImage: number): Promise<number[]> {
  return Array.from(await st.randomUniform([images, perImage], { seed }).data());
}

/** Applies f(value, image, channel) to every value of the [N, H, W, C] PIXELS. */
function mapPixels(f: (v: number, n: number, c: number) => number): number[] {
  return PIXELS.map((v, i) => f(v, Math.floor(i / (H * W * C)), i % C));
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

interface Case {
  name: string;
  make: () => st.Layer;
  perImage: number;
  expected: (u: number[]) => number[];
}

const CASES: Case[] = [
  {
    name: 'randomBrightness [-0.3, 0.5] on [0, 255]',
    make: () => st.layers.randomBrightness({ factor: [-0.3, 0.5], seed: 4 }),
    perImage: 1,
    expected: (u) => mapPixels((v, n) => clamp(v + (-0.3 + 0.8 * u[n]) * 255, 0, 255)),
  },
  {
    name: 'randomBrightness 0.9 (a symmetric range)',
    make: () => st.layers.randomBrightness({ factor: 0.9, valueRange: [0, 255], seed: 5 }),
    perImage: 1,
    expected: (u) => mapPixels((v, n) => clamp(v + (-0.9 + 1.8 * u[n]) * 255, 0, 255)),
  },
  {
    name: 'randomInvert (p drawn from [0, 1], then a threshold)',
    make: () => st.layers.randomInvert({ seed: 6 }),
    perImage: 2,
    expected: (u) => mapPixels((v, n) => (u[2 * n + 1] < u[2 * n] ? 255 - v : v)),
  },
  {
    name: 'solarization with additions and thresholds',
    make: () => st.layers.solarization({ additionFactor: 0.2, thresholdFactor: [0.3, 0.7], seed: 7 }),
    perImage: 2,
    expected: (u) =>
      mapPixels((v, n) => {
        const add = 0.2 * 255 * u[2 * n],
          threshold = 0.3 + (0.7 * 255 - 0.3) * u[2 * n + 1];
        const x = clamp(v + add, 0, 255);
        return x < threshold ? x : 255 - x;
      }),
  },
  {
    name: 'randomGrayscale 0.6',
    make: () => st.layers.randomGrayscale({ factor: 0.6, seed: 8 }),
    perImage: 1,
    expected: (u) =>
      PIXELS.map((v, i) => {
        const n = Math.floor(i / (H * W * C));
        if (!(u[n] < 0.6)) return v;
        const p = i - (i % C);
        return 0.2989 * PIXELS[p] + 0.587 * PIXELS[p + 1] + 0.114 * PIXELS[p + 2];
      }),
  },
  {
    name: 'randomColorDegeneration [-0.5, 0.8]',
    make: () => st.layers.randomColorDegeneration({ factor: [-0.5, 0.8], seed: 9 }),
    perImage: 1,
    expected: (u) =>
      PIXELS.map((v, i) => {
        const n = Math.floor(i / (H * W * C)),
          p = i - (i % C);
        const gray = 0.2989 * PIXELS[p] + 0.587 * PIXELS[p + 1] + 0.114 * PIXELS[p + 2];
        return clamp(v + (-0.5 + 1.3 * u[n]) * (gray - v), 0, 255);
      }),
  },
  {
    name: 'randomPosterization [2, 6) bits',
    make: () => st.layers.randomPosterization({ factor: [2, 6], seed: 10 }),
    perImage: 1,
    expected: (u) =>
      mapPixels((v, n) => {
        const step = 2 ** (8 - (2 + Math.floor(u[n] * 4)));
        return Math.floor(Math.trunc(v) / step) * step;
      }),
  },
  {
    name: 'randomSharpness [0.1, 0.9]',
    make: () => st.layers.randomSharpness({ factor: [0.1, 0.9], seed: 12 }),
    perImage: 1,
    expected: (u) =>
      PIXELS.map((v, i) => {
        const n = Math.floor(i / (H * W * C)),
          c = i % C,
          y = Math.floor(i / (W * C)) % H,
          x = Math.floor(i / C) % W;
        let smooth = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy,
              xx = x + dx;
            if (yy >= 0 && yy < H && xx >= 0 && xx < W) smooth += ((dy === 0 && dx === 0 ? 5 : 1) / 13) * PIXELS[((n * H + yy) * W + xx) * C + c];
          }
        return clamp(v + (1 - 2 * (0.1 + 0.8 * u[n])) * (smooth - v), 0, 255);
      }),
  },
];

const runs = (await fixtureRuns({ rtol: 1e-5, atol: 1e-3 })).filter((r) => r.dtype === 'float32');

describe('color augmentation layers follow their Keras definitions', () => {
  for (const run of runs) {
    for (const c of CASES) {
      it(`${run.backend}: ${c.name}`, () =>
        withBackendAsync(run.backend, async () => {
          const x = st.tensor(PIXELS, [N, H, W, C]);
          const layer = c.make();
          const seed = (layer as unknown as { seed: number }).seed;
          const u = await draws(seed, c.perImage);
          await assertCloseAsync(layer.apply(x, { training: true }), c.expected(u), run.rtol, run.atol, c.name);
          await assertCloseAsync(c.make().apply(x), PIXELS, 0, 0, 'inference passes images through');
        }));
    }
    it(`${run.backend}: autoContrast stretches each channel of each image; a constant channel stays`, () =>
      withBackendAsync(run.backend, async () => {
        const values = PIXELS.slice();
        for (let i = 0; i < H * W; i++) values[i * C + 1] = 42; // image 0, channel 1 constant
        const expected = values.map((v, i) => {
          const n = Math.floor(i / (H * W * C)),
            c = i % C;
          const channel = values.filter((_, j) => Math.floor(j / (H * W * C)) === n && j % C === c);
          const lo = Math.min(...channel),
            hi = Math.max(...channel);
          return hi > lo ? ((v - lo) / (hi - lo)) * 2 - 1 : v;
        });
        const scaled = st.tensor(values, [N, H, W, C]);
        const y = st.layers.autoContrast({ valueRange: [-1, 1] }).apply(scaled);
        await assertCloseAsync(y, expected, 1e-5, 1e-6, 'autoContrast');
      }));
  }

  it("randomShear samples output (x, y) at (x + s·sx·y, y + s·sy·x) with Keras's three draws per image", async () => {
    const x = st.tensor(PIXELS, [N, H, W, C]);
    const layer = st.layers.randomShear({ xFactor: 0.4, yFactor: [0.1, 0.3], fillMode: 'constant', fillValue: 7, seed: 11 });
    const u = await draws(11, 3);
    const rows = Array.from({ length: N }, (_, b) => {
      const sign = u[3 * b] > 0.5 ? -1 : 1;
      const sy = sign * (0.1 + 0.2 * u[3 * b + 1]),
        sx = sign * (-0.4 + 0.8 * u[3 * b + 2]);
      return [1, sx, 0, sy, 1, 0] as const;
    });
    // Bilinear sampling with a constant fill, on the host.
    const expected: number[] = [];
    for (let b = 0; b < N; b++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          const [a0, a1, a2, b0, b1, b2] = rows[b];
          const sx = a0 * j + a1 * i + a2,
            sy = b0 * j + b1 * i + b2;
          const x0 = Math.floor(sx),
            y0 = Math.floor(sy);
          for (let c = 0; c < C; c++) {
            const at = (yy: number, xx: number) => (yy >= 0 && yy < H && xx >= 0 && xx < W ? PIXELS[((b * H + yy) * W + xx) * C + c] : 7);
            const fx = sx - x0,
              fy = sy - y0;
            expected.push(
              at(y0, x0) * (1 - fx) * (1 - fy) + at(y0, x0 + 1) * fx * (1 - fy) + at(y0 + 1, x0) * (1 - fx) * fy + at(y0 + 1, x0 + 1) * fx * fy,
            );
          }
        }
    await assertCloseAsync(layer.apply(x, { training: true }), expected, 1e-5, 1e-3, 'randomShear');
    assert.equal(st.layers.randomShear({ xFactor: 0.2 }).apply(x), x.cast('float32'));
    throwsWith(() => st.layers.randomShear({ xFactor: [-0.2, 0.2] }), st.ValueError, /xFactor must be a number or a pair of numbers in \[0, 1\]/);
  });

  it("randomErasing fills Keras's rectangle in the images it picks, or noise within the value range", async () => {
    const big = randomValues(2 * 8 * 10 * 3, 5, 0, 255).map(Math.fround);
    const x = st.tensor(big, [2, 8, 10, 3]);
    const u = await draws2(13, 2, 7);
    const expected = big.slice();
    for (let b = 0; b < 2; b++) {
      const d = u.slice(7 * b, 7 * b + 7);
      if (!(d[5] < 0.2 + 0.8 * d[4])) continue;
      const cw = Math.sqrt(0.1 + 0.3 * d[0]) * 10,
        ch = Math.sqrt(0.1 + 0.3 * d[1]) * 8;
      const x0 = d[2] * (10 - cw),
        y0 = d[3] * (8 - ch);
      for (let y = 0; y < 8; y++)
        for (let xx = 0; xx < 10; xx++)
          if (xx >= x0 && xx < x0 + cw && y >= y0 && y < y0 + ch)
            for (let c = 0; c < 3; c++) expected[((b * 8 + y) * 10 + xx) * 3 + c] = [10, 20, 30][c];
    }
    assert.notDeepEqual(expected, big, 'the draws erase something');
    const layer = st.layers.randomErasing({ factor: [0.2, 1], scale: [0.1, 0.4], fillValue: [10, 20, 30], seed: 13 });
    await assertCloseAsync(layer.apply(x, { training: true }), expected, 0, 0, 'randomErasing');
    const noisy = st.layers
      .randomErasing({ factor: 1, scale: 0.5, valueRange: [0, 1], seed: 2 })
      .apply(st.fill([4, 6, 6, 3], 0.5), { training: true });
    const values = Array.from(noisy.dataSync());
    assert.ok(values.every((v) => v >= 0 && v <= 1));
    assert.ok(
      values.some((v) => v !== 0.5),
      'some image erased with noise',
    );
    assert.equal(st.layers.randomErasing().apply(x), x);
    throwsWith(
      () => st.layers.randomErasing({ fillValue: [1, 2] }).apply(x, { training: true }),
      st.ValueError,
      /fillValue has 2 values; the images have 3 channels/,
    );
  });

  it('one image [H, W, C] at a time, configs round trip, bad options refused', () => {
    const image = st.tensor(PIXELS.slice(0, H * W * C), [H, W, C]);
    assert.deepEqual(st.layers.randomInvert({ seed: 1 }).apply(image, { training: true }).shape, [H, W, C]);
    for (const layer of [
      st.layers.randomBrightness({ factor: 0.1, valueRange: [0, 1], seed: 3 }),
      st.layers.randomInvert({ factor: [0.2, 0.4] }),
      st.layers.solarization({ additionFactor: [0.1, 0.2], thresholdFactor: 0.5 }),
      st.layers.randomGrayscale({ factor: 0.1 }),
      st.layers.autoContrast({ valueRange: [0, 1] }),
      st.layers.randomColorDegeneration({ factor: 0.3 }),
      st.layers.randomPosterization({ factor: 4, valueRange: [0, 1] }),
      st.layers.randomSharpness({ factor: 0.5, valueRange: [0, 1] }),
      st.layers.randomErasing({ factor: 0.5, scale: [0.1, 0.2], fillValue: 3 }),
      st.layers.randomShear({ xFactor: 0.1, yFactor: [0, 0.2], fillMode: 'nearest', interpolation: 'nearest', seed: 2 }),
    ]) {
      const copy = st.layers.deserialize(JSON.parse(JSON.stringify(st.layers.serialize(layer))));
      assert.deepEqual(copy.getConfig(), layer.getConfig(), layer.className);
    }
    assert.deepEqual(st.layers.randomBrightness({ factor: 0.2 }).factor, [-0.2, 0.2]);
    assert.deepEqual(st.layers.randomInvert({ factor: 0.5 }).factor, [0, 0.5]);
    throwsWith(() => st.layers.randomBrightness({ factor: 1.5 }), st.ValueError, /factor must be a number or a pair of numbers in \[-1, 1\]/);
    throwsWith(() => st.layers.solarization({ thresholdFactor: 2 }), st.ValueError, /thresholdFactor must be a number or a pair/);
    throwsWith(() => st.layers.randomGrayscale({ factor: -0.1 }), st.ValueError, /factor must be a number in \[0, 1\]/);
    throwsWith(() => st.layers.randomGrayscale({ factor: 1 }).apply(st.ones([1, 2, 2, 4]), { training: true }), st.ValueError, /3 channels/);
    assert.deepEqual(st.layers.randomPosterization({ factor: 4 }).factor, [1, 4]);
    throwsWith(() => st.layers.randomPosterization({ factor: 9 }), st.ValueError, /factor must be a number or a pair of numbers in \[1, 8\]/);
    throwsWith(() => st.layers.autoContrast({ valueRange: [1, 1] }), st.ValueError, /valueRange must be two different/);
  });
});
