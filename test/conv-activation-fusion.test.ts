// Note [Activation inside the convolution] (native/src/abs_bound.h): the native backend runs a
// fused convolution's ReLU or relu6 as a oneDNN post-op only when no output can be NaN, and keeps
// NaN otherwise, as st.relu and the reference backend do. Each check counts the convolutions that
// took the post-op (the addon's fusedActivations), so it knows which path ran.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import type { NativeBackend } from '../src/backend/native/index.js';
import { assertClose, randomValues, withBackend } from './helpers.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);
const skip = !nativeAvailable && 'native backend not built';

type Activation = 'relu' | 'relu6';
type Kind = 'conv2d' | 'depthwise';
interface Case {
  kind: Kind;
  /** Output channels (conv2d) or depth multiplier (depthwise). */
  outs: number;
  x: number[];
  f: number[];
  b: number[];
  opts: st.Conv2dOptions;
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const X_SHAPE = [2, 9, 8, 6];

/** Runs the fused convolution of `c` on `backend`; returns its output and how many ran fused. */
function fused(c: Case, activation: Activation | 'linear', backend = 'native') {
  return withBackend(backend, () => {
    const before = fusedCount();
    const y = convOf(c, activation);
    return { y: Array.from(y.dataSync()), fusedRuns: fusedCount() - before };
  });
}

function convOf(c: Case, activation: Activation | 'linear'): st.Tensor {
  const x = st.tensor(c.x, X_SHAPE),
    filter = st.tensor(c.f, filterShape(c.outs)),
    bias = st.tensor(c.b, [c.b.length]);
  const args = { x, filter, bias, activation, ...c.opts };
  return c.kind === 'conv2d' ? st.fused.conv2d(args) : st.fused.depthwiseConv2d(args);
}

const filterShape = (outs: number) => [3, 3, X_SHAPE[3], outs];
const biasSize = (kind: Kind, outs: number) => (kind === 'conv2d' ? outs : X_SHAPE[3] * outs);

function fusedCount(): number {
  const backend = withBackend('native', () => st.getBackend()) as NativeBackend;
  return backend.addon.memory().fusedActivations;
}

/** A case of random values, x in [-4, 4) so that relu6 clips at 6 too, the others in [-1, 1). */
function randomCase(kind: Kind, opts: st.Conv2dOptions, outs: number, seed: number): Case {
  return {
    kind,
    outs,
    x: randomValues(sizeOf(X_SHAPE), seed, -4, 4),
    f: randomValues(sizeOf(filterShape(outs)), seed + 1),
    b: randomValues(biasSize(kind, outs), seed + 2),
    opts,
  };
}

/** The native backend's result the separate way: the linear fused kernel, then st.relu / relu6. */
function separately(c: Case, activation: Activation): number[] {
  return withBackend('native', () => {
    const z = convOf(c, 'linear');
    return Array.from((activation === 'relu' ? st.relu(z) : st.relu6(z)).dataSync());
  });
}

const sameBits = (a: number[], b: number[], what: string) => {
  assert.equal(a.length, b.length, what);
  const differs = a.findIndex((v, i) => !Object.is(v, b[i]));
  assert.equal(differs, -1, `${what}: element ${differs} is ${a[differs]}, ${b[differs]} the separate way`);
};

// Outputs at least as big as x, so that x's bound is found by a pass (see the last checks).
const shapes: [Kind, st.Conv2dOptions, number][] = [
  ['conv2d', {}, 16],
  ['conv2d', { strides: 2, padding: 'same' }, 32],
  ['conv2d', { padding: 'same', dilation: 2 }, 8],
  ['depthwise', { padding: 'same' }, 1],
  ['depthwise', { strides: 2, padding: 'valid' }, 8],
];

describe('convolution activations inside oneDNN (native)', { skip }, () => {
  for (const activation of ['relu', 'relu6'] as const) {
    for (const [i, [kind, opts, outs]] of shapes.entries()) {
      const name = `${kind} ${activation} ${JSON.stringify(opts)}`;

      it(`${name}: finite inputs run the post-op, with the reference's values and the separate way's bits`, () => {
        const c = randomCase(kind, opts, outs, 10 * i + 1);
        const got = fused(c, activation);
        assert.equal(got.fusedRuns, 1, 'the activation ran inside the convolution');
        assertClose(got.y, fused(c, activation, 'reference').y, 1e-5, 1e-5, name);
        sameBits(got.y, separately(c, activation), name);
        if (activation === 'relu6') assert.ok(got.y.includes(6) && got.y.some((v) => v > 0 && v < 6), 'clipped at 6 and between');
      });

      for (const [where, value] of [
        ['x', Number.NaN],
        ['f', Number.NaN],
        ['b', Number.NaN],
        ['x', Number.POSITIVE_INFINITY],
        ['x', Number.NEGATIVE_INFINITY],
      ] as const) {
        it(`${name}: ${value} in ${where} keeps today's pass, NaN and infinities where the reference has them`, () => {
          const c = randomCase(kind, opts, outs, 10 * i + 2);
          c[where][3] = value;
          const got = fused(c, activation);
          assert.equal(got.fusedRuns, 0, 'the NaN-keeping pass ran');
          // relu6 clips an infinity to 0 or 6; NaN stays.
          if (activation === 'relu' || Number.isNaN(value))
            assert.ok(
              got.y.some((v) => !Number.isFinite(v)),
              'the output holds NaN or infinity',
            );
          sameBits(got.y, separately(c, activation), name);
          // The reference's depthwise convolution spreads a NaN or infinity across the channels
          // (its composite multiplies by a block-diagonal dense filter, 0·NaN = NaN), so only the
          // dense convolution's output is compared with it.
          if (kind === 'conv2d') assertClose(got.y, fused(c, activation, 'reference').y, 1e-5, 1e-5, name);
        });
      }

      // x and w around 1e30 with mixed signs: float32 products overflow, and a sum of opposite
      // infinities would be NaN, which the post-op turns into 0. (oneDNN's FMA kernels keep the
      // first infinity's sign rather than make NaN, and the reference accumulates in float64,
      // where these products are finite: the oracle is the native backend's own separate path.)
      it(`${name}: values whose products overflow keep today's pass`, () => {
        const c = randomCase(kind, opts, outs, 10 * i + 3);
        c.x = c.x.map((v) => v * 1e30);
        c.f = c.f.map((v) => v * 1e30);
        const got = fused(c, activation);
        assert.equal(got.fusedRuns, 0, 'the NaN-keeping pass ran');
        assert.ok(
          got.y.some((v) => !Number.isFinite(v) || v === 6),
          'overflowed sums',
        );
        sameBits(got.y, separately(c, activation), name);
      });
    }

    it(`${activation}: finite values just inside the bound run the post-op`, () => {
      // 3·3·6 = 54 terms of up to 4e17·1e18: K·X·W ≈ 2e37, under FLT_MAX / 2 ≈ 1.7e38.
      const c = randomCase('conv2d', { padding: 'same' }, 8, 77);
      c.f = c.f.map((v) => v * 1e18);
      c.x = c.x.map((v) => v * 1e17);
      const got = fused(c, activation);
      assert.equal(got.fusedRuns, 1);
      // float32 sums of terms up to 4e35 that cancel: absolute errors around 1e-7 of that.
      assertClose(got.y, fused(c, activation, 'reference').y, 1e-5, 1e30, activation);
      sameBits(got.y, separately(c, activation), activation);
    });
  }

  it('gives +0, never -0, where the output is zero, as the reference', () => {
    // x is zero around a few nonzero pixels, the filter negative and the bias -0: windows of
    // zeros sum -0 products. (oneDNN's kernels here still give +0 before the activation; the
    // check pins that both paths give the reference's +0 wherever it has 0.)
    const c = randomCase('conv2d', { padding: 'same' }, 8, 5);
    c.x = c.x.map((v, i) => (i % 37 === 0 ? v : 0));
    c.f = c.f.map((v) => -Math.abs(v));
    c.b = c.b.map(() => -0);
    for (const activation of ['relu', 'relu6'] as const) {
      const got = fused(c, activation),
        want = fused(c, activation, 'reference').y;
      assert.equal(got.fusedRuns, 1);
      assertClose(got.y, want, 1e-5, 1e-5, activation);
      assert.ok(want.some((v) => v === 0));
      want.forEach((v, i) => v === 0 && assert.ok(Object.is(got.y[i], 0) && Object.is(v, 0), `element ${i}: ${got.y[i]}, reference ${v}`));
      sameBits(got.y, separately(c, activation), activation);
    }
  });

  it('runs the post-op over an input bigger than the output only when its bound is known', () => {
    withBackend('native', () => {
      // x [1, 16, 16, 32] into a 1x1 convolution to 8 channels: x is 4 times the output.
      const x = st.tensor(randomValues(16 * 16 * 32, 3), [1, 16, 16, 32]);
      const f = st.tensor(randomValues(32 * 8, 4), [1, 1, 32, 8]);
      const b = st.tensor(randomValues(8, 5), [8]);
      const reduce = (input: st.Tensor) => st.fused.conv2d({ x: input, filter: f, bias: b, activation: 'relu6' });
      let before = fusedCount();
      reduce(x);
      assert.equal(fusedCount() - before, 0, 'no pass over the big input');
      // A relu6 or relu convolution's output carries its bound: the next convolution needs no pass.
      for (const activation of ['relu6', 'relu'] as const) {
        const widen = st.fused.conv2d({ x, filter: st.tensor(randomValues(32 * 32, 6), [1, 1, 32, 32]), bias: st.zeros([32]), activation });
        before = fusedCount();
        const y = reduce(widen);
        assert.equal(fusedCount() - before, 1, `after ${activation}: the input's bound was known`);
        assertClose(Array.from(y.dataSync()), Array.from(st.relu6(st.add(st.conv2d(widen, f), b)).dataSync()), 1e-5, 1e-5);
      }
    });
  });

  // A bound is kept per buffer for its stamp; a fused optimizer update writes the variable in place
  // and restamps it, so the bound found before the update must not be used after it.
  for (const [what, poison] of [
    ['NaN', Number.NaN],
    ['a huge value', 3e38],
  ] as const) {
    it(`a filter updated in place to hold ${what} is bounded afresh`, () => {
      const c = randomCase('conv2d', { padding: 'same' }, 8, 91);
      const shape = filterShape(8);
      const run = (backend: string) =>
        withBackend(backend, () => {
          const x = st.tensor(c.x, X_SHAPE),
            bias = st.tensor(c.b, [8]);
          const filter = st.variable(st.tensor(c.f, shape));
          const opt = st.optimizers.sgd({ learningRate: 1 });
          const apply = (g: number[]) => opt.applyGradients([{ variable: filter, grad: st.tensor(g, shape) }]);
          apply(new Array(c.f.length).fill(0)); // the variable now owns its storage alone
          const storage = filter.storage;
          const counts: number[] = [];
          const conv = () => {
            const before = fusedCount();
            const y = Array.from(st.fused.conv2d({ x, filter, bias, padding: 'same', activation: 'relu' }).dataSync());
            counts.push(fusedCount() - before);
            return y;
          };
          conv();
          // w - 1·g: the poison lands at element 3.
          apply(c.f.map((_, i) => (i === 3 ? -poison : 0)));
          if (backend === 'native') assert.equal(filter.storage, storage, 'the update wrote in place');
          return { y: conv(), counts };
        });
      const got = run('native'),
        want = run('reference');
      assert.deepEqual(got.counts, [1, 0], 'the post-op before the update, the pass after it');
      assert.ok(
        want.y.some((v) => !Number.isFinite(v)),
        'the reference output holds NaN or infinity',
      );
      assertClose(got.y, want.y, 1e-5, 1e-5, what);
    });
  }
});
