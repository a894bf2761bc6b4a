// Augmentation and preprocessing layers (Keras 3): identity at inference, shapes, seeded
// reproducibility, and known transforms checked exactly or against references written here in
// float64 (TF's half-pixel resize kernel, Keras's affine maps with an independent sampler).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { deserializeLayer, serializeLayer } from '../src/nn/registry.js';
import { assertClose, assertCloseAsync, checkGradient, randomTensor, withBackend, withBackendAsync } from './helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first; the
// per-backend checks read with `await t.data()` (read), which every backend has.
await st.ready();
const available = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);
const values = (t: st.Tensor) => Array.from(t.dataSync());
const read = async (t: st.Tensor) => Array.from(await t.data());
const image = (shape: number[], seed = 1) => randomTensor(shape, seed, 'float32', 0, 1);
type Mode = 'reflect' | 'wrap' | 'constant' | 'nearest';

/** x[b, i, j, :] of a flat NHWC array. */
const pixel = (x: number[], [, h, w, c]: number[], b: number, i: number, j: number) =>
  x.slice(((b * h + i) * w + j) * c, ((b * h + i) * w + j + 1) * c);

/** An output image built pixel by pixel from a source function (the expected value of a transform). */
function build(shape: number[], f: (b: number, i: number, j: number) => number[]): number[] {
  const [n, h, w] = shape;
  const out: number[] = [];
  for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out.push(...f(b, i, j));
  return out;
}

/** Keras's fill modes, written as repeated reflections / shifts (independent of the layer's closed forms). */
function refIndex(i: number, n: number, mode: Mode): number | null {
  if (mode === 'constant') return i >= 0 && i < n ? i : null;
  if (mode === 'nearest') return Math.min(Math.max(i, 0), n - 1);
  if (mode === 'wrap') {
    while (i < 0) i += n;
    while (i >= n) i -= n;
    return i;
  }
  while (i < 0 || i >= n) i = i < 0 ? -1 - i : 2 * n - 1 - i;
  return i;
}

