// st.image.rgbToHsv and hsvToRgb against test/fixtures/image-color.json
// (scripts/make_image_color_fixtures.py: Python's colorsys, the definition TF and Keras 3.15 use),
// on every backend in float32 and on the reference backend in float64, channels last and first;
// then float64 finite differences on the reference backend.
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fixtureRuns, loadFixture } from './fixture-harness.js';
import { assertCloseAsync, checkGradient, randomTensor, withBackend, withBackendAsync } from './helpers.js';

interface Case {
  name: string;
  op: 'rgbToHsv' | 'hsvToRgb';
  shape: number[];
  input: number[];
  output: number[];
}
const { cases } = loadFixture<Case>('image-color.json');
const runs = await fixtureRuns();

for (const run of runs) {
  describe(`st.image colour conversions on ${run.backend} (${run.dtype})`, () => {
    for (const c of cases) {
      it(c.name, () =>
        withBackendAsync(run.backend, async () => {
          const x = st.tensor(c.input, c.shape, run.dtype);
          const f = st.image[c.op];
          await assertCloseAsync(f(x), c.output, run.rtol, run.atol, c.name);
          // Channels first: the same values with the channel axis moved.
          const rank = c.shape.length;
          const toFirst = rank === 4 ? [0, 3, 1, 2] : [2, 0, 1];
          const toLast = rank === 4 ? [0, 2, 3, 1] : [1, 2, 0];
          const first = f(st.transpose(x, toFirst), { dataFormat: 'channels_first' });
          await assertCloseAsync(st.transpose(first, toLast), c.output, run.rtol, run.atol, `${c.name} channels_first`);
        }),
      );
    }
  });
}

describe('st.image colour conversions: float64 finite differences (reference backend)', () => {
  // Random colours: the largest and smallest channel are unique, away from the hue's kinks.
  for (const op of ['rgbToHsv', 'hsvToRgb'] as const) {
    it(op, () =>
      withBackend('reference', () =>
        checkGradient((x) => st.image[op](x), [randomTensor([2, 3, 4, 3], 31, 'float64', 0.05, 0.95)], { what: op, rtol: 1e-6, atol: 1e-8 }),
      ),
    );
  }
});
