// Gradient checks for the core primitives: every differentiable primitive of
// src/backend/primitives.ts is reached through a public op and compared with float64 central
// finite differences (test/helpers.ts checkGradient). Inputs stay away from kinks (0 for
// relu/abs/sign, integers for the rounding ops, ties for max/min/maximum/minimum), so the
// finite difference is a true derivative. Convolution, pooling and softmax live in
// gradients-nn.test.ts; the last test here checks that no core primitive was left out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import type { Primitive } from '../src/backend/primitives.js';
import { assertClose } from './helpers.js';
import { assertCovered, awayFromIntegers, awayFromZero, distinct, makeCheck, rt } from './grad-check.js';

// float64 finite differences need the reference backend (others may refuse float64), whichever
// backend is the default.
st.setBackend('reference');

const covered = new Set<Primitive>();
const check = makeCheck(covered);
type F = (...xs: st.Tensor[]) => st.Tensor;

describe('gradients: unary primitives', () => {
  const cases: [string, F, st.Tensor][] = [
    ['neg', st.neg, rt([2, 3], 1)],
    ['abs', st.abs, awayFromZero([2, 3], 2)],
    ['exp', st.exp, rt([2, 3], 3)],
    ['log', st.log, rt([2, 3], 4, 0.2, 3)],
    ['sqrt', st.sqrt, rt([2, 3], 5, 0.2, 3)],
    ['tanh', st.tanh, rt([2, 3], 6, -2, 2)],
    ['sigmoid', st.sigmoid, rt([2, 3], 7, -3, 3)],
    ['relu', st.relu, awayFromZero([2, 3], 8)],
    ['sin', st.sin, rt([2, 3], 9, -3, 3)],
    ['cos', st.cos, rt([2, 3], 10, -3, 3)],
    // Piecewise constant: the gradient is zero away from the jumps.
    ['sign', st.sign, awayFromZero([2, 3], 11)],
    ['floor', st.floor, awayFromIntegers([2, 3], 12)],
    ['ceil', st.ceil, awayFromIntegers([2, 3], 13)],
    ['round', st.round, awayFromIntegers([2, 3], 14)],
  ];
  for (const [name, f, x] of cases) {
    it(name, () => check(f, [x], { what: name }));
  }

  it('of a scalar (rank-0) input', () => check((x) => st.tanh(st.exp(x)), [rt([], 15)]));
});

