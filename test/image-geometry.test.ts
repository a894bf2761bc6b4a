// st.image.extractPatches, extractPatches3d, gaussianBlur, cropImages and padImages against
// test/fixtures/image-geometry.json (scripts/make_image_geometry_fixtures.py: PyTorch 1.13 written
// to Keras 3.15's definitions), on every backend in float32 and on the reference backend in
// float64, channels last and first; float64 finite differences; the errors.
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fixtureRuns, loadFixture } from './fixture-harness.js';
import { rt } from './grad-check.js';
import { assertCloseAsync, checkGradient, throwsWith, withBackend, withBackendAsync } from './helpers.js';

interface Case {
  op: 'extractPatches' | 'extractPatches3d' | 'gaussianBlur' | 'cropImages' | 'padImages';
  name: string;
  size?: number[];
  options: Record<string, unknown>;
  shape: number[];
  input: number[];
  outShape: number[];
  output: number[];
}
const { cases } = loadFixture<Case>('image-geometry.json');
const runs = await fixtureRuns();

/** The channel axis moved next to the batch axis and back, for images (rank 4) and volumes (rank 5). */
const toFirst = (rank: number) => (rank === 4 ? [0, 3, 1, 2] : [0, 4, 1, 2, 3]);
const toLast = (rank: number) => (rank === 4 ? [0, 2, 3, 1] : [0, 2, 3, 4, 1]);

function apply(c: Case, x: st.Tensor, extra: Record<string, unknown> = {}): st.Tensor {
  const o = { ...c.options, ...extra };
  switch (c.op) {
    case 'extractPatches':
      return st.image.extractPatches(x, c.size as [number, number], o);
    case 'extractPatches3d':
      return st.image.extractPatches3d(x, c.size as [number, number, number], o);
    case 'gaussianBlur':
      return st.image.gaussianBlur(x, o);
    case 'cropImages':
      return st.image.cropImages(x, o);
    case 'padImages':
      return st.image.padImages(x, o);
  }
}

for (const run of runs) {
  describe(`st.image windows, crops and blurs on ${run.backend} (${run.dtype})`, () => {
    for (const c of cases) {
      it(c.name, () =>
        withBackendAsync(run.backend, async () => {
          const x = st.tensor(c.input, c.shape, run.dtype);
          const y = apply(c, x);
          await assertCloseAsync(y, st.tensor(c.output, c.outShape, run.dtype), run.rtol, run.atol, c.name);
          const first = apply(c, st.transpose(x, toFirst(x.rank)), { dataFormat: 'channels_first' });
          await assertCloseAsync(
            st.transpose(first, toLast(x.rank)),
            st.tensor(c.output, c.outShape, run.dtype),
            run.rtol,
            run.atol,
            `${c.name} channels_first`,
          );
          // One image of rank 3 gives one result of rank 3.
          const one = apply(c, st.reshape(st.slice(x, [1, ...c.shape.slice(1).map(() => 0)], [1, ...c.shape.slice(1)]), c.shape.slice(1)));
          await assertCloseAsync(
            one,
            st.reshape(
              st.slice(st.tensor(c.output, c.outShape, run.dtype), [1, ...c.outShape.slice(1).map(() => 0)], [1, ...c.outShape.slice(1)]),
              c.outShape.slice(1),
            ),
            run.rtol,
            run.atol,
            `${c.name} rank 3`,
          );
        }),
      );
    }
  });
}

describe('st.image windows and blurs: float64 finite differences (reference backend)', () => {
  const check = (what: string, f: (x: st.Tensor) => st.Tensor) =>
    it(what, () => withBackend('reference', () => checkGradient(f, [rt([1, 5, 6, 2], 3)], { what, rtol: 1e-6, atol: 1e-8 })));
  check('extractPatches same', (x) => st.image.extractPatches(x, [2, 3], { strides: [2, 1], padding: 'same' }));
  it('extractPatches3d', () =>
    withBackend('reference', () =>
      checkGradient((x) => st.image.extractPatches3d(x, [2, 2, 1], { strides: 1, padding: 'same' }), [rt([1, 3, 4, 3, 2], 4)], {
        what: 'extractPatches3d',
        rtol: 1e-6,
        atol: 1e-8,
      }),
    ));
  check('gaussianBlur', (x) => st.image.gaussianBlur(x, { kernelSize: [3, 5], sigma: [0.8, 1.5] }));
  check('cropImages', (x) => st.image.cropImages(x, { topCropping: 1, targetHeight: 3, leftCropping: 2, rightCropping: 1 }));
  check('padImages', (x) => st.image.padImages(x, { topPadding: 1, targetHeight: 8, leftPadding: 0, rightPadding: 2 }));
});

describe('st.image windows and crops: errors', () => {
  it('names what was expected and what was received', () => {
    const x = st.zeros([1, 4, 4, 3]);
    throwsWith(() => st.image.padImages(x, { topPadding: 1, leftPadding: 1, rightPadding: 1 }), st.ValueError, /exactly two of the vertical padding/);
    throwsWith(() => st.image.padImages(x, { topPadding: 1, targetHeight: 3, leftPadding: 0, rightPadding: 0 }), st.ValueError, /must be >= 0/);
    throwsWith(
      () => st.image.cropImages(x, { topCropping: 2, bottomCropping: 2, leftCropping: 0, rightCropping: 0 }),
      st.ValueError,
      /leaves nothing/,
    );
    throwsWith(() => st.image.extractPatches(x, [5, 1]), st.ShapeError, /smaller than the window/);
    throwsWith(() => st.image.gaussianBlur(x, { sigma: 0 }), st.ValueError, /sigma must be positive/);
  });
});
