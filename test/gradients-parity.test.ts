// float64 finite-difference checks of the ops and losses of issue 23 (tfjs and Keras parity), on
// the reference backend: their gradients are what autograd makes of their composites, so this
// checks that each composite is differentiable where the function is and that no branch leaks an
// infinity into the gradient. Inputs are random and kept inside each function's domain and away
// from its kinks (0 for relu-like ops, integers of a/b for mod, ties for max norms and sorts).
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertClose, checkGradient } from './helpers.js';
import { awayFromZero, distinct, rt } from './grad-check.js';

st.setBackend('reference');

type F = (...xs: st.Tensor[]) => st.Tensor;
const check = (f: F, inputs: st.Tensor[], what: string, options: { rtol?: number; atol?: number } = {}) =>
  checkGradient(f, inputs, { what, ...options });
const t64 = (values: number[], shape?: number[]) => st.tensor(values, shape, 'float64');

describe('gradients of the elementwise ops', () => {
  const cases: [string, F, st.Tensor][] = [
    ['tan', st.tan, rt([2, 4], 1, -1.3, 1.3)],
    ['asin', st.asin, rt([2, 4], 2, -0.9, 0.9)],
    ['acos', st.acos, rt([2, 4], 3, -0.9, 0.9)],
    ['atan (both sides of |x| = 1)', st.atan, rt([2, 5], 4, -6, 6)],
    ['sinh (near 0 and beyond 1)', st.sinh, rt([2, 5], 5, -3, 3)],
    ['cosh', st.cosh, rt([2, 4], 6, -3, 3)],
    ['asinh (negative and positive)', st.asinh, rt([2, 5], 7, -20, 20)],
    ['acosh', st.acosh, rt([2, 4], 8, 1.1, 9)],
    ['atanh', st.atanh, rt([2, 4], 9, -0.9, 0.9)],
    ['expm1 (near 0 and beyond 1/2)', st.expm1, rt([2, 5], 10, -2, 2)],
    ['erf (both polynomials)', st.erf, rt([3, 4], 11, -3, 3)],
    ['erfc (both polynomials and the negative side)', st.erfc, rt([3, 4], 12, -3, 4)],
    ['selu', st.selu, awayFromZero([2, 4], 13)],
    ['relu6', st.relu6, t64([-1, 0.5, 2.5, 5.9, 6.5, -0.2])],
    ['logSigmoid', st.logSigmoid, rt([2, 4], 14, -8, 8)],
    ['gelu', (x) => st.gelu(x), rt([2, 4], 15, -4, 4)],
    ['gelu approximate', (x) => st.gelu(x, true), rt([2, 4], 16, -4, 4)],
    ['silu', st.silu, rt([2, 4], 17, -4, 4)],
    ['softsign', st.softsign, awayFromZero([2, 4], 18)],
    ['hardSigmoid', st.hardSigmoid, t64([-4, -2.5, 0.3, 2.9, 3.5])],
    ['hardSilu', st.hardSilu, t64([-4, -2.5, 0.3, 2.9, 3.5])],
    ['elu alpha 0.5', (x) => st.elu(x, 0.5), awayFromZero([2, 4], 19)],
    ['leakyRelu', (x) => st.leakyRelu(x, 0.1), awayFromZero([2, 4], 20)],
  ];
  for (const [name, f, x] of cases) it(name, () => check(f, [x], name));

  it('prelu, in x and alpha', () => check(st.prelu, [awayFromZero([2, 3, 4], 21), rt([4], 22, 0.05, 0.5)], 'prelu'));
  it('atan2 in all four quadrants, with broadcasting', () => {
    check(st.atan2, [awayFromZero([4, 3], 23), awayFromZero([4, 3], 24)], 'atan2');
    check(st.atan2, [awayFromZero([3, 1], 25), awayFromZero([4], 26)], 'atan2 broadcast');
  });
  it('mod, in a and b', () => check(st.mod, [t64([5.3, -5.3, 5.3, -5.3, 2.2]), t64([3.1, 3.1, -3.1, -3.1, 0.7])], 'mod'));
  it('squaredDifference and divNoNan', () => {
    check(st.squaredDifference, [rt([3, 4], 27), rt([4], 28)], 'squaredDifference');
    // Away from b = 0, where the result jumps to 0 (its gradient there is 0, checked in ops-parity.test.ts).
    check(st.divNoNan, [rt([2, 3], 29), t64([0.5, 0.3, -1.5, 2, -0.4, 0.8], [2, 3])], 'divNoNan');
  });
  it('second derivatives of atan, erf and asinh', () => {
    for (const [name, f] of [
      ['atan', st.atan],
      ['erf', st.erf],
      ['asinh', st.asinh],
    ] as [string, F][]) {
      check((x) => st.grad((u) => f(u).sum())(x) as st.Tensor, [rt([6], 30, -3, 3)], `d2 ${name}`);
    }
  });
});