describe('gradients: binary primitives', () => {
  // Each op with operands kept in its smooth domain: positive bases for pow, divisors away from 0.
  const ops: [string, (a: st.Tensor, b: st.Tensor) => st.Tensor, [number, number], [number, number]][] = [
    ['add', st.add, [-1, 1], [-1, 1]],
    ['sub', st.sub, [-1, 1], [-1, 1]],
    ['mul', st.mul, [-1, 1], [-1, 1]],
    ['div', st.div, [-1, 1], [0.5, 2]],
    ['pow', st.pow, [0.5, 2], [-1.5, 1.5]],
    ['maximum', st.maximum, [-1, 1], [-1, 1]],
    ['minimum', st.minimum, [-1, 1], [-1, 1]],
  ];
  // [shape of a, shape of b]: equal, broadcast in both directions, and rank-0 operands on either side.
  const shapes: [number[], number[]][] = [
    [
      [2, 3],
      [2, 3],
    ],
    [
      [3, 1, 4],
      [2, 4],
    ],
    [
      [2, 4],
      [3, 1, 4],
    ],
    [
      [2, 1],
      [1, 3],
    ],
    [[2, 3], []],
    [[], [2, 3]],
  ];
  let seed = 100;
  for (const [name, f, [aLo, aHi], [bLo, bHi]] of ops) {
    for (const [sa, sb] of shapes) {
      // Seeds far apart: the helpers' LCG gives nearly equal first values for consecutive seeds.
      const a = rt(sa, (seed += 997), aLo, aHi),
        b = rt(sb, (seed += 997), bLo, bHi);
      it(`${name} ${JSON.stringify(sa)} with ${JSON.stringify(sb)}`, () => {
        if (name === 'maximum' || name === 'minimum') assertNoNearTies(a, b);
        check(f, [a, b], { what: name });
      });
    }
  }

  // A plain number operand is a constant: only the tensor side gets a gradient.
  const numbers: [string, F, st.Tensor][] = [
    ['add(x, 2)', (x) => st.add(x, 2), rt([2, 3], 130)],
    ['sub(2, x)', (x) => st.sub(2, x), rt([2, 3], 131)],
    ['mul(x, -1.5)', (x) => st.mul(x, -1.5), rt([2, 3], 132)],
    ['div(2, x)', (x) => st.div(2, x), rt([2, 3], 133, 0.5, 2)],
    ['div(x, 3)', (x) => st.div(x, 3), rt([2, 3], 134)],
    ['pow(x, 3)', (x) => st.pow(x, 3), rt([2, 3], 135, -1.5, 1.5)],
    ['pow(x, 0.5)', (x) => st.pow(x, 0.5), rt([2, 3], 136, 0.3, 2)],
    ['pow(2.5, x)', (x) => st.pow(2.5, x), rt([2, 3], 137)],
    ['maximum(x, 0.05)', (x) => st.maximum(x, 0.05), awayFromZero([2, 3], 138)],
    ['maximum(0.05, x)', (x) => st.maximum(0.05, x), awayFromZero([2, 3], 139)],
    ['minimum(x, 0.05)', (x) => st.minimum(x, 0.05), awayFromZero([2, 3], 140)],
    ['minimum(0.05, x)', (x) => st.minimum(0.05, x), awayFromZero([2, 3], 141)],
  ];
  for (const [name, f, x] of numbers) it(name, () => check(f, [x], { what: name }));

  it('pow with a base of zero keeps a finite exponent gradient (0 where a <= 0)', () => {
    const b = st.variable(st.tensor([2, 3], [2], 'float64'));
    st.pow(st.tensor([0, 0.5], [2], 'float64'), b)
      .sum()
      .backward();
    assertClose(b.grad!, [0, 0.125 * Math.log(0.5)], 1e-12, 1e-15);
  });

  it('where, broadcasting cond [3,1], a [1,4] and b []', () => {
    const cond = st.tensor([true, false, true], [3, 1]);
    check((a, b) => st.where(cond, a, b), [rt([1, 4], 150), rt([], 151)], { what: 'where' });
    check((a, b) => st.where(cond, a, b), [rt([3, 4], 152), rt([2, 3, 4], 153)], { what: 'where' });
  });
});

function assertNoNearTies(a: st.Tensor, b: st.Tensor): void {
  const d = st.abs(st.sub(a, b)).min().item();
  assert.ok(d > 1e-3, `maximum/minimum operands nearly tie (|a - b| = ${d}); pick other seeds`);
}

