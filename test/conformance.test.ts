// The op conformance suite: one table of cases, run on every registered backend. Each case
// computes its expected values independently of any backend (plain JavaScript loops, or the
// loops written from the ops' definitions for convolution and pooling), so a new backend is
// checked by adding nothing here. Unavailable backends are skipped by name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { reluGrad } from '../src/ops/elementwise.js';
import { assertClose, randomValues, withBackend } from './helpers.js';
import { conv2dGradOracle, conv2dOracle, outputGeometry, type Padding, pool2dGradOracle, pool2dOracle } from './oracles/conv-pool.js';

type Arr = { shape: number[]; values: number[] };

const arr = (shape: number[], seed: number, lo = -2, hi = 2): Arr => ({
  shape,
  values: randomValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
    lo,
    hi,
  ),
});
const T = (a: Arr, dtype: st.DType = 'float32') => st.tensor(a.values, a.shape, dtype);

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const strides = (shape: number[]) => shape.map((_, i) => size(shape.slice(i + 1)));
function unravel(i: number, shape: number[]): number[] {
  return strides(shape).map((s, d) => Math.floor(i / s) % shape[d]);
}
/** Naive broadcasting oracle: the value of `a` at output coordinate `idx`. */
function at(a: Arr, idx: number[]): number {
  const off = idx.length - a.shape.length;
  const st_ = strides(a.shape);
  let o = 0;
  a.shape.forEach((d, k) => (o += (d === 1 ? 0 : idx[k + off]) * st_[k]));
  return a.values[o];
}
function broadcastShape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => Math.max(a[a.length - r + i] ?? 1, b[b.length - r + i] ?? 1));
}
function naiveBinary(a: Arr, b: Arr, f: (x: number, y: number) => number): number[] {
  const shape = broadcastShape(a.shape, b.shape);
  return Array.from({ length: size(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    return f(at(a, idx), at(b, idx));
  });
}
function naiveReduce(a: Arr, axes: number[], init: number, f: (acc: number, x: number) => number): number[] {
  const outShape = a.shape.filter((_, i) => !axes.includes(i));
  const out = new Array(size(outShape)).fill(init);
  a.values.forEach((v, i) => {
    const idx = unravel(i, a.shape).filter((_, d) => !axes.includes(d));
    const o = idx.reduce((acc, x, d) => acc + x * strides(outShape)[d], 0);
    out[o] = f(out[o], v);
  });
  return out;
}
function naiveMatmul(a: Arr, b: Arr): number[] {
  const [m, k] = a.shape,
    n = b.shape[1];
  const out: number[] = [];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a.values[i * k + p] * b.values[p * n + j];
      out.push(s);
    }
  return out;
}

interface Case {
  name: string;
  run: () => st.Tensor;
  expected: () => number[];
  rtol?: number;
  /** Absolute tolerance; sums of many float32 products with cancellation need more than the default. */
  atol?: number;
}

const x1 = arr([3, 4, 5], 1),
  y1 = arr([4, 1], 2),
  pos = arr([3, 4, 5], 3, 0.1, 3);
const odd = arr([17], 4, -3, 3),
  m1 = arr([7, 3], 5),
  m2 = arr([3, 17], 6);
