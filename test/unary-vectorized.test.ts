// The native float32 exp, tanh and sigmoid (vectorized, native/src/elementwise.cc with
// native/src/fast_math.h) against float64 Math on random inputs and the special values; relu and
// the simple maps (neg, abs, sqrt) against the reference backend, across chunk boundaries.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { randomValues, withBackend } from './helpers.js';

const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const specials = [0, -0, 1e-30, -1e-30, 0.5, -0.5, 20, -20, Infinity, -Infinity, NaN];

function check(op: 'exp' | 'tanh' | 'sigmoid', ref: (x: number) => number, xs: number[], relTol: number, absTol: number): void {
  const ys = withBackend('native', () => Array.from(st[op](st.tensor(xs)).dataSync()));
  xs.forEach((x, i) => {
    const want = Math.fround(ref(x)),
      got = ys[i];
    if (Number.isNaN(want)) return assert.ok(Number.isNaN(got), `${op}(${x}) = ${got}, want NaN`);
    if (!Number.isFinite(want)) return assert.equal(got, want, `${op}(${x})`);
    assert.ok(Math.abs(got - want) <= Math.max(absTol, relTol * Math.abs(want)), `${op}(${x}) = ${got}, want ${want}`);
  });
}

describe('vectorized float32 exp, tanh and sigmoid', { skip: !nativeAvailable && 'native backend not built' }, () => {
  it('exp: relative error below 3e-7 over [-80, 88]; overflow, underflow and NaN', () => {
    check('exp', Math.exp, randomValues(50000, 1, -80, 88).map(Math.fround), 3e-7, 0);
    check('exp', Math.exp, [...specials, 88.8, 100, -88, -120], 3e-7, 2e-38);
  });
  it('tanh: within a few ulp everywhere, exact saturation and sign', () => {
    check('tanh', Math.tanh, randomValues(50000, 2, -12, 12).map(Math.fround), 4e-7, 1e-7);
    check('tanh', Math.tanh, specials, 4e-7, 0);
    assert.ok(
      Object.is(
        withBackend('native', () => st.tanh(st.tensor([-0])).dataSync()[0]),
        -0,
      ),
      'tanh(-0) is -0',
    );
  });
  it('relu, neg, abs and sqrt agree with the reference backend bit for bit (NaN, -0, sizes across chunks)', () => {
    for (const n of [1, 17, 4096, 4097, 32768, 70001]) {
      const xs = [...specials, ...randomValues(n, n, -3, 3)].slice(0, Math.max(n, specials.length));
      for (const op of ['relu', 'neg', 'abs', 'sqrt'] as const) {
        const run = (backend: string) => withBackend(backend, () => Array.from(st[op](st.tensor(xs)).dataSync()));
        const got = run('native'),
          want = run('reference').map(Math.fround);
        got.forEach((g, i) => assert.ok(Object.is(g, want[i]), `${op}(${xs[i]}) = ${g}, want ${want[i]} (n = ${n})`));
      }
    }
  });
  it('sigmoid: within a few ulp everywhere, saturating to exactly 0 and 1', () => {
    check('sigmoid', sigmoid, randomValues(50000, 3, -30, 30).map(Math.fround), 4e-7, 1e-7);
    check('sigmoid', sigmoid, [...specials, 200, -200], 4e-7, 1e-45);
  });
});
