import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertCloseAsync, checkGradient, randomTensor, randomValues, withBackendAsync } from './helpers.js';

/** Naive layer normalization over the last axis of a [rows, n] array. */
function naiveLayerNorm(values: number[], n: number, eps: number, gamma: number[], beta: number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < values.length / n; r++) {
    const row = values.slice(r * n, (r + 1) * n);
    const mean = row.reduce((a, b) => a + b, 0) / n;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    row.forEach((v, j) => out.push(((v - mean) / Math.sqrt(variance + eps)) * gamma[j] + beta[j]));
  }
  return out;
}

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, and the
// per-backend checks read with `await t.data()`, which every backend has.
await st.ready();
for (const backend of st.backends().filter((b) => b.available)) {
  describe(`normalization on the ${backend.name} backend`, () => {
    it('layerNorm with scale and offset matches the textbook formula', () =>
      withBackendAsync(backend.name, async () => {
        const x = randomValues(4 * 6, 1, -3, 3),
          gamma = randomValues(6, 2, 0.5, 2),
          beta = randomValues(6, 3);
        const y = st.layerNorm(st.tensor(x, [4, 6]), { scale: st.tensor(gamma), offset: st.tensor(beta) });
        await assertCloseAsync(y, naiveLayerNorm(x, 6, 1e-3, gamma, beta), 1e-5, 1e-5);
      }));

    it('batchNorm over the batch and spatial axes of NHWC activations (channel statistics)', () =>
      withBackendAsync(backend.name, async () => {
        const x = st.tensor(randomValues(2 * 3 * 3 * 4, 4, -2, 2), [2, 3, 3, 4]);
        const { mean, variance } = st.moments(x, [0, 1, 2]);
        const y = st.batchNorm(x, mean, variance, st.tensor([0, 1, 2, 3]), st.tensor([1, 2, 1, 0.5]), 1e-5);
        const perChannel = st.moments(st.sub(y, st.tensor([0, 1, 2, 3])).div(st.tensor([1, 2, 1, 0.5])), [0, 1, 2]);
        await assertCloseAsync(perChannel.mean, [0, 0, 0, 0], 0, 1e-5);
        await assertCloseAsync(perChannel.variance, [1, 1, 1, 1], 1e-3, 1e-3);
      }));
  });
}

describe('normalization gradients (float64 finite differences, reference backend)', () => {
  st.setBackend('reference');
  it('layerNorm with respect to x, scale and offset', () => {
    checkGradient(
      (x, g, b) => st.layerNorm(x, { scale: g, offset: b }),
      [randomTensor([3, 5], 10), randomTensor([5], 11, 'float64', 0.5, 2), randomTensor([5], 12)],
    );
  });
  it('normalize over two axes (instance normalization of NHWC images)', () => {
    checkGradient((x) => st.normalize(x, { axis: [1, 2], epsilon: 1e-5 }), [randomTensor([2, 3, 3, 2], 13)]);
  });
  it('batchNorm with respect to x, mean, variance, offset and scale', () => {
    checkGradient(
      (x, m, v, o, s) => st.batchNorm(x, m, v, o, s),
      [randomTensor([4, 3], 14), randomTensor([3], 15), randomTensor([3], 16, 'float64', 0.5, 2), randomTensor([3], 17), randomTensor([3], 18)],
    );
  });
  it('rejects unknown options', () => {
    assert.throws(
      () => st.normalize(st.ones([2, 2]), { eps: 1 } as never),
      (e: Error) => e instanceof st.ValueError && /eps/.test(e.message),
    );
  });
});