const unary: [string, (t: st.Tensor) => st.Tensor, (x: number) => number, Arr][] = [
  ['neg', st.neg, (x) => -x, x1],
  ['abs', st.abs, Math.abs, x1],
  ['exp', st.exp, Math.exp, x1],
  ['log', st.log, Math.log, pos],
  ['sqrt', st.sqrt, Math.sqrt, pos],
  ['tanh', st.tanh, Math.tanh, x1],
  ['sigmoid', st.sigmoid, (x) => 1 / (1 + Math.exp(-x)), x1],
  ['relu', st.relu, (x) => Math.max(x, 0), odd],
  ['sin', st.sin, Math.sin, x1],
  ['cos', st.cos, Math.cos, x1],
  ['floor', st.floor, Math.floor, odd],
  ['ceil', st.ceil, Math.ceil, odd],
  ['sign', st.sign, Math.sign, odd],
  ['square', st.square, (x) => x * x, x1],
];
const binary: [string, (a: st.Tensor, b: st.Tensor) => st.Tensor, (a: number, b: number) => number, Arr, Arr][] = [
  ['add', st.add, (a, b) => a + b, x1, y1],
  ['sub', st.sub, (a, b) => a - b, y1, x1],
  ['mul', st.mul, (a, b) => a * b, x1, arr([5], 7)],
  ['div', st.div, (a, b) => a / b, x1, arr([1, 5], 8, 0.5, 2)],
  ['pow', st.pow, Math.pow, pos, arr([5], 9)],
  ['maximum', st.maximum, Math.max, x1, y1],
  ['minimum', st.minimum, Math.min, arr([1, 4, 1], 10), x1],
  ['greater', st.greater, (a, b) => +(a > b), x1, y1],
  ['lessEqual', st.lessEqual, (a, b) => +(a <= b), y1, x1],
  ['equal', st.equal, (a, b) => +(a === b), odd, odd],
  // Each broadcast pattern a backend may special-case: per-row values, a scalar on the left,
  // a bias over leading axes, and a column against a row.
  ['sub per row', st.sub, (a, b) => a - b, arr([6, 5], 14), arr([6, 1], 15)],
  ['sub scalar left', st.sub, (a, b) => a - b, arr([], 16), arr([2, 3], 17)],
  ['add trailing ones', st.add, (a, b) => a + b, arr([2, 3, 4], 18), arr([2, 3, 1], 19)],
  ['mul column x row', st.mul, (a, b) => a * b, arr([4, 1], 20), arr([1, 3], 21)],
  ['greater bias', st.greater, (a, b) => +(a > b), arr([2, 3, 4], 22), arr([4], 23)],
];