/** Samples x at source (sy, sx) per output pixel: bilinear over the four neighbours, or nearest (half to even). */
function refSample(
  x: number[],
  shape: number[],
  source: (b: number, i: number, j: number) => [number, number],
  mode: Mode,
  fillValue: number,
  interpolation: 'bilinear' | 'nearest',
): number[] {
  const [, h, w, c] = shape;
  const read = (b: number, yi: number, xi: number) => {
    const r = refIndex(yi, h, mode),
      q = refIndex(xi, w, mode);
    return r === null || q === null ? new Array<number>(c).fill(fillValue) : pixel(x, shape, b, r, q);
  };
  const halfEven = (v: number) => (Math.abs(v - Math.trunc(v)) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
  return build(shape, (b, i, j) => {
    const [sy, sx] = source(b, i, j);
    if (interpolation === 'nearest') return read(b, halfEven(sy), halfEven(sx));
    const y0 = Math.floor(sy),
      x0 = Math.floor(sx),
      fy = sy - y0,
      fx = sx - x0;
    const [p00, p01, p10, p11] = [read(b, y0, x0), read(b, y0, x0 + 1), read(b, y0 + 1, x0), read(b, y0 + 1, x0 + 1)];
    return p00.map((_, k) => (1 - fy) * ((1 - fx) * p00[k] + fx * p01[k]) + fy * ((1 - fx) * p10[k] + fx * p11[k]));
  });
}

/** TF's resize kernels with half-pixel centres (resize_bilinear / resize_nearest_neighbor), in float64. */
function refResize(x: number[], shape: number[], height: number, width: number, interpolation: 'bilinear' | 'nearest'): number[] {
  const [n, h, w, c] = shape;
  const sy = h / height,
    sx = w / width;
  return build([n, height, width, c], (b, i, j) => {
    if (interpolation === 'nearest') {
      return pixel(x, shape, b, Math.min(Math.floor((i + 0.5) * sy), h - 1), Math.min(Math.floor((j + 0.5) * sx), w - 1));
    }
    const inY = (i + 0.5) * sy - 0.5,
      inX = (j + 0.5) * sx - 0.5;
    const top = Math.max(Math.floor(inY), 0),
      bottom = Math.min(Math.ceil(inY), h - 1),
      ly = inY - Math.floor(inY);
    const left = Math.max(Math.floor(inX), 0),
      right = Math.min(Math.ceil(inX), w - 1),
      lx = inX - Math.floor(inX);
    const [tl, tr, bl, br] = [
      pixel(x, shape, b, top, left),
      pixel(x, shape, b, top, right),
      pixel(x, shape, b, bottom, left),
      pixel(x, shape, b, bottom, right),
    ];
    return tl.map((_, k) => {
      const t = tl[k] + (tr[k] - tl[k]) * lx,
        d = bl[k] + (br[k] - bl[k]) * lx;
      return t + (d - t) * ly;
    });
  });
}

/** Keras's crop_to_aspect_ratio box, then a slice of the flat NHWC values. */
function refAspectCrop(x: number[], shape: number[], height: number, width: number): { data: number[]; shape: number[] } {
  const [n, h, w, c] = shape;
  const ch = Math.max(Math.min(h, Math.floor((w * height) / width)), 1),
    cw = Math.max(Math.min(w, Math.floor((h * width) / height)), 1);
  const top = Math.floor((h - ch) / 2),
    left = Math.floor((w - cw) / 2);
  return { data: build([n, ch, cw, c], (b, i, j) => pixel(x, shape, b, top + i, left + j)), shape: [n, ch, cw, c] };
}

// Each augmentation layer with a seed, its input and output shapes.
const SHAPE = [4, 6, 7, 2];
const augmenters: { name: string; make: (seed?: number) => st.Layer; out: number[] }[] = [
  { name: 'randomFlip', make: (seed) => st.layers.randomFlip({ seed }), out: SHAPE },
  { name: 'randomRotation', make: (seed) => st.layers.randomRotation({ factor: 0.2, seed }), out: SHAPE },
  {
    name: 'randomTranslation',
    make: (seed) => st.layers.randomTranslation({ heightFactor: 0.2, widthFactor: [-0.3, 0.1], fillMode: 'constant', fillValue: 0.5, seed }),
    out: SHAPE,
  },
  { name: 'randomZoom', make: (seed) => st.layers.randomZoom({ heightFactor: 0.3, interpolation: 'nearest', fillMode: 'wrap', seed }), out: SHAPE },
  { name: 'randomCrop', make: (seed) => st.layers.randomCrop({ height: 4, width: 5, seed }), out: [4, 4, 5, 2] },
  { name: 'randomContrast', make: (seed) => st.layers.randomContrast({ factor: 0.5, valueRange: [-5, 5], seed }), out: SHAPE },
  { name: 'gaussianNoise', make: (seed) => st.layers.gaussianNoise({ stddev: 0.1, seed }), out: SHAPE },
  { name: 'gaussianDropout', make: (seed) => st.layers.gaussianDropout({ rate: 0.3, seed }), out: SHAPE },
];

describe('augmentation layers: the common contract', () => {
  for (const a of augmenters) {
    it(`${a.name}: identity at inference, shapes, seeded and global-seed reproducibility, config round trip, gradients`, () => {
      const x = image(SHAPE, 3);
      const layer = a.make(7);
      if (a.name !== 'randomCrop') assert.deepEqual(values(layer.apply(x)), values(x), 'inference is the identity');
      const sym = a.make().apply(st.input({ shape: SHAPE.slice(1) }));
      assert.deepEqual([...sym.shape], [null, ...a.out.slice(1)], 'symbolic shape');
      assert.equal(layer.countParams(), 0);
      // Seeded: a fresh layer with the same seed repeats the sequence; successive calls differ.
      const [y1, y2] = [layer.apply(x, { training: true }), layer.apply(x, { training: true })];
      assert.deepEqual([...y1.shape], a.out);
      const again = a.make(7);
      assert.deepEqual(values(again.apply(x, { training: true })), values(y1));
      assert.deepEqual(values(again.apply(x, { training: true })), values(y2));
      assert.notDeepEqual(values(y1), values(y2), 'a seeded layer varies per call');
      // Unseeded: the global stream, reproducible with st.setSeed.
      st.setSeed(9);
      const g1 = values(a.make().apply(x, { training: true }));
      st.setSeed(9);
      assert.deepEqual(values(a.make().apply(x, { training: true })), g1);
      const copy = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(layer))));
      assert.equal(copy.className, layer.className);
      assert.deepEqual(copy.getConfig(), layer.getConfig());
      // Gradients reach the input through the gathers and products.
      const v = st.variable(x);
      a.make(1).apply(v, { training: true }).sum().backward();
      assert.deepEqual([...v.grad!.shape], SHAPE);
      assert.ok(values(v.grad!).some((g) => g !== 0));
    });
  }

  it('accept one image [H, W, C] and reject other ranks', () => {
    const one = image([5, 6, 2]);
    assert.deepEqual([...st.layers.randomRotation({ factor: 0.1, seed: 1 }).apply(one, { training: true }).shape], [5, 6, 2]);
    assert.deepEqual([...st.layers.randomCrop({ height: 3, width: 3, seed: 1 }).apply(one, { training: true }).shape], [3, 3, 2]);
    assert.throws(() => st.layers.randomFlip().apply(st.zeros([4, 5])), /expected images \[height, width, channels\]/);
    assert.throws(
      () => st.layers.randomRotation({ factor: 0.1, fillMode: 'mirror' as never }),
      /fillMode must be one of 'reflect', 'wrap', 'constant', 'nearest'/,
    );
    assert.throws(() => st.layers.randomTranslation({ heightFactor: 1.5, widthFactor: 0 }), /heightFactor must be .* in \[-1, 1\]/);
    assert.throws(() => st.layers.randomZoom({ heightFactor: [0.3, 0.1] }), /lower <= upper/);
    assert.throws(() => st.layers.randomFlip({ mode: 'diagonal' as never }), /mode must be one of/);
    assert.throws(() => st.layers.randomFlip({ seed: 1.5 }), /seed must be an integer/);
    assert.throws(() => st.layers.randomContrast({ factor: 1.5 }), /factor must be .* in \[0, 1\]/);
    assert.throws(() => st.layers.randomRotation({ factor: 0.1, angle: 3 } as never), /unknown option 'angle'/);
  });
});

