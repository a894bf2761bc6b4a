// The wasm backend's softmax family (wasm/src/softmax.c) against the reference backend in
// float64: softmax and log-softmax along the last and inner axes with their one-pass gradients,
// -inf rows and NaN, sparse softmax cross-entropy and its refusal of out-of-range labels.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackend } from './helpers.js';
import { outputsAndGrads, wasmThreadsReady, assertSameOnOneAndTwoThreads } from './wasm-kernels-helpers.js';

const wasmAvailable = st.backends().some((b) => b.name === 'wasm' && b.available);
const size = (s: number[]) => s.reduce((p, q) => p * q, 1);

describe('wasm softmax kernels', { skip: !wasmAvailable && 'wasm backend not available' }, () => {
  before(wasmThreadsReady);
  let seed = 900;
  const cases: [number[], number][] = [
    [[1, 1], -1],
    [[5, 3], -1],
    [[7, 10], 1],
    [[64, 1000], -1],
    [[3, 9, 5], 1],
    [[2, 33, 6], 0],
    [[4, 3, 7, 2], 2],
    [[300, 130], -1],
  ];
  for (const [shape, axis] of cases) {
    it(`softmax and logSoftmax of ${JSON.stringify(shape)} along ${axis}: values and gradients`, () => {
      const s = (seed += 10);
      const x = { shape, values: randomValues(size(shape), s, -8, 8) };
      const f = (t: st.Tensor) => [st.softmax(t, axis), st.logSoftmax(t, axis)];
      const got = outputsAndGrads('wasm', 'float32', f, [x]),
        want = outputsAndGrads('reference', 'float64', f, [x]);
      got.forEach((v, i) => assertClose(v, want[i], 1e-5, 1e-6, `result ${i}`));
    });
  }

  it('rows of -inf and a NaN as the reference backend', () => {
    const values = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, Number.NaN, 2, 0, Number.NEGATIVE_INFINITY, 3];
    const run = (backend: string) =>
      withBackend(backend, () => {
        const x = st.tensor(values, [3, 3], 'float32');
        return [st.softmax(x), st.logSoftmax(x)].map((t) => Array.from(t.dataSync()));
      });
    const got = run('wasm'),
      want = run('reference');
    got.forEach((v, i) => assertClose(v, want[i], 1e-6, 1e-7, `result ${i}`));
  });

  for (const shape of [
    [64, 10],
    [5, 3],
    [7, 1],
    [3, 4, 17],
    [2, 1001],
  ]) {
    it(`sparse softmax cross-entropy ${JSON.stringify(shape)}: losses and logit gradients`, () => {
      const s = (seed += 10);
      const classes = shape[shape.length - 1];
      const labels = {
        shape: shape.slice(0, -1),
        values: randomValues(size(shape.slice(0, -1)), s, 0, classes - 1e-9).map(Math.floor),
        dtype: 'int32' as const,
      };
      const z = { shape, values: randomValues(size(shape), s + 1, -20, 20) };
      const f = (t: st.Tensor, l: st.Tensor) => [st.losses.sparseCategoricalCrossentropy(l, t, { fromLogits: true, reduction: 'none' })];
      const got = outputsAndGrads('wasm', 'float32', f, [z, labels]),
        want = outputsAndGrads('reference', 'float64', f, [z, labels]);
      got.forEach((v, i) => assertClose(v, want[i], 1e-5, 1e-5, `result ${i}`));
    });
  }

  it('refuses labels outside [0, classes) as the composite does', () =>
    withBackend('wasm', () => {
      const z = st.tensor(randomValues(6, 1), [2, 3], 'float32');
      for (const bad of [3, -1])
        assert.throws(
          () => st.losses.sparseCategoricalCrossentropy(st.tensor([0, bad], [2], 'int32'), z, { fromLogits: true }),
          new RegExp(`labels must be class indices in \\[0, 3\\); received ${bad} at sample 1`),
        );
    }));

  it('one thread and two give the same bits', () => {
    const run = () =>
      withBackend('wasm', () => {
        const x = st.variable(st.tensor(randomValues(256 * 300, 3, -5, 5), [256, 300], 'float32'));
        const y = st.softmax(x);
        const ys = st.softmax(st.reshape(x, [16, 16, 300]), 1);
        st.sum(st.mul(y, y)).backward();
        return [y, ys, x.grad!].map((t) => Array.from(t.dataSync()));
      });
    assertSameOnOneAndTwoThreads(run);
  });
});