describe('gradients: reductions', () => {
  const x = distinct([2, 3, 4], 200);
  const axesCases: [string, number | number[] | undefined][] = [
    ['all axes', undefined],
    ['axis 1', 1],
    ['axis -1', -1],
    ['axes [0, 2]', [0, 2]],
    ['axes [0, 1, 2]', [0, 1, 2]],
  ];
  for (const op of ['sum', 'prod', 'max', 'min'] as const) {
    for (const [label, axis] of axesCases) {
      for (const keepDims of [false, true]) {
        it(`${op} over ${label}${keepDims ? ', keepDims' : ''}`, () => {
          // prod of 24 values in [-1.2, 1.2] is tiny; shift them away from 0 to keep it well scaled.
          const input = op === 'prod' ? st.add(x, st.mul(st.sign(x), 0.6)) : x;
          check((t) => st[op](t, axis, keepDims), [input], { what: `${op} ${label}` });
        });
      }
    }
  }

  it('max and min split the gradient evenly between tied extrema', () => {
    const t = st.variable(
      st.tensor(
        [
          [3, 1, 3],
          [2, 2, 0],
        ],
        [2, 3],
        'float64',
      ),
    );
    st.max(t, 1).sum().backward();
    assertClose(t.grad!, [0.5, 0, 0.5, 0.5, 0.5, 0], 0, 0);
    const u = st.variable(
      st.tensor(
        [
          [3, 1, 3],
          [2, 2, 0],
        ],
        [2, 3],
        'float64',
      ),
    );
    st.min(u, 1).sum().backward();
    assertClose(u.grad!, [0, 1, 0, 0, 0, 1], 0, 0);
  });

  // Rows: no zero, one zero, two zeros, three zeros.
  const withZeros = st.tensor(
    [
      [2, -1.5, 3, 0.5],
      [2, 0, 3, 0.5],
      [0, 4, 0, -2],
      [0, 0, 0, 1],
    ],
    [4, 4],
    'float64',
  );

  it('prod with one and with several zeros in a slice matches the analytic gradient', () => {
    const t = st.variable(withZeros);
    st.prod(t, 1).sum().backward();
    // d prod / d x_i = product of the other elements: nonzero only at a slice's single zero.
    const expected = [
      [-2.25, 3, -1.5, -9],
      [0, 3, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ].flat();
    assertClose(t.grad!, expected, 0, 1e-15);
  });

  it('prod with zeros over axis 0 and over all axes, against finite differences', () => {
    // prod is multilinear, so central differences are exact even at the zeros.
    check((t) => st.prod(t, 0), [withZeros], { what: 'prod axis 0' });
    check((t) => st.prod(t, 1, true), [withZeros], { what: 'prod axis 1' });
    check((t) => st.prod(st.slice(t, [1, 0], [1, 4])), [withZeros], { what: 'prod of a one-zero slice' });
    // Over axes [0, 2] of [2, 2, 4], rows regrouped so the two slices hold one and five zeros.
    check((t) => st.prod(st.reshape(st.gather(t, [0, 2, 1, 3], 0), [2, 2, 4]), [0, 2]), [withZeros], { what: 'prod axes [0, 2]' });
  });

  it('second derivatives of prod at slices with one, two and three zeros', () => {
    // d2 prod / dx_i dx_j is the product of the remaining elements: nonzero across a zero.
    for (const values of [
      [0, 2, -3, 0.5],
      [0, 2, 0, 0.5],
      [0, 0, -3, 0],
      [1.5, 2, -3, 0.5],
    ]) {
      const v = st.tensor(values, [4], 'float64');
      check((t) => st.grad((u) => st.prod(u))(t), [v], { what: `d2 prod at ${values}` });
    }
    check((t) => st.grad((u) => st.prod(u, 1).square().sum())(t), [withZeros], { what: 'd2 prod rows' });
  });
});

describe('gradients: matmul', () => {
  const mm = (a: st.Tensor, b: st.Tensor) => st.matmul(a, b);
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      it(`2-D with transposeA=${ta}, transposeB=${tb}`, () => {
        const a = rt(ta ? [4, 3] : [3, 4], 300),
          b = rt(tb ? [2, 4] : [4, 2], 301);
        check((p, q) => st.matmul(p, q, ta, tb), [a, b], { what: `matmul ${ta} ${tb}` });
      });
      it(`batched with transposeA=${ta}, transposeB=${tb}`, () => {
        const a = rt(ta ? [2, 4, 3] : [2, 3, 4], 302),
          b = rt(tb ? [2, 2, 4] : [2, 4, 2], 303);
        check((p, q) => st.matmul(p, q, ta, tb), [a, b], { what: `batched matmul ${ta} ${tb}` });
      });
    }
  }

  it('broadcasts batch dimensions ([2,1,3,4] x [3,4,2] and a 2-D operand against a batch)', () => {
    check(mm, [rt([2, 1, 3, 4], 310), rt([3, 4, 2], 311)], { what: 'batch broadcast' });
    check(mm, [rt([3, 4], 312), rt([2, 4, 2], 313)], { what: 'matrix x batch' });
    check((p, q) => st.matmul(p, q, true, false), [rt([2, 1, 4, 3], 314), rt([1, 3, 4, 2], 315)], { what: 'both broadcast, transposed a' });
  });

  it('1-D operands: vector x matrix, matrix x vector, vector x vector, batch x vector', () => {
    check(mm, [rt([4], 320), rt([4, 3], 321)], { what: 'vec x mat' });
    check(mm, [rt([3, 4], 322), rt([4], 323)], { what: 'mat x vec' });
    check(mm, [rt([4], 324), rt([4], 325)], { what: 'vec x vec' });
    check(mm, [rt([2, 3, 4], 326), rt([4], 327)], { what: 'batch x vec' });
    check((p, q) => st.matmul(p, q, false, true), [rt([4], 328), rt([3, 4], 329)], { what: 'vec x mat^T' });
    check(st.dot, [rt([5], 330), rt([5], 331)], { what: 'dot' });
  });
});

