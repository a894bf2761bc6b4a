// The native depthwise kernels (oneDNN grouped convolution, native/src/conv.cc) against
// the composite on the reference backend in float64 (Note [Depthwise convolution] in
// ops/depthwise-conv.ts): outputs, both first derivatives (the gradient kernels) and second
// derivatives (the gradient kernels' VJP rules), on random inputs of odd shapes. Also the
// gradient composites that run where a backend has no depthwise kernels, and a check that
// oneDNN picked a JIT implementation rather than its slow reference one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import type { NativeBackend } from '../src/backend/native/index.js';
import { findBackend } from '../src/backend/registry.js';
import {
  depthwiseBackpropFilterPlanned,
  depthwiseBackpropInputPlanned,
  depthwiseConv2d,
  depthwiseGatherMatmul,
  planDepthwise,
} from '../src/ops/depthwise-conv.js';
import { assertClose, randomTensor, withBackend } from './helpers.js';

interface Case {
  name: string;
  x: number[]; // [N, H, W, C]
  k: number[]; // [kh, kw, C, dm]
  opts: st.Conv2dOptions;
}

const CASES: Case[] = [
  { name: '1 channel, 1x1, 5x5', x: [2, 5, 5, 1], k: [1, 1, 1, 1], opts: {} },
  { name: '3 channels, 3x3 same', x: [2, 13, 13, 3], k: [3, 3, 3, 1], opts: { padding: 'same' } },
  { name: '17 channels, 3x3 same, strides 2, dm 3', x: [1, 13, 13, 17], k: [3, 3, 17, 3], opts: { padding: 'same', strides: 2 } },
  { name: '3 channels, 5x2 valid, dm 3', x: [2, 5, 5, 3], k: [5, 2, 3, 3], opts: {} },
  { name: "17 channels, 5x2 'same' (even width), strides 2", x: [1, 13, 13, 17], k: [5, 2, 17, 1], opts: { padding: 'same', strides: 2 } },
  { name: "3 channels, 2x2 'same' (even), dm 3", x: [2, 5, 13, 3], k: [2, 2, 3, 3], opts: { padding: 'same' } },
  { name: '3 channels, 3x3 same, dilation 2, dm 3', x: [2, 13, 13, 3], k: [3, 3, 3, 3], opts: { padding: 'same', dilation: 2 } },
  { name: '17 channels, 3x3 valid, dilation 2, strides 2', x: [1, 13, 13, 17], k: [3, 3, 17, 1], opts: { dilation: 2, strides: 2 } },
  { name: '1x1 image, 3x3 same, dm 3', x: [3, 1, 1, 3], k: [3, 3, 3, 3], opts: { padding: 'same' } },
  {
    name: '1 channel, 5x2 same, strides [2, 1], dilation [1, 2]',
    x: [2, 13, 5, 1],
    k: [5, 2, 1, 1],
    opts: { padding: 'same', strides: [2, 1], dilation: [1, 2] },
  },
];

const native = st.backends().find((b) => b.name === 'native');
const skip = native?.available ? false : `native backend unavailable: ${native?.reason ?? 'not registered'}`;

// float32 kernel vs float64 oracle: errors grow with the number of terms summed (up to ~100).
const TOL = { rtol: 1e-4, atol: 1e-4 };

/** Runs f on `backend` with the case's random inputs in `dtype` (same values on both sides). */
function onInputs<T>(backend: string, dtype: st.DType, c: Case, seed: number, f: (x: st.Tensor, k: st.Tensor, w: st.Tensor) => T): T {
  return withBackend(backend, () => {
    const x = randomTensor(c.x, seed, dtype);
    const k = randomTensor(c.k, seed + 1, dtype);
    const outShape = planDepthwise(x, k, c.opts).outShape;
    return f(x, k, randomTensor(outShape, seed + 2, dtype));
  });
}

const download = (ts: st.Tensor[]) => ts.map((t) => ({ shape: [...t.shape], values: Array.from(t.dataSync()) }));

