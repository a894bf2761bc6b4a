// The webgpu backend's pooling and depthwise-convolution kernels (src/backend/webgpu/kernels-pool.ts,
// kernels-depthwise.ts) against the reference backend on random inputs of odd shapes: pool
// sizes 2 and 3, strides below, at and above the window, 'valid' and 'same' padding; the
// gather-style gradients through backward (a seed instead of a sum, so only these kernels and the
// elementwise ones run on the GPU), ties and NaN in max pooling, and the ReLU-masked gradient.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import type { Conv2dOptions } from '../src/ops/conv.js';
import { depthwiseConv2d } from '../src/ops/depthwise-conv.js';
import { maxPool2dGrad, planPool2d, type Pool2dOptions } from '../src/ops/pool.js';
import { randomValues } from './helpers.js';
import { assertSameOnWebGpu, valuesOn, webgpuSkip } from './webgpu-helpers.js';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const r = (shape: number[], seed: number, lo = -2, hi = 2) => st.tensor(randomValues(size(shape), seed, lo, hi), shape);

/** f(x) and the gradients of ⟨seed, f(x, ...)⟩ for each argument, by backward with a seed. */
function withGrads(f: (...xs: st.Tensor[]) => st.Tensor, xs: st.Tensor[], seed: (shape: number[]) => st.Tensor): st.Tensor[] {
  const vs = xs.map((x) => st.variable(x));
  const y = f(...vs);
  y.backward(seed([...y.shape]));
  return [y, ...vs.map((v) => v.grad as st.Tensor)];
}

const poolCases: [string, number[], Pool2dOptions][] = [
  ['2x2 valid', [2, 7, 9, 3], { poolSize: 2 }],
  ['3x3 stride 2 same', [2, 7, 9, 3], { poolSize: 3, strides: 2, padding: 'same' }],
  ['3x3 stride 1 same', [1, 5, 6, 2], { poolSize: 3, strides: 1, padding: 'same' }],
  ['2x3 strides [1, 2] valid', [3, 6, 7, 5], { poolSize: [2, 3], strides: [1, 2] }],
  ['2x2 stride 3 (pixels in no window)', [1, 8, 8, 2], { poolSize: 2, strides: 3 }],
  ['3x3 over a 2x2 image, same', [2, 2, 2, 1], { poolSize: 3, strides: 1, padding: 'same' }],
];

describe('webgpu pooling kernels', { skip: webgpuSkip }, () => {
  let seed = 10;
  for (const op of ['maxPool2d', 'avgPool2d'] as const) {
    for (const [name, shape, options] of poolCases) {
      it(`${op} ${name}: values and gradient`, async () => {
        const s = (seed += 10);
        await assertSameOnWebGpu(
          () =>
            withGrads(
              (x) => st[op](x, options),
              [r(shape, s)],
              (ys) => r(ys, s + 1),
            ),
          1e-5,
          1e-6,
          `${op} ${name}`,
        );
      });
    }
  }

  it('maxPool2d with ties: the first maximum of each window takes the gradient', async () => {
    // Values from {0, 1, 2}: most windows hold their maximum more than once.
    const x = () => st.tensor(randomValues(2 * 6 * 6 * 2, 7, 0, 3).map(Math.floor), [2, 6, 6, 2]);
    for (const options of [{ poolSize: 2 }, { poolSize: 3, strides: 1, padding: 'same' }] as Pool2dOptions[]) {
      await assertSameOnWebGpu(
        () =>
          withGrads(
            (v) => st.maxPool2d(v, options),
            [x()],
            (ys) => r(ys, 8),
          ),
        1e-6,
        1e-6,
        'ties',
      );
    }
  });

  it('maxPool2d keeps NaN, and its gradient goes to the first NaN', async () => {
    const values = randomValues(16, 3);
    values[5] = Number.NaN;
    values[10] = Number.NaN;
    const x = () => st.tensor(values, [1, 4, 4, 1]);
    await assertSameOnWebGpu(
      () =>
        withGrads(
          (v) => st.maxPool2d(v, { poolSize: 3, strides: 1 }),
          [x()],
          (ys) => r(ys, 4),
        ),
      1e-6,
      1e-6,
      'NaN',
    );
  });

  it('maxPool2dGrad with reluMasked: only positive maxima take dy', async () => {
    const shape = [2, 5, 5, 3];
    const plan = planPool2d('maxPool2d', shape, { poolSize: 2, strides: 1 });
    await assertSameOnWebGpu(
      () => {
        // Mostly negative, so many windows have a maximum that is not positive (a ReLU output's 0).
        const x = st.relu(r(shape, 21, -2, 1));
        return maxPool2dGrad(x, r(plan.outShape, 22), plan, true);
      },
      1e-6,
      1e-6,
      'reluMasked',
    );
  });

  it('size 0', async () => {
    await assertSameOnWebGpu(() => [st.maxPool2d(st.zeros([0, 4, 4, 2])), st.avgPool2d(st.zeros([2, 4, 4, 0]))], 0, 0, 'empty');
  });

  it('many channels (300)', async () => {
    await assertSameOnWebGpu(
      () =>
        withGrads(
          (x) => st.avgPool2d(x, { poolSize: 2 }),
          [r([1, 4, 4, 300], 31)],
          (ys) => r(ys, 32),
        ),
      1e-5,
      1e-6,
      'wide',
    );
  });
});

