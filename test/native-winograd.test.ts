// Native 3x3 convolutions whose filter gradient runs oneDNN's Winograd kernels (Note [Winograd for
// 3x3 convolutions], native/src/conv.cc): the filter and bias gradients, with the direct forward
// pass (plain, with a bias, with bias and ReLU) and input gradient beside them, against the
// reference backend in float64, and that the shapes below really take the Winograd path (and the
// ones it loses on, and every forward pass, do not).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import type { NativeBackend } from '../src/backend/native/index.js';
import { findBackend } from '../src/backend/registry.js';
import { planConv2d } from '../src/ops/conv.js';
import { assertClose, randomTensor, withBackend } from './helpers.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);

// oneDNN 2.6 has Winograd kernels for AVX-512 CPUs only ("avx512_core": F, BW, VL, DQ); elsewhere
// every convolution must fall back to the direct kernels, which the first test then checks.
const winogradCpu = (() => {
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8');
    return ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => new RegExp(`\\b${f}\\b`).test(flags));
  } catch {
    return false;
  }
})();

type Case = { name: string; x: number[]; f: number[]; opts: st.Conv2dOptions };
const CASES: Case[] = [
  // 16x16 outputs: whole tiles; 4 * 256 = 1024 output pixels.
  { name: '32->32 on 18x18, valid', x: [4, 18, 18, 32], f: [3, 3, 32, 32], opts: {} },
  // 9x9 outputs: the last tile row and column mostly padding.
  { name: '16->48 on 9x9, same', x: [16, 9, 9, 16], f: [3, 3, 16, 48], opts: { padding: 'same' } },
  // Height and width apart: 8x20 outputs.
  { name: '16->32 on 10x22, valid', x: [8, 10, 22, 16], f: [3, 3, 16, 32], opts: {} },
  // 3x3 outputs at batch 64: 576 output pixels, just above the threshold.
  { name: '16->32 on 5x5, valid (the Keras-book conv3 geometry)', x: [64, 5, 5, 16], f: [3, 3, 16, 32], opts: {} },
];

describe('native Winograd convolutions', { skip: !nativeAvailable && 'native backend not built' }, () => {
  it('the filter gradients take the Winograd kernels where they pay; forward passes and input gradients stay direct', () => {
    const backend = findBackend('native') as NativeBackend;
    const wino = (impl: string, want: boolean, what: string) => {
      assert.doesNotMatch(impl, /\bref\b/, what);
      if (want && winogradCpu) assert.match(impl, /wino/, what);
      else assert.doesNotMatch(impl, /wino/, what);
    };
    for (const c of CASES) {
      const plan = planConv2d('test', c.x, c.f, c.opts);
      const [, outH, outW] = plan.outShape;
      const impl = (kind: 'forward' | 'backpropInput' | 'backpropFilter') => backend.convImplementation(kind, c.x, c.f, plan.attrs, outH, outW);
      wino(impl('forward'), false, `${c.name} forward`);
      wino(impl('backpropFilter'), true, `${c.name} filter gradient`);
      wino(impl('backpropInput'), false, `${c.name} input gradient`);
    }
    // Channel counts that are not multiples of 16, strides, 5x5 outputs (tiles 39 % used) and
    // small outputs (batch 1) stay direct for the filter gradient too; 3x3 outputs at batch 32
    // (288 pixels) take Winograd there.
    const direct: [number[], number[], st.Conv2dOptions, string[]][] = [
      [[4, 18, 18, 24], [3, 3, 24, 32], {}, ['forward', 'backpropFilter']],
      [[4, 18, 18, 32], [3, 3, 32, 32], { strides: 2 }, ['forward', 'backpropFilter']],
      [[64, 7, 7, 32], [3, 3, 32, 64], {}, ['forward', 'backpropFilter']],
      [[1, 13, 13, 32], [3, 3, 32, 64], {}, ['forward', 'backpropFilter']],
      [[32, 5, 5, 64], [3, 3, 64, 128], {}, ['forward']],
    ];
    for (const [x, f, opts, kinds] of direct) {
      const plan = planConv2d('test', x, f, opts);
      for (const kind of ['forward', 'backpropFilter'] as const) {
        const impl = backend.convImplementation(kind, x, f, plan.attrs, plan.outShape[1], plan.outShape[2]);
        wino(impl, !kinds.includes(kind), `${JSON.stringify([x, f, opts])} ${kind}: ${impl}`);
      }
    }
  });

  it('the blocked copies of x and y live only for the call', () =>
    withBackend('native', () => {
      const c = CASES[0];
      const x = randomTensor(c.x, 5, 'float32');
      const f = randomTensor(c.f, 6, 'float32');
      const dy = st.conv2d(x, f);
      const held = () => st.memory().native.bytes;
      const before = held();
      for (let i = 0; i < 3; i++) {
        st.conv2d(x, f).dispose();
        st.conv2dBackpropFilter(x, dy, c.f).dispose();
      }
      assert.equal(held(), before);
      for (const t of [x, f, dy]) t.dispose();
    }));

  let seed = 700;
  for (const c of CASES) {
    it(`${c.name}: outputs and filter, bias and input gradients equal float64`, () => {
      const s = (seed += 10);
      const run = (backend: string, dtype: st.DType) =>
        withBackend(backend, () => {
          const x = st.variable(randomTensor(c.x, s, dtype));
          const filter = st.variable(randomTensor(c.f, s + 1, dtype, -0.3, 0.3));
          const bias = st.variable(randomTensor([c.f[3]], s + 2, dtype));
          const plain = st.conv2d(x, filter, c.opts);
          const y = st.fused.conv2d({ x, filter, bias, activation: 'relu', ...c.opts });
          const weights = randomTensor([...y.shape], s + 3, dtype);
          st.add(st.sum(st.mul(y, weights)), st.sum(st.square(plain))).backward();
          return [plain, y, filter.grad!, bias.grad!, x.grad!].map((t) => Array.from(t.dataSync()));
        });
      const got = run('native', 'float32'),
        want = run('reference', 'float64');
      // Winograd's rounding error follows the magnitude of the terms summed, not of each result
      // (an element near zero by cancellation keeps an error of the terms' size): the absolute
      // tolerance is relative to the largest value.
      ['conv2d', 'fused conv2d + bias + relu', 'filter gradient', 'bias gradient', 'input gradient'].forEach((what, i) => {
        const scale = Math.max(...want[i].map(Math.abs));
        assertClose(got[i], want[i], 1e-4, 1e-5 * scale, `${c.name} ${what} (largest |value| ${scale.toFixed(1)})`);
      });
    });
  }
});