describe('geometric augmentations: known transforms', () => {
  for (const backend of available) {
    it(`randomFlip flips whole images, horizontal and vertical drawn independently (${backend})`, () =>
      withBackendAsync(backend, async () => {
        const shape = [24, 3, 4, 2],
          x = await read(image(shape, 5));
        const variants = (b: number) => ({
          none: build([1, 3, 4, 2], (_, i, j) => pixel(x, shape, b, i, j)),
          h: build([1, 3, 4, 2], (_, i, j) => pixel(x, shape, b, i, 3 - j)),
          v: build([1, 3, 4, 2], (_, i, j) => pixel(x, shape, b, 2 - i, j)),
          hv: build([1, 3, 4, 2], (_, i, j) => pixel(x, shape, b, 2 - i, 3 - j)),
        });
        for (const [mode, allowed] of [
          ['horizontal', ['none', 'h']],
          ['vertical', ['none', 'v']],
          ['horizontal_and_vertical', ['none', 'h', 'v', 'hv']],
        ] as const) {
          const y = await read(st.layers.randomFlip({ mode, seed: 11 }).apply(st.tensor(x, shape), { training: true }));
          const seen = new Set<string>();
          for (let b = 0; b < 24; b++) {
            const out = y.slice(b * 24, (b + 1) * 24);
            const kind = Object.entries(variants(b)).find(([, v]) => v.every((e, k) => e === out[k]))?.[0];
            assert.ok(kind && (allowed as readonly string[]).includes(kind), `${mode}: image ${b} is not one of ${allowed.join(', ')}`);
            seen.add(kind);
          }
          assert.equal(seen.size, allowed.length, `${mode}: every kind of flip occurs over 24 images (${[...seen].join(', ')})`);
        }
      }));

    it(`randomRotation by a fixed quarter turn is numpy's rot90; by any angle it matches Keras's map (${backend})`, () =>
      withBackendAsync(backend, async () => {
        const shape = [2, 5, 5, 3],
          x = image(shape, 6),
          v = await read(x);
        const turn = async (f: number, interpolation: 'nearest' | 'bilinear') =>
          read(st.layers.randomRotation({ factor: [f, f], interpolation }).apply(x, { training: true }));
        const ccw = build(shape, (b, i, j) => pixel(v, shape, b, j, 4 - i));
        assert.deepEqual(await turn(0.25, 'nearest'), ccw, 'a quarter turn counter-clockwise (nearest: exact)');
        assertClose(await turn(0.25, 'bilinear'), ccw, 1e-5, 1e-6, 'bilinear quarter turn');
        assertClose(
          await turn(-0.25, 'bilinear'),
          build(shape, (b, i, j) => pixel(v, shape, b, 4 - j, i)),
          1e-5,
          1e-6,
          'clockwise',
        );
        assertClose(
          await turn(0.5, 'bilinear'),
          build(shape, (b, i, j) => pixel(v, shape, b, 4 - i, 4 - j)),
          1e-5,
          1e-6,
          'half turn',
        );
        // A 36° turn of a non-square image in every fill mode, against Keras's rotation matrix.
        const rect = [2, 6, 7, 2],
          xr = image(rect, 8),
          vr = await read(xr);
        const theta = 0.1 * 2 * Math.PI,
          cos = Math.cos(theta),
          sin = Math.sin(theta),
          cy = 2.5,
          cx = 3;
        for (const fillMode of ['reflect', 'wrap', 'constant', 'nearest'] as const) {
          for (const interpolation of ['bilinear', 'nearest'] as const) {
            const y = st.layers.randomRotation({ factor: [0.1, 0.1], fillMode, interpolation, fillValue: 0.75 }).apply(xr, { training: true });
            const expected = refSample(
              vr,
              rect,
              (_, i, j) => [cy + sin * (j - cx) + cos * (i - cy), cx + cos * (j - cx) - sin * (i - cy)],
              fillMode,
              0.75,
              interpolation,
            );
            await assertCloseAsync(y, expected, 1e-5, 1e-6, `${fillMode} ${interpolation}`);
          }
        }
      }));

    it(`randomTranslation by exactly one pixel, and by fractions of pixels (${backend})`, () =>
      withBackendAsync(backend, async () => {
        const shape = [2, 4, 5, 2],
          x = image(shape, 9),
          v = await read(x);
        const down = (fillMode: Mode) =>
          read(st.layers.randomTranslation({ heightFactor: [0.25, 0.25], widthFactor: 0, fillMode, fillValue: -1 }).apply(x, { training: true }));
        const firstRow = { reflect: 0, nearest: 0, wrap: 3 } as const;
        for (const mode of ['reflect', 'nearest', 'wrap'] as const) {
          assert.deepEqual(
            await down(mode),
            build(shape, (b, i, j) => pixel(v, shape, b, i === 0 ? firstRow[mode] : i - 1, j)),
            `down one row, ${mode}`,
          );
        }
        assert.deepEqual(
          await down('constant'),
          build(shape, (b, i, j) => (i === 0 ? [-1, -1] : pixel(v, shape, b, i - 1, j))),
          'down one row, constant',
        );
        const left = st.layers.randomTranslation({ heightFactor: 0, widthFactor: [-0.2, -0.2] }).apply(x, { training: true });
        assert.deepEqual(
          await read(left),
          build(shape, (b, i, j) => pixel(v, shape, b, i, j === 4 ? 4 : j + 1)),
          'left one column (reflect)',
        );
        const frac = st.layers
          .randomTranslation({ heightFactor: [0.15, 0.15], widthFactor: [-0.35, -0.35], fillMode: 'wrap' })
          .apply(x, { training: true });
        await assertCloseAsync(
          frac,
          refSample(v, shape, (_, i, j) => [i - 0.6, j + 1.75], 'wrap', 0, 'bilinear'),
          1e-5,
          1e-6,
          'fractional shift',
        );
      }));

    it(`randomZoom: factor 0 is the identity, positive zooms out, negative zooms in (${backend})`, () =>
      withBackendAsync(backend, async () => {
        const shape = [2, 5, 6, 2],
          x = image(shape, 10),
          v = await read(x);
        assert.deepEqual(await read(st.layers.randomZoom({ heightFactor: 0 }).apply(x, { training: true })), v);
        const cy = 2,
          cx = 2.5;
        const out = st.layers.randomZoom({ heightFactor: [0.5, 0.5], fillMode: 'constant', fillValue: 9 }).apply(x, { training: true });
        await assertCloseAsync(
          out,
          refSample(v, shape, (_, i, j) => [cy + 1.5 * (i - cy), cx + 1.5 * (j - cx)], 'constant', 9, 'bilinear'),
          1e-5,
          1e-5,
          'zoom out',
        );
        const o = await read(out);
        assert.deepEqual(pixel(o, shape, 0, 0, 0), [9, 9], 'zooming out brings the fill into the corners');
        const zoomIn = st.layers.randomZoom({ heightFactor: [-0.5, -0.5], widthFactor: [0.2, 0.2] }).apply(x, { training: true });
        await assertCloseAsync(
          zoomIn,
          refSample(v, shape, (_, i, j) => [cy + 0.5 * (i - cy), cx + 1.2 * (j - cx)], 'reflect', 0, 'bilinear'),
          1e-5,
          1e-6,
          'zoom in (height) and out (width)',
        );
      }));
  }

  it('randomCrop: per-image windows in training; at inference the Keras resize-to-fit', () => {
    const shape = [8, 6, 7, 2],
      x = image(shape, 12),
      v = values(x);
    const y = values(st.layers.randomCrop({ height: 4, width: 5, seed: 2 }).apply(x, { training: true }));
    const offsets = new Set<string>();
    for (let b = 0; b < 8; b++) {
      const out = y.slice(b * 40, (b + 1) * 40);
      let found = '';
      for (let top = 0; top <= 2 && !found; top++) {
        for (let left = 0; left <= 2 && !found; left++) {
          if (build([1, 4, 5, 2], (_, i, j) => pixel(v, shape, b, top + i, left + j)).every((e, k) => e === out[k])) found = `${top},${left}`;
        }
      }
      assert.ok(found, `image ${b} is a window of its input`);
      offsets.add(found);
    }
    assert.ok(offsets.size > 1, 'each image draws its own window');
    const crop = refAspectCrop(v, shape, 4, 5);
    assertClose(st.layers.randomCrop({ height: 4, width: 5 }).apply(x), refResize(crop.data, crop.shape, 4, 5, 'bilinear'), 1e-5, 1e-6, 'inference');
    const small = image([2, 3, 3, 1], 13);
    assertClose(
      st.layers.randomCrop({ height: 4, width: 4 }).apply(small, { training: true }),
      refResize(values(small), [2, 3, 3, 1], 4, 4, 'bilinear'),
      1e-5,
      1e-6,
      'smaller images are resized',
    );
    assert.deepEqual(values(st.layers.randomCrop({ height: 6, width: 7 }).apply(x, { training: true })), v, 'a full-size crop is the identity');
  });
});