describe('gradients: data movement', () => {
  it('reshape (including -1 and to a scalar)', () => {
    check((x) => st.reshape(x, [3, -1]), [rt([2, 3, 2], 400)]);
    check((x) => st.mul(st.reshape(x, [6]), st.tensor([1, 2, 3, 4, 5, 6], [6], 'float64')), [rt([2, 3], 401)]);
    check((x) => st.reshape(x, []), [rt([1, 1], 402)]);
  });

  it('transpose with the default and explicit permutations', () => {
    check((x) => st.transpose(x), [rt([2, 3, 4], 410)]);
    check((x) => st.transpose(x, [1, 2, 0]), [rt([2, 3, 4], 411)]);
    check((x) => st.transpose(x, [0, 2, 1, 3]), [rt([2, 2, 3, 2], 412)]);
  });

  it('broadcastTo from lower rank and from size-1 axes', () => {
    check((x) => st.broadcastTo(x, [2, 3, 4]), [rt([3, 1], 420)]);
    check((x) => st.broadcastTo(x, [2, 3]), [rt([], 421)]);
    check((x) => st.broadcastTo(x, [2, 3, 4]), [rt([4], 422)]);
  });

  it('cast: float64 -> float64 is the identity; float32 round trip passes the gradient', () => {
    check((x) => st.cast(x, 'float64'), [rt([3], 430)]);
    // Through float32 only a linear map is checked, with a coarse step that float32 rounding cannot swamp.
    check((x) => st.cast(st.mul(st.cast(x, 'float32'), 3), 'float64'), [rt([2, 3], 431)], { eps: 1e-2, rtol: 1e-5, atol: 1e-5 });
  });

  it('cast to int32 or bool cuts the gradient', () => {
    const g = st.grad((x) => st.add(st.sum(st.cast(st.cast(x, 'int32'), 'float64')), st.sum(x)))(rt([3], 432, 0.1, 3));
    assertClose(g, [1, 1, 1], 0, 0);
  });

  it('slice', () => {
    check((x) => st.slice(x, [1, 0, 2], [2, -1, 2]), [rt([3, 2, 5], 440)]);
    check((x) => st.slice(x, 2), [rt([5], 441)]);
  });

  it('pad with zeros and with a constant', () => {
    check(
      (x) =>
        st.pad(x, [
          [1, 2],
          [0, 1],
        ]),
      [rt([2, 3], 450)],
    );
    check(
      (x) =>
        st.pad(
          x,
          [
            [0, 0],
            [2, 1],
            [1, 0],
          ],
          1.5,
        ),
      [rt([1, 2, 2], 451)],
    );
  });

  it('concat along each axis, including tensors of different sizes', () => {
    check((a, b, c) => st.concat([a, b, c], 1), [rt([2, 1, 3], 460), rt([2, 3, 3], 461), rt([2, 2, 3], 462)]);
    check((a, b) => st.concat([a, b], 0), [rt([1, 3], 463), rt([2, 3], 464)]);
    check((a, b) => st.concat([a, b], -1), [rt([2, 2], 465), rt([2, 1], 466)]);
    // The same tensor twice: both gradients accumulate into it.
    check((a) => st.concat([a, st.mul(a, 2)], 0), [rt([2, 2], 467)]);
  });

  it('gather with repeated indices, on axis 0 and 1, with 2-D indices', () => {
    const idx = st.tensor(new Int32Array([2, 0, 2, 2, 1]), [5], 'int32');
    check((x) => st.gather(x, idx, 0), [rt([3, 2], 470)]);
    check((x) => st.gather(x, idx, 1), [rt([2, 3, 2], 471)]);
    check((x) => st.gather(x, st.tensor(new Int32Array([1, 1, 0, 3]), [2, 2], 'int32'), 1), [rt([2, 4], 472)]);
    check((x) => st.gather(x, [-1, 0, -1], 0), [rt([3], 473)]);
  });

  it('scatterAdd with repeated indices, on axis 0 and 1', () => {
    const idx = st.tensor(new Int32Array([1, 3, 1, 1]), [4], 'int32');
    check((u) => st.scatterAdd(u, idx, 0, 5), [rt([4, 2], 480)]);
    check((u) => st.scatterAdd(u, idx, 1, 4), [rt([2, 4, 3], 481)]);
    check((u) => st.scatterAdd(u, st.tensor(new Int32Array([0, 2, 2, 0]), [2, 2], 'int32'), 1, 3), [rt([2, 2, 2], 482)]);
  });

  it('second derivatives through gather and scatterAdd', () => {
    const idx = st.tensor(new Int32Array([0, 2, 2]), [3], 'int32');
    check((x) => st.grad((y) => st.gather(y, idx, 0).square().sum())(x), [rt([3, 2], 490)]);
    check((u) => st.grad((v) => st.scatterAdd(v, idx, 0, 4).pow(3).sum())(u), [rt([3, 2], 491)]);
  });
});

