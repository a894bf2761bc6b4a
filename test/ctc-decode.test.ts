// st.ctcDecode (Keras 3's ops.ctc_decode) against the NumPy reference of
// scripts/make_ctc_decode_fixtures.py (greedy by its definition; beam search exact by enumerating
// every alignment, and a narrow prefix beam), on every backend through `await t.data()`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { loadFixture } from './fixture-harness.js';
import { assertClose, rejectsWith, withBackendAsync } from './helpers.js';

interface Arr {
  shape: number[];
  values: number[];
}
interface Case {
  name: string;
  inputs: Arr;
  lengths: number[];
  options: st.CtcDecodeOptions;
  decoded: Arr;
  scores: Arr;
}

const { cases } = loadFixture<Case>('ctc-decode.json');
await st.ready();
const available = st.backends().filter((b) => b.available);

for (const { name } of available) {
  describe(`ctcDecode on the ${name} backend`, () => {
    for (const c of cases) {
      it(c.name, () =>
        withBackendAsync(name, async () => {
          const x = st.tensor(c.inputs.values, c.inputs.shape, 'float32');
          const { decoded, scores } = await st.ctcDecode(x, st.tensor(c.lengths, [c.lengths.length], 'int32'), c.options);
          assert.equal(decoded.dtype, 'int32');
          assert.deepEqual([...decoded.shape], c.decoded.shape);
          assert.deepEqual(Array.from(await decoded.data()), c.decoded.values);
          assert.deepEqual([...scores.shape], c.scores.shape);
          assertClose(Array.from(await scores.data()), c.scores.values, 1e-5, 1e-6);
        }),
      );
    }
  });
}

describe('ctcDecode in float64', () => {
  it('gives the reference scores to rounding', () =>
    withBackendAsync('reference', async () => {
      for (const c of cases) {
        const x = st.tensor(c.inputs.values, c.inputs.shape, 'float64');
        const { scores } = await st.ctcDecode(x, c.lengths, c.options);
        assert.equal(scores.dtype, 'float64');
        assertClose(Array.from(await scores.data()), c.scores.values, 1e-11, 1e-12, c.name);
      }
    }));
});

describe('ctcDecode behaviour', () => {
  it("the documented example: repeats merge, blanks go, -1 pads; 'beam_search' is accepted", async () => {
    const probs = [
      [0.1, 0.8, 0.1],
      [0.1, 0.8, 0.1],
      [0.8, 0.1, 0.1],
      [0.1, 0.1, 0.8],
    ];
    const logits = st.log(st.tensor([probs]));
    const greedy = await st.ctcDecode(logits, [4]);
    assert.deepEqual(await greedy.decoded.array(), [[[1, 2, -1, -1]]]);
    assertClose(greedy.scores, [-4 * Math.log(0.8)], 1e-6, 0);
    const beam = await st.ctcDecode(logits, [4], { strategy: 'beam_search', beamWidth: 8, topPaths: 2 });
    assert.deepEqual([...beam.decoded.shape], [2, 1, 4]);
    assert.deepEqual(Array.from(await beam.decoded.data()).slice(0, 4), [1, 2, -1, -1]);
  });
  it('refuses bad shapes, lengths and options', async () => {
    const x = st.zeros([2, 3, 4]);
    await rejectsWith(() => st.ctcDecode(st.zeros([3, 4]), [3]), st.ShapeError, /\[batch, frames, classes\]/);
    await rejectsWith(() => st.ctcDecode(x, [3]), st.ShapeError, /sequenceLengths must be \[2\]/);
    await rejectsWith(() => st.ctcDecode(x, [3, 4]), st.ValueError, /integers in \[0, 3\]; received 4/);
    await rejectsWith(() => st.ctcDecode(x, [3, 3], { maskIndex: 4 }), st.ValueError, /maskIndex must be a class index in \[0, 4\)/);
    await rejectsWith(() => st.ctcDecode(x, [3, 3], { strategy: 'beamSearch', beamWidth: 0 }), st.ValueError, /beamWidth must be a positive integer/);
    await rejectsWith(() => st.ctcDecode(x, [3, 3], { strategy: 'best' as 'greedy' }), st.ValueError, /strategy must be 'greedy' or 'beamSearch'/);
  });
});
