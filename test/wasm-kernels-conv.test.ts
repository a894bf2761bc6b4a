// The wasm backend's convolutions (Note [WASM convolution by im2col] in wasm/src/conv.c) and
// pooling against the reference backend in float64: values and the gradients of x, the filter
// and the bias through conv2d and fused.conv2d, over strides, padding, dilation, 1x1 filters and
// odd channel counts; conv2dBackpropFilterBias directly; one thread against two.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { backpropFilterAndBiasPlanned, planConv2d } from '../src/ops/conv.js';
import { assertClose, randomValues, withBackend } from './helpers.js';
import { wasmThreadsReady, assertSameOnOneAndTwoThreads } from './wasm-kernels-helpers.js';

const wasmAvailable = st.backends().some((b) => b.name === 'wasm' && b.available);
const size = (s: readonly number[]) => s.reduce((p, q) => p * q, 1);
const tensor = (shape: number[], seed: number, dtype: st.DType, lo = -1, hi = 1) => st.tensor(randomValues(size(shape), seed, lo, hi), shape, dtype);

const convCases: [string, number[], number[], st.Conv2dOptions][] = [
  ['3x3 valid', [2, 7, 6, 3], [3, 3, 3, 5], {}],
  ['3x3 same', [3, 8, 8, 4], [3, 3, 4, 8], { padding: 'same' }],
  ['5x2 same, strides 2', [3, 9, 8, 4], [5, 2, 4, 17], { padding: 'same', strides: 2 }],
  ['strides [2, 1]', [2, 9, 7, 5], [3, 2, 5, 6], { strides: [2, 1] }],
  ['dilation 2', [1, 11, 10, 2], [3, 3, 2, 3], { dilation: 2 }],
  ['1x1', [4, 5, 5, 7], [1, 1, 7, 9], {}],
  ['1x1, strides 2', [2, 6, 6, 3], [1, 1, 3, 4], { strides: 2 }],
  ['one channel in and out', [5, 6, 6, 1], [2, 2, 1, 1], { padding: 'same' }],
  ['one image, many channels', [1, 10, 10, 19], [3, 3, 19, 13], { padding: 'same' }],
  ['a big image', [2, 28, 28, 8], [5, 5, 8, 16], { padding: 'same' }],
  // Thin inputs (kh·kw·cin <= 32) take the direct forward kernel; 20 filters leave a ragged 4.
  ['first layer: 3x3 over 3 channels, 20 filters', [3, 9, 9, 3], [3, 3, 3, 20], { padding: 'same' }],
  ['first layer: 3x3 over 1 channel, strides 2, dilation [1, 2]', [5, 12, 11, 1], [3, 3, 1, 32], { strides: 2, dilation: [1, 2] }],
  // One image, large enough to be split across threads: the input gradient by channels.
  ['one big image', [1, 24, 24, 32], [3, 3, 32, 32], { padding: 'same' }],
];