describe('gradients of the newer Keras activations and the NumPy-style ops', () => {
  const x = t64([-2.3, -1.2, -0.75, -0.2, 0.35, 0.9, 1.4, 2.6]);
  const cases: [string, F, st.Tensor[]][] = [
    ['celu', (v) => st.celu(v, 0.7), [x]],
    ['glu', (v) => st.glu(v, 0), [rt([4, 3], 110)]],
    ['hardTanh', st.hardTanh, [x]],
    ['hardShrink', (v) => st.hardShrink(v, 0.5), [x]],
    ['softShrink', (v) => st.softShrink(v, 0.5), [x]],
    ['tanhShrink', st.tanhShrink, [x]],
    ['sparsePlus', st.sparsePlus, [x]],
    ['sparseSigmoid', st.sparseSigmoid, [x]],
    ['squareplus', (v) => st.squareplus(v, 2), [x]],
    ['threshold', (v) => st.threshold(v, 0.1, -3), [x]],
    ['log2, log10, exp2', (v) => st.add(st.add(st.log2(v), st.log10(v)), st.exp2(v)), [rt([2, 3], 111, 0.2, 4)]],
    ['variance and std', (v) => st.add(st.variance(v, 1), st.std(v, 1)), [rt([3, 4], 112)]],
    ['logaddexp', st.logaddexp, [rt([3, 4], 113, -5, 5), rt([4], 114, -5, 5)]],
    ['hypot', st.hypot, [awayFromZero([3, 4], 115), awayFromZero([3, 4], 116)]],
    ['tril and triu', (v) => st.add(st.tril(v, 1), st.triu(v, -1)), [rt([2, 3, 4], 117)]],
    ['diagonal and trace', (v) => st.add(st.diagonal(v, 1, 2, 1), st.expandDims(st.trace(v, -1, 1, 2), 1)), [rt([2, 4, 3], 118)]],
    ['swapaxes, moveaxis, roll', (v) => st.roll(st.moveaxis(st.swapaxes(v, 0, 1), 0, 2), [2, -1], [0, 1]), [rt([2, 3, 4], 119)]],
    [
      'take and takeAlongAxis',
      (v) =>
        st.add(
          st.take(v, st.tensor([3, -1], [2], 'int32'), 1),
          st.takeAlongAxis(
            v,
            st.tensor(
              [
                [0, 1],
                [3, 3],
              ],
              [2, 2],
              'int32',
            ),
            1,
          ),
        ),
      [rt([2, 4], 120)],
    ],
    ['unstack', (v) => st.mul(st.unstack(v, 1)[0], st.unstack(v, 1)[2]), [rt([2, 3], 121)]],
  ];
  for (const [name, f, inputs] of cases) it(name, () => check(f, inputs, name));
});

