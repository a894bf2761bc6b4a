// st.image against @tensorflow/tfjs 4.22 on its CPU backend (the oracle for tfjs's names, and for
// Keras's where TF's definition is the same), on every Strata backend in float32 and on the
// reference backend in float64; float64 finite differences for the differentiable ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as st from '../src/index.js';
import { fixtureRuns } from './fixture-harness.js';
import { rt } from './grad-check.js';
import { checkGradient, randomValues, throwsWith, withBackend, withBackendAsync } from './helpers.js';

await tf.setBackend('cpu');
const runs = await fixtureRuns();

/** Deterministic random values, and the same values as a tfjs tensor and as a Strata one. */
const values = (shape: number[], seed: number, lo = 0, hi = 1) =>
  randomValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
    lo,
    hi,
  );
const both = (shape: number[], seed: number, dtype: st.DType, lo = 0, hi = 1) => {
  const v = values(shape, seed, lo, hi);
  return { t: tf.tensor(v, shape), s: st.tensor(v, shape, dtype) };
};

async function close(actual: st.Tensor, expected: tf.Tensor, what: string, atol: number): Promise<void> {
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape`);
  const a = await actual.data(),
    b = await expected.data();
  let worst = 0,
    at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= atol, `${what}: max difference ${worst} at ${at} (${a[at]} vs ${b[at]})`);
}

/** Boxes [n, 4] with some corners outside [0, 1] and some flipped (y1 > y2); digits that keep nearest sampling off exact halves (tfjs reads them in float32). */
const BOXES = [
  [0.1137, 0.2261, 0.8042, 0.9013],
  [0.7219, 0.1084, 0.2175, 0.6321],
  [-0.2113, 0.3046, 0.5127, 1.3309],
  [0.0613, 0.0471, 0.9526, 0.9388],
  [0.4172, 0.3891, 0.4172, 0.3891],
];
const BOX_IND = [0, 1, 1, 0, 1];

/** Transforms [a0..c1]: rotation + shift, scale, shear with projective terms, and one that leaves the image. */
const TRANSFORMS = [
  [0.9137, -0.3122, 1.2231, 0.3514, 0.9476, -0.8129, 0, 0],
  [1.4173, 0, -2.5311, 0, 0.7219, 1.1083, 0, 0],
  [1.1042, 0.2131, -0.6187, -0.1529, 1.0517, 0.4113, 0.0213, -0.0157],
  [1, 0, 7.3117, 0, 1, -6.2219, 0, 0],
];

for (const run of runs) {
  const atol = run.dtype === 'float64' ? 1e-5 : 2e-5; // tfjs computes in float32
  describe(`st.image against tfjs on ${run.backend} (${run.dtype})`, () => {
    const on = (name: string, f: () => Promise<void>) => it(name, () => withBackendAsync(run.backend, f));

    on('resizeBilinear: plain, alignCorners, halfPixelCenters; up and down', async () => {
      const { t, s } = both([2, 5, 7, 3], 1, run.dtype);
      for (const size of [
        [9, 4],
        [3, 11],
        [1, 1],
      ] as [number, number][]) {
        for (const [ac, hp] of [
          [false, false],
          [true, false],
          [false, true],
        ]) {
          await close(
            st.image.resizeBilinear(s, size, ac, hp),
            tf.image.resizeBilinear(t as tf.Tensor4D, size, ac, hp),
            `${size} ac=${ac} hp=${hp}`,
            atol,
          );
        }
      }
      // One image of rank 3 comes back as one image.
      await close(
        st.image.resizeBilinear(st.tensor(values([4, 6, 2], 2), [4, 6, 2], run.dtype), [5, 3]),
        tf.image.resizeBilinear(tf.tensor(values([4, 6, 2], 2), [4, 6, 2]) as tf.Tensor3D, [5, 3]),
        'rank 3',
        atol,
      );
    });

    on('resizeNearestNeighbor: plain, alignCorners, halfPixelCenters; up and down', async () => {
      const { t, s } = both([2, 5, 7, 2], 3, run.dtype);
      for (const size of [
        [9, 4],
        [3, 12],
        [1, 2],
      ] as [number, number][]) {
        for (const [ac, hp] of [
          [false, false],
          [true, false],
          [false, true],
        ]) {
          await close(
            st.image.resizeNearestNeighbor(s, size, ac, hp),
            tf.image.resizeNearestNeighbor(t as tf.Tensor4D, size, ac, hp),
            `${size} ac=${ac} hp=${hp}`,
            0,
          );
        }
      }
    });

    on('resize (Keras): TF resize = half-pixel centres', async () => {
      const { t, s } = both([2, 6, 5, 3], 4, run.dtype);
      await close(st.image.resize(s, [9, 4]), tf.image.resizeBilinear(t as tf.Tensor4D, [9, 4], false, true), 'bilinear', atol);
      await close(
        st.image.resize(s, [4, 8], { interpolation: 'nearest' }),
        tf.image.resizeNearestNeighbor(t as tf.Tensor4D, [4, 8], false, true),
        'nearest',
        0,
      );
      const first = st.transpose(s, [0, 3, 1, 2]);
      await close(
        st.transpose(st.image.resize(first, [7, 3], { dataFormat: 'channels_first' }), [0, 2, 3, 1]),
        tf.image.resizeBilinear(t as tf.Tensor4D, [7, 3], false, true),
        'channels_first',
        atol,
      );
      // cropToAspectRatio: the centred 5 x 5 window of the 6 x 5 images (top row 0), then resized.
      const window = tf.slice(t, [0, 0, 0, 0], [2, 5, 5, 3]);
      await close(
        st.image.resize(s, [3, 3], { cropToAspectRatio: true }),
        tf.image.resizeBilinear(window as tf.Tensor4D, [3, 3], false, true),
        'cropToAspectRatio',
        atol,
      );
      // padToAspectRatio: 6 x 4 padded to 6 x 6, one column on each side (Keras pads both sides
      // alike; an odd surplus, as 6 x 5, is not padded at all).
      const narrow = both([2, 6, 4, 3], 15, run.dtype);
      const padded = tf.pad(narrow.t, [
        [0, 0],
        [0, 0],
        [1, 1],
        [0, 0],
      ]);
      await close(
        st.image.resize(narrow.s, [4, 4], { padToAspectRatio: true }),
        tf.image.resizeBilinear(padded as tf.Tensor4D, [4, 4], false, true),
        'padToAspectRatio',
        atol,
      );
      await close(
        st.image.resize(s, [4, 4], { padToAspectRatio: true }),
        tf.image.resizeBilinear(t as tf.Tensor4D, [4, 4], false, true),
        'odd surplus',
        atol,
      );
    });

    on('cropAndResize: bilinear and nearest, boxes partly outside and flipped', async () => {
      const { t, s } = both([2, 6, 8, 3], 5, run.dtype);
      for (const method of ['bilinear', 'nearest'] as const) {
        for (const size of [
          [4, 5],
          [1, 3],
        ] as [number, number][]) {
          const ours = st.image.cropAndResize(s, BOXES, BOX_IND, size, method, -0.5);
          const theirs = tf.image.cropAndResize(t as tf.Tensor4D, tf.tensor2d(BOXES), tf.tensor1d(BOX_IND, 'int32'), size, method, -0.5);
          await close(ours, theirs, `${method} ${size}`, atol);
        }
      }
    });

    on('transform: every fill mode and interpolation, projective rows, another output shape', async () => {
      // tfjs 4.22's CPU kernel fills every image after the first with the fill value, so each
      // image is compared on its own.
      const { t, s } = both([1, 7, 6, 2], 6, run.dtype);
      for (const interpolation of ['nearest', 'bilinear'] as const) {
        for (const fillMode of ['constant', 'reflect', 'wrap', 'nearest'] as const) {
          for (const [k, row] of TRANSFORMS.entries()) {
            for (const outputShape of [undefined, [5, 9] as [number, number]]) {
              const ours = st.image.transform(s, [row], { interpolation, fillMode, fillValue: 0.25, outputShape });
              const theirs = tf.image.transform(t as tf.Tensor4D, tf.tensor2d([row]), interpolation, fillMode, 0.25, outputShape);
              await close(ours, theirs, `${interpolation} ${fillMode} transform ${k} ${outputShape ?? ''}`, atol);
            }
          }
        }
      }
      // A batch with one row per image: each image as tfjs transforms it alone.
      const batch = st.tensor(values([3, 7, 6, 2], 7), [3, 7, 6, 2], run.dtype);
      const ours = st.image.transform(batch, TRANSFORMS.slice(0, 3), { interpolation: 'bilinear', fillMode: 'reflect' });
      for (let b = 0; b < 3; b++) {
        const one = tf.tensor(values([3, 7, 6, 2], 7).slice(b * 84, (b + 1) * 84), [1, 7, 6, 2]);
        const theirs = tf.image.transform(one as tf.Tensor4D, tf.tensor2d([TRANSFORMS[b]]), 'bilinear', 'reflect');
        await close(st.slice(ours, [b, 0, 0, 0], [1, 7, 6, 2]), theirs, `batch image ${b}`, atol);
      }
    });

    on('affineTransform (Keras): as TF for constant and nearest fill', async () => {
      const { t, s } = both([1, 7, 6, 2], 8, run.dtype);
      for (const interpolation of ['nearest', 'bilinear'] as const) {
        for (const fillMode of ['constant', 'nearest'] as const) {
          for (const [k, row] of [TRANSFORMS[0], TRANSFORMS[1], TRANSFORMS[3]].entries()) {
            const ours = st.image.affineTransform(s, row, { interpolation, fillMode, fillValue: 0.5 });
            const theirs = tf.image.transform(t as tf.Tensor4D, tf.tensor2d([row]), interpolation, fillMode, 0.5);
            await close(ours, theirs, `${interpolation} ${fillMode} ${k}`, atol);
          }
        }
      }
    });

    on('rotateWithOffset: fill number and RGB, centre number and pair', async () => {
      const { t, s } = both([2, 7, 8, 4], 9, run.dtype);
      const cases: [number, number | [number, number, number], number | [number, number]][] = [
        [0.6, 0, 0.5],
        [-1.9, [0.1, 0.2, 0.3], [0.3, 0.7]],
        [Math.PI / 2, 0.5, 0.25],
      ];
      for (const [radians, fill, center] of cases) {
        await close(
          st.image.rotateWithOffset(s, radians, fill, center),
          tf.image.rotateWithOffset(t as tf.Tensor4D, radians, fill, center),
          `${radians} ${fill} ${center}`,
          run.dtype === 'float64' ? 1e-7 : 0,
        );
      }
    });

    on('flipLeftRight and rgbToGrayscale (float and int32)', async () => {
      const { t, s } = both([2, 4, 5, 3], 10, run.dtype);
      await close(st.image.flipLeftRight(s), tf.image.flipLeftRight(t as tf.Tensor4D), 'flipLeftRight', 0);
      await close(st.image.rgbToGrayscale(s), tf.image.rgbToGrayscale(t as tf.Tensor4D), 'gray float', atol);
      const ints = values([3, 4, 3], 11, 0, 255).map(Math.floor);
      await close(
        st.image.rgbToGrayscale(st.tensor(ints, [3, 4, 3], 'int32')),
        tf.image.rgbToGrayscale(tf.tensor3d(ints, [3, 4, 3], 'int32')),
        'gray int32',
        0,
      );
      const first = st.transpose(s, [0, 3, 1, 2]);
      await close(
        st.transpose(st.image.rgbToGrayscale(first, { dataFormat: 'channels_first' }), [0, 2, 3, 1]),
        tf.image.rgbToGrayscale(t as tf.Tensor4D),
        'gray channels_first',
        atol,
      );
    });

    on('nonMaxSuppression family (async on every backend, sync where the backend reads synchronously)', async () => {
      const n = 40;
      const centres = values([n, 2], 12, 0, 1),
        sizes = values([n, 2], 13, 0.05, 0.4);
      const boxes: number[][] = [];
      for (let i = 0; i < n; i++) {
        const [cy, cx] = [centres[2 * i], centres[2 * i + 1]],
          [h, w] = [sizes[2 * i], sizes[2 * i + 1]];
        // Every third box has its corners given in the other order.
        boxes.push(i % 3 === 0 ? [cy + h / 2, cx + w / 2, cy - h / 2, cx - w / 2] : [cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2]);
      }
      const scoreValues = values([n], 14);
      scoreValues[7] = scoreValues[3]; // a tie: the lower index goes first
      const tb = tf.tensor2d(boxes),
        ts = tf.tensor1d(scoreValues);
      const sb = st.tensor(boxes, [n, 4], run.dtype),
        ss = st.tensor(scoreValues, [n], run.dtype);
      const sync = run.backend !== 'webgpu';
      for (const [max, iou, thr] of [
        [10, 0.5, Number.NEGATIVE_INFINITY],
        [40, 0.3, 0.2],
        [5, 0.7, 0.5],
        [60, 0, 0.1],
      ]) {
        const what = `max ${max} iou ${iou} score ${thr}`;
        const expected = tf.image.nonMaxSuppression(tb, ts, max, iou, thr);
        await close(await st.image.nonMaxSuppressionAsync(sb, ss, max, iou, thr), expected, what, 0);
        if (sync) await close(st.image.nonMaxSuppression(sb, ss, max, iou, thr), expected, `${what} sync`, 0);
        for (const pad of [false, true]) {
          const e = tf.image.nonMaxSuppressionPadded(tb, ts, max, iou, thr, pad);
          const o = await st.image.nonMaxSuppressionPaddedAsync(sb, ss, max, iou, thr, pad);
          await close(o.selectedIndices, e.selectedIndices, `${what} padded ${pad}`, 0);
          await close(o.validOutputs, e.validOutputs, `${what} validOutputs`, 0);
          if (sync)
            await close(st.image.nonMaxSuppressionPadded(sb, ss, max, iou, thr, pad).selectedIndices, e.selectedIndices, `${what} padded sync`, 0);
        }
        for (const sigma of [0, 0.3, 1]) {
          const e = tf.image.nonMaxSuppressionWithScore(tb, ts, max, iou, thr, sigma);
          const o = await st.image.nonMaxSuppressionWithScoreAsync(sb, ss, max, iou, thr, sigma);
          await close(o.selectedIndices, e.selectedIndices, `${what} sigma ${sigma}`, 0);
          await close(o.selectedScores, e.selectedScores, `${what} sigma ${sigma} scores`, 1e-6);
          if (sync)
            await close(
              st.image.nonMaxSuppressionWithScore(sb, ss, max, iou, thr, sigma).selectedScores,
              e.selectedScores,
              `${what} sync scores`,
              1e-6,
            );
        }
      }
    });
  });
}

describe('st.image: float64 finite differences (reference backend)', () => {
  const check = (what: string, f: (x: st.Tensor) => st.Tensor, shape: number[], seed: number, lo = 0, hi = 1) =>
    it(what, () => withBackend('reference', () => checkGradient(f, [rt(shape, seed, lo, hi)], { what, rtol: 1e-6, atol: 1e-8 })));
  check('resizeBilinear', (x) => st.image.resizeBilinear(x, [7, 3]), [2, 4, 5, 2], 1);
  check('resizeBilinear alignCorners', (x) => st.image.resizeBilinear(x, [6, 8], true), [1, 4, 5, 2], 2);
  check('resizeNearestNeighbor halfPixelCenters', (x) => st.image.resizeNearestNeighbor(x, [6, 3], false, true), [1, 4, 5, 2], 3);
  check('resize (Keras)', (x) => st.image.resize(x, [3, 7]), [1, 5, 4, 3], 4);
  check('cropAndResize', (x) => st.image.cropAndResize(x, BOXES, BOX_IND, [3, 4], 'bilinear', 0.5), [2, 5, 6, 2], 5);
  check(
    'transform bilinear reflect',
    (x) => st.image.transform(x, [TRANSFORMS[2]], { interpolation: 'bilinear', fillMode: 'reflect' }),
    [1, 5, 6, 2],
    6,
  );
  check('affineTransform', (x) => st.image.affineTransform(x, TRANSFORMS[0], { fillValue: 0.3 }), [1, 5, 6, 2], 7);
  check('rotateWithOffset', (x) => st.image.rotateWithOffset(x, 0.7, 0.2), [1, 5, 6, 2], 8);
  check('rgbToGrayscale', (x) => st.image.rgbToGrayscale(x), [2, 3, 4, 3], 9);
});

describe('st.image: errors', () => {
  it('names what was expected and what was received', () => {
    const x = st.zeros([1, 4, 4, 3]);
    throwsWith(() => st.image.resizeBilinear(st.zeros([4, 4]), [2, 2]), st.ShapeError, /rank 3 .* or 4/, /\[4, 4\]/);
    throwsWith(() => st.image.resizeBilinear(x, [2, 0]), st.ValueError, /size must be \[height, width\]/);
    throwsWith(() => st.image.resizeBilinear(x, [2, 2], true, true), st.ValueError, /cannot both be true/);
    throwsWith(() => st.image.cropAndResize(x, [[0, 0, 1]], [0], [2, 2]), st.ShapeError, /boxes must have shape \[n, 4\]/);
    throwsWith(() => st.image.cropAndResize(x, [[0, 0, 1, 1]], [3], [2, 2]), st.ValueError, /boxInd\[0\] must be in \[0, 1\)/);
    throwsWith(() => st.image.transform(x, [[1, 0, 0, 0, 1, 0, 0, 0]], { fillMode: 'mirror' as 'wrap' }), st.ValueError, /fillMode/);
    throwsWith(() => st.image.transform(x, [[1, 0, 0, 0, 1, 0, 0, 0]], { bogus: 1 } as object), st.ValueError, /bogus/);
    throwsWith(() => st.image.affineTransform(x, [1, 0, 0, 0, 1, 0, 0.1, 0]), st.ValueError, /projective terms/);
    throwsWith(() => st.image.rgbToGrayscale(st.zeros([2, 4])), st.ShapeError, /3 channels/);
    throwsWith(() => st.image.rgbToHsv(st.zeros([2, 3], 'int32')), st.DtypeError, /must be float/);
    throwsWith(() => st.image.nonMaxSuppression(st.zeros([3, 4]), st.zeros([2]), 2), st.ShapeError, /scores must have shape \[3\]/);
    throwsWith(() => st.image.nonMaxSuppression(st.zeros([3, 4]), st.zeros([3]), 2, 1.5), st.ValueError, /iouThreshold must be in \[0, 1\]/);
  });
});
