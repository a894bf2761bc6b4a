// Each optional fast kernel must agree with the composite of core primitives that ops/ falls
// back to when a backend lacks it, in value and in gradient. Two backends are derived from the
// reference one: 'composite-only' has none of the optional kernels (so conv, pooling and
// softmax are composites, differentiated through their own tape), and 'forward-kernels-only'
// keeps the forward kernels but not the gradient kernels (so the composite fallbacks of
// conv2dBackpropInput/Filter, maxPool2dGrad and avgPool2dGrad run). The same computation is
// run on all three and compared; the exported composite helpers are also compared directly.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import * as st from '../src/index.js';
import type { OptionalPrimitive } from '../src/backend/primitives.js';
import { conv2dComposite, planConv2d } from '../src/ops/conv.js';
import { logSoftmaxComposite, softmaxComposite } from '../src/ops/nn.js';
import { avgPool2dComposite, maxPool2dComposite, planPool2d } from '../src/ops/pool.js';
import { assertClose, checkGradient, randomValues } from './helpers.js';
import { OPTIONAL_PRIMITIVES, onBackend, tapePrimitives, withoutKernels } from './grad-check.js';

const GRAD_KERNELS: readonly OptionalPrimitive[] = ['conv2dBackpropInput', 'conv2dBackpropFilter', 'maxPool2dGrad', 'avgPool2dGrad'];
st.registerBackend('composite-only', () => withoutKernels('composite-only', OPTIONAL_PRIMITIVES), -1);
st.registerBackend('forward-kernels-only', () => withoutKernels('forward-kernels-only', GRAD_KERNELS), -1);
st.setBackend('reference');
after(() => st.setBackend('reference'));

const BACKENDS = ['reference', 'composite-only', 'forward-kernels-only'] as const;

/** Input values, held as plain numbers so each backend makes its own tensors from them. */
interface Input {
  shape: number[];
  values: number[];
}
const input = (shape: number[], seed: number, lo = -1, hi = 1): Input => ({
  shape,
  values: randomValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
    lo,
    hi,
  ),
});
/** A shuffled grid: no ties inside a pooling window. */
function distinctInput(shape: number[], seed: number): Input {
  const n = shape.reduce((a, b) => a * b, 1);
  const keys = randomValues(n, seed);
  const order = keys.map((_, i) => i).sort((a, b) => keys[a] - keys[b]);
  const values = new Array<number>(n);
  order.forEach((slot, rank) => (values[slot] = (rank - n / 2) * 0.1));
  return { shape, values };
}

interface Run {
  value: number[];
  /** d sum(w * sin(op(xs))) / d xs, with fixed weights w. */
  grads: number[][];
  /** d/dxs of sum(first gradient^2): the rules of the gradient kernels (or of the composites). */
  second: number[][];
  primitives: Set<string>;
}

/** Runs `op` on `backend` in `dtype` and returns its value and first and second gradients. */
function run(backend: string, dtype: 'float32' | 'float64', op: (...xs: st.Tensor[]) => st.Tensor, inputs: Input[]): Run {
  return onBackend(backend, () => {
    const xs = inputs.map((i) => st.tensor(i.values, i.shape, dtype));
    const y = op(...xs);
    const w = st.tensor(randomValues(y.size, 77, 0.5, 1.5), y.shape, dtype);
    // Nonlinear in the output, so the gradient depends on the inputs and the second
    // derivative goes through the gradient kernels' rules even for linear ops.
    const loss = (...ts: st.Tensor[]) => st.sum(st.mul(st.sin(op(...ts)), w));
    const vars = xs.map((x) => st.variable(x));
    // Grad mode is on, so the gradients are recorded: their tape names the kernels they ran.
    const { grads } = st.valueAndGrad(loss)(...vars);
    const primitives = new Set<string>();
    for (const t of [op(...vars), ...grads]) tapePrimitives(t).forEach((p) => primitives.add(p));
    const second = st.valueAndGrad((...ts: st.Tensor[]) => {
      const inner = st.valueAndGrad(loss)(...ts).grads;
      return inner.map((g) => st.sum(st.square(g))).reduce((a, b) => st.add(a, b));
    })(...xs).grads;
    return {
      value: Array.from(y.dataSync()),
      grads: grads.map((g) => Array.from(g.dataSync())),
      second: second.map((g) => Array.from(g.dataSync())),
      primitives,
    };
  });
}