describe('gradients of scans, einsum and norms', () => {
  for (const [excl, rev] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    it(`cumsum and cumprod${excl ? ' exclusive' : ''}${rev ? ' reverse' : ''}`, () => {
      check((x) => st.cumsum(x, 1, excl, rev), [rt([2, 7], 40)], 'cumsum');
      check((x) => st.cumprod(x, 1, excl, rev), [rt([2, 6], 41, 0.5, 1.5)], 'cumprod');
    });
  }
  it('cumprod through zeros', () => check((x) => st.cumprod(x, 0), [t64([1.5, 0, 2, 0, -0.5, 3])], 'cumprod zeros'));
  const equations: [string, number[][]][] = [
    [
      'ij,jk->ik',
      [
        [2, 3],
        [3, 4],
      ],
    ],
    [
      'bij,bjk->bik',
      [
        [2, 2, 3],
        [2, 3, 2],
      ],
    ],
    ['ii->i', [[3, 3]]],
    ['ii', [[3, 3]]],
    ['i,j->ij', [[2], [3]]],
    [
      '...ij,...jk->...ik',
      [
        [2, 2, 3],
        [3, 2],
      ],
    ],
    [
      'ij,jk,kl->il',
      [
        [2, 3],
        [3, 2],
        [2, 2],
      ],
    ],
    ['iij->j', [[2, 2, 3]]],
    [
      'ab,cd',
      [
        [2, 2],
        [2, 3],
      ],
    ],
  ];
  equations.forEach(([eq, shapes], k) => {
    it(`einsum '${eq}'`, () =>
      check(
        (...xs) => st.einsum(eq, ...xs),
        shapes.map((s, i) => rt(s, 50 + 10 * k + i)),
        eq,
      ));
  });
  it('vector and matrix norms', () => {
    const x = distinct([3, 4], 60);
    for (const ord of ['euclidean', 1, 3, Infinity, -Infinity] as st.NormOrder[]) check((v) => st.norm(v, ord, 1), [x], `norm ${ord}`);
    for (const ord of ['fro', 1, -1, Infinity, -Infinity] as st.NormOrder[]) check((v) => st.norm(v, ord, [0, 1]), [x], `matrix norm ${ord}`);
    check((v) => st.euclideanNorm(v, 0, true), [x], 'euclideanNorm');
  });
  it('outerProduct and diag', () => {
    check(st.outerProduct, [rt([3], 61), rt([4], 62)], 'outerProduct');
    check(st.diag, [rt([2, 2], 63)], 'diag');
  });
});

