// st.customGrad (tfjs's tf.customGrad, Keras 3's ops.custom_gradient): one tape node whose
// gradient is the user's rule, on every backend; checked against float64 finite differences of
// the function the rule is the derivative of, and through a second derivative.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, checkGradient, randomTensor, throwsWith, withBackend, withBackendAsync } from './helpers.js';

/** log(1 + e^x) with the gradient sigmoid(x), finite where e^x overflows (Keras's documented example). */
const log1pexp = st.customGrad((x: st.Tensor) => ({
  value: st.log1p(st.exp(x)),
  gradFunc: (dy: st.Tensor) => dy.mul(st.sigmoid(x)),
}));

/** The identity forward, the gradient rescaled to an L2 norm of at most 1 (gradient clipping). */
const clipGradNorm = st.customGrad((x: st.Tensor, save: st.GradSaveFunc) => {
  save([x]);
  return {
    value: x,
    gradFunc: (dy: st.Tensor, [saved]: st.Tensor[]) => {
      assert.equal(saved, x);
      return dy.div(st.maximum(st.sqrt(st.sum(st.square(dy))), 1));
    },
  };
});

await st.ready();
const available = st.backends().filter((b) => b.available);

describe('customGrad on every backend', () => {
  for (const { name } of available) {
    it(`${name}: log1pexp has the finite gradient sigmoid(x), even at x = 100 in float32`, () =>
      withBackendAsync(name, async () => {
        const values = [-3, -0.5, 0, 2, 100];
        const x = st.variable(st.tensor(values));
        const y = log1pexp(x);
        assert.equal(y.node?.primitive, 'customGrad', 'one node on the tape');
        assert.deepEqual(y.node?.inputs, [x]);
        y.sum().backward();
        const expected = values.map((v) => 1 / (1 + Math.exp(-v)));
        assertClose(Array.from(await x.grad!.data()), expected, 1e-6, 1e-7);
        assertClose(
          Array.from(await y.data()).slice(0, 4),
          values.slice(0, 4).map((v) => Math.log1p(Math.exp(v))),
          1e-6,
          1e-7,
        );
      }));
    it(`${name}: a clipped gradient keeps the forward value and bounds the gradient's norm`, () =>
      withBackendAsync(name, async () => {
        const w = st.variable(st.tensor([3, -4]));
        const y = clipGradNorm(w);
        assertClose(Array.from(await y.data()), [3, -4], 0, 0);
        y.mul(st.tensor([6, 8]))
          .sum()
          .backward(); // unclipped gradient [6, 8], norm 10
        assertClose(Array.from(await w.grad!.data()), [0.6, 0.8], 1e-6, 0);
        const v = st.variable(st.tensor([1, 1]));
        clipGradNorm(v)
          .mul(st.tensor([0.3, -0.4]))
          .sum()
          .backward(); // norm 0.5: unchanged
        assertClose(Array.from(await v.grad!.data()), [0.3, -0.4], 1e-6, 0);
      }));
  }
});

describe('customGrad on the reference backend in float64', () => {
  it('the rule of log1pexp matches finite differences of its value', () =>
    withBackend('reference', () => checkGradient((x) => log1pexp(x), [randomTensor([6], 3, 'float64', -4, 4)])));
  it('two arguments, one gradient each; the second derivative goes through the rule', () =>
    withBackend('reference', () => {
      const mulCustom = st.customGrad((a: st.Tensor, b: st.Tensor) => ({
        value: a.mul(b),
        gradFunc: (dy: st.Tensor) => [dy.mul(b), dy.mul(a)],
      }));
      checkGradient((a, b) => mulCustom(a, b), [randomTensor([2, 3], 4, 'float64'), randomTensor([2, 3], 5, 'float64')]);
      const cube = st.customGrad((x: st.Tensor) => ({ value: x.mul(x).mul(x), gradFunc: (dy: st.Tensor) => dy.mul(x.mul(x).mul(3)) }));
      const second = st.grad((x) =>
        st
          .grad((u) => cube(u).sum())(x)
          .sum(),
      );
      assertClose(second(st.tensor([0.5, -2], [2], 'float64')), [3, -12], 1e-12, 0);
    }));
  it('an argument without a gradient may get null; integer arguments pass through', () =>
    withBackend('reference', () => {
      const scaleBy = st.customGrad((x: st.Tensor, k: st.Tensor) => ({
        value: x.mul(st.cast(k, x.dtype)),
        gradFunc: (dy: st.Tensor) => [dy.mul(st.cast(k, dy.dtype)), null],
      }));
      const x = st.variable(st.tensor([1, 2], [2], 'float64'));
      scaleBy(x, st.tensor([3, 4], [2], 'int32'))
        .sum()
        .backward();
      assertClose(x.grad!, [3, 4], 0, 0);
    }));
});

describe('customGrad errors', () => {
  it('refuses a function that does not return {value, gradFunc}', () => {
    const bad = st.customGrad(((x: st.Tensor) => x) as unknown as () => st.CustomGradResult);
    throwsWith(() => bad(st.ones([2])), st.ValueError, /must return \{value: Tensor, gradFunc/);
  });
  it('refuses gradients of the wrong number or shape when backward runs', () => {
    const wrongShape = st.customGrad((x: st.Tensor) => ({ value: x.sum(), gradFunc: (dy: st.Tensor) => dy }));
    throwsWith(
      () => wrongShape(st.variable(st.ones([3]))).backward(),
      st.ShapeError,
      /argument 0 must have its shape \[3\]; gradFunc returned shape \[\]/,
    );
    const wrongCount = st.customGrad((a: st.Tensor, b: st.Tensor) => ({ value: a.add(b), gradFunc: (dy: st.Tensor) => [dy] }));
    throwsWith(
      () =>
        wrongCount(st.variable(st.ones([2])), st.ones([2]))
          .sum()
          .backward(),
      st.ShapeError,
      /2 gradient\(s\), one per argument; received 1/,
    );
  });
});
