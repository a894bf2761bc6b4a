// conv2dBackpropFilterBias (native/src/conv.cc kind 5): the filter and bias gradients of a
// convolution with a bias in one pass over dz, against the separate filter gradient and sum on
// the reference backend in float64, first and second derivatives.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { backpropFilterAndBiasPlanned, planConv2d } from '../src/ops/conv.js';
import { assertClose, randomValues, withBackend } from './helpers.js';
import { tapePrimitives } from './grad-check.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);

const cases: [string, number[], number[], st.Conv2dOptions][] = [
  ['3x3 valid', [2, 7, 6, 3], [3, 3, 3, 5], {}],
  ['5x2 same, strides 2', [3, 9, 8, 4], [5, 2, 4, 17], { padding: 'same', strides: 2 }],
  ['1x1, one channel in', [4, 5, 5, 1], [1, 1, 1, 8], {}],
  ['dilation 2', [1, 11, 10, 2], [3, 3, 2, 3], { dilation: 2 }],
];

describe('convolution filter and bias gradients in one pass', { skip: !nativeAvailable && 'native backend not built' }, () => {
  let seed = 300;
  for (const [name, xs, fs, opts] of cases) {
    it(`${name}: equal to the filter gradient and the sum of dz in float64`, () => {
      const s = (seed += 10);
      const plan = planConv2d('test', xs, fs, opts);
      const run = (backend: string, dtype: st.DType) =>
        withBackend(backend, () => {
          const x = st.tensor(
            randomValues(
              xs.reduce((a, b) => a * b, 1),
              s,
            ),
            xs,
            dtype,
          );
          const dz = st.tensor(
            randomValues(
              plan.outShape.reduce((a, b) => a * b, 1),
              s + 1,
            ),
            plan.outShape,
            dtype,
          );
          return backpropFilterAndBiasPlanned(x, dz, fs, plan).map((t) => Array.from(t.dataSync()));
        });
      const [dw, db] = run('native', 'float32'),
        [wantW, wantB] = run('reference', 'float64');
      assertClose(dw, wantW, 1e-4, 1e-4, 'filter');
      assertClose(db, wantB, 1e-4, 1e-4, 'bias');
    });
  }

  it('a fused conv + bias + ReLU backward uses it, and second derivatives through it match float64', () => {
    const run = (backend: string, dtype: st.DType) =>
      withBackend(backend, () => {
        const x = st.variable(st.tensor(randomValues(2 * 6 * 6 * 2, 50), [2, 6, 6, 2], dtype));
        const filter = st.variable(st.tensor(randomValues(3 * 3 * 2 * 3, 51), [3, 3, 2, 3], dtype));
        const bias = st.variable(st.tensor([0.1, -0.2, 0.3], [3], dtype));
        const y = st.fused.conv2d({ x, filter, bias, activation: 'linear' });
        st.sum(st.square(y)).backward(undefined, { createGraph: true });
        const [gf, gb] = [filter.grad!, bias.grad!];
        if (backend === 'native') assert.ok(tapePrimitives(gf).has('conv2dBackpropFilterBias'));
        filter.zeroGrad();
        bias.zeroGrad();
        x.zeroGrad();
        st.add(st.sum(st.square(gf)), st.sum(st.mul(gb, st.tensor([1, 2, 3], [3], dtype)))).backward();
        return [gf, gb, x.grad!, filter.grad!, bias.grad!].map((t) => Array.from(t.dataSync()));
      });
    const got = run('native', 'float32'),
      want = run('reference', 'float64');
    got.forEach((v, i) => assertClose(v, want[i], 2e-4, 2e-4, `result ${i}`));
  });
});