describe('value augmentations', () => {
  it('randomContrast scales each image about its channel means by one factor in [1 - lo, 1 + hi], then clips', () => {
    const shape = [6, 4, 5, 3],
      x = image(shape, 14),
      v = values(x);
    assert.deepEqual(values(st.layers.randomContrast({ factor: 0, valueRange: [0, 1] }).apply(x, { training: true })), v);
    const y = values(st.layers.randomContrast({ factor: [0.3, 0.6], valueRange: [-10, 10], seed: 4 }).apply(x, { training: true }));
    const factors: number[] = [];
    for (let b = 0; b < 6; b++) {
      const means = [0, 1, 2].map((c) => build([1, 4, 5, 1], (_, i, j) => [pixel(v, shape, b, i, j)[c]]).reduce((s, t) => s + t, 0) / 20);
      const at = (i: number, j: number, c: number) => ({ x: pixel(v, shape, b, i, j)[c], y: pixel(y, shape, b, i, j)[c] });
      const p = at(0, 0, 0);
      const f = (p.y - means[0]) / (p.x - means[0]);
      assert.ok(f >= 0.7 - 1e-5 && f <= 1.6 + 1e-5, `factor ${f} in [0.7, 1.6]`);
      factors.push(f);
      const expected = build([1, 4, 5, 3], (_, i, j) => [0, 1, 2].map((c) => (at(i, j, c).x - means[c]) * f + means[c]));
      assertClose(y.slice(b * 60, (b + 1) * 60), expected, 1e-4, 1e-5, `image ${b}`);
    }
    assert.ok(new Set(factors.map((f) => f.toFixed(4))).size > 1, 'factors are drawn per image');
    const clipped = values(st.layers.randomContrast({ factor: 1, valueRange: [0.2, 0.8], seed: 1 }).apply(x, { training: true }));
    assert.ok(
      clipped.every((c) => c >= Math.fround(0.2) && c <= Math.fround(0.8)),
      'clipped to valueRange',
    );
    assert.ok(clipped.some((c) => c === Math.fround(0.2)) && clipped.some((c) => c === Math.fround(0.8)), 'both ends are reached');
  });

  it('gaussianNoise adds N(0, stddev²); gaussianDropout multiplies by N(1, rate / (1 - rate))', () => {
    const stats = (a: number[]) => {
      const m = a.reduce((s, t) => s + t, 0) / a.length;
      return { mean: m, std: Math.sqrt(a.reduce((s, t) => s + (t - m) ** 2, 0) / a.length) };
    };
    const noise = stats(values(st.layers.gaussianNoise({ stddev: 0.5, seed: 1 }).apply(st.full([200, 50], 2), { training: true })));
    assert.ok(Math.abs(noise.mean - 2) < 0.02 && Math.abs(noise.std - 0.5) < 0.02, JSON.stringify(noise));
    const drop = stats(values(st.layers.gaussianDropout({ rate: 0.2, seed: 1 }).apply(st.ones([200, 50]), { training: true })));
    assert.ok(Math.abs(drop.mean - 1) < 0.02 && Math.abs(drop.std - 0.5) < 0.02, JSON.stringify(drop));
    assert.throws(() => st.layers.gaussianDropout({ rate: 1 }), /rate must be a number in \[0, 1\)/);
    assert.throws(() => st.layers.gaussianNoise({ stddev: -1 }), /stddev must be a non-negative number/);
  });
});