describe('native depthwiseConv2d matches the float64 composite', { skip }, () => {
  let seed = 100;
  for (const c of CASES) {
    const s = (seed += 10);
    // A nonlinear loss, so the upstream gradient of the second pass depends on both inputs.
    const loss = (w: st.Tensor) => (a: st.Tensor, b: st.Tensor) => depthwiseConv2d(a, b, c.opts).sin().mul(w).sum();

    it(`${c.name}: output and both gradients`, () => {
      const run = (backend: string, dtype: st.DType) =>
        onInputs(backend, dtype, c, s, (x, k, w) => {
          const y = depthwiseConv2d(st.variable(x), k, c.opts); // a variable, so the tape records which primitive ran
          const { grads } = st.valueAndGrad(loss(w))(x, k);
          if (backend === 'native') {
            const made = [y, ...grads].map((t) => t.node?.primitive ?? 'none');
            assert.deepEqual(made, ['depthwiseConv2d', 'depthwiseConv2dBackpropInput', 'depthwiseConv2dBackpropFilter'], 'the native kernels ran');
          }
          return download([y, ...grads]);
        });
      const got = run('native', 'float32'),
        want = run('reference', 'float64');
      ['output', 'd/dx', 'd/dkernel'].forEach((what, i) => {
        assert.deepEqual(got[i].shape, want[i].shape, `${what} shape`);
        assertClose(got[i].values, want[i].values, TOL.rtol, TOL.atol, `${c.name} ${what}`);
      });
    });

    it(`${c.name}: second derivatives through the gradient kernels' rules`, () => {
      const run = (backend: string, dtype: st.DType) =>
        onInputs(backend, dtype, c, s, (x, k, w) => {
          const v1 = randomTensor(c.x, s + 3, dtype),
            v2 = randomTensor(c.k, s + 4, dtype);
          const outer = (a: st.Tensor, b: st.Tensor) => {
            const [gx, gk] = st.valueAndGrad(loss(w))(a, b).grads;
            return gx.mul(v1).sum().add(gk.mul(v2).sum());
          };
          return download(st.valueAndGrad(outer)(x, k).grads);
        });
      const got = run('native', 'float32'),
        want = run('reference', 'float64');
      ['d2/dx', 'd2/dkernel'].forEach((what, i) => assertClose(got[i].values, want[i].values, 3e-4, 3e-4, `${c.name} ${what}`));
    });
  }

  it('oneDNN runs JIT implementations, not its reference kernels', () => {
    const backend = findBackend('native') as NativeBackend;
    for (const c of [...CASES, { name: 'MobileNet-sized', x: [32, 56, 56, 64], k: [3, 3, 64, 1], opts: { padding: 'same' } } as Case]) {
      const plan = withBackend('reference', () => planDepthwise(st.zeros(c.x), st.zeros(c.k), c.opts));
      const [, outH, outW] = plan.outShape;
      for (const kind of ['forward', 'backpropInput', 'backpropFilter'] as const) {
        const impl = backend.depthwiseConvImplementation(kind, c.x, c.k, plan.attrs, outH, outW);
        assert.ok(!/\bref\b/.test(impl), `${c.name} ${kind}: oneDNN chose ${impl}`);
      }
    }
  });
});

describe('depthwise gradient composites (backends without the kernels)', () => {
  let seed = 500;
  for (const c of CASES) {
    const s = (seed += 10);
    it(`${c.name}: match autograd through the gather + matmul forward`, () =>
      withBackend('reference', () => {
        const x = randomTensor(c.x, s),
          k = randomTensor(c.k, s + 1);
        const plan = planDepthwise(x, k, c.opts);
        const dy = randomTensor(plan.outShape, s + 2);
        const {
          grads: [gx, gk],
        } = st.valueAndGrad((a: st.Tensor, b: st.Tensor) => depthwiseGatherMatmul(a, b, plan).mul(dy).sum())(x, k);
        assertClose(depthwiseBackpropInputPlanned(dy, k, c.x, plan), gx, 1e-10, 1e-12, `${c.name} d/dx`);
        assertClose(depthwiseBackpropFilterPlanned(x, dy, c.k, plan), gk, 1e-10, 1e-12, `${c.name} d/dkernel`);
      }));
  }

  it('agree with an explicit float64 loop over the definition', () =>
    withBackend('reference', () => {
      // y[n, i, j, c*dm + m] = sum over taps (p, q) of x[n, i*s - pad + p*d, j*s - pad + q*d, c] * k[p, q, c, m]
      const c: Case = CASES[6]; // 'same', dilation 2, dm 3
      const x = randomTensor(c.x, 900),
        k = randomTensor(c.k, 901);
      const plan = planDepthwise(x, k, c.opts);
      const [n, h, wd, ch] = c.x,
        [kh, kw, , dm] = c.k,
        [, oh, ow, oc] = plan.outShape;
      const {
        strides: [sh, sw],
        dilation: [dh, dw],
        pads,
      } = plan.attrs;
      const dy = randomTensor(plan.outShape, 902);
      const xv = x.dataSync(),
        kv = k.dataSync(),
        gv = dy.dataSync();
      const dx = new Float64Array(xv.length),
        dk = new Float64Array(kv.length);
      for (let b = 0; b < n; b++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++)
            for (let o = 0; o < oc; o++) {
              const cin = Math.floor(o / dm),
                m = o % dm,
                g = gv[((b * oh + i) * ow + j) * oc + o];
              for (let p = 0; p < kh; p++)
                for (let q = 0; q < kw; q++) {
                  const r = i * sh - pads.top + p * dh,
                    col = j * sw - pads.left + q * dw;
                  if (r < 0 || r >= h || col < 0 || col >= wd) continue;
                  const xi = ((b * h + r) * wd + col) * ch + cin,
                    ki = ((p * kw + q) * ch + cin) * dm + m;
                  dx[xi] += g * kv[ki];
                  dk[ki] += g * xv[xi];
                }
            }
      assertClose(depthwiseBackpropInputPlanned(dy, k, c.x, plan), Array.from(dx), 1e-10, 1e-12, 'd/dx');
      assertClose(depthwiseBackpropFilterPlanned(x, dy, c.k, plan), Array.from(dk), 1e-10, 1e-12, 'd/dkernel');
    }));
});
