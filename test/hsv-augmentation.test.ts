// Keras 3.16's RandomHue, RandomSaturation, RandomColorJitter and RandomGaussianBlur: each output
// against the layer's definition (keras/src/layers/preprocessing/image_preprocessing/*.py)
// evaluated here on the host with the same draws (a seeded layer's k-th training call draws
// st.randomUniform([rows, perRow], {seed: seed + k})), on every backend; identity at inference;
// configs round trip. The host HSV conversion is the textbook sector formula, written
// independently of st.image.rgbToHsv/hsvToRgb.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fixtureRuns } from './fixture-harness.js';
import { assertCloseAsync, randomValues, throwsWith, withBackendAsync } from './helpers.js';

const N = 4,
  H = 3,
  W = 4,
  C = 3;
const PIXELS = randomValues(N * H * W * C, 23, 0, 255).map(Math.fround);

async function draws(seed: number, rows: number, perRow: number): Promise<number[]> {
  return Array.from(await st.randomUniform([rows, perRow], { seed }).data());
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
type RGB = [number, number, number];

function toHsv([r, g, b]: RGB): RGB {
  const v = Math.max(r, g, b),
    range = v - Math.min(r, g, b);
  const s = v > 0 ? range / v : 0;
  let h = 0;
  if (range > 0) {
    if (v === r) h = (g - b) / range / 6;
    else if (v === g) h = (b - r) / range / 6 + 1 / 3;
    else h = (r - g) / range / 6 + 2 / 3;
    if (h < 0) h += 1;
  }
  return [h, s, v];
}

function toRgb([h, s, v]: RGB): RGB {
  const h6 = (h - Math.floor(h)) * 6;
  const i = Math.floor(h6) % 6,
    f = h6 - Math.floor(h6);
  const p = v * (1 - s),
    q = v * (1 - s * f),
    t = v * (1 - s * (1 - f));
  return (
    [
      [v, t, p],
      [q, v, p],
      [p, v, t],
      [p, q, v],
      [t, p, v],
      [v, p, q],
    ] as RGB[]
  )[i];
}

/** Applies f(rgb, image) to every pixel of [N, H, W, 3] values. */
function mapRgb(values: number[], f: (rgb: RGB, n: number) => RGB): number[] {
  const out = values.slice();
  for (let p = 0; p < values.length; p += 3) {
    const n = Math.floor(p / (H * W * C));
    out.splice(p, 3, ...f([values[p], values[p + 1], values[p + 2]], n));
  }
  return out;
}

const unit = (rgb: RGB) => rgb.map((v) => v / 255) as RGB;
const bytes = (rgb: RGB) => rgb.map((v) => v * 255) as RGB;
const hue = (rgb: RGB, shift: number) => {
  const [h, s, v] = toHsv(unit(rgb));
  return bytes(toRgb([h + shift, s, v]).map((c) => clamp(c, 0, 1)) as RGB);
};
const saturation = (rgb: RGB, d: number) => {
  const [h, s, v] = toHsv(unit(rgb));
  return bytes(toRgb([h, clamp(s * (d / (1 - d + 1e-7)), 0, 1), v]));
};
const hueShift = (sign: number, amount: number, [lo, hi]: [number, number]) => (sign > 0.5 ? -1 : 1) * (lo + (hi - lo) * amount) * 0.5;

/** Host Gaussian blur with zero padding, as st.image.gaussianBlur and Keras define it. */
function blur(values: number[], n: number, k: [number, number], sigma: [number, number]): number[] {
  const taps = (size: number, s: number) => {
    const t = Array.from({ length: size }, (_, i) => Math.exp(-0.5 * ((i - (size - 1) / 2) / s) ** 2));
    const total = t.reduce((a, b) => a + b, 0);
    return t.map((v) => v / total);
  };
  const rows = taps(k[0], sigma[0]),
    cols = taps(k[1], sigma[1]);
  const out: number[] = [];
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let i = 0; i < k[0]; i++)
          for (let j = 0; j < k[1]; j++) {
            const yy = y + i - (k[0] - 1) / 2,
              xx = x + j - (k[1] - 1) / 2;
            if (yy >= 0 && yy < H && xx >= 0 && xx < W) acc += rows[i] * cols[j] * values[((n * H + yy) * W + xx) * C + c];
          }
        out.push(acc);
      }
  return out;
}

