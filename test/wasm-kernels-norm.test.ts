// The wasm backend's fused normalization (wasm/src/norm.c, Note [Fused normalization] in
// src/ops/normalization-fused.ts) against the reference backend's composites in float64: batch
// norm with batch statistics and with given ones, layer norm, their gradients in x, gamma and
// beta, channel counts off the SIMD width and the channel blocks, and one thread against two.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { tapePrimitives } from './grad-check.js';
import { assertClose, randomValues, withBackend } from './helpers.js';
import { outputsAndGrads, wasmThreadsReady, assertSameOnOneAndTwoThreads } from './wasm-kernels-helpers.js';

const wasmAvailable = st.backends().some((b) => b.name === 'wasm' && b.available);
const size = (s: number[]) => s.reduce((p, q) => p * q, 1);
const input = (shape: number[], seed: number, lo = -2, hi = 2) => ({ shape, values: randomValues(size(shape), seed, lo, hi) });

describe('wasm normalization kernels', { skip: !wasmAvailable && 'wasm backend not available' }, () => {
  before(wasmThreadsReady);
  let seed = 1300;
  const shapes = [
    [1, 1],
    [5, 3],
    [7, 33],
    [2, 6, 6, 8],
    [300, 7],
    [4, 3, 70],
    [64, 512],
  ];
  for (const shape of shapes) {
    const c = shape[shape.length - 1];
    it(`batchNormTraining ${JSON.stringify(shape)}: y, mean, variance and the gradients of x, scale and offset`, () => {
      const s = (seed += 10);
      // An offset mean, so the statistics' shift matters.
      const args = [input(shape, s, 8, 12), input([c], s + 1, 0.5, 1.5), input([c], s + 2)];
      const f = (x: st.Tensor, g: st.Tensor, b: st.Tensor) => {
        const r = st.batchNormTraining(x, { scale: g, offset: b });
        return [r.y, r.mean, r.variance];
      };
      const got = outputsAndGrads('wasm', 'float32', f, args),
        want = outputsAndGrads('reference', 'float64', f, args);
      got.forEach((v, i) => assertClose(v, want[i], 2e-4, 2e-4, `result ${i}`));
    });
    it(`batchNorm with given statistics and layerNorm ${JSON.stringify(shape)}: values and gradients`, () => {
      const s = (seed += 10);
      const args = [input(shape, s), input([c], s + 1), input([c], s + 2, 0.1, 2), input([c], s + 3), input([c], s + 4, 0.5, 1.5)];
      const f = (x: st.Tensor, m: st.Tensor, v: st.Tensor, b: st.Tensor, g: st.Tensor) => [
        st.batchNorm(x, m, v, b, g),
        st.layerNorm(x, { scale: g, offset: b }),
      ];
      const got = outputsAndGrads('wasm', 'float32', f, args),
        want = outputsAndGrads('reference', 'float64', f, args);
      got.forEach((v, i) => assertClose(v, want[i], 2e-4, 2e-4, `result ${i}`));
    });
  }

  it('runs the fused kernels', () =>
    withBackend('wasm', () => {
      const x = st.variable(st.tensor(randomValues(24, 1), [4, 6], 'float32'));
      assert.ok(tapePrimitives(st.batchNormTraining(x).y).has('batchNormTraining'));
      assert.ok(tapePrimitives(st.layerNorm(x)).has('layerNorm'));
    }));

  it('one thread and two give the same bits', () => {
    const run = () =>
      withBackend('wasm', () => {
        const x = st.variable(st.tensor(randomValues(512 * 200, 3, -5, 5), [512, 200], 'float32'));
        const y = st.add(st.batchNormTraining(x).y, st.layerNorm(x));
        st.sum(st.mul(y, y)).backward();
        return [y, x.grad!].map((t) => Array.from(t.dataSync()));
      });
    assertSameOnOneAndTwoThreads(run);
  });
});
