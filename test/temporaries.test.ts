// Note [Releasing an op's temporaries] (src/ops/temporaries.ts): an op's internal reshapes and
// casts give their storage back when the op is done, so disposing the result frees its memory at
// once, while a recorded result keeps everything its backward pass reads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackend } from './helpers.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);

describe("an op's temporaries", { skip: !nativeAvailable && 'native backend not built' }, () => {
  it('disposing a matmul result frees its storage at once (batched, vector and cast operands too)', () =>
    withBackend('native', () => {
      const a = st.tensor(randomValues(2 * 3 * 4, 1), [2, 3, 4]),
        b = st.tensor(randomValues(4 * 5, 2), [4, 5]);
      const v = st.tensor(randomValues(4, 3), [4]),
        ints = st.tensor([1, 2, 3, 4], [4], 'int32');
      const before = st.memory().native.tensors;
      for (const [x, y] of [
        [a, b],
        [v, b],
        [a, v],
        [ints, b],
      ] as const)
        st.matmul(x, y).dispose();
      assert.equal(st.memory().native.tensors, before);
      assertClose(
        st.matmul(v, b),
        Array.from({ length: 5 }, (_, j) => [0, 1, 2, 3].reduce((s, k) => s + v.dataSync()[k] * b.dataSync()[k * 5 + j], 0)),
        1e-5,
        1e-6,
      );
      assert.equal(a.dataSync().length, 24, 'the operands stay usable');
    }));

  it('a recorded matmul keeps what its backward pass needs', () =>
    withBackend('native', () => {
      const x = st.tensor(randomValues(3, 4), [1, 3]);
      const w = st.variable(st.tensor(randomValues(6, 5), [3, 2]));
      st.sum(st.matmul(x, w)).backward();
      assertClose(
        w.grad!,
        [0, 1, 2].flatMap((k) => [x.dataSync()[k], x.dataSync()[k]]),
        1e-6,
        1e-6,
      );
    }));
});