describe('wasm convolution kernels', { skip: !wasmAvailable && 'wasm backend not available' }, () => {
  before(wasmThreadsReady);
  let seed = 500;
  for (const [name, xs, fs, opts] of convCases) {
    it(`${name}: conv2d and fused.conv2d (linear, relu) with the gradients of x, filter and bias`, () => {
      const s = (seed += 10);
      const run = (backend: string, dtype: st.DType) =>
        withBackend(backend, () => {
          const out: number[][] = [];
          for (const activation of [undefined, 'linear', 'relu'] as const) {
            const x = st.variable(tensor(xs, s, dtype));
            const f = st.variable(tensor(fs, s + 1, dtype));
            const bias = st.variable(tensor([fs[3]], s + 2, dtype, -0.5, 0.5));
            const y = activation ? st.fused.conv2d({ x, filter: f, bias, activation, ...opts }) : st.conv2d(x, f, opts);
            st.sum(st.mul(y, tensor(y.shape as number[], s + 3, dtype, 0.5, 1.5))).backward();
            out.push(...[y, x.grad!, f.grad!].map((t) => Array.from(t.dataSync())));
            if (activation) out.push(Array.from(bias.grad!.dataSync()));
          }
          return out;
        });
      const got = run('wasm', 'float32'),
        want = run('reference', 'float64');
      assert.equal(got.length, want.length);
      got.forEach((v, i) => assertClose(v, want[i], 1e-4, 1e-4, `result ${i}`));
    });
  }

  it('conv2dBackpropFilterBias: the filter gradient and the sum of dz in one kernel', () => {
    for (const [name, xs, fs, opts] of convCases) {
      const s = (seed += 10);
      const plan = planConv2d('test', xs, fs, opts);
      const run = (backend: string, dtype: st.DType) =>
        withBackend(backend, () => {
          const [df, db] = backpropFilterAndBiasPlanned(tensor(xs, s, dtype), tensor(plan.outShape as number[], s + 1, dtype), fs, plan);
          return [df, db].map((t) => Array.from(t.dataSync()));
        });
      const got = run('wasm', 'float32'),
        want = run('reference', 'float64');
      got.forEach((v, i) => assertClose(v, want[i], 1e-4, 1e-4, `${name} result ${i}`));
    }
  });

  const depthwiseCases: [string, number[], number[], st.Conv2dOptions][] = [
    ['1 channel, 1x1', [2, 5, 5, 1], [1, 1, 1, 1], {}],
    ['3 channels, 3x3 same', [2, 13, 13, 3], [3, 3, 3, 1], { padding: 'same' }],
    ['17 channels, 3x3 same, strides 2, dm 3', [1, 13, 13, 17], [3, 3, 17, 3], { padding: 'same', strides: 2 }],
    ['3 channels, 5x2 valid, dm 3', [2, 5, 5, 3], [5, 2, 3, 3], {}],
    ['8 channels, 3x3 same, dilation 2', [3, 9, 9, 8], [3, 3, 8, 1], { padding: 'same', dilation: 2 }],
    ['one image, 32 channels, 3x3 same', [1, 10, 10, 32], [3, 3, 32, 1], { padding: 'same' }],
    ['1x1 image, 3x3 same, dm 2', [3, 1, 1, 5], [3, 3, 5, 2], { padding: 'same' }],
    ['one big image (split by channels)', [1, 32, 32, 32], [3, 3, 32, 1], { padding: 'same' }],
  ];
  for (const [name, xs, fs, opts] of depthwiseCases) {
    it(`depthwise ${name}: values and the gradients of x and the filter`, () => {
      const s = (seed += 10);
      const run = (backend: string, dtype: st.DType) =>
        withBackend(backend, () => {
          const x = st.variable(tensor(xs, s, dtype));
          const f = st.variable(tensor(fs, s + 1, dtype));
          const y = st.depthwiseConv2d(x, f, opts);
          st.sum(st.mul(y, tensor(y.shape as number[], s + 3, dtype, 0.5, 1.5))).backward();
          return [y, x.grad!, f.grad!].map((t) => Array.from(t.dataSync()));
        });
      const got = run('wasm', 'float32'),
        want = run('reference', 'float64');
      got.forEach((v, i) => assertClose(v, want[i], 1e-4, 1e-4, `result ${i}`));
    });
  }

  const poolCases: [string, number[], st.Pool2dOptions][] = [
    ['2x2 strides 2', [2, 6, 6, 3], { poolSize: 2, strides: 2 }],
    ['3x3 strides 1 same', [2, 7, 5, 9], { poolSize: 3, strides: 1, padding: 'same' }],
    ['3x3 strides 2 same, odd size', [3, 9, 7, 4], { poolSize: 3, strides: 2, padding: 'same' }],
    ['[2, 3] strides [1, 2]', [1, 8, 9, 13], { poolSize: [2, 3], strides: [1, 2] }],
    ['one channel', [4, 5, 5, 1], { poolSize: 2, strides: 1 }],
    ['one big image (split by channels)', [1, 64, 64, 16], { poolSize: 3, strides: 2, padding: 'same' }],
  ];
  for (const [name, xs, opts] of poolCases) {
    it(`pooling ${name}: max and average, values and gradients (ties and a NaN included)`, () => {
      const s = (seed += 10);
      // Values on a coarse grid so that windows have ties; the first maximum wins.
      const values = randomValues(size(xs), s).map((v) => Math.round(v * 4) / 4);
      values[3] = Number.NaN;
      const run = (backend: string, dtype: st.DType) =>
        withBackend(backend, () => {
          const out: number[][] = [];
          for (const op of [st.maxPool2d, st.avgPool2d]) {
            const x = st.variable(st.tensor(values, xs, dtype));
            const y = op(x, opts);
            st.sum(st.mul(y, tensor(y.shape as number[], s + 3, dtype, 0.5, 1.5))).backward();
            out.push(Array.from(y.dataSync()), Array.from(x.grad!.dataSync()));
          }
          return out;
        });
      const got = run('wasm', 'float32'),
        want = run('reference', 'float64');
      got.forEach((v, i) => assertClose(v, want[i], 1e-5, 1e-5, `result ${i}`));
    });
  }

  it('one thread and two give the same bits', () => {
    const run = () =>
      withBackend('wasm', () => {
        const x = st.variable(tensor([16, 14, 14, 8], 1, 'float32'));
        const f = st.variable(tensor([3, 3, 8, 16], 2, 'float32'));
        const d = st.variable(tensor([3, 3, 16, 2], 3, 'float32'));
        const y = st.depthwiseConv2d(st.maxPool2d(st.conv2d(x, f, { padding: 'same' }), { poolSize: 2, strides: 2 }), d, { padding: 'same' });
        st.sum(st.mul(y, y)).backward();
        return [y, x.grad!, f.grad!, d.grad!].map((t) => Array.from(t.dataSync()));
      });
    assertSameOnOneAndTwoThreads(run);
  });
});