describe('gradients of indexing and rearrangements', () => {
  const x = rt([3, 4, 5], 70);
  const ints = (values: number[], shape: number[]) => st.tensor(values, shape, 'int32');
  const cases: [string, F, st.Tensor[]][] = [
    ['reverse', (v) => st.reverse(v, [0, 2]), [x]],
    ['stridedSlice with negative steps and masks', (v) => st.stridedSlice(v, [2, 1, -1], [0, 4, 0], [-1, 2, -2], 0, 0, 0, 0, 0), [x]],
    ['stridedSlice shrink and new axis', (v) => st.stridedSlice(v, [1, 0, 1], [2, 0, 4], [1, 1, 1], 0, 0, 0, 2, 1), [x]],
    ['gatherND', (v) => st.gatherND(v, ints([2, 1, 0, 3, 2, 1], [3, 2])), [x]],
    ['scatterND (repeated positions add)', (u) => st.scatterND(ints([1, 3, 1], [3, 1]), u, [5, 2]), [rt([3, 2], 71)]],
    ['tensorScatterUpdate', (v, u) => st.tensorScatterUpdate(v, ints([0, 2, 0], [3, 1]), u), [rt([3, 2], 72), rt([3, 2], 73)]],
    ['unsortedSegmentSum', (v) => st.unsortedSegmentSum(v, ints([1, -1, 1], [3]), 2), [x]],
    ['bincount weights', (w) => st.bincount(ints([0, 3, 3, 1, 9], [5]), w, 4), [rt([5], 74)]],
    [
      'mirrorPad reflect',
      (v) =>
        st.mirrorPad(
          v,
          [
            [1, 2],
            [0, 3],
            [4, 1],
          ],
          'reflect',
        ),
      [x],
    ],
    [
      'mirrorPad symmetric',
      (v) =>
        st.mirrorPad(
          v,
          [
            [3, 0],
            [2, 2],
            [0, 5],
          ],
          'symmetric',
        ),
      [x],
    ],
    ['depthToSpace', (v) => st.depthToSpace(v, 2), [rt([1, 2, 3, 8], 75)]],
    ['depthToSpace NCHW', (v) => st.depthToSpace(v, 2, 'NCHW'), [rt([1, 8, 2, 3], 76)]],
    ['spaceToDepth', (v) => st.spaceToDepth(v, 2), [rt([1, 4, 2, 3], 77)]],
    [
      'spaceToBatchND',
      (v) =>
        st.spaceToBatchND(
          v,
          [2, 2],
          [
            [1, 1],
            [0, 2],
          ],
        ),
      [rt([2, 2, 2, 3], 78)],
    ],
    [
      'batchToSpaceND',
      (v) =>
        st.batchToSpaceND(
          v,
          [2, 2],
          [
            [1, 0],
            [0, 1],
          ],
        ),
      [rt([8, 2, 2, 1], 79)],
    ],
    ['topk values', (v) => st.topk(v, 2).values, [distinct([3, 5], 80)]],
    ['conv1d', (v, f) => st.conv1d(v, f, { stride: 2, padding: 'same' }), [rt([1, 7, 2], 82), rt([3, 2, 2], 83)]],
    [
      'separableConv2d',
      (v, d, p) => st.separableConv2d(v, d, p, { padding: 'same' }),
      [rt([1, 4, 3, 2], 84), rt([2, 2, 2, 2], 85), rt([1, 1, 4, 3], 86)],
    ],
    [
      'conv2dTranspose',
      (v, f) => st.conv2dTranspose(v, f, [1, 5, 4, 2], { strides: 2, padding: 'same' }),
      [rt([1, 3, 2, 3], 87), rt([3, 3, 2, 3], 88)],
    ],
    ['conv3d same, strided', (v, f) => st.conv3d(v, f, { strides: [2, 1, 2], padding: 'same' }), [rt([1, 3, 3, 4, 2], 89), rt([2, 2, 3, 2, 2], 90)]],
    [
      'conv3dTranspose',
      (v, f) => st.conv3dTranspose(v, f, [1, 4, 3, 3, 2], { strides: 2, padding: 'same' }),
      [rt([1, 2, 2, 2, 3], 91), rt([2, 2, 2, 2, 3], 92)],
    ],
    ['maxPool3d same', (v) => st.maxPool3d(v, { poolSize: 2, padding: 'same' }), [distinct([1, 3, 3, 3, 2], 93)]],
    ['avgPool3d same', (v) => st.avgPool3d(v, { poolSize: [2, 3, 2], strides: 2, padding: 'same' }), [rt([1, 3, 4, 3, 2], 94)]],
    [
      'dilation2d',
      (v, f) => st.dilation2d(v, f, { padding: 'same', dilations: [1, 2] }),
      [distinct([1, 4, 4, 2], 95), distinct([2, 2, 2], 96, 0.37)],
    ],
    ['localResponseNormalization', (v) => st.localResponseNormalization(v, 1, 1.2, 0.4, 0.6), [rt([1, 2, 2, 5], 97)]],
    ['sort', (v) => st.sort(v, 0, true), [distinct([4, 3], 81)]],
  ];
  for (const [name, f, inputs] of cases) it(name, () => check(f, inputs, name));

  it("unique's values pass gradients to each value's first occurrence", () => {
    // Not a finite difference: moving one of two equal values makes them distinct.
    const v = st.variable(t64([0.5, -1, 0.5, 2]));
    st.unique(v)
      .values.mul(t64([1, 2, 3]))
      .sum()
      .backward();
    assertClose(v.grad!, [1, 2, 0, 3], 0, 0);
  });
});

