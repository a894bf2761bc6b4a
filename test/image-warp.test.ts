// st.image.mapCoordinates against test/fixtures/image-map-coordinates.json
// (scripts/make_image_map_coordinates_fixtures.py: PyTorch 1.13's grid_sample and Keras 3.15's
// definition) and st.image.perspectiveTransform against tfjs 4.22's transform with the same
// homography (constant fill, where TF's rule and Keras's agree), on every backend in float32 and
// on the reference backend in float64; float64 finite differences; the errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as st from '../src/index.js';
import { homography } from '../src/nn/image/warp.js';
import { fixtureRuns, loadFixture } from './fixture-harness.js';
import { rt } from './grad-check.js';
import { assertCloseAsync, checkGradient, randomValues, throwsWith, withBackend, withBackendAsync } from './helpers.js';

interface Case {
  name: string;
  order: 0 | 1;
  fillMode: st.CoordinateFillMode;
  fillValue: number;
  shape: number[];
  input: number[];
  coordShape: number[];
  coordinates: number[];
  output: number[];
}
const { cases } = loadFixture<Case>('image-map-coordinates.json');
await tf.setBackend('cpu');
const runs = await fixtureRuns();

/** Flat values as nested arrays of `shape` (host data every backend can take). */
function nest(values: number[], shape: number[]): unknown {
  if (shape.length === 1) return values.slice(0, shape[0]);
  const step = values.length / shape[0];
  return Array.from({ length: shape[0] }, (_, i) => nest(values.slice(i * step, (i + 1) * step), shape.slice(1)));
}

const START = [
  [0.4, 0.7],
  [6.3, 0.2],
  [5.6, 6.1],
  [0.9, 5.3],
];
const END = [
  [0.1, 0.3],
  [6.8, 0.9],
  [6.2, 5.7],
  [0.2, 6.4],
];

for (const run of runs) {
  describe(`st.image warps on ${run.backend} (${run.dtype})`, () => {
    for (const c of cases) {
      it(`mapCoordinates ${c.name}`, () =>
        withBackendAsync(run.backend, async () => {
          const x = st.tensor(c.input, c.shape, run.dtype);
          const y = st.image.mapCoordinates(x, nest(c.coordinates, c.coordShape) as number[][][], c.order, {
            fillMode: c.fillMode,
            fillValue: c.fillValue,
          });
          assert.deepEqual([...y.shape], c.coordShape.slice(1));
          await assertCloseAsync(y, c.output, run.rtol, run.atol, c.name);
        }));
    }
    it('perspectiveTransform: as tfjs transform with the homography (constant fill)', () =>
      withBackendAsync(run.backend, async () => {
        const v = randomValues(2 * 7 * 8 * 3, 5, 0, 1);
        const x = st.tensor(v, [2, 7, 8, 3], run.dtype);
        const coefficients = homography(START, END);
        for (const interpolation of ['bilinear', 'nearest'] as const) {
          const ours = st.image.perspectiveTransform(x, START, END, { interpolation, fillValue: 0.25 });
          const theirs = tf.image.transform(
            tf.tensor(v, [2, 7, 8, 3]) as tf.Tensor4D,
            tf.tensor2d([coefficients, coefficients]),
            interpolation,
            'constant',
            0.25,
          );
          // tfjs 4.22's CPU kernel fills every image after the first, so the first is compared.
          await assertCloseAsync(
            st.slice(ours, [0, 0, 0, 0], [1, 7, 8, 3]),
            Array.from(await theirs.slice([0], [1]).data()),
            1e-4,
            2e-5,
            interpolation,
          );
          // The second image gets the same map.
          await assertCloseAsync(
            st.slice(ours, [1, 0, 0, 0], [1, 7, 8, 3]),
            st.image.perspectiveTransform(st.slice(x, [1, 0, 0, 0], [1, 7, 8, 3]), START, END, { interpolation, fillValue: 0.25 }),
            1e-12,
            1e-12,
            'batch',
          );
        }
        const first = st.image.perspectiveTransform(st.transpose(x, [0, 3, 1, 2]), [START], [END], { dataFormat: 'channels_first' });
        await assertCloseAsync(st.transpose(first, [0, 2, 3, 1]), st.image.perspectiveTransform(x, START, END), 1e-6, 1e-7, 'channels_first');
      }));
  });
}

describe('st.image warps: the homography and gradients (reference backend)', () => {
  it('homography takes each end point to its start point', () => {
    const [a0, a1, a2, a3, a4, a5, a6, a7] = homography(START, END);
    for (let k = 0; k < 4; k++) {
      const [x, y] = END[k];
      const d = a6 * x + a7 * y + 1;
      assert.ok(
        Math.abs((a0 * x + a1 * y + a2) / d - START[k][0]) < 1e-9 && Math.abs((a3 * x + a4 * y + a5) / d - START[k][1]) < 1e-9,
        `corner ${k}`,
      );
    }
  });
  const check = (what: string, f: (x: st.Tensor) => st.Tensor, shape: number[]) =>
    it(what, () => withBackend('reference', () => checkGradient(f, [rt(shape, 9)], { what, rtol: 1e-6, atol: 1e-8 })));
  const coords = nest(
    randomValues(2 * 12, 3, -1.5, 6.5).map((v) => v),
    [2, 12],
  ) as number[][];
  check('mapCoordinates order 1 reflect', (x) => st.image.mapCoordinates(x, coords, 1, { fillMode: 'reflect' }), [5, 6]);
  check('mapCoordinates order 1 constant', (x) => st.image.mapCoordinates(x, coords, 1, { fillValue: 0.5 }), [5, 6]);
  check('perspectiveTransform', (x) => st.image.perspectiveTransform(x, START, END, { fillValue: 0.3 }), [1, 7, 8, 2]);
  it('errors name what was expected and what was received', () => {
    throwsWith(() => st.image.mapCoordinates(st.zeros([3, 4]), [[0, 1]], 1), st.ShapeError, /coordinates must have shape \[2, \.\.\.\]/);
    throwsWith(() => st.image.mapCoordinates(st.zeros([3, 4]), coords, 1, { fillMode: 'edge' as 'wrap' }), st.ValueError, /fillMode/);
    throwsWith(() => st.image.mapCoordinates(st.zeros([3, 4]), coords, 3 as 1), st.ValueError, /order must be 0 or 1/);
    throwsWith(() => st.image.perspectiveTransform(st.zeros([1, 4, 4, 1]), [[0, 0]], END), st.ShapeError, /startPoints must have shape \[4, 2\]/);
    const line = [
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
    ];
    throwsWith(() => st.image.perspectiveTransform(st.zeros([1, 4, 4, 1]), line, line), st.ValueError, /do not define a homography/);
  });
});
