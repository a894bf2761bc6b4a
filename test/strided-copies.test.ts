// The native strided copy (native/src/movement.cc) on the views layers make most: transposes
// keeping the last axis (attention's head split and merge), other permutations, slices and
// broadcasts, in every dtype, small and large, against the reference backend.
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackend } from './helpers.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);

function both(f: () => st.Tensor): [number[], number[]] {
  const run = (backend: string) => withBackend(backend, () => Array.from(f().dataSync()));
  return [run('native'), run('reference')];
}

const values = (shape: number[], seed: number, dtype: st.DType) => {
  const v = randomValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
    -50,
    50,
  );
  return st.tensor(dtype === 'float32' ? v : dtype === 'int32' ? v.map(Math.round) : v.map((x) => (x > 0 ? 1 : 0)), shape, dtype);
};

describe('strided copies', { skip: !nativeAvailable && 'native backend not built' }, () => {
  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    it(`${dtype}: attention's head split and merge, small and large`, () => {
      for (const shape of [
        [2, 3, 4, 8],
        [32, 64, 8, 16],
        [3, 17, 5, 9],
      ]) {
        const [got, want] = both(() => st.transpose(values(shape, 3, dtype), [0, 2, 1, 3]));
        assertClose(got, want, 0, 0, `${dtype} ${shape}`);
      }
    });
    it(`${dtype}: transposes keeping the last axis, other permutations`, () => {
      for (const perm of [
        [1, 0, 2],
        [2, 1, 0],
        [1, 2, 0],
      ]) {
        const t = values([6, 5, 12], 4, dtype);
        const [got, want] = both(() => st.transpose(t, perm));
        assertClose(got, want, 0, 0, `${dtype} ${perm}`);
      }
    });
    it(`${dtype}: slices and broadcasts`, () => {
      const t = values([7, 9, 33], 5, dtype);
      for (const [begin, size] of [
        [
          [1, 2, 0],
          [5, 6, 33],
        ],
        [
          [0, 0, 3],
          [7, 9, 20],
        ],
        [
          [3, 1, 8],
          [1, 8, 16],
        ],
      ] as const) {
        const [got, want] = both(() => st.slice(t, [...begin], [...size]));
        assertClose(got, want, 0, 0, `${dtype} slice ${begin} ${size}`);
      }
      const [got, want] = both(() => st.broadcastTo(values([1, 40], 6, dtype), [300, 40]));
      assertClose(got, want, 0, 0, `${dtype} broadcast`);
    });
  }
});
