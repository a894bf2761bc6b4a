import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackend } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'strata-images-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const values = (t: st.Tensor) => Array.from(t.dataSync());
const bytes = (n: number, seed: number) => Uint8Array.from(randomValues(n, seed, 0, 256), Math.floor);

function save(folder: string, name: string, data: Uint8Array): string {
  mkdirSync(join(root, folder), { recursive: true });
  const path = join(root, folder, name);
  writeFileSync(path, data);
  return path;
}

/** Expected [h, w, 3] float values of 8-bit interleaved samples with c channels (alpha dropped). */
function rgbOf(samples: ArrayLike<number>, c: number, max = 255): number[] {
  const out: number[] = [];
  for (let p = 0; p < samples.length / c; p++) {
    for (let k = 0; k < 3; k++) out.push(samples[p * c + (c >= 3 ? k : 0)] / max);
  }
  return out;
}

// Folder layout: root/set/{dog, cat, bird}; class names sort to bird, cat, dog.
const H = 4,
  W = 6;
const rgb = bytes(H * W * 3, 1),
  rgba = bytes(H * W * 4, 2),
  gray = bytes(H * W, 3);
const gray16 = Uint16Array.from(randomValues(H * W, 4, 0, 65536), Math.floor);
const palette: [number, number, number][] = [
  [255, 0, 0],
  [0, 128, 255],
  [10, 20, 30],
];
const indexed = Uint8Array.from(randomValues(H * W, 5, 0, 3), Math.floor);
const bits = Uint8Array.from(randomValues(H * W, 6, 0, 2), Math.floor);
// 1-bit gray rows are packed MSB first and padded to whole bytes (6 pixels → 1 byte per row).
const packedBits = Uint8Array.from({ length: H }, (_, y) => bits.slice(y * W, y * W + W).reduce((acc, b, x) => acc | (b << (7 - x)), 0));
// A smooth colour gradient survives JPEG compression with small error.
const smooth = Uint8Array.from({ length: 8 * 8 * 4 }, (_, k) => {
  const p = k >> 2,
    ch = k & 3;
  return ch === 3 ? 255 : 40 + 20 * (p % 8) + 10 * ch + 5 * (p >> 3);
});

save('set/dog', 'b-rgba.png', encodePng({ width: W, height: H, data: rgba, channels: 4, depth: 8 }));
save('set/dog', 'a-rgb.png', encodePng({ width: W, height: H, data: rgb, channels: 3, depth: 8 }));
save('set/dog', 'notes.txt', new TextEncoder().encode('not an image, skipped by extension'));
save('set/cat', 'gray.png', encodePng({ width: W, height: H, data: gray, channels: 1, depth: 8 }));
save('set/cat', 'gray16.png', encodePng({ width: W, height: H, data: gray16, channels: 1, depth: 16 }));
save('set/cat', 'palette.png', encodePng({ width: W, height: H, data: indexed, channels: 1, depth: 8, palette }));
save('set/cat', 'z-bits.png', encodePng({ width: W, height: H, data: packedBits, channels: 1, depth: 1 }));
save('set/bird', 'photo.jpg', jpeg.encode({ width: 8, height: 8, data: smooth }, 100).data);

test('imageFolder decodes PNG variants and JPEG with sorted classes and int32 labels', async () => {
  const ds = st.data.imageFolder(join(root, 'set'), { imageSize: [H, W] });
  assert.deepEqual(ds.classNames, ['bird', 'cat', 'dog']);
  assert.equal(ds.size, 7);
  const items = await ds.toArray();
  assert.deepEqual(
    items.map((e) => e.ys.item()),
    [0, 1, 1, 1, 1, 2, 2],
  );
  for (const e of items) {
    assert.deepEqual(e.xs.shape, [H, W, 3]);
    assert.equal(e.xs.dtype, 'float32');
    assert.equal(e.ys.dtype, 'int32');
  }
  const [, grayImg, gray16Img, paletteImg, bitsImg, rgbImg, rgbaImg] = items;
  assertClose(values(rgbImg.xs), rgbOf(rgb, 3), 1e-6, 1e-7, 'rgb');
  assertClose(values(rgbaImg.xs), rgbOf(rgba, 4), 1e-6, 1e-7, 'rgba (alpha dropped)');
  assertClose(values(grayImg.xs), rgbOf(gray, 1), 1e-6, 1e-7, 'gray');
  assertClose(values(gray16Img.xs), rgbOf(gray16, 1, 65535), 1e-6, 1e-7, 'gray 16-bit');
  assertClose(
    values(paletteImg.xs),
    Array.from(indexed).flatMap((i) => palette[i].map((v) => v / 255)),
    1e-6,
    1e-7,
    'palette',
  );
  assertClose(values(bitsImg.xs), rgbOf(bits, 1, 1), 1e-6, 1e-7, '1-bit gray');
});