const depthwiseCases: [string, number[], number[], Conv2dOptions][] = [
  ['3x3 same, dm 1', [2, 7, 6, 3], [3, 3, 3, 1], { padding: 'same' }],
  ['3x3 valid, dm 2', [2, 7, 6, 3], [3, 3, 3, 2], {}],
  ['3x3 stride 2 same, dm 2', [1, 9, 8, 5], [3, 3, 5, 2], { strides: 2, padding: 'same' }],
  ['2x3 strides [2, 1] valid', [2, 6, 7, 4], [2, 3, 4, 1], { strides: [2, 1] }],
  ['3x3 dilation 2 same, dm 3', [1, 8, 8, 2], [3, 3, 2, 3], { dilation: 2, padding: 'same' }],
  ['1x1, 70 channels (two lane blocks)', [1, 3, 3, 70], [1, 1, 70, 1], {}],
];

describe('webgpu depthwise convolution kernels', { skip: webgpuSkip }, () => {
  let seed = 300;
  for (const [name, xShape, fShape, options] of depthwiseCases) {
    it(`${name}: values and both gradients`, async () => {
      const s = (seed += 10);
      await assertSameOnWebGpu(
        () =>
          withGrads(
            (x, f) => depthwiseConv2d(x, f, options),
            [r(xShape, s), r(fShape, s + 1)],
            (ys) => r(ys, s + 2),
          ),
        1e-4,
        1e-5,
        name,
      );
    });
  }

  it('int32 input and filter', async () => {
    const x = () => st.tensor(randomValues(2 * 5 * 5 * 2, 41, -5, 5).map(Math.round), [2, 5, 5, 2], 'int32');
    const f = () => st.tensor(randomValues(3 * 3 * 2 * 2, 42, -3, 3).map(Math.round), [3, 3, 2, 2], 'int32');
    await assertSameOnWebGpu(() => depthwiseConv2d(x(), f(), { padding: 'same' }), 0, 0, 'int32');
  });

  it('runs its own kernels on webgpu', async () => {
    const [{ values }] = await valuesOn('webgpu', () => {
      const kernels = st.getBackend().kernels;
      assert.ok(kernels.depthwiseConv2d && kernels.depthwiseConv2dBackpropInput && kernels.depthwiseConv2dBackpropFilter);
      assert.ok(kernels.maxPool2d && kernels.maxPool2dGrad && kernels.avgPool2d && kernels.avgPool2dGrad);
      return depthwiseConv2d(st.ones([1, 3, 3, 1]), st.ones([3, 3, 1, 1]), { padding: 'same' });
    });
    assert.deepEqual(values, [4, 6, 4, 6, 9, 6, 4, 6, 4]);
  });
});
