// Gradient checks for the optional fast kernels on the reference backend: conv2d and its two
// backprop ops, max and average pooling, softmax and logSoftmax. First derivatives go through
// the forward kernels' VJP rules; second derivatives (checkGradient of a st.grad) go through
// the VJP rules of the gradient kernels conv2dBackpropInput, conv2dBackpropFilter,
// maxPool2dGrad and avgPool2dGrad. The last test checks every optional primitive was reached.
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import type { Primitive } from '../src/backend/primitives.js';
import { OPTIONAL_PRIMITIVES, assertCovered, distinct, makeCheck, rt } from './grad-check.js';

// float64 finite differences need the reference backend (others may refuse float64), whichever
// backend is the default.
st.setBackend('reference');

const covered = new Set<Primitive>();
const check = makeCheck(covered);

interface ConvCase {
  name: string;
  x: number[];
  f: number[];
  opts: st.Conv2dOptions;
}

// Small NHWC inputs; odd sizes so that strides leave remainders and 'same' pads unevenly.
const CONV_CASES: ConvCase[] = [
  { name: 'valid 3x3', x: [2, 4, 5, 2], f: [3, 3, 2, 3], opts: {} },
  { name: 'valid, strides [2, 1]', x: [1, 6, 5, 2], f: [2, 3, 2, 2], opts: { strides: [2, 1] } },
  { name: "'same', even 2x2 kernel", x: [1, 5, 4, 2], f: [2, 2, 2, 2], opts: { padding: 'same' } },
  { name: "'same', 4x2 kernel, strides 2", x: [1, 5, 6, 1], f: [4, 2, 1, 2], opts: { padding: 'same', strides: 2 } },
  { name: 'valid, dilation 2', x: [1, 6, 5, 2], f: [2, 2, 2, 2], opts: { dilation: 2 } },
  { name: "'same', dilation [2, 1], strides [1, 2]", x: [1, 5, 5, 2], f: [3, 2, 2, 1], opts: { padding: 'same', dilation: [2, 1], strides: [1, 2] } },
];

/** The shape conv2d gives for a case (what the backprop ops take as dy). */
const convOut = (c: ConvCase, seed: number) => rt(st.conv2d(rt(c.x, 1), rt(c.f, 2), c.opts).shape.slice(), seed);

describe('gradients: conv2d', () => {
  let seed = 1000;
  for (const c of CONV_CASES) {
    const x = rt(c.x, (seed += 101)),
      f = rt(c.f, (seed += 101));
    it(`${c.name}: with respect to x and the filter`, () => {
      check((a, b) => st.conv2d(a, b, c.opts), [x, f], { what: `conv2d ${c.name}` });
    });
    it(`${c.name}: conv2dBackpropInput and conv2dBackpropFilter as ops`, () => {
      const dy = convOut(c, (seed += 101));
      check((d, b) => st.conv2dBackpropInput(d, b, c.x, c.opts), [dy, f], { what: `backpropInput ${c.name}` });
      check((a, d) => st.conv2dBackpropFilter(a, d, c.f, c.opts), [x, dy], { what: `backpropFilter ${c.name}` });
    });
  }

  it('with a transposed (non-contiguous) input and filter', () => {
    check(
      (a, b) => st.conv2d(st.transpose(a, [0, 2, 1, 3]), st.transpose(b, [1, 0, 2, 3]), { padding: 'same' }),
      [rt([1, 4, 3, 2], 1090), rt([3, 2, 2, 2], 1091)],
    );
  });
});

describe('second derivatives through the conv2d gradient kernels', () => {
  let seed = 1200;
  for (const c of CONV_CASES) {
    const x = rt(c.x, (seed += 101)),
      f = rt(c.f, (seed += 101));
    // d/dx of sum(h(conv(x, f))) is conv2dBackpropInput(h'(y), f); d/df is conv2dBackpropFilter(x, h'(y)).
    const loss = (a: st.Tensor, b: st.Tensor) => st.sin(st.conv2d(a, b, c.opts)).sum();
    it(`${c.name}: d/dx of the input gradient (conv2dBackpropInput's rule, dy side)`, () => {
      check((a) => st.grad((y) => loss(y, f))(a), [x], { what: `d2 x x ${c.name}` });
    });
    it(`${c.name}: d/df of the input gradient (conv2dBackpropInput's rule, filter side)`, () => {
      check((b) => st.grad((y) => loss(y, b))(x), [f], { what: `d2 f x ${c.name}` });
    });
    it(`${c.name}: d/df of the filter gradient (conv2dBackpropFilter's rule, dy side)`, () => {
      check((b) => st.grad((g) => loss(x, g))(b), [f], { what: `d2 f f ${c.name}` });
    });
    it(`${c.name}: d/dx of the filter gradient (conv2dBackpropFilter's rule, x side)`, () => {
      check((a) => st.grad((g) => loss(a, g))(f), [x], { what: `d2 x f ${c.name}` });
    });
  }

  it('the square loss from the brief: x => grad(conv(x, f)^2)', () => {
    const f = rt([2, 2, 2, 2], 1300);
    check((x) => st.grad((y) => st.conv2d(y, f, { padding: 'same', strides: 2 }).square().sum())(x), [rt([1, 5, 5, 2], 1301)]);
  });
});