test('imageFolder: JPEG pixels, grayscale luma and bilinear resizing', async () => {
  const bird = join(root, 'set');
  const [photo] = await st.data
    .imageFolder(bird, { imageSize: [8, 8] })
    .take(1)
    .toArray();
  assertClose(values(photo.xs), rgbOf(smooth, 4), 0, 0.03, 'jpeg at quality 100');

  // Grayscale: BT.601 luma of the RGB samples.
  const grayDs = st.data.imageFolder(bird, { imageSize: [H, W], grayscale: true });
  const asGray = (await grayDs.toArray())[5];
  assert.deepEqual(asGray.xs.shape, [H, W, 1]);
  const luma = Array.from({ length: H * W }, (_, p) => (0.299 * rgb[3 * p] + 0.587 * rgb[3 * p + 1] + 0.114 * rgb[3 * p + 2]) / 255);
  assertClose(values(asGray.xs), luma, 1e-5, 1e-6, 'luma');

  // Halving each side with half-pixel centres averages each 2x2 block.
  const half = (await st.data.imageFolder(bird, { imageSize: [H / 2, W / 2] }).toArray())[5];
  const expected: number[] = [];
  for (let i = 0; i < H / 2; i++) {
    for (let j = 0; j < W / 2; j++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (const [di, dj] of [
          [0, 0],
          [0, 1],
          [1, 0],
          [1, 1],
        ])
          s += rgb[((2 * i + di) * W + 2 * j + dj) * 3 + c];
        expected.push(s / 4 / 255);
      }
    }
  }
  assertClose(values(half.xs), expected, 1e-5, 1e-6, 'downscale by 2');

  // Upscaling 4x6 → 7x9 against the half-pixel formula evaluated in float64.
  const up = (await st.data.imageFolder(bird, { imageSize: [7, 9] }).toArray())[5];
  const ref: number[] = [];
  const px = (y: number, x: number, c: number) => rgb[(y * W + x) * 3 + c] / 255;
  for (let i = 0; i < 7; i++) {
    const y = Math.min(Math.max((i + 0.5) * (H / 7) - 0.5, 0), H - 1),
      y0 = Math.floor(y),
      y1 = Math.min(y0 + 1, H - 1),
      fy = y - y0;
    for (let j = 0; j < 9; j++) {
      const x = Math.min(Math.max((j + 0.5) * (W / 9) - 0.5, 0), W - 1),
        x0 = Math.floor(x),
        x1 = Math.min(x0 + 1, W - 1),
        fx = x - x0;
      for (let c = 0; c < 3; c++) {
        ref.push((1 - fy) * ((1 - fx) * px(y0, x0, c) + fx * px(y0, x1, c)) + fy * ((1 - fx) * px(y1, x0, c) + fx * px(y1, x1, c)));
      }
    }
  }
  assertClose(values(up.xs), ref, 1e-5, 1e-6, 'upscale');
});

test('imageFolder: a corrupt image is a FormatError naming the file; bad calls fail at once', async () => {
  const good = encodePng({ width: 2, height: 2, data: bytes(12, 7), channels: 3, depth: 8 });
  save('broken/a', 'ok.png', good);
  const truncated = save('broken/a', 'truncated.png', good.slice(0, good.length - 20));
  await assert.rejects(() => st.data.imageFolder(join(root, 'broken'), { imageSize: [2, 2] }).toArray(), {
    name: 'FormatError',
    message: new RegExp(`imageFolder: '${truncated.replace(/[.]/g, '\\.')}' is a corrupt image`),
  });
  const garbage = save('garbage/a', 'x.jpg', new TextEncoder().encode('hello'));
  await assert.rejects(() => st.data.imageFolder(join(root, 'garbage'), { imageSize: [2, 2] }).toArray(), {
    name: 'FormatError',
    message: `imageFolder: '${garbage}' is not a PNG or JPEG file (unrecognised signature)`,
  });
  assert.throws(() => st.data.imageFolder(join(root, 'nowhere'), { imageSize: [2, 2] }), { name: 'ValueError', message: /not a readable folder/ });
  assert.throws(
    () => st.data.imageFolder(join(root, 'set'), { imageSize: [0, 2] }),
    /imageSize must be \[height, width\] with positive integers; received \[0,2\]/,
  );
  assert.throws(() => st.data.imageFolder(join(root, 'set'), { imageSize: [2, 2], colour: 'rgb' } as never), /unknown option 'colour'/);
});

