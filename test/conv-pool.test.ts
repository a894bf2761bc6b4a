// st.fused.conv2dMaxPool (Note [Convolution and pooling in one pass]): the native one-pass
// kernels against the same ops on the reference backend in float64 (values and the filter and
// bias gradients) over odd geometries; the fallbacks (many channels, x needing a gradient,
// recorded backward passes); and models running Conv2D + MaxPooling2D pairs through it (Note
// [Fused layer pairs]).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { assertClose, randomValues, withBackend } from './helpers.js';
import { tapePrimitives } from './grad-check.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);

interface Case {
  name: string;
  x: number[]; // NHWC
  filter: number[]; // [kh, kw, c, co]
  conv?: { strides?: number | [number, number]; padding?: 'valid' | 'same'; dilation?: number | [number, number] };
  pool?: st.Pool2dOptions;
}

const CASES: Case[] = [
  { name: 'the Keras-book first block (1 -> 32 channels, 3x3, pool 2)', x: [4, 28, 28, 1], filter: [3, 3, 1, 32] },
  { name: 'RGB, 5x5, 16 filters, odd image', x: [3, 17, 15, 3], filter: [5, 5, 3, 16] },
  { name: '8 channels (the most the kernel takes), 32 filters', x: [2, 11, 10, 8], filter: [3, 3, 8, 32] },
  { name: "'same' padding with an even kernel, 6 filters (not a multiple of 16)", x: [2, 9, 11, 1], filter: [4, 4, 1, 6], conv: { padding: 'same' } },
  { name: 'strides 2 and dilation 2, 4 channels', x: [2, 19, 21, 4], filter: [3, 3, 4, 32], conv: { strides: [2, 1], dilation: [1, 2] } },
  { name: 'overlapping 3x3 windows with strides 2', x: [2, 16, 16, 2], filter: [3, 3, 2, 16], pool: { poolSize: 3, strides: 2 } },
  {
    name: "pooling with 'same' padding (windows clipped at the border)",
    x: [2, 12, 13, 1],
    filter: [3, 3, 1, 17],
    pool: { poolSize: 2, padding: 'same' },
  },
  { name: 'batch of one, 1x1 kernel', x: [1, 7, 7, 3], filter: [1, 1, 3, 48] },
  // More channels than the kernel takes: fused.conv2d, max pooling, then the ReLU on the pooled values.
  { name: '16 channels (the unfused ops, pooling before the ReLU)', x: [2, 9, 9, 16], filter: [3, 3, 16, 24] },
  {
    name: "12 channels, overlapping 'same' pooling windows",
    x: [2, 8, 9, 12],
    filter: [3, 3, 12, 16],
    pool: { poolSize: 3, strides: 2, padding: 'same' },
  },
];

/** y, then the gradients of filter and bias (and x when xGrad) of Σ y·w for random weights w. */
function run(backend: string, dtype: st.DType, c: Case, fused: boolean, seed: number, xGrad = false): number[][] {
  return withBackend(backend, () => {
    const size = (s: number[]) => s.reduce((p, q) => p * q, 1);
    const xt = st.tensor(randomValues(size(c.x), seed, -1, 1), c.x, dtype);
    const x = xGrad ? st.variable(xt) : xt;
    const filter = st.variable(st.tensor(randomValues(size(c.filter), seed + 1, -0.5, 0.5), c.filter, dtype));
    // Biases around zero, so the ReLU zeroes whole windows and the mask matters.
    const bias = st.variable(st.tensor(randomValues(c.filter[3], seed + 2, -0.3, 0.1), [c.filter[3]], dtype));
    const args = { x, filter, bias, activation: 'relu' as const, ...c.conv };
    const y = fused ? st.fused.conv2dMaxPool({ ...args, pool: c.pool }) : st.maxPool2d(st.fused.conv2d(args), c.pool);
    st.sum(st.mul(y, st.tensor(randomValues(y.size, seed + 3, 0.5, 1.5), y.shape, dtype))).backward();
    const grads = [filter.grad!, bias.grad!, ...(xGrad ? [(x as st.Tensor).grad!] : [])];
    return [y, ...grads].map((t) => Array.from(t.dataSync()));
  });
}