describe('gradients of the losses', () => {
  type LossFn = (t: st.Tensor, p: st.Tensor, o?: object) => st.Tensor;
  const loss = (name: keyof typeof st.losses) => st.losses[name] as LossFn;
  const binary = t64([1, 0, 0, 1, 1, 0, 1, 0], [2, 4]),
    signs = t64([1, -1, -1, 1, 1, -1, 1, -1], [2, 4]);
  const probs = rt([2, 4], 90, 0.05, 0.95),
    oneHot = t64([0, 1, 0, 0, 0, 0, 0, 1], [2, 4]);
  const cases: [string, LossFn, st.Tensor, st.Tensor, boolean, object?][] = [
    ['hinge', loss('hinge'), binary, t64([0.3, -0.2, 1.7, 0.4, -2, 0.6, 0.5, -0.1], [2, 4]), false],
    ['hinge {-1, 1}', loss('hinge'), signs, t64([0.3, -0.2, 1.7, 0.4, -2, 0.6, 0.5, -0.1], [2, 4]), false],
    ['squaredHinge', loss('squaredHinge'), binary, t64([0.3, -0.2, 1.7, 0.4, -2, 0.6, 0.5, -0.1], [2, 4]), false],
    ['categoricalHinge', loss('categoricalHinge'), oneHot, distinct([2, 4], 91), false],
    ['logCosh', loss('logCosh'), rt([2, 4], 92, -2, 2), rt([2, 4], 93, -2, 2), true],
    ['poisson', loss('poisson'), rt([2, 4], 94, 0, 3), rt([2, 4], 95, 0.2, 3), true],
    ['cosineSimilarity', loss('cosineSimilarity'), rt([2, 4], 96), rt([2, 4], 97), true],
    ['meanSquaredLogarithmicError', loss('meanSquaredLogarithmicError'), rt([2, 4], 98, 0.1, 4), rt([2, 4], 99, 0.1, 4), true],
    ['meanAbsolutePercentageError', loss('meanAbsolutePercentageError'), awayFromZero([2, 4], 100, 0.5, 2), rt([2, 4], 101, 3, 4), true],
    ['binaryFocalCrossentropy', loss('binaryFocalCrossentropy'), binary, probs, true],
    [
      'binaryFocalCrossentropy balanced from logits',
      loss('binaryFocalCrossentropy'),
      binary,
      rt([2, 4], 102, -3, 3),
      true,
      { applyClassBalancing: true, fromLogits: true, gamma: 3, labelSmoothing: 0.1 },
    ],
    ['categoricalFocalCrossentropy', loss('categoricalFocalCrossentropy'), oneHot, probs, true],
    ['categoricalFocalCrossentropy from logits', loss('categoricalFocalCrossentropy'), oneHot, rt([2, 4], 103, -3, 3), true, { fromLogits: true }],
    ['dice', loss('dice'), binary, probs, true],
    ['dice per row', loss('dice'), binary, probs, true, { axis: 1 }],
    ['tversky', loss('tversky'), binary, probs, true, { alpha: 0.7, beta: 0.3 }],
  ];
  for (const [name, f, t, p, tDiff, options] of cases) {
    it(name, () => {
      check((pv) => f(t, pv, options), [p], `${name} d/dyPred`);
      if (tDiff) check((tv) => f(tv, p, options), [t], `${name} d/dyTrue`);
    });
  }
  it('ctc and ctcLoss', () => {
    const labels = st.tensor(
      [
        [1, 2, 2],
        [3, 0, 0],
      ],
      [2, 3],
      'int32',
    );
    check((p) => st.losses.ctc(labels, p), [rt([2, 7, 4], 104, -2, 2)], 'ctc');
    check((p) => st.ctcLoss(labels, p, st.tensor([3, 1], [2], 'int32'), st.tensor([7, 4], [2], 'int32'), 0), [rt([2, 7, 4], 105, -2, 2)], 'ctcLoss');
  });
});
