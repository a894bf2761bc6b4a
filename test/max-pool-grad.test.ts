// The native max pool and its gradient (native/src/pool.cc) against the reference backend, on
// random values with ties and NaN: the forward pass keeps its winners for backward(), and the
// gradient is written without a scatter where windows do not overlap (Note [Max pooling gradient
// without a scatter]): gaps between windows, edges no window covers and padded windows all get
// their zeros. Overlapping windows keep the scatter into a zeroed dx.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { randomValues, withBackend } from './helpers.js';

const native = st.backends().find((b) => b.name === 'native')?.available;
const skip = !native && 'native backend unavailable';

interface Case {
  name: string;
  shape: [number, number, number, number];
  poolSize: [number, number];
  strides: [number, number];
  padding: 'valid' | 'same';
}

const CASES: Case[] = [
  { name: '2x2 / 2 on odd sizes (last row and column uncovered)', shape: [3, 11, 11, 20], poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
  { name: '2x2 / 3 (gap rows and columns)', shape: [2, 10, 13, 17], poolSize: [2, 2], strides: [3, 3], padding: 'valid' },
  { name: '3x2 / (3, 4) with same padding', shape: [2, 9, 11, 5], poolSize: [3, 2], strides: [3, 4], padding: 'same' },
  { name: '2x2 / 2 same padding on odd sizes', shape: [1, 7, 9, 33], poolSize: [2, 2], strides: [2, 2], padding: 'same' },
  { name: '3x3 / 2 (overlapping: the scatter)', shape: [2, 9, 9, 6], poolSize: [3, 3], strides: [2, 2], padding: 'valid' },
  { name: 'large enough to run on threads', shape: [8, 26, 26, 32], poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
];

/** Values in [-1, 1) rounded to eighths (ties inside windows), with a NaN and a -Infinity in some windows. */
function values(n: number, seed: number, special: boolean): number[] {
  const v = randomValues(n, seed).map((x) => Math.round(x * 8) / 8);
  if (special) {
    v[5] = Number.NaN;
    v[Math.floor(n / 2)] = Number.NEGATIVE_INFINITY;
  }
  return v;
}

/** y = maxPool(relu?(x)), and d(sum(y * w))/dx through backward(), on one backend. */
function poolAndGrad(backend: string, c: Case, relu: boolean, special: boolean): { y: number[]; dx: number[] } {
  return withBackend(backend, () => {
    const size = c.shape.reduce((a, b) => a * b, 1);
    const x = st.variable(st.tensor(values(size, 11, special), c.shape));
    const h = relu ? st.relu(x) : x;
    const y = st.maxPool2d(h, { poolSize: c.poolSize, strides: c.strides, padding: c.padding });
    const w = st.tensor(randomValues(y.size, 12, 0.5, 1.5), y.shape);
    st.sum(st.mul(y, w)).backward();
    return { y: Array.from(y.dataSync()), dx: Array.from(x.grad!.dataSync()) };
  });
}

function assertSame(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i])) assert.ok(Number.isNaN(actual[i]), `${what}[${i}]: expected NaN, received ${actual[i]}`);
    else
      assert.ok(
        Math.abs(actual[i] - expected[i]) <= 1e-6 * Math.max(1, Math.abs(expected[i])),
        `${what}[${i}]: expected ${expected[i]}, received ${actual[i]}`,
      );
  }
}

describe('native max pooling and its gradient match the reference backend', { skip }, () => {
  for (const c of CASES) {
    for (const relu of [false, true]) {
      for (const special of [false, true]) {
        it(`${c.name}${relu ? ', after a ReLU' : ''}${special ? ', with NaN and -Infinity' : ''}`, () => {
          const want = poolAndGrad('reference', c, relu, special);
          const got = poolAndGrad('native', c, relu, special);
          assertSame(got.y, want.y, 'y');
          assertSame(got.dx, want.dx, 'dx');
          // Not vacuous: some gradient reached x, and some of x got none.
          assert.ok(want.dx.some((v) => v !== 0) && want.dx.some((v) => v === 0));
        });
      }
    }
  }
});