/** A [n, h, w, 1] batch whose images are distinct random values. */
function batchOf(n: number, h: number, w: number, seed = 11) {
  const v = randomValues(n * h * w, seed, 0, 1);
  return { v, t: st.tensor(v, [n, h, w, 1]) };
}

const pixel = (v: number[], h: number, w: number, n: number, i: number, j: number) => v[(n * h + i) * w + j];

test('augment.flipLeftRight mirrors columns, per image, with the given probability', () => {
  const { v, t } = batchOf(64, 3, 4);
  const always = values(st.data.augment.flipLeftRight({ probability: 1 })(t));
  const never = values(st.data.augment.flipLeftRight({ probability: 0 })(t));
  assertClose(never, v);
  assertClose(
    always,
    v.map((_, k) => {
      const n = Math.floor(k / 12),
        i = Math.floor((k % 12) / 4),
        j = k % 4;
      return pixel(v, 3, 4, n, i, 3 - j);
    }),
  );
  const out = values(st.data.augment.flipLeftRight({ seed: 5 })(t));
  let flipped = 0;
  for (let n = 0; n < 64; n++) {
    const img = out.slice(12 * n, 12 * n + 12);
    const asIs = img.every((x, k) => x === v[12 * n + k]),
      mirrored = img.every((x, k) => x === always[12 * n + k]);
    assert.ok(asIs || mirrored, `image ${n} is neither itself nor its mirror`);
    if (mirrored) flipped++;
  }
  assert.ok(flipped > 16 && flipped < 48, `flipped ${flipped} of 64`);
  assert.deepEqual(values(st.data.augment.flipLeftRight({ seed: 5 })(t)), out, 'seeded: reproducible');
});

test('augment.rotate, translate and zoom sample the expected source pixels', () => {
  const { v, t } = batchOf(2, 3, 3);
  // Rotating a square by exactly 90 degrees counter-clockwise: out[i][j] = in[j][w-1-i].
  const r90 = values(st.data.augment.rotate([90, 90])(t));
  assertClose(
    r90,
    v.map((_, k) => {
      const n = Math.floor(k / 9),
        i = Math.floor((k % 9) / 3),
        j = k % 3;
      return pixel(v, 3, 3, n, j, 2 - i);
    }),
    1e-5,
    1e-6,
  );
  assertClose(values(st.data.augment.rotate(0)(t)), v);
  // Shifting a 4x4 image by a quarter moves it one pixel down and right; 'constant' fills with fillValue.
  const { v: v4, t: t4 } = batchOf(1, 4, 4, 12);
  const shifted = values(st.data.augment.translate([0.25, 0.25], { fillMode: 'constant', fillValue: -1 })(t4));
  assertClose(
    shifted,
    v4.map((_, k) => {
      const i = Math.floor(k / 4),
        j = k % 4;
      return i === 0 || j === 0 ? -1 : pixel(v4, 4, 4, 0, i - 1, j - 1);
    }),
    1e-5,
    1e-6,
  );
  const reflected = values(st.data.augment.translate([0.25, 0.25])(t4));
  assertClose(reflected.slice(0, 4), [v4[0], v4[0], v4[1], v4[2]], 1e-5, 1e-6, 'reflect repeats the edge row');
  // Zoom about the centre of a column ramp (value = column): bilinear reproduces lines exactly.
  // Zooming out, the middle row samples the middle row; the outer rows fall outside and are filled.
  const ramp = st.tensor(
    Array.from({ length: 15 }, (_, k) => k % 5),
    [3, 5, 1],
  );
  assertClose(values(st.data.augment.zoom([2, 2])(ramp)).slice(0, 5), [1, 1.5, 2, 2.5, 3], 1e-6, 1e-6, 'zoom in');
  assertClose(values(st.data.augment.zoom([0.5, 0.5], { fillMode: 'constant' })(ramp)).slice(5, 10), [0, 0, 2, 4, 0], 1e-6, 1e-6, 'zoom out');
  // Random angles differ per image and replay under the same seed.
  const { t: many } = batchOf(8, 5, 5, 13);
  const a = values(st.data.augment.rotate(30, { seed: 2 })(many));
  assert.deepEqual(values(st.data.augment.rotate(30, { seed: 2 })(many)), a);
  const aug = st.data.augment.rotate(30, { seed: 2 });
  aug(many);
  assert.notDeepEqual(values(aug(many)), a, 'a second call draws new angles');
});

