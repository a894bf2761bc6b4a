import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, checkGradient, randomTensor } from './helpers.js';

// Exact (float64) expectations: these run on the reference backend, the one with float64.
st.setBackend('reference');

describe('autograd', () => {
  it('computes the gradient of the API example and accumulates like PyTorch', () => {
    const w = st.variable(
      st.tensor([
        [1, -1],
        [0.5, 2],
        [-3, 0.25],
      ]),
    );
    const x = st.tensor([[1, 2, 3]]);
    const loss = () => x.matmul(w).square().sum();
    loss().backward();
    // d/dw sum((xw)^2) = 2 x^T (xw); xw = [-7, 3.75]
    const expected = [
      [2 * -7, 2 * 3.75],
      [4 * -7, 4 * 3.75],
      [6 * -7, 6 * 3.75],
    ];
    assertClose(w.grad!, st.tensor(expected));
    loss().backward();
    assertClose(w.grad!, st.tensor(expected).mul(2));
    w.zeroGrad();
    assert.equal(w.grad, null);
  });

  it('takes second derivatives: d2/dx2 tanh(x) = -2 tanh(x) (1 - tanh(x)^2)', () => {
    const x = randomTensor([5], 3, 'float64', -2, 2);
    // The inner grad is a vector; the gradient of its sum is the elementwise second derivative.
    const second = st.grad((t) =>
      st
        .grad((u) => st.tanh(u).sum())(t)
        .sum(),
    )(x);
    const th = Array.from(x.dataSync()).map(Math.tanh);
    assertClose(
      second,
      th.map((t) => -2 * t * (1 - t * t)),
      1e-10,
      1e-12,
    );
  });

  it('differentiates a gradient penalty into the weights (createGraph through grad)', () => {
    const w = randomTensor([3, 2], 5);
    const x = randomTensor([4, 3], 6);
    // penalty(w) = sum((d/dx sum(tanh(x w)))^2): needs the gradient of a gradient.
    const penalty = (wv: st.Tensor) => {
      const gx = st.grad((xv) => st.tanh(xv.matmul(wv)).sum())(x);
      return gx.square().sum();
    };
    checkGradient(penalty, [w], { what: 'gradient penalty' });
  });

  it('supports backward({createGraph}) for higher-order gradients on variables', () => {
    const x = st.variable(st.tensor([0.3, -1.2], [2], 'float64'));
    const y = x.pow(3).sum();
    y.backward(undefined, { createGraph: true });
    const g = x.grad!; // 3x^2
    assertClose(g, [0.27, 4.32], 1e-12);
    x.zeroGrad();
    g.sum().backward();
    assertClose(x.grad!, [1.8, -7.2], 1e-12); // 6x
  });

  it('records nothing inside noGrad', () => {
    const w = st.variable(st.ones([2]));
    const y = st.noGrad(() => w.mul(3).sum());
    assert.equal(y.requiresGrad, false);
    assert.throws(() => y.backward(), st.ValueError);
  });

  it('valueAndGrad returns the value and one gradient per argument', () => {
    const a = st.tensor([1, 2], [2], 'float64'),
      b = st.tensor([3, 4], [2], 'float64');
    const { value, grads } = st.valueAndGrad((p, q) => p.mul(q).sum())(a, b);
    assert.equal(value.item(), 11);
    assertClose(grads[0], [3, 4]);
    assertClose(grads[1], [1, 2]);
  });

  it('needs a seed gradient for a non-scalar output, with a message naming the shape', () => {
    const w = st.variable(st.ones([2, 3]));
    const y = w.mul(2);
    assert.throws(
      () => y.backward(),
      (e: Error) => e instanceof st.ValueError && /\[2, 3\]/.test(e.message),
    );
    y.backward(st.onesLike(y).mul(0.5));
    assertClose(w.grad!, st.ones([2, 3]));
    assert.throws(
      () => y.backward(st.ones([3])),
      (e: Error) => e instanceof st.ShapeError && /\[3\]/.test(e.message),
    );
  });

  it('does not compute the costly gradients no input needs (an input image, a data matrix)', () => {
    const kernels = st.getBackend().kernels as unknown as Record<string, (...a: unknown[]) => unknown>;
    const calls: string[] = [];
    const spied = ['conv2dBackpropInput', 'conv2dBackpropFilter', 'matmul'] as const;
    const originals = spied.map((name) => kernels[name]);
    spied.forEach((name, i) => {
      kernels[name] = (...a: unknown[]) => {
        calls.push(name);
        return originals[i](...a);
      };
    });
    try {
      const image = randomTensor([1, 5, 5, 2], 40),
        filter = st.variable(randomTensor([3, 3, 2, 2], 41));
      st.conv2d(image, filter).sum().backward();
      assert.deepEqual(calls, ['conv2dBackpropFilter']);
      calls.length = 0;
      const data = randomTensor([4, 3], 42),
        w = st.variable(randomTensor([3, 2], 43));
      st.matmul(data, w).sum().backward();
      assert.deepEqual(calls, ['matmul', 'matmul'], 'the forward product and dW only');
    } finally {
      spied.forEach((name, i) => (kernels[name] = originals[i]));
    }
  });

  it('walks deep graphs without overflowing the stack', () => {
    const x = st.variable(st.tensor([1]));
    let y: st.Tensor = x;
    for (let i = 0; i < 20000; i++) y = y.add(1e-4);
    y.sum().backward();
    assertClose(x.grad!, [1]);
  });
});