const cases: Case[] = [
  ...unary.map(([name, op, f, a]): Case => ({ name, run: () => op(T(a)), expected: () => a.values.map(f) })),
  ...binary.map(
    ([name, op, f, a, b]): Case => ({
      name: `${name} ${JSON.stringify(a.shape)} ${JSON.stringify(b.shape)}`,
      run: () => op(T(a), T(b)),
      expected: () => naiveBinary(a, b, f),
    }),
  ),
  { name: 'reluGrad', run: () => reluGrad(T(x1), T(pos)), expected: () => x1.values.map((v, i) => (v > 0 ? pos.values[i] : 0)) },
  {
    name: 'where with broadcasting',
    run: () => st.where(st.greater(T(y1), 0), T(x1), -1),
    expected: () => naiveBinary(y1, x1, (c, v) => (c > 0 ? v : -1)),
  },
  { name: 'sum over axes [0, 2]', run: () => st.sum(T(x1), [0, 2]), expected: () => naiveReduce(x1, [0, 2], 0, (a, b) => a + b) },
  { name: 'max over axis 1', run: () => st.max(T(x1), 1), expected: () => naiveReduce(x1, [1], -Infinity, Math.max) },
  { name: 'min over all axes', run: () => st.min(T(x1)), expected: () => [Math.min(...x1.values)] },
  { name: 'prod over axis 2', run: () => st.prod(T(x1), 2), expected: () => naiveReduce(x1, [2], 1, (a, b) => a * b), rtol: 1e-5 },
  { name: 'mean over axis -1', run: () => st.mean(T(x1), -1), expected: () => naiveReduce(x1, [2], 0, (a, b) => a + b).map((v) => v / 5) },
  {
    name: 'argMax over axis 1',
    run: () => st.argMax(T(x1), 1),
    expected: () =>
      naiveReduce({ shape: x1.shape, values: x1.values.map((_, i) => i) }, [1], -1, (best, i) =>
        best < 0 || x1.values[i] > x1.values[best] ? i : best,
      ).map((i) => unravel(i, x1.shape)[1]),
  },
  { name: 'matmul 7x3 @ 3x17', run: () => st.matmul(T(m1), T(m2)), expected: () => naiveMatmul(m1, m2) },
  {
    name: 'matmul with transposed operands',
    run: () => st.matmul(st.transpose(T(m2)), st.transpose(T(m1)), false, false),
    expected: () => {
      const c = naiveMatmul(m1, m2);
      return Array.from({ length: 17 * 7 }, (_, i) => c[(i % 7) * 17 + Math.floor(i / 7)]);
    },
  },
  {
    name: 'transpose [2, 0, 1]',
    run: () => st.transpose(T(x1), [2, 0, 1]),
    expected: () =>
      Array.from({ length: 60 }, (_, i) => {
        const [c, a, b] = unravel(i, [5, 3, 4]);
        return x1.values[a * 20 + b * 5 + c];
      }),
  },
  {
    name: 'slice',
    run: () => st.slice(T(x1), [1, 1, 2], [2, -1, 2]),
    expected: () =>
      x1.values.filter((_, i) => {
        const [a, b, c] = unravel(i, x1.shape);
        return a >= 1 && b >= 1 && c >= 2 && c < 4;
      }),
  },
  {
    name: 'pad',
    run: () =>
      st.pad(
        T(m1),
        [
          [1, 0],
          [0, 2],
        ],
        7,
      ),
    expected: () =>
      Array.from({ length: 8 * 5 }, (_, i) => {
        const [r, c] = [Math.floor(i / 5), i % 5];
        return r >= 1 && c < 3 ? m1.values[(r - 1) * 3 + c] : 7;
      }),
  },
  {
    name: 'concat axis 1',
    run: () => st.concat([T(m1), T(arr([7, 2], 11))], 1),
    expected: () => {
      const b = arr([7, 2], 11);
      return Array.from({ length: 35 }, (_, i) => {
        const [r, c] = [Math.floor(i / 5), i % 5];
        return c < 3 ? m1.values[r * 3 + c] : b.values[r * 2 + c - 3];
      });
    },
  },
  {
    name: 'gather axis 1 with repeats',
    run: () => st.gather(T(m2), st.tensor([16, 0, 16, 3], [4], 'int32'), 1),
    expected: () => [0, 1, 2].flatMap((r) => [16, 0, 16, 3].map((c) => m2.values[r * 17 + c])),
  },
  { name: 'cast float32 -> int32 truncates', run: () => st.cast(T(odd), 'int32'), expected: () => odd.values.map(Math.trunc) },
  {
    name: 'softmax axis 1',
    run: () => st.softmax(T(x1), 1),
    expected: () => {
      const m = naiveReduce(x1, [1], -Infinity, Math.max),
        s = naiveReduce({ ...x1, values: x1.values.map((v, i) => Math.exp(v - m[Math.floor(i / 20) * 5 + (i % 5)])) }, [1], 0, (a, b) => a + b);
      return x1.values.map((v, i) => {
        const o = Math.floor(i / 20) * 5 + (i % 5);
        return Math.exp(v - m[o]) / s[o];
      });
    },
  },
];

/**
 * Convolution and pooling, values and gradients, against loops written from TensorFlow's
 * definition (test/oracles/conv-pool.ts), which share no geometry code with src/: a wrong 'same'
 * padding or a misrouted pooling gradient in any backend, or in the planners every backend uses,
 * fails here. The geometries below include odd total paddings (width 8 with a stride of 2, a
 * 4-tall filter), where splitting the padding the wrong way round changes the result.
 */
const img = arr([2, 9, 8, 3], 12),
  filt = arr([4, 2, 3, 5], 13);