describe('gradients: composites', () => {
  it('mean over all axes, one axis and with keepDims', () => {
    check((x) => st.mean(x), [rt([2, 3], 500)]);
    check((x) => st.mean(x, 1), [rt([2, 3, 2], 501)]);
    check((x) => st.mean(x, [0, 2], true), [rt([2, 3, 2], 502)]);
  });

  it('clip passes the gradient inside the bounds and stops it outside', () => {
    // Values at least 0.1 from the bounds -0.5 and 0.5.
    const x = st.tensor([-1, -0.3, 0.1, 0.35, 0.9, -0.7], [2, 3], 'float64');
    check((t) => st.clip(t, -0.5, 0.5), [x]);
    const g = st.grad((t) => st.clip(t, -0.5, 0.5).sum())(x);
    assertClose(g, [0, 1, 1, 1, 0, 0], 0, 0);
    // Ties go to the first operand of maximum/minimum, so the bounds themselves pass the gradient.
    assertClose(st.grad((t) => st.clip(t, -0.5, 0.5).sum())(st.tensor([-0.5, 0.5], [2], 'float64')), [1, 1], 0, 0);
  });

  it('square, reciprocal, rsqrt, log1p, softplus', () => {
    check(st.square, [rt([2, 3], 510)]);
    check(st.reciprocal, [awayFromZero([2, 3], 511, 0.5, 2)]);
    check(st.rsqrt, [rt([2, 3], 512, 0.3, 2)]);
    check(st.log1p, [rt([2, 3], 513, -0.5, 2)]);
    check(st.softplus, [awayFromZero([2, 3], 514, 0.1, 4)]);
  });

  it('tile, stack and split', () => {
    check((x) => st.tile(x, [2, 3]), [rt([2, 2], 520)]);
    check((x) => st.tile(x, [2, 1, 2]), [rt([3, 2], 521)]);
    check((a, b, c) => st.stack([a, b, c], 1), [rt([2, 3], 522), rt([2, 3], 523), rt([2, 3], 524)]);
    check(
      (x) => {
        const [p, q, r] = st.split(x, [1, -1, 2], 1);
        return st.concat([st.mul(p, 2), st.exp(q), st.square(r)], 1);
      },
      [rt([2, 6], 525)],
    );
    check((x) => st.mul(...(st.split(x, 2, 0) as [st.Tensor, st.Tensor])), [rt([4, 3], 526)]);
  });

  it('expandDims, squeeze and flatten', () => {
    check((x) => st.flatten(st.expandDims(st.squeeze(x, 1), -1), 1), [rt([2, 1, 3], 530)]);
  });

  it('logSumExp and moments', () => {
    check((x) => st.logSumExp(x), [rt([2, 3], 540, -3, 3)]);
    check((x) => st.logSumExp(x, 1, true), [rt([2, 3, 2], 541, -3, 3)]);
    check((x) => st.logSumExp(x, [0, 2]), [rt([2, 3, 2], 542, -3, 3)]);
    check(
      (x) => {
        const { mean, variance } = st.moments(x, 0);
        return st.concat([mean, variance], 0);
      },
      [rt([4, 3], 543)],
    );
  });
});

