// Note [Sparse softmax cross-entropy in one pass] (src/ops/sparse-cross-entropy.ts): the native
// fused loss against the reference backend's composite in float64 (values, first and second
// derivatives), on random logits of odd sizes and ranks, and its refusal of out-of-range labels.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackend } from './helpers.js';
import { tapePrimitives } from './grad-check.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);
const loss = (t: st.Tensor, p: st.Tensor, reduction: 'mean' | 'sum' | 'none' = 'mean') =>
  st.losses.sparseCategoricalCrossentropy(t, p, { fromLogits: true, reduction });

describe('sparse softmax cross-entropy in one pass', { skip: !nativeAvailable && 'native backend not built' }, () => {
  const cases: [string, number[]][] = [
    ['[64, 10]', [64, 10]],
    ['[5, 3]', [5, 3]],
    ['[7, 1]', [7, 1]],
    ['a sequence [3, 4, 17]', [3, 4, 17]],
    ['wide [2, 300]', [2, 300]],
  ];
  let seed = 10;
  for (const [name, shape] of cases) {
    for (const reduction of ['mean', 'none'] as const) {
      it(`${name}, reduction ${reduction}: values and logit gradients match float64`, () => {
        const s = (seed += 10);
        const classes = shape[shape.length - 1];
        const labelShape = shape.slice(0, -1);
        const labels = randomValues(
          labelShape.reduce((a, b) => a * b, 1),
          s,
          0,
          classes - 1e-9,
        ).map(Math.floor);
        const run = (backend: string, dtype: st.DType) =>
          withBackend(backend, () => {
            const z = st.variable(
              st.tensor(
                randomValues(
                  shape.reduce((a, b) => a * b, 1),
                  s + 1,
                  -4,
                  4,
                ),
                shape,
                dtype,
              ),
            );
            const l = loss(st.tensor(labels, labelShape, 'int32'), z, reduction);
            st.sum(st.mul(l, st.tensor(randomValues(l.size, s + 2, 0.5, 1.5), l.shape, dtype))).backward();
            return [Array.from(l.dataSync()), Array.from(z.grad!.dataSync())];
          });
        const got = run('native', 'float32'),
          want = run('reference', 'float64');
        got.forEach((v, i) => assertClose(v, want[i], 1e-5, 1e-6, `result ${i}`));
      });
    }
  }

  it('the native loss is one kernel each way', () =>
    withBackend('native', () => {
      const z = st.variable(st.tensor(randomValues(12, 1), [4, 3]));
      const l = loss(st.tensor([0, 2, 1, 2], [4], 'int32'), z);
      assert.ok(tapePrimitives(l).has('sparseSoftmaxCrossEntropy') && !tapePrimitives(l).has('logSoftmax'));
      l.backward(undefined, { createGraph: true });
      assert.ok(tapePrimitives(z.grad!).has('sparseSoftmaxCrossEntropyGrad'));
    }));

  it('second derivatives through the gradient kernel match float64', () => {
    const run = (backend: string, dtype: st.DType) =>
      withBackend(backend, () => {
        const z = st.variable(st.tensor(randomValues(4 * 5, 70, -2, 2), [4, 5], dtype));
        st.sum(st.mul(loss(st.tensor([1, 4, 0, 2], [4], 'int32'), z, 'none'), st.tensor([0.5, 1, 1.5, 2], [4], dtype))).backward(undefined, {
          createGraph: true,
        });
        const g = z.grad!;
        z.zeroGrad();
        st.sum(st.mul(st.square(g), st.tensor(randomValues(20, 71), [4, 5], dtype))).backward();
        return Array.from(z.grad!.dataSync());
      });
    assertClose(run('native', 'float32'), run('reference', 'float64'), 2e-4, 1e-6);
  });

  for (const backend of ['native', 'reference']) {
    it(`${backend}: labels outside [0, classes) are an error that names the label and the sample (logits and probabilities)`, () =>
      withBackend(backend, () => {
        const z = st.tensor(randomValues(6, 2), [2, 3]);
        assert.throws(() => loss(st.tensor([0, 3], [2], 'int32'), z), /labels must be class indices in \[0, 3\); received 3 at sample 1/);
        assert.throws(() => loss(st.tensor([-1, 0], [2], 'int32'), z), /received -1 at sample 0/);
        assert.throws(() => st.losses.sparseCategoricalCrossentropy(st.tensor([0, 7], [2], 'int32'), st.softmax(z)), /received 7 at sample 1/);
      }));
  }
});