describe('fused.conv2dMaxPool', () => {
  let seed = 900;
  for (const c of CASES) {
    it(`${c.name}: values and filter/bias gradients match the unfused ops in float64`, {
      skip: !nativeAvailable && 'native backend not built',
    }, () => {
      const s = (seed += 10);
      const got = run('native', 'float32', c, true, s);
      const want = run('reference', 'float64', c, false, s);
      ['y', 'dfilter', 'dbias'].forEach((name, i) => assertClose(got[i], want[i], 2e-4, 1e-4, name));
    });
  }

  it('runs the one-pass kernels on native for few channels, the unfused ops for many', {
    skip: !nativeAvailable && 'native backend not built',
  }, () => {
    withBackend('native', () => {
      const filter = st.variable(st.randomNormal([3, 3, 1, 32]));
      const bias = st.variable(st.zeros([32]));
      const y = st.fused.conv2dMaxPool({ x: st.randomUniform([2, 10, 10, 1]), filter, bias, activation: 'relu' });
      assert.ok(tapePrimitives(y).has('conv2dReluMaxPool'));
      const wide = st.fused.conv2dMaxPool({
        x: st.randomUniform([2, 10, 10, 16]),
        filter: st.variable(st.randomNormal([3, 3, 16, 16])),
        bias: st.variable(st.zeros([16])),
        activation: 'relu',
      });
      const prims = tapePrimitives(wide);
      assert.ok(!prims.has('conv2dReluMaxPool') && prims.has('fusedConv2d') && prims.has('maxPool2d'));
      const linear = st.fused.conv2dMaxPool({ x: st.randomUniform([2, 10, 10, 1]), filter, bias, activation: 'linear' });
      assert.ok(!tapePrimitives(linear).has('conv2dReluMaxPool'), 'only the ReLU form has a kernel');
    });
  });

  it('gives x its gradient too (a saliency map) through the unfused ops', { skip: !nativeAvailable && 'native backend not built' }, () => {
    for (const c of [CASES[2], CASES[CASES.length - 2]]) {
      const got = run('native', 'float32', c, true, 77, true);
      const want = run('reference', 'float64', c, false, 77, true);
      ['y', 'dfilter', 'dbias', 'dx'].forEach((name, i) => assertClose(got[i], want[i], 2e-4, 1e-4, `${c.name}: ${name}`));
    }
  });

  it('has second derivatives (a recorded backward pass uses the unfused ops)', { skip: !nativeAvailable && 'native backend not built' }, () => {
    const secondOrder = (backend: string, dtype: st.DType, fused: boolean) =>
      withBackend(backend, () => {
        const x = st.tensor(randomValues(2 * 8 * 8, 5, -1, 1), [2, 8, 8, 1], dtype);
        const filter = st.variable(st.tensor(randomValues(9 * 4, 6, -0.5, 0.5), [3, 3, 1, 4], dtype));
        const bias = st.variable(st.tensor(randomValues(4, 7, -0.2, 0.2), [4], dtype));
        const args = { x, filter, bias, activation: 'relu' as const };
        const y = fused ? st.fused.conv2dMaxPool(args) : st.maxPool2d(st.fused.conv2d(args));
        st.sum(st.square(y)).backward(undefined, { createGraph: true });
        const gf = filter.grad!;
        filter.zeroGrad();
        bias.zeroGrad();
        st.sum(st.square(gf)).backward();
        return Array.from(filter.grad!.dataSync());
      });
    assertClose(secondOrder('native', 'float32', true), secondOrder('reference', 'float64', false), 1e-3, 1e-4, 'd/dfilter |dL/dfilter|²');
  });

  it('propagates NaN from the input like the reference backend', () => {
    const values = (backend: string, fused: boolean) =>
      withBackend(backend, () => {
        const x = st.tensor([1, NaN, 0.5, 0.25, 2, 1, 0, 3, 1], [1, 3, 3, 1]);
        const args = { x, filter: st.ones([2, 2, 1, 16]), bias: st.zeros([16]), activation: 'relu' as const };
        const pool = { poolSize: 2, strides: 1 };
        return Array.from((fused ? st.fused.conv2dMaxPool({ ...args, pool }) : st.maxPool2d(st.fused.conv2d(args), pool)).dataSync());
      });
    const want = values('reference', false);
    assert.ok(want.some(Number.isNaN));
    for (const b of st
      .backends()
      .filter((b) => b.available)
      .map((b) => b.name)) {
      assert.deepEqual(values(b, true).map(Number.isNaN), want.map(Number.isNaN), b);
    }
  });

  it('rejects unknown options and bad shapes with messages that name them', () => {
    const x = st.zeros([1, 8, 8, 1]),
      filter = st.zeros([3, 3, 1, 16]),
      bias = st.zeros([16]);
    assert.throws(() => st.fused.conv2dMaxPool({ x, filter, bias, activation: 'relu', poolSize: 2 } as never), /fused\.conv2dMaxPool.*poolSize/);
    assert.throws(() => st.fused.conv2dMaxPool({ x, filter, bias: st.zeros([3]), activation: 'relu' }), /bias must have shape \[16\].*\[3\]/);
    assert.throws(() => st.fused.conv2dMaxPool({ x: st.zeros([1, 8, 8, 2]), filter, bias, activation: 'relu' }), /input channels differ/);
  });
});

