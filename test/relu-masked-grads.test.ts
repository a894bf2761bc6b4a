// Note [Gradients already masked by a ReLU] (src/ops/relu-masked-grads.ts): a fused conv + ReLU
// followed by max pooling skips the separate reluGrad pass in backward(); the gradients must be
// exactly those of the unmasked chain, checked against the reference backend's composite path
// in float64 on inputs where many windows are all zero after the ReLU.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { backpropagate } from '../src/autograd/backward.js';
import { getBackend } from '../src/backend/registry.js';
import { reluGrad } from '../src/ops/elementwise.js';
import { maxPool2dGrad, planPool2d } from '../src/ops/pool.js';
import { runPrimitive } from '../src/ops/run.js';
import { assertClose, assertCloseAsync, checkGradient, randomValues, withBackend, withBackendAsync } from './helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, and the
// checks that loop over backends read with `await t.data()`, which every backend has.
await st.ready();
const backends = st
  .backends()
  .filter((b) => b.available && !b.name.startsWith('cells-'))
  .map((b) => b.name);
const poolOptions = { poolSize: 2 };

/**
 * x [2, 9, 9, 3] → conv (4 filters, negative bias: many zeros) + ReLU → max pool, values and
 * gradients; `fused` uses st.fused.conv2d, else the separate ops (the unmasked oracle).
 */
function convPool(backend: string, dtype: st.DType, twoConsumers: boolean, fused = true): Promise<number[][]> {
  return withBackendAsync(backend, async () => {
    const x = st.variable(st.tensor(randomValues(2 * 9 * 9 * 3, 1), [2, 9, 9, 3], dtype));
    const filter = st.variable(st.tensor(randomValues(3 * 3 * 3 * 4, 2), [3, 3, 3, 4], dtype));
    const bias = st.variable(st.tensor([-0.8, -0.3, 0.1, -1.5], [4], dtype));
    const y = fused ? st.fused.conv2d({ x, filter, bias, activation: 'relu' }) : st.relu(st.add(st.conv2d(x, filter), bias));
    const pooled = st.maxPool2d(y, poolOptions);
    const weights = st.tensor(randomValues(pooled.size, 3, 0.5, 1.5), pooled.shape, dtype);
    let loss = st.sum(st.mul(pooled, weights));
    if (twoConsumers) loss = st.add(loss, st.sum(st.square(y)));
    loss.backward();
    const out: number[][] = [];
    for (const t of [pooled, x.grad!, filter.grad!, bias.grad!]) out.push(Array.from(await t.data()));
    return out;
  });
}

/** Counts calls of one kernel of the current backend while f runs. */
function countCalls(kernel: 'reluGrad', f: () => void): number {
  const kernels = getBackend().kernels as unknown as Record<string, (...a: unknown[]) => unknown>;
  const original = kernels[kernel];
  let calls = 0;
  kernels[kernel] = (...a: unknown[]) => {
    calls++;
    return original(...a);
  };
  try {
    f();
  } finally {
    kernels[kernel] = original;
  }
  return calls;
}

describe('gradients already masked by a ReLU', () => {
  for (const backend of backends) {
    for (const twoConsumers of [false, true]) {
      it(`${backend}: conv + ReLU + max pool gradients match the unmasked chain${twoConsumers ? ' (the ReLU output also used elsewhere)' : ''}`, async () => {
        const dtype: st.DType = backend === 'reference' ? 'float64' : 'float32';
        const got = await convPool(backend, dtype, twoConsumers);
        const oracle = await convPool('reference', 'float64', twoConsumers, false);
        got.forEach((v, i) => assertClose(v, oracle[i], 1e-4, 1e-5, `result ${i}`));
      });
    }

    it(`${backend}: the masked kernel equals reluGrad after maxPool2dGrad`, () =>
      withBackendAsync(backend, async () => {
        // A ReLU output: about half the entries exactly 0, so some windows' maximum is 0.
        const x = st.relu(st.tensor(randomValues(2 * 6 * 7 * 5, 4, -1, 0.6), [2, 6, 7, 5]));
        const plan = planPool2d('test', x.shape, { poolSize: 2, strides: 2 });
        const dy = st.tensor(randomValues(2 * 3 * 3 * 5, 5), plan.outShape);
        await assertCloseAsync(maxPool2dGrad(x, dy, plan, true), reluGrad(x, maxPool2dGrad(x, dy, plan)), 0, 0);
      }));
  }

  it(
    'native: backward() runs no reluGrad for the pooled convolution, and one when its output has another consumer',
    { skip: !backends.includes('native') },
    () =>
      withBackend('native', () => {
        const x = st.tensor(randomValues(2 * 8 * 8 * 1, 6), [2, 8, 8, 1]);
        const filter = st.variable(st.tensor(randomValues(9 * 4, 7), [3, 3, 1, 4]));
        const bias = st.variable(st.zeros([4]));
        const once = countCalls('reluGrad', () => {
          st.sum(st.maxPool2d(st.fused.conv2d({ x, filter, bias, activation: 'relu' }), poolOptions)).backward();
        });
        assert.equal(once, 0);
        const twice = countCalls('reluGrad', () => {
          const y = st.fused.conv2d({ x, filter, bias, activation: 'relu' });
          st.add(st.sum(st.maxPool2d(y, poolOptions)), st.sum(y)).backward();
        });
        assert.equal(twice, 1);
      }),
  );

  for (const backend of backends) {
    it(`${backend}: a ReLU output whose own gradient is asked for gets the unmasked one`, () =>
      withBackendAsync(backend, async () => {
        const x = st.tensor(randomValues(1 * 6 * 6 * 2, 8), [1, 6, 6, 2]);
        const filter = st.variable(st.tensor(randomValues(9 * 2 * 3, 9), [3, 3, 2, 3]));
        const bias = st.variable(st.tensor([-2, -2, -2], [3])); // every output 0: each window's first tap wins
        const y = st.fused.conv2d({ x, filter, bias, activation: 'relu' });
        const loss = st.sum(st.maxPool2d(y, poolOptions));
        const grads = backpropagate(loss, undefined, false, 'test', (t) => t === y);
        const plan = planPool2d('test', y.shape, poolOptions);
        await assertCloseAsync(grads.get(y)!, maxPool2dGrad(y, st.ones(plan.outShape), plan), 0, 0);
        assert.ok(
          Array.from(await grads.get(y)!.data()).some((v) => v !== 0),
          'zero maxima still receive the gradient',
        );
      }));
  }

  it("the masked kernel's own gradient (in dy) matches finite differences", () =>
    withBackend('reference', () => {
      const x = st.relu(st.tensor(randomValues(1 * 4 * 4 * 2, 10, -1, 0.7), [1, 4, 4, 2], 'float64'));
      const plan = planPool2d('test', x.shape, { poolSize: 2 });
      const dy = st.tensor(randomValues(1 * 2 * 2 * 2, 11), plan.outShape, 'float64');
      checkGradient((d) => maxPool2dGrad(x, d, plan, true), [dy], { what: 'd maxPool2dGrad(reluMasked) / d dy' });
    }));
});