describe('preprocessing layers', () => {
  it('resizing matches TF half-pixel bilinear and nearest, up and down, with cropToAspectRatio', async () => {
    for (const backend of available) {
      await withBackendAsync(backend, async () => {
        for (const [from, to] of [
          [
            [2, 7, 9, 3],
            [3, 4],
          ],
          [
            [2, 3, 4, 2],
            [7, 9],
          ],
          [
            [1, 5, 5, 1],
            [5, 8],
          ],
        ] as [number[], number[]][]) {
          const x = image(from, 15),
            v = await read(x);
          for (const interpolation of ['bilinear', 'nearest'] as const) {
            const y = st.layers.resizing({ height: to[0], width: to[1], interpolation }).apply(x);
            await assertCloseAsync(y, refResize(v, from, to[0], to[1], interpolation), 1e-5, 1e-6, `${backend} ${interpolation} ${from} → ${to}`);
          }
        }
        const x = image([2, 6, 9, 2], 16);
        const crop = refAspectCrop(await read(x), [2, 6, 9, 2], 4, 4);
        await assertCloseAsync(
          st.layers.resizing({ height: 4, width: 4, cropToAspectRatio: true }).apply(x),
          refResize(crop.data, crop.shape, 4, 4, 'bilinear'),
          1e-5,
          1e-6,
          'crop to aspect ratio',
        );
      });
    }
    assert.throws(
      () => st.layers.resizing({ height: 4, width: 4, interpolation: 'bicubic' as never }),
      /interpolation must be one of 'bilinear', 'nearest'/,
    );
  });

  it('resizing and rotation have exact gradients (float64 finite differences)', () =>
    withBackend('reference', () => {
      checkGradient((x) => st.layers.resizing({ height: 5, width: 3, dtype: 'float64' }).apply(x), [randomTensor([1, 3, 4, 2], 17)]);
      checkGradient(
        (x) => st.layers.randomRotation({ factor: [0.07, 0.07], dtype: 'float64' }).apply(x, { training: true }),
        [randomTensor([1, 4, 4, 1], 18)],
      );
    }));

  it('centerCrop cuts the centred window (floor offsets); smaller images are resized to fit', () => {
    const shape = [2, 7, 8, 2],
      x = image(shape, 19),
      v = values(x);
    const y = st.layers.centerCrop({ height: 4, width: 5 }).apply(x);
    assert.deepEqual(
      values(y),
      build([2, 4, 5, 2], (b, i, j) => pixel(v, shape, b, i + 1, j + 1)),
    );
    assert.deepEqual([...st.layers.centerCrop({ height: 4, width: 5 }).apply(st.input({ shape: [null, null, 3] })).shape], [null, 4, 5, 3]);
    const small = image([1, 3, 4, 1], 20);
    const crop = refAspectCrop(values(small), [1, 3, 4, 1], 4, 4);
    assertClose(st.layers.centerCrop({ height: 4, width: 4 }).apply(small), refResize(crop.data, crop.shape, 4, 4, 'bilinear'), 1e-5, 1e-6);
  });

  it('rescaling is x · scale + offset in the layer dtype, per channel if given lists', () => {
    const y = st.layers.rescaling({ scale: 1 / 255, offset: -1 }).apply(st.tensor([0, 255, 51, 102], [1, 2, 2, 1], 'int32'));
    assert.equal(y.dtype, 'float32');
    assertClose(y, [-1, 0, -0.8, -0.6], 1e-6);
    assertClose(st.layers.rescaling({ scale: [1, 2, 3], offset: [0, 1, 0] }).apply(st.ones([2, 3])), [1, 3, 3, 1, 3, 3]);
    const layer = st.layers.rescaling({ scale: 0.5 });
    assert.deepEqual(deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(layer)))).getConfig(), layer.getConfig());
    assert.throws(() => st.layers.rescaling({} as never), /scale must be a finite number/);
  });
});