interface Case {
  name: string;
  make: () => st.Layer;
  rows: number;
  perRow: number;
  expected: (u: number[]) => number[];
}

const CASES: Case[] = [
  {
    name: 'randomHue [0.2, 0.9]',
    make: () => st.layers.randomHue({ factor: [0.2, 0.9], seed: 3 }),
    rows: N,
    perRow: 2,
    expected: (u) => mapRgb(PIXELS, (rgb, n) => hue(rgb, hueShift(u[2 * n], u[2 * n + 1], [0.2, 0.9]))),
  },
  {
    name: 'randomSaturation 1 (d from [0, 1])',
    make: () => st.layers.randomSaturation({ factor: 1, seed: 4 }),
    rows: N,
    perRow: 1,
    expected: (u) => mapRgb(PIXELS, (rgb, n) => saturation(rgb, u[n])),
  },
  {
    name: 'randomColorJitter: brightness, contrast, saturation, hue in turn',
    make: () =>
      st.layers.randomColorJitter({ brightnessFactor: 0.2, contrastFactor: [0.1, 0.5], saturationFactor: [0.3, 0.8], hueFactor: 0.4, seed: 5 }),
    rows: N,
    perRow: 5,
    expected: (u) => {
      let x = PIXELS.map((v, i) => {
        const n = Math.floor(i / (H * W * C));
        return clamp(v + (-0.2 + 0.4 * u[5 * n]) * 255, 0, 255);
      });
      const means = Array.from({ length: N * C }, (_, k) => {
        const n = Math.floor(k / C),
          c = k % C;
        let s = 0;
        for (let p = 0; p < H * W; p++) s += x[(n * H * W + p) * C + c];
        return s / (H * W);
      });
      x = x.map((v, i) => {
        const n = Math.floor(i / (H * W * C)),
          m = means[n * C + (i % C)];
        return clamp((v - m) * (0.9 + 0.6 * u[5 * n + 1]) + m, 0, 255);
      });
      x = mapRgb(x, (rgb, n) => saturation(rgb, 0.3 + 0.5 * u[5 * n + 2]));
      return mapRgb(x, (rgb, n) => hue(rgb, hueShift(u[5 * n + 3], u[5 * n + 4], [0, 0.4])));
    },
  },
  {
    name: 'randomGaussianBlur: p from [0.3, 1], 5x3 kernel, sigmas from [0.2, 0.9] per batch',
    make: () => st.layers.randomGaussianBlur({ factor: [0.3, 1], kernelSize: [5, 3], sigma: [0.2, 0.9], seed: 6 }),
    rows: N + 1,
    perRow: 2,
    expected: (u) => {
      const sigma: [number, number] = [0.2 + 0.7 * u[2 * N] + 1e-6, 0.2 + 0.7 * u[2 * N + 1] + 1e-6];
      const blurred = u.slice(0, 2 * N).filter((_, k) => k % 2 === 1 && u[k] < 0.3 + 0.7 * u[k - 1]).length;
      assert.ok(blurred > 0 && blurred < N, 'the draws blur some images and keep others');
      return Array.from({ length: N }, (_, n) => {
        const own = PIXELS.slice(n * H * W * C, (n + 1) * H * W * C);
        return u[2 * n + 1] < 0.3 + 0.7 * u[2 * n] ? blur(PIXELS, n, [5, 3], sigma) : own;
      }).flat();
    },
  },
];

const runs = (await fixtureRuns({ rtol: 1e-4, atol: 2e-2 })).filter((r) => r.dtype === 'float32');

