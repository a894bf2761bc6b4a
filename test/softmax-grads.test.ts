// Note [Softmax gradients in one pass] (src/ops/softmax-grads.ts): the native softmaxGrad and
// logSoftmaxGrad kernels against the reference backend's composite gradients in float64, first
// and second derivatives, on random inputs of odd sizes, along every axis, with masked (-inf) logits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackend } from './helpers.js';
import { tapePrimitives } from './grad-check.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);
type Op = 'softmax' | 'logSoftmax';

const cases: [string, number[], number][] = [
  ['rows of 7', [5, 7], -1],
  ['attention-like rows of 17', [2, 3, 17], -1],
  ['a middle axis', [4, 6, 5], 1],
  ['the first axis', [3, 4], 0],
  ['rows of one', [6, 1], -1],
  ['long rows', [2, 300], -1],
];

/** x → sum(w · op(x)) and its gradient, as arrays (weights make every output matter). */
function firstOrder(backend: string, dtype: st.DType, op: Op, shape: number[], axis: number, seed: number, masked = false): number[][] {
  return withBackend(backend, () => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = randomValues(size, seed, -3, 3).map((v, i) => (masked && i % 5 === 2 ? -Infinity : v));
    const x = st.variable(st.tensor(values, shape, dtype));
    const w = st.tensor(randomValues(size, seed + 1, 0.5, 1.5), shape, dtype);
    const y = st[op](x, axis);
    st.sum(st.mul(op === 'logSoftmax' && masked ? st.where(st.isFinite(y), y, 0) : y, w)).backward();
    return [Array.from(y.dataSync()), Array.from(x.grad!.dataSync())];
  });
}

describe('softmax and log-softmax gradients in one pass', { skip: !nativeAvailable && 'native backend not built' }, () => {
  let seed = 100;
  for (const op of ['softmax', 'logSoftmax'] as const) {
    for (const [name, shape, axis] of cases) {
      it(`${op} over ${name}: the native gradient matches float64`, () => {
        const s = (seed += 10);
        const [, got] = firstOrder('native', 'float32', op, shape, axis, s);
        const [, want] = firstOrder('reference', 'float64', op, shape, axis, s);
        assertClose(got, want, 1e-4, 1e-5);
      });
    }
  }

  it('softmax with masked (-inf) logits: finite gradients, exactly zero at the masked places', () => {
    const [, got] = firstOrder('native', 'float32', 'softmax', [4, 10], -1, 7, true);
    const [, want] = firstOrder('reference', 'float64', 'softmax', [4, 10], -1, 7, true);
    assert.ok(got.every(Number.isFinite));
    got.forEach((v, i) => {
      if (i % 5 === 2) assert.ok(v === 0, `element ${i}: ${v}`);
    });
    assertClose(got, want, 1e-4, 1e-5);
  });

  it('the backward pass runs the one-pass kernels on native', () =>
    withBackend('native', () => {
      for (const op of ['softmax', 'logSoftmax'] as const) {
        const x = st.variable(st.tensor(randomValues(12, 3), [3, 4]));
        st.sum(st.mul(st[op](x), st.tensor(randomValues(12, 4), [3, 4]))).backward(undefined, { createGraph: true });
        assert.ok(tapePrimitives(x.grad!).has(`${op}Grad`), op);
      }
    }));

  for (const op of ['softmax', 'logSoftmax'] as const) {
    it(`${op}: second derivatives through the kernel's own rule match float64`, () => {
      const run = (backend: string, dtype: st.DType) =>
        withBackend(backend, () => {
          const x = st.variable(st.tensor(randomValues(3 * 6, 40), [3, 6], dtype));
          const w = st.tensor(randomValues(18, 41, 0.5, 1.5), [3, 6], dtype);
          const v = st.tensor(randomValues(18, 42), [3, 6], dtype);
          st.sum(st.mul(st[op](x), w)).backward(undefined, { createGraph: true });
          const gx = x.grad!;
          x.zeroGrad();
          st.sum(st.mul(st.square(gx), v)).backward();
          return Array.from(x.grad!.dataSync());
        });
      assertClose(run('native', 'float32'), run('reference', 'float64'), 2e-4, 1e-5);
    });
  }
});
