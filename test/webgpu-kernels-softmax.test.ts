// The webgpu backend's row kernels (Note [Row kernels] in src/backend/webgpu/kernels-softmax.ts)
// against the reference backend on random inputs: softmax and log-softmax along the last, a
// middle and the first axis, rows short (one thread each) and long (a workgroup each), their
// one-pass gradients through backward, and the fused sparse cross-entropy with its gradient.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { markCheckedLabels } from '../src/ops/losses.js';
import { sparseSoftmaxCrossEntropy } from '../src/ops/sparse-cross-entropy.js';
import { randomValues } from './helpers.js';
import { assertSameOnWebGpu, valuesOn, webgpuSkip } from './webgpu-helpers.js';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const r = (shape: number[], seed: number, lo = -3, hi = 3) => st.tensor(randomValues(size(shape), seed, lo, hi), shape);
/**
 * Random labels, marked checked as fit marks them: otherwise, on a backend without synchronous
 * reads, the loss poisons bad labels with a `where` whose gradient needs the reduce kernels.
 */
function labelsFor(rows: number, classes: number, seed: number): st.Tensor {
  const labels = st.tensor(randomValues(rows, seed, 0, classes - 1e-6).map(Math.floor), [rows], 'int32');
  markCheckedLabels(labels, classes);
  return labels;
}

/**
 * d⟨seed, f(x)⟩/dx by backward with a seed: a scalar loss would need a sum, and st.grad's sum
 * would test the reduce kernels instead of these.
 */
function gradOf(f: (x: st.Tensor) => st.Tensor, x: st.Tensor, seed: st.Tensor): st.Tensor {
  const v = st.variable(x);
  f(v).backward(seed);
  return v.grad as st.Tensor;
}

const cases: [string, number[], number][] = [
  ['rows of 7', [5, 7], -1],
  ['rows of one', [6, 1], -1],
  ['long rows (1000)', [3, 1000], -1],
  ['rows of exactly SHORT_ROW + 1', [2, 65], -1],
  ['a middle axis', [4, 6, 5], 1],
  ['a long middle axis', [2, 300, 3], 1],
  ['the first axis', [3, 4], 0],
];

describe('webgpu softmax kernels', { skip: webgpuSkip }, () => {
  let seed = 10;
  for (const op of ['softmax', 'logSoftmax'] as const) {
    for (const [name, shape, axis] of cases) {
      it(`${op} over ${name}`, async () => {
        const s = (seed += 10);
        await assertSameOnWebGpu(() => st[op](r(shape, s), axis), 1e-5, 1e-6, `${op} ${name}`);
      });
      it(`${op} gradient over ${name}`, async () => {
        const s = (seed += 10);
        // A random seed makes every output matter (a constant one's softmax gradient is zero).
        await assertSameOnWebGpu(() => gradOf((x) => st[op](x, axis), r(shape, s), r(shape, s + 1, 0.5, 1.5)), 1e-4, 1e-5, `${op} gradient ${name}`);
      });
    }
  }

  it('masked (-inf) logits and an all -inf row', async () => {
    const x = () => st.tensor([1, -Infinity, 2, 0.5, -Infinity, -Infinity, -Infinity, -Infinity, 3, -Infinity, -1, 4], [3, 4]);
    await assertSameOnWebGpu(() => [st.softmax(x()), st.logSoftmax(x())], 1e-6, 1e-6, 'masked');
    const [{ values }] = await valuesOn('webgpu', () => st.softmax(x()));
    assert.ok(values.slice(4, 8).every(Number.isNaN), 'the all -inf row is NaN');
    assert.equal(values[1], 0);
  });

  it('a large grid of short rows', async () => {
    await assertSameOnWebGpu(() => st.softmax(r([300, 3], 3), -1), 1e-5, 1e-6, 'many rows');
  });

  it('size 0', async () => {
    await assertSameOnWebGpu(() => [st.softmax(st.zeros([0, 4])), st.logSoftmax(st.zeros([3, 0]))], 0, 0, 'empty');
  });
});

describe('webgpu sparse softmax cross-entropy', { skip: webgpuSkip }, () => {
  const loss = (labels: st.Tensor, z: st.Tensor, reduction: 'none' | 'mean' = 'none') =>
    st.losses.sparseCategoricalCrossentropy(labels, z, { fromLogits: true, reduction });
  const shapes: [number, number][] = [
    [5, 3],
    [7, 1],
    [64, 10],
    [4, 1000],
  ];
  let seed = 500;
  for (const [rows, classes] of shapes) {
    it(`[${rows}, ${classes}]: per-row losses`, async () => {
      const s = (seed += 10);
      await assertSameOnWebGpu(() => loss(labelsFor(rows, classes, s), r([rows, classes], s + 1, -4, 4)), 1e-5, 1e-5, 'loss');
    });
    it(`[${rows}, ${classes}]: the logits' gradient`, async () => {
      const s = (seed += 10);
      await assertSameOnWebGpu(
        () => {
          const z = r([rows, classes], s + 1, -4, 4);
          return gradOf((v) => loss(labelsFor(rows, classes, s), v), z, r([rows], s + 2, 0.5, 1.5));
        },
        1e-5,
        1e-6,
        'gradient',
      );
    });
  }

  it('an out-of-range label gives a NaN row and reads nothing outside the logits', async () => {
    const [{ values }] = await valuesOn('webgpu', () => sparseSoftmaxCrossEntropy(r([4, 70], 9), st.tensor([1, -1, 70, 69], [4], 'int32')));
    assert.ok(Number.isFinite(values[0]) && Number.isFinite(values[3]), `${values}`);
    assert.ok(Number.isNaN(values[1]) && Number.isNaN(values[2]), `${values}`);
    const [short] = await valuesOn('webgpu', () => sparseSoftmaxCrossEntropy(r([2, 3], 9), st.tensor([3, 0], [2], 'int32')));
    assert.ok(Number.isNaN(short.values[0]) && Number.isFinite(short.values[1]), `${short.values}`);
  });
});
