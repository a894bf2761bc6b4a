// st.fused.matMul (tfjs's fused.matMul): activation(a·b + bias) as one native kernel against
// the same ops on the reference backend in float64, values and gradients of a, b and the bias,
// every transpose combination, batched operands; and the dense layer running it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackend } from './helpers.js';
import { tapePrimitives } from './grad-check.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);

function run(
  backend: string,
  dtype: st.DType,
  aShape: number[],
  bShape: number[],
  ta: boolean,
  tb: boolean,
  activation: 'linear' | 'relu',
  seed: number,
): number[][] {
  return withBackend(backend, () => {
    const size = (s: number[]) => s.reduce((p, q) => p * q, 1);
    const a = st.variable(st.tensor(randomValues(size(aShape), seed), aShape, dtype));
    const b = st.variable(st.tensor(randomValues(size(bShape), seed + 1), bShape, dtype));
    const n = tb ? bShape[bShape.length - 2] : bShape[bShape.length - 1];
    // A bias that puts many pre-activations below zero, so the ReLU matters.
    const bias = st.variable(st.tensor(randomValues(n, seed + 2, -1, 0.5), [n], dtype));
    const y = st.fused.matMul({ a, b, bias, transposeA: ta, transposeB: tb, activation });
    st.sum(st.mul(y, st.tensor(randomValues(y.size, seed + 3, 0.5, 1.5), y.shape, dtype))).backward();
    return [y, a.grad!, b.grad!, bias.grad!].map((t) => Array.from(t.dataSync()));
  });
}

describe('fused.matMul', { skip: !nativeAvailable && 'native backend not built' }, () => {
  let seed = 700;
  for (const activation of ['linear', 'relu'] as const) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      it(`${activation}, transposeA ${ta}, transposeB ${tb}: values and gradients match float64`, () => {
        const s = (seed += 10);
        const aShape = ta ? [7, 5] : [5, 7],
          bShape = tb ? [3, 7] : [7, 3];
        const got = run('native', 'float32', aShape, bShape, ta, tb, activation, s);
        const want = run('reference', 'float64', aShape, bShape, ta, tb, activation, s);
        got.forEach((v, i) => assertClose(v, want[i], 1e-4, 1e-5, `result ${i}`));
      });
    }
    it(`${activation}, batched [2, 4, 6] x [2, 6, 3] and a wide [64, 300] x [300, 33]`, () => {
      for (const [aShape, bShape] of [
        [
          [2, 4, 6],
          [2, 6, 3],
        ],
        [
          [64, 300],
          [300, 33],
        ],
      ]) {
        const s = (seed += 10);
        const got = run('native', 'float32', aShape, bShape, false, false, activation, s);
        const want = run('reference', 'float64', aShape, bShape, false, false, activation, s);
        got.forEach((v, i) => assertClose(v, want[i], 1e-4, 1e-4, `${aShape} result ${i}`));
      }
    });
  }

  // Note [Small products on one thread] in native/src/matmul.cc: a product this small runs on one
  // thread unless B is large, as a classifier's weights are; that one runs on all of them.
  it('a matrix-vector product over a large B ([1, 1280] x [1280, 600], either layout) matches float64', () => {
    for (const tb of [false, true]) {
      const s = (seed += 10);
      const bShape = tb ? [600, 1280] : [1280, 600];
      const got = run('native', 'float32', [1, 1280], bShape, false, tb, 'linear', s);
      const want = run('reference', 'float64', [1, 1280], bShape, false, tb, 'linear', s);
      got.forEach((v, i) => assertClose(v, want[i], 1e-4, 1e-4, `transposeB ${tb} result ${i}`));
      // The plain product (matmul.cc's matmul call rather than fusedMatmul) too.
      const product = (backend: string, dtype: st.DType) =>
        withBackend(backend, () => {
          const a = st.tensor(randomValues(1280, s), [1, 1280], dtype);
          const b = st.tensor(randomValues(1280 * 600, s + 1), bShape, dtype);
          return Array.from(st.matmul(a, b, false, tb).dataSync());
        });
      assertClose(product('native', 'float32'), product('reference', 'float64'), 1e-4, 1e-4, `transposeB ${tb}: st.matmul`);
    }
  });

  it('runs as one kernel on native, and the dense layer uses it', () =>
    withBackend('native', () => {
      const a = st.variable(st.tensor(randomValues(6, 1), [2, 3]));
      const y = st.fused.matMul({ a, b: st.tensor(randomValues(12, 2), [3, 4]), bias: st.zeros([4]), activation: 'relu' });
      assert.ok(tapePrimitives(y).has('fusedMatMul') && !tapePrimitives(y).has('relu'));
      const dense = st.layers.dense({ units: 4, activation: 'relu' }).apply(a) as st.Tensor;
      assert.ok(tapePrimitives(dense).has('fusedMatMul'));
      const softmax = st.layers.dense({ units: 4, activation: 'softmax' }).apply(a) as st.Tensor;
      assert.ok(!tapePrimitives(softmax).has('fusedMatMul'), 'other activations keep the ops');
    }));

  it('keeps NaN through the ReLU as st.relu and the reference backend do', () => {
    const values = (backend: string) =>
      withBackend(backend, () =>
        Array.from(
          st.fused
            .matMul({
              a: st.tensor([1, NaN, 2, -1, 0.5, 1], [2, 3]),
              b: st.tensor(randomValues(12, 4), [3, 4]),
              bias: st.tensor([-5, 0, 5, 0.5], [4]),
              activation: 'relu',
            })
            .dataSync(),
        ),
      );
    const got = values('native'),
      want = values('reference');
    assert.deepEqual(got.map(Number.isNaN), want.map(Number.isNaN));
    assert.ok(got.slice(0, 4).every(Number.isNaN), 'the row with a NaN is NaN');
    assertClose(got.slice(4), want.slice(4), 1e-5, 1e-6, 'the other row');
  });

  it('bad arguments name what was expected', () => {
    const a = st.zeros([2, 3]),
      b = st.zeros([3, 4]);
    assert.throws(() => st.fused.matMul({ a, b, bias: st.zeros([3]) }), /bias must have shape \[4\].*received \[3\]/);
    assert.throws(() => st.fused.matMul({ a, b, activation: 'gelu' as never }), /activation/);
    assert.throws(() => st.fused.matMul({ a, b, bogus: 1 } as never), /bogus/);
  });
});