describe('HSV and blur augmentation layers follow their Keras definitions', () => {
  for (const run of runs) {
    for (const c of CASES) {
      it(`${run.backend}: ${c.name}`, () =>
        withBackendAsync(run.backend, async () => {
          const x = st.tensor(PIXELS, [N, H, W, C]);
          const layer = c.make();
          const u = await draws((layer as unknown as { seed: number }).seed, c.rows, c.perRow);
          const expected = c.expected(u);
          assert.notDeepEqual(expected, PIXELS, 'the draws change something');
          await assertCloseAsync(layer.apply(x, { training: true }), expected, run.rtol, run.atol, c.name);
          await assertCloseAsync(c.make().apply(x), PIXELS, 0, 0, 'inference passes images through');
        }));
    }
  }

  it('values in [0, 1]: saturation 0.5 keeps images, 0 greys them; hue 0 keeps them', async () => {
    const x = st.tensor(
      PIXELS.map((v) => v / 255),
      [N, H, W, C],
    );
    const kept = st.layers.randomSaturation({ factor: [0.5, 0.5], valueRange: [0, 1] }).apply(x, { training: true });
    await assertCloseAsync(kept, x, 1e-5, 1e-6, 'saturation 0.5');
    const grey = Array.from(
      await st.layers
        .randomSaturation({ factor: [0, 0], valueRange: [0, 1] })
        .apply(x, { training: true })
        .data(),
    );
    for (let p = 0; p < grey.length; p += 3) assert.ok(grey[p] === grey[p + 1] && grey[p] === grey[p + 2], 'grey pixels');
    const same = st.layers.randomHue({ factor: 0, valueRange: [0, 1] }).apply(x, { training: true });
    await assertCloseAsync(same, x, 1e-5, 1e-6, 'hue 0');
  });

  it('one image at a time, configs round trip, bad options refused', () => {
    const image = st.tensor(PIXELS.slice(0, H * W * C), [H, W, C]);
    assert.deepEqual(st.layers.randomHue({ factor: 0.3, seed: 1 }).apply(image, { training: true }).shape, [H, W, C]);
    for (const layer of [
      st.layers.randomHue({ factor: [0.1, 0.3], valueRange: [0, 1], seed: 2 }),
      st.layers.randomSaturation({ factor: 0.7 }),
      st.layers.randomColorJitter({ contrastFactor: 0.2, hueFactor: [0.1, 0.2] }),
      st.layers.randomGaussianBlur({ factor: 0.5, kernelSize: 5, sigma: [0.1, 0.4], seed: 3 }),
    ]) {
      const copy = st.layers.deserialize(JSON.parse(JSON.stringify(st.layers.serialize(layer))));
      assert.deepEqual(copy.getConfig(), layer.getConfig(), layer.className);
    }
    assert.deepEqual(st.layers.randomSaturation({ factor: 0.7 }).factor, [0, 0.7]);
    assert.deepEqual(st.layers.randomHue({ factor: 0.4 }).factor, [0, 0.4]);
    assert.deepEqual(st.layers.randomColorJitter({ contrastFactor: 0.2 }).contrastFactor, [0.2, 0.2]);
    assert.deepEqual(st.layers.randomGaussianBlur().sigma, [0, 1]);
    throwsWith(() => st.layers.randomHue({ factor: 1.5 }), st.ValueError, /factor must be a number or a pair of numbers in \[0, 1\]/);
    throwsWith(() => st.layers.randomSaturation({ factor: [-0.5, 0.5] }), st.ValueError, /in \[0, 1\]/);
    throwsWith(() => st.layers.randomColorJitter({ brightnessFactor: 2 }), st.ValueError, /brightnessFactor must be/);
    throwsWith(() => st.layers.randomGaussianBlur({ kernelSize: 4 }), st.ValueError, /kernelSize must be an odd positive integer/);
    throwsWith(() => st.layers.randomHue({ factor: 0.1 }).apply(st.ones([1, 2, 2, 4]), { training: true }), st.ValueError, /3 channels/);
  });
});