const conv2dOptionSets: { strides?: number | [number, number]; padding?: Padding; dilation?: number | [number, number] }[] = [
  { strides: 2, padding: 'same' },
  { dilation: 2 },
  { strides: [1, 3], padding: 'same' },
  { padding: 'same' },
  { strides: [2, 1], dilation: [1, 2], padding: 'same' },
];
const asPair = (v: number | [number, number] | undefined): [number, number] => (v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : v);
for (const opts of conv2dOptionSets) {
  const geometry = { strides: asPair(opts.strides), dilation: asPair(opts.dilation), padding: opts.padding ?? ('valid' as const) };
  const { oh, ow } = outputGeometry(9, 8, { ...geometry, kernel: [4, 2] });
  const dy = arr([2, oh, ow, 5], 14);
  const grads = () => conv2dGradOracle(img, filt, dy.values, geometry);
  const loss = (x: st.Tensor, f: st.Tensor) => st.sum(st.mul(st.conv2d(x, f, opts), T(dy)));
  cases.push(
    {
      name: `conv2d ${JSON.stringify(opts)}`,
      run: () => st.conv2d(T(img), T(filt), opts),
      expected: () => conv2dOracle(img, filt, geometry),
      rtol: 1e-5,
    },
    {
      name: `conv2d ${JSON.stringify(opts)}: gradient with respect to the input`,
      run: () => st.valueAndGrad(loss)(T(img), T(filt)).grads[0],
      expected: () => grads().dx,
      rtol: 1e-5,
    },
    {
      name: `conv2d ${JSON.stringify(opts)}: gradient with respect to the filter`,
      run: () => st.valueAndGrad(loss)(T(img), T(filt)).grads[1],
      expected: () => grads().dFilter,
      // Each filter tap sums about 2 * oh * ow products of size up to 8 in float32, some of them
      // cancelling: the error is about that count times 8 times float32's epsilon, up to ~1e-4.
      rtol: 1e-5,
      atol: 1e-4,
    },
  );
}
const pool2dOptionSets: { poolSize?: number | [number, number]; strides?: number | [number, number]; padding?: Padding }[] = [
  { poolSize: 3, strides: 2, padding: 'same' },
  { poolSize: 2 },
  { poolSize: 2, strides: 1, padding: 'same' },
  { poolSize: [3, 2], strides: [2, 3], padding: 'same' },
];
for (const opts of pool2dOptionSets) {
  const kernel = asPair(opts.poolSize ?? 2);
  const geometry = { kernel, strides: asPair(opts.strides ?? kernel), padding: opts.padding ?? ('valid' as const) };
  const { oh, ow } = outputGeometry(9, 8, { ...geometry, dilation: [1, 1] });
  const dy = arr([2, oh, ow, 3], 15);
  for (const kind of ['max', 'avg'] as const) {
    const op = kind === 'max' ? st.maxPool2d : st.avgPool2d;
    cases.push(
      {
        name: `${kind}Pool2d ${JSON.stringify(opts)}`,
        run: () => op(T(img), opts),
        expected: () => pool2dOracle(kind, img, geometry),
      },
      {
        name: `${kind}Pool2d ${JSON.stringify(opts)}: gradient`,
        run: () => st.grad((x) => st.sum(st.mul(op(x, opts), T(dy))))(T(img)),
        expected: () => pool2dGradOracle(kind, img, dy.values, geometry),
      },
    );
  }
}

// Backends that open asynchronously (webgpu) are opened first; values are read with `await
// t.data()`, the read every backend has.
await st.ready();
for (const backend of st.backends()) {
  describe(`conformance on the ${backend.name} backend`, { skip: backend.available ? false : `unavailable: ${backend.reason}` }, () => {
    for (const c of cases) {
      it(c.name, async () => {
        const y = withBackend(backend.name, c.run);
        assert.equal(y.backend.name, backend.name);
        assertClose(Array.from(await y.data()), c.expected(), c.rtol ?? 2e-6, c.atol ?? 1e-6, c.name);
      });
    }
  });
}