describe('native max pooling gradient against the reference kernel', { skip: !backends.includes('native') }, () => {
  it('ties go to the first maximum and NaN wins its window, with or without kept winners', () => {
    const values = [1, 3, 3, 2, NaN, 5, 7, NaN, 4, 4, 4, 4, -1, -2, -1, -3];
    const plan = planPool2d('test', [1, 4, 4, 1], { poolSize: 2 });
    const x = () => st.tensor(values, [1, 4, 4, 1]);
    const dy = () => st.tensor([10, 20, 30, 40], [1, 2, 2, 1]);
    const want = withBackend('reference', () => Array.from(maxPool2dGrad(x(), dy(), plan).dataSync()));
    for (const winners of [false, true]) {
      const got = withBackend('native', () => {
        const xs = x();
        const y = winners ? runPrimitive('maxPool2d', [xs], { ...plan.attrs, keepIndices: true }, plan.outShape, 'float32') : undefined;
        return Array.from(maxPool2dGrad(xs, dy(), plan, false, y).dataSync());
      });
      assert.deepEqual(got, want, winners ? 'kept winners' : 'recomputed');
    }
  });

  it('a recorded forward pass keeps the winners with its output (an int32 per value)', () =>
    withBackend('native', () => {
      const x = st.variable(st.tensor(randomValues(2 * 6 * 6 * 4, 9), [2, 6, 6, 4]));
      const before = st.memory().native.bytes;
      const y = st.maxPool2d(x, poolOptions);
      assert.equal(st.memory().native.bytes - before, 2 * y.size * 4, 'values and winners');
      const plain = st.noGrad(() => st.maxPool2d(x, poolOptions));
      assert.equal(st.memory().native.bytes - before, 3 * y.size * 4, 'no winners outside the tape');
      assertClose(plain, y, 0, 0);
    }));

  // Disjoint windows (each pixel written once), gaps between windows, uncovered remainders,
  // padding, and overlapping windows (accumulated), each plain and relu-masked.
  const cases: [string, number[], st.Pool2dOptions][] = [
    ['2x2 / 2 on 26x26', [2, 26, 26, 5], { poolSize: 2 }],
    ['2x2 / 2 on odd 11x7 (uncovered last row and column)', [2, 11, 7, 3], { poolSize: 2 }],
    ['2x2 / 3 (gaps between windows)', [1, 8, 9, 2], { poolSize: 2, strides: 3 }],
    ["'same' 2x2 on 5x3", [1, 5, 3, 17], { padding: 'same' }],
    ['[3, 2] / [3, 2]', [2, 7, 6, 4], { poolSize: [3, 2], strides: [3, 2] }],
    ['3x3 / 1 (overlapping)', [1, 6, 5, 3], { poolSize: 3, strides: 1 }],
    ["'same' 3x3 / 2 (overlapping)", [2, 7, 7, 2], { poolSize: 3, strides: 2, padding: 'same' }],
  ];
  let seed = 500;
  for (const [name, shape, opts] of cases) {
    for (const masked of [false, true]) {
      it(`${name}${masked ? ', relu-masked' : ''}`, () => {
        const size = shape.reduce((a, b) => a * b, 1);
        const values = randomValues(size, (seed += 7), -1, 1).map((v) => (masked ? Math.max(v, 0) : v));
        const plan = planPool2d('test', shape, opts);
        const dyValues = randomValues(
          plan.outShape.reduce((a, b) => a * b, 1),
          (seed += 7),
        );
        const run = (backend: string, dtype: st.DType, winners = false) =>
          withBackend(backend, () => {
            const x = st.tensor(values, shape, dtype);
            // Note [Max pooling keeps its winners]: the forward output carries them to the gradient.
            const y = winners ? runPrimitive('maxPool2d', [x], { ...plan.attrs, keepIndices: true }, plan.outShape, dtype) : undefined;
            return Array.from(maxPool2dGrad(x, st.tensor(dyValues, plan.outShape, dtype), plan, masked, y).dataSync());
          });
        const want = run('reference', 'float64');
        assertClose(run('native', 'float32'), want, 1e-6, 1e-6, 'recomputing the winners');
        assertClose(run('native', 'float32', true), want, 1e-6, 1e-6, 'winners kept by the forward pass');
      });
    }
  }
});