describe('models run Conv2D + MaxPooling2D pairs as one op', () => {
  const layers = () => [
    st.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 1] }),
    st.layers.maxPooling2d({ poolSize: 2 }),
    st.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
    st.layers.maxPooling2d({ poolSize: 2 }),
    st.layers.flatten(),
    st.layers.dense({ units: 3 }),
  ];
  /** The model's output and gradients against calling its layers one by one. */
  function compare(model: st.Model, modelLayers: st.Layer[]): Set<string> {
    const x = st.tensor(randomValues(4 * 12 * 12, 3, 0, 1), [4, 12, 12, 1]);
    const y = model.apply(x) as st.Tensor;
    const prims = tapePrimitives(y);
    let step = x;
    for (const l of modelLayers) step = l.apply(step) as st.Tensor;
    assertClose(Array.from(y.dataSync()), Array.from(step.dataSync()), 1e-5, 1e-6, 'output');
    const gradsOf = (forward: () => st.Tensor) => {
      for (const w of model.trainableWeights) w.value.zeroGrad();
      st.sum(st.square(forward())).backward();
      return model.trainableWeights.map((w) => Array.from(w.value.grad!.dataSync()) as number[]);
    };
    const fusedGrads = gradsOf(() => model.apply(x) as st.Tensor);
    const plainGrads = gradsOf(() => {
      let h = x;
      for (const l of modelLayers) h = l.apply(h) as st.Tensor;
      return h;
    });
    fusedGrads.forEach((g, i) => assertClose(g, plainGrads[i], 1e-4, 1e-5, `gradient ${i}`));
    return prims;
  }

  it('in a Sequential model', () => {
    const ls = layers();
    const model = st.sequential({ layers: ls });
    const prims = compare(model, ls);
    if (nativeAvailable && st.getBackend().name === 'native') assert.ok(prims.has('conv2dReluMaxPool'), 'the first block ran fused');
  });

  it('in a functional model, unless the convolution output is read elsewhere', () => {
    const ls = layers();
    const input = st.layers.input({ shape: [12, 12, 1] });
    let h = input;
    for (const l of ls) h = l.apply(h) as typeof input;
    const model = st.model({ inputs: input, outputs: h });
    const prims = compare(model, ls);
    if (nativeAvailable && st.getBackend().name === 'native') assert.ok(prims.has('conv2dReluMaxPool'));

    // The first convolution's output is also a model output: the pair runs as two layers.
    const conv = st.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' });
    const pool = st.layers.maxPooling2d({ poolSize: 2 });
    const i2 = st.layers.input({ shape: [12, 12, 1] });
    const c = conv.apply(i2) as typeof i2;
    const two = st.model({ inputs: i2, outputs: [c, pool.apply(c) as typeof i2] });
    const [convOut, pooled] = two.apply(st.randomUniform([2, 12, 12, 1])) as unknown as st.Tensor[];
    assert.deepEqual(convOut.shape, [2, 10, 10, 16]);
    assert.ok(!tapePrimitives(pooled).has('conv2dReluMaxPool'));
    assertClose(Array.from(pooled.dataSync()), Array.from(st.maxPool2d(convOut).dataSync()), 1e-6, 1e-7, 'pooled');
  });

  it('still checks the input shape as the layers do', () => {
    const model = st.sequential({ layers: layers() });
    model.apply(st.zeros([1, 12, 12, 1]));
    assert.throws(() => model.apply(st.zeros([1, 12, 12, 2])), /conv2d.*(built|channel|expected)/i);
  });
});