describe('models with augmentation', () => {
  const build = () =>
    st.sequential({
      layers: [
        st.layers.rescaling({ scale: 2, offset: -1, inputShape: [8, 8, 3] }),
        st.layers.randomFlip({ mode: 'horizontal', seed: 1 }),
        st.layers.randomRotation({ factor: 0.05, seed: 2 }),
        st.layers.randomTranslation({ heightFactor: 0.1, widthFactor: 0.1, seed: 3 }),
        st.layers.randomZoom({ heightFactor: 0.1, seed: 4 }),
        st.layers.randomContrast({ factor: 0.2, valueRange: [-3, 3], seed: 5 }),
        st.layers.gaussianNoise({ stddev: 0.05, seed: 6 }),
        st.layers.randomCrop({ height: 7, width: 7, seed: 7 }),
        st.layers.resizing({ height: 8, width: 8 }),
        st.layers.centerCrop({ height: 6, width: 6 }),
        st.layers.conv2d({ filters: 4, kernelSize: 3 }),
        st.layers.groupNormalization({ groups: 2 }),
        st.layers.gaussianDropout({ rate: 0.1, seed: 8 }),
        st.layers.flatten(),
        st.layers.unitNormalization(),
        st.layers.dense({ units: 1 }),
      ],
    });

  it('a model trains with augmentation active: the loss falls', async () => {
    st.setSeed(21);
    const model = st.sequential({
      layers: [
        st.layers.randomFlip({ inputShape: [8, 8, 3] }),
        st.layers.randomRotation({ factor: 0.05 }),
        st.layers.randomTranslation({ heightFactor: 0.1, widthFactor: 0.1 }),
        st.layers.randomZoom({ heightFactor: 0.1 }),
        st.layers.randomContrast({ factor: 0.2, valueRange: [0, 1] }),
        st.layers.gaussianNoise({ stddev: 0.05 }),
        st.layers.randomCrop({ height: 6, width: 6 }),
        st.layers.conv2d({ filters: 4, kernelSize: 3 }),
        st.layers.groupNormalization({ groups: 2 }),
        st.layers.globalAveragePooling2d(),
        st.layers.gaussianDropout({ rate: 0.1 }),
        st.layers.dense({ units: 1 }),
      ],
    });
    // The target, an image's mean brightness, survives every augmentation here (nearly).
    const x = image([32, 8, 8, 3], 22);
    const y = st.mean(x, [1, 2, 3]).reshape([32, 1]).mul(10).sub(5);
    model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.05 }), loss: 'meanSquaredError' });
    const losses = (await model.fit(x, y, { epochs: 10, batchSize: 8, verbose: 0 })).history.loss as number[];
    assert.ok(losses[losses.length - 1] < 0.3 * losses[0], `loss ${losses[0]} → ${losses[losses.length - 1]}`);
  });

  it('a model with every layer of the family predicts deterministically and saves/loads identically', async () => {
    st.setSeed(21);
    const model = build();
    const x = image([16, 8, 8, 3], 22);
    const y = st.tensor(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? 0.5 : -0.5)),
      [16, 1],
    );
    model.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.2 }), loss: 'meanSquaredError' });
    await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    const p = values(model.predict(x) as st.Tensor);
    assert.deepEqual(values(model.predict(x) as st.Tensor), p, 'inference is deterministic');
    const dir = await mkdtemp(join(tmpdir(), 'strata-augment-'));
    try {
      await model.save(dir);
      const loaded = await st.loadModel(dir);
      assert.deepEqual(values(loaded.predict(x) as st.Tensor), p);
      assert.deepEqual(loaded.getConfig(), model.getConfig());
      assert.equal(loaded.countParams(), model.countParams());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