test('augment.randomCrop cuts windows at random places; gaussianNoise has the asked spread', () => {
  const { v, t } = batchOf(40, 5, 6, 14);
  const crops = st.data.augment.randomCrop([2, 3], { seed: 1 })(t);
  assert.deepEqual(crops.shape, [40, 2, 3, 1]);
  const c = values(crops);
  const offsets = new Set<string>();
  for (let n = 0; n < 40; n++) {
    let found = '';
    for (let top = 0; top <= 3 && !found; top++) {
      for (let left = 0; left <= 3 && !found; left++) {
        let same = true;
        for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) same &&= c[(n * 2 + i) * 3 + j] === Math.fround(pixel(v, 5, 6, n, top + i, left + j));
        if (same) found = `${top},${left}`;
      }
    }
    assert.ok(found, `crop ${n} is not a window of its image`);
    offsets.add(found);
  }
  assert.ok(offsets.size >= 8, `only ${offsets.size} distinct offsets`);
  assert.throws(() => st.data.augment.randomCrop([6, 1])(t), { name: 'ShapeError' });

  const zeros = st.zeros([32, 8, 8, 1]);
  const noisy = st.data.augment.gaussianNoise(0.5, { seed: 3 })({ xs: zeros, ys: st.tensor([1]) });
  assert.deepEqual(values(noisy.ys), [1], 'the rest of the element is kept');
  const n = values(noisy.xs);
  const mean = n.reduce((s, x) => s + x, 0) / n.length;
  const sd = Math.sqrt(n.reduce((s, x) => s + (x - mean) ** 2, 0) / n.length);
  assert.ok(Math.abs(mean) < 0.05 && Math.abs(sd - 0.5) < 0.04, `mean ${mean}, sd ${sd}`);
  st.setSeed(9);
  const g1 = values(st.data.augment.gaussianNoise(1)(zeros));
  st.setSeed(9);
  assert.deepEqual(values(st.data.augment.gaussianNoise(1)(zeros)), g1, 'st.setSeed makes unseeded draws reproducible');
});

test('augmenters work inside map on {xs, ys} elements, keep float64, and reject bad input', async () => {
  const ds = st.data.imageFolder(join(root, 'set'), { imageSize: [H, W] });
  const flipped = await ds.map(st.data.augment.flipLeftRight({ probability: 1 })).toArray();
  const plain = await ds.toArray();
  flipped.forEach((e, k) => {
    assert.equal(e.ys.item(), plain[k].ys.item());
    assertClose(values(e.xs), values(st.gather(plain[k].xs, st.tensor([5, 4, 3, 2, 1, 0], [6], 'int32'), 1)));
  });
  if (st.backends().some((b) => b.name === 'reference' && b.available)) {
    withBackend('reference', () => {
      const x = st.tensor([0.1, 0.2, 0.3, 0.4], [1, 2, 2, 1], 'float64');
      const y = st.data.augment.flipLeftRight({ probability: 1 })(x);
      assert.equal(y.dtype, 'float64');
      assert.deepEqual(values(y), [0.2, 0.1, 0.4, 0.3]);
    });
  }
  assert.throws(() => st.data.augment.rotate('a' as never), /augment.rotate: maxDegrees must be a non-negative number or an interval/);
  assert.throws(() => st.data.augment.zoom(1), /augment.zoom: zoom factors must stay positive/);
  assert.throws(
    () => st.data.augment.translate(0.1, { fillMode: 'mirror' as never }),
    /fillMode must be one of 'reflect', 'constant', 'nearest', 'wrap'; received "mirror"/,
  );
  assert.throws(() => st.data.augment.gaussianNoise(-1), /stddev must be a non-negative number; received -1/);
  assert.throws(() => st.data.augment.flipLeftRight()(st.zeros([2, 2], 'int32').reshape([1, 2, 2])), { name: 'DtypeError' });
  assert.throws(() => st.data.augment.flipLeftRight()(st.zeros([2, 2])), { name: 'ShapeError' });
});