describe('gradients: losses (with respect to yPred)', () => {
  const labels = st.tensor(new Int32Array([2, 0, 1]), [3], 'int32');
  const oneHot = st.cast(st.oneHot(labels, 4), 'float64');
  const logits = rt([3, 4], 600, -2, 2);
  const probs = rt([3, 4], 601, 0.1, 1); // unnormalized: the loss divides by the row sum
  const targets = rt([3, 4], 602);
  const huberPred = st.add(targets, awayFromZero([3, 4], 616, 0.1, 1.2));
  const binary = st.tensor([1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0], [3, 4], 'float64');
  const L = st.losses;
  const cases: [string, F, st.Tensor][] = [
    ['meanSquaredError', (p) => L.meanSquaredError(targets, p), rt([3, 4], 610)],
    ['mse, reduction sum', (p) => L.mse(targets, p, { reduction: 'sum' }), rt([3, 4], 611)],
    ['meanAbsoluteError', (p) => L.meanAbsoluteError(targets, p), st.add(targets, awayFromZero([3, 4], 612, 0.1, 1))],
    ['binaryCrossentropy on probabilities', (p) => L.binaryCrossentropy(binary, p), rt([3, 4], 613, 0.05, 0.95)],
    [
      'binaryCrossentropy from logits, label smoothing',
      (p) => L.binaryCrossentropy(binary, p, { fromLogits: true, labelSmoothing: 0.1 }),
      awayFromZero([3, 4], 614, 0.1, 3),
    ],
    ['binaryCrossentropy, reduction none', (p) => L.binaryCrossentropy(binary, p, { reduction: 'none' }), rt([3, 4], 615, 0.05, 0.95)],
    ['categoricalCrossentropy on oneHot labels', (p) => L.categoricalCrossentropy(oneHot, p), probs],
    ['categoricalCrossentropy from logits', (p) => L.categoricalCrossentropy(oneHot, p, { fromLogits: true }), logits],
    [
      'categoricalCrossentropy, smoothing, axis 0',
      (p) => L.categoricalCrossentropy(oneHot, p, { fromLogits: true, labelSmoothing: 0.2, axis: 0, reduction: 'sum' }),
      logits,
    ],
    ['sparseCategoricalCrossentropy from logits', (p) => L.sparseCategoricalCrossentropy(labels, p, { fromLogits: true }), logits],
    [
      'sparseCategoricalCrossentropy on probabilities',
      (p) => L.sparseCategoricalCrossentropy(st.reshape(labels, [3, 1]), p, { reduction: 'none' }),
      probs,
    ],
    ['huber (both branches)', (p) => L.huber(targets, p, { delta: 0.5 }), huberPred],
    ['kld', (p) => L.kld(st.softmax(targets), p), rt([3, 4], 617, 0.05, 0.9)],
  ];
  for (const [name, f, p] of cases) it(name, () => check(f, [p], { what: name }));

  it('huber near delta is exercised on both sides', () => {
    const err = Array.from(st.abs(st.sub(huberPred, targets)).dataSync());
    assert.ok(err.some((e) => e < 0.45) && err.some((e) => e > 0.55), 'huber inputs should cover both branches');
  });
});

describe('gradients: non-contiguous (transposed) inputs', () => {
  it('transposed operands into matmul', () => {
    check((a, b) => st.matmul(st.transpose(a), b), [rt([4, 3], 700), rt([4, 2], 701)]);
    check((a, b) => st.matmul(a, st.transpose(b, [0, 2, 1]), true, false), [rt([2, 4, 3], 702), rt([2, 2, 4], 703)]);
  });

  it('transposed operands into broadcasting binary ops', () => {
    check((a, b) => st.add(st.transpose(a), b), [rt([4, 3], 710), rt([3, 1], 711)]);
    check((a, b) => st.mul(st.transpose(a, [2, 0, 1]), st.transpose(b)), [rt([2, 3, 4], 712), rt([3, 2], 713)]);
    check((a, b) => st.div(b, st.transpose(a)), [rt([3, 2], 714, 0.5, 2), rt([2, 3], 715)]);
  });

  it('transposed inputs into reductions, slices and gathers', () => {
    check((x) => st.sum(st.transpose(x, [1, 0, 2]), [0, 2]), [rt([2, 3, 4], 720)]);
    check((x) => st.max(st.transpose(x), 0), [distinct([3, 4], 721)]);
    check((x) => st.prod(st.transpose(x), 1, true), [rt([3, 2], 722, 0.5, 1.5)]);
    check((x) => st.slice(st.transpose(x), [1, 0], [2, 2]), [rt([3, 4], 723)]);
    check((x) => st.gather(st.transpose(x), [0, 2, 0], 1), [rt([3, 2], 724)]);
  });

  it('a broadcast (stride-0) operand into matmul', () => {
    check((a, b) => st.matmul(st.broadcastTo(a, [2, 3, 4]), b), [rt([3, 4], 730), rt([2, 4, 2], 731)]);
  });
});

