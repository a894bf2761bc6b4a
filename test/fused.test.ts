// The fused conv2d + bias + activation kernel against the three ops it stands for, on every
// backend, forward and backward; and its argument checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fusedConv2dComposite } from '../src/ops/fused.js';
import { assertClose, randomValues, withBackendAsync } from './helpers.js';

const values = (shape: number[], seed: number) =>
  randomValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
  );

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, and the
// per-backend checks read with `await t.data()`, which every backend has.
await st.ready();
for (const backend of st.backends()) {
  describe(`fused.conv2d on the ${backend.name} backend`, { skip: backend.available ? false : `unavailable: ${backend.reason}` }, () => {
    for (const activation of ['linear', 'relu', 'relu6'] as const) {
      for (const opts of [{}, { strides: 2, padding: 'same' as const }, { dilation: 2, padding: 'same' as const }]) {
        it(`${activation} ${JSON.stringify(opts)} matches conv2d + bias + ${activation}, with gradients`, () =>
          withBackendAsync(backend.name, async () => {
            // Inputs in [-4, 4] for relu6, so that outputs fall on both sides of 6 as well as 0.
            const scale = activation === 'relu6' ? 4 : 1;
            const x = st.variable(
              st.tensor(
                values([2, 9, 7, 3], 1).map((v) => v * scale),
                [2, 9, 7, 3],
              ),
            );
            const f = st.variable(st.tensor(values([3, 3, 3, 5], 2), [3, 3, 3, 5]));
            const b = st.variable(st.tensor(values([5], 3), [5]));
            const weights = st.tensor(values([2 * 9 * 7 * 5], 4)); // any output shape: broadcast by reshape below
            const run = async (fn: () => st.Tensor) => {
              [x, f, b].forEach((v) => v.zeroGrad());
              const y = fn();
              y.mul(st.reshape(st.slice(weights, [0], [y.size]), y.shape))
                .sum()
                .backward();
              return Promise.all([y, x.grad!, f.grad!, b.grad!].map(async (t) => Array.from(await t.data())));
            };
            const fused = await run(() => st.fused.conv2d({ x, filter: f, bias: b, activation, ...opts }));
            const plain = await run(() => fusedConv2dComposite(x, f, b, activation, opts));
            ['output', 'dx', 'dfilter', 'dbias'].forEach((what, i) => assertClose(fused[i], plain[i], 1e-5, 1e-5, what));
            if (activation === 'relu6') {
              assert.ok(fused[0].some((v) => v === 6) && fused[0].some((v) => v > 0 && v < 6), 'outputs clipped at 6 and between');
            }
          }));
      }
    }

    it('keeps NaN through the ReLU and zeroes negatives and -0, as st.relu does', () =>
      withBackendAsync(backend.name, async () => {
        // Pixel 1 is NaN: the outputs whose window covers it are NaN, the others relu(x·f + b).
        const x = st.tensor([1, NaN, 0.5, -2, 2, 1, 0, 3, -1, 4, 0.5, 1], [1, 3, 4, 1]);
        const filter = st.tensor(values([2, 2, 1, 17], 7), [2, 2, 1, 17]),
          bias = st.tensor(values([17], 8), [17]);
        const got = Array.from(await st.fused.conv2d({ x, filter, bias, activation: 'relu' }).data());
        const want = Array.from(await st.relu(st.add(st.conv2d(x, filter), bias)).data());
        assert.deepEqual(got.map(Number.isNaN), want.map(Number.isNaN));
        assert.ok(got.some(Number.isNaN) && !got.every(Number.isNaN), 'some, not all, outputs are NaN');
        assertClose(
          got.map((v) => (Number.isNaN(v) ? 0 : v)),
          want.map((v) => (Number.isNaN(v) ? 0 : v)),
          1e-5,
          1e-5,
        );
        assert.ok(
          got.every((v) => Number.isNaN(v) || Object.is(v, 0) || v > 0),
          'no negative or -0 output',
        );
        const negZero = st.fused.conv2d({
          x: st.tensor([-0], [1, 1, 1, 1]),
          filter: st.ones([1, 1, 1, 1]),
          bias: st.tensor([-0]),
          activation: 'relu',
        });
        assert.ok(Object.is((await negZero.data())[0], 0), 'relu(-0) is +0');
      }));

    it('relu6 keeps NaN too, and clips to [0, 6]', () =>
      withBackendAsync(backend.name, async () => {
        const x = st.tensor([10, NaN, 0.5, -20, 2, 1, 0, 30, -1, 4, 0.5, 1], [1, 3, 4, 1]);
        const filter = st.tensor(values([2, 2, 1, 9], 7), [2, 2, 1, 9]),
          bias = st.tensor(values([9], 8), [9]);
        const got = Array.from(await st.fused.conv2d({ x, filter, bias, activation: 'relu6' }).data());
        const want = Array.from(await st.minimum(st.relu(st.add(st.conv2d(x, filter), bias)), 6).data());
        const nan = await st.add(st.conv2d(x, filter), bias).data();
        assert.deepEqual(got.map(Number.isNaN), Array.from(nan, Number.isNaN));
        assertClose(
          got.filter((v) => !Number.isNaN(v)),
          want.filter((_, i) => !Number.isNaN(nan[i])),
          1e-5,
          1e-5,
        );
        assert.ok(got.some((v) => v === 6) && got.some((v) => v === 0), 'both bounds reached');
      }));
  });
}

describe('fused.conv2d arguments', () => {
  it('rejects a bias of the wrong shape, an unknown activation and an unknown option', () => {
    const x = st.ones([1, 4, 4, 2]),
      filter = st.ones([2, 2, 2, 3]);
    assert.throws(
      () => st.fused.conv2d({ x, filter, bias: st.ones([2]) }),
      (e: Error) => e instanceof st.ShapeError && /\[3\]/.test(e.message) && /\[2\]/.test(e.message),
    );
    assert.throws(
      () => st.fused.conv2d({ x, filter, activation: 'gelu' as never }),
      (e: Error) => e instanceof st.ValueError && /activation/.test(e.message),
    );
    assert.throws(
      () => st.fused.conv2d({ x, filter, pad: 'same' } as never),
      (e: Error) => e instanceof st.ValueError && /unknown option 'pad'/.test(e.message),
    );
  });

  it('without a bias it is conv2d followed by the activation', () => {
    const x = st.tensor(values([1, 4, 4, 2], 5), [1, 4, 4, 2]),
      filter = st.tensor(values([2, 2, 2, 3], 6), [2, 2, 2, 3]);
    assertClose(st.fused.conv2d({ x, filter, activation: 'relu' }), st.relu(st.conv2d(x, filter)));
  });
});
