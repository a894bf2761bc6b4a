// The webgpu backend's convolutions as implicit GEMM (Note [Convolutions as implicit GEMM])
// against the reference backend, which has no conv kernels and so runs the composites (patches
// times the flattened filter): filters of 1x1, 3x3 and 5x5, strides and dilation of 2, 'same' and
// 'valid' padding, the fused bias and ReLU, and the gradients, which run the backprop kernels.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { randomTensor } from './helpers.js';
import { assertSameOnWebGpu, webgpuSkip } from './webgpu-helpers.js';

const r = (shape: number[], seed: number, lo = -1, hi = 1) => randomTensor(shape, seed, 'float32', lo, hi);

/** A scalar that depends on every element of y with a different weight, from matmul and reshape only. */
const weigh = (y: st.Tensor, seed: number) => st.matmul(st.reshape(y, [1, y.size]), r([y.size, 1], seed));

interface Case {
  name: string;
  x: number[];
  filter: number[];
  options: st.Conv2dOptions;
}

const cases: Case[] = [
  { name: '1x1 valid', x: [2, 5, 7, 3], filter: [1, 1, 3, 4], options: {} },
  { name: '1x1 stride 2', x: [1, 6, 7, 5], filter: [1, 1, 5, 3], options: { strides: 2 } },
  { name: '3x3 same', x: [2, 7, 9, 3], filter: [3, 3, 3, 5], options: { padding: 'same' } },
  { name: '3x3 valid', x: [1, 8, 6, 4], filter: [3, 3, 4, 2], options: { padding: 'valid' } },
  { name: '3x3 same stride 2', x: [2, 9, 8, 3], filter: [3, 3, 3, 6], options: { padding: 'same', strides: 2 } },
  { name: '3x3 valid stride [2, 1]', x: [1, 9, 8, 2], filter: [3, 3, 2, 3], options: { strides: [2, 1] } },
  { name: '3x3 same dilation 2', x: [1, 9, 10, 3], filter: [3, 3, 3, 4], options: { padding: 'same', dilation: 2 } },
  { name: '3x3 valid dilation [1, 2]', x: [2, 7, 9, 2], filter: [3, 3, 2, 3], options: { dilation: [1, 2] } },
  { name: '5x5 same', x: [1, 8, 8, 3], filter: [5, 5, 3, 7], options: { padding: 'same' } },
  { name: '5x5 valid stride 2', x: [1, 11, 12, 2], filter: [5, 5, 2, 4], options: { strides: 2 } },
  { name: '3x3 same, 17 in and 33 out channels', x: [1, 5, 6, 17], filter: [3, 3, 17, 33], options: { padding: 'same' } },
  { name: '2x4 same stride 3', x: [1, 10, 11, 2], filter: [2, 4, 2, 3], options: { padding: 'same', strides: 3 } },
  { name: '3x3 valid stride 3 dilation 2', x: [1, 12, 11, 2], filter: [3, 3, 2, 3], options: { strides: 3, dilation: 2 } },
  {
    name: '4x4 same stride [2, 3] dilation [3, 1]',
    x: [2, 9, 10, 2],
    filter: [4, 4, 2, 3],
    options: { padding: 'same', strides: [2, 3], dilation: [3, 1] },
  },
];

describe('webgpu conv kernels', { skip: webgpuSkip }, () => {
  for (const [i, c] of cases.entries()) {
    it(`conv2d ${c.name}`, async () => {
      await assertSameOnWebGpu(() => st.conv2d(r(c.x, 2 * i + 1), r(c.filter, 2 * i + 2), c.options), 1e-4, 1e-5, c.name);
    });
  }
  for (const [i, c] of cases.entries()) {
    it(`gradients of conv2d ${c.name}`, async () => {
      await assertSameOnWebGpu(
        () =>
          st.valueAndGrad((x: st.Tensor, f: st.Tensor) => weigh(st.conv2d(x, f, c.options), 100 + i))(r(c.x, 3 * i + 1), r(c.filter, 3 * i + 2))
            .grads,
        1e-4,
        1e-5,
        c.name,
      );
    });
  }
  for (const activation of ['linear', 'relu', 'relu6'] as const) {
    it(`fused.conv2d with bias, ${activation}`, async () => {
      // relu6's inputs are scaled so that outputs reach past 6.
      const scale = activation === 'relu6' ? 8 : 1;
      await assertSameOnWebGpu(
        () =>
          [cases[2], cases[4], cases[6], cases[9]].map((c, i) =>
            st.fused.conv2d({
              x: st.mul(r(c.x, 40 + i), scale),
              filter: r(c.filter, 50 + i),
              bias: r([c.filter[3]], 60 + i),
              activation,
              ...c.options,
            }),
          ),
        1e-4,
        1e-5,
        `fused ${activation}`,
      );
    });
  }
  for (const c of [cases[2], cases[4], cases[7], cases[9]]) {
    it(`gradients of fused.conv2d with bias and relu, ${c.name} (filter and bias in one kernel)`, async () => {
      await assertSameOnWebGpu(
        () =>
          st.valueAndGrad((x: st.Tensor, filter: st.Tensor, bias: st.Tensor) =>
            weigh(st.fused.conv2d({ x, filter, bias, activation: 'relu', ...c.options }), 70),
          )(r(c.x, 71), r(c.filter, 72), r([c.filter[3]], 73)).grads,
        1e-4,
        1e-5,
        c.name,
      );
    });
  }
  it('conv2dBackpropInput and conv2dBackpropFilter called directly, odd sizes under stride 2', async () => {
    await assertSameOnWebGpu(
      () => {
        const options: st.Conv2dOptions = { padding: 'same', strides: 2 };
        return [
          st.conv2dBackpropInput(r([2, 4, 5, 3], 80), r([3, 3, 2, 3], 81), [2, 7, 9, 2], options),
          st.conv2dBackpropFilter(r([2, 7, 9, 2], 82), r([2, 4, 5, 3], 83), [3, 3, 2, 3], options),
        ];
      },
      1e-4,
      1e-5,
      'direct',
    );
  });
  it('an empty batch gives empty outputs and zero filter gradients', async () => {
    await assertSameOnWebGpu(
      () => {
        const options: st.Conv2dOptions = { padding: 'same' };
        return [
          st.conv2d(st.zeros([0, 4, 4, 2]), r([3, 3, 2, 3], 84), options),
          st.conv2dBackpropFilter(st.zeros([0, 4, 4, 2]), st.zeros([0, 4, 4, 3]), [3, 3, 2, 3], options),
        ];
      },
      0,
      0,
      'empty',
    );
  });
  it('one dispatch per convolution', async () => {
    await st.setBackend('webgpu');
    try {
      const backend = st.getBackend() as unknown as { counters(): { dispatches: number } };
      const x = r([1, 6, 6, 2], 90),
        f = r([3, 3, 2, 4], 91);
      await x.data();
      await f.data();
      const before = backend.counters().dispatches;
      await st.conv2d(x, f, { padding: 'same' }).data();
      assert.equal(backend.counters().dispatches - before, 1);
    } finally {
      await st.setBackend('reference');
    }
  });
});