describe('second derivatives of the core rules (grad of grad)', () => {
  // The VJP rules are written with public ops so that they can be differentiated again; each
  // check differentiates sum(sin(op(...))) once with st.valueAndGrad, then the result against
  // finite differences. sin keeps even linear ops' second derivatives nonzero.
  const hessian =
    (f: F) =>
    (...xs: st.Tensor[]) => {
      const { grads } = st.valueAndGrad((...ys: st.Tensor[]) => st.sin(f(...ys)).sum())(...xs);
      return st.concat(
        grads.map((g) => st.reshape(g, [-1])),
        0,
      );
    };
  const unary: [string, F, st.Tensor][] = [
    ['neg', st.neg, rt([5], 800)],
    ['abs', st.abs, awayFromZero([5], 801)],
    ['exp', st.exp, rt([5], 802)],
    ['log', st.log, rt([5], 803, 0.3, 3)],
    ['sqrt', st.sqrt, rt([5], 804, 0.3, 3)],
    ['tanh', st.tanh, rt([5], 805, -2, 2)],
    ['sigmoid', st.sigmoid, rt([5], 806, -3, 3)],
    ['relu', st.relu, awayFromZero([5], 807)],
    ['sin', st.sin, rt([5], 808, -3, 3)],
    ['cos', st.cos, rt([5], 809, -3, 3)],
  ];
  // (sign and the rounding ops are left out: their gradient is a constant zero, off the tape.)
  for (const [name, f, x] of unary) it(name, () => check(hessian(f), [x], { what: `d2 ${name}` }));

  const binary: [string, F, [number, number]][] = [
    ['add', st.add, [-1, 1]],
    ['sub', st.sub, [-1, 1]],
    ['mul', st.mul, [-1, 1]],
    ['div', st.div, [0.5, 2]],
    ['pow', st.pow, [0.5, 2]],
    ['maximum', st.maximum, [-1, 1]],
    ['minimum', st.minimum, [-1, 1]],
  ];
  for (const [name, f, [lo, hi]] of binary) {
    it(`${name}, broadcasting [3,1,2] with [2]`, () => {
      const a = rt([3, 1, 2], 820, lo, hi),
        b = rt([2], 9821, lo, hi);
      if (name === 'maximum' || name === 'minimum') assertNoNearTies(a, b);
      check(hessian(f), [a, b], { what: `d2 ${name}` });
    });
  }

  it('sum, prod, max and min over an axis', () => {
    const x = distinct([3, 4], 830);
    for (const op of ['sum', 'prod', 'max', 'min'] as const)
      check(
        hessian((t) => st[op](t, 1)),
        [x],
        { what: `d2 ${op}` },
      );
  });

  it('matmul with each transpose combination', () => {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const a = rt(ta ? [3, 2] : [2, 3], 840),
          b = rt(tb ? [2, 3] : [3, 2], 841);
        check(
          hessian((p, q) => st.matmul(p, q, ta, tb)),
          [a, b],
          { what: `d2 matmul ${ta} ${tb}` },
        );
      }
    }
  });

  it('data movement: transpose, broadcastTo, slice, pad, concat, where, cast', () => {
    const cond = st.tensor([true, false, false, true], [2, 2]);
    check(
      hessian((x) => st.transpose(x)),
      [rt([2, 3], 850)],
    );
    check(
      hessian((x) => st.broadcastTo(x, [2, 3])),
      [rt([3], 851)],
    );
    check(
      hessian((x) =>
        st.slice(
          st.pad(
            x,
            [
              [1, 0],
              [0, 2],
            ],
            0.5,
          ),
          [0, 1],
          [2, 3],
        ),
      ),
      [rt([2, 3], 852)],
    );
    check(
      hessian((a, b) => st.concat([a, b], 1)),
      [rt([2, 1], 853), rt([2, 2], 854)],
    );
    check(
      hessian((a, b) => st.where(cond, a, b)),
      [rt([2, 2], 855), rt([2], 856)],
    );
    check(
      hessian((x) => st.reshape(st.cast(x, 'float64'), [3, 2])),
      [rt([2, 3], 857)],
    );
  });
});

describe('gradients: coverage', () => {
  it('reached every differentiable core primitive', () => {
    assertCovered(covered, [
      'neg',
      'abs',
      'exp',
      'log',
      'sqrt',
      'sign',
      'tanh',
      'sigmoid',
      'relu',
      'sin',
      'cos',
      'floor',
      'ceil',
      'round',
      'add',
      'sub',
      'mul',
      'div',
      'pow',
      'maximum',
      'minimum',
      'sum',
      'prod',
      'max',
      'min',
      'matmul',
      'reshape',
      'transpose',
      'broadcastTo',
      'cast',
      'slice',
      'pad',
      'concat',
      'gather',
      'scatterAdd',
      'where',
      'reluGrad',
    ]);
  });
});