interface PoolCase {
  name: string;
  x: number[];
  opts: st.Pool2dOptions;
}

const POOL_CASES: PoolCase[] = [
  { name: 'valid 2x2, strides 2', x: [2, 4, 4, 2], opts: {} },
  { name: 'valid 3x3, strides 1 (overlapping)', x: [1, 5, 4, 2], opts: { poolSize: 3, strides: 1 } },
  { name: 'valid [2, 3], strides [1, 2]', x: [1, 4, 7, 1], opts: { poolSize: [2, 3], strides: [1, 2] } },
  { name: "'same' 2x2, strides 2 on odd sizes", x: [1, 5, 3, 2], opts: { padding: 'same' } },
  { name: "'same' 3x3, strides 1", x: [1, 4, 4, 2], opts: { poolSize: 3, strides: 1, padding: 'same' } },
  { name: "'same' [3, 2], strides [2, 1]", x: [2, 5, 4, 1], opts: { poolSize: [3, 2], strides: [2, 1], padding: 'same' } },
];

describe('gradients: maxPool2d and avgPool2d', () => {
  let seed = 1400;
  for (const c of POOL_CASES) {
    // Distinct values: no two pixels of a window tie, so max pooling is differentiable there.
    const x = distinct(c.x, (seed += 101));
    it(`maxPool2d ${c.name}`, () => check((a) => st.maxPool2d(a, c.opts), [x], { what: `maxPool2d ${c.name}` }));
    it(`avgPool2d ${c.name}`, () => check((a) => st.avgPool2d(a, c.opts), [x], { what: `avgPool2d ${c.name}` }));
    it(`maxPool2d ${c.name}: second derivative (maxPool2dGrad's rule)`, () => {
      check((a) => st.grad((y) => st.maxPool2d(y, c.opts).square().sum())(a), [x], { what: `d2 maxPool2d ${c.name}` });
    });
    it(`avgPool2d ${c.name}: second derivative (avgPool2dGrad's rule)`, () => {
      check((a) => st.grad((y) => st.avgPool2d(y, c.opts).sin().sum())(a), [x], { what: `d2 avgPool2d ${c.name}` });
    });
  }

  it('pooling a transposed (non-contiguous) input', () => {
    const x = distinct([1, 4, 5, 2], 1490);
    check((a) => st.maxPool2d(st.transpose(a, [0, 2, 1, 3]), { padding: 'same' }), [x]);
    check((a) => st.avgPool2d(st.transpose(a, [0, 2, 1, 3]), { poolSize: 3, strides: 1 }), [x]);
  });
});

describe('gradients: softmax and logSoftmax', () => {
  const cases: [string, number[], number][] = [
    ['last axis', [3, 4], -1],
    ['axis 0', [3, 4], 0],
    ['middle axis of a 3-D tensor', [2, 3, 2], 1],
    ['a vector', [5], 0],
  ];
  let seed = 1600;
  for (const [label, shape, axis] of cases) {
    const x = rt(shape, (seed += 101), -2, 2);
    const c = rt(shape, (seed += 101));
    for (const op of ['softmax', 'logSoftmax'] as const) {
      it(`${op} over ${label}`, () => check((a) => st[op](a, axis), [x], { what: `${op} ${label}` }));
      it(`${op} over ${label}: second derivative`, () => {
        // Weighted and squared, so the inner gradient depends on x through g as well as the output.
        check((a) => st.grad((y) => st.mul(st[op](y, axis), c).square().sum())(a), [x], { what: `d2 ${op} ${label}` });
      });
    }
  }

  it('softmax of a transposed input, into a matmul', () => {
    check((a, w) => st.matmul(st.softmax(st.transpose(a)), w), [rt([3, 2], 1700, -2, 2), rt([3, 2], 1701)]);
  });
});

describe('gradients: fused conv2d + bias + activation', () => {
  for (const activation of ['linear', 'relu'] as const) {
    for (const opts of [{ padding: 'valid' as const }, { strides: 2, padding: 'same' as const, dilation: 1 }]) {
      it(`${activation}, ${JSON.stringify(opts)}: with respect to x, the filter and the bias`, () => {
        check(
          (x, f, b) => st.fused.conv2d({ x, filter: f, bias: b, activation, ...opts }),
          [rt([2, 5, 4, 2], 1800), rt([3, 2, 2, 3], 1801), rt([3], 1802)],
          { what: `fused ${activation}` },
        );
      });
    }
    it(`${activation}: second derivative through the fused rule`, () => {
      const f = rt([2, 2, 2, 3], 1811),
        b = rt([3], 1812);
      check((x) => st.grad((y) => st.fused.conv2d({ x: y, filter: f, bias: b, activation }).square().sum())(x), [rt([1, 4, 4, 2], 1810)], {
        what: `d2 fused ${activation}`,
      });
    });
  }
});

describe('gradients: coverage of the optional kernels', () => {
  it('reached every optional primitive', () => assertCovered(covered, OPTIONAL_PRIMITIVES));
});