/** Runs `op` on the three backends and compares each with the reference (the fast kernels). */
function agree(op: (...xs: st.Tensor[]) => st.Tensor, inputs: Input[], kernel: OptionalPrimitive, gradKernel?: OptionalPrimitive): void {
  for (const dtype of ['float64', 'float32'] as const) {
    const [rtol, atol] = dtype === 'float64' ? [1e-10, 1e-12] : [1e-4, 1e-5];
    const [ref, ...others] = BACKENDS.map((b) => run(b, dtype, op, inputs));
    assert.ok(ref.primitives.has(kernel), `the reference backend should run the ${kernel} kernel`);
    if (gradKernel) assert.ok(ref.primitives.has(gradKernel), `the reference backend should run the ${gradKernel} kernel`);
    others.forEach((r, i) => {
      const name = BACKENDS[i + 1];
      const forwardKernel = name === 'forward-kernels-only' && !GRAD_KERNELS.includes(kernel);
      assert.equal(r.primitives.has(kernel), forwardKernel, `${name} ${forwardKernel ? 'should' : 'must not'} run the ${kernel} kernel`);
      for (const p of GRAD_KERNELS) assert.ok(!r.primitives.has(p), `${name} must not run ${p}`);
      assertClose(r.value, ref.value, rtol, atol, `${name} ${dtype} value`);
      r.grads.forEach((g, k) => assertClose(g, ref.grads[k], rtol, atol, `${name} ${dtype} gradient ${k}`));
      r.second.forEach((g, k) => assertClose(g, ref.second[k], rtol, atol, `${name} ${dtype} second derivative ${k}`));
    });
  }
}

describe('conv2d kernels against the composites', () => {
  const cases: [string, number[], number[], st.Conv2dOptions][] = [
    ['valid 3x3', [2, 4, 5, 2], [3, 3, 2, 3], {}],
    ['strides [2, 1]', [1, 6, 5, 2], [2, 3, 2, 2], { strides: [2, 1] }],
    ["'same', even kernel", [1, 5, 4, 2], [2, 2, 2, 2], { padding: 'same' }],
    ["'same', 4x2 kernel, strides 2", [1, 5, 6, 1], [4, 2, 1, 2], { padding: 'same', strides: 2 }],
    ['dilation 2', [1, 6, 5, 2], [2, 2, 2, 2], { dilation: 2 }],
    ["'same', dilation [2, 1], strides [1, 2]", [1, 5, 5, 2], [3, 2, 2, 1], { padding: 'same', dilation: [2, 1], strides: [1, 2] }],
  ];
  let seed = 2000;
  for (const [name, xs, fs, opts] of cases) {
    const x = input(xs, (seed += 101)),
      f = input(fs, (seed += 101));
    it(`conv2d ${name}: value, gradients and second derivatives`, () => {
      agree((a, b) => st.conv2d(a, b, opts), [x, f], 'conv2d', 'conv2dBackpropInput');
    });
    it(`conv2d ${name}: conv2dComposite(planConv2d(...)) equals the kernel`, () => {
      const tx = st.tensor(x.values, x.shape, 'float64'),
        tf = st.tensor(f.values, f.shape, 'float64');
      const plan = planConv2d('conv2d', tx.shape, tf.shape, opts);
      assertClose(conv2dComposite(tx, tf, plan), st.conv2d(tx, tf, opts), 1e-12, 1e-13);
    });
    it(`conv2dBackpropInput and conv2dBackpropFilter ${name}`, () => {
      const yShape = onBackend('reference', () => st.conv2d(st.zeros(xs), st.zeros(fs), opts).shape.slice());
      const dy = input(yShape, (seed += 101));
      agree((d, b) => st.conv2dBackpropInput(d, b, xs, opts), [dy, f], 'conv2dBackpropInput');
      agree((a, d) => st.conv2dBackpropFilter(a, d, fs, opts), [x, dy], 'conv2dBackpropFilter');
    });
  }
});

