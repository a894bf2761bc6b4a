// Activations against their Keras 3 formulas evaluated in float64 JavaScript: forward values on
// every available backend (float32) and in float64 on the reference backend, gradients by
// finite differences in float64. erf/erfc are checked against independent high-precision
// references: the Maclaurin-type series erf(x) = 2/sqrt(pi) e^{-x^2} sum 2^n x^{2n+1} / (2n+1)!!
// (all terms positive, so no cancellation) for |x| < 2, and the continued fraction
// erfc(x) = e^{-x^2}/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))) beyond.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { activations, erf, erfc, getActivation, serializeActivation, SELU_ALPHA, SELU_SCALE, type ActivationFn } from '../src/nn/activations.js';
import { assertClose, assertCloseAsync, checkGradient, randomTensor, randomValues, withBackend, withBackendAsync } from './helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, and the
// per-backend checks read with `await t.data()`, which every backend has.
await st.ready();
const BACKENDS = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);

function erfSeries(x: number): number {
  let term = x,
    sum = x;
  for (let n = 1; n < 500 && Math.abs(term) > 1e-18 * Math.abs(sum); n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}
function erfcContinuedFraction(x: number): number {
  let f = x;
  for (let k = 300; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}
const refErfc = (x: number): number => (x < 0 ? 2 - refErfc(-x) : x < 2 ? 1 - erfSeries(x) : erfcContinuedFraction(x));
const refErf = (x: number): number => (x < 0 ? -refErf(-x) : x < 2 ? erfSeries(x) : 1 - erfcContinuedFraction(x));
const normalCdf = (x: number) => 0.5 * refErfc(-x / Math.SQRT2);
const normalPdf = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const relu6 = (x: number) => Math.min(Math.max(x, 0), 6);
const hardSigmoid = (x: number) => relu6(x + 3) / 6;
const elu = (x: number, alpha = 1) => (x > 0 ? x : alpha * Math.expm1(x));

interface Case {
  name: string;
  fn: ActivationFn;
  ref: (x: number) => number;
  /** float64 tolerance (the erfc fit is good to 1.35e-7 relative, the rest to rounding). */
  rtol64?: number;
}

const ELEMENTWISE: Case[] = [
  { name: 'linear', fn: activations.linear, ref: (x) => x },
  { name: 'relu', fn: activations.relu, ref: (x) => Math.max(x, 0) },
  { name: 'relu6', fn: activations.relu6, ref: relu6 },
  { name: 'elu', fn: (x) => activations.elu(x), ref: (x) => elu(x) },
  { name: 'elu alpha 0.5', fn: (x) => activations.elu(x, { alpha: 0.5 }), ref: (x) => elu(x, 0.5) },
  { name: 'selu', fn: activations.selu, ref: (x) => SELU_SCALE * elu(x, SELU_ALPHA) },
  { name: 'gelu', fn: (x) => activations.gelu(x), ref: (x) => x * normalCdf(x), rtol64: 1.5e-7 },
  {
    name: 'gelu approximate',
    fn: (x) => activations.gelu(x, { approximate: true }),
    ref: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  },
  { name: 'sigmoid', fn: activations.sigmoid, ref: sigmoid },
  { name: 'hardSigmoid', fn: activations.hardSigmoid, ref: hardSigmoid },
  { name: 'tanh', fn: activations.tanh, ref: Math.tanh },
  { name: 'softplus', fn: activations.softplus, ref: softplus },
  { name: 'softsign', fn: activations.softsign, ref: (x) => x / (1 + Math.abs(x)) },
  { name: 'silu', fn: activations.silu, ref: (x) => x * sigmoid(x) },
  { name: 'swish', fn: activations.swish, ref: (x) => x * sigmoid(x) },
  { name: 'mish', fn: activations.mish, ref: (x) => x * Math.tanh(softplus(x)) },
  { name: 'exponential', fn: activations.exponential, ref: Math.exp },
  { name: 'leakyRelu', fn: (x) => activations.leakyRelu(x), ref: (x) => (x > 0 ? x : 0.2 * x) },
  { name: 'leakyRelu slope 0.01', fn: (x) => activations.leakyRelu(x, { negativeSlope: 0.01 }), ref: (x) => (x > 0 ? x : 0.01 * x) },
  { name: 'hardSilu', fn: activations.hardSilu, ref: (x) => x * hardSigmoid(x) },
  { name: 'logSigmoid', fn: activations.logSigmoid, ref: (x) => -softplus(-x) },
];

/** Row-wise softmax / logSoftmax over the last axis of a row-major [rows, n] array. */
function rowwise(values: number[], n: number, log: boolean): number[] {
  const out: number[] = [];
  for (let r = 0; r < values.length / n; r++) {
    const row = values.slice(r * n, (r + 1) * n);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    for (const v of row) out.push(log ? v - lse : Math.exp(v - lse));
  }
  return out;
}

// Random points plus the kinks, the tails and values where float32 rounding shows.
const POINTS = [...randomValues(50, 11, -7, 7), 0, 0.5, -0.5, 3, -3, 6, -6, 10, -10, 20, -20, 1e-4, -1e-4];

for (const backend of BACKENDS) {
  describe(`activations on the ${backend} backend (float32)`, () => {
    for (const c of ELEMENTWISE) {
      it(`${c.name} matches the float64 formula`, () =>
        withBackendAsync(backend, async () => {
          const y = c.fn(st.tensor(POINTS, [POINTS.length]));
          assert.equal(y.dtype, 'float32');
          await assertCloseAsync(y, POINTS.map(c.ref), 1e-5, 1e-6, c.name);
        }));
    }

    it('softmax and logSoftmax over the last axis, and over another axis', () =>
      withBackendAsync(backend, async () => {
        const v = randomValues(4 * 6, 3, -5, 5);
        await assertCloseAsync(activations.softmax(st.tensor(v, [4, 6])), rowwise(v, 6, false), 1e-5, 1e-7);
        await assertCloseAsync(activations.logSoftmax(st.tensor(v, [4, 6])), rowwise(v, 6, true), 1e-5, 1e-6);
        // Axis 0 of [6, 4] is the last axis of its transpose.
        const t = st.transpose(st.tensor(v, [4, 6]));
        await assertCloseAsync(st.transpose(activations.softmax(t, { axis: 0 })), rowwise(v, 6, false), 1e-5, 1e-7);
      }));

    it('erf and erfc against high-precision references', () =>
      withBackendAsync(backend, async () => {
        const xs = Array.from({ length: 241 }, (_, i) => -6 + i * 0.05);
        await assertCloseAsync(erf(st.tensor(xs)), xs.map(refErf), 0, 1e-6, 'erf');
        // float32 rounding of z^2 inside exp(-z^2 + ...) costs a relative 4e-6 at z = 6.
        await assertCloseAsync(erfc(st.tensor(xs)), xs.map(refErfc), 1e-5, 1e-30, 'erfc');
      }));

    it('int32 inputs are taken as float32', () =>
      withBackendAsync(backend, async () => {
        const y = activations.gelu(st.tensor([-2, 0, 3], [3], 'int32'));
        assert.equal(y.dtype, 'float32');
        await assertCloseAsync(
          y,
          [-2, 0, 3].map((x) => x * normalCdf(x)),
          1e-5,
          1e-6,
        );
      }));
  });
}

describe('activations in float64 (reference backend)', () => {
  it('every elementwise activation matches its formula to rounding (gelu to the erfc fit)', () => {
    withBackend('reference', () => {
      const x = st.tensor(POINTS, [POINTS.length], 'float64');
      for (const c of ELEMENTWISE) {
        const y = c.fn(x);
        assert.equal(y.dtype, 'float64', c.name);
        assertClose(y, POINTS.map(c.ref), c.rtol64 ?? 1e-12, 1e-14, c.name);
      }
    });
  });

  it('erf has an absolute error below 1.2e-7, erfc a relative error below 1.35e-7, erf(0) = 0', () => {
    withBackend('reference', () => {
      const xs = Array.from({ length: 1201 }, (_, i) => -6 + i * 0.0125);
      assertClose(erf(st.tensor(xs, [xs.length], 'float64')), xs.map(refErf), 0, 1.2e-7, 'erf');
      const tail = Array.from({ length: 601 }, (_, i) => -3 + i * 0.02); // erfc(12) ~ 1e-64
      assertClose(erfc(st.tensor(tail, [tail.length], 'float64')), tail.map(refErfc), 1.35e-7, 0, 'erfc');
      assert.equal(erf(st.tensor([0], [1], 'float64')).item(), 0);
    });
  });

  it('gelu has the exact derivative Phi(x) + x phi(x) to the accuracy of the erfc fit', () => {
    withBackend('reference', () => {
      const xs = randomValues(40, 17, -7, 7);
      const v = st.variable(st.tensor(xs, [xs.length], 'float64'));
      st.sum(activations.gelu(v)).backward();
      assertClose(
        v.grad!,
        xs.map((x) => normalCdf(x) + x * normalPdf(x)),
        1e-5,
        1e-5,
      );
    });
  });

  describe('gradients match finite differences', () => {
    for (const c of ELEMENTWISE) {
      it(c.name, () => {
        withBackend('reference', () => checkGradient(c.fn, [randomTensor([3, 5], 23, 'float64', -7, 7)], { what: c.name }));
      });
    }
    it('softmax and logSoftmax', () => {
      withBackend('reference', () => {
        const x = randomTensor([3, 5], 29, 'float64', -4, 4);
        checkGradient((t) => activations.softmax(t), [x], { what: 'softmax' });
        checkGradient((t) => activations.logSoftmax(t), [x], { what: 'logSoftmax' });
      });
    });
    it('erf at and around 0 (where |x| must not lose the slope 2/sqrt(pi))', () => {
      withBackend('reference', () => {
        checkGradient(erf, [st.tensor([0, 1e-3, -1e-3, 0.7, -2.5], [5], 'float64')], { what: 'erf' });
        const v = st.variable(st.tensor([0], [1], 'float64'));
        st.sum(erf(v)).backward();
        // The fit's own slope at 0 is 1.1283863, 6e-6 above 2/sqrt(pi).
        assertClose(v.grad!, [2 / Math.sqrt(Math.PI)], 1e-5, 0);
      });
    });
    it('elu has finite gradients where e^x overflows', () => {
      withBackend('reference', () => {
        const v = st.variable(st.tensor([800, -800, 1], [3], 'float64'));
        st.sum(activations.elu(v)).backward();
        assertClose(v.grad!, [1, 0, 1], 0, 1e-300);
      });
    });
  });
});

describe('getActivation and serializeActivation', () => {
  it('finds activations by camelCase, snake_case and class-like names', () => {
    assert.equal(getActivation('leakyRelu').name, 'leakyRelu');
    assert.equal(getActivation('leaky_relu').name, 'leakyRelu');
    assert.equal(getActivation('LeakyReLU').name, 'leakyRelu');
    assert.equal(getActivation('hard_sigmoid').name, 'hardSigmoid');
    assert.equal(getActivation('log_softmax').name, 'logSoftmax');
    assert.equal(getActivation('swish').name, 'swish');
    for (const name of Object.keys(activations)) assert.equal(serializeActivation(getActivation(name)), name);
  });

  it('null and undefined are linear; functions and Activation objects pass through', () => {
    assert.equal(getActivation(null).name, 'linear');
    assert.equal(getActivation(undefined).name, 'linear');
    assert.equal(getActivation(activations.relu).name, 'relu');
    assert.equal(getActivation(activations.leakyRelu as ActivationFn).name, 'leakyRelu');
    const cube = (x: st.Tensor) => st.mul(st.mul(x, x), x);
    const custom = getActivation(cube);
    assert.equal(serializeActivation(custom), 'cube');
    assert.deepEqual(custom.apply(st.tensor([2])).arraySync(), [8]);
    assert.equal(getActivation(custom), custom);
  });

  it('apply uses Keras defaults (leakyRelu slope 0.2, exact gelu)', () => {
    const x = st.tensor([-1, 2]);
    assertClose(getActivation('leaky_relu').apply(x), [-0.2, 2], 1e-6, 1e-7);
    assertClose(getActivation('gelu').apply(x), [-1 * normalCdf(-1), 2 * normalCdf(2)], 1e-6, 1e-7);
    assertClose(getActivation('softmax').apply(st.tensor([[0, Math.log(3)]])), [0.25, 0.75], 1e-6, 1e-7);
  });

  it('rejects unknown names (listing the known ones) and unknown options', () => {
    assert.throws(
      () => getActivation('relu7'),
      (e: Error) => e instanceof st.ValueError && /leakyRelu/.test(e.message) && /gelu/.test(e.message),
    );
    assert.throws(() => getActivation(42 as never), st.ValueError);
    assert.throws(() => activations.gelu(st.tensor([1]), { approx: true } as never), /unknown option 'approx'/);
    assert.throws(() => activations.leakyRelu(st.tensor([1]), { alpha: 0.1 } as never), st.ValueError);
  });
});