describe('pooling kernels against the composites', () => {
  const cases: [string, number[], st.Pool2dOptions][] = [
    ['valid 2x2', [2, 4, 4, 2], {}],
    ['valid 3x3, strides 1', [1, 5, 4, 2], { poolSize: 3, strides: 1 }],
    ['valid [2, 3], strides [1, 2]', [1, 4, 7, 1], { poolSize: [2, 3], strides: [1, 2] }],
    ["'same' 2x2 on odd sizes", [1, 5, 3, 2], { padding: 'same' }],
    ["'same' 3x3, strides 1", [1, 4, 4, 2], { poolSize: 3, strides: 1, padding: 'same' }],
    ["'same' [3, 2], strides [2, 1]", [2, 5, 4, 1], { poolSize: [3, 2], strides: [2, 1], padding: 'same' }],
  ];
  let seed = 2400;
  for (const [name, xs, opts] of cases) {
    const x = distinctInput(xs, (seed += 101));
    it(`maxPool2d ${name}`, () => agree((a) => st.maxPool2d(a, opts), [x], 'maxPool2d', 'maxPool2dGrad'));
    it(`avgPool2d ${name}`, () => agree((a) => st.avgPool2d(a, opts), [x], 'avgPool2d', 'avgPool2dGrad'));
    it(`maxPool2dComposite and avgPool2dComposite ${name} equal the kernels`, () => {
      const t = st.tensor(x.values, x.shape, 'float64');
      const plan = planPool2d('pool', t.shape, opts);
      assertClose(maxPool2dComposite(t, plan), st.maxPool2d(t, opts), 0, 0);
      assertClose(avgPool2dComposite(t, plan), st.avgPool2d(t, opts), 1e-12, 1e-14);
    });
  }

  it('ties: the max pooling kernels give the gradient to the first maximum', () => {
    // The composite forward pass splits ties like max(); the gradient kernel and its composite
    // fallback both pick the first maximum of the window, in (kh, kw) order.
    const x = { shape: [1, 2, 2, 1], values: [1, 3, 3, 2] };
    for (const backend of ['reference', 'forward-kernels-only']) {
      const g = onBackend(backend, () => st.grad((t) => st.maxPool2d(t).sum())(st.tensor(x.values, x.shape, 'float64')));
      assertClose(g, [0, 1, 0, 0], 0, 0, backend);
    }
  });
});

describe('softmax kernels against the composites', () => {
  const cases: [string, number[], number][] = [
    ['last axis', [3, 4], -1],
    ['axis 0', [3, 4], 0],
    ['middle axis', [2, 3, 2], 1],
  ];
  let seed = 2800;
  for (const [name, xs, axis] of cases) {
    const x = input(xs, (seed += 101), -3, 3);
    it(`softmax over ${name}`, () => agree((a) => st.softmax(a, axis), [x], 'softmax'));
    it(`logSoftmax over ${name}`, () => agree((a) => st.logSoftmax(a, axis), [x], 'logSoftmax'));
    it(`softmaxComposite and logSoftmaxComposite over ${name} equal the kernels`, () => {
      const t = st.tensor(x.values, x.shape, 'float64');
      const a = axis < 0 ? axis + t.rank : axis;
      assertClose(softmaxComposite(t, a), st.softmax(t, axis), 1e-12, 1e-15);
      assertClose(logSoftmaxComposite(t, a), st.logSoftmax(t, axis), 1e-12, 1e-14);
    });
  }

  it('large logits stay finite on both paths', () => {
    const x = { shape: [2, 3], values: [1000, 999, -1000, -500, -501, -502] };
    agree((a) => st.logSoftmax(a), [x], 'logSoftmax');
    agree((a) => st.softmax(a), [x], 'softmax');
  });
});

describe('the composite fallbacks against finite differences', () => {
  const x = { shape: [1, 5, 4, 2], values: distinctInput([1, 5, 4, 2], 3100).values };
  const f = input([2, 3, 2, 2], 3101);
  const tensors = () => [st.tensor(x.values, x.shape, 'float64'), st.tensor(f.values, f.shape, 'float64')];
  for (const backend of ['composite-only', 'forward-kernels-only']) {
    it(`${backend}: conv2d, pooling and softmax and their second derivatives`, () => {
      onBackend(backend, () => {
        const [tx, tf] = tensors();
        const opts: st.Conv2dOptions = { padding: 'same', strides: [2, 1] };
        checkGradient((a, b) => st.conv2d(a, b, opts), [tx, tf], { what: `${backend} conv2d` });
        checkGradient((a) => st.grad((y) => st.conv2d(y, tf, opts).sin().sum())(a), [tx], { what: `${backend} d2 conv2d x` });
        checkGradient((b) => st.grad((g) => st.conv2d(tx, g, opts).sin().sum())(b), [tf], { what: `${backend} d2 conv2d filter` });
        checkGradient((a) => st.grad((y) => st.maxPool2d(y, { padding: 'same' }).square().sum())(a), [tx], { what: `${backend} d2 maxPool2d` });
        checkGradient((a) => st.grad((y) => st.avgPool2d(y, { poolSize: 3, strides: 1, padding: 'same' }).sin().sum())(a), [tx], {
          what: `${backend} d2 avgPool2d`,
        });
        checkGradient((a) => st.grad((y) => st.softmax(y, 1).square().sum())(a), [tx], { what: `${backend} d2 softmax` });
        checkGradient((a) => st.grad((y) => st.logSoftmax(y).square().sum())(a), [tx], { what: `${backend} d2 logSoftmax` });
      });
    });
  }

  it('left the reference backend active', () => assert.equal(st.getBackend().name, 'reference'));
});
